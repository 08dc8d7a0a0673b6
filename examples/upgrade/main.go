// Command upgrade uses the mke-migrate SDK end to end on a simulated MKE 3
// cluster (package testbed: needs root): it converts the MKE 3
// configuration, translates MKE 3 RBAC, upgrades the cluster to k0s and
// prints the upgrade summary.
//
//	sudo go run ./examples/upgrade
//
// A real program would take hosts.yaml, the MKE 3 address and credentials
// and the k0s binary from its user instead of from the test bed.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/mke-migrate/mke-migrate/convert"
	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/mke3"
	"github.com/mke-migrate/mke-migrate/plan"
	"github.com/mke-migrate/mke-migrate/rbac"
	"github.com/mke-migrate/mke-migrate/rbac/fromapi"
	"github.com/mke-migrate/mke-migrate/summary"
	"github.com/mke-migrate/mke-migrate/testbed"
	"github.com/mke-migrate/mke-migrate/testbed/mke3api"
	"github.com/mke-migrate/mke-migrate/upgrade"
)

// errNoTestbed: the machine cannot run simulated nodes.
var errNoTestbed = errors.New("the test bed is not available")

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	err := run(ctx, os.Stdout)
	if errors.Is(err, errNoTestbed) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, w io.Writer) error {
	if err := testbed.Available(); err != nil {
		return fmt.Errorf("%w: %v", errNoTestbed, err)
	}
	work, err := os.MkdirTemp("", "mke-migrate-example-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	// A simulated MKE 3 cluster: 3 managers, 2 workers, the MKE 3 API.
	cl, err := testbed.StartCluster(ctx, testbed.ClusterOptions{Managers: 3, Workers: 2, API: true, CalicoKDD: true,
		Workdir: filepath.Join(work, "nodes")})
	if err != nil {
		return err
	}
	defer cl.Close()
	knownHosts := filepath.Join(work, "known_hosts")
	var hs []hosts.Host
	for i, h := range cl.Hosts {
		// simulated nodes share the machine's machine-id; real ones do not
		if _, err := cl.Exec(ctx, h, fmt.Sprintf("echo %032x > /etc/machine-id", i+1)); err != nil {
			return err
		}
		if err := h.KnownHostsFile(knownHosts); err != nil {
			return err
		}
		hs = append(hs, hosts.Host{Address: h.Address, Port: h.Port, User: h.User, KeyPath: h.KeyPath})
	}
	client, err := mke3.New(mke3.Options{Host: cl.API.URL, Username: mke3api.DefaultAdminUsername,
		Password: mke3api.DefaultAdminPassword, CACertPEM: cl.API.CAPEM})
	if err != nil {
		return err
	}

	// 1. Convert the MKE 3 configuration (pure, no cluster needed).
	toml, err := client.ConfigTOML(ctx)
	if err != nil {
		return err
	}
	cfg, err := convert.Parse("mke3-config.toml", toml)
	if err != nil {
		return err
	}
	_, report, err := convert.Convert(cfg, convert.Options{ExternalAddress: "mke.example.com"})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "convert: %d keys, %d not carried, blocking: %v\n", len(report.Keys()), len(report.NotCarried()), report.HasBlocking())

	// 2. Translate MKE 3 RBAC to Kubernetes RBAC objects.
	model, err := fromapi.Read(ctx, client, fromapi.Options{Source: cl.API.URL})
	if err != nil {
		return err
	}
	objs, rbacReport, err := rbac.Translate(model, rbac.Options{})
	if err != nil {
		return err
	}
	manifests, err := rbac.Manifests(objs, rbac.FormatYAML)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "rbac: %d user(s), %d manifest bytes\n", rbacReport.Users.Found, len(manifests))

	// 3. Upgrade: discover, plan, apply (rolled back on any failure).
	k0s, err := testbed.FakeK0sBinary("v1.33.4+k0s.0")
	if err != nil {
		return err
	}
	var steps atomic.Int64 // lanes of a stage report at once
	u, err := upgrade.New(upgrade.Options{
		Hosts:           hs,
		Connect:         hosts.ConnectOptions{KnownHostsPath: knownHosts},
		MKE3:            client,
		ExternalAddress: "mke.example.com",
		K0sBinary:       k0s,
		OutputDir:       filepath.Join(work, "run"),
		KubeconfigPath:  filepath.Join(work, "mke.kubeconf"),
		// the simulated k0s serves no join API on 9443 to check
		Commands: upgrade.Commands{Ready: 10 * time.Second, JoinCheck: "-"},
		// the simulated nodes run no Kubernetes API to apply RBAC to, store
		// mke4.yaml in, carry MKE 3's etcd from, or verify (the realistic
		// test bed does: see upgrade/e2e)
		SkipRBAC:        true,
		SkipConfigStore: true,
		SkipVerify:      true,
		Carry:           upgrade.CarryOptions{Skip: true},
		Events: func(e plan.Event) {
			if e.Kind == plan.EventStepDone {
				steps.Add(1)
			}
		},
	})
	if err != nil {
		return err
	}
	defer u.Close()
	shared, err := u.Discover(ctx)
	if err != nil {
		return err
	}
	plan, err := u.Plan()
	if err != nil {
		return err
	}
	res, err := u.Apply(ctx, plan)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "upgrade: %d of %d steps done in %v\n", steps.Load(), len(plan.Steps()), res.Took.Round(time.Millisecond))

	// 4. The summary, as mkectl prints it.
	in := summary.Input{Report: shared.Report, MKEVersion: shared.MKEVersion, Managers: shared.Managers, Workers: shared.Workers}
	if r := rbacReport; r != nil {
		in.RBAC = &summary.RBAC{UsersFound: r.Users.Found, UsersMigrated: r.Users.Translated, OrgsFound: r.Orgs.Found,
			OrgsTranslated: r.Orgs.Translated, TeamsFound: r.Teams.Found, TeamsTranslated: r.Teams.Translated}
	}
	s, err := summary.Build(in)
	if err != nil {
		return err
	}
	return s.WriteText(w)
}
