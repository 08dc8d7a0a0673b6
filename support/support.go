package support

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/internal/atomicfile"
	"github.com/mke-migrate/mke-migrate/internal/shell"
)

// Defaults of Options.
const (
	DefaultMaxEntryBytes = 2 << 20  // 2 MiB per entry (its end is kept)
	DefaultMaxBytes      = 64 << 20 // 64 MiB in all, before compression
	DefaultConcurrency   = 10
	DefaultNodeTimeout   = time.Minute
	// DefaultLogLines is how many recent lines of each MKE 3 container
	// and k0s service log NodeCommands asks for.
	DefaultLogLines = 300
)

// NodeCommand is one file of a node's folder in the bundle: the output
// (stdout and stderr) of a shell command run as root.
type NodeCommand struct {
	File, Cmd string
}

// NodeCommands are the per-node commands of a bundle. Each ends in true:
// a tool missing on a node leaves its message in the file, not a gap.
func NodeCommands(logLines int) []NodeCommand {
	n := fmt.Sprint(logLines)
	return []NodeCommand{
		{"system.txt", "uname -a; echo; cat /etc/os-release; echo; hostname; uptime; true"},
		{"mke3-containers.txt", "docker ps -a --filter name=ucp- --format '{{.Names}}\t{{.Image}}\t{{.Status}}' 2>&1; true"},
		// docker logs --tail: the recent lines of each MKE 3 container
		{"mke3-container-logs.txt", "for c in $(docker ps -a --filter name=ucp- --format '{{.Names}}' 2>/dev/null); do echo \"== $c\"; docker logs --tail " + n + " \"$c\" 2>&1; done; true"},
		{"k0s-status.txt", "k0s status 2>&1; true"},
		// k0s's systemd units (k0s install controller|worker)
		{"k0s-service-logs.txt", "journalctl -u k0scontroller -u k0sworker -n " + n + " --no-pager 2>&1; true"},
		{"disk.txt", "df -P 2>&1; true"},
		{"ports.txt", "ss -ltnup 2>&1 || netstat -ltnup 2>&1; true"},
	}
}

// LocalFiles are the files of a run's output folder a bundle takes, when
// they exist: never the backups, mke4.yaml's neighbours or the Swarm
// export (what a run keeps for the operator, not for support).
var LocalFiles = []string{"journal.jsonl", "plan.json", "discovery.json", "preflight.json", "conversion-report.json",
	"summary.txt", "summary.json", "mke-migrate.log"}

// Options configure a bundle.
type Options struct {
	// Hosts are the nodes (host keys, address:port) reached through Nodes.
	Hosts []string
	Nodes interface {
		Node(ctx context.Context, host string) (hosts.Node, error)
	}
	// Facts, when set, gives each host's facts (saved as facts.json).
	Facts func(ctx context.Context, host string) (any, error)
	// Commands default to NodeCommands(DefaultLogLines).
	Commands []NodeCommand
	// RunDir is a run's output folder, whose LocalFiles are taken.
	RunDir string
	// Extra are more local entries (name in the bundle → content).
	Extra map[string][]byte
	// Secrets are redacted wherever they appear (passwords, passphrases,
	// tokens the caller knows).
	Secrets [][]byte
	// MaxEntryBytes and MaxBytes bound the bundle (defaults above).
	MaxEntryBytes, MaxBytes int64
	Concurrency             int
	// NodeTimeout bounds the collection on one node (default
	// DefaultNodeTimeout): a hung tool costs its node's files, not the
	// bundle.
	NodeTimeout time.Duration
	Now         func() time.Time
	Logger      *slog.Logger
}

// Entry is one file of a bundle, as manifest.json lists it.
type Entry struct {
	Name      string `json:"name"`
	Bytes     int    `json:"bytes"`
	Truncated bool   `json:"truncated,omitempty"` // only its end is kept
	Error     string `json:"error,omitempty"`
}

// Manifest is manifest.json.
type Manifest struct {
	Created time.Time `json:"created"`
	Entries []Entry   `json:"entries"`
	// Dropped are entries left out once MaxBytes was reached.
	Dropped []string `json:"dropped,omitempty"`
}

