//go:build !fakenodelight

package main

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/mke-migrate/mke-migrate/testbed/internal/fakestate"
)

var binaryVersion = sync.OnceValue(func() string {
	f, err := os.Open("/proc/self/exe")
	if err != nil {
		return k0sVersion
	}
	defer f.Close()
	const tail = 128
	if fi, err := f.Stat(); err != nil || fi.Size() < tail {
		return k0sVersion
	} else if _, err := f.Seek(fi.Size()-tail, io.SeekStart); err != nil {
		return k0sVersion
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return k0sVersion
	}
	i := bytes.LastIndex(b, []byte(fakestate.K0sVersionMarker))
	if i < 0 {
		return k0sVersion
	}
	v := strings.TrimSpace(string(b[i+len(fakestate.K0sVersionMarker):]))
	if v == "" {
		return k0sVersion
	}
	return v
})

// binaryK0sVersion is the version this k0s binary reports.
func binaryK0sVersion() string { return binaryVersion() }

// kubeVersion is the kubelet version of a k0s version: v1.31.2+k0s.0 →
// v1.31.2+k0s.
func kubeVersion() string {
	v, _, _ := strings.Cut(binaryK0sVersion(), "+")
	return v + "+k0s"
}

// kubectl is k0s kubectl (cmd/kubectl/kubectl.go): in real mode the real
// kubectl with the admin kubeconfig unless --kubeconfig or KUBECONFIG
// names another (fallbackToK0sKubeconfig); in fast mode the verbs an
// upgrade needs, simulated on the JSON state.
func (e *env) kubectl(args []string) error {
	if assets := e.kubeAssets(); assets != "" {
		return e.realKubectl(assets, args)
	}
	k, err := e.k0sState()
	if err != nil {
		return err
	}
	_, rerr := e.running()
	return e.k0sKubectl(k, k != nil && rerr == nil, args)
}

// realKubectl runs kubectl from the assets folder. k0s's own flags on
// kubectl (--data-dir, --debug) are taken out; kubectl parses the rest.
func (e *env) realKubectl(assets string, args []string) error {
	var pass []string
	hasKubeconfig := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--data-dir" && i+1 < len(args):
			i++
			continue
		case strings.HasPrefix(a, "--data-dir="), a == "--debug", strings.HasPrefix(a, "--debug="):
			continue
		case a == "--kubeconfig" || strings.HasPrefix(a, "--kubeconfig="):
			hasKubeconfig = true
		}
		pass = append(pass, a)
	}
	if _, ok := os.LookupEnv("KUBECONFIG"); !ok && !hasKubeconfig {
		if _, err := os.Stat(adminConf); err != nil {
			return fail(1, "Error: cannot stat k0s kubeconfig, is the server running?: %v", err)
		}
		pass = append([]string{"--kubeconfig=" + adminConf}, pass...)
	}
	bin := filepath.Join(assets, "kubectl")
	if _, err := os.Stat(bin); err != nil {
		return fail(1, "fakenode: no kubectl in %s (hack/testbin builds it)", assets)
	}
	cmd := exec.Command(bin, pass...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = e.stdin, e.stdout, e.stderr
	err := cmd.Run()
	var xe *exec.ExitError
	if errors.As(err, &xe) {
		return fail(xe.ExitCode(), "")
	}
	return err
}

