package upgrade

import (
	"context"
	"fmt"
	"net"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/internal/shell"
	"github.com/mke-migrate/mke-migrate/upgrade/preflight"
)

// Defaults of the k0s data directory (mkectl's -d/--data-dir: default
// /var/lib/k0s, and it must end in /k0s; MKE 4k documents putting it on
// MKE 3's Docker partition, e.g. /var/lib/docker/k0s).
const (
	DefaultDataDir = "/var/lib/k0s"
	// DefaultDataDirMinFree is the free space preflight wants under the
	// data directory's parent on every node: our default, overridable
	// (Options.DataDirMinFree); k0s itself documents no minimum for it.
	DefaultDataDirMinFree = 2 << 30
)

// dataDirRe keeps the data directory one shell word that needs no
// quoting anywhere it is written (argv, scripts, messages).
var dataDirRe = regexp.MustCompile(`^/[A-Za-z0-9._/-]*/k0s$`)

// DataDirError is a --data-dir that cannot be used.
type DataDirError struct{ Dir, Msg string }

func (e *DataDirError) Error() string {
	return fmt.Sprintf("upgrade: data directory %q: %s", e.Dir, e.Msg)
}

// CheckDataDir validates DataDir as New does (no I/O).
func (o *Options) CheckDataDir() error { return checkDataDir(o.DataDir) }

// checkDataDir validates Options.DataDir (no I/O).
func checkDataDir(d string) error {
	switch {
	case d == "":
		return nil
	case !strings.HasSuffix(d, "/k0s"):
		return &DataDirError{Dir: d, Msg: "must end in /k0s (as mkectl's --data-dir)"}
	case path.Clean(d) != d || !dataDirRe.MatchString(d) || d == "/k0s":
		return &DataDirError{Dir: d, Msg: "must be a clean absolute path of letters, digits, '.', '_', '-' and '/' under a folder, e.g. /var/lib/docker/k0s"}
	}
	return nil
}

func (o *Options) dataDir() string {
	if o.DataDir == "" {
		return DefaultDataDir
	}
	return o.DataDir
}

// dataDirFlag is " --data-dir=DIR" for the k0s commands that take it
// (install, reset, token, kubeconfig, kubectl: k0s's persistent flags),
// or "" for the default, which k0s uses by itself.
func (e *Env) dataDirFlag() string {
	d := e.Cluster.DataDir
	if d == "" || d == DefaultDataDir {
		return ""
	}
	return " --data-dir=" + d
}

// withKubectlDataDir gives "k0s kubectl" commands (the worker's
// NodeReady check) the data directory.
func (e *Env) withKubectlDataDir(cmd string) string {
	if f := e.dataDirFlag(); f != "" {
		return strings.ReplaceAll(cmd, "k0s kubectl ", "k0s kubectl"+f+" ")
	}
	return cmd
}

// nodeInstallArgs are the k0s install flags of one node: the data
// directory, and the kubelet's node IP from hosts.yaml's privateAddress
// or the address of its privateInterface. k0sctl does the same for any
// role ending in "worker" (controller+worker here):
// --kubelet-extra-args=--node-ip=<privateAddress> (k0sctl
// pkg/apis/k0sctl.k0sproject.io/v1beta1/cluster/host.go, K0sInstallFlags),
// which mkectl's docs describe as "sets kubelet's --node-ip".
func (e *Env) nodeInstallArgs(host string) []string {
	var args []string
	if f := e.dataDirFlag(); f != "" {
		args = append(args, strings.TrimSpace(f))
	}
	if ip := e.Cluster.NodeIPs[host]; ip != "" {
		args = append(args, "--kubelet-extra-args=--node-ip="+ip)
	}
	return args
}

