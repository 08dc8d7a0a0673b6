package testbed

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	_ "embed"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

//go:embed inner.sh
var innerScript []byte

const (
	sshdPath = "/usr/sbin/sshd"
	// User is the unprivileged login every host has (NOPASSWD sudo).
	User = "mke"
)

// startTimeout bounds StartHost when ctx has no deadline.
const startTimeout = 30 * time.Second

// Available reports whether hosts can be started here: nil when running as
// root with unshare, nsenter, ip, sudo and sshd installed, otherwise an
// error that lists what is missing.
func Available() error {
	var missing []string
	if !supported {
		missing = append(missing, "Linux (namespaces)")
	}
	if os.Geteuid() != 0 {
		missing = append(missing, "root (euid is "+strconv.Itoa(os.Geteuid())+")")
	}
	for _, tool := range []string{"unshare", "nsenter", "ip", "chroot", "useradd"} {
		if _, err := exec.LookPath(tool); err != nil {
			if _, err2 := os.Stat("/usr/sbin/" + tool); err2 != nil {
				missing = append(missing, tool)
			}
		}
	}
	if _, err := os.Stat(sshdPath); err != nil {
		missing = append(missing, sshdPath+" (apt-get install openssh-server)")
	}
	if _, err := os.Stat("/usr/bin/sudo"); err != nil {
		missing = append(missing, "/usr/bin/sudo (apt-get install sudo)")
	}
	if len(missing) > 0 {
		return fmt.Errorf("testbed: not available: missing %s", strings.Join(missing, ", "))
	}
	return nil
}

// HostOptions describes one host to start.
type HostOptions struct {
	// Name is the host name; it also names the host's folder in the
	// workdir. Letters, digits and '-' only; it must be unique per workdir.
	Name string
	// OSRelease replaces /etc/os-release in the host; "" keeps the machine's.
	OSRelease string
	// Files are written into the host's / before sshd starts, keyed by
	// absolute path (for example "/usr/local/bin/docker").
	Files map[string][]byte
	// FileModes optionally gives the mode of an entry of Files
	// (default 0644; use 0755 for a fake command).
	FileModes map[string]fs.FileMode
	// Binds maps absolute folders of the machine to absolute paths in the
	// host, bind-mounted before sshd starts: hosts that share a folder see
	// each other's writes there (a realistic cluster's Swarm state).
	Binds map[string]string
	// Network is the network the host joins; nil gives the host a network
	// of its own, which Stop removes (it then reaches the machine only).
	Network *Network
}

// Host is a running throw-away SSH host.
type Host struct {
	Name string
	// Address is the host's address on its Network, where every other
	// host of that network and the machine reach it.
	Address string
	Port    int    // 22
	User    string // "mke"; root accepts the same key
	KeyPath string // ed25519 private key (OpenSSH format) accepted for mke and root
	// HostKeyLine is the known_hosts line for Address (its ed25519 host key).
	HostKeyLine string
	Workdir     string // the host's folder: keys, console.log

	// Gateway is the machine's address on the host's network
	// (Network.Gateway). It is not a router: the host has no default
	// route, and the machine forwards nothing it receives from the network.
	Gateway string
	// Interface is the machine's interface on the host's network
	// (Network.Interface, mkenN), shared by the hosts of that network.
	Interface string
	// Network is the network the host is on.
	Network *Network

	ownNet   bool // Network was made for this host alone; Stop closes it
	cmd      *exec.Cmd
	innerPID int           // PID 1 of the host's PID namespace (sshd), as the machine sees it
	done     chan struct{} // closed when cmd has been waited for
	stopOnce sync.Once
	stopErr  error
}

