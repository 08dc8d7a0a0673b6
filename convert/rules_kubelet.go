package convert

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/mke-migrate/mke-migrate/convert/flagparse"
	"github.com/mke-migrate/mke-migrate/convert/kubeletprofile"
	"github.com/mke-migrate/mke-migrate/convert/mke4"
)

func (c *conv) kubelet() {
	n := &c.in.ClusterConfig
	out := &c.out.Spec.Kubelet
	h := &c.in.HardeningConfiguration

	c.setInt(cc+"kubelet_max_pods", "kubelet.maxPods", Checked, n.KubeletMaxPods, 1, &out.MaxPods)
	c.setInt(cc+"kubelet_pods_per_core", "kubelet.podsPerCore", Inferred, n.KubeletPodsPerCore, 0, &out.PodsPerCore)
	c.setInt(cc+"kubelet_event_record_qps", "kubelet.eventRecordQPS", Checked, n.KubeletEventRecordQPS, 0, &out.EventRecordQPS)
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
	if prev, ok := c.argSetBy(comp, name, target); ok && prev != key {
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

// reserved converts "cpu=250m,memory=2Gi" into a map, with the kubelet's
// own rules for resource names and quantities (shared with profiles).
func (c *conv) reserved(key, target, v string, dst *map[string]string) {
	if !c.has(key) {
		return
	}
	if strings.TrimSpace(v) == "" {
		c.add(Entry{Key: key, Status: StatusDefault, Target: sp + target, Reason: "empty: the MKE 4k default reservation applies"})
		return
	}
	res, err := kubeletprofile.MapList([]string{"--kube-reserved=" + v})
	if err != nil || len(res.Flags) != 1 || res.Flags[0].Status != kubeletprofile.Converted {
		why := fmt.Sprintf("%q is not a list of resource=quantity pairs (like cpu=250m,memory=2Gi)", v)
		if err == nil && len(res.Flags) == 1 {
			why = res.Flags[0].Reason
		}
		c.mark(key, StatusUnconvertible, why)
		return
	}
	m, _ := res.Values["kubeReserved"].(map[string]string)
	c.set(key, target, Checked, func() { *dst = m })
}

var flagName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// short trims text for a report entry.
func short(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
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
		"cluster-signing-key-file", "root-ca-file", "service-account-private-key-file"),
	"scheduler": flagSet("kubeconfig", "authentication-kubeconfig", "authorization-kubeconfig", "config"),
	"kubelet": flagSet("kubeconfig", "bootstrap-kubeconfig", "config", "cert-dir", "container-runtime-endpoint",
		"client-ca-file", "tls-cert-file", "tls-private-key-file", "cni-bin-dir", "cni-conf-dir"),
	"network.kubeProxy": flagSet("kubeconfig", "config", "master"),
}

func flagSet(names ...string) map[string]string {
	m := map[string]string{}
	for _, n := range names {
		m[n] = "MKE 4k (k0s) sets --" + n + " itself; MKE 3's value points at MKE 3 files or settings"
	}
	return m
}

// flagErrors reports each element of a flag list that cannot be parsed
// (the others are carried: one typo must not cost the whole list), at
// index at of key's entries, before the list's flags.
func (c *conv) flagErrors(key string, elems []string, errs []*flagparse.Error, at int) {
	if len(errs) == 0 {
		return
	}
	es := c.byKey[key]
	n := len(es)
	es = slices.Grow(es, len(errs))[:n+len(errs)]
	copy(es[at+len(errs):], es[at:n])
	lines := c.elementLines(key)
	// Most bad elements share their reason: one string for a run of them,
	// not one per element (issue 14, F13).
	var prevReason, why string
	for i, fe := range errs {
		reason := fe.Reason
		if len(reason) > 400 { // bounded: it may quote the input
			reason = reason[:397] + "..."
		}
		if reason != prevReason || why == "" {
			prevReason, why = reason, reason+"; the element was left out"
		}
		e := Entry{Key: key, Flag: short(elems[fe.Index]), Status: StatusUnconvertible, Reason: why}
		if fe.Index < len(lines) {
			e.Line = lines[fe.Index]
		}
		es[at+i] = e
	}
	c.byKey[key] = es
}

// flagList converts a custom_*_flags list into component extraArgs. The
// flags are converted as the parser hands them over, never held as a
// list (issue 14, F13); the elements that could not be parsed are
// reported before them, as they come first in the report.
func (c *conv) flagList(key, comp string, elems []string, dst map[string]string) {
	if !c.has(key) {
		return
	}
	if len(elems) == 0 {
		c.add(Entry{Key: key, Status: StatusDefault, Target: sp + comp + ".extraArgs", Reason: "empty list"})
		return
	}
	// about one entry per element: grown once, not by append's 1.25x
	// steps over a list of hundreds of thousands
	c.reserve(key, len(elems))
	at := len(c.byKey[key])
	// flag name -> index in c.byKey[key], for the flags that go to
	// extraArgs; kept after the list as the record of what it set
	last := map[string]int{}
	shadowLast := map[string]int{} // the same for flags that shadow a key
	defer func() {
		if c.lists == nil {
			c.lists = map[string][]listArgs{}
		}
		// sorted names: a fraction of the map's size
		set := make([]string, 0, len(last)) // exactly: appending grows by up to 2x
		for name := range last {
			set = append(set, name)
		}
		slices.Sort(set)
		c.lists[comp] = append(c.lists[comp], listArgs{key: key, set: set})
	}()
	// The values of a repeated list flag, joined once at the end: joining
	// at each repetition takes time quadratic in the list's length.
	joined := map[string][]string{}
	// One "overridden by" reason per overriding element text, and one
	// "deprecated" reason per kubelet flag: a long list repeats few of
	// them (issue 14, F13).
	overridden := map[string]string{}
	deprecated := map[string]string{}
	defer func() {
		for name, vs := range joined {
			dst[name] = strings.Join(vs, ",")
		}
	}()
	errs := flagparse.ScanListLenient(elems, isBoolFlag(comp), func(f flagparse.Flag) {
		if !flagName.MatchString(f.Name) {
			c.add(Entry{Key: key, Flag: short(f.Raw), Status: StatusUnconvertible, Reason: "not a valid flag name (letters, digits, '-', '_' and '.')"})
			return
		}
		val := f.Value
		if !f.HasValue {
			val = "true"
		}
		if sh, ok := shadows[comp][f.Name]; ok {
			c.shadowFlag(key, f, val, sh, shadowLast)
			return
		}
		if fl, ok := followers[comp][f.Name]; ok {
			c.followFlag(key, f, val, fl)
			return
		}
		// One string for the entry's target and the args key (a substring
		// of it), and one per flag name: a repeated flag reuses its
		// earlier entry's (issue 14, F13).
		var full string
		if i, ok := last[f.Name]; ok {
			full = c.byKey[key][i].Target
		}
		if full == "" {
			full = sp + comp + ".extraArgs." + f.Name
		}
		target := full[len(sp):]
		e := Entry{Key: key, Flag: f.Raw, Status: StatusConverted, Target: full, Basis: Documented}
		if why, ok := managedFlags[comp][f.Name]; ok {
			e.Status, e.Target, e.Basis, e.Reason = StatusUnconvertible, "", 0, why
			c.add(e)
			return
		}
		if i, ok := last[f.Name]; ok {
			if accumulating[f.Name] {
				joined[f.Name] = append(joined[f.Name], val)
				e.Reason = "repeated flag: values joined with commas"
			} else {
				prev := &c.byKey[key][i]
				prev.Status, prev.Target, prev.Basis = StatusDropped, "", 0
				why, ok := overridden[f.Raw]
				if !ok {
					why = "overridden by the later " + f.Raw + " in the same list"
					overridden[f.Raw] = why
				}
				prev.Reason = why
				dst[f.Name] = val
			}
		} else {
			switch prev, ok := c.argSetBy(comp, f.Name, target); {
			case ok && prev != key && accumulating[f.Name] && dst[f.Name] != "":
				// MKE 3 passed both; pflag appends repeated list flags.
				dst[f.Name] = dst[f.Name] + "," + val
				e.Reason = "joined with the value from " + prev + ": Kubernetes' flag parser appends repeated list flags, so MKE 3 used both"
			case ok && prev != key:
				c.shadowed(prev, key, f.Raw)
				e.Reason = "shadows " + prev + ", which MKE 3 applies before custom flags"
				dst[f.Name] = val
			default:
				dst[f.Name] = val
			}
			if accumulating[f.Name] {
				joined[f.Name] = []string{dst[f.Name]}
			}
		}
		if comp == "kubelet" && e.Reason == "" {
			if field, ok := kubeletprofile.Lookup(f.Name); ok {
				why, ok := deprecated[field]
				if !ok {
					why = "deprecated as a kubelet flag; KubeletConfiguration field " + field + " is the long-term home"
					deprecated[field] = why
				}
				e.Reason = why
			}
		}
		if _, ok := c.argSetBy(comp, f.Name, target); ok {
			c.args[target] = key // the latest of several keys
		}
		c.add(e)
		last[f.Name] = len(c.byKey[key]) - 1
	})
	c.flagErrors(key, elems, errs, at)
	if c.phase != nil {
		c.phase(key)
	}
}

// listArgs is a converted flag list: its key and the flags it set,
// sorted.
type listArgs struct {
	key string
	set []string
}

// argSetBy returns the key that last set comp's extraArgs flag name
// (target is comp.extraArgs.name). args holds the latest setter when
// there were several; a flag only one list set is found in that list.
func (c *conv) argSetBy(comp, name, target string) (string, bool) {
	if k, ok := c.args[target]; ok {
		return k, true
	}
	for _, l := range c.lists[comp] {
		if _, ok := slices.BinarySearch(l.set, name); ok {
			return l.key, true
		}
	}
	return "", false
}

// elementLines returns the line of each element of the flag list key (0
// where unknown), so that a stray or malformed element of a list written
// over several lines is reported at its own line. The parser's element
// index locates it: matching entries to elements by text was quadratic in
// the list's length (issue 14, F13) and, for two equal elements, could
// name the wrong one's line.
func (c *conv) elementLines(key string) []int32 {
	for _, l := range c.in.Leaves {
		if l.Key == key {
			return l.ElemLines
		}
	}
	return nil
}

// shadowFlag carries a flag that sets what a structured key sets to that
// key's MKE 4k field (see shadow.go) and reports the key as shadowed.
func (c *conv) shadowFlag(key string, f flagparse.Flag, val string, sh shadow, last map[string]int) {
	if why := sh.apply(c, val); why != "" {
		c.add(Entry{Key: key, Flag: short(f.Raw), Status: StatusUnconvertible,
			Reason: why + "; " + strings.Join(sh.keys, ", ") + " keeps its value"})
		return
	}
	if i, ok := last[f.Name]; ok {
		prev := &c.byKey[key][i]
		prev.Status, prev.Target, prev.Basis = StatusDropped, "", 0
		prev.Reason = "overridden by the later " + f.Raw + " in the same list"
	}
	for _, k := range sh.keys {
		if sh.merge {
			c.merged(k, key, f.Raw)
		} else {
			c.shadowed(k, key, f.Raw)
		}
	}
	c.add(Entry{Key: key, Flag: f.Raw, Status: StatusConverted, Target: sp + sh.target, Basis: c.basis(sh.keys[0]),
		Reason: "sets what " + strings.Join(sh.keys, ", ") + " sets; MKE 3 applies custom flags last, so this value wins and goes to the MKE 4k field"})
	last[f.Name] = len(c.byKey[key]) - 1
}

// profileNames maps MKE 3 profile names to MKE 4k ones. k0s keeps worker
// profiles in objects named after them, so a name must be a DNS-1123
// label; other names are rewritten (the rename is reported) so that the
// profile and its nodes' --profile flags still match. Valid names are
// kept as they are and never taken by a rewritten one.
func (c *conv) assignProfileNames(leaves []Leaf) {
	c.profileNames = map[string]string{}
	taken := map[string]bool{}
	for _, l := range leaves {
		if n := l.path[2].Key; dns1123Label.MatchString(n) {
			c.profileNames[n], taken[n] = n, true
		}
	}
	for _, l := range leaves {
		orig := l.path[2].Key
		if _, ok := c.profileNames[orig]; ok {
			continue
		}
		var b strings.Builder
		for _, r := range strings.ToLower(orig) {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
				b.WriteRune(r)
			} else {
				b.WriteByte('-')
			}
		}
		base := strings.Trim(b.String(), "-")
		if len(base) > 57 {
			base = strings.Trim(base[:57], "-")
		}
		if base == "" {
			base = "profile"
		}
		name := base
		for i := 2; taken[name]; i++ {
			name = fmt.Sprintf("%s-%d", base, i)
		}
		c.profileNames[orig], taken[name] = name, true
		c.add(Entry{Key: l.Key, Status: StatusConverted, Target: fmt.Sprintf("%skubelet.customProfiles[name=%s]", sp, name), Basis: Documented,
			Reason: fmt.Sprintf("profile %q renamed to %q: k0s worker profile names must be lowercase DNS labels; nodes labelled %q get --profile=%s", orig, name, orig, name)})
	}
}

