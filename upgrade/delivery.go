package upgrade

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/internal/shell"
	"github.com/mke-migrate/mke-migrate/plan"
	"github.com/mke-migrate/mke-migrate/upgrade/journal"
	"github.com/mke-migrate/mke-migrate/upgrade/preflight"
)

// DeliveryMode is how the k0s binary gets onto the nodes.
type DeliveryMode string

const (
	// DeliveryUpload sends the binary from this machine to every node over
	// SSH, at most Delivery.ConcurrentUploads at a time (k0sctl's
	// uploadBinary: true, with its --concurrent-uploads).
	DeliveryUpload DeliveryMode = "upload"
	// DeliveryURL has every node download the binary itself from
	// Delivery.URL (a mirror, or k0s's GitHub releases as k0sctl does by
	// default), with curl or wget, whichever the node has (as rig's
	// DownloadURL: curl first).
	DeliveryURL DeliveryMode = "url"
	// DeliveryPeer uploads the binary once, to the first node that needs
	// it; every other node copies it from a node that has it, which
	// serves it on a one-shot port (see Delivery.PeerPort), each at most
	// Delivery.PeerFanout at a time, so the copies fan out as a tree.
	DeliveryPeer DeliveryMode = "peer"
)

// Defaults of Delivery.
const (
	// DefaultDeliveryMode is peer: this machine sends the binary once
	// whatever the number of nodes, it needs no Internet access nor
	// mirror (MKE sites are often air-gapped), and a node that cannot
	// copy from a peer gets it uploaded instead, so it never does worse
	// than upload. Upload stays available for sites whose nodes cannot
	// reach each other; url for sites with a mirror.
	DefaultDeliveryMode = DeliveryPeer
	// DefaultConcurrentUploads is k0sctl's --concurrent-uploads default.
	DefaultConcurrentUploads = 5
	// DefaultPeerFanout is how many copies one node serves at once.
	DefaultPeerFanout = 3
	// DefaultPeerPort is the first of the PeerFanout TCP ports a node
	// serves the binary on (our choice: neither k0s nor MKE 3 nor MKE 4k
	// documents a listener there).
	DefaultPeerPort = 19443
	// DefaultK0sDownloadURL is where k0s releases its binaries, as
	// k0sctl downloads them (k0sproject/version DownloadURL:
	// releases/download/<version>/k0s-<version>-<arch>). Tokens as
	// k0sctl's k0sDownloadURL: %v the version, %p the node's
	// architecture (amd64, arm64, arm), %% a percent sign.
	DefaultK0sDownloadURL = "https://github.com/k0sproject/k0s/releases/download/%v/k0s-%v-%p"
)

// Delivery says how the k0s binary gets onto the nodes. The zero value is
// DefaultDeliveryMode with every default. Whatever the mode, the binary is
// written next to Commands.K0sPath under a temporary name, its SHA-256
// checked on the node, made 0755 and renamed over the path (an existing
// file there was saved first and comes back with a rollback; a folder
// there is never replaced), and a node that has the binary already (same
// SHA-256) gets nothing sent again.
type Delivery struct {
	// Mode is upload, url or peer (default DefaultDeliveryMode).
	Mode DeliveryMode
	// URL is where nodes download k0s in url mode (default
	// DefaultK0sDownloadURL, which needs Version). It reaches the nodes
	// on standard input, never on a command line, and is shown without
	// its user information and query in messages.
	URL string
	// Version fills %v in URL (a k0s version such as v1.33.4+k0s.0).
	Version string
	// SHA256 is the binary's SHA-256 in hex: with url mode, the one every
	// node must find, or the mode is refused; it defaults to the SHA-256
	// of Options.K0sBinary, and must match it when both are given.
	SHA256 string
	// ConcurrentUploads bounds the uploads from this machine at once
	// (every upload of upload mode, and peer mode's first upload and
	// fallbacks); 0 means DefaultConcurrentUploads, a negative value no
	// bound.
	ConcurrentUploads int
	// PeerFanout is how many nodes one node serves at once in peer mode
	// (default DefaultPeerFanout); PeerPort the first of its PeerFanout
	// TCP ports (default DefaultPeerPort), which must be open between
	// the nodes. A copy that fails is replaced by an upload.
	PeerFanout, PeerPort int
}

// CheckDelivery validates Delivery against K0sBinary as New does (no
// I/O): a *DeliveryError names the field; without a binary, upload and
// peer delivery cannot install k0s (an error that is not a
// *DeliveryError).
func (o *Options) CheckDelivery() error {
	_, err := o.Delivery.resolve(o.K0sBinary)
	return err
}

