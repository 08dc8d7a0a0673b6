package gather

import (
	"cmp"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/mke-migrate/mke-migrate/convert"
	"github.com/mke-migrate/mke-migrate/convert/mke4"
	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/hosts/toconvert"
	"github.com/mke-migrate/mke-migrate/mke3"
	"github.com/mke-migrate/mke-migrate/upgrade/preflight"
)

// Defaults of Options.
const (
	// DefaultKubeAPITimeout bounds reading the Kubernetes nodes through
	// the client bundle (the bundle download included).
	DefaultKubeAPITimeout = 60 * time.Second
	// kubeRequestTimeout bounds each request to the Kubernetes API.
	kubeRequestTimeout = 20 * time.Second
)

// Options say where to gather from. Hosts is required; everything else
// widens what is gathered and so what is checked.
type Options struct {
	// Hosts are the nodes of hosts.yaml.
	Hosts []hosts.Host
	// Connect and Concurrency say how the facts are gathered over SSH
	// (hosts.DefaultConcurrency hosts at once when Concurrency <= 0).
	Connect     hosts.ConnectOptions
	Concurrency int
	// Facts gathers one host's facts. Default: a connection of its own
	// (Connect), closed afterwards. upgrade.Discover passes the run's
	// connections, tests a fake.
	Facts func(ctx context.Context, h hosts.Host) (hosts.Facts, error)

	// MKE3 is the MKE 3 API: the configuration TOML, the LDAP settings
	// (when auth.backend is ldap) and the admin's client bundle, through
	// which the Kubernetes nodes are read. Without it (and without
	// ConfigTOML and KubeNodes) the checks that need them are skipped.
	MKE3 *mke3.Client
	// ConfigTOML is the MKE 3 configuration, used instead of reading it
	// from MKE3 (a saved one, or a test's).
	ConfigTOML []byte
	// KubeNodes lists the MKE 3 Kubernetes nodes. Default: through
	// MKE3's client bundle (mke3.KubeNodes), none without MKE3. Its error
	// is a finding (preflight.IDKubeAPI), not Cluster's.
	KubeNodes func(ctx context.Context) ([]mke3.KubeNode, error)
	// KubeAPITimeout bounds KubeNodes (DefaultKubeAPITimeout when 0).
	KubeAPITimeout time.Duration

	// Convert are the options of the conversion of the MKE 3
	// configuration (external address, registries, air-gap, kubelet
	// profile label, version). Cluster sets Hosts (from Hosts, the roles
	// the Swarm reports and the Kubernetes node labels) and, unless
	// given, LDAP (read from MKE3 when auth.backend is ldap) and
	// MKE3Version (the version the nodes run).
	Convert convert.Options

	// KubeconfigPath is where the upgrade writes the admin kubeconfig
	// (~/.mke/mke.kubeconf when empty): one left by a failed run blocks.
	KubeconfigPath string

	// Logger receives progress at debug level; default silent.
	Logger *slog.Logger
}

// Host is what was gathered about one host of hosts.yaml.
type Host struct {
	hosts.Host
	// Facts are nil when the host could not be reached; Err says why
	// (a *hosts.HostError).
	Facts *hosts.Facts
	Err   error
	// Manager is what the Swarm says (hosts.yaml's role when the host
	// was not reached).
	Manager bool
	// KubeNode is the host's Kubernetes node, when the nodes were read
	// and one matches (by hostname, SSH or private address).
	KubeNode *mke3.KubeNode
	// Labels are the node's Kubernetes labels with hosts.yaml's labels
	// over them; they select the kubelet profile, KubeletProfile.
	Labels         map[string]string
	KubeletProfile string
}

