package rbac

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// MaxNameLen is the longest name Translate gives an org, team or Swarm role
// ClusterRole: MKE 4k's limit for org and team names, and the limit of a
// label name, which the aggregation label keys embed.
const MaxNameLen = 63

// unnamed stands in for a name with nothing left after sanitising.
const unnamed = "unnamed"

// SanitizeName makes a Kubernetes name part from an MKE 3 name: ASCII
// letters are lowercased, every run of other characters outside [a-z0-9-]
// (spaces, dots, underscores, non-ASCII letters) becomes one '-', and '-'
// is trimmed from both ends. Nothing is transliterated, so "Équipe" and
// "Equipe" differ ("-quipe" trimmed to "quipe" versus "equipe"). An empty
// result is "unnamed". The length is not limited here; see MaxNameLen.
func SanitizeName(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	inRun := false
	for _, r := range s {
		switch {
		case r >= 'A' && r <= 'Z':
			r += 'a' - 'A'
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
		default:
			if !inRun {
				b.WriteByte('-')
			}
			inRun = true
			continue
		}
		inRun = false
		b.WriteRune(r)
	}
	out := strings.Trim(b.String(), "-")
	if out == "" {
		return unnamed
	}
	return out
}

// fitName joins a sanitised base and a suffix ("-org", "-team", "") and,
// when the result is longer than MaxNameLen, cuts the base and inserts '-'
// and 8 hex digits of the SHA-256 of the uncut name. Hashing the uncut
// name keeps names distinct exactly when the uncut names are, so a cut
// never hides nor creates a collision (short of a hash collision).
func fitName(base, suffix string) string {
	full := base + suffix
	if len(full) <= MaxNameLen {
		return full
	}
	sum := sha256.Sum256([]byte(full))
	h := hex.EncodeToString(sum[:4])
	keep := MaxNameLen - len(suffix) - 1 - len(h)
	cut := strings.TrimRight(base[:min(keep, len(base))], "-")
	return cut + "-" + h + suffix
}

// labelName is the name part of the aggregation label key of the
// aggregated ClusterRole name: the name itself, which Translate keeps at
// most 63 characters of [a-z0-9-]; anything else (which Translate does not
// make) is sanitised and cut so that the key stays valid.
func labelName(name string) string {
	if len(validation.IsQualifiedName(name)) == 0 {
		return name
	}
	return fitName(SanitizeName(name), "")
}

// aggregateLabel is the label key that makes a ClusterRole part of the
// aggregated ClusterRole name.
func aggregateLabel(name string) string { return AggregateLabelPrefix + labelName(name) }

// builtinRole reports whether a ClusterRole name belongs to Kubernetes (or
// to the translation itself) and must not be taken by a Swarm role.
func builtinRole(name string) bool {
	switch name {
	case "admin", "edit", "view", "cluster-admin", placeholderName:
		return true
	}
	return strings.HasPrefix(name, "system:")
}

// CollisionError says that two distinct MKE 3 inputs would become the same
// Kubernetes object. Translate returns it (several joined with
// errors.Join) instead of merging the two, which would give one group's
// access to the other. First and Second describe the inputs as MKE 3 has
// them; RenameKey is the Options.Rename key that renames Second.
type CollisionError struct {
	Kind      string // Kubernetes kind, "ClusterRole"
	Name      string // the Kubernetes name both would get
	First     string
	Second    string
	RenameKey string
}

func (e *CollisionError) Error() string {
	return fmt.Sprintf("rbac: %s and %s both become %s %q; rename one in MKE 3 or set Options.Rename[%q] to another name",
		e.First, e.Second, e.Kind, e.Name, e.RenameKey)
}
