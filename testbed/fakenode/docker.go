package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/tabwriter"
	"text/template"

	"github.com/mke-migrate/mke-migrate/testbed/internal/fakestate"
)

const dockerAPIVersion = "1.44"

// flags splits docker-style arguments: valued flags (--format X,
// --format=X, -f X) into vals, boolean flags into bools, the rest into
// positional. valued lists the flags that take a value.
func flags(args []string, valued ...string) (vals map[string][]string, bools map[string]bool, pos []string) {
	vals, bools = map[string][]string{}, map[string]bool{}
	isValued := map[string]bool{}
	for _, v := range valued {
		isValued[v] = true
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") || a == "-" {
			pos = append(pos, a)
			continue
		}
		if k, v, ok := strings.Cut(a, "="); ok {
			vals[k] = append(vals[k], v)
			continue
		}
		if isValued[a] && i+1 < len(args) {
			vals[a] = append(vals[a], args[i+1])
			i++
			continue
		}
		bools[a] = true
	}
	return vals, bools, pos
}

func first(m map[string][]string, keys ...string) string {
	for _, k := range keys {
		if v := m[k]; len(v) > 0 {
			return v[len(v)-1]
		}
	}
	return ""
}

// tmplFuncs are the template functions of docker --format.
func tmplFuncs() template.FuncMap {
	return template.FuncMap{
		"json": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
		"join":  strings.Join,
		"upper": strings.ToUpper,
		"lower": strings.ToLower,
	}
}

// render executes a docker --format template for v, with a newline like
// the docker CLI.
func (e *env) render(format string, v any) error {
	t, err := template.New("").Funcs(tmplFuncs()).Option("missingkey=error").Parse(format)
	if err != nil {
		return fail(1, "template parsing error: %v", err)
	}
	var b strings.Builder
	if err := t.Execute(&b, v); err != nil {
		return fail(1, "%v", err)
	}
	fmt.Fprintln(e.stdout, b.String())
	return nil
}