// Write collects the bundle and writes it to w as tar.gz.
func Write(ctx context.Context, w io.Writer, o Options) (*Manifest, error) {
	if o.MaxEntryBytes <= 0 {
		o.MaxEntryBytes = DefaultMaxEntryBytes
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Commands == nil {
		o.Commands = NodeCommands(DefaultLogLines)
	}
	if o.NodeTimeout <= 0 {
		o.NodeTimeout = DefaultNodeTimeout
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	type item struct {
		Entry
		data []byte
	}
	var items []item
	add := func(name string, data []byte, err error) {
		it := item{Entry: Entry{Name: name}}
		if err != nil {
			it.Error = Redact(err.Error(), o.Secrets)
		}
		red := []byte(Redact(string(data), o.Secrets))
		if int64(len(red)) > o.MaxEntryBytes {
			red, it.Truncated = red[int64(len(red))-o.MaxEntryBytes:], true
		}
		it.data, it.Bytes = red, len(red)
		items = append(items, it)
	}
	for _, f := range LocalFiles {
		if o.RunDir == "" {
			break
		}
		b, err := readTail(filepath.Join(o.RunDir, f), o.MaxEntryBytes*4)
		if os.IsNotExist(err) {
			continue
		}
		add("local/"+f, b, err)
	}
	names := make([]string, 0, len(o.Extra))
	for n := range o.Extra {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		add("local/"+n, o.Extra[n], nil)
	}

	// the nodes, at most Concurrency at once; their entries in host order
	perHost := make([][]item, len(o.Hosts))
	var wg sync.WaitGroup
	sem := make(chan struct{}, o.Concurrency)
	for i, h := range o.Hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			var mine []item
			dir := "nodes/" + safeName(h) + "/"
			one := func(name string, data []byte, err error) {
				it := item{Entry: Entry{Name: dir + name}}
				if err != nil {
					it.Error = Redact(err.Error(), o.Secrets)
				}
				red := []byte(Redact(string(data), o.Secrets))
				if int64(len(red)) > o.MaxEntryBytes {
					red, it.Truncated = red[int64(len(red))-o.MaxEntryBytes:], true
				}
				it.data, it.Bytes = red, len(red)
				mine = append(mine, it)
			}
			if o.Facts != nil {
				f, err := o.Facts(ctx, h)
				var b []byte
				if err == nil {
					b, err = json.MarshalIndent(f, "", "  ")
				}
				one("facts.json", b, err)
			}
			if o.Nodes == nil {
				perHost[i] = mine
				return
			}
			n, err := o.Nodes.Node(ctx, h)
			if err != nil {
				one("unreachable.txt", nil, err)
				perHost[i] = mine
				return
			}
			// one remote command per node (a bundle is often made of a
			// failing cluster: few round trips, bounded in time)
			nctx, cancel := context.WithTimeout(ctx, o.NodeTimeout)
			out, err := n.Exec(nctx, nodeScript(o.Commands), hosts.WithSudo())
			cancel()
			parts := splitNodeOutput(out)
			for _, c := range o.Commands {
				data, ok := parts[c.File]
				var cerr error
				if !ok && err != nil {
					cerr = err
				}
				one(c.File, []byte(data), cerr)
			}
			perHost[i] = mine
		}()
	}
	wg.Wait()
	for _, m := range perHost {
		items = append(items, m...)
	}

	man := &Manifest{Created: now().UTC()}
	var total int64
	var kept []item
	for _, it := range items {
		if total+int64(len(it.data)) > o.MaxBytes {
			man.Dropped = append(man.Dropped, it.Name)
			continue
		}
		total += int64(len(it.data))
		kept = append(kept, it)
		man.Entries = append(man.Entries, it.Entry)
	}
	mb, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return nil, err
	}
	zw := gzip.NewWriter(w)
	tw := tar.NewWriter(zw)
	put := func(name string, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(data)), ModTime: man.Created, Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	if err := put("manifest.json", append(mb, '\n')); err != nil {
		return nil, err
	}
	for _, it := range kept {
		if err := put(it.Name, it.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	log.Debug("support bundle collected", "entries", len(man.Entries), "bytes", total, "dropped", len(man.Dropped))
	return man, nil
}

// WriteFile collects the bundle into dir as name (created 0600, atomic)
// and returns its path.
func WriteFile(ctx context.Context, dir, name string, o Options) (string, *Manifest, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", nil, fmt.Errorf("support: %w", err)
	}
	p := filepath.Join(dir, name)
	var man *Manifest
	err := atomicfile.Write(p, 0o600, func(w io.Writer) error {
		var err error
		man, err = Write(ctx, w, o)
		return err
	})
	if err != nil {
		return "", nil, fmt.Errorf("support: %w", err)
	}
	return p, man, nil
}

