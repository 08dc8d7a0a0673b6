package upgrade

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	rq "github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/internal/shell"
	"github.com/mke-migrate/mke-migrate/plan"
)

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestDeliveryResolve(t *testing.T) {
	bin := []byte("k0s")
	for _, tc := range []struct {
		name  string
		d     Delivery
		bin   []byte
		field string // "" for no error
		want  Delivery
	}{
		{name: "defaults", bin: bin, want: Delivery{Mode: DeliveryPeer, SHA256: sum(bin), ConcurrentUploads: 5, PeerFanout: 3, PeerPort: 19443}},
		{name: "upload, unbounded", d: Delivery{Mode: DeliveryUpload, ConcurrentUploads: -1}, bin: bin,
			want: Delivery{Mode: DeliveryUpload, SHA256: sum(bin), ConcurrentUploads: -1, PeerFanout: 3, PeerPort: 19443}},
		{name: "unknown mode", d: Delivery{Mode: "scp"}, bin: bin, field: "Mode"},
		{name: "checksum of another binary", d: Delivery{SHA256: sum([]byte("other"))}, bin: bin, field: "SHA256"},
		{name: "checksum not hex", d: Delivery{Mode: DeliveryURL, SHA256: "abc"}, field: "SHA256"},
		{name: "url without any checksum", d: Delivery{Mode: DeliveryURL, URL: "https://mirror/k0s"}, field: "SHA256"},
		{name: "url, checksum in upper case", d: Delivery{Mode: DeliveryURL, URL: "https://mirror/k0s", SHA256: strings.ToUpper(sum(bin))},
			want: Delivery{Mode: DeliveryURL, URL: "https://mirror/k0s", SHA256: sum(bin), ConcurrentUploads: 5, PeerFanout: 3, PeerPort: 19443}},
		{name: "url, checksum from the local copy", d: Delivery{Mode: DeliveryURL, URL: "http://10.0.0.9:8080/k0s-%p"}, bin: bin,
			want: Delivery{Mode: DeliveryURL, URL: "http://10.0.0.9:8080/k0s-%p", SHA256: sum(bin), ConcurrentUploads: 5, PeerFanout: 3, PeerPort: 19443}},
		{name: "default URL needs the version", d: Delivery{Mode: DeliveryURL}, bin: bin, field: "Version"},
		{name: "default URL", d: Delivery{Mode: DeliveryURL, Version: "v1.33.4+k0s.0"}, bin: bin,
			want: Delivery{Mode: DeliveryURL, URL: DefaultK0sDownloadURL, Version: "v1.33.4+k0s.0", SHA256: sum(bin), ConcurrentUploads: 5, PeerFanout: 3, PeerPort: 19443}},
		{name: "bad version", d: Delivery{Mode: DeliveryURL, Version: "latest; rm -rf /"}, bin: bin, field: "Version"},
		{name: "not http", d: Delivery{Mode: DeliveryURL, URL: "ftp://mirror/k0s"}, bin: bin, field: "URL"},
		{name: "a quote", d: Delivery{Mode: DeliveryURL, URL: `https://mirror/k0s"x`}, bin: bin, field: "URL"},
		{name: "a space", d: Delivery{Mode: DeliveryURL, URL: "https://mirror/k0s x"}, bin: bin, field: "URL"},
		{name: "a newline", d: Delivery{Mode: DeliveryURL, URL: "https://mirror/k0s\nurl = file:///etc/shadow"}, bin: bin, field: "URL"},
		{name: "fanout 0 is the default, negative refused", d: Delivery{PeerFanout: -1}, bin: bin, field: "PeerFanout"},
		{name: "ports past 65535", d: Delivery{PeerPort: 65534, PeerFanout: 3}, bin: bin, field: "PeerPort"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.d.resolve(tc.bin)
			if tc.field != "" {
				var de *DeliveryError
				rq.ErrorAs(t, err, &de)
				rq.Equal(t, tc.field, de.Field, "%v", err)
				return
			}
			rq.NoError(t, err)
			rq.Equal(t, tc.want, got)
		})
	}
	// without the binary, upload and peer wait for Apply to say so
	_, err := Delivery{}.resolve(nil)
	rq.ErrorIs(t, err, errNoK0sBinary)
}

