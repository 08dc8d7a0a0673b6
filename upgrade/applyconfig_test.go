package upgrade

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/mke-migrate/mke-migrate/convert/mke4"
	"github.com/mke-migrate/mke-migrate/internal/shell"
)

const testKubeconfig = "apiVersion: v1\nkind: Config\nclusters:\n- name: k0s\n  cluster:\n    server: https://10.0.0.1:6443\ncontexts:\n- name: k0s\n  context: {cluster: k0s, user: admin}\ncurrent-context: k0s\nusers:\n- name: admin\n  user: {token: t}\n"

// The converted MkeConfig is stored as a Secret in namespace mke (it may
// hold credentials), labelled as ours; the undo deletes what the step
// created, and a Secret of the same name that is not ours stops it.
func TestApplyConfigStep(t *testing.T) {
	fc := newFakeCluster(leader)
	e := testEnv(fc)
	cfg := mke4.Default()
	cfg.Spec.License.Token = "secret-license"
	e.Cluster.Config = &cfg
	cs := fake.NewClientset()
	e.KubeClient = func(context.Context, []byte) (kubernetes.Interface, error) { return cs, nil }
	fc.nodes[leader].reply[shell.Sudo(adminKubeconfigCmd)] = testKubeconfig
	s := applyConfigStep(e)
	r := run(t, fc, s, nil, do)
	sec, err := cs.CoreV1().Secrets(ConfigNamespace).Get(t.Context(), ConfigSecret, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	back, err := mke4.Unmarshal(sec.Data[ConfigKey])
	if err != nil || back.Spec.License.Token != "secret-license" || sec.Labels[managedBy] != "mke-migrate" {
		t.Fatalf("stored %v %+v", err, sec.Labels)
	}
	// a resumed Do updates its own Secret
	run(t, fc, s, r.Data(), do)
	run(t, fc, s, r.Data(), undo)
	if _, err := cs.CoreV1().Namespaces().Get(t.Context(), ConfigNamespace, metav1.GetOptions{}); err == nil {
		t.Fatal("the namespace it created is left")
	}
	if _, err := cs.CoreV1().Secrets(ConfigNamespace).Get(t.Context(), ConfigSecret, metav1.GetOptions{}); err == nil {
		t.Fatal("the secret it created is left")
	}
	// someone else's Secret is neither replaced nor, on undo, deleted
	run(t, fc, s, nil, do)
	sec, _ = cs.CoreV1().Secrets(ConfigNamespace).Get(t.Context(), ConfigSecret, metav1.GetOptions{})
	sec.Labels = nil
	if _, err := cs.CoreV1().Secrets(ConfigNamespace).Update(t.Context(), sec, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Do(t.Context(), newRun(s, fc)); err == nil || !strings.Contains(err.Error(), "not mke-migrate's") {
		t.Fatalf("err = %v", err)
	}
}
