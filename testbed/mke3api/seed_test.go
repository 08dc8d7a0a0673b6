package mke3api_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/testbed/mke3api"
)

func TestLoadSeed(t *testing.T) {
	s, err := mke3api.LoadSeed("testdata/seed.yaml")
	require.NoError(t, err)
	assert.Equal(t, "3.7.15", s.Version)
	assert.Equal(t, mke3api.Credentials{Username: "admin", Password: adminPass}, s.Admin)
	require.Len(t, s.Users, 5)
	assert.Equal(t, mke3api.User{Name: "carol", IsActive: new(false)}, s.Users[2])
	assert.Equal(t, "0b5c1d2e-dave", s.Users[3].ID)
	require.Len(t, s.Orgs, 2)
	assert.Equal(t, []mke3api.TeamMember{{Name: "alice", IsAdmin: true}, {Name: "dave"}, {Name: "erin"}}, s.Orgs[0].Teams[0].Members)
	assert.Equal(t, "ldap-reader-secret", s.LDAP.ReaderPassword)
	assert.Equal(t, "uid", s.LDAP.UserSearchConfigs[0].UsernameAttr)
	assert.Contains(t, s.ConfigTOML, "calico_kdd = false")

	t.Run("missing file", func(t *testing.T) {
		_, err := mke3api.LoadSeed(filepath.Join(t.TempDir(), "nope.yaml"))
		assert.ErrorIs(t, err, fs.ErrNotExist)
	})
}

func TestParseSeedErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // each must start one line of the error
	}{
		{"empty", "", []string{"s.yaml: empty seed"}},
		{"comments only", "# nothing\n", []string{"s.yaml: empty seed"}},
		{"null", "~\n", []string{"s.yaml:1: empty seed"}},
		{"not a mapping", "- a\n", []string{"s.yaml:1: cannot unmarshal !!seq into mke3api.Seed"}},
		{"syntax", "users: [\n  {name: a\n", []string{"s.yaml:"}},
		{"bad indentation", "users:\n  - name: a\n   fullName: b\n", []string{"s.yaml:1: did not find expected '-' indicator"}},
		{"two documents", "version: 3.8.8\n---\nversion: 3.8.9\n", []string{"s.yaml:2: more than one YAML document"}},
		{"unknown field", "users:\n  - name: a\n    nmae: b\n", []string{`s.yaml:3: field nmae not found`}},
		{"snake_case field", "users:\n  - name: a\n    full_name: b\n", []string{`s.yaml:3: field full_name not found`}},
		{"wrong type", "users:\n  - name: a\n    isAdmin: maybe\n", []string{"s.yaml:3: cannot unmarshal !!str `maybe` into bool"}},
		{"duplicate key", "version: 3.8.1\nversion: 3.8.2\n", []string{`s.yaml:2: mapping key "version" already defined at line 1`}},
		{"two unknown fields", "users:\n  - name: a\n    x: 1\n  - name: b\n    y: 2\n", []string{"s.yaml:3: field x not found", "s.yaml:5: field y not found"}},
		{"bad version", "version: latest\n", []string{`s.yaml:1: version: "latest" is not a version like 3.8.8`}},
		{"missing name", "users:\n  - fullName: x\n", []string{"s.yaml:2: users[0].name: name is required"}},
		{"slash in name", "users:\n  - name: a/b\n", []string{`s.yaml:2: users[0].name: name "a/b" contains '/'`}},
		{"id: prefix", "users:\n  - name: id:x\n", []string{"s.yaml:2: users[0].name: name \"id:x\" starts with id:"}},
		{"duplicate user", "users:\n  - name: a\n  - name: b\n  - name: a\n", []string{`s.yaml:4: users[2].name: duplicate account name "a" (also at users[0].name)`}},
		{"org named like a user", "users:\n  - name: a\norgs:\n  - name: a\n", []string{`s.yaml:4: orgs[0].name: duplicate account name "a"`}},
		{"org named like the admin", "orgs:\n  - name: admin\n", []string{`s.yaml:2: orgs[0].name: duplicate account name "admin" (also at admin.username)`}},
		{"duplicate ID", "users:\n  - name: a\n    id: x1\n  - name: b\n    id: x1\n", []string{`s.yaml:5: users[1].id: duplicate ID "x1"`}},
		{"bad ID", "users:\n  - name: a\n    id: \"has space\"\n", []string{`s.yaml:3: users[0].id: ID "has space" must be`}},
		{"admin not an admin", "admin:\n  username: root\nusers:\n  - name: root\n", []string{"s.yaml:4: users[0].isAdmin: the admin account must have isAdmin: true"}},
		{"admin inactive", "users:\n  - name: admin\n    isAdmin: true\n    isActive: false\n", []string{"s.yaml:4: users[0].isActive: the admin account must be active"}},
		{"member not a user", "users:\n  - name: a\norgs:\n  - name: o\n    teams:\n      - name: t\n        members:\n          - name: a\n          - name: ghost\n",
			[]string{`s.yaml:9: orgs[0].teams[0].members[1].name: "ghost" is not a user`}},
		{"member twice", "users:\n  - name: a\norgs:\n  - name: o\n    teams:\n      - name: t\n        members:\n          - name: a\n          - name: a\n",
			[]string{`s.yaml:9: orgs[0].teams[0].members[1].name: duplicate member "a"`}},
		{"duplicate team", "orgs:\n  - name: o\n    teams:\n      - name: t\n      - name: t\n", []string{`s.yaml:5: orgs[0].teams[1].name: duplicate team name "t"`}},
		{"unknown role", "grants:\n  - subjectName: admin\n    objectID: swarm\n    roleID: god\n", []string{`s.yaml:4: grants[0].roleID: unknown role "god"`}},
		{"unknown subject", "grants:\n  - subjectName: o/t\n    objectID: swarm\n    roleID: none\n", []string{`s.yaml:2: grants[0].subjectName: no user, org or org/team is named "o/t"`}},
		{"unknown subject ID", "grants:\n  - subjectID: nope\n    objectID: swarm\n    roleID: none\n", []string{`s.yaml:2: grants[0].subjectID: no account or team has ID "nope"`}},
		{"both subjects", "grants:\n  - subjectName: admin\n    subjectID: x\n    objectID: swarm\n    roleID: none\n", []string{"s.yaml:2: grants[0]: exactly one of subjectID and subjectName"}},
		{"missing objectID", "grants:\n  - subjectName: admin\n    roleID: none\n", []string{"s.yaml:2: grants[0].objectID: objectID: ID \"\" must be"}},
		{"role lost by custom roles", "roles:\n  - id: mine\ngrants:\n  - subjectName: admin\n    objectID: swarm\n    roleID: fullcontrol\n", []string{`s.yaml:6: grants[0].roleID: unknown role "fullcontrol"`}},
		{"collection parent", "collections:\n  - id: swarm\n    path: /\n  - id: x\n    path: /x\n    parentIDs: [swarm, nope]\n", []string{`s.yaml:6: collections[1].parentIDs[1]: unknown parent collection "nope"`}},
		{"collection path", "collections:\n  - id: x\n    path: x/y\n", []string{`s.yaml:3: collections[0].path: path "x/y" must be absolute`}},
		{"invalid TOML", "version: 3.8.8\nconfigTOML: |\n  [cluster_config]\n  calico_kdd = \n", []string{"s.yaml:4: configTOML: invalid TOML at line 2, column"}},
		{"TOML calico_kdd type", "configTOML: |\n  [cluster_config]\n  calico_kdd = 1\n", []string{"s.yaml:1: configTOML: cluster_config.calico_kdd must be a boolean"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mke3api.ParseSeed("s.yaml", []byte(tt.yaml))
			require.Error(t, err)
			lines := strings.Split(err.Error(), "\n")
			require.Len(t, lines, len(tt.want), err.Error())
			for i, w := range tt.want {
				assert.True(t, strings.HasPrefix(lines[i], w), "got  %q\nwant %q…", lines[i], w)
			}
			var se *mke3api.SeedError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, "s.yaml", se.File)
		})
	}
}

func TestParseSeedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(path, []byte("users:\n  - name: a\n    pasword: x\n"), 0o600))
	_, err := mke3api.LoadSeed(path)
	var se *mke3api.SeedError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, path, se.File)
	assert.Equal(t, 3, se.Line)
	assert.True(t, strings.HasPrefix(err.Error(), path+":3: "), err.Error())
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name string
		opts mke3api.Options
		want string
	}{
		{"seed", mke3api.Options{Seed: mke3api.Seed{Users: []mke3api.User{{Name: "a"}, {Name: "a"}}}}, `mke3api: invalid seed: users[1].name: duplicate account name "a"`},
		{"page size", mke3api.Options{PageSize: 65537}, "PageSize 65537"},
		{"negative page size", mke3api.Options{PageSize: -1}, "PageSize -1"},
		{"negative TTL", mke3api.Options{TokenTTL: -1}, "negative TokenTTL"},
		{"kube API scheme", mke3api.Options{BundleKubeAPI: "http://x:6443"}, "not an https:// URL"},
		{"config TOML", mke3api.Options{Seed: mke3api.Seed{ConfigTOML: "a = ="}}, "configTOML: invalid TOML at line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mke3api.New(tt.opts)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestGenerateSeed(t *testing.T) {
	s := mke3api.GenerateSeed(10000, 100, 10, 20)
	require.Len(t, s.Users, 10000)
	require.Len(t, s.Orgs, 100)
	teams, members, admins, inactive := 0, 0, 0, 0
	for _, o := range s.Orgs {
		teams += len(o.Teams)
		for _, tm := range o.Teams {
			require.Len(t, tm.Members, 20)
			members += len(tm.Members)
		}
	}
	for _, u := range s.Users {
		if u.IsAdmin {
			admins++
		}
		if u.IsActive != nil && !*u.IsActive {
			inactive++
		}
	}
	assert.Equal(t, 1000, teams)
	assert.Equal(t, 20000, members)
	assert.Equal(t, 100, admins)
	assert.Equal(t, 200, inactive)
	assert.Len(t, s.Grants, 1100)
	assert.Equal(t, "user00001", s.Users[0].Name)
	assert.Equal(t, "org001", s.Orgs[0].Name)
	assert.Equal(t, "team001", s.Orgs[0].Teams[0].Name)
	assert.True(t, reflect.DeepEqual(s, mke3api.GenerateSeed(10000, 100, 10, 20)), "deterministic")

	_, err := mke3api.New(mke3api.Options{Seed: s})
	require.NoError(t, err, "a generated seed is valid")

	for _, args := range [][4]int{{0, 0, 0, 0}, {-5, 3, 2, 10}, {3, 1, 1, 10}, {1, 0, 5, 5}} {
		s := mke3api.GenerateSeed(args[0], args[1], args[2], args[3])
		_, err := mke3api.New(mke3api.Options{Seed: s})
		assert.NoError(t, err, "%v", args)
	}
}

func TestSeedErrorsAreWrapped(t *testing.T) {
	_, err := mke3api.ParseSeed("s.yaml", []byte("users:\n  - name: a\n    isAdmin: x\n"))
	var se *mke3api.SeedError
	require.ErrorAs(t, err, &se)
	assert.NotNil(t, errors.Unwrap(se), "the decoder's error is kept")
}
