package hosts_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/hosts"
)

// configErrors splits err (a *ConfigError or an errors.Join of them) and
// fails the test on anything else.
func configErrors(t testing.TB, err error) []*hosts.ConfigError {
	t.Helper()
	require.Error(t, err)
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	out := make([]*hosts.ConfigError, 0, len(errs))
	for _, e := range errs {
		var ce *hosts.ConfigError
		require.True(t, errors.As(e, &ce), "%T is not a *hosts.ConfigError: %v", e, e)
		out = append(out, ce)
	}
	return out
}

const documented = `hosts:
  - address: 10.0.0.11        # required: IP or DNS name reachable over SSH
    port: 22                  # default 22
    user: root                # default root
    keyPath: ~/.ssh/id_rsa    # kept as written; Host.KeyFile expands "~"
    privateAddress: 172.16.0.11   # optional, or privateInterface (not both)
    bastion: {address: jump.example.com, user: ops, keyPath: ~/.ssh/jump}
    role: manager             # optional: manager or worker (the upgrade detects it)
    labels:                   # optional, mke-migrate extension: MKE 3 node labels,
      com.mirantis.kubelet-profile: high   # for offline conversion of kubelet profiles
`

func TestParseValid(t *testing.T) {
	tests := []struct {
		name string
		data string
		want []hosts.Host
	}{
		{
			name: "documented example",
			data: documented,
			want: []hosts.Host{{
				Address:        "10.0.0.11",
				Port:           22,
				User:           "root",
				KeyPath:        "~/.ssh/id_rsa",
				PrivateAddress: "172.16.0.11",
				Bastion:        &hosts.Bastion{Address: "jump.example.com", Port: 22, User: "ops", KeyPath: "~/.ssh/jump"},
				Role:           hosts.RoleManager,
				Labels:         map[string]string{"com.mirantis.kubelet-profile": "high"},
				Line:           2,
			}},
		},
		{
			name: "defaults",
			data: "hosts:\n  - address: node1.example.com\n",
			want: []hosts.Host{{Address: "node1.example.com", Port: 22, User: "root", Line: 2}},
		},
		{
			name: "several hosts with their lines",
			data: "# cluster\n---\nhosts:\n\n  - address: 10.0.0.1\n    role: manager\n  # a worker\n  - address: 10.0.0.2\n    port: 2222\n    user: ubuntu\n    privateInterface: eth1\n    role: worker\n  -\n    address: 10.0.0.3\n",
			want: []hosts.Host{
				{Address: "10.0.0.1", Port: 22, User: "root", Role: hosts.RoleManager, Line: 5},
				{Address: "10.0.0.2", Port: 2222, User: "ubuntu", PrivateInterface: "eth1", Role: hosts.RoleWorker, Line: 8},
				{Address: "10.0.0.3", Port: 22, User: "root", Line: 14},
			},
		},
		{
			name: "flow style",
			data: "hosts: [{address: a.example}, {address: b.example, port: 23}]\n",
			want: []hosts.Host{
				{Address: "a.example", Port: 22, User: "root", Line: 1},
				{Address: "b.example", Port: 23, User: "root", Line: 1},
			},
		},
		{
			name: "bastion defaults",
			data: "hosts:\n  - address: 10.0.0.1\n    bastion:\n      address: jump\n  - address: 10.0.0.2\n    bastion: {address: jump2, port: 2200, user: ops}\n",
			want: []hosts.Host{
				{Address: "10.0.0.1", Port: 22, User: "root", Bastion: &hosts.Bastion{Address: "jump", Port: 22, User: "root"}, Line: 2},
				{Address: "10.0.0.2", Port: 22, User: "root", Bastion: &hosts.Bastion{Address: "jump2", Port: 2200, User: "ops"}, Line: 5},
			},
		},
		{
			name: "null bastion is no bastion",
			data: "hosts:\n  - address: 10.0.0.1\n    bastion: ~\n",
			want: []hosts.Host{{Address: "10.0.0.1", Port: 22, User: "root", Line: 2}},
		},
		{
			name: "labels kept as strings",
			data: "hosts:\n  - address: 10.0.0.1\n    labels:\n      com.mirantis.kubelet-profile: high\n      com.docker.ucp.access.label: /prod\n      zone: \"a\"\n      count: 3\n      enabled: true\n",
			want: []hosts.Host{{
				Address: "10.0.0.1", Port: 22, User: "root", Line: 2,
				Labels: map[string]string{
					"com.mirantis.kubelet-profile": "high",
					"com.docker.ucp.access.label":  "/prod",
					"zone":                         "a",
					"count":                        "3",
					"enabled":                      "true",
				},
			}},
		},
		{
			name: "keyPath kept as written",
			data: "hosts:\n  - address: 10.0.0.1\n    keyPath: ~/.ssh/id_ed25519\n  - address: 10.0.0.2\n    keyPath: ./keys/../keys/id_rsa\n",
			want: []hosts.Host{
				{Address: "10.0.0.1", Port: 22, User: "root", KeyPath: "~/.ssh/id_ed25519", Line: 2},
				{Address: "10.0.0.2", Port: 22, User: "root", KeyPath: "./keys/../keys/id_rsa", Line: 4},
			},
		},
		{
			name: "IPv6 addresses",
			data: "hosts:\n  - address: \"fd00::11\"\n    privateAddress: \"fd00:1::11\"\n",
			want: []hosts.Host{{Address: "fd00::11", Port: 22, User: "root", PrivateAddress: "fd00:1::11", Line: 2}},
		},
		{
			name: "same address on different ports",
			data: "hosts:\n  - address: 10.0.0.1\n  - address: 10.0.0.1\n    port: 2222\n",
			want: []hosts.Host{
				{Address: "10.0.0.1", Port: 22, User: "root", Line: 2},
				{Address: "10.0.0.1", Port: 2222, User: "root", Line: 3},
			},
		},
		{
			name: "port boundaries",
			data: "hosts:\n  - {address: a, port: 1}\n  - {address: b, port: 65535}\n",
			want: []hosts.Host{
				{Address: "a", Port: 1, User: "root", Line: 2},
				{Address: "b", Port: 65535, User: "root", Line: 3},
			},
		},
		{
			name: "CRLF line endings",
			data: "hosts:\r\n  - address: a\r\n  - address: b\r\n",
			want: []hosts.Host{
				{Address: "a", Port: 22, User: "root", Line: 2},
				{Address: "b", Port: 22, User: "root", Line: 3},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := hosts.Parse("hosts.yaml", []byte(tc.data))
			require.NoError(t, err)
			assert.Equal(t, tc.want, f.Hosts)
		})
	}
}