func (e *env) docker(args []string) error {
	_, _, pos := flags(args, "-H", "--host", "--context", "-c", "--config", "-l", "--log-level")
	if len(pos) == 0 {
		return unsupported("docker", args)
	}
	// global flags precede the command; find where it starts in args
	idx := indexOf(args, pos[0])
	sub, rest := pos[0], args[idx+1:]
	if os.Geteuid() != 0 && os.Getenv("FAKENODE_DIR") == "" {
		return fail(1, "permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: Get \"http://%%2Fvar%%2Frun%%2Fdocker.sock/v1.44/%s\": dial unix /var/run/docker.sock: connect: permission denied", sub)
	}
	n, err := e.node()
	if err != nil {
		return err
	}
	units, err := e.units()
	if err != nil {
		return err
	}
	if u := units["docker.service"]; u == nil || !u.Active {
		return fail(1, "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?")
	}
	if n.Real != nil {
		if err := e.reconcile(n); err != nil {
			return err
		}
	}
	switch sub {
	case "version":
		return e.dockerVersion(n, rest)
	case "info":
		return e.dockerInfo(n, rest)
	case "inspect":
		return e.dockerInspect(n, rest)
	case "ps":
		return e.dockerPs(n, rest)
	case "container":
		if len(rest) > 0 {
			switch rest[0] {
			case "ls", "list", "ps":
				return e.dockerPs(n, rest[1:])
			case "inspect":
				return e.dockerInspect(n, rest[1:])
			case "rm":
				return e.dockerRm(n, rest[1:])
			case "run":
				return e.dockerRun(n, rest[1:])
			case "stop", "start", "restart":
				return e.dockerStopStart(n, rest[0], rest[1:])
			}
		}
	case "stop", "start", "restart":
		return e.dockerStopStart(n, sub, rest)
	case "rm":
		return e.dockerRm(n, rest)
	case "run":
		return e.dockerRun(n, rest)
	case "node":
		if len(rest) > 0 && (rest[0] == "ls" || rest[0] == "list") {
			return e.dockerNodeLs(n, rest[1:])
		}
		if len(rest) > 0 && rest[0] == "update" {
			return e.dockerNodeUpdate(n, rest[1:])
		}
	case "service":
		if len(rest) > 0 && (rest[0] == "rm" || rest[0] == "remove") && n.Real != nil {
			return e.dockerServiceRm(n, rest[1:])
		}
	case "swarm":
		if len(rest) > 0 && rest[0] == "leave" {
			return e.dockerSwarmLeave(n, rest[1:])
		}
	case "volume":
		if len(rest) > 0 && (rest[0] == "rm" || rest[0] == "remove") {
			return e.dockerVolumeRm(n, rest[1:])
		}
		if len(rest) > 0 && (rest[0] == "ls" || rest[0] == "list") {
			_, b, _ := flags(rest[1:])
			if !b["-q"] && !b["--quiet"] {
				fmt.Fprintln(e.stdout, "DRIVER    VOLUME NAME")
			}
			for _, v := range n.Volumes {
				if b["-q"] || b["--quiet"] {
					fmt.Fprintln(e.stdout, v)
				} else {
					fmt.Fprintf(e.stdout, "local     %s\n", v)
				}
			}
			return nil
		}
	case "image", "images":
		r := rest
		if sub == "image" {
			if len(rest) == 0 || (rest[0] != "ls" && rest[0] != "list") {
				break
			}
			r = rest[1:]
		}
		return e.dockerImages(n, r)
	}
	return unsupported("docker", args)
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

type versionInfo struct {
	Client struct {
		Version    string
		APIVersion string `json:"ApiVersion"`
		Os, Arch   string
	}
	Server struct {
		Version       string
		APIVersion    string `json:"ApiVersion"`
		MinAPIVersion string `json:"MinAPIVersion"`
		Os, Arch      string
	}
}

func (e *env) dockerVersion(n *fakestate.Node, args []string) error {
	vals, _, _ := flags(args, "--format", "-f")
	var v versionInfo
	v.Client.Version, v.Client.APIVersion, v.Client.Os, v.Client.Arch = n.MCRVersion, dockerAPIVersion, "linux", "amd64"
	v.Server.Version, v.Server.APIVersion, v.Server.MinAPIVersion, v.Server.Os, v.Server.Arch = n.MCRVersion, dockerAPIVersion, "1.24", "linux", "amd64"
	if f := first(vals, "--format", "-f"); f != "" {
		return e.render(f, v)
	}
	fmt.Fprintf(e.stdout, "Client: Mirantis Container Runtime\n Version:           %s\n API version:       %s\n OS/Arch:           linux/amd64\n\nServer: Mirantis Container Runtime\n Engine:\n  Version:          %s\n  API version:      %s (minimum version 1.24)\n  OS/Arch:          linux/amd64\n",
		n.MCRVersion, dockerAPIVersion, n.MCRVersion, dockerAPIVersion)
	return nil
}

// Docker's JSON shapes (field names as in the Engine API).
type (
	swarmInfo struct {
		NodeID           string
		NodeAddr         string
		LocalNodeState   string
		ControlAvailable bool
		Error            string
		RemoteManagers   []peer
		Nodes            int          `json:",omitempty"`
		Managers         int          `json:",omitempty"`
		Cluster          *clusterInfo `json:",omitempty"`
	}
	peer struct {
		NodeID string
		Addr   string
	}
	clusterInfo struct {
		ID              string
		Version         struct{ Index uint64 }
		CreatedAt       string
		UpdatedAt       string
		Spec            struct{ Name string }
		DefaultAddrPool []string
		SubnetSize      uint32
		DataPathPort    uint32
	}
	dockerInfo struct {
		ID              string
		Containers      int
		Images          int
		Name            string
		ServerVersion   string
		OperatingSystem string
		Swarm           swarmInfo
	}
)

func (e *env) dockerInfo(n *fakestate.Node, args []string) error {
	vals, _, _ := flags(args, "--format", "-f")
	s := n.Swarm
	si := swarmInfo{NodeID: s.NodeID, NodeAddr: s.NodeAddr, LocalNodeState: s.LocalNodeState, ControlAvailable: s.ControlAvailable}
	if s.LocalNodeState == "active" {
		for _, m := range s.RemoteManagers {
			si.RemoteManagers = append(si.RemoteManagers, peer{NodeID: m.NodeID, Addr: m.Addr})
		}
		if s.ControlAvailable {
			si.Nodes, si.Managers = s.Nodes, s.Managers
			c := &clusterInfo{ID: s.ClusterID, CreatedAt: "2024-01-01T00:00:00.000000000Z", UpdatedAt: "2024-01-01T00:00:00.000000000Z",
				DefaultAddrPool: []string{"10.0.0.0/8"}, SubnetSize: 24, DataPathPort: 4789}
			c.Version.Index = 1
			c.Spec.Name = "default"
			si.Cluster = c
		}
	}
	info := dockerInfo{ID: "fake-engine-" + n.Hostname, Containers: len(n.Containers), Images: len(n.Images), Name: n.Hostname,
		ServerVersion: n.MCRVersion, OperatingSystem: "Debian GNU/Linux 12 (bookworm)", Swarm: si}
	if f := first(vals, "--format", "-f"); f != "" {
		return e.render(f, info)
	}
	fmt.Fprintf(e.stdout, "Server:\n Containers: %d\n Images: %d\n Server Version: %s\n Swarm: %s\n  NodeID: %s\n  Is Manager: %t\n Name: %s\n",
		info.Containers, info.Images, n.MCRVersion, s.LocalNodeState, s.NodeID, s.ControlAvailable, n.Hostname)
	return nil
}

type (
	containerJSON struct {
		ID     string `json:"Id"`
		Name   string
		Image  string
		Path   string
		Args   []string
		Config struct {
			Image  string
			Labels map[string]string
		}
		State struct {
			Status  string
			Running bool
			Pid     int
		}
		Mounts []mountJSON
	}
	// mountJSON is types.MountPoint of the Engine API.
	mountJSON struct {
		Type        string
		Name        string `json:",omitempty"`
		Source      string
		Destination string
		Driver      string `json:",omitempty"`
		Mode        string
		RW          bool
		Propagation string
	}
)

func toContainerJSON(c fakestate.Container, procs fakestate.Procs) containerJSON {
	var j containerJSON
	j.ID, j.Name, j.Image = c.ID, "/"+c.Name, "sha256:"+c.ID
	j.Path, j.Args = c.Path, c.Args
	if j.Args == nil {
		j.Args = []string{}
	}
	j.Mounts = []mountJSON{}
	for _, m := range c.Mounts {
		mj := mountJSON{Type: m.Type, Name: m.Name, Source: m.Source, Destination: m.Destination, RW: m.RW}
		if m.Type == "volume" {
			mj.Driver, mj.Mode = "local", "z"
		} else {
			mj.Propagation = "rprivate"
		}
		if !m.RW {
			mj.Mode = "ro"
		}
		j.Mounts = append(j.Mounts, mj)
	}
	if p, ok := procs[c.ID]; ok && c.Running && alive(p) {
		j.State.Pid = p.PID
	}
	j.Config.Image, j.Config.Labels = c.Image, c.Labels
	if j.Config.Labels == nil {
		j.Config.Labels = map[string]string{}
	}
	j.State.Running = c.Running
	j.State.Status = "exited"
	if c.Running {
		j.State.Status = "running"
	}
	return j
}

func findContainer(n *fakestate.Node, ref string) int {
	for i, c := range n.Containers {
		if c.Name == ref || c.Name == strings.TrimPrefix(ref, "/") || (len(ref) >= 4 && strings.HasPrefix(c.ID, ref)) {
			return i
		}
	}
	return -1
}

func (e *env) dockerInspect(n *fakestate.Node, args []string) error {
	vals, _, pos := flags(args, "--format", "-f", "--type")
	if len(pos) == 0 {
		return fail(1, "\"docker inspect\" requires at least 1 argument.")
	}
	format := first(vals, "--format", "-f")
	procs, err := e.procs()
	if err != nil {
		return err
	}
	var found []containerJSON
	var missing []string
	for _, ref := range pos {
		i := findContainer(n, ref)
		if i < 0 {
			missing = append(missing, ref)
			continue
		}
		j := toContainerJSON(n.Containers[i], procs)
		found = append(found, j)
		if format != "" {
			if err := e.render(format, j); err != nil {
				return err
			}
		}
	}
	if format == "" {
		if found == nil {
			found = []containerJSON{}
		}
		b, _ := json.MarshalIndent(found, "", "    ")
		fmt.Fprintln(e.stdout, string(b))
	}
	if len(missing) > 0 {
		for i, m := range missing {
			if i < len(missing)-1 {
				fmt.Fprintf(e.stderr, "Error: No such object: %s\n", m)
			}
		}
		return fail(1, "Error: No such object: %s", missing[len(missing)-1])
	}
	return nil
}

// psRow is the template context of docker ps --format.
type psRow struct {
	ID, Image, Command, CreatedAt, RunningFor, Ports, State, Status, Size, Names, Mounts, Networks string
	labels                                                                                         map[string]string
}

// Labels is the comma-separated label list, like docker's.
func (r psRow) Labels() string {
	var kv []string
	for k, v := range r.labels {
		kv = append(kv, k+"="+v)
	}
	sortStrings(kv)
	return strings.Join(kv, ",")
}

// Label returns one label's value.
func (r psRow) Label(k string) string { return r.labels[k] }

func (e *env) dockerPs(n *fakestate.Node, args []string) error {
	vals, bools, _ := flags(args, "--format", "-f", "--filter", "-n", "--last")
	all := bools["-a"] || bools["--all"]
	quiet := bools["-q"] || bools["--quiet"]
	times, err := e.times()
	if err != nil {
		return err
	}
	filters := append(vals["--filter"], vals["-f"]...)
	for _, f := range filters {
		// the daemon lists stopped containers too when asked by status
		if strings.HasPrefix(f, "status=") {
			all = true
		}
	}
	var rows []psRow
	for _, c := range n.Containers {
		if !c.Running && !all {
			continue
		}
		ok, err := psFilter(c, filters)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		r := psRow{ID: c.ID[:12], Image: c.Image, Command: fmt.Sprintf("%q", c.Command), CreatedAt: "2024-01-01 00:00:00 +0000 UTC",
			RunningFor: "2 months ago", Names: c.Name, labels: c.Labels, State: "exited", Status: containerStatus(c, times[c.ID])}
		if c.Running {
			r.State = "running"
		}
		rows = append(rows, r)
	}
	format := first(vals, "--format")
	switch {
	case quiet:
		for _, r := range rows {
			fmt.Fprintln(e.stdout, r.ID)
		}
		return nil
	case format == "" || format == "table":
		format = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"
	}
	return e.table(format, rows, "CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tPORTS\tNAMES")
}

// table renders rows with a --format template; a "table " prefix prints
// header (tab separated, for the default columns) first and aligns columns.
func (e *env) table(format string, rows any, header string) error {
	isTable := strings.HasPrefix(format, "table ")
	format = strings.TrimPrefix(format, "table ")
	t, err := template.New("").Funcs(tmplFuncs()).Parse(format)
	if err != nil {
		return fail(1, "template parsing error: %v", err)
	}
	var out strings.Builder
	if isTable {
		out.WriteString(header + "\n")
	}
	rv := toSlice(rows)
	for _, r := range rv {
		var b strings.Builder
		if err := t.Execute(&b, r); err != nil {
			return fail(1, "%v", err)
		}
		out.WriteString(b.String() + "\n")
	}
	if !isTable {
		fmt.Fprint(e.stdout, out.String())
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 10, 1, 3, ' ', 0)
	fmt.Fprint(tw, out.String())
	return tw.Flush()
}

func toSlice(rows any) []any {
	var out []any
	switch r := rows.(type) {
	case []psRow:
		for _, x := range r {
			out = append(out, x)
		}
	case []nodeRow:
		for _, x := range r {
			out = append(out, x)
		}
	case []imageRow:
		for _, x := range r {
			out = append(out, x)
		}
	}
	return out
}

// psFilter applies docker ps filters: values of one key are alternatives
// (name, status, ancestor), except label, whose values must all match.
func psFilter(c fakestate.Container, filters []string) (bool, error) {
	byKey := map[string][]string{}
	for _, f := range filters {
		k, v, _ := strings.Cut(f, "=")
		byKey[k] = append(byKey[k], v)
	}
	st := "exited"
	if c.Running {
		st = "running"
	}
	for k, vs := range byKey {
		matched := false
		for _, v := range vs {
			var ok bool
			switch k {
			case "name":
				re, err := regexp.Compile(v)
				if err != nil {
					return false, fail(1, "Error response from daemon: invalid filter 'name=%s'", v)
				}
				ok = re.MatchString(c.Name)
			case "label":
				lk, lv, hasV := strings.Cut(v, "=")
				got, has := c.Labels[lk]
				if !has || (hasV && got != lv) {
					return false, nil
				}
				ok = true
			case "status":
				switch v {
				case "created", "restarting", "running", "removing", "paused", "exited", "dead":
				default:
					return false, fail(1, "Error response from daemon: invalid filter 'status=%s'", v)
				}
				ok = st == v
			case "ancestor":
				ok = c.Image == v || strings.HasPrefix(c.Image, v+":")
			default:
				return false, fail(1, "Error response from daemon: invalid filter '%s'", k)
			}
			matched = matched || ok
		}
		if !matched {
			return false, nil
		}
	}
	return true, nil
}

type nodeRow struct {
	ID, Hostname, Status, Availability, ManagerStatus, EngineVersion, TLSStatus string
	Self                                                                        bool
}

func notManager() error {
	return fail(1, "Error response from daemon: This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. Please run this command on a manager node or promote the current node to a manager.")
}

func notInSwarm() error {
	return fail(1, "Error response from daemon: This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again.")
}

func (e *env) dockerNodeLs(n *fakestate.Node, args []string) error {
	if n.Swarm.LocalNodeState != "active" {
		return notInSwarm()
	}
	if !n.Swarm.ControlAvailable {
		return notManager()
	}
	vals, bools, _ := flags(args, "--format", "-f", "--filter")
	var rows []nodeRow
	for _, s := range n.Nodes {
		rows = append(rows, nodeRow{ID: s.ID, Hostname: s.Hostname, Status: s.Status, Availability: s.Availability,
			ManagerStatus: s.ManagerStatus, EngineVersion: s.EngineVersion, TLSStatus: "Ready", Self: s.ID == n.Swarm.NodeID})
	}
	if bools["-q"] || bools["--quiet"] {
		for _, r := range rows {
			fmt.Fprintln(e.stdout, r.ID)
		}
		return nil
	}
	format := first(vals, "--format")
	if format == "" || format == "table" {
		format = "table {{.ID}}{{if .Self}} *{{end}}\t{{.Hostname}}\t{{.Status}}\t{{.Availability}}\t{{.ManagerStatus}}\t{{.EngineVersion}}"
	}
	return e.table(format, rows, "ID\tHOSTNAME\tSTATUS\tAVAILABILITY\tMANAGER STATUS\tENGINE VERSION")
}

func (e *env) dockerSwarmLeave(n *fakestate.Node, args []string) error {
	_, bools, _ := flags(args)
	force := bools["-f"] || bools["--force"]
	if n.Swarm.LocalNodeState != "active" {
		return fail(1, "Error response from daemon: This node is not part of a swarm")
	}
	if n.Swarm.ControlAvailable && !force {
		return fail(1, "Error response from daemon: You are attempting to leave the swarm on a node that is participating as a manager. Removing the last manager erases all current state of the swarm. Use `--force` to ignore this message.")
	}
	n.Swarm = fakestate.Swarm{LocalNodeState: "inactive"}
	n.Nodes = nil
	if err := e.saveJSON(fakestate.NodeFile, n); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "Node left the swarm.")
	return nil
}

