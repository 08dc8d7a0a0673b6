package convert

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Source versions. mkectl 4.1 upgrades MKE 3.7.15+ and 3.8.x; from MKE 4.2.0
// on only MKE 3.9.x is accepted, and 3.7/3.8 must go to 3.9 first
// (docs.mirantis.com/mke4/4.2.1, "Perform the MKE 3 to MKE 4 upgrade" and
// "Upgrade scenarios"). mke-migrate takes all three.

// MKE4VersionFor39 is the MKE 4k version written for an MKE 3.9 source when
// Options.Version is empty: MKE 4.2.0 is the first release that upgrades
// MKE 3.9.x (and the only line that does).
const MKE4VersionFor39 = "v4.2.0"

// ErrUnsupportedMKE3Version is wrapped by CheckMKE3Version's error.
var ErrUnsupportedMKE3Version = errors.New("unsupported MKE 3 version")

// CheckMKE3Version tells whether mke-migrate can upgrade MKE v (like
// "3.8.8" or "v3.9.1-rc1"): 3.7.15 or a later 3.7, any 3.8, any 3.9. The
// error says what to do otherwise and wraps ErrUnsupportedMKE3Version.
func CheckMKE3Version(v string) error {
	maj, mnr, pat, ok := parseMKEVersion(v)
	var why string
	switch {
	case !ok:
		why = "not an MKE version (want major.minor.patch, like 3.8.8)"
	case maj == 3 && mnr == 7 && pat >= 15, maj == 3 && (mnr == 8 || mnr == 9):
		return nil
	case maj == 3 && mnr == 7:
		why = "MKE 3.7 before 3.7.15 cannot be upgraded: upgrade MKE 3 to 3.7.15 or later first"
	case maj == 3 && mnr < 7:
		why = "MKE 3 before 3.7.15 cannot be upgraded: upgrade MKE 3 to 3.7.15 or later first"
	default:
		why = "only MKE 3.7.15+, 3.8.x and 3.9.x can be upgraded"
	}
	return fmt.Errorf("%w %q: %s", ErrUnsupportedMKE3Version, v, why)
}

func parseMKEVersion(v string) (maj, mnr, pat int, ok bool) {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	v, _, _ = strings.Cut(v, "-")
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return 0, 0, 0, false
	}
	var n [3]int
	for i, p := range parts {
		x, err := strconv.Atoi(p)
		if err != nil || x < 0 {
			return 0, 0, 0, false
		}
		n[i] = x
	}
	return n[0], n[1], n[2], true
}

// minor returns "3.9" for "3.9.1", or "" when v does not parse.
func minorOf(v string) string {
	maj, mnr, _, ok := parseMKEVersion(v)
	if !ok {
		return ""
	}
	return fmt.Sprintf("%d.%d", maj, mnr)
}

// olderMinor reports whether minor version a ("3.8") is before b ("3.9").
func olderMinor(a, b string) bool {
	am, an, _, ok1 := parseMKEVersion(a + ".0")
	bm, bn, _, ok2 := parseMKEVersion(b + ".0")
	return ok1 && ok2 && (am < bm || am == bm && an < bn)
}

// versionChanges are what changed between MKE 3 versions for a group of
// keys, reported on each of their entries when the source is that version.
var versionChanges = []struct {
	minor, prefix, note string
}{
	{"3.9", cc + "ingress_controller", "MKE 3.9: the NGINX Ingress Controller reached end of life on 2026-04-01 (support ends 2026-12-31) and Envoy Gateway (cluster_config.gateway_controller) takes its place; MKE 4k keeps NGINX ingress only for clusters that had it on"},
}

// versions applies what depends on the source version: the version gate,
// keys newer than the source, per-key notes on what changed, and the MKE 4k
// version a 3.9 source goes to.
func (c *conv) versions() {
	v := c.opts.MKE3Version
	if v == "" {
		return
	}
	if err := CheckMKE3Version(v); err != nil {
		c.extra = append(c.extra, Entry{Key: "mke3.version", Status: StatusBlocking, Reason: err.Error()})
		return
	}
	minor := minorOf(v)
	if minor == "3.9" && c.opts.Version == "" {
		c.out.Spec.Version = MKE4VersionFor39
	}
	for _, l := range c.in.Leaves {
		if s := l.spec; s != nil && s.since != "" && olderMinor(minor, s.since) {
			c.byKey[l.Key] = []Entry{{Key: l.Key, Status: StatusUnknown,
				Reason: fmt.Sprintf("not an MKE %s key: it exists from MKE %s on, and the source is MKE %s; check the export's version", minor, s.since, v)}}
		}
	}
	for _, vc := range versionChanges {
		if vc.minor != minor {
			continue
		}
		for key, es := range c.byKey {
			if key != vc.prefix && !strings.HasPrefix(key, vc.prefix+".") {
				continue
			}
			for i := range es {
				if es[i].Reason == "" {
					es[i].Reason = vc.note
				} else {
					es[i].Reason += "; " + vc.note
				}
			}
		}
	}
}
