package mke3_test

// Integration tests: the real client against the MKE 3 simulator, over
// real TLS. The unit tests in this package use small fakes; these prove the
// two sides agree on the wire.

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/mke3"
	"github.com/mke-migrate/mke-migrate/testbed/mke3api"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startSim(t testing.TB, seed mke3api.Seed, mod ...func(*mke3api.Options)) *mke3api.Running {
	t.Helper()
	o := mke3api.Options{Seed: seed}
	for _, m := range mod {
		m(&o)
	}
	r, err := mke3api.Start(o)
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func simClient(t testing.TB, r *mke3api.Running, mod ...func(*mke3.Options)) (*mke3.Client, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	o := mke3.Options{
		Host:      r.URL,
		Username:  mke3api.DefaultAdminUsername,
		Password:  mke3api.DefaultAdminPassword,
		CACertPEM: r.CAPEM,
		Logger:    slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Retry:     mke3.Retry{Attempts: 4, Base: time.Millisecond, Max: 5 * time.Millisecond},
	}
	for _, m := range mod {
		m(&o)
	}
	c, err := mke3.New(o)
	require.NoError(t, err)
	return c, logs
}

func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestSimListsEverythingAtAnyPageSize(t *testing.T) {
	seed := mke3api.GenerateSeed(57, 4, 3, 5)
	r := startSim(t, seed)
	for _, size := range []int{1, 10, 56, 1000} {
		c, _ := simClient(t, r, func(o *mke3.Options) { o.PageSize = size })
		accts, err := c.ListAccounts(ctx(t), mke3.AccountsAll)
		require.NoError(t, err, "page size %d", size)
		assert.Len(t, accts, 57+1+4, "users, the admin and the orgs (page size %d)", size)
		users, err := c.ListAccounts(ctx(t), mke3.AccountsUsers)
		require.NoError(t, err)
		assert.Len(t, users, 58)
		teams, err := c.ListTeams(ctx(t), seed.Orgs[0].Name)
		require.NoError(t, err)
		assert.Len(t, teams, 3)
		members, err := c.ListTeamMembers(ctx(t), seed.Orgs[0].Name, teams[0].Name, mke3.MembersAll)
		require.NoError(t, err)
		assert.Len(t, members, 5)
		colls, err := c.ListCollections(ctx(t))
		require.NoError(t, err)
		assert.NotEmpty(t, colls)
		grants, err := c.Grants(ctx(t))
		require.NoError(t, err)
		assert.Len(t, grants.Grants, len(seed.Grants))
	}
}

func TestSimAccountByNameAndID(t *testing.T) {
	seed := mke3api.GenerateSeed(3, 1, 1, 1)
	r := startSim(t, seed)
	c, _ := simClient(t, r)
	a, err := c.Account(ctx(t), seed.Users[0].Name)
	require.NoError(t, err)
	b, err := c.Account(ctx(t), mke3.IDRef(a.ID))
	require.NoError(t, err)
	assert.Equal(t, a, b)
	_, err = c.Account(ctx(t), "nobody")
	assert.ErrorIs(t, err, mke3.ErrNotFound)
}

func TestSimRepeatedPageStartIsDetected(t *testing.T) {
	r := startSim(t, mke3api.GenerateSeed(30, 0, 0, 0))
	r.SetFault(http.MethodGet, "/enzi/v0/accounts", mke3api.Fault{RepeatStart: true})
	c, _ := simClient(t, r, func(o *mke3.Options) { o.PageSize = 5 })
	_, err := c.ListAccounts(ctx(t), mke3.AccountsAll)
	assert.ErrorIs(t, err, mke3.ErrRepeatedPage)
}

func TestSimTokenExpiryMidListing(t *testing.T) {
	r := startSim(t, mke3api.GenerateSeed(40, 0, 0, 0))
	c, _ := simClient(t, r, func(o *mke3.Options) { o.PageSize = 5 })
	n := 0
	for a, err := range c.Accounts(ctx(t), mke3.AccountsAll) {
		require.NoError(t, err)
		require.NotEmpty(t, a.Name)
		if n++; n == 12 {
			r.ExpireTokens() // the next page needs a new login
		}
	}
	assert.Equal(t, 41, n)
	assert.Equal(t, 2, r.Stats().Logins)
}

func TestSimServerErrorsThenSuccess(t *testing.T) {
	r := startSim(t, mke3api.GenerateSeed(3, 0, 0, 0))
	r.SetFault(http.MethodGet, "/enzi/v0/accounts", mke3api.Fault{Status: http.StatusServiceUnavailable, Times: 2})
	c, _ := simClient(t, r)
	accts, err := c.ListAccounts(ctx(t), mke3.AccountsAll)
	require.NoError(t, err)
	assert.Len(t, accts, 4)
	assert.Equal(t, 3, r.Stats().Requests["GET /enzi/v0/accounts"])

	r.SetFault(http.MethodGet, "/roles", mke3api.Fault{Status: http.StatusInternalServerError})
	_, err = c.Roles(ctx(t))
	var ae *mke3.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusInternalServerError, ae.Status)
	assert.Equal(t, "/roles", ae.Path)
}

