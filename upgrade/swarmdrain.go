package upgrade

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/mke-migrate/mke-migrate/internal/shell"
	"github.com/mke-migrate/mke-migrate/plan"
)

// Swarm would undo the takeover: its global orchestrator restarts (with
// a new task) an MKE agent task whose container stopped, and the agent
// starts the ucp-* components it finds stopped. A node drained of its
// Swarm tasks is left alone: for a drained node, the global orchestrator
// shuts its tasks down and creates none (moby/swarmkit
// manager/orchestrator/global/global.go, reconcileOneNode and
// updateNode), so the agents stop and stay stopped. The Swarm workloads
// stop with them; the Swarm export keeps their manifests, and MKE 4k
// carries no Swarm workload. Undone, each node gets its previous
// availability back, Swarm starts new agent tasks, and the undo waits
// until an agent runs on every node again.

// nodeLsCmd lists the Swarm nodes with their availability (docker node
// ls prints it capitalised: Active, Pause, Drain).
const nodeLsCmd = "docker node ls --format '{{.ID}} {{.Availability}}'"

// availabilityParallel is how many docker node update commands run at
// once: each is one Swarm API call, and one by one they took most of the
// drain of 200 nodes; a few at a time keep the manager's load modest.
const availabilityParallel = 8

// availabilityCmd sets the availability of Swarm nodes in one remote
// command: docker node update takes exactly one node (docker CLI
// reference "node update"), so xargs runs one per node,
// availabilityParallel at a time, grouped by availability in the order
// of ids. xargs fails (123) when one of them failed, after the others;
// so does the command, after every group ran.
func availabilityCmd(avail map[string]string, ids []string) string {
	var order []string
	group := map[string][]string{}
	for _, id := range ids {
		a := avail[id]
		if _, ok := group[a]; !ok {
			order = append(order, a)
		}
		group[a] = append(group[a], id)
	}
	var cmds []string
	for _, a := range order {
		cmds = append(cmds, "printf '%s\\n' "+shell.Join(group[a]...)+" | xargs -n 1 -P "+fmt.Sprint(availabilityParallel)+
			" docker node update --availability "+shell.Word(a)+" >/dev/null")
	}
	if len(cmds) == 1 {
		return cmds[0]
	}
	// every group runs, even after one failed (an undo restores what it can)
	return "rc=0; " + strings.Join(cmds, " || rc=1; ") + " || rc=1; [ $rc = 0 ]"
}

// parseAvailability reads nodeLsCmd's output: node ID → availability in
// lower case (what docker node update takes).
func parseAvailability(out string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) == 2 {
			m[f[0]] = strings.ToLower(f[1])
		}
	}
	return m
}

// encodeAvailability is the step data of the previous availabilities:
// "id=availability,…", sorted by ID.
func encodeAvailability(m map[string]string) string {
	var kv []string
	for id, a := range m {
		kv = append(kv, id+"="+a)
	}
	slices.Sort(kv)
	return strings.Join(kv, ",")
}

func decodeAvailability(s string) (map[string]string, []string) {
	m := map[string]string{}
	var ids []string
	for _, kv := range strings.Split(s, ",") {
		if id, a, ok := strings.Cut(kv, "="); ok {
			m[id] = a
			ids = append(ids, id)
		}
	}
	return m, ids
}

// agentPrefixes name MKE 3's agent task containers on managers and
// workers.
var agentPrefixes = []string{"ucp-manager-agent.", "ucp-worker-agent"}

// swarmDrainNodesStep drains nodes (hosts) in Swarm, on the leader,
// before any of their MKE 3 containers stops; its undo restores each
// node's availability and waits until an MKE agent runs on each again.
func swarmDrainNodesStep(e *Env, name string, nodes []string) *plan.Step {
	sh, c := e.Cluster, e.Commands
	what := "every node's Swarm availability"
	switch {
	case len(nodes) == len(sh.Managers)+len(sh.Workers):
	case slices.Equal(nodes, sh.Managers):
		what = "the managers' Swarm availability"
	default:
		what = fmt.Sprintf("the Swarm availability of %d worker(s)", len(nodes))
	}
	return &plan.Step{Name: name, Host: sh.Leader, Phase: PhaseMigrate,
		Changes: "sets " + what + " to drain: Swarm stops MKE 3's agents (and the Swarm services' tasks) and no longer restarts them",
		Do: func(ctx context.Context, r *plan.Run) error {
			if r.Get("availability") == "" {
				out, err := sudo(ctx, r.Node, nodeLsCmd)
				if err != nil {
					return err
				}
				all := parseAvailability(out)
				prev := map[string]string{}
				for _, h := range nodes {
					id := sh.Facts[h].Swarm.NodeID
					if a, ok := all[id]; ok {
						prev[id] = a
					}
				}
				if len(prev) == 0 {
					return fmt.Errorf("none of the run's Swarm nodes is in docker node ls on the leader")
				}
				r.Set("availability", encodeAvailability(prev))
			}
			prev, ids := decodeAvailability(r.Get("availability"))
			drain := map[string]string{}
			for id := range prev {
				drain[id] = "drain"
			}
			_, err := sudo(ctx, r.Node, availabilityCmd(drain, ids))
			return err
		},
		Undo: func(ctx context.Context, r *plan.Run) error {
			if r.Get("availability") == "" {
				return nil
			}
			prev, ids := decodeAvailability(r.Get("availability"))
			if _, err := sudo(ctx, r.Node, availabilityCmd(prev, ids)); err != nil {
				return err
			}
			// MKE 3 is healthy again when each node runs its agent
			var errs []string
			for _, h := range nodes {
				if prev[sh.Facts[h].Swarm.NodeID] == "drain" {
					continue
				}
				n, err := e.Nodes.Node(ctx, h)
				if err != nil {
					errs = append(errs, h+": "+err.Error())
					continue
				}
				err = waitFor(ctx, c.Ready, func() bool {
					out, err := sudo(ctx, n, listRunningCmd)
					if err != nil {
						return false
					}
					for _, name := range strings.Fields(out) {
						for _, p := range agentPrefixes {
							if strings.HasPrefix(name, p) {
								return true
							}
						}
					}
					return false
				})
				if err != nil {
					errs = append(errs, h+": no MKE 3 agent runs again: "+err.Error())
				}
			}
			if len(errs) > 0 {
				return fmt.Errorf("MKE 3 not healthy after the Swarm drain was undone: %s", strings.Join(errs, "; "))
			}
			return nil
		}}
}
