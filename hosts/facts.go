package hosts

import (
	"bufio"
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/mke-migrate/mke-migrate/hosts/facts"
)

// SwarmFacts describe the node's Docker Swarm membership.
type SwarmFacts = facts.Swarm

// PortUse says whether a TCP port is listened on.
type PortUse = facts.PortUse

// Facts are what GatherFacts learns about a node, read-only. A fact whose
// tool is missing on the node is left empty. The type lives in package
// hosts/facts, which pure packages import without SSH.
type Facts = facts.Node

// FactPorts are the TCP ports whose use is reported in Facts.Ports: the
// ports MKE 4k (k0s) components listen on.
var FactPorts = []int{179, 2380, 4789, 6443, 8132, 9443, 10250}

// FactsCommands is the number of remote commands Client.Facts runs.
const FactsCommands = 1

// factsScript runs as the login user through `sh -s`. Every probe is
// guarded so that a missing tool gives an empty value, and it only reads.
// Its cost is the processes it starts, so it reads /proc and files with
// shell builtins and one awk, and runs the privileged part (docker) under a
// single sudo: each sudo and each docker CLI start costs more than the SSH
// session itself. Listening ports come from ss (netlink, listening sockets
// only): reading /proc/net/tcp makes the kernel walk every socket of the
// machine, several ms of system time on a busy node. The docker part asks for the engine version with docker
// info (the same value as docker version), runs docker node ls on managers
// only (workers refuse it), and takes the ucp-proxy image from docker ps -a,
// falling back to docker inspect when ps shows an image ID instead of the
// reference (the tag was moved since the container was created).
const factsScript = `P='if command -v docker >/dev/null 2>&1; then
i=$(docker info --format "{{.ServerVersion}}|{{.Swarm.NodeID}} {{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}} {{if .Swarm.Cluster}}{{.Swarm.Cluster.ID}}{{end}}" 2>/dev/null)
case $i in *"|"*) ;; *) i="|" ;; esac
echo "mcr=${i%%|*}"
echo "swarm=${i#*|}"
set -- ${i#*|}
if [ "$3" = true ]; then l=$(docker node ls --format "{{if .Self}}{{.ManagerStatus}}{{end}}" 2>/dev/null); set -- $l; echo "leader=$*"; fi
docker ps -a --filter name=ucp- --format "{{.Names}} {{.State}} {{.Image}}" 2>/dev/null | while read -r n s img; do
case $s in running|paused|restarting) echo "container=$n" ;; esac
[ "$n" = ucp-proxy ] || continue
t=${img%%@*}; t=${t##*/}
case $img in sha256:*) t= ;; esac
case $t in *:?*) ;; *) img=$(docker inspect --format "{{.Config.Image}}" ucp-proxy 2>/dev/null) ;; esac
echo "proxy_image=$img"
done
fi'
u=
while read -r k v _; do if [ "$k" = Uid: ]; then u=$v; break; fi; done 2>/dev/null </proc/self/status
[ -n "$u" ] || u=$(id -u 2>/dev/null)
if [ "$u" = 0 ]; then echo sudo=1; eval "$P"
elif sudo -n sh -c "$P" 2>/dev/null; then echo sudo=1
else echo sudo=0; eval "$P"; fi
set -- $(uname -sm 2>/dev/null)
echo "kernel=$1"
echo "arch=$2"
h=
read -r h 2>/dev/null </proc/sys/kernel/hostname || h=$(hostname 2>/dev/null || cat /etc/hostname 2>/dev/null)
echo "hostname=$h"
m=
read -r m 2>/dev/null </etc/machine-id
echo "machine_id=$m"
if [ -r /etc/os-release ]; then (. /etc/os-release 2>/dev/null; echo "os_id=$ID"; echo "os_version=$VERSION_ID"; echo "os_like=$ID_LIKE"); fi
set --
for f in /proc/meminfo /proc/self/status; do [ -r "$f" ] && set -- "$@" "$f"; done
command -v ss >/dev/null 2>&1 && echo ports_known=1
{ ss -Htln || true; } 2>/dev/null | awk 'FILENAME == "/proc/meminfo" { if ($1 == "MemTotal:") print "mem_kb=" $2; next }
FILENAME == "/proc/self/status" { if ($1 == "Cpus_allowed_list:") { k = split($2, r, ","); for (j = 1; j <= k; j++) { if (split(r[j], ab, "-") == 2) cpus += ab[2] - ab[1] + 1; else cpus++ } }; next }
$1 == "LISTEN" { k = split($4, a, ":"); print "listen=" a[k] }
END { if (!cpus) { "nproc 2>/dev/null" | getline cpus }; print "nproc=" cpus }' "$@" - 2>/dev/null
set -- $(stat -f -c '%a %S' /var/lib 2>/dev/null)
[ $# = 2 ] && echo "varlib_avail=$(($1 * $2))"
echo "now_ns=$(date +%s%N 2>/dev/null)"
`