// Resolved is d with its defaults filled, or a *DeliveryError naming the
// field that cannot be used; the k0s binary is not needed (no I/O).
func (d Delivery) Resolved() (Delivery, error) {
	r, err := d.resolve(nil)
	if errors.Is(err, errNoK0sBinary) {
		err = nil
	}
	return r, err
}

// DeliveryError is a Delivery that cannot be used; Field names the
// option.
type DeliveryError struct{ Field, Msg string }

func (e *DeliveryError) Error() string {
	return fmt.Sprintf("upgrade: k0s delivery: %s: %s", e.Field, e.Msg)
}

// errNoK0sBinary: upload and peer mode need the binary (Apply and Resume
// do; Discover, Plan and Rollback do not).
var errNoK0sBinary = errors.New("upgrade: no k0s binary")

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// resolve checks d against the k0s binary given (nil for none) and fills
// its defaults; no I/O.
func (d Delivery) resolve(bin []byte) (Delivery, error) {
	bad := func(field, msg string) (Delivery, error) { return d, &DeliveryError{Field: field, Msg: msg} }
	if d.Mode == "" {
		d.Mode = DefaultDeliveryMode
	}
	if !slices.Contains([]DeliveryMode{DeliveryUpload, DeliveryURL, DeliveryPeer}, d.Mode) {
		return bad("Mode", fmt.Sprintf("%q: want upload, url or peer", d.Mode))
	}
	d.SHA256 = strings.ToLower(strings.TrimSpace(d.SHA256))
	if d.SHA256 != "" && !sha256Hex.MatchString(d.SHA256) {
		return bad("SHA256", "want 64 hexadecimal digits (as sha256sum prints)")
	}
	if len(bin) > 0 {
		sum := sha256.Sum256(bin)
		got := hex.EncodeToString(sum[:])
		if d.SHA256 != "" && d.SHA256 != got {
			return bad("SHA256", fmt.Sprintf("the k0s binary given has SHA-256 %s, not %s", got, d.SHA256))
		}
		d.SHA256 = got
	}
	if d.ConcurrentUploads == 0 {
		d.ConcurrentUploads = DefaultConcurrentUploads
	}
	if d.PeerFanout == 0 {
		d.PeerFanout = DefaultPeerFanout
	}
	if d.PeerPort == 0 {
		d.PeerPort = DefaultPeerPort
	}
	switch {
	case d.PeerFanout < 1:
		return bad("PeerFanout", "must be at least 1")
	case d.PeerPort < 1 || d.PeerPort+d.PeerFanout-1 > 65535:
		return bad("PeerPort", fmt.Sprintf("ports %d to %d are not all TCP ports", d.PeerPort, d.PeerPort+d.PeerFanout-1))
	}
	if d.Mode != DeliveryURL {
		if len(bin) == 0 {
			return d, errNoK0sBinary
		}
		return d, nil
	}
	if d.SHA256 == "" {
		return bad("SHA256", "url mode needs the binary's SHA-256, given or computed from a local copy of the binary: a download is never installed unchecked")
	}
	if d.URL == "" {
		d.URL = DefaultK0sDownloadURL
	}
	if err := checkK0sURL(d.URL); err != nil {
		return bad("URL", err.Error())
	}
	if strings.Contains(strings.ReplaceAll(d.URL, "%%", ""), "%v") && d.Version == "" {
		return bad("Version", "the URL has %v: give the k0s version (such as v1.33.4+k0s.0)")
	}
	if d.Version != "" && !k0sVersionRe.MatchString(d.Version) {
		return bad("Version", fmt.Sprintf("%q is not a k0s version such as v1.33.4+k0s.0", d.Version))
	}
	return d, nil
}

var k0sVersionRe = regexp.MustCompile(`^v?[0-9]+\.[0-9]+\.[0-9]+[0-9A-Za-z.+-]*$`)

// checkK0sURL accepts an http or https URL that travels as one line and
// one curl config string: no white space, quotes or backslashes (encode
// them as %XX).
func checkK0sURL(raw string) error {
	if strings.ContainsAny(raw, " \t\r\n\"'\\`") || strings.ContainsFunc(raw, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return errors.New("must not contain white space, quotes, backslashes or control characters (percent-encode them)")
	}
	u, err := url.Parse(strings.NewReplacer("%%", "", "%v", "v", "%p", "p").Replace(raw))
	if err != nil {
		return errors.New("not a URL: " + err.Error())
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return errors.New("want an http:// or https:// URL")
	}
	return nil
}

