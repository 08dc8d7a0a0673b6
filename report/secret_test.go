package report_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var secretKey = regexp.MustCompile(`(?i)password|secret|passphrase|token|private|bind_?pw|client_?key`)

// secretValues returns the string values of v under keys that name a
// secret.
func secretValues(v any, key string, out *[]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			secretValues(e, k, out)
		}
	case []any:
		for _, e := range x {
			secretValues(e, key, out)
		}
	case string:
		if secretKey.MatchString(key) && !strings.HasSuffix(strings.ToLower(key), "user") && len(x) >= 6 {
			*out = append(*out, x)
		}
	}
}

// TestSecretsStayOutOfTheReport: the report is made from the MKE 3
// configuration (the conversion report) but shows none of its secret
// values, in the page or in its embedded data.
func TestSecretsStayOutOfTheReport(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "shared", "fixtures", "mke3", "*.toml"))
	files = append(files, filepath.Join("..", "convert", "testdata", "mke3-all-keys.toml"))
	checked := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		var doc map[string]any
		if toml.Unmarshal(b, &doc) != nil {
			continue // not a configuration the converter takes either
		}
		var secrets []string
		secretValues(doc, "", &secrets)
		if len(secrets) == 0 {
			continue
		}
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, "mke3.toml"), b, 0o600))
		d := load(t, dir)
		if d.Conversion == nil {
			continue
		}
		page := render(t, d)
		for _, s := range secrets {
			assert.False(t, strings.Contains(page, s), "%s: a secret value is in the report", filepath.Base(f))
		}
		checked++
	}
	t.Logf("%d configurations with secrets checked", checked)
	require.Positive(t, checked, "no configuration with a secret to check")
}
