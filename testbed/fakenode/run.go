package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/mke-migrate/mke-migrate/testbed/internal/fakestate"
)

// runFlags are the parsed docker run flags the fake looks at.
type runFlags struct {
	rm, interactive  bool
	name, network    string
	logDriver, entry string
	volumes          []string // -v/--volume values
	raw              []string // the flags as given
	image            string
	cmd              []string
}

// runValued are the docker run flags that take a value (docker CLI
// reference "container run"); any other flag is boolean.
var runValued = map[string]bool{"--name": true, "--network": true, "--net": true, "--log-driver": true, "--log-opt": true,
	"--entrypoint": true, "-v": true, "--volume": true, "--mount": true, "-e": true, "--env": true, "-w": true,
	"--workdir": true, "-u": true, "--user": true, "--pid": true, "--ipc": true, "--restart": true, "-l": true,
	"--label": true, "-p": true, "--publish": true, "--hostname": true, "-h": true, "--cap-add": true, "--cap-drop": true,
	"--security-opt": true, "--ulimit": true, "--memory": true, "-m": true, "--platform": true, "--pull": true}

func parseRun(args []string) (runFlags, error) {
	var f runFlags
	i := 0
	for ; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			break
		}
		k, v, hasV := strings.Cut(a, "=")
		if !hasV && runValued[k] {
			if i+1 >= len(args) {
				return f, fail(125, "flag needs an argument: %s", k)
			}
			v = args[i+1]
			f.raw = append(f.raw, a, v)
			i++
		} else {
			f.raw = append(f.raw, a)
		}
		switch k {
		case "--rm":
			f.rm = true
		case "-i", "--interactive", "-it", "-ti":
			f.interactive = true
		case "--name":
			f.name = v
		case "--network", "--net":
			f.network = v
		case "--log-driver":
			f.logDriver = v
		case "--entrypoint":
			f.entry = v
		case "-v", "--volume":
			f.volumes = append(f.volumes, v)
		}
	}
	if i >= len(args) {
		return f, fail(125, "\"docker run\" requires at least 1 argument.")
	}
	f.image, f.cmd = args[i], args[i+1:]
	return f, nil
}

// hasImage reports whether the node has image (a tag defaults to latest).
func hasImage(n *fakestate.Node, image string) bool {
	repo, tag, ok := strings.Cut(image, ":")
	if !ok || strings.Contains(tag, "/") {
		repo, tag = image, "latest"
	}
	for _, im := range n.Images {
		if im.Repository == repo && im.Tag == tag {
			return true
		}
	}
	return false
}

// pullFails is docker run's failure for an image that is not on the node
// when the registry cannot be reached, as on an air-gapped node (the
// test bed's hosts have no route out and no DNS): the CLI prints "Unable
// to find image 'X' locally", tries to pull, and exits 125 with the
// daemon's error (docker CLI cli/command/container/create.go,
// pullAndTagImage; exit 125 for a daemon error, "container run" reference).
func pullFails(e *env, image string) error {
	fmt.Fprintf(e.stderr, "Unable to find image '%s' locally\n", image)
	repo, _, _ := strings.Cut(image, ":")
	registry := "registry-1.docker.io"
	if first, _, ok := strings.Cut(repo, "/"); ok && strings.ContainsAny(first, ".:") {
		registry = first
	}
	return fail(125, "docker: Error response from daemon: Get \"https://%s/v2/\": dial tcp: lookup %s: no such host.", registry, registry)
}