var dns1123Label = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

// profiles converts custom_kubelet_flags_profiles into customProfiles.
func (c *conv) profiles() {
	out := &c.out.Spec.Kubelet
	var leaves []Leaf
	for _, l := range c.in.Leaves {
		if len(l.path) == 3 && l.path[0].Key == "cluster_config" && l.path[1].Key == "custom_kubelet_flags_profiles" {
			leaves = append(leaves, l)
		}
	}
	c.assignProfileNames(leaves)
	for _, l := range leaves {
		name := c.profileNames[l.path[2].Key]
		s, _ := l.Value.(string)
		res, strays, err := kubeletprofile.MapStringLenient(s)
		for _, st := range strays {
			c.add(Entry{Key: l.Key, Flag: short(st.Input), Status: StatusUnconvertible, Reason: st.Reason + "; the word was left out"})
		}
		if err != nil {
			c.add(Entry{Key: l.Key, Status: StatusUnconvertible, Reason: err.Error() + "; profile " + strconv.Quote(name) + " created empty so that its nodes keep their assignment"})
			out.CustomProfiles = append(out.CustomProfiles, mke4.KubeletCustomProfile{Name: name, Values: map[string]any{}})
			continue
		}
		target := fmt.Sprintf("kubelet.customProfiles[name=%s].values", name)
		for _, fr := range res.Flags {
			e := Entry{Key: l.Key, Flag: fr.Flag, Status: StatusConverted, Reason: fr.Reason, Basis: Documented}
			switch fr.Status {
			case kubeletprofile.Converted:
				e.Target = sp + target + "." + fr.Field
			case kubeletprofile.Overridden:
				e.Status, e.Basis = StatusDropped, 0
			default:
				e.Status, e.Basis = StatusUnconvertible, 0
			}
			c.add(e)
		}
		if len(res.Flags) == 0 {
			c.add(Entry{Key: l.Key, Status: StatusDefault, Target: sp + target, Reason: "empty profile: created without values so that its nodes keep their assignment"})
		}
		out.CustomProfiles = append(out.CustomProfiles, mke4.KubeletCustomProfile{Name: name, Values: res.Values})
	}
}