// Result is everything gathered, the conversion and the checks.
type Result struct {
	// Hosts are in the order of Options.Hosts.
	Hosts []Host
	// Leader, Managers (leader first) and Workers are the reachable hosts
	// by Swarm role, named by hosts.Host.String.
	Leader   string
	Managers []string
	Workers  []string
	// MKEVersion and ClusterID identify MKE 3 (from the facts).
	MKEVersion, ClusterID string

	// TOML is the MKE 3 configuration and Config its parse; nil when
	// neither MKE3 nor ConfigTOML was given.
	TOML   []byte
	Config *convert.MKE3Config
	// LDAP are the LDAP settings the conversion was given, when any.
	LDAP *convert.LDAPSettings
	// MKE4 and Report are the conversion of Config for these hosts; nil
	// without Config.
	MKE4   *mke4.MkeConfig
	Report *convert.Report

	// KubeNodes are the Kubernetes nodes (nil when not read), and
	// KubeAPIError why they could not be read.
	KubeNodes    []mke3.KubeNode
	KubeAPIError error

	// Input is what the checks looked at, Checks what they found.
	Input  preflight.Input
	Checks []preflight.Result
}

// Blockers are the checks that keep the upgrade from starting.
func (r *Result) Blockers() []preflight.Result {
	var out []preflight.Result
	for _, c := range r.Checks {
		if c.Severity == preflight.Blocker {
			out = append(out, c)
		}
	}
	return out
}

// Error is a failure to gather: Step names what was being read
// ("facts", "configuration", "ldap", "convert", "kubeconfig"), Err the
// cause (an mke3 error for the API, *hosts.HostError for a host).
type Error struct {
	Step string
	Err  error
}

