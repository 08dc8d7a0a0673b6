package convert

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name       string
		input      string
		line, col  int
		key        string
		wantSubstr []string
	}{
		{name: "malformed", input: "[cluster_config]\nkubelet_max_pods = = 3\n", line: 2, wantSubstr: []string{"bad.toml:2:", "invalid TOML"}},
		{name: "unterminated table", input: "[cluster_config\n", line: 1, wantSubstr: []string{"invalid TOML"}},
		{name: "duplicate key", input: "[auth]\nbackend = \"managed\"\nbackend = \"ldap\"\n", line: 3, wantSubstr: []string{"already defined"}},
		{name: "wrong type names the key", input: "[cluster_config]\nkubelet_max_pods = \"many\"\n", line: 2, col: 1, key: "cluster_config.kubelet_max_pods",
			wantSubstr: []string{"cluster_config.kubelet_max_pods", "expected an integer, got a string", `"many"`}},
		{name: "float for int", input: "[cluster_config]\nkubelet_max_pods = 1.5\n", line: 2, key: "cluster_config.kubelet_max_pods", wantSubstr: []string{"got a float"}},
		{name: "table for scalar", input: "[cluster_config.calico_kdd]\nx = 1\n", key: "cluster_config.calico_kdd.x", wantSubstr: []string{"expected a boolean"}},
		{name: "array element type", input: "[cluster_config]\nshared_sans = [\"a\", 2]\n", key: "cluster_config.shared_sans", wantSubstr: []string{"element 1"}},
		{name: "scalar for table", input: "cluster_config = 3\n", key: "cluster_config", wantSubstr: []string{"expected a table"}},
		{name: "secret value not shown", input: "[backup_schedule_config]\npassphrase = 123456789\n", key: "backup_schedule_config.passphrase", wantSubstr: []string{"value not shown"}},
		{name: "empty", input: "  \n\t\n", wantSubstr: []string{"empty"}},
		{name: "binary", input: "\x00\x01\x02garbage\xff", wantSubstr: []string{"not UTF-8 text"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("bad.toml", []byte(tt.input))
			require.Error(t, err)
			assert.Nil(t, cfg)
			var pe *ParseError
			require.True(t, errors.As(err, &pe), "%T", err)
			assert.Equal(t, "bad.toml", pe.File)
			if tt.line > 0 {
				assert.Equal(t, tt.line, pe.Line)
			}
			if tt.col > 0 {
				assert.Equal(t, tt.col, pe.Column)
			}
			if tt.key != "" {
				assert.Equal(t, tt.key, pe.Key)
			}
			for _, s := range tt.wantSubstr {
				assert.Contains(t, err.Error(), s)
			}
			assert.NotContains(t, err.Error(), "123456789", "secrets never reach errors")
		})
	}
}

func TestParseReportsAllTypeErrors(t *testing.T) {
	_, err := Parse("f.toml", []byte("[cluster_config]\nkubelet_max_pods = \"x\"\ncalico_kdd = \"yes\"\n"))
	require.Error(t, err)
	var u interface{ Unwrap() []error }
	require.True(t, errors.As(err, &u))
	assert.Len(t, u.Unwrap(), 2)
}

func TestParseLargeInputs(t *testing.T) {
	// Over the limit: refused at once with a clear message.
	big := bytes.Repeat([]byte("#"), MaxInputSize+1)
	_, err := Parse("big.toml", big)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "right file")

	// A 10 MB file of comments and a long value: parsed correctly.
	var b strings.Builder
	b.WriteString("[cluster_config]\ncalico_kdd = true\n")
	for b.Len() < 10<<20 {
		b.WriteString("# padding line to make a large but valid configuration file\n")
	}
	b.WriteString("pre_logon_message = \"" + strings.Repeat("x", 100000) + "\"\n")
	cfg, err := Parse("ten-mb.toml", []byte(b.String()))
	require.NoError(t, err)
	assert.Len(t, cfg.Leaves, 2)
	assert.Len(t, cfg.ClusterConfig.PreLogonMessage, 100000)
}

func TestParseKeepsUnknownKeys(t *testing.T) {
	cfg, err := Parse("f.toml", []byte("[cluster_config]\ncalico_kdd = true\nfuture_key = \"x\"\n[brand_new_table]\na = [1, 2]\n"))
	require.NoError(t, err)
	require.Len(t, cfg.Unknown, 2)
	assert.Equal(t, "cluster_config.future_key", cfg.Unknown[0].Key)
	assert.Equal(t, 3, cfg.Unknown[0].Line)
	assert.Equal(t, "brand_new_table.a", cfg.Unknown[1].Key)
	assert.True(t, cfg.Has("cluster_config.calico_kdd"))
	assert.False(t, cfg.Has("cluster_config.kubelet_max_pods"))
}

func TestParseNonASCII(t *testing.T) {
	cfg, err := Parse("f.toml", []byte("# it’s a comment\n[cluster_config]\npre_logon_message = \"Grüße\"\n\"clé\" = 1\n"))
	require.NoError(t, err)
	assert.Equal(t, "Grüße", cfg.ClusterConfig.PreLogonMessage)
	assert.Equal(t, `cluster_config."clé"`, cfg.Unknown[0].Key)
}
