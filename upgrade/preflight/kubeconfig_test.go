package preflight

import (
	"testing"

	"k8s.io/client-go/tools/clientcmd"
)

// TestKubeconfigMatchesClientcmd checks that parseKubeconfig accepts and
// rejects what client-go's clientcmd.Load does, and counts the same
// clusters. The test (not the package) imports client-go.
func TestKubeconfigMatchesClientcmd(t *testing.T) {
	cases := map[string]string{
		"valid":               validKubeconfig,
		"json":                `{"apiVersion":"v1","kind":"Config","clusters":[{"name":"a","cluster":{"server":"https://x"}}]}`,
		"no apiVersion":       "clusters:\n- name: a\n  cluster: {server: https://x}\n",
		"no clusters":         "apiVersion: v1\nkind: Config\nusers: []\n",
		"garbage":             "{{{not yaml",
		"scalar":              "hello",
		"list":                "- a\n- b\n",
		"wrong kind":          "apiVersion: v1\nkind: Pod\nclusters:\n- name: a\n  cluster: {server: https://x}\n",
		"wrong apiVersion":    "apiVersion: v2\nkind: Config\nclusters:\n- name: a\n  cluster: {server: https://x}\n",
		"duplicate cluster":   "clusters:\n- name: a\n  cluster: {server: https://x}\n- name: a\n  cluster: {server: https://y}\n",
		"duplicate user":      "clusters:\n- name: a\n  cluster: {server: https://x}\nusers:\n- name: u\n  user: {}\n- name: u\n  user: {}\n",
		"duplicate context":   "clusters:\n- name: a\n  cluster: {server: https://x}\ncontexts:\n- name: c\n  context: {cluster: a, user: u}\n- name: c\n  context: {cluster: a, user: u}\n",
		"bad ca data":         "clusters:\n- name: a\n  cluster: {server: https://x, certificate-authority-data: '!!notbase64'}\n",
		"server as list":      "clusters:\n- name: a\n  cluster: {server: [1, 2]}\n",
		"clusters as map":     "clusters: {a: {server: https://x}}\n",
		"unknown fields":      "clusters:\n- name: a\n  cluster: {server: https://x, colour: blue}\nfoo: bar\n",
		"wrong case field":    "Clusters:\n- name: a\n  cluster: {server: https://x}\n",
		"insecure as string":  "clusters:\n- name: a\n  cluster: {server: https://x, insecure-skip-tls-verify: 'yes'}\n",
		"token as number":     "clusters:\n- name: a\n  cluster: {server: https://x}\nusers:\n- name: u\n  user: {token: 12}\n",
		"exec args as string": "clusters:\n- name: a\n  cluster: {server: https://x}\nusers:\n- name: u\n  user: {exec: {command: c, args: x}}\n",
		"two clusters":        "clusters:\n- name: a\n  cluster: {server: https://x}\n- name: b\n  cluster: {server: https://y}\n",
		"null":                "null\n",
	}
	for name, in := range cases {
		t.Run(name, func(t *testing.T) {
			cfg, wantErr := clientcmd.Load([]byte(in))
			n, err := parseKubeconfig([]byte(in))
			if (err != nil) != (wantErr != nil) {
				t.Fatalf("parseKubeconfig error %v, clientcmd.Load error %v", err, wantErr)
			}
			if wantErr == nil && n != len(cfg.Clusters) {
				t.Fatalf("parseKubeconfig found %d clusters, clientcmd.Load %d", n, len(cfg.Clusters))
			}
		})
	}
}

// FuzzKubeconfig checks on arbitrary input that parseKubeconfig fails
// exactly when clientcmd.Load fails, and counts the same clusters.
func FuzzKubeconfig(f *testing.F) {
	f.Add(validKubeconfig)
	f.Add("clusters:\n- name: a\n  cluster: {server: https://x}\n- name: a\n")
	f.Add(`{"kind":"Config","users":[{"name":"u","user":{"exec":{"args":["x"]}}}]}`)
	f.Fuzz(func(t *testing.T, in string) {
		if in == "" {
			return // clientcmd.Load returns an empty config; preflight never asks
		}
		cfg, wantErr := clientcmd.Load([]byte(in))
		n, err := parseKubeconfig([]byte(in))
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("%q: parseKubeconfig error %v, clientcmd.Load error %v", in, err, wantErr)
		}
		if wantErr == nil && n != len(cfg.Clusters) {
			t.Fatalf("%q: parseKubeconfig found %d clusters, clientcmd.Load %d", in, n, len(cfg.Clusters))
		}
	})
}
