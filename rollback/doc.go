// Package rollback undoes a failed, interrupted or timed-out run of a
// plan (package plan): every step the journal shows started, newest
// first, journaling each undo so that a rollback interrupted in turn can
// be resumed. Package upgrade calls it when a run fails before its point
// of no return, and for the rollback command.
//
// It knows nothing of what the steps do: each plan.Step brings its own
// Undo, and the journal says which steps started, what they recorded for
// their undo (plan.Run.Get) and which were already undone.
package rollback
