package kubenode

import "testing"

func TestMatch(t *testing.T) {
	nodes := []Node{
		{Name: "worker-1", Addresses: []string{"10.0.0.1", "worker-1"}},
		{Name: "Manager-A", Addresses: []string{"10.0.0.2", "172.16.0.2"}},
	}
	for _, c := range []struct {
		hostname string
		addrs    []string
		want     string
	}{
		{"worker-1", nil, "worker-1"},
		{"manager-a", nil, "Manager-A"},                  // names compare case-insensitively
		{"other", []string{"172.16.0.2"}, "Manager-A"},   // by address
		{"worker-1", []string{"172.16.0.2"}, "worker-1"}, // the hostname wins
		{"", []string{"", "10.0.0.1"}, "worker-1"},       // empty keys never match
		{"", []string{""}, ""},
		{"nope", []string{"10.9.9.9"}, ""},
	} {
		n, ok := Match(nodes, c.hostname, c.addrs...)
		if ok != (c.want != "") || n.Name != c.want {
			t.Errorf("Match(%q, %q) = %q, %v; want %q", c.hostname, c.addrs, n.Name, ok, c.want)
		}
	}
}