func (e *env) dockerRm(n *fakestate.Node, args []string) error {
	_, bools, pos := flags(args)
	force := bools["-f"] || bools["--force"]
	if len(pos) == 0 {
		return fail(1, "\"docker rm\" requires at least 1 argument.")
	}
	procs, err := e.procs()
	if err != nil {
		return err
	}
	defer func() { _ = e.saveProcs(procs) }()
	var errs []string
	for _, ref := range pos {
		i := findContainer(n, ref)
		if i < 0 {
			if !force {
				errs = append(errs, "Error response from daemon: No such container: "+ref)
			}
			continue
		}
		if n.Containers[i].Running && !force {
			errs = append(errs, fmt.Sprintf("Error response from daemon: cannot remove container \"/%s\": container is running: stop the container before removing or force remove", n.Containers[i].Name))
			continue
		}
		// docker rm -f kills the container (SIGKILL, no grace period)
		e.stopProcess(procs, &n.Containers[i], 0)
		n.Containers = append(n.Containers[:i], n.Containers[i+1:]...)
		fmt.Fprintln(e.stdout, ref)
	}
	if err := e.saveJSON(fakestate.NodeFile, n); err != nil {
		return err
	}
	if len(errs) > 0 {
		return fail(1, "%s", strings.Join(errs, "\n"))
	}
	return nil
}