// runMounts resolves -v values: a name is a volume (made when missing,
// as docker run does), an absolute path a bind mount; ":ro" makes it
// read-only.
func runMounts(n *fakestate.Node, vols []string) ([]fakestate.Mount, bool, error) {
	var ms []fakestate.Mount
	changed := false
	for _, v := range vols {
		parts := strings.Split(v, ":")
		if len(parts) < 2 || len(parts) > 3 || parts[1] == "" || !strings.HasPrefix(parts[1], "/") {
			return nil, false, fail(125, "docker: Error response from daemon: invalid volume specification: '%s'.", v)
		}
		m := fakestate.Mount{Source: parts[0], Destination: parts[1], RW: true}
		if len(parts) == 3 {
			switch parts[2] {
			case "ro":
				m.RW = false
			case "rw", "z", "Z":
			default:
				return nil, false, fail(125, "docker: Error response from daemon: invalid mode: %s.", parts[2])
			}
		}
		if strings.HasPrefix(parts[0], "/") {
			m.Type = "bind"
			// -v makes a missing host folder (unlike --mount)
			if _, err := os.Stat(m.Source); errors.Is(err, os.ErrNotExist) {
				if err := os.MkdirAll(m.Source, 0o755); err != nil {
					return nil, false, err
				}
			}
		} else {
			m.Type, m.Name, m.Source = "volume", parts[0], volumePath(parts[0])
			if indexOf(n.Volumes, m.Name) < 0 {
				n.Volumes = append(n.Volumes, m.Name)
				changed = true
			}
			if err := os.MkdirAll(m.Source, 0o755); err != nil {
				return nil, false, err
			}
		}
		ms = append(ms, m)
	}
	return ms, changed, nil
}

// runEntrypoint runs docker run --entrypoint BIN for BIN etcdctl or etcdutl
// (the tools of the ucp-etcd image): the real binary from the node's test
// binaries, in a private mount namespace with the -v mounts bound, and
// without --network host in a network namespace of its own (a container
// on another network cannot reach the host's 127.0.0.1).
func (e *env) runEntrypoint(n *fakestate.Node, f runFlags) error {
	bin := filepath.Base(f.entry)
	if bin != "etcdctl" && bin != "etcdutl" {
		return unsupported("docker", append([]string{"run"}, append(f.raw, append([]string{f.image}, f.cmd...)...)...))
	}
	path := filepath.Join(n.Real.Testbin, bin)
	if _, err := os.Stat(path); err != nil {
		return fail(127, "docker: Error response from daemon: failed to create task for container: fakenode: %s is not among the test binaries (%s): build it with hack/testbin", bin, n.Real.Testbin)
	}
	mounts, changed, err := runMounts(n, f.volumes)
	if err != nil {
		return err
	}
	if changed {
		if err := e.saveJSON(fakestate.NodeFile, n); err != nil {
			return err
		}
	}
	created, err := mountpoints(mounts)
	defer removeCreated(created)
	if err != nil {
		return fail(125, "docker: Error response from daemon: %v.", err)
	}
	cmd, err := initCmd(mounts, append([]string{path}, f.cmd...))
	if err != nil {
		return err
	}
	if f.network != "host" {
		cmd.SysProcAttr.Unshareflags |= syscall.CLONE_NEWNET
	}
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.MultiWriter(e.stdout, &jsonLog{w: &log, stream: "stdout"}), io.MultiWriter(e.stderr, &jsonLog{w: &log, stream: "stderr"})
	if f.interactive {
		cmd.Stdin = e.stdin
	}
	err = cmd.Run()
	if lerr := e.keepLog(f, &log); lerr != nil {
		return lerr
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return fail(ee.ExitCode(), "")
	}
	return err
}

// jsonLog writes what a container prints as docker's json-file driver
// does: one JSON object per line ({"log","stream","time"}).
type jsonLog struct {
	w      io.Writer
	stream string
}

func (j *jsonLog) Write(p []byte) (int, error) {
	b, _ := json.Marshal(struct {
		Log    string `json:"log"`
		Stream string `json:"stream"`
		Time   string `json:"time"`
	}{string(p), j.stream, now().UTC().Format(time.RFC3339Nano)})
	if _, err := j.w.Write(append(b, '\n')); err != nil {
		return 0, err
	}
	return len(p), nil
}

// keepLog keeps a docker run's output under LogsDir unless it ran with
// --log-driver none. The MKE 3 docs run the bootstrapper with
// --log-driver none because otherwise the output (a backup archive) also
// lands in the container's log; the daemon's log driver may ship it off
// the node before --rm removes the container, so the fake keeps it for
// good, where the node's digest sees it.
func (e *env) keepLog(f runFlags, log *bytes.Buffer) error {
	if f.logDriver == "none" || log.Len() == 0 {
		return nil
	}
	dir := e.path(fakestate.LogsDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	name := f.name
	if name == "" {
		name = "run"
	}
	lf, err := os.OpenFile(filepath.Join(dir, name+"-json.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := lf.Write(log.Bytes()); err != nil {
		_ = lf.Close()
		return err
	}
	return lf.Close()
}
