// Package plan is the step model of mke-migrate's runs: Step, Stage and
// Plan, the one Event and StepError, and the Executor that runs a plan
// against a journal (package upgrade/journal) with bounded concurrency.
// Package upgrade makes the plan of an MKE 3 → MKE 4k upgrade; package
// rollback undoes a plan's started steps, newest first. Neither imports
// the other's model: both use this one.
//
// A plan is stages run one after the other; the lanes of a stage run at
// once (at most Options.Concurrency), and the steps of a lane in order. A
// failed step stops its lane and cancels the stage's other lanes; Apply
// then returns a *StepError and undoes nothing: the caller decides
// (upgrade rolls back before the point of no return, and asks for a
// resume after it).
//
// # Writing a custom step
//
// A plan is data: print it (Print), edit it (InsertBefore, InsertAfter,
// Replace, Remove), and find its point of no return (PointOfNoReturn)
// before running it. A step is a Name, the Host it works on, and its
// functions:
//
//   - Host is the host key (address:port) of the step's host, and Run.Node
//     is then the connection to it (a hosts.Node: Exec with sudo and stdin,
//     Upload, ReadFile). A local step has Host "" and a nil Run.Node: it
//     works on local files or reaches hosts through what it was built with
//     (in an upgrade, upgrade.Env.Nodes).
//   - Phase: a step inserted with InsertBefore or InsertAfter without a
//     Phase takes the phase of the stage it joins. Before the point of no
//     return, a failure anywhere undoes every started step; after it, the
//     run is resumed instead, so a step that cannot be undone belongs
//     after it.
//   - Do must be idempotent: a resumed run runs it again after the tool
//     died in the middle. Undo (nil: nothing to undo) must tolerate a Do
//     that ran in part, or not at all. Verify, optional, fails the step
//     when Do's change did not take.
//   - Run.Set records what Undo or a resumed Do needs to know (a file
//     name, what existed before); it is journaled when the step ends, so a
//     rollback in another process gets it back with Run.Get. Never put a
//     secret there: the journal is a plain file.
//   - The ID, Name@Host, is the step's key in the journal: unique in a
//     plan (Validate), and the same when the plan is made again to resume
//     or roll back.
//
// What a step is built from is up to its maker: the steps of an upgrade
// close over an upgrade.Env (the cluster as discovered, the commands, the
// paths, the connections), never over the Upgrade itself.
package plan
