package convert

import (
	"errors"
	"fmt"
	"net"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/mke-migrate/mke-migrate/convert/kubeletprofile"
	"github.com/mke-migrate/mke-migrate/convert/mke4"
	"github.com/mke-migrate/mke-migrate/internal/flagparse"
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
	// (the chart registry starts with oci://); CA data is PEM.
	ImageRegistry, ImageRegistryCAData string
	ChartRegistry, ChartRegistryCAData string
	// Airgapped sets spec.airgap.enabled.
	Airgapped bool
	// LDAP carries eNZi's LDAP settings when auth.backend is "ldap".
	LDAP *LDAPSettings
	// KubeletProfileLabel is the MKE 3 node label naming a node's kubelet
	// profile; empty means DefaultKubeletProfileLabel.
	KubeletProfileLabel string
	// Version is the MKE 4k version to write; empty means mke4.DefaultVersion.
	Version string
}

// ErrInvalidOptions is wrapped by Convert's error for bad Options.
var ErrInvalidOptions = errors.New("invalid conversion options")

// Convert turns an MKE 3 configuration into an MKE 4k configuration and a
// report that accounts for every leaf key of the input. It is pure: no
// files, network or clock. The error is for unusable arguments only;
// problems of the configuration itself are report entries (blocking ones
// stop an upgrade).
func Convert(cfg *MKE3Config, opts Options) (mke4.MkeConfig, Report, error) {
	if cfg == nil {
		return mke4.MkeConfig{}, Report{}, fmt.Errorf("convert: nil configuration: %w", ErrInvalidOptions)
	}
	if err := opts.validate(); err != nil {
		return mke4.MkeConfig{}, Report{}, err
	}
	out := mke4.Default()
	c := &conv{in: cfg, out: &out, opts: opts, byKey: map[string][]Entry{}, args: map[string]string{}}
	c.run()
	return out, c.finish(), nil
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
	pools []MetalLBPool
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
	c.addons()
	c.hosts()
	c.validateResult()
}

func (c *conv) options() {
	s := &c.out.Spec
	if c.opts.Version != "" {
		s.Version = c.opts.Version
	}
	s.APIServer.ExternalAddress = c.opts.ExternalAddress
	s.Airgap.Enabled = c.opts.Airgapped
	if c.opts.ImageRegistry != "" {
		s.Registries.ImageRegistry = mke4.Registry{URL: c.opts.ImageRegistry, CAData: c.opts.ImageRegistryCAData}
	}
	if c.opts.ChartRegistry != "" {
		s.Registries.ChartRegistry = mke4.Registry{URL: c.opts.ChartRegistry, CAData: c.opts.ChartRegistryCAData}
	}
}

func (c *conv) auth() {
	a := &c.in.Auth
	out := &c.out.Spec.Authentication

	c.set("auth.managedPasswordDisabled", "authentication.localUsers", Checked, func() {
		out.LocalUsers = mke4.Ptr(!a.ManagedPasswordDisabled)
	})
	if c.has("auth.sessions.lifetime_minutes") {
		if a.Sessions.LifetimeMinutes > 0 {
			c.set("auth.sessions.lifetime_minutes", "authentication.expiry.idTokens", Inferred, func() {
				out.Expiry.IDTokens = minutes(a.Sessions.LifetimeMinutes)
			})
		} else {
			c.mark("auth.sessions.lifetime_minutes", StatusUnconvertible, fmt.Sprintf("session lifetime %d minutes is not a positive duration", a.Sessions.LifetimeMinutes))
		}
	}
	if c.has("auth.sessions.renewal_threshold_minutes") {
		if a.Sessions.RenewalThresholdMinutes > 0 {
			c.set("auth.sessions.renewal_threshold_minutes", "authentication.expiry.refreshTokens.validIfNotUsedFor", Inferred, func() {
				if out.Expiry.RefreshTokens == nil {
					out.Expiry.RefreshTokens = &mke4.RefreshTokens{}
				}
				out.Expiry.RefreshTokens.ValidIfNotUsedFor = minutes(a.Sessions.RenewalThresholdMinutes)
			})
		} else {
			c.mark("auth.sessions.renewal_threshold_minutes", StatusDefault, "0 disables session renewal in MKE 3; Dex's refresh-token default applies")
		}
	}

	// SAML.
	c.set("auth.samlEnabled", "authentication.saml.enabled", Inferred, func() { out.SAML.Enabled = a.SAMLEnabled })
	c.setString("auth.saml.idpMetadataURL", "authentication.saml.ssoMetadataURL", a.SAML.IdPMetadataURL, &out.SAML.SSOMetadataURL)
	c.setString("auth.saml.rootCerts", "authentication.saml.caData", a.SAML.RootCerts, &out.SAML.CAData)

	// OIDC.
	eip := &a.ExternalIdentityProvider
	const eipk = "auth.external_identity_provider."
	c.setString(eipk+"clientId", "authentication.oidc.clientID", eip.ClientID, &out.OIDC.ClientID)
	c.setString(eipk+"clientSecret", "authentication.oidc.clientSecret", eip.ClientSecret, &out.OIDC.ClientSecret)
	c.setString(eipk+"issuer", "authentication.oidc.issuer", eip.Issuer, &out.OIDC.Issuer)
	if c.has(eipk + "wellKnownConfigUrl") {
		const suffix = "/.well-known/openid-configuration"
		switch u := eip.WellKnownConfigURL; {
		case u == "":
			c.mark(eipk+"wellKnownConfigUrl", StatusDefault, "empty")
		case eip.Issuer != "":
			c.mark(eipk+"wellKnownConfigUrl", StatusDefault, "the issuer is set explicitly and Dex discovers the configuration from it")
		case strings.HasSuffix(u, suffix):
			c.set(eipk+"wellKnownConfigUrl", "authentication.oidc.issuer", Inferred, func() { out.OIDC.Issuer = strings.TrimSuffix(u, suffix) })
		default:
			c.mark(eipk+"wellKnownConfigUrl", StatusUnconvertible, "does not end in "+suffix+", so the issuer cannot be derived: set spec.authentication.oidc.issuer by hand")
		}
	}
	if out.OIDC.ClientID != "" && out.OIDC.Issuer != "" {
		out.OIDC.Enabled = true
	}

	// Backend: managed, or ldap (settings come from eNZi, not the TOML).
	switch {
	case !c.has("auth.backend"):
	case a.Backend == "managed":
		c.mark("auth.backend", StatusDefault, "managed accounts become MKE 4k local users (Dex)")
	case a.Backend == "ldap" && c.opts.LDAP == nil:
		c.mark("auth.backend", StatusUnconvertible, "LDAP settings are not in the TOML: they come from GET /enzi/v0/config/auth/ldap (the upgrade reads them; for convert, pass Options.LDAP)")
	case a.Backend == "ldap":
		c.set("auth.backend", "authentication.ldap.enabled", Inferred, func() { out.LDAP.Enabled = true })
		c.ldap()
	default:
		c.mark("auth.backend", StatusUnconvertible, fmt.Sprintf("unknown backend %q (MKE 3 knows managed and ldap)", a.Backend))
	}
}