// Facts gathers the node's facts with a single remote command (the
// script above, fed to sh -s). local is the local clock (time.Now when
// nil), read halfway through the command to estimate the skew.
func (c *Client) Facts(ctx context.Context, local func() time.Time) (Facts, error) {
	if local == nil {
		local = time.Now
	}
	before := local()
	out, err := c.exec(ctx, "sh -s", "facts", WithStdin(strings.NewReader(factsScript)))
	after := local()
	if err != nil {
		return Facts{Address: c.host.Address}, err
	}
	mid := before.Add(after.Sub(before) / 2)
	f := ParseFacts(string(out), mid)
	f.Address = c.host.Address
	return f, nil
}

// ParseFacts parses the key=value output of the facts script. Unknown keys
// and malformed lines are ignored; localNow is the local time the remote
// clock is compared with (the zero time skips the comparison).
func ParseFacts(out string, localNow time.Time) Facts {
	var f Facts
	listen := map[int]bool{}
	portsKnown := false
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimRight(sc.Text(), "\r"), "=")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch k {
		case "sudo":
			f.Sudo = v == "1"
		case "kernel":
			f.Windows = strings.Contains(strings.ToLower(v), "windows") || strings.HasPrefix(strings.ToUpper(v), "MINGW") || strings.HasPrefix(strings.ToUpper(v), "CYGWIN")
		case "arch":
			f.OS.Arch = goarch(v)
		case "hostname":
			f.Hostname = v
		case "machine_id":
			f.MachineID = v
		case "os_id":
			f.OS.ID = v
		case "os_version":
			f.OS.Version = v
		case "os_like":
			f.OS.IDLike = strings.Fields(v)
		case "nproc":
			f.CPUs, _ = strconv.Atoi(v)
		case "mem_kb":
			if n, err := strconv.ParseUint(v, 10, 64); err == nil {
				f.MemoryBytes = n * 1024
			}
		case "varlib_avail":
			f.FreeVarLibBytes, _ = strconv.ParseUint(v, 10, 64)
		case "now_ns":
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && !localNow.IsZero() {
				f.ClockSkew = time.Unix(0, n).Sub(localNow)
			}
		case "mcr":
			f.MCRVersion = v
		case "swarm":
			parseSwarm(&f.Swarm, v)
		case "leader":
			f.Swarm.Leader = v == "Leader"
		case "proxy_image":
			f.MKEVersion = imageTag(v)
		case "container":
			if v != "" {
				f.MKEContainers = append(f.MKEContainers, v)
			}
		case "listen":
			if p, err := strconv.Atoi(v); err == nil {
				listen[p] = true
			}
		case "ports_known":
			portsKnown = true
		}
	}
	if portsKnown {
		for _, p := range FactPorts {
			f.Ports = append(f.Ports, PortUse{Port: p, InUse: listen[p]})
		}
	}
	return f
}

func parseSwarm(s *SwarmFacts, v string) {
	fs := strings.Fields(v)
	if len(fs) < 3 {
		return
	}
	s.NodeID, s.LocalNodeState = fs[0], fs[1]
	if len(fs) > 3 {
		s.ClusterID = fs[3]
	}
	if s.LocalNodeState == "active" {
		s.Role = "worker"
		if fs[2] == "true" {
			s.Role = "manager"
		}
	}
}

// imageTag is the tag of an image reference ("" without one).
func imageTag(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	i := strings.LastIndex(ref, ":")
	if i < 0 || strings.Contains(ref[i:], "/") {
		return ""
	}
	return ref[i+1:]
}

// GatherFacts connects to every host (at most concurrency at a time) and
// gathers its facts. The result has one entry per host, in the order of
// hs; a host that failed has only its Address set, and its error is among
// the returned ones (joined *HostError).
func GatherFacts(ctx context.Context, hs []Host, o ConnectOptions, concurrency int) ([]Facts, error) {
	out := make([]Facts, len(hs))
	for i, h := range hs {
		out[i].Address = h.Address
	}
	idx := map[string]int{}
	for i, h := range hs {
		idx[hostKey(h)] = i
	}
	err := Run(ctx, hs, concurrency, func(ctx context.Context, h Host) error {
		c, err := Connect(ctx, h, o)
		if err != nil {
			return err
		}
		defer func() { _ = c.Close() }()
		f, err := c.Facts(ctx, nil)
		if err != nil {
			return err
		}
		out[idx[hostKey(h)]] = f
		return nil
	})
	return out, err
}

func hostKey(h Host) string {
	if h.Port == 0 {
		h.Port = 22
	}
	return h.String()
}

// FailedHosts returns the *HostError values joined in err.
func FailedHosts(err error) []*HostError {
	var res []*HostError
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		var he *HostError
		if h, ok := e.(*HostError); ok {
			res = append(res, h)
			return
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
			return
		}
		if errors.As(e, &he) {
			res = append(res, he)
		}
	}
	walk(err)
	return res
}
