package importbudget

import (
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/mke-migrate/mke-migrate/"

// Forbidden packages, by what they would drag in: each entry forbids the
// package of that path and, outside this module, every package under it
// (mke3/kubenode is pure while mke3 is the API client).
var (
	clientGo = []string{"k8s.io/client-go"}
	ssh      = []string{"github.com/k0sproject/rig", "golang.org/x/crypto/ssh"}
	kubeAPI  = []string{"k8s.io/api", "k8s.io/apimachinery/pkg/runtime", "k8s.io/apimachinery/pkg/apis"}
	mke3Cli  = []string{mod + "mke3"}
	noneOf   = func(sets ...[]string) []string {
		var out []string
		for _, s := range sets {
			out = append(out, s...)
		}
		return out
	}
	pureKube  = noneOf(clientGo, ssh, kubeAPI, mke3Cli)
	pureModel = noneOf(clientGo, ssh, mke3Cli)
)

// budgets is the table of pure packages: one line each. maxPackages bounds
// `go list -deps` of the package (standard library included) with some
// headroom over today's figure, so that a new heavy import fails here.
var budgets = []struct {
	pkg         string
	forbidden   []string
	maxPackages int
}{
	{"convert", pureKube, 120},
	{"convert/mke4", pureKube, 100},
	{"convert/kubeletprofile", pureKube, 100},
	{"convert/flagparse", pureKube, 80},
	{"upgrade/preflight", pureKube, 100},
	{"hosts/facts", pureKube, 60},
	{"mke3/kubenode", pureKube, 60},
	// rbac's objects are k8s.io/api/rbac/v1 types, so apimachinery stays.
	{"rbac", pureModel, 300},
	// summary takes its own RBAC counts, not rbac.Report.
	{"summary", pureKube, 120},
	// the swarm export builds typed Kubernetes objects, but reads MKE 3
	// through its own Source interface: no client-go, SSH or MKE 3 client.
	{"swarm", pureModel, 320},
	// the report reads files only.
	{"report", pureModel, 320},
}

func TestImportBudget(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH")
	}
	for _, b := range budgets {
		t.Run(b.pkg, func(t *testing.T) {
			out, err := exec.Command(goTool, "list", "-deps", mod+b.pkg).Output()
			if err != nil {
				t.Fatalf("go list -deps %s: %v", b.pkg, err)
			}
			deps := strings.Fields(string(out))
			for _, d := range deps {
				for _, f := range b.forbidden {
					if d == f || !strings.HasPrefix(f, mod) && strings.HasPrefix(d, f+"/") {
						t.Errorf("%s links %s (forbidden: %s); find the import with: go list -deps -f '{{.ImportPath}}: {{.Imports}}' ./%s | grep %s",
							b.pkg, d, f, b.pkg, f)
					}
				}
			}
			if len(deps) > b.maxPackages {
				t.Errorf("%s links %d packages, budget %d (hack/deps.sh %s measures it)", b.pkg, len(deps), b.maxPackages, b.pkg)
			}
		})
	}
}
