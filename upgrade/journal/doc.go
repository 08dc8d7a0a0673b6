// Package journal records what an upgrade run did, so that a later
// process can resume or roll it back after the first one died, and locks
// a run's output directory so that two processes never share it.
//
// # Journal
//
// A journal is the file journal.jsonl in a run's output directory: one
// JSON Record per line, numbered by Seq from 1. Create starts it with a
// RunStart record; Append writes every later record and fsyncs it before
// returning, so a step's start is on disk before the step touches a host.
// Append is safe for concurrent use by the steps of many hosts.
//
//	{"seq":2,"time":"2025-01-02T03:04:05Z","run":"r1","step":"k0s-install","host":"10.0.0.11","event":"start"}
//
// A process killed while writing leaves at most one torn last line (it
// has no newline). Open and Read ignore it, and Open cuts it from the file
// before appending; any other bad line is a *CorruptError naming the file
// and line, and nothing is resumed from such a journal.
//
// Replay folds records into a State per (step, host) pair: Done tells
// Resume what to skip, Started what was interrupted, Completed and ToUndo
// what a rollback undoes, Data what a step left for its undo (file
// names, checksums; never secrets, the file is only 0600).
//
// # Locks
//
// LockDir takes a flock on the output directory for the life of the
// process, so a second process on the same machine is refused at once.
//
// The hosts of a run are locked by package upgrade/hostlock.
package journal
