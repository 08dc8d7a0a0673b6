package convert

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/convert/mke4"
)

// flagListTOML writes the kubelet and API server flag lists (n and m
// elements, in the order asked) with keys before, between and after them.
func flagListTOML(kubeletFirst bool, n, m int) string {
	list := func(key string, count int, prefix string) string {
		var b strings.Builder
		fmt.Fprintf(&b, "  %s = [\n", key)
		for i := range count {
			switch i % 5 {
			case 0:
				fmt.Fprintf(&b, "    \"--%s-%d=1\",\n", prefix, i)
			case 1:
				b.WriteString("    \"--v=2\",\n") // repeated: earlier ones overridden
			case 2:
				fmt.Fprintf(&b, "    \"bad%d\",\n", i) // not a flag: its own line
			case 3:
				fmt.Fprintf(&b, "    \"--feature-gates=G%d=true\",\n", i) // joined
			default:
				fmt.Fprintf(&b, "    \"--%s-%d\", \"%d\",\n", prefix, i, i) // value in the next element
			}
		}
		b.WriteString("  ]\n")
		return b.String()
	}
	kubelet, api := list("custom_kubelet_flags", n, "k"), list("custom_kube_api_server_flags", m, "a")
	first, second := api, kubelet
	if kubeletFirst {
		first, second = kubelet, api
	}
	return "[cluster_config]\n  controller_port = 443\n" + first + "  unknown_key = 1\n" + second +
		"  kube_apiserver_port = 12388\n  cipher_suites_for_kubelet = \"TLS_AES_128_GCM_SHA256\"\n"
}

// The two longest lists' entries are made in the arena and moved into
// place by finish, in either document order and whichever is longer: the
// report is the one built by copying every list.
func TestFinishArenaLikeCopy(t *testing.T) {
	for _, tc := range []struct {
		kubeletFirst bool
		n, m         int
	}{
		{true, 60, 35}, {false, 60, 35}, {true, 35, 60}, {false, 35, 60}, {true, 40, 40}, {false, 40, 40},
		{true, 60, 0}, {false, 0, 60},
	} {
		t.Run(fmt.Sprintf("kubeletFirst=%v/%d/%d", tc.kubeletFirst, tc.n, tc.m), func(t *testing.T) {
			doc := flagListTOML(tc.kubeletFirst, tc.n, tc.m)
			opts := Options{ImageRegistry: "registry.example.com/mke", Airgapped: true}
			build := func(arena bool) Report {
				t.Helper()
				cfg, err := Parse("many.toml", []byte(doc))
				require.NoError(t, err)
				out := mke4.Default()
				c := &conv{in: cfg, out: &out, opts: opts, byKey: map[string][]Entry{}, args: map[string]string{}}
				if arena {
					c.planLongest()
				}
				c.run()
				r := c.finish()
				if arena {
					require.NotNil(t, c.arena)
					require.Same(t, &c.arena[:1][0], &r.Entries[0], "the report is not the arena")
				}
				return r
			}
			copied, moved := build(false), build(true)
			require.Greater(t, len(copied.Entries), max(tc.n, tc.m)/2)
			assert.Equal(t, copied, moved)
		})
	}
}

// A flag one key set and another sets again is reported on both sides,
// whichever set it first, without a record per list flag (argSetBy).
func TestFlagSetByAnotherKey(t *testing.T) {
	doc := `[cluster_config]
  kubelet_serialize_image_pulls = false
  cipher_suites_for_kubelet = "TLS_AES_128_GCM_SHA256"
  custom_kubelet_flags = ["--serialize-image-pulls=true", "--tls-cipher-suites=TLS_AES_256_GCM_SHA384", "--tls-cipher-suites=X", "--v=1"]
`
	cfg, err := Parse("x.toml", []byte(doc))
	require.NoError(t, err)
	out, rep, err := Convert(cfg, Options{})
	require.NoError(t, err)
	reasons := map[string]string{}
	for _, e := range rep.Entries {
		reasons[e.Key+" "+e.Flag] = e.Status.String() + ": " + e.Reason
	}
	assert.Equal(t, "dropped: shadowed by --serialize-image-pulls=true in cluster_config.custom_kubelet_flags: MKE 3 passes custom flags after the flags it derives from its keys, and the last value wins; the flag's value is carried instead",
		reasons[cc+"kubelet_serialize_image_pulls "])
	assert.Equal(t, "converted: shadows cluster_config.kubelet_serialize_image_pulls, which MKE 3 applies before custom flags",
		reasons[cc+"custom_kubelet_flags --serialize-image-pulls=true"])
	assert.Equal(t, "converted: joined with the value from cluster_config.cipher_suites_for_kubelet: Kubernetes' flag parser appends repeated list flags, so MKE 3 used both",
		reasons[cc+"custom_kubelet_flags --tls-cipher-suites=TLS_AES_256_GCM_SHA384"])
	assert.Equal(t, "converted: repeated flag: values joined with commas", reasons[cc+"custom_kubelet_flags --tls-cipher-suites=X"])
	assert.Equal(t, "TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384,X", out.Spec.Kubelet.ExtraArgs["tls-cipher-suites"])
	assert.Equal(t, "true", out.Spec.Kubelet.ExtraArgs["serialize-image-pulls"])

	// and a key set after a list that set the same flag
	c := &conv{args: map[string]string{}, byKey: map[string][]Entry{}}
	c.lists = map[string][]listArgs{"kubelet": {{key: "list", set: []string{"a", "v"}}}}
	for _, tc := range []struct{ name, want string }{{"v", "list"}, {"a", "list"}, {"b", ""}} {
		got, ok := c.argSetBy("kubelet", tc.name, "kubelet.extraArgs."+tc.name)
		assert.Equal(t, tc.want, got, tc.name)
		assert.Equal(t, tc.want != "", ok, tc.name)
	}
	if _, ok := c.argSetBy("apiServer", "v", "apiServer.extraArgs.v"); ok {
		t.Error("a kubelet list's flag found for the API server")
	}
	m := map[string]string{}
	c.setArg("key", "kubelet", m, "v", "3", Inferred)
	assert.Equal(t, "overrides the value from list", c.byKey["key"][0].Reason)
	got, _ := c.argSetBy("kubelet", "v", "kubelet.extraArgs.v")
	assert.Equal(t, "key", got, "the latest setter wins")
}
