//go:build fakenodelight

package main

import "errors"

// The light program (built with -tags fakenodelight) is what docker,
// systemctl and the testbed's helper commands run on a node: the same
// code without k0s's simulation, whose dependencies (client-go, k0s's
// config types and what they import) cost some 20 ms of package
// initialisation at every start, about all of a fake command's CPU. Each
// k0s command execs the full program (FullPath) in its place: same pid,
// arguments and environment.
const lightProgram = true

// k0s's entry points exec the full program; run (main.go) already does
// before it takes the lock, these keep the light program's other callers
// from simulating k0s by halves.
func (e *env) k0s([]string) error       { return execFull() }
func (e *env) k0sWorker([]string) error { return execFull() }
func (e *env) runDaemon(string) error   { return execFull() }
func (e *env) kubeAssets() string       { return "" }
func (e *env) unitChanged(string, bool) error {
	return errors.New("fakenode (light): a k0s unit reached the light program's systemctl (needsFull misses it)")
}
