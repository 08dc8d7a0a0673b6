package testbed

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/mke-migrate/mke-migrate/internal/kubetest"
)

// startReal starts a realistic cluster for t, skipping without binaries.
func startReal(t *testing.T, o ClusterOptions) *Cluster {
	t.Helper()
	need(t)
	if _, err := kubetest.Assets(); err != nil {
		t.Skip(err)
	}
	o.Real = true
	o.Workdir = t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute) // a safety net
	defer cancel()
	start := time.Now()
	c, err := StartCluster(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("realistic cluster of %d hosts started in %v", len(c.Hosts), time.Since(start))
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	})
	return c
}

func TestRealControlPlane(t *testing.T) {
	c := startReal(t, ClusterOptions{Managers: 1, Workers: 1, EtcdPrefix: "/mke3-registry"})
	cfg, err := c.KubeConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ns, err := cs.CoreV1().Namespaces().List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(ns.Items) == 0 {
		t.Fatal("no namespaces")
	}
	m := c.Managers[0]
	out, err := c.Exec(t.Context(), m, "docker inspect --format '{{json .Args}}' ucp-kube-apiserver")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "--etcd-prefix=/mke3-registry") {
		t.Errorf("inspect Args = %s", out)
	}
}
