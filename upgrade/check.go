package upgrade

import (
	"context"
	"fmt"
	"strings"

	"github.com/mke-migrate/mke-migrate/gather"
	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/upgrade/preflight"
)

// CheckResult is what Check found: what was gathered (the hosts' facts,
// their Kubernetes nodes, the conversion) and every check's result.
type CheckResult struct {
	// Gathered is gather.Cluster's result; its Checks are gather's own,
	// a part of Checks.
	Gathered *gather.Result
	// Checks are every check's results, in the order Discover keeps them
	// (Shared.Preflight): gather.Cluster's, the data carry's, the nodes'
	// (data directory, private interface), the air-gapped image's, the
	// load balancer's join ports', peer delivery's ports and openssl.
	Checks []preflight.Result
}

// Blockers are the checks that keep the upgrade from starting.
func (r *CheckResult) Blockers() []preflight.Result { return blockers(r.Checks) }

func blockers(rs []preflight.Result) []preflight.Result {
	var out []preflight.Result
	for _, c := range rs {
		if c.Severity == preflight.Blocker {
			out = append(out, c)
		}
	}
	return out
}

// Check runs, read-only, every pre-upgrade check Discover runs, on the
// same code path (mke-migrate preflight): the hosts' facts, the MKE 3
// configuration and Kubernetes nodes (when Options.MKE3 or MKE3ConfigTOML
// is given; skipped checks say so otherwise), the data carry's reading of
// MKE 3's containers on the leader (unless Carry.Skip), k0s's data
// directory on every node, the air-gapped bootstrapper image and, with an
// ExternalAddress, that the load balancer forwards the join ports
// (JoinPortCheck). Options.OutputDir and K0sBinary are not needed. The
// error is for what leaves nothing to check (see gather.Cluster).
func Check(ctx context.Context, o Options) (*CheckResult, error) {
	u, err := newUpgrade(o)
	if err != nil {
		return nil, err
	}
	defer u.Close()
	sh, res, err := u.check(ctx)
	if err != nil {
		return nil, err
	}
	return &CheckResult{Gathered: res, Checks: sh.Preflight}, nil
}

// check gathers the cluster and runs every check: what Discover and Check
// share. Shared.Preflight holds every result; the error is for what
// leaves nothing to check.
func (u *Upgrade) check(ctx context.Context) (*Shared, *gather.Result, error) {
	o := &u.o
	res, err := gather.Cluster(ctx, gather.Options{
		Hosts:       o.Hosts,
		Concurrency: o.Concurrency,
		// the run's own connections, so that each host is connected to once
		Facts: func(ctx context.Context, h hosts.Host) (hosts.Facts, error) {
			c, err := u.clients.get(ctx, hostKey(h))
			if err != nil {
				return hosts.Facts{}, err
			}
			return c.Facts(ctx, nil)
		},
		MKE3:           o.MKE3,
		ConfigTOML:     o.MKE3ConfigTOML,
		Convert:        o.convertOptions(),
		KubeconfigPath: o.KubeconfigPath,
		Logger:         o.Logger,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("upgrade: discover: %w", err)
	}
	sh := &Shared{Facts: map[string]hosts.Facts{}, Profiles: map[string]string{},
		Leader: res.Leader, Managers: res.Managers, Workers: res.Workers, MKEVersion: res.MKEVersion, ClusterID: res.ClusterID,
		MKE3TOML: res.TOML, Config: res.MKE4, Report: res.Report, Preflight: res.Checks}
	for _, h := range res.Hosts {
		if h.Facts != nil {
			sh.Facts[hostKey(h.Host)] = *h.Facts
		}
		if len(h.Labels) > 0 {
			if sh.Labels == nil {
				sh.Labels = map[string]map[string]string{}
			}
			sh.Labels[hostKey(h.Host)] = h.Labels
		}
	}
	if out := res.MKE4; out != nil {
		for i, h := range out.Spec.Hosts {
			for _, f := range h.InstallFlags {
				if p, ok := strings.CutPrefix(f, "--profile="); ok && i < len(o.Hosts) {
					sh.Profiles[hostKey(o.Hosts[i])] = p
				}
			}
		}
	}
	// the engine's checks name hosts by key (address:port), the facts'
	// checks by address, as hosts.yaml and the report do
	gathered := len(sh.Preflight)
	defer func() {
		for i := gathered; i < len(sh.Preflight); i++ {
			if h, ok := u.clients.hosts[sh.Preflight[i].Host]; ok {
				sh.Preflight[i].Host = h.Address
			}
		}
	}()
	// without a leader there is nothing to read the carry from, and the
	// checks said so already (swarm-leader, host-unreachable)
	if !o.Carry.Skip && sh.Leader != "" {
		b, err := u.discoverCarry(ctx, sh)
		if err != nil {
			return nil, nil, err
		}
		if b != nil {
			sh.Preflight = append(sh.Preflight, *b)
		}
	}
	sh.Preflight = append(sh.Preflight, u.checkNodes(ctx, sh)...)
	// air-gapped, MKE 3's backup and uninstaller need their image on the
	// leader: nothing can pull it (finding 7)
	if o.Airgapped && sh.Leader != "" {
		image := o.Commands.UCPImage + ":" + sh.MKEVersion
		if n, err := u.clients.get(ctx, sh.Leader); err == nil {
			if _, err := sudo(ctx, n, imageInspectCmd(image)); err != nil {
				sh.Preflight = append(sh.Preflight, preflight.MKEImageMissing(sh.Leader, image))
			}
		}
	}
	sh.Preflight = append(sh.Preflight, u.checkJoinPorts(ctx, sh)...)
	sh.Preflight = append(sh.Preflight, u.checkPeerPorts(ctx, sh)...)
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("upgrade: discover: %w", err)
	}
	return sh, res, nil
}