func (c *conv) ldap() {
	l := c.opts.LDAP
	out := &c.out.Spec.Authentication.LDAP
	const k = "enzi.ldap."
	api := func(field string, s Status, target, reason string, basis Basis) {
		e := Entry{Key: k + field, Status: s, Reason: reason, Basis: basis}
		if target != "" {
			e.Target = sp + "authentication.ldap." + target
		}
		c.extra = append(c.extra, e)
	}
	host, insecure, err := ldapHost(l.ServerURL)
	if err != nil {
		api("serverURL", StatusUnconvertible, "", err.Error(), "")
	} else {
		out.Host, out.InsecureNoSSL = host, insecure && !l.StartTLS
		api("serverURL", StatusConverted, "host", "", Inferred)
		if insecure && l.StartTLS {
			api("startTLS", StatusUnconvertible, "", "MkeConfig has no startTLS switch for LDAP: use an ldaps:// server or set it in Dex by hand", "")
		}
	}
	if l.RootCerts != "" {
		out.RootCA = l.RootCerts
		api("rootCerts", StatusConverted, "rootCA", "", Inferred)
	}
	if l.TLSSkipVerify {
		api("tlsSkipVerify", StatusDropped, "", "Dex's LDAP connector verifies TLS; there is no skip switch in MkeConfig", "")
	}
	out.BindDN, out.BindPW = l.ReaderDN, l.ReaderPassword
	api("readerDN", StatusConverted, "bindDN", "", Inferred)
	if l.ReaderPassword != "" {
		api("readerPassword", StatusConverted, "bindPW", "", Inferred)
	}
	for i, us := range l.UserSearchConfigs {
		f := fmt.Sprintf("userSearchConfigs[%d]", i)
		if i > 0 {
			api(f, StatusDropped, "", "MkeConfig takes one LDAP user search; only the first is carried", "")
			continue
		}
		filter := us.Filter
		if filter != "" && !strings.HasPrefix(filter, "(") {
			filter = "(" + filter + ")"
		}
		out.UserSearch = &mke4.LDAPUserSearch{BaseDN: us.BaseDN, Filter: filter, Username: us.UsernameAttr, NameAttr: us.FullNameAttr, IDAttr: "DN"}
		api(f, StatusConverted, "userSearch", "idAttr set to DN (Dex needs one; eNZi had none)", Inferred)
	}
	if len(l.AdditionalDomains) > 0 {
		api("additionalDomains", StatusDropped, "", "Dex's LDAP connector takes one server: add one connector per domain by hand", "")
	}
	if l.JITUserProvisioning {
		api("jitUserProvisioning", StatusDropped, "", "LDAP JIT provisioning: "+whyAuthNS, "")
	}
	if l.NoSimplePagination {
		api("noSimplePagination", StatusDropped, "", "LDAP simple pagination: "+whyAuthNS, "")
	}
	if l.AdminSyncOpts.EnableSync || l.SyncSchedule != "" {
		api("adminSyncOpts", StatusDropped, "", "LDAP user sync: "+whyAuthNS+"; Dex looks users up at login", "")
	}
}

func ldapHost(raw string) (host string, insecure bool, err error) {
	switch {
	case strings.HasPrefix(raw, "ldaps://"):
		host = strings.TrimPrefix(raw, "ldaps://")
		if !strings.Contains(host, ":") {
			host += ":636"
		}
	case strings.HasPrefix(raw, "ldap://"):
		host, insecure = strings.TrimPrefix(raw, "ldap://"), true
		if !strings.Contains(host, ":") {
			host += ":389"
		}
	default:
		return "", false, fmt.Errorf("server URL %q does not start with ldap:// or ldaps://", raw)
	}
	return strings.TrimSuffix(host, "/"), insecure, nil
}

func minutes(n int) string { return (time.Duration(n) * time.Minute).String() }

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

func (c *conv) tracking() {
	t := &c.in.TrackingConfiguration
	out := &c.out.Spec
	const k = "tracking_configuration."
	out.Tracking.Enabled = !t.DisableTracking && !t.DisableUsageInfo
	c.set(k+"disable_tracking", "tracking.enabled", Inferred, func() {})
	c.set(k+"disable_usageinfo", "tracking.enabled", Inferred, func() {})
	if t.ClusterLabel == "default" {
		c.mark(k+"cluster_label", StatusDefault, "MKE 3 default label")
	} else {
		c.setString(k+"cluster_label", "tracking.clusterLabel", t.ClusterLabel, &out.Tracking.ClusterLabel)
	}
	c.set(k+"ops_care", "monitoring.enableOpscare", Inferred, func() { out.Monitoring.EnableOpscare = t.OpsCare })
}

// calicoLogLevels maps syslog levels (MKE 3) to Calico's.
var calicoLogLevels = map[string]string{
	"debug": "Debug", "info": "Info", "notice": "Info", "warning": "Warning", "warn": "Warning",
	"err": "Error", "error": "Error", "crit": "Fatal", "alert": "Fatal", "emerg": "Fatal",
}