func TestSimMalformedAnswers(t *testing.T) {
	r := startSim(t, mke3api.GenerateSeed(3, 0, 0, 0))
	r.SetFault(http.MethodGet, "/enzi/v0/accounts", mke3api.Fault{Malformed: true})
	c, _ := simClient(t, r)
	_, err := c.ListAccounts(ctx(t), mke3.AccountsAll)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "/enzi/v0/accounts")

	// A configuration that is not TOML: the datastore check says so.
	r.SetFault(http.MethodGet, "/api/ucp/config-toml", mke3api.Fault{Malformed: true})
	_, err = c.CalicoDatastore(ctx(t))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "does not parse")
}

func TestSimWrongPassword(t *testing.T) {
	r := startSim(t, mke3api.Seed{})
	c, logs := simClient(t, r, func(o *mke3.Options) { o.Password = "Wr0ng-Pa55word" })
	_, err := c.ConfigTOML(ctx(t))
	require.ErrorIs(t, err, mke3.ErrUnauthorized)
	assert.NotContains(t, err.Error()+logs.String(), "Wr0ng-Pa55word")
}

func TestSimTLSTrust(t *testing.T) {
	r := startSim(t, mke3api.Seed{})
	// Unknown CA: a certificate error that prints the fingerprint.
	c, _ := simClient(t, r, func(o *mke3.Options) { o.CACertPEM = nil })
	err := c.Ping(ctx(t))
	var ce *mke3.CertificateError
	require.ErrorAs(t, err, &ce)
	assert.Contains(t, err.Error(), ce.Fingerprint)
	assert.Equal(t, normalize(r.Fingerprint), normalize(ce.Fingerprint))

	for name, mod := range map[string]func(*mke3.Options){
		"leaf pin": func(o *mke3.Options) { o.CACertPEM, o.CAFingerprint = nil, r.Fingerprint },
		"CA pin":   func(o *mke3.Options) { o.CACertPEM, o.CAFingerprint = nil, r.CAFingerprint },
		"insecure": func(o *mke3.Options) { o.CACertPEM, o.Insecure = nil, true },
	} {
		t.Run(name, func(t *testing.T) {
			c, logs := simClient(t, r, mod)
			_, err := c.Version(ctx(t))
			require.NoError(t, err)
			if name == "insecure" {
				assert.Contains(t, strings.ToLower(logs.String()), "insecure")
			}
		})
	}
	c, _ = simClient(t, r, func(o *mke3.Options) { o.CACertPEM, o.CAFingerprint = nil, strings.Repeat("ab", 32) })
	require.ErrorAs(t, c.Ping(ctx(t)), &ce)
}

func normalize(fp string) string { return strings.ToLower(strings.ReplaceAll(fp, ":", "")) }

func TestSimConfigAndCalicoKDDSwitch(t *testing.T) {
	r := startSim(t, mke3api.Seed{})
	c, _ := simClient(t, r)
	ds, err := c.CalicoDatastore(ctx(t))
	require.NoError(t, err)
	assert.False(t, ds.KDD)
	before := r.ConfigTOML()

	res, err := c.SwitchCalicoKDD(ctx(t))
	require.NoError(t, err)
	assert.Equal(t, "Calico datastore upgrade from etcd to kdd successful", res.Message)
	after := r.ConfigTOML()
	assert.Equal(t, strings.Replace(before, "calico_kdd = false", "calico_kdd = true", 1), after, "only calico_kdd changes")

	res, err = c.SwitchCalicoKDD(ctx(t))
	require.NoError(t, err)
	assert.True(t, res.AlreadyKDD)

	// MKE 3 refuses to go back.
	_, err = c.PutConfigTOML(ctx(t), []byte(before))
	var ae *mke3.APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "INVALID_CONFIG", ae.Code)
}

func TestSimVersionLDAPRolesBundle(t *testing.T) {
	seed := mke3api.GenerateSeed(2, 1, 1, 1)
	seed.LDAP = &mke3api.LDAPConfig{ServerURL: "ldaps://ldap.example.com", ReaderDN: "cn=reader", ReaderPassword: "ldap-secret-pw"}
	r := startSim(t, seed)
	c, logs := simClient(t, r)
	v, err := c.Version(ctx(t))
	require.NoError(t, err)
	assert.Equal(t, mke3api.DefaultVersion, v)
	l, err := c.LDAPConfig(ctx(t))
	require.NoError(t, err)
	assert.Equal(t, "ldaps://ldap.example.com", l.ServerURL)
	roles, err := c.Roles(ctx(t))
	require.NoError(t, err)
	assert.Len(t, roles, 5)
	b, err := c.ClientBundle(ctx(t))
	require.NoError(t, err)
	rc, err := b.RESTConfig()
	require.NoError(t, err)
	assert.NotEmpty(t, rc.Host)
	assert.NotContains(t, logs.String(), "ldap-secret-pw")
	assert.NotContains(t, logs.String(), string(b.KeyPEM))
}

