// Package rollback undoes the completed steps of a failed, interrupted or
// timed-out upgrade, in the reverse order of their completion, journaling
// each undo so that a rollback interrupted in turn can be resumed.
//
// It knows nothing of what the steps do: package upgrade hands it the steps
// (anything with an ID and an Undo), and the journal says which of them
// completed and which were already undone.
package rollback