// expandK0sURL fills k0sctl's tokens (%v version, %p architecture, %%
// percent; any other % sequence stays as it is, as k0sctl's
// ExpandTokens does).
func expandK0sURL(tmpl, version, arch string) string {
	var b strings.Builder
	for i := 0; i < len(tmpl); i++ {
		if tmpl[i] != '%' || i+1 == len(tmpl) {
			b.WriteByte(tmpl[i])
			continue
		}
		i++
		switch tmpl[i] {
		case '%':
			b.WriteByte('%')
		case 'v':
			b.WriteString(url.QueryEscape(version))
		case 'p':
			b.WriteString(arch)
		default:
			b.WriteByte('%')
			b.WriteByte(tmpl[i])
		}
	}
	return b.String()
}

// redactURL is u for messages: no user information, query or fragment.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(a URL)"
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return u.String()
}

// K0sChecksumError is a k0s binary that reached a node with another
// SHA-256 than the one wanted: it was not installed.
type K0sChecksumError struct {
	Host, Source string
	Want, Got    string
}

func (e *K0sChecksumError) Error() string {
	return fmt.Sprintf("%s: the k0s binary from %s has SHA-256 %s, want %s: not installed (check the binary at the source and the expected checksum)",
		e.Host, e.Source, e.Got, e.Want)
}

// Exit codes of the delivery scripts.
const (
	exitChecksum = 3
	exitNotOurs  = 4
	exitFetch    = 5
	exitServe    = 6
)

// k0sTempPrefix names the delivery's temporary files next to K0sPath;
// leftovers of an interrupted try (only ours) are removed by the next.
const k0sTempPrefix = ".k0s.mke-migrate."

// k0sSumCmd prints sum=<SHA-256> of the file at k0sPath, sum=none without
// a file, sum=folder for a folder.
func k0sSumCmd(k0sPath string) string {
	k := shell.Quote(k0sPath)
	return fmt.Sprintf("if [ -d %s ]; then echo sum=folder; elif [ -f %s ]; then s=$(sha256sum < %s); echo \"sum=${s%%%% *}\"; else echo sum=none; fi", k, k, k)
}

// installHead starts a delivery script: set -e, a temporary file $t next
// to k0sPath (removed on every exit), and the guard that refuses to
// replace what is not ours: a folder, or (kept) a file that was neither
// saved under stateDir first nor found absent by the save (k0s.none: the
// file is the run's).
func installHead(stateDir, k0sPath string, kept bool) string {
	k, dir := shell.Quote(k0sPath), shell.Quote(path.Dir(k0sPath))
	var b strings.Builder
	fmt.Fprintf(&b, "set -e\nk=%s\nmkdir -p %s\n", k, dir)
	fmt.Fprintf(&b, "if [ -d \"$k\" ]; then echo \"$k is a folder: not replaced by the k0s binary\" >&2; exit %d; fi\n", exitNotOurs)
	if kept {
		o, none := statePath(stateDir, "k0s.orig"), statePath(stateDir, "k0s.none")
		fmt.Fprintf(&b, "if { [ -e \"$k\" ] || [ -L \"$k\" ]; } && [ ! -e %s ] && [ ! -L %s ] && [ ! -e %s ]; then echo \"$k is not saved at \"%s\": not replaced\" >&2; exit %d; fi\n", o, o, none, o, exitNotOurs)
	}
	fmt.Fprintf(&b, "rm -f %s/%s*\nt=$(mktemp %s/%sXXXXXX)\ntrap 'rm -f \"$t\"' EXIT\ntrap 'exit 129' HUP INT TERM\n", dir, k0sTempPrefix, dir, k0sTempPrefix)
	return b.String()
}

// installTail checks $t's SHA-256 and renames it over $k, 0755.
func installTail(want string) string {
	return fmt.Sprintf("s=$(sha256sum < \"$t\"); s=${s%%%% *}\nif [ \"$s\" != %s ]; then echo \"got=$s\" >&2; exit %d; fi\nchmod 0755 \"$t\"\nmv -f \"$t\" \"$k\"\ntrap - EXIT\n", want, exitChecksum)
}

// uploadScript installs the binary read from standard input.
func uploadScript(stateDir, k0sPath string, kept bool, want string) string {
	return installHead(stateDir, k0sPath, kept) + "cat > \"$t\"\n" + installTail(want)
}

