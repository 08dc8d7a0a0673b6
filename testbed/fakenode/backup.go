package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/mke-migrate/mke-migrate/testbed/internal/fakestate"
)

// runOptions are the docker run flags the MKE bootstrapper commands look at.
type runOptions struct {
	interactive bool
	binds       [][2]string // host path, container path
}

func parseRunOptions(flagArgs []string) runOptions {
	var o runOptions
	for i := 0; i < len(flagArgs); i++ {
		a := flagArgs[i]
		k, v, hasV := strings.Cut(a, "=")
		if !hasV && !runBoolFlag(a) && i+1 < len(flagArgs) {
			v = flagArgs[i+1]
			i++
		}
		switch k {
		case "-i", "--interactive", "-it", "-ti":
			o.interactive = true
		case "-v", "--volume":
			parts := strings.Split(v, ":")
			if len(parts) >= 2 && strings.HasPrefix(parts[0], "/") {
				o.binds = append(o.binds, [2]string{parts[0], parts[1]})
			}
		case "--mount":
			var src, dst string
			bind := false
			for _, kv := range strings.Split(v, ",") {
				mk, mv, _ := strings.Cut(kv, "=")
				switch mk {
				case "type":
					bind = mv == "bind"
				case "src", "source":
					src = mv
				case "dst", "destination", "target":
					dst = mv
				}
			}
			if bind && src != "" && dst != "" {
				o.binds = append(o.binds, [2]string{src, dst})
			}
		}
	}
	return o
}

// hostPath maps a path inside the container to the host through the bind
// mounts; ok is false when no mount covers it.
func (o runOptions) hostPath(p string) (string, bool) {
	for _, b := range o.binds {
		rel := strings.TrimPrefix(p, b[1])
		if rel == "" || (rel != p && strings.HasPrefix(rel, "/")) {
			return b[0] + rel, true
		}
	}
	return "", false
}

// ucpLog prints an MKE bootstrapper log line (logrus text format) to w.
func ucpLog(w interface{ Write([]byte) (int, error) }, level, msg string) {
	fmt.Fprintf(w, "time=%q level=%s msg=%q\n", now().UTC().Format(time.RFC3339), level, msg)
}

// backupFlags are the options of mirantis/ucp backup in the MKE 3.7-3.9
// CLI reference ("backup": --debug/-D, --file, --jsonlog, --id,
// --include-logs, --interactive/-i, --no-passphrase, --passphrase); the
// fake refuses any other, as the bootstrapper's flag parser would.
var backupFlags = []string{"--debug", "-D", "--file", "--jsonlog", "--id", "--include-logs", "--interactive", "-i", "--no-passphrase", "--passphrase"}

