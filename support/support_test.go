package support

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mke-migrate/mke-migrate/hosts"
)

type fakeNode struct {
	out map[string]string // command substring → output
	err error
}

// Exec answers the combined script (as hosts.Client, trimmed): each
// section gets the output of the first key its command contains.
func (n *fakeNode) Exec(_ context.Context, cmd string, _ ...hosts.ExecOption) (string, error) {
	if n.err != nil {
		return "", n.err
	}
	var lines []string
	for _, c := range NodeCommands(DefaultLogLines) {
		if !strings.Contains(cmd, c.File) {
			continue
		}
		lines = append(lines, sectionMark+c.File)
		// the longest key first: "docker logs" before "docker ps"
		keys := make([]string, 0, len(n.out))
		for k := range n.out {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b string) int { return len(b) - len(a) })
		for _, k := range keys {
			if strings.Contains(c.Cmd, k) {
				lines = append(lines, n.out[k])
				break
			}
		}
	}
	return strings.Join(lines, "\n"), nil
}
func (n *fakeNode) Upload(context.Context, []byte, string, fs.FileMode, bool) error { return nil }
func (n *fakeNode) ReadFile(context.Context, string, bool) ([]byte, error)          { return nil, nil }

type fakeNodes map[string]*fakeNode

func (f fakeNodes) Node(_ context.Context, h string) (hosts.Node, error) {
	n, ok := f[h]
	if !ok {
		return nil, errors.New("dial tcp " + h + ": connection refused")
	}
	return n, nil
}

func readBundle(t *testing.T, b []byte) map[string]string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	out := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		d, _ := io.ReadAll(tr)
		out[h.Name] = string(d)
	}
}

const canary = "canary-Qm4x-secret"

func TestBundleCollectsAndRedacts(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"journal.jsonl":   `{"event":"step-failed"}` + "\n",
		"mke-migrate.log": "level=DEBUG msg=x password=" + canary + "\nAuthorization: Bearer abc.def\n",
		"discovery.json":  `{"mke3TOML":"[auth]\nreaderPassword = \"` + canary + `\""}`,
		"mke3-backup.tar": "never taken",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	key := "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----"
	nodes := fakeNodes{"10.0.0.1:22": {out: map[string]string{
		"docker ps":   "ucp-kv\tmirantis/ucp-etcd:3.8.8\tUp",
		"docker logs": "== ucp-kv\nstarted with " + canary + "\n" + key,
		"k0s status":  "Version: v1.33\ntoken: H4sIAAAAAAAA/2yQzW7bMBCE73qKvacSKEepEL3UnenjmBFNmokN6abcdef6.0123456789abcdef",
	}}}
	var buf bytes.Buffer
	man, err := Write(context.Background(), &buf, Options{Hosts: []string{"10.0.0.1:22", "10.0.0.2:22"}, Nodes: nodes, RunDir: dir,
		Secrets: [][]byte{[]byte(canary)}, Facts: func(context.Context, string) (any, error) { return map[string]string{"hostname": "m1"}, nil }})
	if err != nil {
		t.Fatal(err)
	}
	got := readBundle(t, buf.Bytes())
	for _, want := range []string{"manifest.json", "local/journal.jsonl", "local/mke-migrate.log", "local/discovery.json",
		"nodes/10.0.0.1_22/mke3-containers.txt", "nodes/10.0.0.1_22/mke3-container-logs.txt", "nodes/10.0.0.1_22/k0s-status.txt",
		"nodes/10.0.0.1_22/k0s-service-logs.txt", "nodes/10.0.0.1_22/disk.txt", "nodes/10.0.0.1_22/ports.txt", "nodes/10.0.0.1_22/facts.json",
		"nodes/10.0.0.2_22/unreachable.txt"} {
		if _, ok := got[want]; !ok {
			t.Errorf("no %s in the bundle", want)
		}
	}
	if _, ok := got["local/mke3-backup.tar"]; ok {
		t.Error("the backup is in the bundle")
	}
	for name, data := range got {
		for _, bad := range []string{canary, "MHcCAQEE", "H4sIAAAA", "abc.def", "abcdef.0123456789abcdef"} {
			if strings.Contains(data, bad) {
				t.Errorf("%s holds %q:\n%s", name, bad, data)
			}
		}
	}
	if !strings.Contains(got["nodes/10.0.0.1_22/mke3-containers.txt"], "ucp-kv") {
		t.Error("containers not kept")
	}
	var unreachable bool
	for _, e := range man.Entries {
		unreachable = unreachable || (e.Name == "nodes/10.0.0.2_22/unreachable.txt" && strings.Contains(e.Error, "refused"))
	}
	if !unreachable {
		t.Errorf("the unreachable host is not recorded: %+v", man.Entries)
	}
}

func TestBundleIsBounded(t *testing.T) {
	big := strings.Repeat("x", 5000) + "THE-END"
	nodes := fakeNodes{}
	var hs []string
	for i := range 20 {
		h := "10.0.0." + string(rune('a'+i)) + ":22"
		hs = append(hs, h)
		nodes[h] = &fakeNode{out: map[string]string{"": big}}
	}
	var buf bytes.Buffer
	man, err := Write(context.Background(), &buf, Options{Hosts: hs, Nodes: nodes, MaxEntryBytes: 1000, MaxBytes: 50_000})
	if err != nil {
		t.Fatal(err)
	}
	got := readBundle(t, buf.Bytes())
	total := 0
	for name, d := range got {
		if name == "manifest.json" {
			continue
		}
		total += len(d)
		if len(d) > 1000 {
			t.Fatalf("%s: %d bytes", name, len(d))
		}
		if !strings.HasSuffix(d, "THE-END") {
			t.Fatalf("%s: the end was not kept", name)
		}
	}
	if total > 50_000 || len(man.Dropped) == 0 {
		t.Fatalf("total %d, dropped %d", total, len(man.Dropped))
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"MKE_PASSWORD=hunter22 next":            "MKE_PASSWORD=" + Redacted + " next",
		`{"readerPassword": "s3cr3t"}`:          `{"readerPassword": "` + Redacted + `"}`,
		"    client-key-data: LS0tLS1CRUdJTg==": "    client-key-data: " + Redacted,
		"nothing to hide":                       "nothing to hide",
	} {
		if got := Redact(in, nil); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzRedact(f *testing.F) {
	f.Add("password=abc", "abc")
	f.Add("-----BEGIN RSA PRIVATE KEY-----\nx\n-----END RSA PRIVATE KEY-----", "zzzz")
	f.Fuzz(func(t *testing.T, s, secret string) {
		// the property: a named secret of 4+ bytes never survives (one
		// made of brackets could be made again by the marker itself)
		if len(secret) < 4 || strings.ContainsAny(secret, "[]") || strings.Contains(Redacted, secret) {
			return
		}
		if out := Redact(s, [][]byte{[]byte(secret)}); strings.Contains(out, secret) {
			t.Fatalf("secret %q left in %q", secret, out)
		}
	})
}
