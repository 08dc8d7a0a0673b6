package rbac

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"k8s.io/apimachinery/pkg/util/validation"
)

func TestSanitizeName(t *testing.T) {
	cases := []struct{ in, want string }{
		{"dev", "dev"},
		{"Entire Company", "entire-company"},
		{"dev.ops", "dev-ops"},
		{"Dev_Ops  Team", "dev-ops-team"},
		{"a--b", "a--b"}, // existing dashes are kept
		{"a - b", "a---b"},
		{"-lead-", "lead"},
		{"  ", unnamed},
		{"", unnamed},
		{"☃", unnamed},
		{"Équipe", "quipe"}, // no transliteration
		{"café crème", "caf-cr-me"},
		{"system:admin", "system-admin"},
		{"ÀB", "b"},
		{"a\x00b\nc", "a-b-c"},
		{"123", "123"},
		{"\xff\xfeX", "x"}, // invalid UTF-8 is outside the set too
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, SanitizeName(tc.in), "SanitizeName(%q)", tc.in)
		got := SanitizeName(tc.in)
		assert.Equal(t, got, SanitizeName(got), "idempotent for %q", tc.in)
	}
}

func TestFitName(t *testing.T) {
	long := strings.Repeat("abcdefghij", 8)
	cases := []struct {
		base, suffix string
		wantLen      int
		cut          bool
	}{
		{"dev", "-team", 8, false},
		{strings.Repeat("x", 58), "-team", 63, false},
		{strings.Repeat("x", 59), "-team", 63, true},
		{long, "-org", 63, true},
		{long, "", 63, true},
		{strings.Repeat("a", 50) + "-----" + strings.Repeat("b", 20), "-team", 0, true}, // the cut falls in the dashes
	}
	for _, tc := range cases {
		got := fitName(tc.base, tc.suffix)
		assert.LessOrEqual(t, len(got), MaxNameLen, got)
		if tc.wantLen > 0 {
			assert.Len(t, got, tc.wantLen, got)
		}
		assert.True(t, strings.HasSuffix(got, tc.suffix), got)
		assert.Equal(t, tc.cut, got != tc.base+tc.suffix, got)
		assert.Empty(t, validation.IsDNS1123Label(got), got)
	}
	// Distinct long names stay distinct; the same name gives the same cut.
	assert.NotEqual(t, fitName(long+"a", "-org"), fitName(long+"b", "-org"))
	assert.Equal(t, fitName(long, "-org"), fitName(long, "-org"))
}

func TestLabelName(t *testing.T) {
	for _, name := range []string{"dev-team", strings.Repeat("x", 63), strings.Repeat("x", 80), "Bad Name!", "-x-", ""} {
		key := aggregateLabel(name)
		assert.Empty(t, validation.IsQualifiedName(key), "label key %q", key)
	}
	assert.Equal(t, AggregateLabelPrefix+"dev-team", aggregateLabel("dev-team"))
}

func TestBuiltinRole(t *testing.T) {
	for name, want := range map[string]bool{
		"admin": true, "edit": true, "view": true, "cluster-admin": true, "system:foo": true, "none": true,
		"viewer": false, "system-foo": false, "dev-team": false,
	} {
		assert.Equal(t, want, builtinRole(name), name)
	}
}

func TestCollisionErrorMessage(t *testing.T) {
	e := &CollisionError{Kind: "ClusterRole", Name: "dev-ops-team", First: `team "Dev Ops" (org "acme", id 1)`, Second: `team "dev.ops" (org "acme", id 2)`, RenameKey: "team:2"}
	assert.Equal(t, `rbac: team "Dev Ops" (org "acme", id 1) and team "dev.ops" (org "acme", id 2) both become ClusterRole "dev-ops-team"; rename one in MKE 3 or set Options.Rename["team:2"] to another name`, e.Error())
}
