package report_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/mke-migrate/mke-migrate/report"
)

// Hostile strings as MKE 3 (or its nodes) could hand them over: each must
// reach the reader as text, never as markup or script.
const (
	hostileTeam     = `</script><script>alert(1)</script>`
	hostileOrg      = `<b onmouseover="alert(2)">platform</b>`
	hostileUser     = `"><svg onload=alert(3)>`
	hostileTOMLKey  = `<img src=x onerror=alert(4)>`
	hostileHostname = `<script>alert(6)</script>`
	hostileRemedy   = `<iframe src="javascript:alert(7)"></iframe>`
	hostileError    = `</script><img src=x onerror=alert(8)>`
	hostileChanges  = `<style>body{display:none}</style>`
	hostileService  = `<!--<script>alert(9)//-->`
)

var hostileStrings = []string{hostileTeam, hostileOrg, hostileUser, hostileTOMLKey, hostileHostname, hostileRemedy,
	hostileError, hostileChanges, hostileService}

// hostileFolder is the rolled-back fixture with hostile strings in every
// file the report reads.
func hostileFolder(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join("testdata", "rolled-back")
	ents, err := os.ReadDir(src)
	require.NoError(t, err)
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, e.Name()), b, 0o600))
	}
	rb, err := os.ReadFile(filepath.Join("testdata", "dry-run", report.FileRBACExport))
	require.NoError(t, err)
	s := strings.NewReplacer(`"name": "sre"`, `"name": `+jsonString(hostileTeam),
		`"name": "platform"`, `"name": `+jsonString(hostileOrg),
		`"name": "alice"`, `"name": `+jsonString(hostileUser)).Replace(string(rb))
	write(t, dir, report.FileRBACExport, s)
	// the conversion report is made again from this TOML
	require.NoError(t, os.Remove(filepath.Join(dir, report.FileConversionReport)))
	write(t, dir, report.FileMKE3TOML, "[cluster_config]\n"+`"`+hostileTOMLKey+`" = "</script><script>alert(5)</script>"`+"\n")

	edit(t, dir, report.FileDiscovery, func(v map[string]any) {
		for _, f := range v["facts"].(map[string]any) {
			f.(map[string]any)["hostname"] = hostileHostname
		}
	})
	var checks []map[string]any
	readJSON(t, dir, report.FilePreflight, &checks)
	checks[0]["remedy"] = hostileRemedy
	writeJSON(t, dir, report.FilePreflight, checks)
	edit(t, dir, report.FilePlan, func(v map[string]any) {
		st := v["stages"].([]any)[0].(map[string]any)
		st["steps"].([]any)[0].(map[string]any)["changes"] = hostileChanges
	})
	j, err := os.ReadFile(filepath.Join(dir, report.FileJournal))
	require.NoError(t, err)
	jl := strings.Replace(string(j), "injected failure", strings.Trim(jsonString(hostileError), `"`), 1)
	write(t, dir, report.FileJournal, jl)
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "swarm"), 0o700))
	writeJSON(t, dir, "swarm/report.json", map[string]any{"apiVersion": "swarm.mke-migrate.io/v1", "kind": "SwarmExportReport",
		"services": []any{map[string]any{"swarm": hostileService, "namespace": "default", "kind": "Deployment", "name": "web",
			"entries": []any{map[string]any{"field": "Spec.Name", "outcome": "carried", "attention": true}}}}})
	return dir
}

// rawJSON is s as a JSON string without HTML escaping.
func rawJSON(t *testing.T, s string) string {
	t.Helper()
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(s))
	return strings.TrimSpace(b.String())
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func write(t *testing.T, dir, name, s string) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(s), 0o600))
}

func readJSON(t *testing.T, dir, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, v))
}

func writeJSON(t *testing.T, dir, name string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o600))
}

func edit(t *testing.T, dir, name string, f func(map[string]any)) {
	t.Helper()
	var v map[string]any
	readJSON(t, dir, name, &v)
	f(v)
	writeJSON(t, dir, name, v)
}

// page is what a browser's parser makes of a rendered report: the
// elements, their attributes and the text outside scripts and styles.
type parsedPage struct {
	tags  map[string]int
	attrs []string
	text  string
	data  string // the application/json block
}

func parse(t *testing.T, page string) parsedPage {
	t.Helper()
	p := parsedPage{tags: map[string]int{}}
	z := html.NewTokenizer(strings.NewReader(page))
	var text strings.Builder
	raw := "" // the raw-text element we are in
	jsonBlock := false
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			p.text = text.String()
			return p
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			p.tags[tok.Data]++
			jsonBlock = false
			for _, a := range tok.Attr {
				p.attrs = append(p.attrs, a.Key)
				jsonBlock = jsonBlock || tok.Data == "script" && a.Key == "type" && a.Val == "application/json"
			}
			if tok.Data == "script" || tok.Data == "style" {
				raw = tok.Data
			}
		case html.EndTagToken:
			raw, jsonBlock = "", false
		case html.TextToken:
			switch {
			case jsonBlock:
				p.data += string(z.Text())
			case raw == "":
				text.Write(z.Text())
				text.WriteByte(' ')
			}
		}
	}
}

func TestHostileStringsAreText(t *testing.T) {
	d := load(t, hostileFolder(t))
	// the hostile values did reach the data
	require.NotNil(t, d.RBAC)
	require.NotNil(t, d.Conversion)
	require.NotNil(t, d.Swarm)
	require.NotNil(t, d.Timeline)
	page := render(t, d)
	p := parse(t, page)

	assert.Equal(t, 2, p.tags["script"], "only the data block and the page's own script")
	assert.Equal(t, 1, p.tags["style"])
	for _, tag := range []string{"img", "iframe"} {
		assert.Zero(t, p.tags[tag], "<%s> from the input became markup", tag)
	}
	for _, a := range p.attrs {
		assert.False(t, strings.HasPrefix(a, "on"), "event handler attribute %q from the input", a)
	}
	for _, s := range hostileStrings {
		assert.True(t, strings.Contains(p.text, s), "%q is not shown as text", s)
	}

	// The embedded JSON: no '<' at all (so no "</script" nor "<!--"), and
	// it decodes to the hostile strings unchanged.
	require.NotEmpty(t, p.data)
	assert.NotContains(t, p.data, "<")
	var back report.Data
	require.NoError(t, json.Unmarshal([]byte(p.data), &back))
	assert.Equal(t, *d, back)
	var all strings.Builder
	enc := json.NewEncoder(&all)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(back))
	for _, s := range hostileStrings {
		q := rawJSON(t, s)
		assert.True(t, strings.Contains(all.String(), q[1:len(q)-1]), "the data lost %q", s)
	}
	var teams []string
	for _, o := range back.RBAC.Orgs {
		for _, tm := range o.Teams {
			teams = append(teams, tm.Name)
		}
	}
	assert.Contains(t, teams, hostileTeam)
	keys := []string{}
	for _, e := range back.Conversion.Entries {
		keys = append(keys, e.Key)
	}
	assert.Contains(t, strings.Join(keys, "\n"), hostileTOMLKey)
}