// nodeNameRE is a DNS subdomain, what Kubernetes accepts as a node name.
var nodeNameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// k0sKubectl runs the kubectl verbs an upgrade needs against the
// controller: get nodes, cordon, uncordon and drain; the cordoned ones are
// kept in the k0s state. The fake knows no node but its own (a controller
// that runs workloads): the other hosts never reach it, so no other node
// joined its cluster, and real kubectl answers NotFound for a node that
// did not join. On a worker, the kubelet's kubeconfig (KUBECONFIG or
// --kubeconfig, as k0s cmd/kubectl/kubectl.go honours them) reads the
// worker's own Node, as k0sctl's KubeNodeReadyFunc does.
func (e *env) k0sKubectl(k *fakestate.K0s, running bool, args []string) error {
	vals, bools, pos := flags(args, "-o", "--output", "--timeout", "--grace-period", "--pod-selector", "--selector", "-l",
		"--chunk-size", "--kubeconfig", "-n", "--namespace", "--skip-wait-for-delete-timeout", "--data-dir")
	if len(pos) == 0 {
		return unsupported("k0s", append([]string{"kubectl"}, args...))
	}
	host, _ := os.Hostname()
	kc := first(vals, "--kubeconfig")
	if kc == "" {
		kc = os.Getenv("KUBECONFIG")
	}
	// the worker's kubelet.conf is in its data directory (k0s's persistent
	// --data-dir, which k0s kubectl takes too: pkg/config
	// GetKubeCtlFlagSet)
	dataDir := k0sDataDir
	if d := first(vals, "--data-dir"); d != "" {
		dataDir = d
	}
	conf := filepath.Join(dataDir, "kubelet.conf")
	// a controller+worker has a kubelet.conf of its own too: k0s runs the
	// worker inside the controller (cmd/controller/controller.go
	// startWorker, v1.33), with the same data directory's
	// KubeletAuthConfigPath (pkg/config/cfgvars.go); a plain controller
	// runs no kubelet and has none
	kubelet := k != nil && (k.Role == "worker" || k.Role == "controller+worker")
	switch {
	case kc == "" || kc == filepath.Join(dataDir, "pki", "admin.conf"):
		// the admin's (k0s falls back to it when no kubeconfig is named)
	case kc == conf && kubelet:
		if running {
			return e.kubeletGetNode(host, pos, first(vals, "-o", "--output"))
		}
	default:
		// a kubeconfig the fast fake cannot read as the cluster would:
		// refused, never answered as the admin. A missing file: client-go's
		// loading rules (tools/clientcmd/loader.go, Load) fail on a missing
		// --kubeconfig (stat error) and skip a missing KUBECONFIG file,
		// which leaves no server at all
		if _, err := os.Stat(kc); err != nil {
			if first(vals, "--kubeconfig") == "" {
				return fail(1, "The connection to the server localhost:8080 was refused - did you specify the right host or port?")
			}
			return fail(1, "error: stat %s: no such file or directory", kc)
		}
		return unsupported("k0s", append([]string{"kubectl"}, args...))
	}
	if !running || k.Role == "worker" {
		return fail(1, "The connection to the server localhost:6443 was refused - did you specify the right host or port?")
	}
	verb, names := pos[0], pos[1:]
	switch verb {
	case "get":
		if len(names) == 0 || (names[0] != "nodes" && names[0] != "node" && names[0] != "no") {
			break
		}
		return e.kubectlGetNodes(k, host, names[1:], first(vals, "-o", "--output"))
	case "cordon", "uncordon", "drain":
		if len(names) == 0 {
			return fail(1, "error: USAGE: %s NODE [flags]\nSee 'kubectl %s -h' for help and examples", verb, verb)
		}
		for _, name := range names {
			if !nodeNameRE.MatchString(name) || len(name) > 253 || name != host || k.Role == "controller" {
				return fail(1, "Error from server (NotFound): nodes %q not found", name)
			}
		}
		cordoned := map[string]bool{}
		for _, c := range k.Cordoned {
			cordoned[c] = true
		}
		var drainErrs []string
		for _, name := range names {
			switch {
			case verb == "uncordon" && !cordoned[name]:
				fmt.Fprintf(e.stdout, "node/%s already uncordoned\n", name)
			case verb == "uncordon":
				delete(cordoned, name)
				fmt.Fprintf(e.stdout, "node/%s uncordoned\n", name)
			case cordoned[name]:
				fmt.Fprintf(e.stdout, "node/%s already cordoned\n", name)
			default:
				cordoned[name] = true
				fmt.Fprintf(e.stdout, "node/%s cordoned\n", name)
			}
			if verb != "drain" {
				continue
			}
			// every k0s worker runs these DaemonSets; kubectl refuses to
			// drain past them unless told to ignore them
			ds := daemonSetPods(name)
			if !bools["--ignore-daemonsets"] && first(vals, "--ignore-daemonsets") != "true" {
				msg := "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): " + ds
				fmt.Fprintf(e.stderr, "error: unable to drain node %q due to error: %s, continuing command...\n", name, msg)
				drainErrs = append(drainErrs, name+"\x00"+msg)
				continue
			}
			fmt.Fprintln(e.stderr, "Warning: ignoring DaemonSet-managed Pods: "+ds)
			fmt.Fprintf(e.stdout, "node/%s drained\n", name)
		}
		k.Cordoned = k.Cordoned[:0]
		for c := range cordoned {
			k.Cordoned = append(k.Cordoned, c)
		}
		sort.Strings(k.Cordoned)
		if len(k.Cordoned) == 0 {
			k.Cordoned = nil
		}
		if err := e.saveJSON(fakestate.K0sFile, k); err != nil {
			return err
		}
		if len(drainErrs) > 0 {
			fmt.Fprintln(e.stderr, "There are pending nodes to be drained:")
			var msgs []string
			for _, d := range drainErrs {
				name, msg, _ := strings.Cut(d, "\x00")
				fmt.Fprintf(e.stderr, " %s\n", name)
				msgs = append(msgs, msg)
			}
			return fail(1, "%s", strings.Join(msgs, "\n"))
		}
		return nil
	}
	return unsupported("k0s", append([]string{"kubectl"}, args...))
}

