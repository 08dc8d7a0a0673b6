package convert

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/mke-migrate/mke-migrate/convert/mke4"
)

// DefaultKubeletProfileLabel is the MKE 3 node label whose value names the
// custom_kubelet_flags_profiles entry a node uses. Mirantis does not
// publish the key; this default is the project's assumption. Check a live
// node (`docker node inspect <node> --format '{{json .Spec.Labels}}'`) and
// set Options.KubeletProfileLabel when yours differs.
const DefaultKubeletProfileLabel = "com.mirantis.kubelet-profile"

// KDDRequiredMessage is the error text mkectl prints for an etcd-backed
// Calico, reproduced so that searches for it find this tool too.
const KDDRequiredMessage = "unsupported configuration for mke4 upgrade: mke3 cluster is using etcdv3 and not kdd backend for calico"

// Host is one node of the cluster as it goes into spec.hosts, with the
// MKE 3 node labels that decide its kubelet profile.
type Host struct {
	mke4.Host
	// Labels are the node's MKE 3 labels (Swarm or Kubernetes node labels).
	Labels map[string]string
}

// LDAPSettings is the LDAP configuration MKE 3.7/3.8 keeps in eNZi
// (GET /enzi/v0/config/auth/ldap), not in the TOML. JSON names follow eNZi.
type LDAPSettings struct {
	ServerURL           string            `json:"serverURL"`
	NoSimplePagination  bool              `json:"noSimplePagination"`
	StartTLS            bool              `json:"startTLS"`
	RootCerts           string            `json:"rootCerts"`
	TLSSkipVerify       bool              `json:"tlsSkipVerify"`
	ReaderDN            string            `json:"readerDN"`
	ReaderPassword      string            `json:"readerPassword"`
	AdditionalDomains   []map[string]any  `json:"additionalDomains,omitempty"`
	UserSearchConfigs   []LDAPUserSearch  `json:"userSearchConfigs"`
	AdminSyncOpts       LDAPAdminSyncOpts `json:"adminSyncOpts"`
	SyncSchedule        string            `json:"syncSchedule"`
	JITUserProvisioning bool              `json:"jitUserProvisioning"`
}

// LDAPUserSearch is one eNZi user search configuration.
type LDAPUserSearch struct {
	BaseDN       string `json:"baseDN"`
	ScopeSubtree bool   `json:"scopeSubtree"`
	UsernameAttr string `json:"usernameAttr"`
	FullNameAttr string `json:"fullNameAttr"`
	Filter       string `json:"filter"`
	MatchGroup   bool   `json:"matchGroup"`
}

// LDAPAdminSyncOpts is eNZi's admin group sync.
type LDAPAdminSyncOpts struct {
	EnableSync bool `json:"enableSync"`
}

// Options carries what the TOML does not hold.
type Options struct {
	// ExternalAddress is the MKE 4k load balancer address
	// (spec.apiServer.externalAddress).
	ExternalAddress string
	// Hosts become spec.hosts; their labels select kubelet profiles.
	Hosts []Host
	// ImageRegistry and ChartRegistry override the default registries
	// (the chart registry starts with oci://); CA data is PEM. Each one
	// given is reported (OptionImageRegistry, ...).
	ImageRegistry, ImageRegistryCAData string
	ChartRegistry, ChartRegistryCAData string
	// Airgapped sets spec.airgap.enabled; without both registries the
	// report blocks (an air-gapped cluster cannot pull from Mirantis).
	Airgapped bool
	// LDAP carries eNZi's LDAP settings when auth.backend is "ldap".
	LDAP *LDAPSettings
	// KubeletProfileLabel is the MKE 3 node label naming a node's kubelet
	// profile; empty means DefaultKubeletProfileLabel.
	KubeletProfileLabel string
	// Version is the MKE 4k version to write; empty means mke4.DefaultVersion,
	// or MKE4VersionFor39 for an MKE 3.9 source.
	Version string
	// MKE3Version is the source's MKE version (like "3.8.8"), when known.
	// It gates the conversion (CheckMKE3Version: an unsupported version is
	// a blocking entry "mke3.version"), reports keys newer than the source
	// as unknown, and notes on each key what changed in that version (MKE
	// 3.9's ingress moved to Envoy Gateway). Empty: no version checks.
	MKE3Version string
}