func (c *conv) network() {
	n := &c.in.ClusterConfig
	out := &c.out.Spec.Network

	c.setString(cc+"service_cluster_ip_range", "network.serviceCIDR", n.ServiceClusterIPRange, &out.ServiceCIDR)
	if c.has(cc+"service_cluster_ip_range") && n.ServiceClusterIPRange != "" {
		c.checkCIDR(cc+"service_cluster_ip_range", n.ServiceClusterIPRange)
	}
	if c.has(cc+"nodeport_range") && n.NodePortRange != "" {
		if _, _, err := portRange(n.NodePortRange); err != nil {
			c.mark(cc+"nodeport_range", StatusUnconvertible, err.Error())
		} else {
			c.set(cc+"nodeport_range", "network.nodePortRange", Checked, func() { out.NodePortRange = n.NodePortRange })
		}
	} else {
		c.setString(cc+"nodeport_range", "network.nodePortRange", n.NodePortRange, &out.NodePortRange)
	}

	// Blockers first (documented in the upgrade prerequisites).
	switch {
	case !c.has(cc + "calico_kdd"):
		if !n.UnmanagedCNI {
			c.extra = append(c.extra, Entry{Key: cc + "calico_kdd", Status: StatusBlocking,
				Reason: "absent, and MKE 3 defaults to the etcd datastore: " + KDDRequiredMessage + "; switch with `mke-migrate calico-kdd` (irreversible) or confirm the cluster already uses KDD and set calico_kdd = true"})
		}
	case n.CalicoKDD:
		c.mark(cc+"calico_kdd", StatusDefault, "Calico already uses the Kubernetes datastore, as MKE 4k requires")
	case n.UnmanagedCNI:
		c.mark(cc+"calico_kdd", StatusDefault, "unmanaged CNI: MKE 3 does not run Calico, so its datastore does not matter")
	default:
		c.mark(cc+"calico_kdd", StatusBlocking, KDDRequiredMessage+": switch Calico to KDD first with `mke-migrate calico-kdd` (irreversible; new pod networking pauses about 20 s per node)")
	}
	if n.CalicoEBPFEnabled {
		c.mark(cc+"calico_ebpf_enabled", StatusBlocking, "the Calico eBPF dataplane cannot be upgraded to MKE 4k (documented known issue): switch MKE 3 to the iptables dataplane first")
	}
	switch m := n.KubeProxyMode; {
	case !c.has(cc + "kube_proxy_mode"):
	case m == "iptables":
		c.set(cc+"kube_proxy_mode", "network.kubeProxy.mode", Checked, func() { out.KubeProxy.Mode = "iptables" })
	case m == "":
		c.add(Entry{Key: cc + "kube_proxy_mode", Status: StatusDefault, Target: sp + "network.kubeProxy.mode", Reason: "empty: MKE 3 and MKE 4k default to iptables"})
	default:
		c.mark(cc+"kube_proxy_mode", StatusBlocking, fmt.Sprintf("kube-proxy mode %q cannot be upgraded: MKE 4k supports only iptables; switch MKE 3 to iptables first", m))
	}

	calico := c.provider(mke4.ProviderCalico)
	if n.UnmanagedCNI {
		c.set(cc+"unmanaged_cni", "network.providers", Documented, func() {
			calico.Enabled = false
			c.provider(mke4.ProviderCustom).Enabled = true
		})
	} else {
		c.add0(cc+"unmanaged_cni", StatusConverted, "network.providers", "", Documented)
	}
	if calico.ExtraConfig == nil {
		calico.ExtraConfig = map[string]string{}
	}
	if c.has(cc + "pod_cidr") {
		if c.checkCIDR(cc+"pod_cidr", n.PodCIDR) {
			c.set(cc+"pod_cidr", "network.providers[calico].extraConfig.cidrV4", Checked, func() { calico.ExtraConfig["cidrV4"] = n.PodCIDR })
		}
	}
	if c.has("log_configuration.level") {
		lvl := strings.ToLower(c.in.LogConfiguration.Level)
		if v, ok := calicoLogLevels[lvl]; ok {
			c.set("log_configuration.level", "network.providers[calico].extraConfig.loglevel", Checked, func() { calico.ExtraConfig["loglevel"] = v })
		} else if lvl == "" {
			c.mark("log_configuration.level", StatusDefault, "empty: MKE 4k logs at Info")
		} else {
			c.mark("log_configuration.level", StatusUnconvertible, fmt.Sprintf("%q is not a syslog level (debug, info, notice, warning, err, crit, alert, emerg)", c.in.LogConfiguration.Level))
		}
	}

	// Calico operator values. For clusters from MKE 3 mkectl always writes
	// values.yaml, whose first line must be kubeletVolumePluginPath.
	vals := map[string]any{}
	netw := map[string]any{}
	felix := map[string]any{"enabled": true}
	const vy = "network.providers[calico].extraConfig.values.yaml:"
	c.set(cc+"calico_vxlan", vy+"installation.calicoNetwork.bgp", Inferred, func() {
		// VXLAN needs no BGP; IPIP (MKE 3's alternative) routes with BGP.
		netw["bgp"] = map[bool]string{true: "Disabled", false: "Enabled"}[n.CalicoVXLAN]
	})
	c.intString(cc+"calico_mtu", vy+"installation.calicoNetwork.mtu", n.CalicoMTU, netw, "mtu", 0, 65535)
	c.intString(cc+"ipip_mtu", vy+"defaultFelixConfiguration.ipipMTU", n.IPIPMTU, felix, "ipipMTU", 0, 65535)
	c.intString(cc+"calico_vxlan_mtu", vy+"defaultFelixConfiguration.vxlanMTU", n.CalicoVXLANMTU, felix, "vxlanMTU", 0, 65535)
	c.intString(cc+"calico_vxlan_port", vy+"defaultFelixConfiguration.vxlanPort", n.CalicoVXLANPort, felix, "vxlanPort", 1, 65535)
	if c.has(cc + "vxlan_vni") {
		if n.VXLANVNI < 1 || n.VXLANVNI > 16777215 {
			c.mark(cc+"vxlan_vni", StatusUnconvertible, fmt.Sprintf("VNI %d is outside 1-16777215", n.VXLANVNI))
		} else {
			c.set(cc+"vxlan_vni", vy+"defaultFelixConfiguration.vxlanVNI", Documented, func() { felix["vxlanVNI"] = n.VXLANVNI })
		}
	}
	if c.has(cc + "calico_ip_auto_method") {
		switch m, err := autodetection(n.CalicoIPAutoMethod); {
		case n.CalicoIPAutoMethod == "":
			c.add(Entry{Key: cc + "calico_ip_auto_method", Status: StatusDefault, Target: sp + vy + "installation.calicoNetwork.nodeAddressAutodetectionV4", Reason: "empty: Calico's first-found default applies"})
		case err != nil:
			c.mark(cc+"calico_ip_auto_method", StatusUnconvertible, err.Error())
		default:
			c.set(cc+"calico_ip_auto_method", vy+"installation.calicoNetwork.nodeAddressAutodetectionV4", Checked, func() { netw["nodeAddressAutodetectionV4"] = m })
		}
	}
	if len(netw) > 0 {
		vals["installation"] = map[string]any{"calicoNetwork": netw}
	}
	vals["defaultFelixConfiguration"] = felix
	if !n.UnmanagedCNI {
		rest, err := yaml.Marshal(vals)
		if err == nil {
			calico.ExtraConfig["values.yaml"] = "kubeletVolumePluginPath: " + c.kubeletRootDir() + "\n" + string(rest)
		}
	}
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

func (c *conv) kubeletRootDir() string {
	if d := c.in.ClusterConfig.KubeletDataRoot; d != "" {
		return d
	}
	return mke4.DefaultKubeletRootDir
}

// intString converts an MKE 3 number-in-a-string (MTUs, ports).
func (c *conv) intString(key, target, v string, dst map[string]any, field string, lo, hi int) {
	if !c.has(key) {
		return
	}
	if v == "" {
		c.add(Entry{Key: key, Status: StatusDefault, Target: sp + target, Reason: "empty: the Calico default applies"})
		return
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < lo || n > hi {
		c.mark(key, StatusUnconvertible, fmt.Sprintf("%q is not a number from %d to %d", v, lo, hi))
		return
	}
	c.set(key, target, c.basis(key), func() { dst[field] = n })
}

func (c *conv) checkCIDR(key, v string) bool {
	if _, _, err := net.ParseCIDR(v); err != nil {
		c.mark(key, StatusUnconvertible, fmt.Sprintf("%q is not a CIDR (like 10.96.0.0/16)", v))
		return false
	}
	return true
}

// autodetection maps calico_ip_auto_method to the operator's
// nodeAddressAutodetectionV4.
func autodetection(m string) (map[string]any, error) {
	k, v, _ := strings.Cut(strings.TrimSpace(m), "=")
	switch k {
	case "first-found":
		return map[string]any{"firstFound": true}, nil
	case "kubernetes-internal-ip":
		return map[string]any{"kubernetes": "NodeInternalIP"}, nil
	case "interface":
		return map[string]any{"interface": v}, nil
	case "skip-interface":
		return map[string]any{"skipInterface": v}, nil
	case "can-reach":
		return map[string]any{"canReach": v}, nil
	case "cidr":
		var cidrs []any
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				cidrs = append(cidrs, s)
			}
		}
		return map[string]any{"cidrs": cidrs}, nil
	}
	return nil, fmt.Errorf("%q is not a Calico autodetection method (first-found, kubernetes-internal-ip, interface=, skip-interface=, can-reach=, cidr=)", m)
}

