package swarm_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/convert/mke4"
	"github.com/mke-migrate/mke-migrate/swarm"
	"github.com/mke-migrate/mke-migrate/testbed/mke3api"
)

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name, list, in, want string
	}{
		{"not JSON", "services", `{`, "GET /services: expected a JSON array: the answer ends early"},
		{"null", "services", `null`, "GET /services: expected a JSON array, got null"},
		{"two values", "services", `[] []`, "expected one JSON array, found more after it"},
		{"no ID", "services", `[{"Spec":{"Name":"a"}}]`, "GET /services: element 0: ID: missing"},
		{"no name", "services", `[{"ID":"a","Spec":{}}]`, "element 0: Spec.Name: missing"},
		{"two modes", "services", `[{"ID":"a","Spec":{"Name":"a","Mode":{"Global":{},"GlobalJob":{}}}}]`, "Spec.Mode: more than one of"},
		{"duplicate ID", "services", `[{"ID":"a","Spec":{"Name":"a"}},{"ID":"a","Spec":{"Name":"b"}}]`, "element 1: ID: duplicate ID"},
		{"port", "services", `[{"ID":"a","Spec":{"Name":"a","EndpointSpec":{"Ports":[{"TargetPort":0}]}}}]`, "Spec.EndpointSpec.Ports[0]: port outside 1..65535"},
		{"wrong type", "services", `[{"ID":"a","Spec":{"Name":"a","TaskTemplate":{"ContainerSpec":{"Env":"A=1"}}}}]`, "got a JSON string at Spec.TaskTemplate.ContainerSpec.Env"},
		{"secret value", "secrets", `[{"ID":"s","Spec":{"Name":"n","Data":"c2VjcmV0"}}]`, "Spec.Data: the answer carries a secret value"},
		{"volumes not an object", "volumes", `[]`, `expected a JSON object with "Volumes"`},
		{"volume without name", "volumes", `{"Volumes":[{"Driver":"local"}]}`, "element 0: Name: missing"},
		{"network without Id", "networks", `[{"Name":"n"}]`, "element 0: Id: missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := fixed{tc.list: []byte(tc.in)}
			_, err := swarm.Read(context.Background(), src)
			require.Error(t, err)
			var de *swarm.DecodeError
			require.True(t, errors.As(err, &de), "%T", err)
			var re *swarm.ReadError
			require.True(t, errors.As(err, &re))
			assert.Equal(t, tc.list, re.List)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "c2VjcmV0", "a value reached the error")
		})
	}
}

func TestReadPassesSourceErrors(t *testing.T) {
	boom := errors.New("boom")
	_, err := swarm.Read(context.Background(), failing{boom})
	assert.ErrorIs(t, err, boom)
	assert.Contains(t, err.Error(), "swarm: read services: boom")
}

type failing struct{ err error }

func (f failing) EngineList(context.Context, string) ([]byte, error) { return nil, f.err }

func TestOptionsErrors(t *testing.T) {
	for _, o := range []swarm.Options{
		{Namespace: "Bad_NS"},
		{NodePortMin: 32767, NodePortMax: 30000},
		{NodePortMin: 0, NodePortMax: 70000},
		{VolumeSize: "lots"},
		{VolumeSize: "-1Gi"},
		{StorageClass: "Not A Class"},
	} {
		_, err := swarm.Translate(&swarm.Inventory{}, o)
		var oe *swarm.OptionsError
		assert.True(t, errors.As(err, &oe), "%+v: %v", o, err)
	}
}

// The realistic set uses only fields the translation knows: nothing falls
// through to "does not translate", and every secret is listed to fill in.
func TestDefaultSwarmIsFullyUnderstood(t *testing.T) {
	res := exportDefault(t)
	for _, s := range res.Report.Services {
		for _, e := range s.Entries {
			assert.NotContains(t, e.Note, "does not translate", "%s %s", s.Swarm, e.Field)
			assert.NotEmpty(t, e.Outcome)
			if e.Outcome != swarm.Carried {
				assert.NotEmpty(t, e.Note, "%s %s: approximated or not carried without a reason", s.Swarm, e.Field)
			}
		}
	}
	var fill []string
	for _, s := range res.Report.SecretsToFill {
		fill = append(fill, s.Namespace+"/"+s.Name+":"+s.Key)
	}
	assert.Equal(t, []string{"shop/api-key:api_key", "shop/db-password:db_password"}, fill)
	var nets []string
	for _, n := range res.Report.Networks {
		nets = append(nets, n.Swarm)
	}
	assert.Equal(t, []string{"monitoring", "shop_backend", "shop_frontend"}, nets)
}