// Every call, with every kind of fault: the password and the token appear
// in no error and no log line.
func TestSimSecretsNeverLeak(t *testing.T) {
	const pw = "S3cret-Adm1n-Pw"
	seed := mke3api.GenerateSeed(12, 2, 2, 2)
	seed.Admin.Password = pw
	r := startSim(t, seed)
	faults := []mke3api.Fault{
		{Status: http.StatusInternalServerError}, {Status: http.StatusUnauthorized}, {Status: http.StatusForbidden},
		{Malformed: true}, {Drop: true}, {RepeatStart: true}, {Status: http.StatusTooManyRequests, Times: 1},
	}
	calls := map[string]func(*mke3.Client) error{
		"ping":       func(c *mke3.Client) error { return c.Ping(ctx(t)) },
		"version":    func(c *mke3.Client) error { _, err := c.Version(ctx(t)); return err },
		"config":     func(c *mke3.Client) error { _, err := c.ConfigTOML(ctx(t)); return err },
		"put config": func(c *mke3.Client) error { _, err := c.PutConfigTOML(ctx(t), []byte(r.ConfigTOML())); return err },
		"accounts":   func(c *mke3.Client) error { _, err := c.ListAccounts(ctx(t), mke3.AccountsAll); return err },
		"account":    func(c *mke3.Client) error { _, err := c.Account(ctx(t), seed.Users[0].Name); return err },
		"teams":      func(c *mke3.Client) error { _, err := c.ListTeams(ctx(t), seed.Orgs[0].Name); return err },
		"members": func(c *mke3.Client) error {
			_, err := c.ListTeamMembers(ctx(t), seed.Orgs[0].Name, seed.Orgs[0].Teams[0].Name, mke3.MembersAll)
			return err
		},
		"ldap":        func(c *mke3.Client) error { _, err := c.LDAPConfig(ctx(t)); return err },
		"roles":       func(c *mke3.Client) error { _, err := c.Roles(ctx(t)); return err },
		"collections": func(c *mke3.Client) error { _, err := c.ListCollections(ctx(t)); return err },
		"grants":      func(c *mke3.Client) error { _, err := c.Grants(ctx(t)); return err },
		"bundle":      func(c *mke3.Client) error { _, err := c.ClientBundle(ctx(t)); return err },
		"kdd":         func(c *mke3.Client) error { _, err := c.CalicoDatastore(ctx(t)); return err },
	}
	for _, f := range append(faults, mke3api.Fault{}) {
		for _, path := range []string{"/", "/auth/login"} {
			r.ClearFaults()
			r.SetFault("", path, f)
			c, logs := simClient(t, r, func(o *mke3.Options) { o.Password = pw })
			var text strings.Builder
			for name, call := range calls {
				if err := call(c); err != nil {
					text.WriteString(name + ": " + err.Error() + "\n")
					var ae *mke3.APIError
					if errors.As(err, &ae) {
						text.WriteString(ae.Message)
					}
				}
			}
			if mustFail := f.Status >= 400 && f.Status != http.StatusTooManyRequests || f.Malformed || f.Drop; mustFail && path == "/" {
				assert.NotEmpty(t, text.String(), "fault %+v on %s made no call fail: the test would prove nothing", f, path)
			}
			out := text.String() + logs.String()
			assert.NotContains(t, out, pw, "fault %+v on %s", f, path)
			for _, tok := range r.IssuedTokens() {
				assert.NotContains(t, out, tok, "fault %+v on %s", f, path)
			}
		}
	}
}

// BenchmarkListAllAccountsAndTeams lists a real-sized MKE 3 (10 000 users,
// 100 orgs with 1 000 teams) through the client and the simulator over TLS,
// at the client's default page size.
func BenchmarkListAllAccountsAndTeams(b *testing.B) {
	seed := mke3api.GenerateSeed(10000, 100, 10, 0)
	r := startSim(b, seed)
	c, _ := simClient(b, r)
	start := r.Stats().Total
	for b.Loop() {
		accts, err := c.ListAccounts(context.Background(), mke3.AccountsAll)
		if err != nil || len(accts) != 10000+1+100 {
			b.Fatalf("%d accounts, %v", len(accts), err)
		}
		teams := 0
		for _, o := range seed.Orgs {
			ts, err := c.ListTeams(context.Background(), o.Name)
			if err != nil {
				b.Fatal(err)
			}
			teams += len(ts)
		}
		if teams != 1000 {
			b.Fatalf("%d teams", teams)
		}
	}
	b.ReportMetric(float64(r.Stats().Total-start)/float64(b.N), "requests/op")
}
