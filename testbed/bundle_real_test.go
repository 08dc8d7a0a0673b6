package testbed

import (
	"net"
	"strconv"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/mke-migrate/mke-migrate/mke3"
	"github.com/mke-migrate/mke-migrate/testbed/mke3api"
)

// On a realistic bed, the MKE 3 API's client bundle is this cluster's,
// as a real MKE 3's: kube.yml names the API at the load balancer's
// address on 6443 (not 127.0.0.1), its CA verifies the API server, and the
// API server accepts its certificate: an admin may list everything (the
// inventory verify needs), another user is authenticated as themselves
// and gets only what RBAC gives them (nothing here).
func TestRealClientBundle(t *testing.T) {
	const pw = "bundle-user-pw-4d1e" // the simulator's test-only password
	c := startReal(t, ClusterOptions{Managers: 1, Workers: 1, API: true,
		APISeed: mke3api.Seed{Users: []mke3api.User{{Name: "alice", Password: pw}}}})
	ctx := t.Context()
	for _, tc := range []struct {
		user, password string
		admin          bool
	}{
		{mke3api.DefaultAdminUsername, mke3api.DefaultAdminPassword, true},
		{"alice", pw, false},
	} {
		t.Run(tc.user, func(t *testing.T) {
			mc, err := mke3.New(mke3.Options{Host: c.API.URL, Username: tc.user, Password: tc.password, CACertPEM: c.API.CAPEM})
			if err != nil {
				t.Fatal(err)
			}
			b, err := mc.ClientBundle(ctx)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := b.RESTConfig()
			if err != nil {
				t.Fatal(err)
			}
			if want := "https://" + net.JoinHostPort(c.LB, strconv.Itoa(KubeAPIPort)); cfg.Host != want {
				t.Fatalf("kube.yml names %s, want the load balancer's %s", cfg.Host, want)
			}
			cs, err := kubernetes.NewForConfig(cfg)
			if err != nil {
				t.Fatal(err)
			}
			// TLS both ways: the bundle's CA verifies the API server, which
			// accepts the bundle's certificate
			if _, err := cs.Discovery().ServerVersion(); err != nil {
				t.Fatalf("the API through the bundle: %v", err)
			}
			_, err = cs.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
			switch {
			case tc.admin && err != nil:
				t.Fatalf("an admin's bundle cannot list namespaces: %v", err)
			case !tc.admin && !apierrors.IsForbidden(err):
				t.Fatalf("a user's bundle lists namespaces (err %v), want forbidden", err)
			case !tc.admin && !strings.Contains(err.Error(), `User "alice"`):
				t.Fatalf("forbidden for another identity: %v", err)
			}
		})
	}
}
