package toconvert_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/convert"
	"github.com/mke-migrate/mke-migrate/convert/mke4"
	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/hosts/toconvert"
)

func TestHost(t *testing.T) {
	labels := map[string]string{"com.mirantis.kubelet-profile": "high"}
	tests := []struct {
		name    string
		host    hosts.Host
		manager bool
		want    convert.Host
	}{
		{"manager, defaults filled", hosts.Host{Address: "10.0.0.1"}, true,
			convert.Host{Host: mke4.Host{Role: mke4.RoleControllerWorker, SSH: &mke4.SSH{Address: "10.0.0.1", Port: 22, User: "root"}}}},
		{"worker with everything", hosts.Host{Address: "10.0.0.2", Port: 2222, User: "ops", KeyPath: "~/.ssh/id", PrivateAddress: "192.168.0.2",
			Bastion: &hosts.Bastion{Address: "jump", KeyPath: "~/.ssh/jump"}, Role: hosts.RoleManager, Labels: labels}, false,
			convert.Host{Host: mke4.Host{Role: mke4.RoleWorker, PrivateAddress: "192.168.0.2",
				SSH: &mke4.SSH{Address: "10.0.0.2", Port: 2222, User: "ops", KeyPath: "~/.ssh/id",
					Bastion: &mke4.SSH{Address: "jump", Port: 22, User: "root", KeyPath: "~/.ssh/jump"}}}, Labels: labels}},
		{"private interface", hosts.Host{Address: "n", PrivateInterface: "eth1"}, false,
			convert.Host{Host: mke4.Host{Role: mke4.RoleWorker, PrivateInterface: "eth1", SSH: &mke4.SSH{Address: "n", Port: 22, User: "root"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := toconvert.Host(tt.host, tt.manager)
			assert.Equal(t, tt.want, got)
			if got.Labels != nil {
				got.Labels["x"] = "y"
				assert.NotContains(t, tt.host.Labels, "x", "the labels are a copy")
			}
		})
	}
}

func TestHosts(t *testing.T) {
	f, err := hosts.Parse("hosts.yaml", []byte("hosts:\n  - address: 10.0.0.1\n    role: manager\n  - address: 10.0.0.2\n    role: worker\n    labels: {a: b}\n"))
	require.NoError(t, err)
	hs, err := toconvert.Hosts("hosts.yaml", f.Hosts)
	require.NoError(t, err)
	require.Len(t, hs, 2)
	assert.Equal(t, mke4.RoleControllerWorker, hs[0].Role)
	assert.Equal(t, mke4.RoleWorker, hs[1].Role)
	assert.Equal(t, map[string]string{"a": "b"}, hs[1].Labels)

	// a host without a role: an offline conversion cannot tell; every one is named
	f, err = hosts.Parse("hosts.yaml", []byte("hosts:\n  - address: 10.0.0.1\n  - address: 10.0.0.2\n    role: worker\n  - address: 10.0.0.3\n"))
	require.NoError(t, err)
	_, err = toconvert.Hosts("hosts.yaml", f.Hosts)
	var errs []*hosts.ConfigError
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var ce *hosts.ConfigError
		require.True(t, errors.As(e, &ce), "%T", e)
		errs = append(errs, ce)
	}
	require.Len(t, errs, 2)
	assert.Equal(t, "hosts[0].role", errs[0].Field)
	assert.Equal(t, 2, errs[0].Line)
	assert.Equal(t, "hosts[2].role", errs[1].Field)
	assert.Equal(t, 5, errs[1].Line)
	assert.Contains(t, err.Error(), "hosts.yaml:5: hosts[2].role: 10.0.0.3 has no role")
	var ce *hosts.ConfigError
	assert.True(t, errors.As(err, &ce))
}