func (e *env) dockerVolumeRm(n *fakestate.Node, args []string) error {
	_, bools, pos := flags(args)
	force := bools["-f"] || bools["--force"]
	if len(pos) == 0 {
		return fail(1, "\"docker volume rm\" requires at least 1 argument.")
	}
	var errs []string
	for _, v := range pos {
		i := indexOf(n.Volumes, v)
		if i < 0 {
			if !force {
				errs = append(errs, fmt.Sprintf("Error response from daemon: get %s: no such volume", v))
			}
			continue
		}
		// a volume a container (running or not) mounts is refused, --force
		// or not: moby volume/service/store.go Remove checks the volume's
		// references before anything else and returns OpErr{Op: "remove",
		// Err: errVolumeInUse ("volume is in use"), Refs: container IDs},
		// which prints as "remove NAME: volume is in use - [ID, …]"
		// (volume/service/errors.go)
		if refs := volumeRefs(n, v); len(refs) > 0 {
			errs = append(errs, fmt.Sprintf("Error response from daemon: remove %s: volume is in use - [%s]", v, strings.Join(refs, ", ")))
			continue
		}
		n.Volumes = append(n.Volumes[:i], n.Volumes[i+1:]...)
		if n.Real != nil {
			if err := os.RemoveAll(filepath.Dir(volumePath(v))); err != nil {
				return err
			}
		}
		fmt.Fprintln(e.stdout, v)
	}
	if err := e.saveJSON(fakestate.NodeFile, n); err != nil {
		return err
	}
	if len(errs) > 0 {
		return fail(1, "%s", strings.Join(errs, "\n"))
	}
	return nil
}