// ErrInvalidOptions is wrapped by Convert's error for bad Options.
var ErrInvalidOptions = errors.New("invalid conversion options")

// Convert turns an MKE 3 configuration into an MKE 4k configuration and a
// report that accounts for every leaf key of the input. It is pure: no
// files, network or clock. The error is for unusable arguments only;
// problems of the configuration itself are report entries (blocking ones
// stop an upgrade). The configuration is canonical (mke4.Canonical): it is
// reflect.DeepEqual to what mke4.Unmarshal reads back from mke4.Marshal's
// output (no empty non-nil maps or lists; free-form values such as kubelet
// profile values in encoding/json shapes, numbers as float64).
func Convert(cfg *MKE3Config, opts Options) (mke4.MkeConfig, Report, error) {
	if cfg == nil {
		return mke4.MkeConfig{}, Report{}, fmt.Errorf("convert: nil configuration: %w", ErrInvalidOptions)
	}
	if err := opts.validate(); err != nil {
		return mke4.MkeConfig{}, Report{}, err
	}
	out := mke4.Default()
	c := &conv{in: cfg, out: &out, opts: opts, byKey: map[string][]Entry{}, args: map[string]string{}}
	c.planLongest()
	c.run()
	rep := c.finish()
	return canonical(out), rep, nil
}

// canonical is mke4.Canonical(out) without copying the extraArgs maps: a
// non-empty map of strings is canonical as it is, and the copies of two
// maps of 60 000 flags were held next to the originals (issue 14, F13).
// out is Convert's own, so sharing its maps is safe.
func canonical(out mke4.MkeConfig) mke4.MkeConfig {
	args := func(m *mke4.MkeConfig) []*map[string]string {
		s := &m.Spec
		return []*map[string]string{&s.APIServer.ExtraArgs, &s.ControllerManager.ExtraArgs, &s.Scheduler.ExtraArgs,
			&s.Kubelet.ExtraArgs, &s.Network.KubeProxy.ExtraArgs}
	}
	kept := args(&out)
	maps := make([]map[string]string, len(kept))
	for i, p := range kept {
		maps[i], *p = *p, nil
	}
	res := mke4.Canonical(out)
	for i, p := range args(&res) {
		if len(maps[i]) > 0 {
			*p = maps[i]
		}
	}
	return res
}

