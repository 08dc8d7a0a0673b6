package kubetest_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mke-migrate/mke-migrate/internal/kubetest"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

var plane *kubetest.Plane

const helperEnv = "KUBETEST_KILLED_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		// the child of TestKilledBinaryLeavesNothing: start a plane, say
		// where it is, and wait to be killed
		p, err := kubetest.Start(context.Background(), kubetest.Options{ControllerManager: true, Dir: os.Getenv(helperEnv)})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(strings.Join(p.PIDs(), " "))
		// wait to be killed; a bare select{} could end the process as a
		// deadlock, and then the kill would not be what is tested
		time.Sleep(time.Hour)
		os.Exit(1)
	}
	os.Exit(kubetest.Main(m, kubetest.Options{ControllerManager: true}, &plane))
}

// A test binary killed with SIGKILL takes its control plane with it, and
// the next Start removes the working folder it left.
func TestKilledBinaryLeavesNothing(t *testing.T) {
	kubetest.Need(t, plane)
	base := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+base)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		t.Fatalf("child: %v", err)
	}
	pids := strings.Fields(line)
	if len(pids) != 3 {
		t.Fatalf("child started %v", pids)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	for _, p := range pids {
		pid, _ := strconv.Atoi(p)
		deadline := time.Now().Add(10 * time.Second)
		for syscall.Kill(pid, 0) == nil {
			// a zombie until reaped by init: check its state
			if st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); strings.Contains(string(st), ") Z ") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("process %d outlived the killed test binary", pid)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	dirs, _ := filepath.Glob(filepath.Join(base, "mke-migrate-kubetest-*"))
	if len(dirs) != 1 {
		t.Fatalf("working folders %v", dirs)
	}
	// the next start in that folder removes the dead run's folder
	p, err := kubetest.Start(t.Context(), kubetest.Options{Dir: base})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	if _, err := os.Stat(dirs[0]); !os.IsNotExist(err) {
		t.Errorf("stale folder %s still there (%v)", dirs[0], err)
	}
}

func TestPlane(t *testing.T) {
	p := kubetest.Need(t, plane)
	cs, err := p.Client()
	if err != nil {
		t.Fatal(err)
	}
	v, err := cs.Discovery().ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	if v.GitVersion != "v"+kubetest.KubeVersion {
		t.Errorf("server version %q, want v%s", v.GitVersion, kubetest.KubeVersion)
	}
	if fi, err := os.Stat(p.Kubeconfig); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("kubeconfig: %v, %v", fi, err)
	}

	// The aggregation controller runs in kube-controller-manager: an
	// aggregated role must be filled from a labelled part.
	ctx := t.Context()
	part := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "kubetest-part", Labels: map[string]string{"kubetest/agg": "true"}},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"get"}}},
	}
	agg := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "kubetest-agg"},
		AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{
			{MatchLabels: map[string]string{"kubetest/agg": "true"}}}},
	}
	for _, r := range []*rbacv1.ClusterRole{part, agg} {
		if _, err := cs.RbacV1().ClusterRoles().Create(ctx, r, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cs.RbacV1().ClusterRoles().Delete(context.Background(), r.Name, metav1.DeleteOptions{}) })
	}
	// Start waited for the bootstrap roles
	if v, err := cs.RbacV1().ClusterRoles().Get(ctx, "view", metav1.GetOptions{}); err != nil || len(v.Rules) == 0 {
		t.Errorf("view has no rules yet: %v", err)
	}
	err = wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		got, err := cs.RbacV1().ClusterRoles().Get(ctx, "kubetest-agg", metav1.GetOptions{})
		return err == nil && len(got.Rules) == 1, err
	})
	if err != nil {
		t.Fatalf("aggregated role not filled: %v", err)
	}
}

func TestAssetsMissing(t *testing.T) {
	t.Setenv(kubetest.EnvAssets, t.TempDir())
	if _, err := kubetest.Assets(); err == nil {
		t.Fatal("no error for an empty assets folder")
	}
}

func TestBinary(t *testing.T) {
	if _, err := kubetest.Binary("kubelet"); err == nil || errors.Is(err, kubetest.ErrNoBinaries) {
		t.Errorf("Binary(kubelet): %v", err)
	}
	t.Setenv(kubetest.EnvAssets, t.TempDir())
	if _, err := kubetest.Binary("kubectl"); !errors.Is(err, kubetest.ErrNoBinaries) {
		t.Errorf("Binary(kubectl) in an empty folder: %v", err)
	}
	// the build on first use turned off: a skip, outside CI
	t.Setenv(kubetest.EnvAssets, "")
	t.Setenv("MKE_MIGRATE_TESTBIN", t.TempDir())
	t.Setenv("MKE_MIGRATE_NO_TESTBIN_BUILD", "1")
	t.Setenv("CI", "")
	skipped := false
	t.Run("opt-out", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		kubetest.NeedBinary(t, "etcdutl")
	})
	if !skipped {
		t.Error("NeedBinary did not skip with the build turned off")
	}
}

// The tools build.sh builds next to the control plane are the versions
// it pins, and kubectl talks to the plane.
func TestTools(t *testing.T) {
	p := kubetest.Need(t, plane)
	for _, tc := range []struct{ name, want string }{
		{"etcdctl", "etcdctl version: " + kubetest.EtcdVersion},
		{"etcdutl", "etcdutl version: " + kubetest.EtcdVersion},
		{"kubectl", `"gitVersion": "v` + kubetest.KubeVersion + `"`},
	} {
		args := []string{"version"}
		if tc.name == "kubectl" {
			args = []string{"--kubeconfig", p.Kubeconfig, "version", "-o", "json"}
		}
		out, err := exec.Command(kubetest.NeedBinary(t, tc.name), args...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), tc.want) {
			t.Errorf("%s %v: %v\n%s", tc.name, args, err, out)
		}
		if tc.name == "kubectl" && strings.Count(string(out), tc.want) != 2 {
			t.Errorf("kubectl and the server disagree on the version:\n%s", out)
		}
	}
}