// daemonSetPods names the DaemonSet pods k0s runs on node name, with
// pod-name suffixes fixed per node.
func daemonSetPods(name string) string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	var pods []string
	for _, ds := range []string{"konnectivity-agent", "kube-proxy", "kube-router"} {
		sum := sha256.Sum256([]byte(name + "/" + ds))
		suffix := make([]byte, 5)
		for i := range suffix {
			suffix[i] = alphabet[int(sum[i])%len(alphabet)]
		}
		pods = append(pods, "kube-system/"+ds+"-"+string(suffix))
	}
	return strings.Join(pods, ", ")
}

// kubectlGetNodes lists this node (when it runs workloads) and the
// cordoned nodes, the only ones the fake knows of.
func (e *env) kubectlGetNodes(k *fakestate.K0s, host string, names []string, output string) error {
	known := map[string]bool{}
	if k.Role != "controller" {
		known[host] = true
	}
	for _, c := range k.Cordoned {
		known[c] = true
	}
	var list []string
	if len(names) > 0 {
		for _, n := range names {
			if !known[n] {
				return fail(1, "Error from server (NotFound): nodes %q not found", n)
			}
			list = append(list, n)
		}
	} else {
		for n := range known {
			list = append(list, n)
		}
		sort.Strings(list)
	}
	if len(list) == 0 {
		fmt.Fprintln(e.stderr, "No resources found")
		return nil
	}
	cordoned := map[string]bool{}
	for _, c := range k.Cordoned {
		cordoned[c] = true
	}
	switch output {
	case "name":
		for _, n := range list {
			fmt.Fprintln(e.stdout, "node/"+n)
		}
		return nil
	case "", "wide":
	default:
		return unsupported("k0s", []string{"kubectl", "get", "nodes", "-o", output})
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATUS\tROLES\tAGE\tVERSION")
	for _, n := range list {
		status, roles := "Ready", "<none>"
		if cordoned[n] {
			status += ",SchedulingDisabled"
		}
		if n == host {
			roles = "control-plane"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", n, status, roles, "1m", kubeVersion())
	}
	return tw.Flush()
}

// readyJSONPath is the one jsonpath the fake answers: the status of a
// Node's Ready condition.
const readyJSONPath = `jsonpath={.status.conditions[?(@.type=="Ready")].status}`

// kubeletGetNode is kubectl get node NAME with a worker's kubelet
// credentials: its own Node only (the Node authorizer lets a kubelet read
// its own Node), Ready while k0s runs; -o json or the Ready jsonpath.
func (e *env) kubeletGetNode(host string, pos []string, output string) error {
	if len(pos) != 3 || pos[0] != "get" || (pos[1] != "node" && pos[1] != "nodes" && pos[1] != "no") {
		return unsupported("k0s", append([]string{"kubectl"}, pos...))
	}
	if pos[2] != host {
		return fail(1, "Error from server (Forbidden): nodes %q is forbidden: User \"system:node:%s\" cannot get resource \"nodes\" in API group \"\" at the cluster scope: node '%s' cannot read '%s', only its own Node object", pos[2], host, host, pos[2])
	}
	switch output {
	case "json":
		fmt.Fprintf(e.stdout, `{"apiVersion":"v1","kind":"Node","metadata":{"name":%q},"status":{"conditions":[{"type":"Ready","status":"True"}]}}`+"\n", host)
	case readyJSONPath:
		fmt.Fprint(e.stdout, "True")
	default:
		return unsupported("k0s", []string{"kubectl", "get", "node", host, "-o", output})
	}
	return nil
}