func TestExpandK0sURL(t *testing.T) {
	for in, want := range map[string]string{
		DefaultK0sDownloadURL:             "https://github.com/k0sproject/k0s/releases/download/v1.33.4%2Bk0s.0/k0s-v1.33.4%2Bk0s.0-arm64",
		"http://m/k0s-%p%x?a=100%%&b=%q%": "http://m/k0s-arm64%x?a=100%&b=%q%",
		"http://m/k0s":                    "http://m/k0s",
	} {
		rq.Equal(t, want, expandK0sURL(in, "v1.33.4+k0s.0", "arm64"), in)
	}
	rq.Equal(t, "https://mirror.example/k0s/x", redactURL("https://user:secret@mirror.example/k0s/x?X-Amz-Signature=abc#f"))
}

// The pool never lets a node serve more than fanout copies at once, the
// first node to ask with no source seeds it, and the others wait.
// In a synctest bubble: a waiting acquire is durably blocked (on the
// pool's wake channel), so synctest.Wait shows it waiting on any machine,
// and the timeout below runs on the bubble's clock.
func TestPeerPoolFanout(t *testing.T) {
	synctest.Test(t, testPeerPoolFanout)
}

func testPeerPoolFanout(t *testing.T) {
	p := newPeerPool(2)
	ctx := t.Context()
	_, _, seed, err := p.acquire(ctx, "a", noCheck)
	rq.NoError(t, err)
	rq.True(t, seed, "the first node seeds")
	// another node waits for the seed instead of uploading too
	got := make(chan string, 1)
	go func() {
		src, _, seed, err := p.acquire(ctx, "b", noCheck)
		if err != nil || seed {
			got <- "error or seed"
			return
		}
		got <- src
	}()
	synctest.Wait() // b blocks in acquire, or has answered
	select {
	case s := <-got:
		t.Fatalf("b did not wait for the seed: %s", s)
	default:
	}
	p.add("a")
	p.seeded()
	rq.Equal(t, "a", <-got)
	src, slot, _, err := p.acquire(ctx, "c", noCheck)
	rq.NoError(t, err)
	rq.Equal(t, "a", src)
	rq.Equal(t, 1, slot, "a's second port")
	// a serves 2: d waits until a slot is free or another source comes
	wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	_, _, _, err = p.acquire(wctx, "d", noCheck)
	cancel()
	rq.ErrorIs(t, err, context.DeadlineExceeded)
	p.add("b")
	src, _, _, err = p.acquire(ctx, "d", noCheck)
	rq.NoError(t, err)
	rq.Equal(t, "b", src)
	p.release("a", 1, true, false)
	src, slot, _, err = p.acquire(ctx, "e", noCheck)
	rq.NoError(t, err)
	rq.Equal(t, "a", src, "a has a free slot again")
	rq.Equal(t, 1, slot)
}

// In a synctest bubble, each copy's sleep ends only once every other node
// blocks: the copies overlap as much as the pool lets them, on any machine,
// so the bound is both reached and checked.
func TestPeerPoolBoundUnderLoad(t *testing.T) {
	synctest.Test(t, testPeerPoolBoundUnderLoad)
}