// fetchScript installs the binary downloaded from the URL on the first
// line of standard input (never on the command line: it may hold
// credentials) with curl or else wget, as rig's DownloadURL chooses
// (curl -sSLf, wget -q); insecure skips TLS verification (a peer's
// one-shot certificate: the SHA-256 is what is trusted). maxTime bounds
// the download.
func fetchScript(stateDir, k0sPath string, kept bool, want string, insecure bool, maxTime time.Duration) string {
	ck, wk := "", ""
	if insecure {
		ck, wk = " -k", " --no-check-certificate"
	}
	secs := max(int(maxTime.Seconds()), 1)
	var b strings.Builder
	b.WriteString(installHead(stateDir, k0sPath, kept))
	b.WriteString("IFS= read -r u\n")
	fmt.Fprintf(&b, "if command -v curl >/dev/null 2>&1; then\n  if ! printf 'url = \"%%s\"\\n' \"$u\" | curl -sSfL%s --connect-timeout 10 --max-time %d -o \"$t\" -K -; then echo 'download failed (curl)' >&2; exit %d; fi\n", ck, secs, exitFetch)
	fmt.Fprintf(&b, "elif command -v wget >/dev/null 2>&1; then\n  if ! printf '%%s\\n' \"$u\" | wget -q%s --timeout=%d -O \"$t\" -i -; then echo 'download failed (wget)' >&2; exit %d; fi\n", wk, min(secs, 600), exitFetch)
	fmt.Fprintf(&b, "else echo 'neither curl nor wget is installed on this node' >&2; exit %d; fi\n", exitFetch)
	b.WriteString(installTail(want))
	return b.String()
}

// peerServeTimeout ends a one-shot server nobody fetched from.
const peerServeTimeout = 10 * time.Minute

// peerDir is the prefix of the folders of the one-shot servers on port:
// each server has its own, peerDir.XXXXXX (mktemp -d), so that the
// cleanup of one that served its copy, which runs once it ended, never
// removes the folder of the next one on the same port (the port is free
// for it as soon as the copy is done, while s_server still drains the
// connection for up to 0.5 s before it ends: openssl apps/lib/s_socket.c,
// do_server).
func peerDir(stateDir string, port int) string {
	return strings.TrimRight(stateDir, "/") + "/peer-" + strconv.Itoa(port)
}

// serveStartCmd starts, on a node that has the binary, a one-shot HTTPS
// server of it on addr:port and returns once it listens: openssl
// s_server -WWW serves files of its working folder (which holds only a
// link to the binary; it refuses paths with ".."), -naccept 1 ends it
// after one connection, and timeout after peerServeTimeout. Its
// certificate is made on the spot and trusted by nobody: the receiver
// checks the SHA-256. A server of an earlier, interrupted try on the same
// port is stopped first. The server's folder (its own: peerDir) goes
// when the server ends normally, else with serveStopCmd.
func serveStartCmd(stateDir, k0sPath, addr string, port int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "set -e\n%s\nmkdir -p %s\nD=$(mktemp -d %s.XXXXXX)\n", serveStopCmd(stateDir, port),
		shell.Quote(strings.TrimRight(stateDir, "/")), shell.Quote(peerDir(stateDir, port)))
	fmt.Fprintf(&b, "command -v openssl >/dev/null 2>&1 || { echo 'openssl is not installed on this node' >&2; exit %d; }\n", exitServe)
	fmt.Fprintf(&b, "[ -f %s ] || { echo 'no k0s binary at %s' >&2; exit %d; }\n", shell.Quote(k0sPath), k0sPath, exitServe)
	fmt.Fprintf(&b, "mkdir -p \"$D/www\"; chmod 0700 \"$D\"; ln -s %s \"$D/www/k0s\"\n", shell.Quote(k0sPath))
	fmt.Fprintf(&b, "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout \"$D/key.pem\" -out \"$D/cert.pem\" -days 1 -subj /CN=mke-migrate-peer >/dev/null 2>&1 || { echo 'openssl could not make a certificate' >&2; exit %d; }\n", exitServe)
	fmt.Fprintf(&b, "(cd \"$D/www\" && { timeout %d openssl s_server -accept %s -naccept 1 -WWW -cert ../cert.pem -key ../key.pem </dev/null >../log 2>&1 & echo $! > ../pid; if wait; then cd /; rm -rf \"$D\"; fi; }) </dev/null >/dev/null 2>&1 &\n",
		int(peerServeTimeout.Seconds()), shell.Word(net.JoinHostPort(addr, strconv.Itoa(port))))
	fmt.Fprintf(&b, "i=0; until grep -q ACCEPT \"$D/log\" 2>/dev/null; do i=$((i+1)); if [ $i -ge 150 ]; then echo \"the one-shot server did not start on port %d: $(head -c 300 \"$D/log\" 2>/dev/null)\" >&2; %s; exit %d; fi; sleep 0.1; done\n",
		port, serveStopCmd(stateDir, port), exitServe)
	return b.String()
}

