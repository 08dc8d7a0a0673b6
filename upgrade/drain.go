package upgrade

import (
	"fmt"
	"strings"
	"time"

	"github.com/mke-migrate/mke-migrate/internal/shell"
)

// Workers are not drained. A worker moves to k0s after the managers did,
// so MKE 3's Kubernetes is down by then (its API servers stopped with the
// managers' takeover): nothing can evict its pods through MKE 3, and the
// stop step of the worker ends them. Nor can k0s drain it: a node is in
// the k0s cluster only once it joined, and kubectl answers NotFound for
// any other. k0sctl drains only nodes that already run k0s, when it
// upgrades them (phase/upgrade_workers.go); a fresh join is waited for
// instead, until the worker's Node is Ready (phase/install_workers.go,
// pkg/node/statusfunc.go KubeNodeReadyFunc), which nodeReadyScript does.

// nodeNames are Kubernetes node names as shell words ({node} of the
// Commands).
func nodeNames(names []string) string { return shell.Join(names...) }

// kubeletKubeconfig is a k0s worker's own kubeconfig (k0s
// pkg/config/cfgvars.go: KubeletAuthConfigPath, <data-dir>/kubelet.conf):
// the Node authorizer lets it read its own Node. k0sctl uses it on
// nodes without admin.conf (configurer/linux.go KubeconfigPath).
const kubeletKubeconfig = "/var/lib/k0s/kubelet.conf"

// nodeReadyInterval is the pause between two looks at a joining Node.
const nodeReadyInterval = 500 * time.Millisecond

// nodeReadyScript waits on the node itself, in one remote command, until
// check (Commands.NodeReady, expanded) prints True, at most limit; what
// names the node in the error.
func nodeReadyScript(check, what string, limit time.Duration) string {
	tries := int(limit/nodeReadyInterval) + 1
	return fmt.Sprintf("i=0; until [ \"$(%s 2>/dev/null)\" = True ]; do i=$((i+1)); if [ $i -ge %d ]; then echo %s >&2; exit 1; fi; sleep %s; done",
		check, tries, shell.Quote(fmt.Sprintf("node %s not Ready after %v", what, limit)), strings.TrimSuffix(fmt.Sprintf("%.1f", nodeReadyInterval.Seconds()), ".0"))
}