// ucpBackup is "docker run … mirantis/ucp:VER backup": it writes a tar
// archive of the node's MKE state to stdout (or to --file through a bind
// mount, without -i) and its log to stderr. It changes nothing on the
// node. The reference says to encrypt with --passphrase or opt out with
// --no-passphrase; where it does not say what the bootstrapper does with
// neither, both, or a short passphrase, the fake is strict: exactly one of
// them, and a passphrase of at least 12 characters (its examples use
// "secret12chars"; mkectl's backup wants 12 bytes). A passphrase is
// accepted but the archive is not encrypted.
func (e *env) ucpBackup(n *fakestate.Node, runFlags []string, image string, args []string) error {
	ro := parseRunOptions(runFlags)
	vals, bools, pos := flags(args, "--id", "--passphrase", "--file")
	fatal := func(msg string) error {
		ucpLog(e.stderr, "fatal", msg)
		return fail(1, "")
	}
	for f := range vals {
		if !slices.Contains(backupFlags, f) {
			return fatal("flag provided but not defined: " + f)
		}
	}
	for f := range bools {
		if !slices.Contains(backupFlags, f) {
			return fatal("flag provided but not defined: " + f)
		}
	}
	if len(pos) > 0 {
		return fatal(fmt.Sprintf("unexpected argument %q", pos[0]))
	}
	_, hasPass := vals["--passphrase"]
	switch {
	case hasPass && bools["--no-passphrase"]:
		return fatal("--passphrase and --no-passphrase are mutually exclusive")
	case !hasPass && !bools["--no-passphrase"]:
		return fatal("a passphrase is required to encrypt the backup: use --passphrase, or --no-passphrase to opt out")
	case hasPass && len(first(vals, "--passphrase")) < 12:
		return fatal("the passphrase must be at least 12 characters long")
	}
	if n.Swarm.LocalNodeState != "active" || !n.Swarm.ControlAvailable {
		return fatal("this command must be run on a manager node")
	}
	id := first(vals, "--id")
	if id == "" {
		return fatal("an MKE instance ID is required to back up a non-interactive session: use --id")
	}
	if id != n.Swarm.ClusterID {
		return fatal(fmt.Sprintf("the MKE instance ID %q does not match this cluster's ID %q", id, n.Swarm.ClusterID))
	}
	if i := findContainer(n, "ucp-kv"); i < 0 || !n.Containers[i].Running {
		return fatal("unable to take an etcd snapshot: the ucp-kv container is not running")
	}
	_, version, _ := strings.Cut(image, ":")
	ucpLog(e.stderr, "info", "Your MKE version is "+version)
	ucpLog(e.stderr, "info", "Beginning backup of MKE manager node "+n.Hostname)
	archive, err := backupArchive(n, version)
	if err != nil {
		return err
	}
	out := e.stdout
	if f := first(vals, "--file"); f != "" && !ro.interactive {
		if !path.IsAbs(f) {
			f = path.Join("/backup", f)
		}
		out = nil
		// without a bind mount the file stays in the removed container
		if hp, ok := ro.hostPath(f); ok {
			if err := fakestate.WriteFile(hp, archive); err != nil {
				return fatal(fmt.Sprintf("unable to write the backup: %v", err))
			}
		}
	}
	if out != nil {
		if _, err := out.Write(archive); err != nil {
			return err
		}
	}
	ucpLog(e.stderr, "info", "Backup completed successfully")
	return nil
}

// backupArchive is the tar of a backup: a JSON summary of the node and
// the Swarm, a fake etcd snapshot and one folder per MKE volume. It is the
// same for the same node state.
func backupArchive(n *fakestate.Node, version string) ([]byte, error) {
	type summary struct {
		MKEVersion string                `json:"mkeVersion"`
		ClusterID  string                `json:"clusterID"`
		Hostname   string                `json:"hostname"`
		NodeID     string                `json:"nodeID"`
		Nodes      []fakestate.SwarmNode `json:"nodes"`
		Containers []string              `json:"containers"`
		Volumes    []string              `json:"volumes"`
	}
	s := summary{MKEVersion: version, ClusterID: n.Swarm.ClusterID, Hostname: n.Hostname, NodeID: n.Swarm.NodeID,
		Nodes: n.Nodes, Volumes: n.Volumes}
	for _, c := range n.Containers {
		if strings.HasPrefix(c.Name, "ucp-") {
			s.Containers = append(s.Containers, c.Name+" "+c.Image)
		}
	}
	meta, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(meta)
	snapshot := append([]byte("fake etcd snapshot\n"), fmt.Sprintf("%x\n", sum)...)
	mtime := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	add := func(name string, data []byte) error {
		h := &tar.Header{Name: name, Mode: 0o600, Size: int64(len(data)), ModTime: mtime, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if strings.HasSuffix(name, "/") {
			h.Mode, h.Size, h.Typeflag = 0o755, 0, tar.TypeDir
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	if err := add("backup.json", append(meta, '\n')); err != nil {
		return nil, err
	}
	for _, v := range n.Volumes {
		if err := add(v+"/", nil); err != nil {
			return nil, err
		}
		if v == "ucp-kv" {
			if err := add(v+"/snapshot.db", snapshot); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