func TestParseErrors(t *testing.T) {
	// want is one expected *ConfigError; msg is a substring of its Msg.
	type want struct {
		line  int
		field string
		msg   string
	}
	tests := []struct {
		name string
		data string
		want []want
	}{
		{
			name: "misspelt field",
			data: "hosts:\n  - address: 10.0.0.1\n  - adress: 10.0.0.2\n",
			want: []want{{3, "", `unknown field "adress" (fields: address, port, user, keyPath, privateAddress, privateInterface, bastion, role, labels)`}},
		},
		{
			name: "misspelt field in a nested mapping",
			data: "hosts:\n  - address: 10.0.0.1\n    bastion:\n      adress: jump\n",
			want: []want{{4, "", `unknown field "adress" (fields: address, port, user, keyPath)`}},
		},
		{
			name: "misspelt top-level key",
			data: "host:\n  - address: 10.0.0.1\n",
			want: []want{{1, "", `unknown field "host" (fields: hosts)`}},
		},
		{
			name: "port of the wrong type",
			data: "hosts:\n  - address: 10.0.0.1\n    port: x\n",
			want: []want{{3, "", "cannot unmarshal !!str `x` into int"}},
		},
		{
			name: "several type errors",
			data: "hosts:\n  - address: a\n    port: x\n  - address: b\n    user: [1]\n    labels: {k: [v]}\n",
			want: []want{
				{3, "", "cannot unmarshal !!str `x` into int"},
				{5, "", "cannot unmarshal !!seq into string"},
				{6, "", "cannot unmarshal !!seq into string"},
			},
		},
		{
			name: "hosts is not a list",
			data: "hosts: node1\n",
			want: []want{{1, "", "into []hosts.Host"}},
		},
		{
			name: "top level is a list",
			data: "- address: 10.0.0.1\n",
			want: []want{{1, "", "cannot unmarshal !!seq into hosts.File"}},
		},
		{
			name: "duplicate mapping key",
			data: "hosts:\n  - address: a\n    address: b\n",
			want: []want{{3, "", `mapping key "address" already defined at line 2`}},
		},
		{
			name: "tab indentation",
			data: "hosts:\n\t- address: a\n",
			want: []want{{2, "", "invalid YAML: found character that cannot start any token"}},
		},
		{
			name: "unterminated quoted string",
			data: "hosts:\n  - address: \"10.0.0.1\n",
			want: []want{{2, "", "invalid YAML: found unexpected end of stream"}},
		},
		{name: "empty file", data: "", want: []want{{0, "", "file is empty"}}},
		{name: "blank file", data: " \n\t\n", want: []want{{0, "", "file is empty"}}},
		{name: "comments only", data: "# hosts go here\n", want: []want{{0, "", "file is empty"}}},
		{name: "empty hosts list", data: "hosts: []\n", want: []want{{0, "", "no hosts"}}},
		{name: "null hosts", data: "hosts:\n", want: []want{{0, "", "no hosts"}}},
		{name: "empty document", data: "---\n", want: []want{{0, "", "no hosts"}}},
		{name: "only null entries", data: "hosts:\n  - ~\n", want: []want{{2, "hosts", "empty host entry"}, {0, "", "no hosts"}}},
		{
			name: "address missing",
			data: "hosts:\n  - port: 22\n",
			want: []want{{2, "hosts[0].address", "required"}},
		},
		{
			name: "address blank",
			data: "hosts:\n  - address: \"  \"\n",
			want: []want{{2, "hosts[0].address", "required"}},
		},
		{
			name: "user in address",
			data: "hosts:\n  - address: root@10.0.0.1\n",
			want: []want{{2, "hosts[0].address", `"root@10.0.0.1" is not a host name or IP address (put the user in user:)`}},
		},
		{
			name: "space in address",
			data: "hosts:\n  - address: 10.0.0.1 10.0.0.2\n",
			want: []want{{2, "hosts[0].address", "is not a host name or IP address"}},
		},
		{
			name: "slash in address",
			data: "hosts:\n  - address: 10.0.0.0/24\n",
			want: []want{{2, "hosts[0].address", "is not a host name or IP address"}},
		},
		{
			name: "port too large",
			data: "hosts:\n  - address: a\n    port: 65536\n",
			want: []want{{2, "hosts[0].port", "65536 is not a port (1-65535)"}},
		},
		{
			name: "negative port",
			data: "hosts:\n  - address: a\n    port: -1\n",
			want: []want{{2, "hosts[0].port", "-1 is not a port (1-65535)"}},
		},
		{
			name: "privateAddress and privateInterface",
			data: "hosts:\n  - address: a\n    privateAddress: 172.16.0.1\n    privateInterface: eth1\n",
			want: []want{{2, "hosts[0].privateAddress", "mutually exclusive"}},
		},
		{
			name: "privateAddress is not an IP",
			data: "hosts:\n  - address: a\n    privateAddress: eth1\n",
			want: []want{{2, "hosts[0].privateAddress", `"eth1" is not an IP address`}},
		},
		{
			name: "unknown role",
			data: "hosts:\n  - address: a\n    role: master\n",
			want: []want{{2, "hosts[0].role", `"master" is not manager or worker`}},
		},
		{
			name: "bastion without address",
			data: "hosts:\n  - address: a\n    bastion: {user: ops}\n",
			want: []want{{2, "hosts[0].bastion.address", "required when a bastion is given"}},
		},
		{
			name: "bastion port out of range",
			data: "hosts:\n  - address: a\n    bastion: {address: j, port: 70000}\n  - address: b\n    bastion: {address: j, port: -22}\n",
			want: []want{
				{2, "hosts[0].bastion.port", "70000 is not a port (1-65535)"},
				{4, "hosts[1].bastion.port", "-22 is not a port (1-65535)"},
			},
		},
		{
			name: "empty bastion",
			data: "hosts:\n  - address: a\n    bastion: {}\n",
			want: []want{{2, "hosts[0].bastion.address", "required when a bastion is given"}},
		},
		{
			name: "duplicate host",
			data: "hosts:\n  - address: 10.0.0.1\n  - address: 10.0.0.2\n  - address: 10.0.0.1\n    port: 22\n",
			want: []want{{4, "hosts[2].address", "10.0.0.1:22 is listed twice (also hosts[0])"}},
		},
		{
			name: "duplicate IPv6 host",
			data: "hosts:\n  - address: \"fd00::1\"\n  - address: \"fd00::1\"\n",
			want: []want{{3, "hosts[1].address", "[fd00::1]:22 is listed twice (also hosts[0])"}},
		},
		{
			name: "lines of hosts after null entries",
			data: "hosts:\n  - address: a\n  - ~\n  -\n  - address: b c\n",
			want: []want{{3, "hosts", "empty host entry"}, {4, "hosts", "empty host entry"}, {5, "hosts[1].address", `"b c" is not a host name`}},
		},
		{
			name: "several problems at once",
			data: "hosts:\n" +
				"  - address: root@a\n" + // 2
				"    port: 0\n" +
				"  - address: b\n" + // 4
				"    port: 70000\n" +
				"    role: boss\n" +
				"  - address: c\n" + // 7
				"    privateAddress: nope\n" +
				"    privateInterface: eth0\n" +
				"    bastion: {port: 22}\n" +
				"  - {address: c}\n", // 11
			want: []want{
				{2, "hosts[0].address", "put the user in user:"},
				{4, "hosts[1].port", "70000 is not a port"},
				{4, "hosts[1].role", `"boss" is not manager or worker`},
				{7, "hosts[2].privateAddress", "mutually exclusive"},
				{7, "hosts[2].privateAddress", `"nope" is not an IP address`},
				{7, "hosts[2].bastion.address", "required"},
				{11, "hosts[3].address", "c:22 is listed twice (also hosts[2])"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := hosts.Parse("conf/hosts.yaml", []byte(tc.data))
			assert.Empty(t, f.Hosts)
			errs := configErrors(t, err)
			require.Len(t, errs, len(tc.want), "errors: %v", err)
			for i, w := range tc.want {
				ce := errs[i]
				assert.Equal(t, "conf/hosts.yaml", ce.File, "error %d", i)
				assert.Equal(t, w.line, ce.Line, "line of error %d: %v", i, ce)
				assert.Equal(t, w.field, ce.Field, "field of error %d: %v", i, ce)
				assert.Contains(t, ce.Msg, w.msg, "error %d", i)
				assert.Contains(t, err.Error(), ce.Error())
			}
		})
	}
}

// yaml v3 places parse errors (as opposed to scan errors) at the line where
// the enclosing block starts, counted from 0, so only a range is checked.
func TestParseYAMLSyntaxErrors(t *testing.T) {
	tests := []struct {
		name     string
		data     string
		maxLine  int
		contains string
	}{
		{"bad indentation", "hosts:\n  - address: a\n   port: 2\n", 3, "did not find expected '-' indicator"},
		{"unclosed flow sequence", "hosts:\n  - address: [a\n", 2, "did not find expected ',' or ']'"},
		{"unclosed flow mapping", "hosts: {\n", 1, "did not find expected node content"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := hosts.Parse("hosts.yaml", []byte(tc.data))
			errs := configErrors(t, err)
			require.Len(t, errs, 1)
			ce := errs[0]
			assert.Equal(t, "hosts.yaml", ce.File)
			assert.Empty(t, ce.Field)
			assert.True(t, ce.Line >= 1 && ce.Line <= tc.maxLine, "line %d", ce.Line)
			assert.True(t, strings.HasPrefix(ce.Msg, "invalid YAML: "), ce.Msg)
			assert.Contains(t, ce.Msg, tc.contains)
			assert.NotContains(t, ce.Msg, "line ", "the line belongs in Line, not in Msg")
		})
	}
}