// nodeCheckScript checks a node before anything changes: the data
// directory's parent exists, a k0s folder can be made in it (made and
// removed at once unless it exists), the free space there, and the IPv4
// address of iface ("" for none). It prints key=value lines.
func nodeCheckScript(dataDir, iface string) string {
	d, p := shell.Quote(dataDir), shell.Quote(path.Dir(dataDir))
	var b strings.Builder
	fmt.Fprintf(&b, "if [ ! -d %s ]; then echo parent=missing; else echo parent=ok; ", p)
	fmt.Fprintf(&b, "if [ -e %s ]; then if [ -d %s ] && [ -w %s ]; then echo dir=exists; else echo dir=unusable; fi; ", d, d, d)
	fmt.Fprintf(&b, "elif mkdir %s 2>/dev/null && rmdir %s; then echo dir=creatable; else echo dir=unwritable; fi; ", d, d)
	fmt.Fprintf(&b, "echo freekb=$(df -Pk %s | awk 'NR==2{print $4}'); fi", p)
	if iface != "" {
		// ip(8)'s one-line form: "2: eth0    inet 10.0.0.5/24 brd ..."
		fmt.Fprintf(&b, "; echo ip=$(ip -o -4 addr show dev %s 2>/dev/null | awk 'NR==1{split($4,a,\"/\"); print a[1]}')", shell.Quote(iface))
	}
	return b.String() + "; " + deliveryToolsProbe
}

// checkNodes runs nodeCheckScript on every host: what blocks is returned
// as preflight blockers, the privateInterface addresses are saved in
// sh.NodeIPs (privateAddress ones as they are).
func (u *Upgrade) checkNodes(ctx context.Context, sh *Shared) []preflight.Result {
	o := &u.o
	dir := o.dataDir()
	min := o.DataDirMinFree
	if min == 0 {
		min = DefaultDataDirMinFree
	}
	sh.DataDir = o.DataDir
	var out []preflight.Result
	block := func(host, id, msg, remedy string) {
		out = append(out, preflight.Result{ID: id, Severity: preflight.Blocker, Host: host, Message: msg, Remedy: remedy})
	}
	for _, h := range o.Hosts {
		key := hostKey(h)
		if h.PrivateAddress != "" {
			if sh.NodeIPs == nil {
				sh.NodeIPs = map[string]string{}
			}
			sh.NodeIPs[key] = h.PrivateAddress
		}
		if _, ok := sh.Facts[key]; !ok {
			continue // unreachable: the facts' checks said so already
		}
		n, err := u.clients.Node(ctx, key)
		if err != nil {
			block(key, "data-dir", "not checked: "+err.Error(), "make the host reachable")
			continue
		}
		res, err := n.Exec(ctx, shell.Sudo(nodeCheckScript(dir, h.PrivateInterface)), hosts.WithSudo())
		if err != nil {
			block(key, "data-dir", "not checked: "+err.Error(), "check sudo and the shell on the host")
			continue
		}
		kv := map[string]string{}
		for _, l := range strings.Split(res, "\n") {
			if k, v, ok := strings.Cut(strings.TrimSpace(l), "="); ok {
				kv[k] = v
			}
		}
		if sh.DeliveryTools == nil {
			sh.DeliveryTools = map[string]string{}
		}
		sh.DeliveryTools[key] = kv["tools"]
		out = append(out, deliveryChecks(o.Delivery.Mode, key, kv["tools"])...)
		switch {
		case kv["parent"] != "ok":
			block(key, "data-dir", fmt.Sprintf("%s does not exist, so k0s's data directory %s cannot be made", path.Dir(dir), dir),
				"create the folder or choose another --data-dir")
		case kv["dir"] == "unwritable" || kv["dir"] == "unusable":
			block(key, "data-dir", fmt.Sprintf("cannot make or write the k0s data directory %s", dir), "fix the folder's permissions or choose another --data-dir")
		default:
			if kb, err := strconv.ParseUint(kv["freekb"], 10, 64); err != nil {
				block(key, "data-dir-space", fmt.Sprintf("free space under %s unknown (%q)", path.Dir(dir), kv["freekb"]), "check df on the host")
			} else if free := kb * 1024; free < uint64(min) {
				block(key, "data-dir-space", fmt.Sprintf("%d MiB free under %s, the k0s data directory needs %d MiB", free>>20, path.Dir(dir), uint64(min)>>20),
					"free space there or choose a --data-dir on a larger partition (MKE 4k documents one under /var/lib/docker)")
			}
		}
		if h.PrivateInterface != "" {
			ip := net.ParseIP(kv["ip"])
			if ip == nil || ip.To4() == nil {
				block(key, "private-interface", fmt.Sprintf("privateInterface %s has no IPv4 address on the host", h.PrivateInterface),
					"fix hosts.yaml (line "+strconv.Itoa(h.Line)+"): name an interface with an address, or give privateAddress")
				continue
			}
			if sh.NodeIPs == nil {
				sh.NodeIPs = map[string]string{}
			}
			sh.NodeIPs[key] = ip.String()
		}
	}
	return out
}