func testPeerPoolBoundUnderLoad(t *testing.T) {
	const fanout, nodes = 3, 60
	p := newPeerPool(fanout)
	var mu sync.Mutex
	serving, peak := map[string]int{}, 0
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() {
			self := string(rune('A' + i))
			src, slot, seed, err := p.acquire(t.Context(), self, noCheck)
			if err != nil {
				t.Error(err)
				return
			}
			if seed {
				p.add(self)
				p.seeded()
				return
			}
			mu.Lock()
			serving[src]++
			peak = max(peak, serving[src])
			mu.Unlock()
			time.Sleep(time.Millisecond)
			mu.Lock()
			serving[src]--
			mu.Unlock()
			p.release(src, slot, true, false)
			p.add(self)
		})
	}
	wg.Wait()
	rq.LessOrEqual(t, peak, fanout)
	rq.Equal(t, fanout, peak, "no source served fanout copies at once: the bound was not exercised")
	rq.Equal(t, nodes-1, p.copies, "one seed, every other node copied")
}

// Nodes that cannot reach each other: after two failed copies and none
// that worked, every node uploads; a source that cannot serve is not
// asked again.
func TestPeerPoolDegrades(t *testing.T) {
	p := newPeerPool(2)
	p.add("a")
	src, slot, _, _ := p.acquire(t.Context(), "b", noCheck)
	p.release(src, slot, false, true)
	_, _, seed, err := p.acquire(t.Context(), "c", noCheck)
	rq.NoError(t, err)
	rq.True(t, seed, "no source left that can serve: c seeds")
	p.add("c")
	p.seeded()
	src, slot, _, _ = p.acquire(t.Context(), "d", noCheck)
	rq.Equal(t, "c", src)
	p.release(src, slot, false, false)
	_, _, seed, _ = p.acquire(t.Context(), "e", noCheck)
	rq.True(t, seed, "two failures, no copy: upload")
}

// noCheck is acquire's check for a pool without a resume's candidates.
func noCheck(context.Context, []string) { panic("no candidates to check") }

// A resume: the nodes an earlier process delivered to are checked before
// anyone seeds, once, by one caller while the others wait; those that
// have the binary serve, and only when none has it does a node seed.
func TestPeerPoolResume(t *testing.T) {
	p := newPeerPool(2)
	p.candidates([]string{"a", "b", "c"})
	var checks [][]string
	started, release := make(chan struct{}), make(chan struct{})
	check := func(_ context.Context, hs []string) {
		checks = append(checks, hs) // one caller: the others wait
		close(started)
		<-release
		p.add("b") // b has it; a and c do not
	}
	type got struct {
		src  string
		seed bool
		err  error
	}
	res := make(chan got, 2)
	ask := func(self string) {
		go func() {
			src, _, seed, err := p.acquire(t.Context(), self, check)
			res <- got{src, seed, err}
		}()
	}
	// c asks first: it checks the others, not itself; d asks meanwhile
	ask("c")
	<-started
	ask("d")
	close(release)
	for range 2 {
		g := <-res
		rq.NoError(t, g.err)
		rq.False(t, g.seed, "a node seeded although b has the binary")
		rq.Equal(t, "b", g.src)
	}
	rq.Equal(t, [][]string{{"a", "b"}}, checks, "the candidates are checked once, without the asker")

	// none of the candidates has it: the asker seeds
	q := newPeerPool(1)
	q.candidates([]string{"a"})
	_, _, seed, err := q.acquire(t.Context(), "b", func(context.Context, []string) {})
	rq.NoError(t, err)
	rq.True(t, seed)
	// a candidate asking for itself does not check itself
	r := newPeerPool(1)
	r.candidates([]string{"a"})
	_, _, seed, err = r.acquire(t.Context(), "a", noCheck)
	rq.NoError(t, err)
	rq.True(t, seed)
}

// runScript runs a delivery script with sh, as the node would (as the
// current user, in a temporary folder).
func runScript(t *testing.T, script string, stdin []byte) (int, string) {
	t.Helper()
	cmd := exec.Command("sh", "-c", script)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), stderr.String()
	}
	rq.NoError(t, err)
	return 0, stderr.String()
}