func TestWriteDir(t *testing.T) {
	res := exportDefault(t)
	dir := filepath.Join(t.TempDir(), "out")
	written, err := swarm.WriteDir(dir, res, swarm.YAML)
	require.NoError(t, err)
	assert.Len(t, written, 4) // default.yaml, shop.yaml, report.txt, report.yaml
	st, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), st.Mode().Perm())

	// Again, as JSON: the YAML files of the first run are removed.
	_, err = swarm.WriteDir(dir, res, swarm.JSON)
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(dir, "shop.yaml"))
	assert.True(t, os.IsNotExist(err))
	_, err = os.Stat(filepath.Join(dir, "shop.json"))
	assert.NoError(t, err)

	// A file someone else put there stops the next run, and survives.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.md"), []byte("mine"), 0o600))
	_, err = swarm.WriteDir(dir, res, swarm.JSON)
	assert.ErrorIs(t, err, swarm.ErrNotOurs)
	b, _ := os.ReadFile(filepath.Join(dir, "notes.md"))
	assert.Equal(t, "mine", string(b))

	// A folder that was never ours is refused, untouched.
	other := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(other, "x"), nil, 0o600))
	_, err = swarm.WriteDir(other, res, swarm.YAML)
	assert.ErrorIs(t, err, swarm.ErrNotOurs)
	entries, _ := os.ReadDir(other)
	assert.Len(t, entries, 1)
}

// The secret values the seed holds never reach a manifest, the report or
// the text.
func TestNoSecretValueInOutputs(t *testing.T) {
	res := exportDefault(t)
	for _, f := range []swarm.Format{swarm.YAML, swarm.JSON} {
		files, err := swarm.Files(res, f)
		require.NoError(t, err)
		for name, b := range files {
			assert.NotContains(t, string(b), "seeded-db-password", name)
		}
	}
}

func TestEmptySwarmWritesNothingButTheReport(t *testing.T) {
	_, c := simulator(t, mke3api.Seed{Swarm: &mke3api.Swarm{}})
	res, err := swarm.Export(context.Background(), c, swarm.Options{})
	require.NoError(t, err)
	assert.Empty(t, res.Namespaces)
	assert.Equal(t, 0, res.Exported)
	files, err := swarm.Files(res, swarm.YAML)
	require.NoError(t, err)
	assert.Len(t, files, 2)
	assert.True(t, strings.HasPrefix(string(files["report.txt"]), "Swarm export: 0 of 0 services exported, 0 need attention"))
}

// The default NodePort range is MKE 4k's, as the converter writes it.
func TestDefaultNodePortRangeIsMKE4s(t *testing.T) {
	first, last, err := mke4.ParseNodePortRange(mke4.DefaultNodePortRange)
	require.NoError(t, err)
	assert.Equal(t, [2]int{first, last}, [2]int{swarm.DefaultNodePortMin, swarm.DefaultNodePortMax})
}

func TestReadReportGivesTheResultsCounts(t *testing.T) {
	res := exportDefault(t)
	require.Positive(t, res.NeedAttention, "the default set has services that need a person")
	for _, f := range []swarm.Format{swarm.YAML, swarm.JSON} {
		dir := filepath.Join(t.TempDir(), "swarm")
		_, err := swarm.WriteDir(dir, res, f)
		require.NoError(t, err)
		rep, err := swarm.ReadReport(dir)
		require.NoError(t, err, f)
		n, exported, attention := rep.Counts()
		assert.Equal(t, len(res.Report.Services), n, f)
		assert.Equal(t, res.Exported, exported, f)
		assert.Equal(t, res.NeedAttention, attention, f)
	}
	_, err := swarm.ReadReport(t.TempDir())
	assert.ErrorIs(t, err, fs.ErrNotExist)
}