// runBoolFlag reports whether a docker run flag takes no value.
func runBoolFlag(f string) bool {
	switch f {
	case "--rm", "-i", "-t", "-it", "-ti", "-d", "--interactive", "--tty", "--detach", "--privileged", "--init", "-P", "--read-only":
		return true
	}
	return false
}

// dockerRun supports the MKE bootstrapper's backup (see ucpBackup) and
// uninstall-ucp, which removes this node's ucp-* containers and records the
// call, and on a realistic node --entrypoint etcdctl|etcdutl (see
// runEntrypoint). On a realistic node the image must be on the node (the
// hosts are air-gapped) and, without --log-driver none, what the
// container prints is kept as its log (see keepLog).
func (e *env) dockerRun(n *fakestate.Node, args []string) error {
	f, err := parseRun(args)
	if err != nil {
		return err
	}
	image, cmd := f.image, f.cmd
	if n.Real != nil {
		if f.name != "" {
			if i := findContainer(n, f.name); i >= 0 {
				return fail(125, "docker: Error response from daemon: Conflict. The container name \"/%s\" is already in use by container \"%s\". You have to remove (or rename) that container to be able to reuse that name.", f.name, n.Containers[i].ID)
			}
		}
		if !hasImage(n, image) {
			return pullFails(e, image)
		}
		if f.entry != "" {
			return e.runEntrypoint(n, f)
		}
		var log bytes.Buffer
		stdout, stderr := e.stdout, e.stderr
		e.stdout, e.stderr = io.MultiWriter(stdout, &jsonLog{w: &log, stream: "stdout"}), io.MultiWriter(stderr, &jsonLog{w: &log, stream: "stderr"})
		defer func() { e.stdout, e.stderr = stdout, stderr }()
		defer func() { _ = e.keepLog(f, &log) }()
	}
	if len(cmd) > 0 && cmd[0] == "backup" && strings.Contains(image, "/ucp:") {
		return e.ucpBackup(n, f.raw, image, cmd[1:])
	}
	if len(cmd) == 0 || cmd[0] != "uninstall-ucp" || !strings.Contains(image, "/ucp:") {
		return unsupported("docker", append([]string{"run"}, args...))
	}
	if n.Swarm.LocalNodeState != "active" || !n.Swarm.ControlAvailable {
		fmt.Fprintln(e.stdout, `time="2024-01-01T00:00:00Z" level=fatal msg="this command must be run on a manager node"`)
		return fail(1, "")
	}
	kept := n.Containers[:0]
	for _, c := range n.Containers {
		if !strings.HasPrefix(c.Name, "ucp-") {
			kept = append(kept, c)
		}
	}
	n.Containers = kept
	n.Uninstalls = append(n.Uninstalls, append([]string{"docker", "run"}, args...))
	if err := e.saveJSON(fakestate.NodeFile, n); err != nil {
		return err
	}
	for _, l := range []string{
		`level=info msg="Your MKE version is ` + strings.SplitN(image, ":", 2)[1] + `"`,
		`level=info msg="Uninstalling MKE on each node..."`,
		`level=info msg="MKE has been removed from this cluster successfully."`,
	} {
		fmt.Fprintln(e.stdout, `time="2024-01-01T00:00:00Z" `+l)
	}
	return nil
}

type imageRow struct{ Repository, Tag, ID, CreatedSince, CreatedAt, Size string }

func (e *env) dockerImages(n *fakestate.Node, args []string) error {
	vals, bools, _ := flags(args, "--format", "--filter", "-f")
	var rows []imageRow
	for _, im := range n.Images {
		rows = append(rows, imageRow{Repository: im.Repository, Tag: im.Tag, ID: im.ID[:12], CreatedSince: "3 months ago",
			CreatedAt: "2024-01-01 00:00:00 +0000 UTC", Size: "100MB"})
	}
	if bools["-q"] || bools["--quiet"] {
		for _, r := range rows {
			fmt.Fprintln(e.stdout, r.ID)
		}
		return nil
	}
	format := first(vals, "--format")
	if format == "" || format == "table" {
		format = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
	}
	return e.table(format, rows, "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE")
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// volumeRefs are the IDs of the containers that mount volume name.
func volumeRefs(n *fakestate.Node, name string) []string {
	var refs []string
	for _, c := range n.Containers {
		for _, m := range c.Mounts {
			if m.Type == "volume" && m.Name == name {
				refs = append(refs, c.ID)
				break
			}
		}
	}
	return refs
}