func TestUploadScript(t *testing.T) {
	if _, err := exec.LookPath("sha256sum"); err != nil {
		t.Skip("needs sha256sum")
	}
	dir := t.TempDir()
	state, k := filepath.Join(dir, "state"), filepath.Join(dir, "bin", "k0s")
	bin := []byte("#!/bin/sh\necho k0s\n")
	temps := func() []string { m, _ := filepath.Glob(filepath.Join(dir, "bin", k0sTempPrefix+"*")); return m }

	// a leftover of an interrupted try goes, a wrong binary is not
	// installed and says what it got
	rq.NoError(t, os.MkdirAll(filepath.Join(dir, "bin"), 0o755))
	rq.NoError(t, os.WriteFile(filepath.Join(dir, "bin", k0sTempPrefix+"old"), []byte("x"), 0o600))
	code, stderr := runScript(t, uploadScript(state, k, false, sum(bin)), []byte("tampered"))
	rq.Equal(t, exitChecksum, code, stderr)
	rq.Equal(t, "got="+sum([]byte("tampered")), strings.TrimSpace(stderr))
	rq.NoFileExists(t, k)
	rq.Empty(t, temps(), "temporary files left")

	code, stderr = runScript(t, uploadScript(state, k, false, sum(bin)), bin)
	rq.Zero(t, code, stderr)
	got, err := os.ReadFile(k)
	rq.NoError(t, err)
	rq.Equal(t, bin, got)
	fi, err := os.Stat(k)
	rq.NoError(t, err)
	rq.Equal(t, os.FileMode(0o755), fi.Mode().Perm())
	rq.Empty(t, temps())

	// kept: a file that was not saved first is not replaced
	code, stderr = runScript(t, uploadScript(state, k, true, sum(bin)), bin)
	rq.Equal(t, exitNotOurs, code, stderr)
	rq.NoError(t, os.MkdirAll(state, 0o700))
	rq.NoError(t, os.WriteFile(filepath.Join(state, "k0s.orig"), []byte("orig"), 0o755))
	code, stderr = runScript(t, uploadScript(state, k, true, sum(bin)), bin)
	rq.Zero(t, code, stderr)

	// a folder (or a link to one) is never replaced
	d := filepath.Join(dir, "bin", "k0sdir")
	rq.NoError(t, os.MkdirAll(d, 0o755))
	code, stderr = runScript(t, uploadScript(state, d, false, sum(bin)), bin)
	rq.Equal(t, exitNotOurs, code, stderr)
	rq.NoError(t, os.Symlink(d, filepath.Join(dir, "bin", "link")))
	code, _ = runScript(t, uploadScript(state, filepath.Join(dir, "bin", "link"), false, sum(bin)), bin)
	rq.Equal(t, exitNotOurs, code)
	entries, _ := os.ReadDir(d)
	rq.Empty(t, entries, "something was written into the folder")

	// a link (the test bed's k0s → fakenode) is replaced, not written through
	target := filepath.Join(dir, "fakenode")
	rq.NoError(t, os.WriteFile(target, []byte("fakenode"), 0o755))
	l := filepath.Join(dir, "bin", "k0slink")
	rq.NoError(t, os.Symlink(target, l))
	code, stderr = runScript(t, uploadScript(state, l, false, sum(bin)), bin)
	rq.Zero(t, code, stderr)
	got, _ = os.ReadFile(target)
	rq.Equal(t, "fakenode", string(got))

	// k0sSumCmd
	out, err := exec.Command("sh", "-c", k0sSumCmd(k)+"; "+k0sSumCmd(d)+"; "+k0sSumCmd(filepath.Join(dir, "none"))).Output()
	rq.NoError(t, err)
	rq.Equal(t, "sum="+sum(bin)+"\nsum=folder\nsum=none\n", string(out))
}