func (c *conv) provider(name string) *mke4.NetworkProvider {
	ps := &c.out.Spec.Network.Providers
	for i := range *ps {
		if (*ps)[i].Provider == name {
			return &(*ps)[i]
		}
	}
	*ps = append(*ps, mke4.NetworkProvider{Provider: name})
	return &(*ps)[len(*ps)-1]
}

func (c *conv) kubelet() {
	n := &c.in.ClusterConfig
	out := &c.out.Spec.Kubelet
	h := &c.in.HardeningConfiguration

	c.set(cc+"kubelet_max_pods", "kubelet.maxPods", Checked, func() { out.MaxPods = n.KubeletMaxPods })
	c.set(cc+"kubelet_pods_per_core", "kubelet.podsPerCore", Inferred, func() { out.PodsPerCore = n.KubeletPodsPerCore })
	c.set(cc+"kubelet_event_record_qps", "kubelet.eventRecordQPS", Checked, func() { out.EventRecordQPS = n.KubeletEventRecordQPS })
	c.setString(cc+"kubelet_data_root", "kubelet.kubeletRootDir", n.KubeletDataRoot, &out.KubeletRootDir)
	c.set(cc+"kube_protect_kernel_defaults", "kubelet.protectKernelDefaults", Inferred, func() { out.ProtectKernelDefaults = n.KubeProtectKernelDefaults })
	// MKE 3 applies RuntimeDefault seccomp unless told not to; MKE 4k's
	// default is off, so carrying the MKE 3 behaviour sets it on.
	c.set(cc+"disable_seccomp_default", "kubelet.seccompDefault", Inferred, func() { out.SeccompDefault = !n.DisableSeccompDefault })
	c.reserved(cc+"manager_kube_reserved_resources", "kubelet.managerKubeReserved", n.ManagerKubeReservedResources, &out.ManagerKubeReserved)
	c.reserved(cc+"worker_kube_reserved_resources", "kubelet.workerKubeReserved", n.WorkerKubeReservedResources, &out.WorkerKubeReserved)

	// PID limit of pods: only when hardening set one for Kubernetes.
	const hk = "hardening_configuration."
	if h.HardeningEnabled && !h.PidsLimitUnspecifiedK8s && h.PidsLimitK8s > 0 {
		c.set(hk+"pids_limit_k8s", "kubelet.podPidsLimit", Inferred, func() { out.PodPidsLimit = h.PidsLimitK8s })
		c.add0(hk+"pids_limit_unspecified_k8s", StatusConverted, "kubelet.podPidsLimit", "", Inferred)
	} else {
		why := "no pod PID limit is set in MKE 3 (hardening off or limit unspecified); MKE 4k's default (-1, unlimited) matches"
		c.add0(hk+"pids_limit_k8s", StatusDefault, "kubelet.podPidsLimit", why, Inferred)
		c.add0(hk+"pids_limit_unspecified_k8s", StatusDefault, "kubelet.podPidsLimit", why, Inferred)
	}

	if out.ExtraArgs == nil {
		out.ExtraArgs = map[string]string{}
	}
	if c.has(cc + "kubelet_serialize_image_pulls") {
		if n.KubeletSerializeImagePulls {
			c.add(Entry{Key: cc + "kubelet_serialize_image_pulls", Status: StatusDefault, Target: sp + "kubelet.extraArgs.serialize-image-pulls", Reason: "true is the kubelet default"})
		} else {
			c.setArg(cc+"kubelet_serialize_image_pulls", "kubelet", out.ExtraArgs, "serialize-image-pulls", "false", Inferred)
		}
	}
	if c.has(cc + "kubelet_max_parallel_image_pulls") {
		if n.KubeletMaxParallelImagePulls <= 1 {
			c.add(Entry{Key: cc + "kubelet_max_parallel_image_pulls", Status: StatusDefault, Target: sp + "kubelet.extraArgs.max-parallel-image-pulls", Reason: "1 (or unset) is the kubelet default with serialized pulls"})
		} else {
			c.setArg(cc+"kubelet_max_parallel_image_pulls", "kubelet", out.ExtraArgs, "max-parallel-image-pulls", strconv.Itoa(n.KubeletMaxParallelImagePulls), Inferred)
		}
	}
	c.cipherArg(cc+"cipher_suites_for_kubelet", "kubelet", out.ExtraArgs, n.CipherSuitesForKubelet)
	c.flagList(cc+"custom_kubelet_flags", "kubelet", n.CustomKubeletFlags, out.ExtraArgs)
	c.profiles()
}

func (c *conv) cipherArg(key, comp string, dst map[string]string, v string) {
	if !c.has(key) {
		return
	}
	if strings.TrimSpace(v) == "" {
		c.add(Entry{Key: key, Status: StatusDefault, Target: sp + comp + ".extraArgs.tls-cipher-suites", Reason: "empty: the component's default cipher suites apply"})
		return
	}
	c.setArg(key, comp, dst, "tls-cipher-suites", strings.Join(splitList(v), ","), c.basis(key))
}