// serveStopCmd stops the one-shot servers on port, if any, and removes
// their folders (and the one folder of an earlier version, peerDir
// itself).
func serveStopCmd(stateDir string, port int) string {
	d := shell.Quote(peerDir(stateDir, port))
	return fmt.Sprintf("for p in %s/pid %s.*/pid; do if [ -f \"$p\" ]; then kill \"$(cat \"$p\")\" 2>/dev/null || true; fi; done; rm -rf %s %s.*", d, d, d, d)
}

// peerCleanupCmd stops every one-shot server of the run on a node (a
// rollback's first act there).
func peerCleanupCmd(stateDir string) string {
	s := shell.Quote(strings.TrimRight(stateDir, "/"))
	return fmt.Sprintf("for p in %s/peer-*/pid; do [ -f \"$p\" ] && kill \"$(cat \"$p\")\" 2>/dev/null; done; rm -rf %s/peer-*", s, s)
}

// deliveryState is what the k0s-binary steps of one run share: the bound
// on uploads and the peer pool.
type deliveryState struct {
	uploads chan struct{} // nil: no bound
	// staged: the nodes that have the binary at the staged path (the
	// k0s-upload stage); peers: at K0sPath (k0s-binary's own delivery,
	// when nothing was staged). Apart: an activated node has no staged
	// copy left to serve.
	staged, peers *peerPool
}

func newDeliveryState(d Delivery) *deliveryState {
	s := &deliveryState{staged: newPeerPool(max(d.PeerFanout, 1)), peers: newPeerPool(max(d.PeerFanout, 1))}
	if d.ConcurrentUploads > 0 {
		s.uploads = make(chan struct{}, d.ConcurrentUploads)
	}
	return s
}

// resume gives the pools, before a resumed run goes on, the nodes that
// an earlier process of the run delivered the binary to (from journal
// state st): those whose k0s-upload is done and k0s-binary not (the
// staged copy) and those whose k0s-binary is done (the binary at
// K0sPath). Their steps do not run again, so without this the first node
// to ask would find no source and get the binary uploaded once more.
// Each is checked (SHA-256, openssl) before it serves, and only when a
// node needs a source (peerPool.acquire).
func (s *deliveryState) resume(st *journal.State, hosts []string) {
	var staged, installed []string
	for _, h := range hosts {
		switch {
		case st.Done("k0s-binary", h):
			installed = append(installed, h)
		case st.Done("k0s-upload", h):
			staged = append(staged, h)
		}
	}
	s.staged.candidates(staged)
	s.peers.candidates(installed)
}

// peerPool hands out sources for peer copies: nodes that have the
// verified binary, each serving at most fanout copies at once. The first
// node to ask when there is no source gets it by upload (the seed); the
// others wait for a source. After two failed copies and none that
// worked, the nodes cannot copy from each other (a firewall): every node
// uploads instead. On a resume, the nodes an earlier process delivered
// to are checked first (maybe): a node that has the binary is a source
// and nothing is uploaded.
type peerPool struct {
	fanout int

	mu        sync.Mutex
	wake      chan struct{} // closed at every change
	have      []string      // sources, in the order they got the binary
	slots     map[string][]bool
	bad       map[string]bool // could not serve
	seeding   bool
	failures  int
	copies    int
	maybe     []string // may have the binary (a resume): checked before a seed
	verifying bool
}

// candidates adds hosts that may have the binary (not checked yet).
func (p *peerPool) candidates(hosts []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, h := range hosts {
		if !slices.Contains(p.maybe, h) && !slices.Contains(p.have, h) {
			p.maybe = append(p.maybe, h)
		}
	}
}

func newPeerPool(fanout int) *peerPool {
	return &peerPool{fanout: fanout, wake: make(chan struct{}), slots: map[string][]bool{}, bad: map[string]bool{}}
}

// changed wakes the waiters; p.mu is held.
func (p *peerPool) changed() {
	close(p.wake)
	p.wake = make(chan struct{})
}

