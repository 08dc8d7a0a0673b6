// Package hostlock locks the hosts of a cluster for one run, so that two
// runs, from any machines, never work on the same cluster at once.
//
// Acquire takes a lock file on a host (by default DefaultPath,
// /run/mke-migrate.lock) with one POSIX sh command sent through an Execer
// (any connection that runs a command, as root when asked), so runs from
// different machines are refused (*LockedError names the holder). The file
// names the run and is refreshed by a heartbeat; one not refreshed for the
// TTL, by the host's own clock, is stale and is taken over by exactly one
// new run. The run that holds a lock may acquire it again, which is how a
// resumed run gets its locks back. Lost reports a lock that another run
// took over, and Release removes the lock only if it is still this run's.
//
// Run IDs are journal run IDs (journal.CheckRun).
package hostlock