func (e *Error) Error() string { return "gather: " + e.Step + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Cluster gathers the facts of every host, the MKE 3 configuration, LDAP
// settings and Kubernetes nodes, converts the configuration for these
// hosts and runs the preflight checks. An unreachable host or an
// unreadable Kubernetes API is a finding in the result; the error is for
// what leaves nothing to check (no hosts, ctx ended, the configuration
// unreadable or invalid), an *Error.
func Cluster(ctx context.Context, o Options) (*Result, error) {
	if len(o.Hosts) == 0 {
		return nil, &Error{Step: "facts", Err: errors.New("no hosts")}
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Result{}
	if err := r.facts(ctx, o, log); err != nil {
		return nil, err
	}
	in := &r.Input
	label := cmp.Or(o.Convert.KubeletProfileLabel, convert.DefaultKubeletProfileLabel)
	in.KubeletProfileLabel = label

	// The configuration: from the API unless given.
	r.TOML = o.ConfigTOML
	if r.TOML == nil && o.MKE3 != nil {
		var err error
		if r.TOML, err = o.MKE3.ConfigTOML(ctx); err != nil {
			return nil, &Error{Step: "configuration", Err: err}
		}
	}
	if r.TOML != nil {
		cfg, err := convert.Parse("MKE 3 configuration", r.TOML)
		if err != nil {
			return nil, &Error{Step: "configuration", Err: err}
		}
		r.Config = cfg
		cc := cfg.ClusterConfig
		in.CalicoKDD, in.CalicoEBPF, in.KubeProxyMode = &cc.CalicoKDD, &cc.CalicoEBPFEnabled, cc.KubeProxyMode
		in.KubeletProfiles = slices.Sorted(maps.Keys(cc.CustomKubeletFlagsProfiles))
		if in.KubeletProfiles == nil {
			in.KubeletProfiles = []string{}
		}
		r.LDAP = o.Convert.LDAP
		if r.LDAP == nil && cfg.Auth.Backend == "ldap" && o.MKE3 != nil {
			l, err := o.MKE3.LDAPConfig(ctx)
			if err != nil {
				return nil, &Error{Step: "ldap", Err: err}
			}
			r.LDAP = LDAPSettings(l)
		}
	}

	r.kubeNodes(ctx, o, log)
	for i := range r.Hosts {
		r.hostLabels(&r.Hosts[i], label)
	}

	if r.Config != nil {
		co := o.Convert
		co.LDAP, co.Hosts = r.LDAP, nil
		// the version the nodes run gates the conversion and picks the
		// MKE 4k version (a 3.9 source needs 4.2)
		co.MKE3Version = cmp.Or(co.MKE3Version, r.MKEVersion)
		for _, h := range r.Hosts {
			ch := toconvert.Host(h.Host, h.Manager)
			ch.Labels = h.Labels
			co.Hosts = append(co.Hosts, ch)
		}
		out, rep, err := convert.Convert(r.Config, co)
		if err != nil {
			return nil, &Error{Step: "convert", Err: err}
		}
		r.MKE4, r.Report = &out, &rep
		for _, e := range rep.Blocking() {
			in.ConfigBlocking = append(in.ConfigBlocking, preflight.Setting{Key: e.Key, Reason: e.Reason})
		}
	}

	if err := readKubeconfig(o.KubeconfigPath, in); err != nil {
		return nil, err
	}
	r.Checks = preflight.Run(*in)
	if r.Checks == nil {
		r.Checks = []preflight.Result{}
	}
	log.Debug("gathered", "hosts", len(r.Hosts), "unreachable", len(in.Unreachable), "checks", len(r.Checks))
	return r, nil
}

// facts gathers every host's facts and sorts the reachable hosts by role.
func (r *Result) facts(ctx context.Context, o Options, log *slog.Logger) error {
	get := o.Facts
	if get == nil {
		get = func(ctx context.Context, h hosts.Host) (hosts.Facts, error) {
			c, err := hosts.Connect(ctx, h, o.Connect)
			if err != nil {
				return hosts.Facts{}, err
			}
			defer func() { _ = c.Close() }()
			return c.Facts(ctx, nil)
		}
	}
	idx := map[string]int{}
	r.Hosts = make([]Host, len(o.Hosts))
	for i, h := range o.Hosts {
		r.Hosts[i] = Host{Host: h}
		idx[h.String()] = i
	}
	start := time.Now()
	err := hosts.Run(ctx, o.Hosts, o.Concurrency, func(ctx context.Context, h hosts.Host) error {
		f, err := get(ctx, h)
		if err != nil {
			return err
		}
		r.Hosts[idx[h.String()]].Facts = &f
		return nil
	})
	log.Debug("gathered facts", "hosts", len(o.Hosts), "took", time.Since(start))
	failed := hosts.FailedHosts(err)
	if err != nil && (len(failed) == 0 || ctx.Err() != nil) {
		return &Error{Step: "facts", Err: err}
	}
	for _, he := range failed {
		if i, ok := idx[he.Host]; ok {
			r.Hosts[i].Facts, r.Hosts[i].Err = nil, he
		}
	}
	in := &r.Input
	for i := range r.Hosts {
		h := &r.Hosts[i]
		key := h.Host.String()
		if h.Facts == nil {
			if h.Err == nil { // not reported by name: should not happen
				h.Err = &hosts.HostError{Host: key, Op: "facts", Err: errors.New("no facts")}
			}
			h.Manager = h.Role == hosts.RoleManager
			in.Unreachable = append(in.Unreachable, preflight.Unreachable{Host: h.Address, Err: h.Err})
			continue
		}
		f := *h.Facts
		in.Facts = append(in.Facts, f)
		h.Manager = f.Swarm.Role == hosts.RoleManager
		switch {
		case f.Swarm.Leader:
			r.Leader = key
		case h.Manager:
			r.Managers = append(r.Managers, key)
		default:
			r.Workers = append(r.Workers, key)
		}
		r.MKEVersion = cmp.Or(f.MKEVersion, r.MKEVersion)
		r.ClusterID = cmp.Or(f.Swarm.ClusterID, r.ClusterID)
	}
	if r.Leader != "" {
		r.Managers = append([]string{r.Leader}, r.Managers...)
	}
	return nil
}

// kubeNodes reads the Kubernetes nodes; a failure is a finding.
func (r *Result) kubeNodes(ctx context.Context, o Options, log *slog.Logger) {
	list := o.KubeNodes
	if list == nil && o.MKE3 != nil {
		list = func(ctx context.Context) ([]mke3.KubeNode, error) { return nodesThroughBundle(ctx, o.MKE3) }
	}
	if list == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, cmp.Or(o.KubeAPITimeout, DefaultKubeAPITimeout))
	defer cancel()
	nodes, err := list(ctx)
	switch {
	case err != nil:
		log.Debug("kubernetes nodes not read", "err", err)
		r.KubeAPIError = err
	case nodes == nil:
		nodes = []mke3.KubeNode{}
	}
	if err == nil {
		r.KubeNodes = nodes
	}
	r.Input.KubeNodes, r.Input.KubeAPIError = r.KubeNodes, r.KubeAPIError
}

func nodesThroughBundle(ctx context.Context, c *mke3.Client) ([]mke3.KubeNode, error) {
	b, err := c.ClientBundle(ctx)
	if err != nil {
		return nil, err
	}
	cfg, err := b.RESTConfig()
	if err != nil {
		return nil, err
	}
	cfg.Timeout = kubeRequestTimeout
	return mke3.KubeNodes(ctx, cfg)
}

// hostLabels matches h to its Kubernetes node and merges the labels.
func (r *Result) hostLabels(h *Host, label string) {
	if h.Facts != nil {
		if n, ok := preflight.NodeOf(r.KubeNodes, *h.Facts, h.PrivateAddress); ok {
			h.KubeNode = &n
		}
	}
	var labels map[string]string
	if h.KubeNode != nil {
		labels = maps.Clone(h.KubeNode.Labels)
	}
	if len(h.Host.Labels) > 0 {
		if labels == nil {
			labels = map[string]string{}
		}
		maps.Copy(labels, h.Host.Labels)
	}
	h.Labels = labels
	h.KubeletProfile = labels[label]
}

// readKubeconfig reads the kubeconfig a failed run may have left.
func readKubeconfig(path string, in *preflight.Input) error {
	if path == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil // no home: no default kubeconfig to find
		}
		path = filepath.Join(home, ".mke", "mke.kubeconf")
	}
	in.KubeconfigPath = path
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		in.KubeconfigContent = append([]byte{}, b...)
	case !errors.Is(err, fs.ErrNotExist):
		return &Error{Step: "kubeconfig", Err: err}
	}
	return nil
}

