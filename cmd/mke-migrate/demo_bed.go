package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"

	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/mke3"
	"github.com/mke-migrate/mke-migrate/testbed"
	"github.com/mke-migrate/mke-migrate/testbed/mke3api"
)

// demoDigestPaths are the files an upgrade writes outside the fake nodes'
// state: the digests cover them so that a rollback is seen to restore them.
var demoDigestPaths = []string{"/etc/k0s", testbed.K0sBinaryPath, "/var/lib/mke-migrate"}

// demoProfile is the custom kubelet profile the demo's MKE 3 configures
// and its first worker uses (the test bed labels that worker's Node with
// testbed.KubeletProfileLabel=demoProfile when it seeds Kubernetes).
const (
	demoProfile      = "high-pods"
	demoProfileFlags = "--max-pods=250"
)

// demoBed is the demo's simulated MKE 3.8 cluster on the realistic test
// bed: real etcd (ucp-kv) and kube-apiserver on the managers, seeded with
// a realistic Kubernetes state, and what an operator has at hand for it
// (hosts.yaml, known_hosts, an MKE 3 API client).
type demoBed struct {
	cl         *testbed.Cluster
	dir        string
	hosts      []hosts.Host
	hostsYAML  []byte
	hostsPath  string
	knownHosts string
	mc         *mke3.Client
	// mke3 is an admin client configuration of MKE 3's Kubernetes API.
	mke3 *rest.Config
	// kinds names the Kind of each seeded resource ("deployments.apps":
	// "Deployment"), read from MKE 3's API discovery.
	kinds map[string]string
}

// startDemoBed starts the cluster in dir (nodes' folders, known_hosts,
// hosts.yaml) and seeds it; on error nothing is left running.
func startDemoBed(ctx context.Context, w io.Writer, dir string, managers, workers int, log *slog.Logger) (_ *demoBed, err error) {
	fmt.Fprintf(w, "Starting a simulated MKE 3.8 cluster: %d manager(s), %d worker(s), real etcd (ucp-kv) and kube-apiserver on the managers, the MKE 3 API, Calico on KDD...\n", managers, workers)
	start := time.Now()
	// the node programs are built (once, cached) before the safety net
	// starts: a cold go build cache takes minutes
	if _, err := testbed.FakeNodeBinary(); err != nil {
		return nil, err
	}
	// a safety net: a 3-manager realistic bed starts in well under a
	// minute on an idle 2-core machine
	sctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cl, err := testbed.StartCluster(sctx, testbed.ClusterOptions{Managers: managers, Workers: workers, Real: true, API: true, CalicoKDD: true,
		Workdir: filepath.Join(dir, "nodes"), DigestPaths: demoDigestPaths,
		// MKE 3's accounts: 8 users, 2 organizations of 2 teams of 3
		// members, with grants on /Shared and on Kubernetes namespaces
		// (their RBAC is carried to k0s, and verify asks k0s's authorizer)
		APISeed: demoSeed(),
		// MKE 3's load balancer forwards 443 and 6443; k0s's joins need 9443
		// too, as the upgrade's join check says (README, finding 5): the
		// demo's operator has added it
		LBPorts: []int{443, 6443, 9443}})
	if err != nil {
		return nil, fmt.Errorf("start the simulated cluster: %w", err)
	}
	b := &demoBed{cl: cl, dir: dir, knownHosts: filepath.Join(dir, "known_hosts"), hostsPath: filepath.Join(dir, "hosts.yaml")}
	defer func() {
		if err != nil {
			_ = cl.Close()
		}
	}()
	for i, h := range cl.Hosts {
		// the simulated nodes share this machine's machine-id, which the
		// preflight rightly blocks on
		if _, err := cl.Exec(ctx, h, fmt.Sprintf("echo %032x > /etc/machine-id", i+1)); err != nil {
			return nil, err
		}
		if err := h.KnownHostsFile(b.knownHosts); err != nil {
			return nil, err
		}
		hh := hosts.Host{Address: h.Address, Port: h.Port, User: h.User, KeyPath: h.KeyPath, Role: "worker"}
		if i < len(cl.Managers) {
			hh.Role = "manager"
		}
		if h == cl.Workers[0] { // its Node carries the profile label too (SeedKubernetes)
			hh.Labels = map[string]string{testbed.KubeletProfileLabel: demoProfile}
		}
		b.hosts = append(b.hosts, hh)
	}
	if b.hostsYAML, err = yaml.Marshal(hosts.File{Hosts: b.hosts}); err != nil {
		return nil, err
	}
	if err := os.WriteFile(b.hostsPath, b.hostsYAML, 0o600); err != nil {
		return nil, err
	}
	// The simulator's well-known password: it is never printed or logged.
	b.mc, err = mke3.New(mke3.Options{Host: cl.API.URL, Username: mke3api.DefaultAdminUsername, Password: mke3api.DefaultAdminPassword,
		CACertPEM: cl.API.CAPEM, Logger: log, UserAgent: "mke-migrate/" + version()})
	if err != nil {
		return nil, err
	}
	// MKE 3's configuration gets the custom kubelet profile of the first
	// worker, through the API as an administrator sets it.
	toml, err := b.mc.ConfigTOML(ctx)
	if err != nil {
		return nil, err
	}
	if !strings.Contains(string(toml), "custom_kubelet_flags_profiles") {
		toml = fmt.Appendf(toml, "\n[cluster_config.custom_kubelet_flags_profiles]\n  %s = %q\n", demoProfile, demoProfileFlags)
		if _, err := b.mc.PutConfigTOML(ctx, toml); err != nil {
			return nil, fmt.Errorf("configure the kubelet profile: %w", err)
		}
	}
	fmt.Fprintf(w, "MKE %s on %d nodes, started in %.1fs. Seeding its Kubernetes (namespaces, workloads, volumes, a CRD, Calico KDD, RBAC, Nodes)...\n",
		cl.MKEVersion, len(cl.Hosts), time.Since(start).Seconds())
	if err := cl.SeedKubernetes(ctx); err != nil {
		return nil, err
	}
	if b.mke3, err = cl.KubeConfig(nil); err != nil {
		return nil, err
	}
	if b.kinds, err = seededKindNames(b.mke3); err != nil {
		return nil, err
	}
	return b, nil
}