// setArg sets one extraArgs flag and records it.
func (c *conv) setArg(key, comp string, dst map[string]string, name, value string, basis Basis) {
	target := comp + ".extraArgs." + name
	e := Entry{Key: key, Status: StatusConverted, Target: sp + target, Basis: basis}
	if prev, ok := c.args[target]; ok && prev != key {
		e.Reason = "overrides the value from " + prev
	}
	c.args[target] = key
	dst[name] = value
	c.add(e)
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// reserved converts "cpu=250m,memory=2Gi" into a map.
func (c *conv) reserved(key, target, v string, dst *map[string]string) {
	if !c.has(key) {
		return
	}
	if strings.TrimSpace(v) == "" {
		c.add(Entry{Key: key, Status: StatusDefault, Target: sp + target, Reason: "empty: the MKE 4k default reservation applies"})
		return
	}
	m := map[string]string{}
	for _, kv := range strings.Split(v, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok || strings.TrimSpace(k) == "" || strings.TrimSpace(val) == "" {
			c.mark(key, StatusUnconvertible, fmt.Sprintf("%q is not a list of resource=quantity pairs (like cpu=250m,memory=2Gi)", v))
			return
		}
		m[strings.TrimSpace(k)] = strings.TrimSpace(val)
	}
	c.set(key, target, Checked, func() { *dst = m })
}

// accumulating lists the flags whose repetitions add up (comma lists)
// rather than override each other.
var accumulating = map[string]bool{
	"feature-gates": true, "enable-admission-plugins": true, "disable-admission-plugins": true,
	"runtime-config": true, "tls-cipher-suites": true, "allowed-unsafe-sysctls": true,
	"register-with-taints": true, "node-labels": true, "controllers": true,
}

// managedFlags are set by k0s itself; MKE 3's values point at MKE 3 files
// and would break the MKE 4k component.
var managedFlags = map[string]map[string]string{
	"apiServer": flagSet("etcd-servers", "etcd-cafile", "etcd-certfile", "etcd-keyfile", "tls-cert-file", "tls-private-key-file",
		"client-ca-file", "secure-port", "advertise-address", "service-account-key-file", "service-account-signing-key-file",
		"service-account-issuer", "kubelet-client-certificate", "kubelet-client-key", "requestheader-client-ca-file",
		"proxy-client-cert-file", "proxy-client-key-file", "service-cluster-ip-range", "authorization-mode", "encryption-provider-config"),
	"controllerManager": flagSet("kubeconfig", "authentication-kubeconfig", "authorization-kubeconfig", "cluster-signing-cert-file",
		"cluster-signing-key-file", "root-ca-file", "service-account-private-key-file", "cluster-cidr", "service-cluster-ip-range"),
	"scheduler": flagSet("kubeconfig", "authentication-kubeconfig", "authorization-kubeconfig", "config"),
	"kubelet": flagSet("kubeconfig", "bootstrap-kubeconfig", "config", "cert-dir", "container-runtime-endpoint",
		"root-dir", "client-ca-file", "tls-cert-file", "tls-private-key-file", "cni-bin-dir", "cni-conf-dir"),
	"network.kubeProxy": flagSet("kubeconfig", "config", "cluster-cidr", "master"),
}

func flagSet(names ...string) map[string]string {
	m := map[string]string{}
	for _, n := range names {
		m[n] = "MKE 4k (k0s) sets --" + n + " itself; MKE 3's value points at MKE 3 files or settings"
	}
	m["root-dir"] = "use kubelet_data_root (spec.kubelet.kubeletRootDir) for the kubelet root directory"
	return m
}

// flagList converts a custom_*_flags list into component extraArgs.
func (c *conv) flagList(key, comp string, elems []string, dst map[string]string) {
	if !c.has(key) {
		return
	}
	if len(elems) == 0 {
		c.add(Entry{Key: key, Status: StatusDefault, Target: sp + comp + ".extraArgs", Reason: "empty list"})
		return
	}
	flags, err := flagparse.ParseList(elems)
	if err != nil {
		c.add(Entry{Key: key, Status: StatusUnconvertible, Reason: err.Error() + "; nothing from this list was carried"})
		return
	}
	last := map[string]int{} // flag name -> index in c.byKey[key]
	for _, f := range flags {
		val := f.Value
		if !f.HasValue {
			val = "true"
		}
		target := comp + ".extraArgs." + f.Name
		e := Entry{Key: key, Flag: f.Raw, Status: StatusConverted, Target: sp + target, Basis: Documented}
		if why, ok := managedFlags[comp][f.Name]; ok {
			e.Status, e.Target, e.Basis, e.Reason = StatusUnconvertible, "", "", why
			c.add(e)
			continue
		}
		if i, ok := last[f.Name]; ok {
			if accumulating[f.Name] {
				dst[f.Name] = dst[f.Name] + "," + val
				e.Reason = "repeated flag: values joined with commas"
			} else {
				prev := &c.byKey[key][i]
				prev.Status, prev.Target, prev.Basis = StatusDropped, "", ""
				prev.Reason = "overridden by the later " + f.Raw + " in the same list"
				dst[f.Name] = val
			}
		} else {
			if prev, ok := c.args[target]; ok && prev != key {
				e.Reason = "overrides the value from " + prev
			}
			dst[f.Name] = val
		}
		if comp == "kubelet" {
			if field, ok := kubeletprofile.Lookup(f.Name); ok && e.Reason == "" {
				e.Reason = "deprecated as a kubelet flag; KubeletConfiguration field " + field + " is the long-term home"
			}
		}
		c.args[target] = key
		c.add(e)
		last[f.Name] = len(c.byKey[key]) - 1
	}
}

// profiles converts custom_kubelet_flags_profiles into customProfiles.
func (c *conv) profiles() {
	out := &c.out.Spec.Kubelet
	for _, l := range c.in.Leaves {
		if len(l.path) != 3 || l.path[0].Key != "cluster_config" || l.path[1].Key != "custom_kubelet_flags_profiles" {
			continue
		}
		name := l.path[2].Key
		s, _ := l.Value.(string)
		res, err := kubeletprofile.MapString(s)
		if err != nil {
			c.add(Entry{Key: l.Key, Status: StatusUnconvertible, Reason: err.Error() + "; profile " + strconv.Quote(name) + " created empty so that its nodes keep their assignment"})
			out.CustomProfiles = append(out.CustomProfiles, mke4.KubeletCustomProfile{Name: name, Values: map[string]any{}})
			continue
		}
		target := fmt.Sprintf("kubelet.customProfiles[name=%s].values", name)
		for _, fr := range res.Flags {
			e := Entry{Key: l.Key, Flag: fr.Flag, Status: StatusConverted, Reason: fr.Reason, Basis: Documented}
			if fr.Status == kubeletprofile.Converted {
				e.Target = sp + target + "." + fr.Field
			} else {
				e.Status, e.Basis = StatusUnconvertible, ""
			}
			c.add(e)
		}
		if len(res.Flags) == 0 {
			c.add(Entry{Key: l.Key, Status: StatusDefault, Target: sp + target, Reason: "empty profile: created without values so that its nodes keep their assignment"})
		}
		out.CustomProfiles = append(out.CustomProfiles, mke4.KubeletCustomProfile{Name: name, Values: res.Values})
	}
}

func (c *conv) controlPlane() {
	n := &c.in.ClusterConfig
	s := &c.out.Spec
	if s.APIServer.ExtraArgs == nil {
		s.APIServer.ExtraArgs = map[string]string{}
	}
	if s.ControllerManager.ExtraArgs == nil {
		s.ControllerManager.ExtraArgs = map[string]string{}
	}
	if s.Scheduler.ExtraArgs == nil {
		s.Scheduler.ExtraArgs = map[string]string{}
	}
	if s.Network.KubeProxy.ExtraArgs == nil {
		s.Network.KubeProxy.ExtraArgs = map[string]string{}
	}

	if c.has(cc + "shared_sans") {
		if len(n.SharedSANs) == 0 {
			c.add(Entry{Key: cc + "shared_sans", Status: StatusDefault, Target: sp + "apiServer.sans", Reason: "empty list"})
		} else {
			c.set(cc+"shared_sans", "apiServer.sans", Inferred, func() { s.APIServer.SANs = append([]string(nil), n.SharedSANs...) })
		}
	}
	c.cipherArg(cc+"cipher_suites_for_kube_api_server", "apiServer", s.APIServer.ExtraArgs, n.CipherSuitesForKubeAPIServer)
	if c.has(cc + "kube_api_server_request_timeout") {
		if d, err := time.ParseDuration(n.KubeAPIServerRequestTimeout); err != nil || d <= 0 {
			c.mark(cc+"kube_api_server_request_timeout", StatusUnconvertible, fmt.Sprintf("%q is not a positive duration (like 1m)", n.KubeAPIServerRequestTimeout))
		} else {
			c.set(cc+"kube_api_server_request_timeout", "apiServer.requestTimeout", Inferred, func() { s.APIServer.RequestTimeout = d.String() })
		}
	}

	// Audit: MKE 3 has the file audit log switch and an audit level.
	au := &s.APIServer.Audit
	lvl := strings.ToLower(c.in.AuditLogConfiguration.Level)
	c.set(cc+"kube_api_server_auditing", "apiServer.audit.enabled", Inferred, func() { au.Enabled = n.KubeAPIServerAuditing || lvl != "" })
	if c.has("audit_log_configuration.level") {
		switch lvl {
		case "":
			c.add(Entry{Key: "audit_log_configuration.level", Status: StatusDefault, Target: sp + "apiServer.audit.level", Reason: "audit logging off in MKE 3; MKE 4k keeps its Metadata level for when audit is enabled"})
		case "metadata", "request":
			c.set("audit_log_configuration.level", "apiServer.audit.level", Inferred, func() {
				au.Enabled = true
				au.Level = map[string]string{"metadata": mke4.AuditLevelMetadata, "request": mke4.AuditLevelRequest}[lvl]
			})
		default:
			c.mark("audit_log_configuration.level", StatusUnconvertible, fmt.Sprintf("%q is not an MKE 3 audit level (\"\", metadata, request)", c.in.AuditLogConfiguration.Level))
		}
	}
	c.set(cc+"kube_api_server_audit_log_maxage", "apiServer.audit.maxAge", Checked, func() { au.MaxAge = n.KubeAPIServerAuditLogMaxAge })
	c.set(cc+"kube_api_server_audit_log_maxbackup", "apiServer.audit.maxBackup", Inferred, func() { au.MaxBackup = n.KubeAPIServerAuditLogMaxBackup })
	c.set(cc+"kube_api_server_audit_log_maxsize", "apiServer.audit.maxSize", Inferred, func() { au.MaxSize = n.KubeAPIServerAuditLogMaxSize })
	if n.KubeAPIServerEnableCustomAuditPolicy {
		c.add0(cc+"kube_api_server_enable_custom_audit_policy", StatusConverted, "apiServer.audit.customPolicyYaml", "", Inferred)
		if strings.TrimSpace(n.KubeAPIServerCustomAuditPolicyYAML) == "" {
			c.mark(cc+"kube_api_server_custom_audit_policy_yaml", StatusUnconvertible, "custom audit policy enabled but empty")
		} else {
			c.set(cc+"kube_api_server_custom_audit_policy_yaml", "apiServer.audit.customPolicyYaml", Inferred, func() { au.CustomPolicyYAML = n.KubeAPIServerCustomAuditPolicyYAML })
		}
	} else {
		c.add0(cc+"kube_api_server_enable_custom_audit_policy", StatusDefault, "apiServer.audit.customPolicyYaml", "custom audit policy off: the default policy applies", Inferred)
		if n.KubeAPIServerCustomAuditPolicyYAML == "" {
			c.mark(cc+"kube_api_server_custom_audit_policy_yaml", StatusDefault, "empty")
		} else {
			c.mark(cc+"kube_api_server_custom_audit_policy_yaml", StatusDropped, "MKE 3 ignores this policy while kube_api_server_enable_custom_audit_policy is false; set spec.apiServer.audit.customPolicyYaml to use it")
		}
	}

	c.set(cc+"kube_api_server_profiling_enabled", "apiServer.profilingEnabled", Inferred, func() { s.APIServer.ProfilingEnabled = mke4.Ptr(n.KubeAPIServerProfilingEnabled) })
	c.set(cc+"kube_controller_manager_profiling_enabled", "controllerManager.profilingEnabled", Inferred, func() {
		s.ControllerManager.ProfilingEnabled = mke4.Ptr(n.KubeControllerManagerProfilingEnabled)
	})
	c.set(cc+"kube_scheduler_profiling_enabled", "scheduler.profilingEnabled", Checked, func() { s.Scheduler.ProfilingEnabled = mke4.Ptr(n.KubeSchedulerProfilingEnabled) })
	c.set(cc+"kube_scheduler_bind_to_all", "scheduler.bindToAll", Inferred, func() { s.Scheduler.BindToAll = mke4.Ptr(n.KubeSchedulerBindToAll) })
	c.set(cc+"kube_manager_terminated_pod_gc_threshold", "controllerManager.terminatedPodGCThreshold", Inferred, func() {
		s.ControllerManager.TerminatedPodGCThreshold = n.KubeManagerTerminatedPodGCThreshold
	})
	c.set(cc+"k8s_event_rate_limit.event_rate_limit_ac_enabled", "apiServer.eventRateLimit.enabled", Inferred, func() {
		s.APIServer.EventRateLimit.Enabled = n.K8sEventRateLimit.EventRateLimitACEnabled
	})
	c.setString(cc+"etcd_storage_quota", "etcd.storageQuota", n.EtcdStorageQuota, &s.Etcd.StorageQuota)
	if c.has(cc + "cipher_suites_for_etcd_server") {
		c.setString(cc+"cipher_suites_for_etcd_server", "etcd.tlsCipherSuites", strings.Join(splitList(n.CipherSuitesForEtcdServer), ","), &s.Etcd.TLSCipherSuites)
	}
	if c.has(cc + "cluster_name") {
		if n.ClusterName == "" || n.ClusterName == "kubernetes" {
			c.add(Entry{Key: cc + "cluster_name", Status: StatusDefault, Target: sp + "controllerManager.extraArgs.cluster-name", Reason: "kube-controller-manager's default cluster name is \"kubernetes\""})
		} else {
			c.setArg(cc+"cluster_name", "controllerManager", s.ControllerManager.ExtraArgs, "cluster-name", n.ClusterName, Inferred)
		}
	}
	c.cloud()
	if c.has(cc + "kms_enabled") {
		if n.KMSEnabled {
			c.mark(cc+"kms_enabled", StatusUnconvertible, "KMS encryption: write an EncryptionConfiguration with a kms provider on every manager and point spec.apiServer.encryptionProvider at it; MkeConfig cannot carry KMS settings")
		} else {
			c.add(Entry{Key: cc + "kms_enabled", Status: StatusDefault, Target: sp + "apiServer.encryptionProvider", Reason: "KMS off: MKE 4k's default encryption provider file applies"})
		}
	}

	c.flagList(cc+"custom_kube_api_server_flags", "apiServer", n.CustomKubeAPIServerFlags, s.APIServer.ExtraArgs)
	c.flagList(cc+"custom_kube_controller_manager_flags", "controllerManager", n.CustomKubeControllerManagerFlags, s.ControllerManager.ExtraArgs)
	c.flagList(cc+"custom_kube_scheduler_flags", "scheduler", n.CustomKubeSchedulerFlags, s.Scheduler.ExtraArgs)
	c.flagList(cc+"custom_kube_proxy_flags", "network.kubeProxy", n.CustomKubeProxyFlags, s.Network.KubeProxy.ExtraArgs)

	// AlwaysPullImages joins whatever admission plugins the flags enabled.
	if c.has(cc + "k8s_always_pull_images_ac_enabled") {
		if n.K8sAlwaysPullImagesACEnabled {
			c.set(cc+"k8s_always_pull_images_ac_enabled", "apiServer.extraArgs.enable-admission-plugins", Inferred, func() {
				cur := splitList(s.APIServer.ExtraArgs["enable-admission-plugins"])
				if !contains(cur, "AlwaysPullImages") {
					cur = append(cur, "AlwaysPullImages")
				}
				s.APIServer.ExtraArgs["enable-admission-plugins"] = strings.Join(cur, ",")
			})
		} else {
			c.add(Entry{Key: cc + "k8s_always_pull_images_ac_enabled", Status: StatusDefault, Target: sp + "apiServer.extraArgs.enable-admission-plugins", Reason: "admission plugin off, as in MKE 4k"})
		}
	}
	for _, m := range []*map[string]string{&s.APIServer.ExtraArgs, &s.ControllerManager.ExtraArgs, &s.Scheduler.ExtraArgs, &s.Network.KubeProxy.ExtraArgs, &s.Kubelet.ExtraArgs} {
		if len(*m) == 0 {
			*m = nil
		}
	}
}

func contains(xs []string, x string) bool {
	for _, s := range xs {
		if s == x {
			return true
		}
	}
	return false
}

func (c *conv) cloud() {
	const k = cc + "cloud_provider"
	if !c.has(k) {
		return
	}
	cp := &c.out.Spec.CloudProvider
	switch p := c.in.ClusterConfig.CloudProvider; p {
	case "":
		c.add(Entry{Key: k, Status: StatusDefault, Target: sp + "cloudProvider", Reason: "no cloud provider, as in MKE 4k's default"})
	case "aws", "external":
		c.set(k, "cloudProvider", Inferred, func() { cp.Enabled, cp.Provider = true, p })
	default:
		c.mark(k, StatusUnconvertible, fmt.Sprintf("cloud provider %q: MKE 4k supports aws and external (run the provider's cloud-controller-manager with external)", p))
	}
}

func (c *conv) ingress() {
	in := &c.in.ClusterConfig.IngressController
	out := &c.out.Spec.IngressController
	const k = cc + "ingress_controller."

	if c.has(k + "enabled") {
		if in.Enabled {
			c.set(k+"enabled", "ingressController.enabled", Documented, func() { out.Enabled = true })
		} else {
			c.add(Entry{Key: k + "enabled", Status: StatusDefault, Target: sp + "ingressController.enabled", Reason: "MKE 4k always runs its ingress controller (its UI is served through it); node ports follow the documented upgrade rule"})
		}
	}
	if c.has(k + "ingress_num_replicas") {
		if in.IngressNumReplicas < 1 {
			c.mark(k+"ingress_num_replicas", StatusUnconvertible, fmt.Sprintf("%d replicas: must be at least 1", in.IngressNumReplicas))
		} else {
			c.set(k+"ingress_num_replicas", "ingressController.replicaCount", Documented, func() { out.ReplicaCount = in.IngressNumReplicas })
		}
	}
	c.set(k+"ingress_external_ips", "ingressController.externalIPs", Inferred, func() { out.ExternalIPs = append([]string(nil), in.IngressExternalIPs...) })
	c.set(k+"ingress_enable_lb", "ingressController.enableLoadBalancer", Documented, func() { out.EnableLoadBalancer = mke4.Ptr(in.IngressEnableLB) })
	c.set(k+"ingress_preserve_client_ip", "ingressController.preserveClientIP", Documented, func() { out.PreserveClientIP = in.IngressPreserveClientIP })
	c.set(k+"ingress_extra_args.http_port", "ingressController.extraArgs.httpPort", Documented, func() { out.ExtraArgs.HTTPPort = in.IngressExtraArgs.HTTPPort })
	c.set(k+"ingress_extra_args.https_port", "ingressController.extraArgs.httpsPort", Documented, func() { out.ExtraArgs.HTTPSPort = in.IngressExtraArgs.HTTPSPort })
	c.set(k+"ingress_extra_args.enable_ssl_passthrough", "ingressController.extraArgs.enableSslPassthrough", Documented, func() {
		out.ExtraArgs.EnableSSLPassthrough = in.IngressExtraArgs.EnableSSLPassthrough
	})

	for i, t := range in.IngressNodeToleration {
		out.Tolerations = append(out.Tolerations, mke4.Toleration{Key: t.Key, Operator: t.Operator, Value: t.Value, Effect: t.Effect})
		for _, f := range []string{"key", "value", "operator", "effect"} {
			c.add0(fmt.Sprintf("%singress_node_toleration[%d].%s", k, i, f), StatusConverted, fmt.Sprintf("ingressController.tolerations[%d].%s", i, f), "", Documented)
		}
	}
	if len(in.IngressNodeAffinity) > 0 {
		aff := &mke4.Affinity{}
		for key, v := range in.IngressNodeAffinity {
			m, _ := v.(map[string]any)
			switch key {
			case "nodeAffinity":
				aff.NodeAffinity = m
			case "podAffinity":
				aff.PodAffinity = m
			case "podAntiAffinity":
				aff.PodAntiAffinity = m
			}
		}
		out.Affinity = aff
	}
	c.mapKeys(k+"ingress_node_affinity", "ingressController.affinity", func(sub string) bool {
		return sub == "nodeAffinity" || sub == "podAffinity" || sub == "podAntiAffinity"
	})
	if len(in.IngressConfigMap) > 0 {
		out.ConfigMap = copyMap(in.IngressConfigMap)
	}
	if len(in.IngressTCPServices) > 0 {
		out.TCPServices = copyMap(in.IngressTCPServices)
	}
	if len(in.IngressUDPServices) > 0 {
		out.UDPServices = copyMap(in.IngressUDPServices)
	}
	c.mapKeys(k+"ingress_config_map", "ingressController.configMap", nil)
	c.mapKeys(k+"ingress_tcp_services", "ingressController.tcpServices", nil)
	c.mapKeys(k+"ingress_udp_services", "ingressController.udpServices", nil)
	c.nodePorts()
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// mapKeys records every leaf under a map-typed key as converted to the
// same sub-key of target; ok (when set) says which first sub-keys are valid.
func (c *conv) mapKeys(prefix, target string, ok func(string) bool) {
	for _, l := range c.in.Leaves {
		if !strings.HasPrefix(l.Key, prefix+".") {
			continue
		}
		sub := l.path[len(strings.Split(prefix, ".")):]
		first := sub[0].Key
		if ok != nil && !ok(first) {
			c.add(Entry{Key: l.Key, Status: StatusUnconvertible, Reason: fmt.Sprintf("%q is not an affinity kind (nodeAffinity, podAffinity, podAntiAffinity)", first)})
			continue
		}
		c.add(Entry{Key: l.Key, Status: StatusConverted, Target: sp + target + "." + strings.TrimPrefix(sub.String(), "."), Basis: Documented})
	}
}

// nodePorts applies the documented NodePort rule: MKE 3 ingress on keeps
// its node ports; off with the default range gets 33000/33001; off with a
// custom range gets the first two ports of the range's static band.
func (c *conv) nodePorts() {
	in := &c.in.ClusterConfig.IngressController
	out := &c.out.Spec.IngressController
	const k = cc + "ingress_controller.ingress_exposed_ports"
	rng := c.out.Spec.Network.NodePortRange
	if !in.Enabled {
		lo, _, err := portRange(rng)
		reason := "ingress was off in MKE 3: MKE 4k uses 33000/33001 (default node port range)"
		if err == nil && rng != mke4.DefaultNodePortRange {
			out.NodePorts.HTTP, out.NodePorts.HTTPS = lo, lo+1
			reason = fmt.Sprintf("ingress was off in MKE 3 and the node port range %s is custom: MKE 4k uses the first two ports of its static band, %d/%d", rng, lo, lo+1)
		}
		for _, l := range c.in.Leaves {
			if strings.HasPrefix(l.Key, k+"[") {
				c.add(Entry{Key: l.Key, Status: StatusDefault, Target: sp + "ingressController.nodePorts", Reason: reason})
			}
		}
		return
	}
	for i, p := range in.IngressExposedPorts {
		pfx := fmt.Sprintf("%s[%d].", k, i)
		var kind string
		switch {
		case p.Name == "https" || p.Port == 443:
			kind = "https"
			out.NodePorts.HTTPS, out.Ports.HTTPS = p.NodePort, p.Port
		case p.Name == "http" || p.Name == "http2" || p.Port == 80:
			kind = "http"
			out.NodePorts.HTTP, out.Ports.HTTP = p.NodePort, p.Port
		}
		for _, f := range []string{"name", "port", "target_port", "node_port", "protocol"} {
			key := pfx + f
			switch {
			case kind == "":
				c.mark(key, StatusDropped, fmt.Sprintf("exposed port %q (%d): MKE 4k's ingress exposes http and https only; expose others with tcpServices/udpServices", p.Name, p.Port))
			case f == "node_port":
				c.add0(key, StatusConverted, "ingressController.nodePorts."+kind, "", Documented)
			case f == "port":
				c.add0(key, StatusConverted, "ingressController.ports."+kind, "", Documented)
			case f == "target_port" && p.TargetPort != p.Port && p.TargetPort != 0:
				c.mark(key, StatusDropped, fmt.Sprintf("target port %d differs from port %d: MKE 4k's ingress targets its own container ports", p.TargetPort, p.Port))
			default:
				c.add0(key, StatusDefault, "ingressController.ports."+kind, "identifies the "+kind+" port", Documented)
			}
		}
	}
}

func portRange(r string) (lo, hi int, err error) {
	a, b, ok := strings.Cut(r, "-")
	lo, err1 := strconv.Atoi(strings.TrimSpace(a))
	hi, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || lo < 1 || hi > 65535 || lo >= hi {
		return 0, 0, fmt.Errorf("%q is not a port range like 32768-35535", r)
	}
	return lo, hi, nil
}

func (c *conv) addons() {
	n := &c.in.ClusterConfig
	s := &c.out.Spec
	const k = cc + "metallb_config."
	c.set(k+"enabled", "addons[metallb].enabled", Documented, func() {
		for i := range s.Addons {
			if s.Addons[i].Name == "metallb" {
				s.Addons[i].Enabled = n.MetalLBConfig.Enabled
			}
		}
	})
	for _, p := range n.MetalLBConfig.MetalLBIPAddrPool {
		if p.Name == "" && len(p.ExternalIP) == 0 {
			continue
		}
		c.pools = append(c.pools, MetalLBPool{Name: p.Name, Addresses: append([]string{}, p.ExternalIP...)})
	}

	pe := &n.PolicyEnforcement
	const g = cc + "policy_enforcement.gatekeeper."
	c.set(g+"enabled", "policyController.opaGatekeeper.enabled", Documented, func() { s.PolicyController.OPAGatekeeper.Enabled = pe.Gatekeeper.Enabled })
	c.set(g+"excluded_namespaces", "policyController.opaGatekeeper.exemptNamespaces", Documented, func() {
		s.PolicyController.OPAGatekeeper.ExemptNamespaces = append([]string(nil), pe.Gatekeeper.ExcludedNamespaces...)
	})
	const d = cc + "core_dns_lameduck_config."
	c.set(d+"enabled", "dns.lameduck.enabled", Documented, func() { s.DNS.Lameduck.Enabled = n.CoreDNSLameduckConfig.Enabled })
	if c.has(d + "duration") {
		if dur, err := time.ParseDuration(n.CoreDNSLameduckConfig.Duration); err != nil || dur <= 0 {
			c.mark(d+"duration", StatusUnconvertible, fmt.Sprintf("%q is not a positive duration (like 7s)", n.CoreDNSLameduckConfig.Duration))
		} else {
			c.set(d+"duration", "dns.lameduck.duration", Documented, func() { s.DNS.Lameduck.Duration = n.CoreDNSLameduckConfig.Duration })
		}
	}
	if c.has(cc+"node_local_dns") || c.has(cc+"node_local_dns_config_persist") {
		if s.NodeLocalDNS == nil {
			s.NodeLocalDNS = &mke4.NodeLocalDNS{}
		}
		c.set(cc+"node_local_dns", "nodeLocalDNS.enabled", Inferred, func() { s.NodeLocalDNS.Enabled = n.NodeLocalDNS })
		c.set(cc+"node_local_dns_config_persist", "nodeLocalDNS.nodeLocalConfigPersist", Inferred, func() {
			s.NodeLocalDNS.NodeLocalConfigPersist = n.NodeLocalDNSConfigPersist
		})
	}
	c.set(cc+"nvidia_device_plugin", "devicePlugins.nvidiaGPU.enabled", Inferred, func() { s.DevicePlugins.NvidiaGPU.Enabled = n.NvidiaDevicePlugin })
	c.set(cc+"cadvisor_enabled", "monitoring.enableCAdvisor", Inferred, func() { s.Monitoring.EnableCAdvisor = n.CAdvisorEnabled })
}

// hosts fills spec.hosts and assigns kubelet profiles by node label.
func (c *conv) hosts() {
	label := c.opts.KubeletProfileLabel
	if label == "" {
		label = DefaultKubeletProfileLabel
	}
	profiles := map[string]bool{}
	for _, p := range c.out.Spec.Kubelet.CustomProfiles {
		profiles[p.Name] = true
	}
	for i, h := range c.opts.Hosts {
		mh := h.Host
		mh.InstallFlags = append([]string(nil), h.InstallFlags...)
		if name, ok := h.Labels[label]; ok {
			key := fmt.Sprintf("hosts[%d].labels.%s", i, label)
			if profiles[name] {
				mh.InstallFlags = append(mh.InstallFlags, "--profile="+name)
				c.extra = append(c.extra, Entry{Key: key, Status: StatusConverted, Target: fmt.Sprintf("spec.hosts[%d].installFlags", i), Reason: "kubelet profile " + strconv.Quote(name), Basis: Documented})
			} else {
				c.extra = append(c.extra, Entry{Key: key, Status: StatusUnconvertible, Reason: fmt.Sprintf("node %s names kubelet profile %q, which custom_kubelet_flags_profiles does not define", hostName(h.Host), name)})
			}
		}
		c.out.Spec.Hosts = append(c.out.Spec.Hosts, mh)
	}
}

func hostName(h mke4.Host) string {
	if h.SSH != nil && h.SSH.Address != "" {
		return h.SSH.Address
	}
	return h.Hostname
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

// finish builds the report: every leaf in document order with its
// entries, then entries for absent keys and options.
func (c *conv) finish() Report {
	var r Report
	for _, l := range c.in.Leaves {
		if es, ok := c.byKey[l.Key]; ok {
			for _, e := range es {
				e.Line = l.Line
				r.Entries = append(r.Entries, e)
			}
			continue
		}
		e := c.generic(l)
		e.Line = l.Line
		r.Entries = append(r.Entries, e)
	}
	r.Entries = append(r.Entries, c.extra...)
	r.MetalLBPools = c.pools
	return r
}

// generic decides the entry of a key that no rule claimed.
func (c *conv) generic(l Leaf) Entry {
	s := l.spec
	switch {
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

func unknownReason(l Leaf) string {
	keys := l.path.Keys()
	for i := len(keys); i > 0; i-- {
		if h, ok := legacyHints[strings.Join(keys[:i], ".")]; ok {
			return "not an MKE 3.7/3.8 key: " + h
		}
	}
	return "not an MKE 3.7/3.8 key known to mke-migrate: check its spelling; it is not carried to MKE 4k"
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case string:
		return x == ""
	case []any:
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
