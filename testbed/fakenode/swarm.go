package main

import (
	"github.com/mke-migrate/mke-migrate/testbed/internal/fakestate"
)

// reconcile brings a realistic node up to date before a docker command
// runs, as the daemon and MKE would have in the meantime: containers whose
// process ended are exited.
func (e *env) reconcile(n *fakestate.Node) error {
	procs, err := e.procs()
	if err != nil {
		return err
	}
	if e.syncProcesses(n, procs) {
		if err := e.saveJSON(fakestate.NodeFile, n); err != nil {
			return err
		}
	}
	return e.saveProcs(procs)
}