func TestConfigErrorString(t *testing.T) {
	tests := []struct {
		err  hosts.ConfigError
		want string
	}{
		{hosts.ConfigError{File: "h.yaml", Line: 3, Field: "hosts[0].port", Msg: "bad"}, "h.yaml:3: hosts[0].port: bad"},
		{hosts.ConfigError{File: "h.yaml", Line: 3, Msg: "bad"}, "h.yaml:3: bad"},
		{hosts.ConfigError{File: "h.yaml", Field: "hosts[0].port", Msg: "bad"}, "h.yaml: hosts[0].port: bad"},
		{hosts.ConfigError{File: "h.yaml", Msg: "bad"}, "h.yaml: bad"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.err.Error())
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "hosts.yaml")
	require.NoError(t, os.WriteFile(good, []byte(documented), 0o600))
	f, err := hosts.Load(good)
	require.NoError(t, err)
	require.Len(t, f.Hosts, 1)
	assert.Equal(t, "10.0.0.11", f.Hosts[0].Address)
	assert.Equal(t, 2, f.Hosts[0].Line)

	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("hosts:\n  - address: a\n    port: 0x10000\n"), 0o600))
	_, err = hosts.Load(bad)
	errs := configErrors(t, err)
	require.Len(t, errs, 1)
	assert.Equal(t, bad, errs[0].File)
	assert.Equal(t, 2, errs[0].Line)
	assert.Equal(t, "hosts[0].port", errs[0].Field)
	assert.True(t, strings.HasPrefix(err.Error(), bad+":2: "), err.Error())

	_, err = hosts.Load(filepath.Join(dir, "missing.yaml"))
	require.Error(t, err)
	assert.ErrorIs(t, err, fs.ErrNotExist)
	var ce *hosts.ConfigError
	assert.False(t, errors.As(err, &ce))
}