var nameRe = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$`)

// StartHost starts one host whose files live in workdir/hosts/<name>, on
// o.Network or on a network of its own. It returns when sshd accepts
// connections. Stop it with Stop; if the calling process dies, the kernel
// kills the host (Pdeathsig) and its network interface goes with its
// network namespace.
func StartHost(ctx context.Context, workdir string, o HostOptions) (*Host, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	if !nameRe.MatchString(o.Name) {
		return nil, fmt.Errorf("testbed: invalid host name %q (letters, digits, '-')", o.Name)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, startTimeout)
		defer cancel()
	}
	abs, err := filepath.Abs(workdir)
	if err != nil {
		return nil, fmt.Errorf("testbed: %w", err)
	}
	dir := filepath.Join(abs, "hosts", o.Name)
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("testbed: %s: %w", o.Name, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("testbed: %s: %w", o.Name, err)
	}
	h := &Host{Name: o.Name, Port: 22, User: User, Workdir: dir, done: make(chan struct{}), Network: o.Network}
	hostPub, err := h.prepare(o)
	if err != nil {
		return nil, fmt.Errorf("testbed: %s: %w", o.Name, err)
	}
	if h.Network == nil {
		if h.Network, err = NewNetwork(ctx); err != nil {
			return nil, fmt.Errorf("testbed: %s: %w", o.Name, err)
		}
		h.ownNet = true
	}
	h.Gateway, h.Interface = h.Network.Gateway, h.Network.Interface
	if err := h.start(ctx); err != nil {
		_ = h.Stop()
		return nil, fmt.Errorf("testbed: %s: %w", o.Name, err)
	}
	h.HostKeyLine = knownhosts.Line([]string{knownhosts.Normalize(net.JoinHostPort(h.Address, "22"))}, hostPub)
	return h, nil
}

// prepare writes keys, os-release, seed files and the inner script.
func (h *Host) prepare(o HostOptions) (ssh.PublicKey, error) {
	hostPub, err := writeKey(filepath.Join(h.Workdir, "ssh_host_ed25519_key"), h.Name)
	if err != nil {
		return nil, err
	}
	h.KeyPath = filepath.Join(h.Workdir, "id_ed25519")
	userPub, err := writeKey(h.KeyPath, "mke-testbed")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(h.Workdir, "authorized_keys"), ssh.MarshalAuthorizedKey(userPub), 0o600); err != nil {
		return nil, err
	}
	if o.OSRelease != "" {
		if err := os.WriteFile(filepath.Join(h.Workdir, "os-release"), []byte(o.OSRelease), 0o644); err != nil {
			return nil, err
		}
	}
	for p, data := range o.Files {
		if !filepath.IsAbs(p) {
			return nil, fmt.Errorf("seed file %q: path must be absolute", p)
		}
		clean := filepath.Clean(p)
		dst := filepath.Join(h.Workdir, "seed", clean)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return nil, err
		}
		mode := fs.FileMode(0o644)
		if m, ok := o.FileModes[p]; ok {
			mode = m
		}
		if err := os.WriteFile(dst, data, mode); err != nil {
			return nil, err
		}
		if err := os.Chmod(dst, mode); err != nil { // not subject to umask
			return nil, err
		}
	}
	var binds strings.Builder
	for src, dst := range o.Binds {
		if !filepath.IsAbs(src) || !filepath.IsAbs(dst) || strings.ContainsAny(src+dst, " \n") {
			return nil, fmt.Errorf("bind %q → %q: paths must be absolute, without blanks", src, dst)
		}
		fmt.Fprintf(&binds, "%s %s\n", src, filepath.Clean(dst))
	}
	if err := os.WriteFile(filepath.Join(h.Workdir, "binds"), []byte(binds.String()), 0o600); err != nil {
		return nil, err
	}
	return hostPub, os.WriteFile(filepath.Join(h.Workdir, "inner.sh"), innerScript, 0o755)
}

// writeKey generates an ed25519 key and writes it in OpenSSH format to path
// (and the public key to path.pub).
func writeKey(path, comment string) (ssh.PublicKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	block, err := ssh.MarshalPrivateKey(priv, comment)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, err
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, err
	}
	line := bytes.TrimSpace(ssh.MarshalAuthorizedKey(sshPub))
	return sshPub, os.WriteFile(path+".pub", append(append(line, ' '), comment+"\n"...), 0o644)
}

func (h *Host) start(ctx context.Context) error {
	console, err := os.Create(filepath.Join(h.Workdir, "console.log"))
	if err != nil {
		return err
	}
	defer console.Close()
	// unshare --fork ignores SIGTERM while it waits; --kill-child makes its
	// death (SIGKILL from Stop or from Pdeathsig) kill the namespace's PID 1
	// and with it every process of the host.
	cmd := exec.Command("unshare", "--mount", "--uts", "--ipc", "--net", "--pid", "--fork",
		"--kill-child", "--propagation", "private",
		"/bin/sh", filepath.Join(h.Workdir, "inner.sh"), h.Workdir, h.Name)
	cmd.Stdout, cmd.Stderr = console, console
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start unshare: %w", err)
	}
	h.cmd = cmd
	go func() { _ = cmd.Wait(); close(h.done) }()

	pid := cmd.Process.Pid
	if err := waitNetns(ctx, pid, h.done); err != nil {
		return err
	}
	// No default route on purpose: the host reaches its network only.
	if h.Address, err = h.Network.attach(ctx, pid); err != nil {
		return err
	}
	if err := h.waitSSH(ctx); err != nil {
		return err
	}
	children, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		return err
	}
	h.innerPID, _ = strconv.Atoi(strings.TrimSpace(string(children)))
	return nil
}

// waitSSH waits until sshd answers with its banner.
func (h *Host) waitSSH(ctx context.Context) error {
	addr := net.JoinHostPort(h.Address, "22")
	for {
		conn, err := (&net.Dialer{Timeout: 200 * time.Millisecond}).DialContext(ctx, "tcp", addr)
		if err == nil {
			_ = conn.SetDeadline(time.Now().Add(time.Second))
			line, rerr := bufio.NewReader(conn).ReadString('\n')
			_ = conn.Close()
			if rerr == nil && strings.HasPrefix(line, "SSH-") {
				return nil
			}
		}
		if err := h.pause(ctx, 10*time.Millisecond); err != nil {
			return fmt.Errorf("sshd on %s did not come up: %w%s", addr, err, h.console())
		}
	}
}

// pause sleeps d, failing early when ctx ends or the host process exited.
func (h *Host) pause(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-h.done:
		return errors.New("host process exited" + h.console())
	case <-time.After(d):
		return nil
	}
}

func (h *Host) console() string {
	b, _ := os.ReadFile(filepath.Join(h.Workdir, "console.log"))
	if len(bytes.TrimSpace(b)) == 0 {
		return ""
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return "; console.log: " + string(bytes.TrimSpace(b))
}

func run(ctx context.Context, name string, args ...string) error {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// StartHosts starts hosts in parallel. On error it stops the hosts that
// started and returns the errors joined.
func StartHosts(ctx context.Context, workdir string, opts []HostOptions) ([]*Host, error) {
	hs := make([]*Host, len(opts))
	errs := make([]error, len(opts))
	var wg sync.WaitGroup
	for i, o := range opts {
		wg.Go(func() { hs[i], errs[i] = StartHost(ctx, workdir, o) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, h := range hs {
			if h != nil {
				_ = h.Stop()
			}
		}
		return nil, err
	}
	return hs, nil
}

// Stop removes the host's veth pair and kills all its processes. It is
// idempotent and safe for concurrent use. The host's folder (keys, log)
// stays.
func (h *Host) Stop() error {
	h.stopOnce.Do(func() {
		var errs []error
		exited := false
		select {
		case <-h.done: // (Crash) its pid may be another process's by now
			exited = true
		default:
		}
		if h.Address != "" && h.cmd != nil && h.cmd.Process != nil && !exited {
			// The network first, so the host vanishes without a packet;
			// left to the kernel it would go 1-2 s after the namespace.
			out, err := exec.Command("nsenter", "-t", strconv.Itoa(h.cmd.Process.Pid), "-n",
				"ip", "link", "del", "eth0").CombinedOutput()
			if err != nil && !bytes.Contains(out, []byte("Cannot find device")) && running(h.cmd.Process.Pid) {
				errs = append(errs, fmt.Errorf("ip link del eth0: %w: %s", err, bytes.TrimSpace(out)))
			}
		}
		if h.cmd != nil && h.cmd.Process != nil {
			_ = h.cmd.Process.Kill()
			select {
			case <-h.done:
			case <-time.After(10 * time.Second):
				errs = append(errs, fmt.Errorf("unshare (pid %d) did not exit", h.cmd.Process.Pid))
			}
		}
		// The kernel kills the namespace's processes asynchronously after
		// unshare's death: wait until sshd is gone (or a zombie that the
		// machine's init has not reaped yet).
		if h.innerPID > 0 {
			deadline := time.Now().Add(10 * time.Second)
			for running(h.innerPID) {
				if time.Now().After(deadline) {
					errs = append(errs, fmt.Errorf("sshd (pid %d) did not exit", h.innerPID))
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
		if h.Network != nil && h.Address != "" {
			h.Network.release(h.Address)
		}
		if h.ownNet && h.Network != nil {
			errs = append(errs, h.Network.Close())
		}
		if err := errors.Join(errs...); err != nil {
			h.stopErr = fmt.Errorf("testbed: stop %s: %w", h.Name, err)
		}
	})
	return h.stopErr
}

// Crash kills all of the host's processes at once (SIGKILL), as an
// out-of-memory kill of sshd or a crashing host would, while its network
// is still up: the kernel closes the host's TCP connections, so clients see
// them end. Stop, by contrast, removes the network first: the host
// vanishes without a packet, as in a power loss or a network partition.
// Call Stop afterwards to clean up.
func (h *Host) Crash() error {
	if h.cmd == nil || h.cmd.Process == nil {
		return fmt.Errorf("testbed: crash %s: not started", h.Name)
	}
	_ = h.cmd.Process.Kill()
	select {
	case <-h.done:
	case <-time.After(10 * time.Second):
		return fmt.Errorf("testbed: crash %s: unshare (pid %d) did not exit", h.Name, h.cmd.Process.Pid)
	}
	return nil
}

// running reports whether pid exists and is not a zombie.
func running(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z' && s[i+2] != 'X'
	}
	return true
}

// KnownHostsFile appends h.HostKeyLine to the known_hosts file at path,
// creating it (0600) if needed.
func (h *Host) KnownHostsFile(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("testbed: %w", err)
	}
	if _, err := f.WriteString(h.HostKeyLine + "\n"); err != nil {
		_ = f.Close()
		return fmt.Errorf("testbed: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("testbed: %w", err)
	}
	return nil
}