// acquire returns a source for self and the slot (port offset) it serves
// on, or seed=true: self gets the binary by upload. With no source, the
// candidates other than self (a resume's) are first given to check, which
// adds those that have the binary (Env.delivered); meanwhile the others
// wait, so that none seeds while a source may be found.
func (p *peerPool) acquire(ctx context.Context, self string, check func(ctx context.Context, hosts []string)) (src string, slot int, seed bool, err error) {
	for {
		p.mu.Lock()
		if p.failures >= 2 && p.copies == 0 {
			p.mu.Unlock()
			return "", 0, true, nil
		}
		best, used, usable := "", p.fanout, 0
		for _, h := range p.have {
			if h == self || p.bad[h] {
				continue
			}
			usable++
			n := 0
			for _, b := range p.slots[h] {
				if b {
					n++
				}
			}
			if n < used {
				best, used = h, n
			}
		}
		if best != "" {
			s := p.slots[best]
			if s == nil {
				s = make([]bool, p.fanout)
				p.slots[best] = s
			}
			i := slices.Index(s, false)
			s[i] = true
			p.mu.Unlock()
			return best, i, false, nil
		}
		if others := slices.DeleteFunc(slices.Clone(p.maybe), func(h string) bool { return h == self }); usable == 0 && len(others) > 0 && !p.verifying && !p.seeding {
			p.verifying = true
			p.maybe = slices.DeleteFunc(p.maybe, func(h string) bool { return h != self })
			p.mu.Unlock()
			check(ctx, others)
			p.mu.Lock()
			p.verifying = false
			p.changed()
			p.mu.Unlock()
			if err := ctx.Err(); err != nil {
				return "", 0, false, err
			}
			continue
		}
		if usable == 0 && !p.seeding && !p.verifying {
			p.seeding = true
			p.mu.Unlock()
			return "", 0, true, nil
		}
		w := p.wake
		p.mu.Unlock()
		select {
		case <-w:
		case <-ctx.Done():
			return "", 0, false, ctx.Err()
		}
	}
}

// release frees src's slot after a copy: copied says whether it worked,
// srcBad that src could not serve at all (it is not asked again).
func (p *peerPool) release(src string, slot int, copied, srcBad bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.slots[src][slot] = false
	switch {
	case copied:
		p.copies++
	case srcBad:
		p.bad[src] = true
		p.failures++
	default:
		p.failures++
	}
	p.changed()
}

// seeded ends a seed upload (ok: it worked, and its node was added).
func (p *peerPool) seeded() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seeding = false
	p.changed()
}

// add makes host a source.
func (p *peerPool) add(host string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !slices.Contains(p.have, host) {
		p.have = append(p.have, host)
		delete(p.bad, host)
		p.changed()
	}
}

// deliveryHow says how Delivery.Mode brings the binary, for the plan.
func (e *Env) deliveryHow() string {
	switch e.Delivery.Mode {
	case DeliveryURL:
		return "downloaded by the node from " + redactURL(e.Delivery.URL)
	case DeliveryPeer:
		return "copied from a node that has it (the first one uploaded)"
	}
	return "uploaded from this machine"
}

// stageChanges is the k0s-upload step's line in the printed plan.
func (e *Env) stageChanges() string {
	return "puts the k0s binary at " + stagedPath(e.Commands.StateDir) + ", " + e.deliveryHow() + ", SHA-256 checked, before MKE 3 stops (nothing of MKE 3 changes)"
}

// deliveryChanges is the k0s-binary step's line in the printed plan.
func (e *Env) deliveryChanges() string {
	return "moves the k0s binary staged before the outage to " + e.Commands.K0sPath + ", SHA-256 checked (with none staged, " + e.deliveryHow() + "; an existing file is saved; so are MKE 3's files k0s reset deletes)"
}

// deliverK0s delivers the binary to K0sPath when k0sBinaryStep found
// none staged (its save recorded already), unless the node has it there.
func (e *Env) deliverK0s(ctx context.Context, r *plan.Run) error {
	c := e.Commands
	out, err := sudo(ctx, r.Node, k0sSumCmd(c.K0sPath))
	if err != nil {
		return err
	}
	if have, err := e.hasK0s(r.Step.Host, c.K0sPath, outValue(out, "sum")); err != nil || have {
		if have {
			r.Logger.Info("k0s binary already in place", "path", c.K0sPath)
			e.delivered(r.Step.Host, e.delivery.peers)
		}
		return err
	}
	return e.deliverTo(ctx, r, c.K0sPath, r.Get("saved") == "saved", e.delivery.peers)
}

// hasK0s says whether sum (k0sSumCmd's) is the wanted binary's; a folder
// at dest is an error: it is never replaced.
func (e *Env) hasK0s(host, dest, sum string) (bool, error) {
	if sum == "folder" {
		return false, fmt.Errorf("%s: %s is a folder: not replaced by the k0s binary", host, dest)
	}
	return sum == e.Delivery.SHA256, nil
}

// outValue is the value of key=value in a remote command's output.
func outValue(out, key string) string {
	for _, f := range strings.Fields(out) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			return v
		}
	}
	return ""
}

// deliverTo gets the binary to dest on the node as Delivery.Mode says;
// kept: dest may be replaced only once saved (installHead). pool is the
// peer pool of nodes that have it at dest.
func (e *Env) deliverTo(ctx context.Context, r *plan.Run, dest string, kept bool, pool *peerPool) error {
	host := r.Step.Host
	var err error
	switch e.Delivery.Mode {
	case DeliveryURL:
		f := e.Cluster.Facts[host]
		u := expandK0sURL(e.Delivery.URL, e.Delivery.Version, f.OS.Arch)
		err = e.fetch(ctx, r, dest, u, redactURL(u), kept, false)
	case DeliveryPeer:
		err = e.peerCopy(ctx, r, dest, kept, pool)
	default:
		err = e.upload(ctx, r, dest, kept)
	}
	if err != nil {
		return err
	}
	e.delivered(host, pool)
	return nil
}