func TestHostString(t *testing.T) {
	assert.Equal(t, "10.0.0.1:22", hosts.Host{Address: "10.0.0.1", Port: 22}.String())
	assert.Equal(t, "[fd00::1]:2222", hosts.Host{Address: "fd00::1", Port: 2222}.String())
	assert.Equal(t, "node.example.com:22", hosts.Host{Address: "node.example.com", Port: 22}.String())
	// an unset port is the default one: the same host, the same name
	assert.Equal(t, "10.0.0.1:22", hosts.Host{Address: "10.0.0.1"}.String())
	assert.Equal(t, "[fd00::1]:22", hosts.Host{Address: "fd00::1"}.String())
}

func TestWithDefaults(t *testing.T) {
	b := &hosts.Bastion{Address: "jump"}
	h := hosts.Host{Address: "10.0.0.1", Bastion: b}
	d := h.WithDefaults()
	assert.Equal(t, hosts.DefaultPort, d.Port)
	assert.Equal(t, hosts.DefaultUser, d.User)
	assert.Equal(t, hosts.Bastion{Address: "jump", Port: hosts.DefaultPort, User: hosts.DefaultUser}, *d.Bastion)
	assert.Equal(t, hosts.Bastion{Address: "jump"}, *b, "the caller's bastion is not changed")
	assert.Equal(t, 0, h.Port)

	set := hosts.Host{Address: "10.0.0.1", Port: 2222, User: "ops", Bastion: &hosts.Bastion{Address: "jump", Port: 2200, User: "j"}}
	assert.Equal(t, set, set.WithDefaults())
	assert.Equal(t, 2222, set.SSHPort())
	assert.Equal(t, 2200, set.Bastion.SSHPort())
	assert.Equal(t, hosts.DefaultPort, hosts.Bastion{}.SSHPort())
}