// fetchScript reads the URL from stdin, never from its command line,
// and fails clearly without curl and wget.
func TestFetchScript(t *testing.T) {
	s := fetchScript("/s", "/k0s", false, sum([]byte("x")), false, time.Minute)
	rq.NotContains(t, s, "mirror")
	rq.Contains(t, s, "-K -")
	rq.Contains(t, s, "-i -")
	rq.NotContains(t, s, " -k ")
	rq.Contains(t, fetchScript("/s", "/k0s", false, "x", true, time.Minute), "curl -sSfL -k")

	if _, err := exec.LookPath("sha256sum"); err != nil {
		t.Skip("needs sha256sum")
	}
	dir := t.TempDir()
	// only sh's own tools: neither curl nor wget on PATH
	bindir := filepath.Join(dir, "path")
	rq.NoError(t, os.MkdirAll(bindir, 0o755))
	for _, tool := range []string{"mkdir", "rm", "mktemp", "sha256sum", "chmod", "mv", "cat"} {
		p, err := exec.LookPath(tool)
		rq.NoError(t, err)
		rq.NoError(t, os.Symlink(p, filepath.Join(bindir, tool)))
	}
	k := filepath.Join(dir, "bin", "k0s")
	code, stderr := runScript(t, "PATH="+shell.Quote(bindir)+"\n"+fetchScript(filepath.Join(dir, "s"), k, false, "x", false, time.Minute), []byte("http://mirror.invalid/k0s\n"))
	rq.Equal(t, exitFetch, code, stderr)
	rq.Contains(t, stderr, "neither curl nor wget")
}

// A checksum mismatch reported by the node becomes a K0sChecksumError
// naming the host and the source.
func TestDeliveryChecksumError(t *testing.T) {
	fc := newFakeCluster(worker)
	e := testEnv(fc)
	c := e.Commands
	// nothing staged: the step delivers the binary itself
	fc.nodes[worker].reply[shell.Sudo(k0sSaveCmd(c.StateDir, c.K0sPath, c.K0sDir, c.KeepFiles)+" && sh -c "+shell.Quote(k0sActivateScript(c.StateDir, c.K0sPath, e.Delivery.SHA256)))] = "none\nmissing"
	fc.nodes[worker].reply[shell.Sudo(k0sSumCmd(c.K0sPath))] = "sum=none"
	fc.nodes[worker].fail[shell.Sudo(uploadScript(e.Commands.StateDir, e.Commands.K0sPath, false, e.Delivery.SHA256))] =
		&hosts.HostError{Host: worker, Op: "exec", Err: &hosts.CommandError{ExitCode: exitChecksum, Stderr: "got=" + strings.Repeat("0", 64)}}
	s := k0sBinaryStep(e, worker)
	err := s.Do(t.Context(), plan.NewRun(s, fc.nodes[worker], nil, nil))
	var ce *K0sChecksumError
	rq.ErrorAs(t, err, &ce)
	rq.Equal(t, worker, ce.Host)
	rq.Equal(t, strings.Repeat("0", 64), ce.Got)
	rq.Contains(t, err.Error(), worker)
}

func TestDeliveryChecks(t *testing.T) {
	rq.Empty(t, deliveryChecks(DeliveryURL, "h", "wget sha256sum "))
	rq.Empty(t, deliveryChecks(DeliveryPeer, "h", "sha256sum"), "peer falls back to upload")
	bs := deliveryChecks(DeliveryURL, "h:22", "openssl")
	rq.Len(t, bs, 2)
	rq.Equal(t, "h:22", bs[0].Host)
	rq.Contains(t, bs[1].Message, "neither curl nor wget")
}

// Without a binary to deliver, New lets a run that changes nothing go
// on, and Apply and Resume refuse to start.
func TestApplyNeedsK0sBinary(t *testing.T) {
	u, err := New(Options{Hosts: []hosts.Host{{Address: "10.0.0.1"}}, OutputDir: t.TempDir()})
	rq.NoError(t, err)
	defer u.Close()
	_, err = u.Apply(t.Context(), &plan.Plan{})
	rq.ErrorIs(t, err, errNoK0sBinary)
	_, err = u.Resume(t.Context(), &plan.Plan{})
	rq.ErrorIs(t, err, errNoK0sBinary)
}