// BundleName is the file name of a bundle made at t for a reason such as
// "before-rollback".
func BundleName(reason string, t time.Time) string {
	return "support-bundle-" + safeName(reason) + "-" + t.UTC().Format("20060102T150405Z") + ".tar.gz"
}

// sectionMark starts each command's output in a node's combined output.
const sectionMark = "@@mke-migrate-support-bundle@@ "

// nodeScript runs the commands one after the other, each output after a
// line naming its file.
func nodeScript(cs []NodeCommand) string {
	var b strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&b, "echo %s; { %s; } 2>&1\n", shell.Quote(sectionMark+c.File), c.Cmd)
	}
	return shell.Sudo(b.String())
}

// splitNodeOutput cuts a node's combined output into its files.
func splitNodeOutput(out string) map[string]string {
	m := map[string]string{}
	file := ""
	var cur []string
	flush := func() {
		if file != "" {
			m[file] = strings.Join(cur, "\n")
		}
	}
	for _, l := range strings.Split(out, "\n") {
		if f, ok := strings.CutPrefix(l, sectionMark); ok {
			flush()
			file, cur = f, nil
			continue
		}
		cur = append(cur, l)
	}
	flush()
	return m
}

// readTail reads a file's last max bytes.
func readTail(p string, max int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", p)
	}
	if fi.Size() > max {
		if _, err := f.Seek(fi.Size()-max, io.SeekStart); err != nil {
			return nil, err
		}
	}
	return io.ReadAll(io.LimitReader(f, max))
}

var unsafeRe = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func safeName(s string) string { return strings.Trim(unsafeRe.ReplaceAllString(s, "_"), "_") }

// Redacted replaces what Redact removes.
const Redacted = "[REDACTED]"

var redactRes = []struct {
	re   *regexp.Regexp
	repl string
}{
	// PEM private keys, whole
	{regexp.MustCompile(`(?s)-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----`), Redacted},
	// kubeconfig secrets and bearer tokens
	{regexp.MustCompile(`(?m)((?:client-key-data|token|password|auth|identitytoken|registrytoken)\s*:\s*)("?)[^\s"]+("?)`), "${1}${2}" + Redacted + "${3}"},
	{regexp.MustCompile(`(?i)(authorization:\s*(?:bearer|basic)\s+)\S+`), "${1}" + Redacted},
	// k0s join tokens: base64 of gzip ("H4sI")
	{regexp.MustCompile(`H4sI[A-Za-z0-9+/=]{16,}`), Redacted},
	// bootstrap tokens id.secret
	{regexp.MustCompile(`\b[a-z0-9]{6}\.[a-z0-9]{16}\b`), Redacted},
	// key=value and "key": "value" forms of passwords, passphrases, secrets
	{regexp.MustCompile(`(?i)((?:password|passwd|passphrase|secret|api[_-]?key|access[_-]?key)[A-Za-z_-]*"?\s*[=:]\s*"?)[^\s",}&]+`), "${1}" + Redacted},
}

// Redact removes the secrets and the secret-looking values of s.
func Redact(s string, secrets [][]byte) string {
	for _, sec := range secrets {
		if len(sec) >= 4 { // shorter ones would blank common words
			s = strings.ReplaceAll(s, string(sec), Redacted)
		}
	}
	for _, r := range redactRes {
		s = r.re.ReplaceAllString(s, r.repl)
	}
	return s
}