// stageK0s is the k0s-upload step's Do: the binary reaches the node's
// staged path (StateDir/k0s.staged) before the outage, SHA-256 checked
// there; a node that has it staged already gets nothing sent again.
func (e *Env) stageK0s(ctx context.Context, r *plan.Run) error {
	c := e.Commands
	dest := stagedPath(c.StateDir)
	out, err := sudo(ctx, r.Node, stageSumCmd(c.StateDir, c.K0sPath))
	if err != nil {
		return err
	}
	if have, err := e.hasK0s(r.Step.Host, dest, outValue(out, "sum")); err != nil || have {
		if have {
			r.Logger.Info("k0s binary already staged", "path", dest)
			e.delivered(r.Step.Host, e.delivery.staged)
		}
		return err
	}
	if outValue(out, "installed") == e.Delivery.SHA256 {
		// k0s-binary finds it in place and sends nothing
		r.Logger.Info("k0s binary already in place: nothing staged", "path", c.K0sPath)
		return nil
	}
	return e.deliverTo(ctx, r, dest, false, e.delivery.staged)
}

// stageSumCmd prints sum=<SHA-256> of the staged binary and
// installed=<SHA-256> of the one at k0sPath (none, folder: k0sSumCmd).
func stageSumCmd(stateDir, k0sPath string) string {
	return k0sSumCmd(stagedPath(stateDir)) + "\n" + strings.ReplaceAll(k0sSumCmd(k0sPath), "sum=", "installed=")
}

// delivered records that host has the binary: a source for peer copies
// if it can serve.
func (e *Env) delivered(host string, pool *peerPool) {
	if e.Delivery.Mode != DeliveryPeer {
		return
	}
	if t, ok := e.Cluster.DeliveryTools[host]; ok && !slices.Contains(strings.Fields(t), "openssl") {
		return
	}
	pool.add(host)
}

// upload sends the binary from this machine (at most ConcurrentUploads at
// a time).
func (e *Env) upload(ctx context.Context, r *plan.Run, dest string, kept bool) error {
	return e.uploadTo(ctx, r.Node, r.Step.Host, dest, kept)
}

