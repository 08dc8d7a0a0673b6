package mke3api_test

import (
	"os"
	"strings"
	"testing"

	"github.com/mke-migrate/mke-migrate/testbed/mke3api"
)

// FuzzSeedYAML checks ParseSeed on arbitrary input: it must not panic, its
// errors must name the file, and whatever it accepts must start a server
// (ParseSeed and New share one validation).
func FuzzSeedYAML(f *testing.F) {
	data, err := os.ReadFile("testdata/seed.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	for _, s := range []string{
		"",
		"version: 3.8.8\n",
		"users:\n  - name: a\n    isActive: false\n",
		"orgs:\n  - name: o\n    teams:\n      - name: t\n        members:\n          - name: admin\n",
		"grants:\n  - subjectName: admin\n    objectID: swarm\n    roleID: none\n",
		"collections:\n  - id: swarm\n    path: /\n",
		"roles:\n  - id: r\n    operations:\n      Node:\n        Node View: []\n",
		"configTOML: |\n  [cluster_config]\n  calico_kdd = true\n",
		"a: &a [*a]\n",
		"users: [{name: x, id: y}, {name: z, id: y}]\n",
		"swarm:\n  services:\n    - ID: a\n      Spec: {Name: x, TaskTemplate: {Networks: [{Target: n}]}}\n  networks:\n    - {Id: n, Name: net}\n",
	} {
		f.Add([]byte(s))
	}
	ca, err := mke3api.NewCA() // shared: key generation would dominate
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		seed, err := mke3api.ParseSeed("fuzz.yaml", data)
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "fuzz.yaml") {
					t.Fatalf("error line without the file name: %q", line)
				}
			}
			return
		}
		if _, err := mke3api.New(mke3api.Options{Seed: seed, CA: ca}); err != nil {
			t.Fatalf("ParseSeed accepted a seed New refuses: %v\n%q", err, data)
		}
	})
}
