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

// availabilityCmd sets the availability of Swarm nodes, one docker node
// update each (it takes exactly one node), in one remote command.
func availabilityCmd(avail map[string]string, ids []string) string {
	var cmds []string
	for _, id := range ids {
		cmds = append(cmds, "docker node update --availability "+shell.Word(avail[id])+" "+shell.Word(id)+" >/dev/null")
	}
	return strings.Join(cmds, " && ")
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

// swarmDrainStep drains every node of the run in Swarm, on the leader,
// before any MKE 3 container stops; its undo restores each node's
// availability and waits until an MKE agent runs on every node.
func swarmDrainStep(e *Env) *plan.Step {
	sh, c := e.Cluster, e.Commands
	return &plan.Step{Name: "swarm-drain", Host: sh.Leader, Phase: PhaseMigrate,
		Changes: "sets every node's Swarm availability to drain: Swarm stops MKE 3's agents (and the Swarm services' tasks) and no longer restarts them",
		Do: func(ctx context.Context, r *plan.Run) error {
			if r.Get("availability") == "" {
				out, err := sudo(ctx, r.Node, nodeLsCmd)
				if err != nil {
					return err
				}
				all := parseAvailability(out)
				prev := map[string]string{}
				for _, h := range append(slices.Clone(sh.Managers), sh.Workers...) {
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
			for _, h := range append(slices.Clone(sh.Managers), sh.Workers...) {
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