// uploadTo is upload on node n (of host).
func (e *Env) uploadTo(ctx context.Context, n hosts.Node, host, dest string, kept bool) error {
	if len(e.K0sBinary) == 0 {
		return errors.New("no k0s binary to upload")
	}
	// Steps made e.delivery; uploads is nil only without a bound
	if sem := e.delivery.uploads; sem != nil {
		select {
		case sem <- struct{}{}:
			defer func() { <-sem }()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	c := e.Commands
	_, err := n.Exec(ctx, shell.Sudo(uploadScript(c.StateDir, dest, kept, e.Delivery.SHA256)),
		hosts.WithSudo(), hosts.WithStdin(bytes.NewReader(e.K0sBinary)))
	return e.deliveryErr(host, "this machine", err)
}

// fetch has the node download the binary from u (shown as shown).
func (e *Env) fetch(ctx context.Context, r *plan.Run, dest, u, shown string, kept, insecure bool) error {
	c := e.Commands
	limit := 30 * time.Minute
	if dl, ok := ctx.Deadline(); ok {
		limit = time.Until(dl)
	}
	_, err := r.Node.Exec(ctx, shell.Sudo(fetchScript(c.StateDir, dest, kept, e.Delivery.SHA256, insecure, limit)),
		hosts.WithSudo(), hosts.WithStdin(strings.NewReader(u+"\n")))
	return e.deliveryErr(r.Step.Host, shown, err)
}

// deliveryErr names what a delivery script's exit code means.
func (e *Env) deliveryErr(host, source string, err error) error {
	var ce *hosts.CommandError
	if err == nil || !errors.As(err, &ce) {
		return err
	}
	switch ce.ExitCode {
	case exitChecksum:
		got, _ := strings.CutPrefix(strings.TrimSpace(ce.Stderr), "got=")
		return &K0sChecksumError{Host: host, Source: source, Want: e.Delivery.SHA256, Got: got}
	case exitFetch:
		return fmt.Errorf("%s: download the k0s binary from %s: %w", host, source, err)
	}
	return err
}

// peerAddr is the address other nodes reach host at: its privateAddress
// (or privateInterface's address), else the address it is reached at
// over SSH.
func (e *Env) peerAddr(host string) string {
	if ip := e.Cluster.NodeIPs[host]; ip != "" {
		return ip
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return host
}

// peerCopy copies the binary from a node that has it, or uploads it when
// none has it yet (the seed) or the copy fails.
func (e *Env) peerCopy(ctx context.Context, r *plan.Run, dest string, kept bool, pool *peerPool) error {
	host := r.Step.Host
	src, slot, seed, err := pool.acquire(ctx, host, func(ctx context.Context, hs []string) { e.checkSources(ctx, r, hs, dest, pool) })
	if err != nil {
		return err
	}
	if seed {
		// the seed is a source before the seeding ends: a waiter woken
		// in between would otherwise find no source and seed again
		err := e.upload(ctx, r, dest, kept)
		if err == nil {
			e.delivered(host, pool)
		}
		pool.seeded()
		return err
	}
	port := e.Delivery.PeerPort + slot
	copied, srcBad := false, false
	defer func() { pool.release(src, slot, copied, srcBad) }()
	n, err := e.Nodes.Node(ctx, src)
	if err == nil {
		_, err = sudo(ctx, n, serveStartCmd(e.Commands.StateDir, dest, e.peerAddr(src), port))
	}
	if err != nil {
		srcBad = true
		if ctx.Err() != nil {
			return err
		}
		r.Logger.Warn("peer cannot serve the k0s binary: uploading it from this machine instead", "peer", src, "err", err)
		return e.upload(ctx, r, dest, kept)
	}
	u := "https://" + net.JoinHostPort(e.peerAddr(src), strconv.Itoa(port)) + "/k0s"
	err = e.fetch(ctx, r, dest, u, "peer "+src+" ("+u+")", kept, true)
	if err == nil {
		copied = true
		r.Set("copied-from", src)
		return nil
	}
	// the server may still wait for a connection
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	_, _ = sudo(sctx, n, serveStopCmd(e.Commands.StateDir, port))
	cancel()
	if ctx.Err() != nil {
		return err
	}
	r.Logger.Warn("copy from a peer failed: uploading the k0s binary from this machine instead", "peer", src, "err", err)
	// a connection the failure broke is dialled again
	node := r.Node
	if errors.Is(err, hosts.ErrConnectionLost) {
		if node, err = e.Nodes.Node(ctx, host); err != nil {
			return err
		}
	}
	return e.uploadTo(ctx, node, host, dest, kept)
}

// checkSources adds to pool those of hs (a resume's candidates) that have
// the wanted binary at dest, one SHA-256 command each, a few at a time; a
// node that cannot be reached or has another file is left out.
func (e *Env) checkSources(ctx context.Context, r *plan.Run, hs []string, dest string, pool *peerPool) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, max(e.Delivery.PeerFanout, DefaultPeerFanout))
	for _, h := range hs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			n, err := e.Nodes.Node(ctx, h)
			var out string
			if err == nil {
				out, err = sudo(ctx, n, k0sSumCmd(dest))
			}
			if err == nil && outValue(out, "sum") == e.Delivery.SHA256 {
				r.Logger.Info("a node has the k0s binary from before the resume: it serves the copies", "peer", h, "path", dest)
				e.delivered(h, pool)
				return
			}
			r.Logger.Debug("not a source after the resume", "peer", h, "path", dest, "sum", outValue(out, "sum"), "err", err)
		})
	}
	wg.Wait()
}

// deliveryToolsProbe prints tools=<the tools of the delivery the node
// has>, for preflight (key=value, as nodeCheckScript prints).
const deliveryToolsProbe = "echo tools=$(for t in curl wget openssl sha256sum; do command -v $t >/dev/null 2>&1 && printf '%s ' $t; done)"

// deliveryChecks are the preflight blockers of the delivery on host,
// from the tools it has (space-separated).
func deliveryChecks(mode DeliveryMode, host, tools string) []preflight.Result {
	have := strings.Fields(tools)
	var out []preflight.Result
	block := func(msg, remedy string) {
		out = append(out, preflight.Result{ID: "k0s-delivery", Severity: preflight.Blocker, Host: host, Message: msg, Remedy: remedy})
	}
	if !slices.Contains(have, "sha256sum") {
		block("sha256sum is not installed: the k0s binary's checksum cannot be checked on the node", "install coreutils on the node")
	}
	if mode == DeliveryURL && !slices.Contains(have, "curl") && !slices.Contains(have, "wget") {
		block("neither curl nor wget is installed: the node cannot download k0s (--k0s-delivery url)", "install curl or wget on the node, or choose --k0s-delivery peer or upload")
	}
	return out
}