// demoSeed is the demo's MKE 3 accounts: mke3api.GenerateSeed's orgs and
// teams, whose grants are on the /Shared collection (Swarm structure
// only, no Kubernetes permission), plus grants of Kubernetes namespaces
// as an operator gives them: each org may view default, each org's first
// team has restricted control of shop and its second may view monitoring
// (namespaces SeedKubernetes makes). Every org and team then has a
// Kubernetes permission of its own for verify to check.
func demoSeed() mke3api.Seed {
	s := mke3api.GenerateSeed(8, 2, 2, 3)
	for _, o := range s.Orgs {
		s.Grants = append(s.Grants, mke3api.Grant{SubjectName: o.Name, ObjectID: "default", RoleID: "viewonly"})
		for i, t := range o.Teams {
			g := mke3api.Grant{SubjectName: o.Name + "/" + t.Name, ObjectID: "monitoring", RoleID: "viewonly"}
			if i == 0 {
				g.ObjectID, g.RoleID = "shop", "restrictedcontrol"
			}
			s.Grants = append(s.Grants, g)
		}
	}
	return s
}

// Close removes the cluster.
func (b *demoBed) Close() error { return b.cl.Close() }

// seededKindNames reads the Kind of every seeded resource from the API
// server's discovery.
func seededKindNames(cfg *rest.Config) (map[string]string, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	var errs []error
	for _, gvr := range testbed.SeededKinds {
		l, err := dc.ServerResourcesForGroupVersion(gvr.GroupVersion().String())
		if err != nil {
			errs = append(errs, fmt.Errorf("discovery of %s: %w", gvr.GroupVersion(), err))
			continue
		}
		key := gvr.Resource
		if gvr.Group != "" {
			key += "." + gvr.Group
		}
		for _, r := range l.APIResources {
			if r.Name == gvr.Resource {
				m[key] = r.Kind
			}
		}
	}
	return m, errors.Join(errs...)
}
