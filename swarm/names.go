package swarm

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/mke-migrate/mke-migrate/rbac"
)

// maxName is the longest name given to an object: a DNS label, the limit
// of namespaces and Services (and so of the workloads behind them).
const maxName = 63

// sanitize makes a Kubernetes name part from a Swarm name with package
// rbac's rules, so that one MKE 3 name becomes the same Kubernetes name in
// both exports.
func sanitize(s string) string { return rbac.SanitizeName(s) }

// shortHash is 8 hex digits of the SHA-256 of s.
func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:4])
}

// fit cuts a sanitised name to maxName, inserting '-' and the hash of the
// original name when it cuts, so that distinct originals stay distinct.
func fit(name, original string) string {
	if len(name) <= maxName {
		return name
	}
	h := shortHash(original)
	cut := strings.TrimRight(name[:maxName-1-len(h)], "-")
	return cut + "-" + h
}

// dnsLabel is a DNS-1035 label (what a Service name must be: it starts
// with a letter) made from a Swarm name.
func dnsLabel(original string) string {
	n := sanitize(original)
	if n[0] >= '0' && n[0] <= '9' {
		n = "s-" + n
	}
	return fit(n, original)
}

// namer hands out unique names per namespace and kind group. The same
// original always gets the same name; a second original that sanitises to
// a taken name gets its hash appended.
type namer struct {
	byOrig map[string]string // ns \x00 group \x00 original → name
	taken  map[string]string // ns \x00 group \x00 name → original
}

func newNamer() *namer { return &namer{byOrig: map[string]string{}, taken: map[string]string{}} }

// name returns the name for original in ns and group, and whether it had
// to be made unique.
func (n *namer) name(ns, group, original string) (string, bool) {
	key := ns + "\x00" + group + "\x00" + original
	if got, ok := n.byOrig[key]; ok {
		return got, false
	}
	name := dnsLabel(original)
	renamed := false
	if prev, ok := n.taken[ns+"\x00"+group+"\x00"+name]; ok && prev != original {
		h := shortHash(original)
		base := name
		if len(base) > maxName-1-len(h) {
			base = strings.TrimRight(base[:maxName-1-len(h)], "-")
		}
		name = base + "-" + h
		renamed = true
	}
	n.byOrig[key] = name
	n.taken[ns+"\x00"+group+"\x00"+name] = original
	return name, renamed
}

// has reports whether original, or a name equal to name, is already taken
// in ns and group.
func (n *namer) has(ns, group, original, name string) bool {
	_, byOrig := n.byOrig[ns+"\x00"+group+"\x00"+original]
	_, byName := n.taken[ns+"\x00"+group+"\x00"+name]
	return byOrig || byName
}