// LDAPSettings are the eNZi LDAP settings read from MKE 3 as the
// conversion takes them. The reader password is never among them (MKE 3
// does not return it): the conversion report says so.
func LDAPSettings(l mke3.LDAPConfig) *convert.LDAPSettings {
	s := &convert.LDAPSettings{
		ServerURL:           l.ServerURL,
		NoSimplePagination:  l.NoSimplePagination,
		StartTLS:            l.StartTLS,
		RootCerts:           l.RootCerts,
		TLSSkipVerify:       l.TLSSkipVerify,
		ReaderDN:            l.ReaderDN,
		AdminSyncOpts:       convert.LDAPAdminSyncOpts{EnableSync: l.AdminSyncOpts.EnableSync},
		SyncSchedule:        l.SyncSchedule,
		JITUserProvisioning: l.JITUserProvisioning,
	}
	for _, d := range l.AdditionalDomains {
		s.AdditionalDomains = append(s.AdditionalDomains, map[string]any{"domain": d.Domain, "serverURL": d.ServerURL})
	}
	for _, u := range l.UserSearchConfigs {
		s.UserSearchConfigs = append(s.UserSearchConfigs, convert.LDAPUserSearch{BaseDN: u.BaseDN, ScopeSubtree: u.ScopeSubtree,
			UsernameAttr: u.UsernameAttr, FullNameAttr: u.FullNameAttr, Filter: u.Filter, MatchGroup: u.MatchGroup})
	}
	return s
}
