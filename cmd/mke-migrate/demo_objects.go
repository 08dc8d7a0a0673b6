package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/mke-migrate/mke-migrate/rbac"
	"github.com/mke-migrate/mke-migrate/summary"
	"github.com/mke-migrate/mke-migrate/testbed"
	"github.com/mke-migrate/mke-migrate/upgrade"
)

// demoResult is the one JSON document demo --json prints on stdout.
type demoResult struct {
	// Result is upgraded, rolled-back, failed, or blocked (a preflight
	// check stopped the run before the upgrade: emit); a --fail-at past
	// the point of no return that resume finished is upgraded, Resumed
	// true.
	Result  string `json:"result"`
	Error   string `json:"error,omitempty"`
	Resumed bool   `json:"resumed,omitempty"`
	// FailAt is the step --fail-at made fail.
	FailAt string `json:"failAt,omitempty"`
	// Seconds is the demo's wall time, bed included; UpgradeSeconds the
	// upgrade's (Apply, and Resume after it).
	Seconds        float64          `json:"seconds"`
	UpgradeSeconds float64          `json:"upgradeSeconds"`
	Cluster        demoCluster      `json:"cluster"`
	Kubernetes     demoKubernetes   `json:"kubernetes"`
	RBAC           demoRBAC         `json:"rbac"`
	ConfigStore    *demoConfigStore `json:"configStore,omitempty"`
	// Skipped are the steps of a full upgrade the demo leaves out, with why.
	Skipped        []demoSkip `json:"skipped"`
	SupportBundles []string   `json:"supportBundles,omitempty"`
	// Nodes (after a rollback): whether every node is back in its MKE 3
	// state (running containers, volumes, CNI files, the upgrade's files).
	Nodes     *demoNodeCheck   `json:"nodes,omitempty"`
	OutputDir string           `json:"outputDir,omitempty"`
	Summary   *summary.Summary `json:"summary,omitempty"`
}

type demoCluster struct {
	MKEVersion string `json:"mkeVersion"`
	Managers   int    `json:"managers"`
	Workers    int    `json:"workers"`
}

// demoKubernetes counts the seeded objects per Kind: Before on MKE 3's
// API, After on k0s's (AfterAPI "k0s") or, after a rollback, on MKE 3's
// again (AfterAPI "mke3"). Missing are the objects (resource/namespace/
// name) After lacks; Replaced those it serves under another UID. Changed
// (rollback only) are the objects whose UID, resourceVersion or content
// differ: a rollback must leave none.
type demoKubernetes struct {
	Before   map[string]int `json:"before"`
	After    map[string]int `json:"after"`
	AfterAPI string         `json:"afterAPI"`
	Missing  []string       `json:"missing"`
	Replaced []string       `json:"replaced"`
	Changed  []string       `json:"changed,omitempty"`
}

// demoRBAC: Translated RBAC objects (from MKE 3's orgs, teams and
// grants); Applied is how many of them k0s's API serves after the run.
type demoRBAC struct {
	Translated int `json:"translated"`
	Applied    int `json:"applied"`
}

// demoConfigStore: whether k0s's API serves the Secret the mke4-config
// step stores mke4.yaml in.
type demoConfigStore struct {
	Secret  string `json:"secret"`
	Present bool   `json:"present"`
}

type demoSkip struct {
	Step   string `json:"step"`
	Reason string `json:"reason"`
}

type demoNodeCheck struct {
	Same      bool     `json:"same"`
	Different []string `json:"different,omitempty"`
}

// kindCounts counts objects per Kind (the resource's name when the Kind
// is unknown).
func kindCounts(objs []testbed.Object, kinds map[string]string) map[string]int {
	m := map[string]int{}
	for res, n := range testbed.CountKinds(objs) {
		k := kinds[res]
		if k == "" {
			k = res
		}
		m[k] += n
	}
	return m
}

// compareObjects fills Missing and Replaced (and, when strict, Changed).
func (k *demoKubernetes) compare(before, after []testbed.Object, strict bool) {
	idx := map[string]testbed.Object{}
	for _, o := range after {
		idx[o.Key()] = o
	}
	k.Missing, k.Replaced = []string{}, []string{}
	for _, b := range before {
		a, ok := idx[b.Key()]
		switch {
		case !ok:
			k.Missing = append(k.Missing, b.Key())
		case a.UID != b.UID:
			k.Replaced = append(k.Replaced, b.Key())
		case strict && a != b:
			k.Changed = append(k.Changed, fmt.Sprintf("%s: resourceVersion %s → %s, content %s → %s", b.Key(),
				b.ResourceVersion, a.ResourceVersion, b.SpecHash[:12], a.SpecHash[:12]))
		}
	}
}

// writeTable prints the counts per Kind side by side.
func (k *demoKubernetes) writeTable(w io.Writer, afterTitle string) {
	var names []string
	for n := range k.Before {
		names = append(names, n)
	}
	for n := range k.After {
		if _, ok := k.Before[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "  KIND\tMKE 3 (before)\t%s\t\n", afterTitle)
	tb, ta := 0, 0
	for _, n := range names {
		mark := ""
		if k.Before[n] != k.After[n] {
			mark = "  ≠"
		}
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%s\n", n, k.Before[n], k.After[n], mark)
		tb, ta = tb+k.Before[n], ta+k.After[n]
	}
	fmt.Fprintf(tw, "  total\t%d\t%d\t\n", tb, ta)
	_ = tw.Flush()
}

// listObjects lists the seeded objects an API server serves, trying for up
// to a minute: MKE 3's API server restarts during a rollback's last steps.
func listObjects(ctx context.Context, cfg *rest.Config) ([]testbed.Object, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		objs, err := testbed.KubeObjects(ctx, cfg)
		if err == nil {
			return objs, nil
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(2 * time.Second):
		}
	}
}

// appliedRBAC counts the translated RBAC objects k0s's API serves.
func appliedRBAC(ctx context.Context, cs kubernetes.Interface, objs *rbac.Objects) (int, error) {
	if objs == nil {
		return 0, nil
	}
	n := 0
	count := func(err error) error {
		switch {
		case err == nil:
			n++
		case !apierrors.IsNotFound(err):
			return err
		}
		return nil
	}
	for _, r := range objs.ClusterRoles {
		_, err := cs.RbacV1().ClusterRoles().Get(ctx, r.Name, metav1.GetOptions{})
		if err := count(err); err != nil {
			return n, err
		}
	}
	for _, b := range objs.ClusterRoleBindings {
		_, err := cs.RbacV1().ClusterRoleBindings().Get(ctx, b.Name, metav1.GetOptions{})
		if err := count(err); err != nil {
			return n, err
		}
	}
	for _, b := range objs.RoleBindings {
		_, err := cs.RbacV1().RoleBindings(b.Namespace).Get(ctx, b.Name, metav1.GetOptions{})
		if err := count(err); err != nil {
			return n, err
		}
	}
	return n, nil
}

// configStored tells whether k0s's API serves the mke4-config Secret.
func configStored(ctx context.Context, cs kubernetes.Interface) (*demoConfigStore, error) {
	s := &demoConfigStore{Secret: upgrade.ConfigNamespace + "/" + upgrade.ConfigSecret}
	sec, err := cs.CoreV1().Secrets(upgrade.ConfigNamespace).Get(ctx, upgrade.ConfigSecret, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return s, nil
	case err != nil:
		return nil, err
	}
	s.Present = len(sec.Data[upgrade.ConfigKey]) > 0
	return s, nil
}