func TestKeyFile(t *testing.T) {
	home := filepath.FromSlash("/home/ops")
	tests := []struct {
		name, keyPath, home, want string
	}{
		{"tilde slash", "~/.ssh/id_rsa", home, filepath.Join(home, ".ssh", "id_rsa")},
		{"tilde alone", "~", home, home},
		{"tilde slash only", "~/", home, home},
		{"other user's home is not expanded", "~bob/.ssh/id_rsa", home, "~bob/.ssh/id_rsa"},
		{"tilde inside the path", "/keys/~/id", home, "/keys/~/id"},
		{"absolute", "/etc/ssh/key", home, "/etc/ssh/key"},
		{"relative", "keys/id_rsa", home, "keys/id_rsa"},
		{"empty key path", "", home, ""},
		{"unknown home", "~/.ssh/id_rsa", "", "~/.ssh/id_rsa"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := hosts.Host{KeyPath: tc.keyPath}
			assert.Equal(t, tc.want, h.KeyFile(tc.home))
			assert.Equal(t, tc.keyPath, h.KeyPath, "KeyPath is kept as written")
			b := hosts.Bastion{KeyPath: tc.keyPath}
			assert.Equal(t, tc.want, b.KeyFile(tc.home))
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		documented,
		"",
		"hosts: []\n",
		"# comment\n",
		"hosts:\n  - address: a\n  - ~\n  - address: b\n",
		"hosts:\n  - address: a\n    port: 65535\n    user: \"\"\n",
		"hosts:\n  - address: a\n    port: x\n",
		"hosts:\n  - adress: a\n",
		"hosts: [{address: a, port: 0}, {address: a}]\n",
		"hosts:\n  - &h {address: a, bastion: {address: j}}\n  - *h\n",
		"hosts:\n  - address: a\n    labels: {x: 1}\n",
		"<<: {hosts: [{address: a}]}\n",
		"hosts:\n  - address: \"fd00::1\"\n    privateAddress: \"::1\"\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := hosts.Parse("fuzz.yaml", data)
		if err != nil {
			assert.Empty(t, file.Hosts)
			for _, ce := range configErrors(t, err) {
				if ce.File != "fuzz.yaml" || ce.Msg == "" {
					t.Fatalf("bad error %#v", ce)
				}
			}
			return
		}
		if len(file.Hosts) == 0 {
			t.Fatal("no error and no hosts")
		}
		for i, h := range file.Hosts {
			if h.Port < 1 || h.Port > 65535 {
				t.Fatalf("hosts[%d]: port %d", i, h.Port)
			}
			if h.User == "" {
				t.Fatalf("hosts[%d]: empty user", i)
			}
			if strings.TrimSpace(h.Address) == "" {
				t.Fatalf("hosts[%d]: empty address", i)
			}
			if b := h.Bastion; b != nil && (b.Port < 1 || b.Port > 65535 || b.User == "" || strings.TrimSpace(b.Address) == "") {
				t.Fatalf("hosts[%d]: bastion %+v", i, *b)
			}
		}
	})
}