func (o Options) validate() error {
	var errs []error
	if strings.HasSuffix(o.ImageRegistry, "/") {
		errs = append(errs, fmt.Errorf("image registry %q must not end with /", o.ImageRegistry))
	}
	if o.ChartRegistry != "" && !strings.HasPrefix(o.ChartRegistry, "oci://") {
		errs = append(errs, fmt.Errorf("chart registry %q must start with oci://", o.ChartRegistry))
	}
	if strings.HasSuffix(o.ChartRegistry, "/") {
		errs = append(errs, fmt.Errorf("chart registry %q must not end with /", o.ChartRegistry))
	}
	if strings.Contains(o.ExternalAddress, "://") || strings.Contains(o.ExternalAddress, "/") {
		errs = append(errs, fmt.Errorf("external address %q must be a host name or address with an optional :port, not a URL", o.ExternalAddress))
	}
	for i, h := range o.Hosts {
		switch h.Role {
		case "", mke4.RoleControllerWorker, mke4.RoleWorker, mke4.RoleController, mke4.RoleSingle:
		default:
			errs = append(errs, fmt.Errorf("hosts[%d]: role %q is not one of controller+worker, worker, controller, single", i, h.Role))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("convert: %w: %w", ErrInvalidOptions, errors.Join(errs...))
	}
	return nil
}

// conv holds one conversion run.
type conv struct {
	in    *MKE3Config
	out   *mke4.MkeConfig
	opts  Options
	byKey map[string][]Entry
	extra []Entry           // entries for keys the document lacks or options
	args  map[string]string // "<target>.<flag>" -> key that set it (override notes)
	// lists holds, per component, the flag lists converted so far with
	// the flags each set: a flag a list set is in args only when another
	// key set it too (argSetBy), not once per flag (issue 14, F13).
	lists map[string][]listArgs
	pools []MetalLBPool
	// profileNames maps MKE 3 kubelet profile names to MKE 4k ones.
	profileNames map[string]string
	// The report's entries are allocated once, in arena, with room for
	// the whole report (issue 14, F13: 300 000 flags): the entries of the
	// document's longest list (key longest) fill it from the start, those
	// of the second longest (key second, secondLen elements) fill it from
	// arena offset room-secondLen, and finish moves both into place
	// instead of copying them. Other keys' entries are copied.
	longest, second string
	secondLen       int
	room            int
	arena           []Entry
	// phase, when set (by memory benchmarks), is called at the end of
	// each flag list's conversion and before and after finish.
	phase func(string)
}

const (
	cc = "cluster_config."
	sp = "spec."
)

func (c *conv) has(key string) bool { return c.in.Has(key) }

// set records key as converted to target (a path under spec), when the
// document holds the key, and runs apply. Returns whether it applied.
func (c *conv) set(key, target string, basis Basis, apply func()) bool {
	if !c.has(key) {
		return false
	}
	apply()
	c.add(Entry{Key: key, Status: StatusConverted, Target: sp + target, Basis: basis})
	return true
}

// setInt is set for integers with a lower bound: a value below it is
// reported unconvertible rather than written into an invalid mke4.yaml.
func (c *conv) setInt(key, target string, basis Basis, v, min int, dst *int) {
	if !c.has(key) {
		return
	}
	if v < min {
		c.mark(key, StatusUnconvertible, fmt.Sprintf("%d is below the minimum of %d", v, min))
		return
	}
	c.set(key, target, basis, func() { *dst = v })
}

func (c *conv) add(e Entry) { c.byKey[e.Key] = append(c.byKey[e.Key], e) }

// mark records a non-converted status for key if the document holds it.
func (c *conv) mark(key string, s Status, reason string) {
	if c.has(key) {
		c.add(Entry{Key: key, Status: s, Reason: reason})
	}
}

func (c *conv) run() {
	c.options()
	c.auth()
	c.tracking()
	c.network()
	c.kubelet()
	c.controlPlane()
	c.ingress()
	c.gateway()
	c.addons()
	c.hosts()
	c.versions()
	c.validateResult()
}

// Report keys of the Options that the TOML does not hold (the registries
// and air-gap of mkectl's --image-registry, --chart-registry,
// --image-registry-ca-file, --chart-registry-ca-file and --mke3-airgapped).
// Each given option gets an entry, as an input key does.
const (
	OptionImageRegistry       = "options.imageRegistry"
	OptionImageRegistryCAData = "options.imageRegistryCAData"
	OptionChartRegistry       = "options.chartRegistry"
	OptionChartRegistryCAData = "options.chartRegistryCAData"
	OptionAirgapped           = "options.airgapped"
)

func (c *conv) options() {
	s := &c.out.Spec
	o := c.opts
	if o.Version != "" {
		s.Version = o.Version
	}
	s.APIServer.ExternalAddress = o.ExternalAddress
	s.Airgap.Enabled = o.Airgapped
	entry := func(key string, st Status, target, reason string) {
		e := Entry{Key: key, Status: st, Reason: reason}
		if target != "" {
			e.Target, e.Basis = sp+target, Documented
		}
		c.extra = append(c.extra, e)
	}
	registry := func(url, ca, urlKey, caKey, target string, dst *mke4.Registry) {
		switch {
		case url != "":
			*dst = mke4.Registry{URL: url, CAData: ca}
			entry(urlKey, StatusConverted, target+".url", "")
			if ca != "" {
				entry(caKey, StatusConverted, target+".caData", "")
			}
		case ca != "":
			entry(caKey, StatusDropped, "", "a CA without its registry: the default registry ("+dst.URL+") is used, with the system's trusted CAs")
		}
	}
	registry(o.ImageRegistry, o.ImageRegistryCAData, OptionImageRegistry, OptionImageRegistryCAData, "registries.imageRegistry", &s.Registries.ImageRegistry)
	registry(o.ChartRegistry, o.ChartRegistryCAData, OptionChartRegistry, OptionChartRegistryCAData, "registries.chartRegistry", &s.Registries.ChartRegistry)
	if !o.Airgapped {
		return
	}
	entry(OptionAirgapped, StatusConverted, "airgap.enabled", "")
	// An air-gapped cluster cannot reach Mirantis' registries: the
	// offline upgrade documents both registries as required. A site that
	// mirrors the default names passes them explicitly.
	for _, r := range []struct{ given, key, flag string }{
		{o.ImageRegistry, OptionImageRegistry, "--image-registry"},
		{o.ChartRegistry, OptionChartRegistry, "--chart-registry"},
	} {
		if r.given == "" {
			entry(r.key, StatusBlocking, "", "air-gapped, but no registry given: the nodes cannot pull from Mirantis' registry; give the registry holding the MKE 4k bundle ("+r.flag+")")
		}
	}
}

// setString converts a string key; an empty value keeps the MKE 4k default.
func (c *conv) setString(key, target, v string, dst *string) {
	if !c.has(key) {
		return
	}
	if v == "" {
		c.add(Entry{Key: key, Status: StatusDefault, Target: sp + target, Reason: "empty: the MKE 4k default applies"})
		return
	}
	c.set(key, target, c.basis(key), func() { *dst = v })
}

func (c *conv) basis(key string) Basis {
	if s := specByPattern[key]; s != nil {
		return s.basis
	}
	return Inferred
}

// add0 records an entry for key if present (no apply).
func (c *conv) add0(key string, s Status, target, reason string, basis Basis) {
	if !c.has(key) {
		return
	}
	e := Entry{Key: key, Status: s, Reason: reason, Basis: basis}
	if target != "" {
		e.Target = sp + target
	}
	c.add(e)
}

// validateResult turns rule violations of the produced configuration into
// blocking entries: an invalid mke4.yaml must not reach an upgrade.
func (c *conv) validateResult() {
	err := c.out.Validate()
	if err == nil {
		return
	}
	var errs []error
	if u, ok := err.(interface{ Unwrap() []error }); ok {
		errs = u.Unwrap()
	} else {
		errs = []error{err}
	}
	for _, e := range errs {
		msg := e.Error()
		if strings.HasPrefix(msg, "spec.apiServer.externalAddress") {
			continue // an offline conversion may not know it yet
		}
		c.extra = append(c.extra, Entry{Key: "mke4.yaml", Status: StatusBlocking, Reason: "the converted configuration is invalid: " + msg})
	}
}

// planLongest finds the document's two longest lists (see conv.arena)
// and estimates the report's size: one entry per leaf or list element, and
// some for options and absent keys. A key that more than one leaf has
// (array-of-tables elements) is never chosen.
func (c *conv) planLongest() {
	leaves := map[string]int{}
	for _, l := range c.in.Leaves {
		leaves[l.Key]++
	}
	best, next := -1, -1
	c.room = 64
	for _, l := range c.in.Leaves {
		n, list := 1, -1
		switch v := l.Value.(type) {
		case []any:
			list = len(v)
		case []string: // a flag list (Leaf.Value)
			list = len(v)
		}
		if list >= 0 {
			n = max(1, list)
			switch {
			case leaves[l.Key] != 1:
			case list > best:
				next, c.second = best, c.longest
				best, c.longest = list, l.Key
			case list > next:
				next, c.second = list, l.Key
			}
		}
		c.room += n
	}
	c.secondLen = max(next, 0)
}

// reserve makes room in key's entry list for n more entries, so that
// appending does not copy the list as it grows; the two longest lists
// get theirs in the arena.
func (c *conv) reserve(key string, n int) {
	es := c.byKey[key]
	if (key == c.longest || key == c.second) && c.arena == nil {
		c.arena = make([]Entry, 0, c.room)
	}
	switch key {
	case c.longest:
		// up to where the second list's part starts
		if len(es) == 0 || !c.inArena(es, 0) {
			c.byKey[key] = append(c.arena[0:0:c.room-c.secondLen], es...)
			return
		}
	case c.second:
		off := c.room - c.secondLen
		if len(es) == 0 || !c.inArena(es, off) {
			c.byKey[key] = append(c.arena[off:off:c.room], es...)
			return
		}
	}
	c.byKey[key] = slices.Grow(es, n)
}

// inArena reports whether es is stored in the arena from offset off.
func (c *conv) inArena(es []Entry, off int) bool {
	return len(es) > 0 && off < cap(c.arena) && &es[0] == &c.arena[:cap(c.arena)][off]
}

// finish builds the report: every leaf in document order with its
// entries, then entries for absent keys and options. The entries of the
// lists stored in the arena are moved to their place there and the others
// written around them; without the arena (or room in it) every entry is
// copied into a new array.
func (c *conv) finish() Report {
	n := len(c.extra)
	for _, l := range c.in.Leaves {
		n += max(1, len(c.byKey[l.Key]))
	}
	out, placed := c.placeArena(n)
	i := 0
	for j, l := range c.in.Leaves {
		es, ok := c.byKey[l.Key]
		switch {
		case placed[j]:
			for m := range es {
				if e := &out[i+m]; e.Line == 0 {
					e.Line = int32(l.Line)
				}
			}
			i += len(es)
		case ok:
			for _, e := range es {
				if e.Line == 0 { // a rule may point at one element's line
					e.Line = int32(l.Line)
				}
				out[i] = e
				i++
			}
		default:
			e := c.generic(l)
			e.Line = int32(l.Line)
			out[i] = e
			i++
		}
	}
	copy(out[i:], c.extra)
	return Report{Entries: out, MetalLBPools: c.pools}
}

// arenaPart is one list's entries in the arena.
type arenaPart struct {
	leaf, off, n int // leaf index, offset in the arena, entry count
}

// placeArena returns the report's n entries to fill, and which leaves'
// entries are already in place in it: the lists stored in the arena,
// moved to where the report has them. Without the arena, or when n does
// not fit in it, it returns a new array and no leaf.
func (c *conv) placeArena(n int) ([]Entry, map[int]bool) {
	if c.arena == nil || n > cap(c.arena) {
		return make([]Entry, n), nil
	}
	full := c.arena[:cap(c.arena)]
	var parts []arenaPart
	pos := make(map[int]int) // leaf index -> its first entry in the report
	at := 0
	for j, l := range c.in.Leaves {
		pos[j] = at
		es := c.byKey[l.Key]
		at += max(1, len(es))
		switch {
		case l.Key == c.longest && c.inArena(es, 0):
			parts = append(parts, arenaPart{j, 0, len(es)})
		case l.Key == c.second && c.inArena(es, c.room-c.secondLen):
			parts = append(parts, arenaPart{j, c.room - c.secondLen, len(es)})
		}
	}
	// Gather the parts at the arena's start, in document order: the part
	// from offset 0 (if any) stays, a later one moves down right after
	// it, and two parts in the other order are swapped by a rotation.
	if len(parts) == 2 && parts[0].off != 0 {
		a, b := parts[0], parts[1] // a is the second list, b the longest
		copy(full[b.n:], full[a.off:a.off+a.n])
		slices.Reverse(full[:b.n])
		slices.Reverse(full[b.n : b.n+a.n])
		slices.Reverse(full[:b.n+a.n])
		parts[0].off, parts[1].off = 0, a.n
	} else {
		start := 0
		for k := range parts {
			copy(full[start:], full[parts[k].off:parts[k].off+parts[k].n])
			parts[k].off = start
			start += parts[k].n
		}
	}
	// Each part now moves up (never down) to its place, the last first,
	// so that no part overwrites one still to move.
	placed := map[int]bool{}
	for k := len(parts) - 1; k >= 0; k-- {
		p := parts[k]
		copy(full[pos[p.leaf]:], full[p.off:p.off+p.n])
		placed[p.leaf] = true
	}
	end := 0
	for _, p := range parts {
		end = max(end, pos[p.leaf]+p.n)
	}
	// entries left past the report's end hold strings: drop them
	clear(full[max(n, end):])
	return full[:n:n], placed
}

// generic decides the entry of a key that no rule claimed.
func (c *conv) generic(l Leaf) Entry {
	s := l.spec
	switch {
	case l.Table && l.known && s == nil:
		return emptyTable(l)
	case s == nil:
		return Entry{Key: l.Key, Status: StatusUnknown, Reason: unknownReason(l)}
	case s.target != "":
		// A key with a target is always claimed by a rule when present;
		// reaching here is a bug, reported rather than hidden.
		return Entry{Key: l.Key, Status: StatusUnknown, Reason: "internal: no conversion rule ran for this key; please report it"}
	case s.def == anyValue:
		return Entry{Key: l.Key, Status: StatusDefault, Reason: s.reason}
	case s.def != nil && sameValue(l.Value, s.def):
		return Entry{Key: l.Key, Status: StatusDefault, Reason: s.reason + "; the value is the MKE 3 default, so nothing is lost"}
	case isEmpty(l.Value):
		return Entry{Key: l.Key, Status: StatusDefault, Reason: s.reason + "; the value is empty, so nothing is lost"}
	}
	return Entry{Key: l.Key, Status: StatusDropped, Reason: s.reason}
}

// emptyTable decides the entry of an MKE 3 table that holds nothing: its
// keys keep their MKE 3 defaults, so nothing is lost; when the table's keys
// have one MKE 4k target, the entry names it (MKE 4k's default applies
// there).
func emptyTable(l Leaf) Entry {
	var target string
	one := true
	for _, s := range specs {
		if !strings.HasPrefix(s.pattern, l.pattern+".") && !strings.HasPrefix(s.pattern, l.pattern+"[]") {
			continue
		}
		if s.target != "" {
			if target != "" && target != s.target {
				one = false
			}
			target = s.target
		}
	}
	e := Entry{Key: l.Key, Status: StatusDefault, Reason: "empty table: nothing is set in it, so nothing is lost"}
	if target != "" && one {
		e.Target, e.Basis = sp+target, specByPattern[l.pattern+".*"].basisOr(Inferred)
		e.Reason = "empty table: nothing is set in it; MKE 4k's default applies"
	}
	return e
}

func unknownReason(l Leaf) string {
	keys := l.path.Keys()
	for i := len(keys); i > 0; i-- {
		if h, ok := legacyHints[strings.Join(keys[:i], ".")]; ok {
			return "not an MKE 3.7/3.8/3.9 key: " + h
		}
	}
	return "not an MKE 3.7/3.8/3.9 key known to mke-migrate: check its spelling; it is not carried to MKE 4k"
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case string:
		return x == ""
	case []any:
		return len(x) == 0
	case []string:
		return len(x) == 0
	}
	return false
}

// sameValue compares a decoded TOML value with a spec default.
func sameValue(v, def any) bool {
	norm := func(x any) any {
		switch n := x.(type) {
		case int:
			return int64(n)
		case []any:
			return n
		case []string: // a flag list (Leaf.Value)
			a := make([]any, len(n))
			for i, s := range n {
				a[i] = s
			}
			return a
		}
		return x
	}
	a, b := norm(v), norm(def)
	if av, ok := a.([]any); ok {
		bv, ok := b.([]any)
		return ok && len(av) == len(bv) && (len(av) == 0 || reflect.DeepEqual(av, bv))
	}
	return a == b
}

// Keys returns the sorted spec patterns of every MKE 3 key the model knows.
func Keys() []string {
	out := make([]string, len(specs))
	for i, s := range specs {
		out[i] = s.pattern
	}
	sort.Strings(out)
	return out
}
