package swarm

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net"
	"path"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Labels and annotations the translation puts on what it writes.
const (
	LabelManagedBy    = "app.kubernetes.io/managed-by"
	ManagedByValue    = "mke-migrate"
	LabelName         = "app.kubernetes.io/name"
	LabelPartOf       = "app.kubernetes.io/part-of"
	AnnotationService = "swarm.mke-migrate.io/service"
	AnnotationID      = "swarm.mke-migrate.io/id"
	AnnotationSource  = "swarm.mke-migrate.io/source"
	AnnotationFillIn  = "swarm.mke-migrate.io/fill-in"
	// AnnotationAliasOf marks a Service made for a network alias; its
	// value is the workload the alias belongs to.
	AnnotationAliasOf = "swarm.mke-migrate.io/alias-of"
	AnnotationDriver  = "swarm.mke-migrate.io/volume-driver"
	// AnnotationDriverOptions holds the volume driver's options as JSON.
	AnnotationDriverOptions = "swarm.mke-migrate.io/volume-driver-options"
	StackLabel              = "com.docker.stack.namespace"
	// DefaultNodePortMin and DefaultNodePortMax are MKE 4k's default
	// NodePort range (mke4.DefaultNodePortRange, MKE 3's own default
	// kept), not kube-apiserver's 30000-32767.
	DefaultNodePortMin = 32768
	DefaultNodePortMax = 35535
)

// Options tune the translation; the zero value is usable.
type Options struct {
	// Namespace receives the services of no stack; default "default".
	Namespace string
	// NodePortMin and NodePortMax are the target cluster's NodePort range
	// (spec.network.nodePortRange of mke4.yaml); default MKE 4k's
	// DefaultNodePortMin-DefaultNodePortMax. A
	// port published in ingress mode keeps its number when it is inside.
	NodePortMin, NodePortMax int
	// VolumeSize is what a PersistentVolumeClaim made from a named volume
	// requests (Docker volumes have no size); default "10Gi".
	VolumeSize string
	// StorageClass is the claims' storageClassName; empty means the
	// cluster's default class.
	StorageClass string
}

// Object is a Kubernetes object the translation writes.
type Object interface {
	runtime.Object
	metav1.Object
}

// Namespace holds the objects of one namespace, in apply order: the
// Namespace itself (absent for "default"), ConfigMaps, Secrets,
// PersistentVolumeClaims, Services, then the workloads.
type Namespace struct {
	Name    string
	Objects []Object
}

// Result is a translation: the objects by namespace and the report.
type Result struct {
	Namespaces []Namespace
	Report     Report
	// Exported counts the services that became a workload; NeedAttention
	// those whose report has an entry that needs a person (a service
	// that could not be translated counts in NeedAttention only).
	Exported, NeedAttention int
}

// Summary is the one-line account of a result written to dir, for the
// upgrade summary and the CLI: "N of M Swarm services exported to DIR, K
// need attention".
func (r *Result) Summary(dir string) string {
	return fmt.Sprintf("%d of %d Swarm services exported to %s, %d need attention", r.Exported, len(r.Report.Services), dir, r.NeedAttention)
}

// OptionsError is an unusable option.
type OptionsError struct {
	Field string
	Msg   string
}

func (e *OptionsError) Error() string { return "swarm: Options." + e.Field + ": " + e.Msg }

// Translate turns an inventory into Kubernetes objects and a report. It
// does no I/O and its output depends only on its input: services are
// taken in name order and every list is sorted.
func Translate(inv *Inventory, opts Options) (*Result, error) {
	opts.Namespace = cmp.Or(opts.Namespace, "default")
	if errs := validation.IsDNS1123Label(opts.Namespace); len(errs) > 0 {
		return nil, &OptionsError{Field: "Namespace", Msg: strings.Join(errs, "; ")}
	}
	if opts.NodePortMin == 0 && opts.NodePortMax == 0 {
		opts.NodePortMin, opts.NodePortMax = DefaultNodePortMin, DefaultNodePortMax
	}
	if opts.NodePortMin < 1 || opts.NodePortMax > 65535 || opts.NodePortMin > opts.NodePortMax {
		return nil, &OptionsError{Field: "NodePortMin/NodePortMax", Msg: fmt.Sprintf("%d-%d is not a port range", opts.NodePortMin, opts.NodePortMax)}
	}
	size, err := resource.ParseQuantity(cmp.Or(opts.VolumeSize, "10Gi"))
	if err != nil || size.Sign() <= 0 {
		return nil, &OptionsError{Field: "VolumeSize", Msg: fmt.Sprintf("%q is not a positive quantity like 10Gi", opts.VolumeSize)}
	}
	if opts.StorageClass != "" {
		if errs := validation.IsDNS1123Subdomain(opts.StorageClass); len(errs) > 0 {
			return nil, &OptionsError{Field: "StorageClass", Msg: strings.Join(errs, "; ")}
		}
	}
	t := &translator{
		opts: opts, size: size, inv: inv, names: newNamer(),
		objects:  map[string]map[string]Object{},
		networks: map[string]*NetworkReport{},
		secrets:  map[string]*SecretToFill{},
	}
	t.index()
	services := slices.Clone(inv.Services)
	slices.SortFunc(services, func(a, b Service) int {
		return cmp.Or(cmp.Compare(a.Spec.Name, b.Spec.Name), cmp.Compare(a.ID, b.ID))
	})
	res := &Result{Report: Report{APIVersion: ReportAPIVersion, Kind: ReportKind, Services: []ServiceReport{}}}
	reps := make([]*ServiceReport, len(services))
	for i := range services {
		reps[i] = t.service(&services[i])
	}
	// Aliases last, so that a service's own name always wins over another
	// service's alias.
	for _, a := range t.aliasReqs {
		a.j.aliasServices(a.field, a.aliases)
	}
	for i, rep := range reps {
		rep.Entries = account(services[i].raw, rep.Entries)
		if rep.Kind != "" {
			res.Exported++
		}
		if rep.NeedsAttention() {
			res.NeedAttention++
		}
		res.Report.Services = append(res.Report.Services, *rep)
	}
	res.Namespaces = t.namespaces()
	for _, k := range sortedKeys(t.networks) {
		res.Report.Networks = append(res.Report.Networks, *t.networks[k])
	}
	for _, k := range sortedKeys(t.secrets) {
		res.Report.SecretsToFill = append(res.Report.SecretsToFill, *t.secrets[k])
	}
	return res, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

type translator struct {
	opts  Options
	size  resource.Quantity
	inv   *Inventory
	names *namer

	configs  map[string]*Config // by ID and by name
	secretsB map[string]*Secret
	nets     map[string]*Network
	volumes  map[string]*Volume
	nodes    map[string]*Node
	running  map[string]int // service ID → running tasks

	objects map[string]map[string]Object // namespace → kind/name → object
	// aliasReqs are the network aliases to give Services once every
	// service has its name.
	aliasReqs []aliasReq
	networks  map[string]*NetworkReport
	secrets   map[string]*SecretToFill // ns/name
}

func (t *translator) index() {
	t.configs, t.secretsB, t.nets = map[string]*Config{}, map[string]*Secret{}, map[string]*Network{}
	t.volumes, t.nodes, t.running = map[string]*Volume{}, map[string]*Node{}, map[string]int{}
	for i := range t.inv.Configs {
		c := &t.inv.Configs[i]
		t.configs[c.ID], t.configs["name:"+c.Spec.Name] = c, c
	}
	for i := range t.inv.Secrets {
		s := &t.inv.Secrets[i]
		t.secretsB[s.ID], t.secretsB["name:"+s.Spec.Name] = s, s
	}
	for i := range t.inv.Networks {
		n := &t.inv.Networks[i]
		t.nets[n.ID], t.nets["name:"+n.Name] = n, n
	}
	for i := range t.inv.Volumes {
		t.volumes[t.inv.Volumes[i].Name] = &t.inv.Volumes[i]
	}
	for i := range t.inv.Nodes {
		t.nodes[t.inv.Nodes[i].ID] = &t.inv.Nodes[i]
	}
	for _, task := range t.inv.Tasks {
		if task.Status.State == "running" {
			t.running[task.ServiceID]++
		}
	}
}

// put adds an object to its namespace; the first one of a kind and name
// wins (a shared ConfigMap is built the same way by every user).
func (t *translator) put(ns string, o Object) {
	if t.objects[ns] == nil {
		t.objects[ns] = map[string]Object{}
	}
	key := o.GetObjectKind().GroupVersionKind().Kind + "/" + o.GetName()
	if _, ok := t.objects[ns][key]; !ok {
		t.objects[ns][key] = o
	}
}

var kindOrder = []string{"ConfigMap", "Secret", "PersistentVolumeClaim", "Service", "Deployment", "DaemonSet", "Job"}

func (t *translator) namespaces() []Namespace {
	var out []Namespace
	for _, ns := range sortedKeys(t.objects) {
		objs := t.objects[ns]
		n := Namespace{Name: ns}
		if ns != "default" {
			n.Objects = append(n.Objects, &corev1.Namespace{
				TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"},
				ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{LabelManagedBy: ManagedByValue}},
			})
		}
		keys := sortedKeys(objs)
		slices.SortStableFunc(keys, func(a, b string) int {
			ka, _, _ := strings.Cut(a, "/")
			kb, _, _ := strings.Cut(b, "/")
			return cmp.Compare(slices.Index(kindOrder, ka), slices.Index(kindOrder, kb))
		})
		for _, k := range keys {
			n.Objects = append(n.Objects, objs[k])
		}
		out = append(out, n)
	}
	return out
}

// job is the translation of one service.
type job struct {
	t     *translator
	svc   *Service
	rep   *ServiceReport
	ns    string
	name  string
	stack string
	kind  string
	sel   map[string]string
	pod   corev1.PodSpec
	ctr   corev1.Container
	annot map[string]string // pod template annotations
	svcs  *corev1.Service
	// mountPaths are the container's mount paths so far, which Kubernetes
	// wants unique.
	mountPaths map[string]string
	// backoff is the Job's backoffLimit, from RestartPolicy.MaxAttempts.
	backoff *int32
}

const (
	pSpec = "Spec."
	pTask = "Spec.TaskTemplate."
	pCtr  = "Spec.TaskTemplate.ContainerSpec."
)

func (j *job) add(field string, o Outcome, to, note string, attention bool) {
	if to != "" {
		to = j.kind + " " + j.name + ": " + to
	}
	j.rep.Entries = append(j.rep.Entries, Entry{Field: field, Outcome: o, To: to, Note: note, Attention: attention})
}

// addParts is add for some fields of a list element.
func (j *job) addParts(field string, parts []string, o Outcome, to, note string, attention bool) {
	j.add(field, o, to, note, attention)
	j.rep.Entries[len(j.rep.Entries)-1].Parts = parts
}

// addObjParts is addObj for some fields of a list element.
func (j *job) addObjParts(field string, parts []string, o Outcome, kind, name, to, note string, attention bool) {
	j.addObj(field, o, kind, name, to, note, attention)
	j.rep.Entries[len(j.rep.Entries)-1].Parts = parts
}

// addObj is add for a field that went to another object than the workload.
func (j *job) addObj(field string, o Outcome, kind, name, to, note string, attention bool) {
	j.rep.Entries = append(j.rep.Entries, Entry{Field: field, Outcome: o, To: kind + " " + name + ": " + to, Note: note, Attention: attention})
}

func (t *translator) service(s *Service) *ServiceReport {
	spec := &s.Spec
	stack := spec.Labels[StackLabel]
	ns := t.opts.Namespace
	if stack != "" {
		ns = dnsLabel(stack)
		if strings.HasPrefix(ns, "kube-") || ns == "default" {
			ns = fit("swarm-"+ns, stack)
		}
	}
	short := strings.TrimPrefix(spec.Name, stack+"_")
	if stack == "" || short == "" {
		short = spec.Name
	}
	name, renamed := t.names.name(ns, "workload", short)
	rep := &ServiceReport{Swarm: spec.Name, ID: s.ID, Stack: stack, Namespace: ns, Running: t.running[s.ID], Entries: []Entry{}}
	j := &job{t: t, svc: s, rep: rep, ns: ns, name: name, stack: stack,
		sel: map[string]string{LabelName: name}, annot: map[string]string{}}

	switch {
	case spec.Mode.Global != nil:
		j.kind = "DaemonSet"
	case spec.Mode.ReplicatedJob != nil, spec.Mode.GlobalJob != nil:
		j.kind = "Job"
	default:
		j.kind = "Deployment"
	}
	if spec.TaskTemplate.ContainerSpec == nil {
		rep.Entries = append(rep.Entries, Entry{Field: "Spec", Outcome: NotCarried,
			Note: "the service has no container spec (a plugin or network attachment task): nothing to run in Kubernetes", Attention: true})
		j.bookkeeping()
		return rep
	}
	rep.Kind, rep.Name = j.kind, name

	j.bookkeeping()
	switch {
	case renamed:
		j.add("Spec.Name", Approximated, "metadata.name", fmt.Sprintf("another service already became %q in namespace %s; a hash of the Swarm name was appended", dnsLabel(short), ns), false)
	case name != short:
		j.add("Spec.Name", Approximated, "metadata.name", "sanitised to a DNS label (lowercase letters, digits and '-')", false)
	default:
		j.add("Spec.Name", Carried, "metadata.name", "", false)
	}
	j.labels()
	j.container()
	j.resources()
	j.placement()
	j.networks()
	j.mounts()
	j.files("Configs")
	j.files("Secrets")
	j.endpoint()
	j.build()
	return rep
}

// bookkeeping accounts for the fields that are Swarm's own records.
func (j *job) bookkeeping() {
	present := leaves(j.svc.raw)
	for _, e := range []Entry{
		{Field: "ID", Outcome: Carried, To: "metadata.annotations[" + AnnotationID + "]"},
		{Field: "Version", Outcome: NotCarried, Note: "Swarm's object version, for its own writes"},
		{Field: "CreatedAt", Outcome: NotCarried, Note: "Swarm's record; the Kubernetes objects get their own"},
		{Field: "UpdatedAt", Outcome: NotCarried, Note: "Swarm's record; the Kubernetes objects get their own"},
		{Field: "PreviousSpec", Outcome: NotCarried, Note: "the spec before the last update; only the current one is carried"},
		{Field: "Endpoint", Outcome: NotCarried, Note: "runtime state (virtual IPs, assigned ports); the Service gets its own"},
		{Field: "UpdateStatus", Outcome: NotCarried, Note: "runtime state of the last update"},
		{Field: "ServiceStatus", Outcome: NotCarried, Note: "runtime state (task counts)"},
		{Field: "JobStatus", Outcome: NotCarried, Note: "runtime state of a job"},
	} {
		if e.Field == "ID" || slices.ContainsFunc(present, func(l string) bool { return e.covers(l) }) {
			j.rep.Entries = append(j.rep.Entries, e)
		}
	}
}

func (j *job) labels() {
	spec := &j.svc.Spec
	if j.stack != "" {
		j.add("Spec.Labels."+StackLabel, Carried, "metadata.namespace", "the stack became namespace "+j.ns, false)
		if v := sanitize(j.stack); len(validation.IsValidLabelValue(v)) == 0 {
			j.sel[LabelPartOf] = v
		}
	}
	for _, k := range sortedKeys(spec.Labels) {
		if k == StackLabel {
			continue
		}
		field := "Spec.Labels." + k
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			j.add(field, NotCarried, "", "not a valid Kubernetes annotation key: "+strings.Join(errs, "; "), false)
			continue
		}
		j.add(field, Approximated, "metadata.annotations["+k+"]", "Swarm labels become annotations: Kubernetes labels select objects and restrict their values", false)
	}
}

func (j *job) container() {
	c := j.svc.Spec.TaskTemplate.ContainerSpec
	j.ctr.Name = j.name
	j.ctr.Image = c.Image
	if c.Image == "" {
		j.add(pCtr+"Image", NotCarried, "", "the service has no image", true)
	} else {
		j.add(pCtr+"Image", Carried, "spec.template.spec.containers[0].image", "", false)
	}
	if len(c.Command) > 0 {
		j.ctr.Command = c.Command
		j.add(pCtr+"Command", Carried, "spec.template.spec.containers[0].command", "Swarm's command replaces the image's entrypoint, as Kubernetes' command does", false)
	}
	if len(c.Args) > 0 {
		j.ctr.Args = c.Args
		j.add(pCtr+"Args", Carried, "spec.template.spec.containers[0].args", "", false)
	}
	for i, e := range c.Env {
		field := fmt.Sprintf("%sEnv[%d]", pCtr, i)
		k, v, ok := strings.Cut(e, "=")
		switch {
		case k == "":
			j.add(field, NotCarried, "", "an environment entry without a name", false)
		case !ok:
			j.add(field, NotCarried, "", "an entry without '=' unsets the variable in Docker; nothing to set", false)
		case len(validation.IsRelaxedEnvVarName(k)) > 0:
			j.add(field, NotCarried, "", "Kubernetes refuses this variable name (printable ASCII without '=' only)", true)
		default:
			j.ctr.Env = append(j.ctr.Env, corev1.EnvVar{Name: k, Value: v})
			j.add(field, Carried, fmt.Sprintf("spec.template.spec.containers[0].env[%d]", len(j.ctr.Env)-1), "", false)
		}
	}
	for _, k := range sortedKeys(c.Labels) {
		field := pCtr + "Labels." + k
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			j.add(field, NotCarried, "", "not a valid Kubernetes annotation key: "+strings.Join(errs, "; "), false)
			continue
		}
		j.annot[k] = c.Labels[k]
		j.add(field, Approximated, "spec.template.metadata.annotations["+k+"]", "container labels become pod annotations", false)
	}
	if c.Hostname != "" {
		if len(validation.IsDNS1123Label(c.Hostname)) == 0 {
			j.pod.Hostname = c.Hostname
			j.add(pCtr+"Hostname", Carried, "spec.template.spec.hostname", "", false)
		} else {
			j.add(pCtr+"Hostname", NotCarried, "", "not a DNS label (a Go template like {{.Node.Hostname}} is rendered per task by Swarm only)", false)
		}
	}
	if c.Dir != "" {
		j.ctr.WorkingDir = c.Dir
		j.add(pCtr+"Dir", Carried, "spec.template.spec.containers[0].workingDir", "", false)
	}
	j.user(c)
	if c.TTY {
		j.ctr.TTY = true
		j.add(pCtr+"TTY", Carried, "spec.template.spec.containers[0].tty", "", false)
	}
	if c.OpenStdin {
		j.ctr.Stdin = true
		j.add(pCtr+"OpenStdin", Carried, "spec.template.spec.containers[0].stdin", "", false)
	}
	if c.ReadOnly {
		j.ctrSecurity().ReadOnlyRootFilesystem = new(true)
		j.add(pCtr+"ReadOnly", Carried, "spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem", "", false)
	}
	if len(c.CapabilityAdd) > 0 || len(c.CapabilityDrop) > 0 {
		caps := &corev1.Capabilities{}
		for _, cp := range c.CapabilityAdd {
			caps.Add = append(caps.Add, corev1.Capability(strings.TrimPrefix(strings.ToUpper(cp), "CAP_")))
		}
		for _, cp := range c.CapabilityDrop {
			caps.Drop = append(caps.Drop, corev1.Capability(strings.TrimPrefix(strings.ToUpper(cp), "CAP_")))
		}
		j.ctrSecurity().Capabilities = caps
		if len(c.CapabilityAdd) > 0 {
			j.add(pCtr+"CapabilityAdd", Carried, "spec.template.spec.containers[0].securityContext.capabilities.add", "without the CAP_ prefix", false)
		}
		if len(c.CapabilityDrop) > 0 {
			j.add(pCtr+"CapabilityDrop", Carried, "spec.template.spec.containers[0].securityContext.capabilities.drop", "without the CAP_ prefix", false)
		}
	}
	if len(c.Sysctls) > 0 {
		sc := j.podSecurity()
		for _, k := range sortedKeys(c.Sysctls) {
			sc.Sysctls = append(sc.Sysctls, corev1.Sysctl{Name: k, Value: c.Sysctls[k]})
		}
		j.add(pCtr+"Sysctls", Approximated, "spec.template.spec.securityContext.sysctls", "pod-wide; sysctls outside Kubernetes' safe set must be allowed on the kubelet (allowedUnsafeSysctls)", false)
	}
	if c.StopGracePeriod != nil {
		ns := *c.StopGracePeriod
		secs := (ns + 999_999_999) / 1_000_000_000
		j.pod.TerminationGracePeriodSeconds = new(max(secs, 0))
		if ns%1_000_000_000 == 0 {
			j.add(pCtr+"StopGracePeriod", Carried, "spec.template.spec.terminationGracePeriodSeconds", "", false)
		} else {
			j.add(pCtr+"StopGracePeriod", Approximated, "spec.template.spec.terminationGracePeriodSeconds", "rounded up to whole seconds", false)
		}
	}
	j.healthcheck(c.Healthcheck)
	for i, h := range c.Hosts {
		field := fmt.Sprintf("%sHosts[%d]", pCtr, i)
		f := strings.Fields(h)
		if len(f) < 2 || net.ParseIP(f[0]) == nil || slices.ContainsFunc(f[1:], func(n string) bool { return len(validation.IsDNS1123Subdomain(n)) > 0 }) {
			j.add(field, NotCarried, "", `not an "IP hostname..." line with lowercase DNS names, which Kubernetes requires`, true)
			continue
		}
		j.pod.HostAliases = append(j.pod.HostAliases, corev1.HostAlias{IP: f[0], Hostnames: f[1:]})
		j.add(field, Carried, fmt.Sprintf("spec.template.spec.hostAliases[%d]", len(j.pod.HostAliases)-1), "", false)
	}
	if d := c.DNSConfig; d != nil && (len(d.Nameservers) > 0 || len(d.Search) > 0 || len(d.Options) > 0) && !validDNS(d) {
		j.add(pCtr+"DNSConfig", NotCarried, "", "Kubernetes takes at most 3 name servers given as IP addresses, lowercase search domains and named options", true)
	} else if d != nil && (len(d.Nameservers) > 0 || len(d.Search) > 0 || len(d.Options) > 0) {
		j.pod.DNSConfig = &corev1.PodDNSConfig{Nameservers: d.Nameservers, Searches: d.Search}
		for _, o := range d.Options {
			k, v, ok := strings.Cut(o, ":")
			opt := corev1.PodDNSConfigOption{Name: k}
			if ok {
				opt.Value = &v
			}
			j.pod.DNSConfig.Options = append(j.pod.DNSConfig.Options, opt)
		}
		j.add(pCtr+"DNSConfig", Approximated, "spec.template.spec.dnsConfig", "added to the cluster DNS settings (dnsPolicy ClusterFirst) rather than replacing Swarm's embedded DNS", false)
	}
}

// validDNS reports whether a DNS config passes Kubernetes' pod validation.
func validDNS(d *DNSConfig) bool {
	if len(d.Nameservers) > 3 || len(d.Search) > 32 {
		return false
	}
	for _, n := range d.Nameservers {
		if net.ParseIP(n) == nil {
			return false
		}
	}
	for _, sd := range d.Search {
		if len(validation.IsDNS1123Subdomain(strings.TrimSuffix(sd, "."))) > 0 {
			return false
		}
	}
	for _, o := range d.Options {
		if k, _, _ := strings.Cut(o, ":"); k == "" {
			return false
		}
	}
	return true
}

func (j *job) ctrSecurity() *corev1.SecurityContext {
	if j.ctr.SecurityContext == nil {
		j.ctr.SecurityContext = &corev1.SecurityContext{}
	}
	return j.ctr.SecurityContext
}

func (j *job) podSecurity() *corev1.PodSecurityContext {
	if j.pod.SecurityContext == nil {
		j.pod.SecurityContext = &corev1.PodSecurityContext{}
	}
	return j.pod.SecurityContext
}

func (j *job) user(c *ContainerSpec) {
	if c.User != "" {
		u, g, hasGroup := strings.Cut(c.User, ":")
		uid, err1 := strconv.ParseInt(u, 10, 64)
		gid, err2 := strconv.ParseInt(g, 10, 64)
		switch {
		case err1 == nil && uid >= 0 && (!hasGroup || (err2 == nil && gid >= 0)):
			j.ctrSecurity().RunAsUser = &uid
			to := "spec.template.spec.containers[0].securityContext.runAsUser"
			if hasGroup {
				j.ctrSecurity().RunAsGroup = &gid
				to += " and runAsGroup"
			}
			j.add(pCtr+"User", Carried, to, "", false)
		default:
			j.add(pCtr+"User", NotCarried, "", "Kubernetes takes numeric user and group IDs only: look up this user's IDs in the image and set securityContext.runAsUser/runAsGroup", true)
		}
	}
	for i, g := range c.Groups {
		field := fmt.Sprintf("%sGroups[%d]", pCtr, i)
		gid, err := strconv.ParseInt(g, 10, 64)
		if err != nil || gid < 0 {
			j.add(field, NotCarried, "", "Kubernetes takes numeric group IDs only: look up this group's ID and add it to securityContext.supplementalGroups", true)
			continue
		}
		sc := j.podSecurity()
		sc.SupplementalGroups = append(sc.SupplementalGroups, gid)
		j.add(field, Carried, "spec.template.spec.securityContext.supplementalGroups", "", false)
	}
}

// seconds is a Docker duration (ns) in whole seconds, rounded up, at least
// min; exact reports whether no rounding happened.
func seconds(ns int64, def int64, minimum int32) (int32, bool) {
	if ns <= 0 {
		ns = def
	}
	s := (ns + 999_999_999) / 1_000_000_000
	exact := ns%1_000_000_000 == 0
	if s < int64(minimum) {
		return minimum, false
	}
	if s > 1<<30 {
		return 1 << 30, false
	}
	return int32(s), exact
}

func (j *job) healthcheck(h *Healthcheck) {
	if h == nil {
		return
	}
	const p = pCtr + "Healthcheck."
	if len(h.Test) == 0 {
		j.add(p+"Test", NotCarried, "", "the service keeps the image's HEALTHCHECK, which the Engine API does not show: add probes by hand if the image has one", false)
		return
	}
	var cmd []string
	switch h.Test[0] {
	case "NONE":
		j.add(p+"Test", Carried, "", "health checks disabled: no probes", false)
		return
	case "CMD":
		cmd = h.Test[1:]
	case "CMD-SHELL":
		cmd = []string{"/bin/sh", "-c", strings.Join(h.Test[1:], " ")}
	}
	if len(cmd) == 0 {
		j.add(p+"Test", NotCarried, "", "not a CMD or CMD-SHELL test", true)
		return
	}
	const second = int64(1_000_000_000)
	period, pExact := seconds(h.Interval, 30*second, 1)
	timeout, tExact := seconds(h.Timeout, 30*second, 1)
	retries := int32(3)
	if h.Retries > 0 {
		retries = int32(min(h.Retries, 1<<20))
	}
	probe := func() *corev1.Probe {
		return &corev1.Probe{
			ProbeHandler:     corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: slices.Clone(cmd)}},
			PeriodSeconds:    period,
			TimeoutSeconds:   timeout,
			FailureThreshold: retries,
			SuccessThreshold: 1,
		}
	}
	j.ctr.LivenessProbe, j.ctr.ReadinessProbe = probe(), probe()
	const to = "spec.template.spec.containers[0].livenessProbe and readinessProbe"
	j.add(p+"Test", Carried, to+".exec.command", "liveness because Swarm replaces unhealthy tasks, readiness because it routes only to healthy ones", false)
	outcome := func(exact bool) (Outcome, string) {
		if exact {
			return Carried, ""
		}
		return Approximated, "rounded up to whole seconds (at least 1)"
	}
	if h.Interval != 0 {
		o, n := outcome(pExact)
		j.add(p+"Interval", o, to+".periodSeconds", n, false)
	}
	if h.Timeout != 0 {
		o, n := outcome(tExact)
		j.add(p+"Timeout", o, to+".timeoutSeconds", n, false)
	}
	if h.Retries != 0 {
		j.add(p+"Retries", Carried, to+".failureThreshold", "", false)
	}
	if h.StartPeriod > 0 {
		start, _ := seconds(h.StartPeriod, 0, 1)
		sp := probe()
		sp.FailureThreshold = min((start+period-1)/period+retries, 1<<20)
		j.ctr.StartupProbe = sp
		j.add(p+"StartPeriod", Approximated, "spec.template.spec.containers[0].startupProbe",
			"a startup probe allowing the start period plus the retries before liveness takes over", false)
	}
}

func (j *job) resources() {
	r := j.svc.Spec.TaskTemplate.Resources
	if r == nil {
		return
	}
	const p = pTask + "Resources."
	list := func(side string, l *Limit) corev1.ResourceList {
		if l == nil {
			return nil
		}
		out := corev1.ResourceList{}
		if l.NanoCPUs > 0 {
			m := (l.NanoCPUs + 999_999) / 1_000_000
			out[corev1.ResourceCPU] = *resource.NewMilliQuantity(m, resource.DecimalSI)
			if l.NanoCPUs%1_000_000 == 0 {
				j.add(p+side+".NanoCPUs", Carried, "spec.template.spec.containers[0].resources."+k8sSide(side)+".cpu", "", false)
			} else {
				j.add(p+side+".NanoCPUs", Approximated, "spec.template.spec.containers[0].resources."+k8sSide(side)+".cpu", "rounded up to a millicore", false)
			}
		}
		if l.MemoryBytes > 0 {
			out[corev1.ResourceMemory] = *resource.NewQuantity(l.MemoryBytes, resource.BinarySI)
			j.add(p+side+".MemoryBytes", Carried, "spec.template.spec.containers[0].resources."+k8sSide(side)+".memory", "", false)
		}
		if len(out) == 0 {
			return nil
		}
		return out
	}
	j.ctr.Resources.Limits = list("Limits", r.Limits)
	j.ctr.Resources.Requests = list("Reservations", r.Reservations)
	// Kubernetes refuses requests above limits; Swarm does not check.
	for name, req := range j.ctr.Resources.Requests {
		if lim, ok := j.ctr.Resources.Limits[name]; ok && req.Cmp(lim) > 0 {
			j.ctr.Resources.Requests[name] = lim
			j.add(p+"Reservations", Approximated, "spec.template.spec.containers[0].resources.requests."+string(name), "the reservation exceeds the limit, which Kubernetes refuses: lowered to the limit", false)
		}
	}
}

func k8sSide(side string) string {
	if side == "Limits" {
		return "limits"
	}
	return "requests"
}

func (j *job) placement() {
	spec := &j.svc.Spec
	rp := spec.TaskTemplate.RestartPolicy
	cond := ""
	if rp != nil {
		cond = rp.Condition
	}
	const p = pTask + "RestartPolicy."
	if j.kind == "Job" {
		j.pod.RestartPolicy = corev1.RestartPolicyOnFailure
		if cond == "none" {
			j.pod.RestartPolicy = corev1.RestartPolicyNever
		}
		if cond != "" {
			j.add(p+"Condition", Carried, "spec.template.spec.restartPolicy", "", false)
		}
	} else {
		j.pod.RestartPolicy = corev1.RestartPolicyAlways
		switch cond {
		case "", "any":
			if cond != "" {
				j.add(p+"Condition", Carried, "spec.template.spec.restartPolicy", "", false)
			}
		default:
			j.add(p+"Condition", Approximated, "spec.template.spec.restartPolicy", fmt.Sprintf("%ss restart always; Swarm's %q is not available to them", j.kind, cond), false)
		}
	}
	if rp != nil && rp.MaxAttempts != nil {
		if j.kind == "Job" {
			j.backoff = new(int32(min(*rp.MaxAttempts, 1<<20)))
			j.add(p+"MaxAttempts", Carried, "spec.backoffLimit", "", false)
		} else if *rp.MaxAttempts != 0 {
			j.add(p+"MaxAttempts", NotCarried, "", j.kind+"s restart without a limit", false)
		} else {
			j.add(p+"MaxAttempts", Carried, "", "0 means no limit, as in Kubernetes", false)
		}
	}

	pl := spec.TaskTemplate.Placement
	if pl == nil {
		return
	}
	var exprs []corev1.NodeSelectorRequirement
	for i, c := range pl.Constraints {
		field := fmt.Sprintf("%sPlacement.Constraints[%d]", pTask, i)
		req, o, note, attention := j.t.constraint(c)
		if req != nil {
			exprs = append(exprs, *req)
			j.add(field, o, "spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution", note, attention)
		} else {
			j.add(field, o, "", note, attention)
		}
	}
	if len(exprs) > 0 {
		j.affinity().NodeAffinity = &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: exprs}}}}
	}
	for i, pref := range pl.Preferences {
		field := fmt.Sprintf("%sPlacement.Preferences[%d]", pTask, i)
		if pref.Spread == nil {
			j.add(field, NotCarried, "", "only spread preferences exist", false)
			continue
		}
		key, ok := strings.CutPrefix(pref.Spread.SpreadDescriptor, "node.labels.")
		if !ok || len(validation.IsQualifiedName(key)) > 0 {
			j.add(field, NotCarried, "", "spreading is carried over node labels only (node.labels.<key> with a valid Kubernetes label key)", true)
			continue
		}
		j.pod.TopologySpreadConstraints = append(j.pod.TopologySpreadConstraints, corev1.TopologySpreadConstraint{
			MaxSkew: 1, TopologyKey: key, WhenUnsatisfiable: corev1.ScheduleAnyway,
			LabelSelector: &metav1.LabelSelector{MatchLabels: j.sel},
		})
		j.add(field, Approximated, fmt.Sprintf("spec.template.spec.topologySpreadConstraints[%d]", len(j.pod.TopologySpreadConstraints)-1),
			"spread as a soft constraint; the Kubernetes nodes need label "+key+" (Swarm node labels are not carried to them)", true)
	}
	if pl.MaxReplicas == 1 {
		j.affinity().PodAntiAffinity = &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
			LabelSelector: &metav1.LabelSelector{MatchLabels: j.sel}, TopologyKey: "kubernetes.io/hostname"}}}
		j.add(pTask+"Placement.MaxReplicas", Carried, "spec.template.spec.affinity.podAntiAffinity", "at most one pod per node", false)
	} else if pl.MaxReplicas > 1 {
		j.add(pTask+"Placement.MaxReplicas", NotCarried, "", "Kubernetes limits pods per node only to one (anti-affinity); spread them with topologySpreadConstraints if it matters", false)
	}
}

func (j *job) affinity() *corev1.Affinity {
	if j.pod.Affinity == nil {
		j.pod.Affinity = &corev1.Affinity{}
	}
	return j.pod.Affinity
}

// dockerArch maps Docker's architecture names to Kubernetes' (GOARCH).
var dockerArch = map[string]string{"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "s390x": "s390x", "ppc64le": "ppc64le"}

// constraint maps one Swarm placement constraint (swarmkit's
// "key==value" or "key!=value") to a node selector requirement.
func (t *translator) constraint(c string) (*corev1.NodeSelectorRequirement, Outcome, string, bool) {
	op, k, v := "", "", ""
	for _, o := range []string{"==", "!="} {
		if a, b, ok := strings.Cut(c, o); ok {
			op, k, v = o, strings.TrimSpace(a), strings.TrimSpace(b)
			break
		}
	}
	if op == "" || k == "" || v == "" {
		return nil, NotCarried, "not a key==value or key!=value constraint", true
	}
	in := func(key string, vals ...string) *corev1.NodeSelectorRequirement {
		r := &corev1.NodeSelectorRequirement{Key: key, Operator: corev1.NodeSelectorOpIn, Values: vals}
		if op == "!=" {
			r.Operator = corev1.NodeSelectorOpNotIn
		}
		return r
	}
	exists := func(key string, want bool) *corev1.NodeSelectorRequirement {
		if op == "!=" {
			want = !want
		}
		if want {
			return &corev1.NodeSelectorRequirement{Key: key, Operator: corev1.NodeSelectorOpExists}
		}
		return &corev1.NodeSelectorRequirement{Key: key, Operator: corev1.NodeSelectorOpDoesNotExist}
	}
	validValue := func(s string) bool { return len(validation.IsValidLabelValue(s)) == 0 }
	switch {
	case k == "node.role":
		switch strings.ToLower(v) {
		case "manager":
			return exists("node-role.kubernetes.io/control-plane", true), Approximated,
				"managers become MKE 4k controllers, which run workloads only when they are also workers", false
		case "worker":
			return exists("node-role.kubernetes.io/control-plane", false), Carried, "", false
		}
		return nil, NotCarried, "node.role is manager or worker", true
	case k == "node.hostname":
		h := strings.ToLower(v)
		if !validValue(h) {
			return nil, NotCarried, "not a valid node name", true
		}
		return in("kubernetes.io/hostname", h), Approximated, "Kubernetes node names are the lowercased host names", false
	case k == "node.id":
		n := t.nodes[v]
		if n == nil || n.Description.Hostname == "" || !validValue(strings.ToLower(n.Description.Hostname)) {
			return nil, NotCarried, "the node ID is not one of the Swarm's nodes, so its host name is unknown", true
		}
		return in("kubernetes.io/hostname", strings.ToLower(n.Description.Hostname)), Approximated,
			"the node ID became the node's host name " + strings.ToLower(n.Description.Hostname), false
	case k == "node.platform.os":
		return in("kubernetes.io/os", strings.ToLower(v)), Carried, "", false
	case k == "node.platform.arch":
		a := strings.ToLower(v)
		if m, ok := dockerArch[a]; ok {
			a = m
		}
		if !validValue(a) {
			return nil, NotCarried, "not a valid architecture", true
		}
		return in("kubernetes.io/arch", a), Carried, "", false
	case strings.HasPrefix(k, "node.labels."):
		key := strings.TrimPrefix(k, "node.labels.")
		if len(validation.IsQualifiedName(key)) > 0 || !validValue(v) {
			return nil, NotCarried, "the label key or value is not valid in Kubernetes", true
		}
		var hosts []string
		for _, n := range t.inv.Nodes {
			if got, ok := n.Spec.Labels[key]; ok && (got == v) == (op == "==") {
				hosts = append(hosts, strings.ToLower(n.Description.Hostname))
			}
		}
		slices.Sort(hosts)
		note := "Swarm node labels are not carried to the Kubernetes nodes: label them (kubectl label node <node> " + key + "=" + v + ")"
		if len(hosts) > 0 {
			note += "; in Swarm this matched " + strings.Join(hosts, ", ")
		}
		return in(key, v), Approximated, note, true
	case strings.HasPrefix(k, "engine.labels."):
		return nil, NotCarried, "engine labels have no Kubernetes counterpart: label the nodes and add a node affinity", true
	}
	return nil, NotCarried, "unknown constraint key", true
}

func (j *job) networks() {
	spec := &j.svc.Spec
	refs := []struct {
		field string
		list  []NetworkAttachRef
	}{{pTask + "Networks", spec.TaskTemplate.Networks}, {pSpec + "Networks", spec.Networks}}
	for _, r := range refs {
		for i, n := range r.list {
			field := fmt.Sprintf("%s[%d]", r.field, i)
			net := j.t.nets[n.Target]
			if net == nil {
				net = j.t.nets["name:"+n.Target]
			}
			if net == nil {
				j.add(field+".Target", NotCarried, "", "the network is not in the Swarm's list; Kubernetes networking is flat anyway", false)
			} else if !net.Ingress {
				nr := j.t.networks[net.Name]
				if nr == nil {
					nr = &NetworkReport{Swarm: net.Name, Internal: net.Internal,
						Note: "Kubernetes networking is flat: every pod can reach every other"}
					if net.Internal {
						nr.Note += "; the network was internal (no outside access): write a NetworkPolicy that denies egress outside the namespace if that matters"
					} else {
						nr.Note += "; write NetworkPolicies if the network isolated services"
					}
					j.t.networks[net.Name] = nr
				}
				if !slices.Contains(nr.UsedBy, j.svc.Spec.Name) {
					nr.UsedBy = append(nr.UsedBy, j.svc.Spec.Name)
				}
				note := "Kubernetes networking is flat; the service is reached through its Service " + j.name + " (see the report's networks)"
				j.add(field+".Target", NotCarried, "", note, false)
			} else {
				j.add(field+".Target", NotCarried, "", "the routing mesh (ingress) is replaced by NodePort Services", false)
			}
			var others []string
			for _, a := range n.Aliases {
				if a != j.name && a != j.svc.Spec.Name {
					others = append(others, a)
				}
			}
			switch {
			case len(n.Aliases) == 0:
			case len(others) == 0:
				j.addObj(field+".Aliases", Carried, "Service", j.name, "metadata.name", "the alias is the service's own name, which its Service resolves", false)
			default:
				j.t.aliasReqs = append(j.t.aliasReqs, aliasReq{j: j, field: field + ".Aliases", aliases: others})
			}
		}
	}
}

// claimPath takes a mount path for field, or reports that another mount
// has it: Kubernetes refuses two mounts at one path.
func (j *job) claimPath(field, p string) bool {
	p = path.Clean(p)
	if j.mountPaths == nil {
		j.mountPaths = map[string]string{}
	}
	if other, ok := j.mountPaths[p]; ok {
		j.add(field, NotCarried, "", "the target "+p+" is also the target of "+other+"; Kubernetes refuses two mounts at one path", true)
		return false
	}
	j.mountPaths[p] = field
	return true
}

// mountParts are the fields of a mount that its volume and volumeMount carry.
var mountParts = []string{"Type", "Source", "Target", "ReadOnly"}

// aliasReq asks for Services named after a service's network aliases.
type aliasReq struct {
	j       *job
	field   string
	aliases []string
}

// aliasServices gives each alias a Service selecting the service's pods,
// unless the name is another service's (or alias's) in the namespace.
func (j *job) aliasServices(field string, aliases []string) {
	if j.svcs == nil {
		j.add(field, NotCarried, "", "network aliases "+strings.Join(aliases, ", ")+" are other DNS names of the service; a job gets no Service", true)
		return
	}
	var made, refused []string
	for _, a := range aliases {
		name := dnsLabel(a)
		if j.t.names.has(j.ns, "workload", a, name) {
			if o := j.t.objects[j.ns]["Service/"+name]; o != nil && o.GetAnnotations()[AnnotationAliasOf] == j.name {
				made = append(made, name) // the same alias on another network
				continue
			}
			refused = append(refused, a)
			continue
		}
		j.t.names.name(j.ns, "workload", a)
		svc := j.svcs.DeepCopy()
		svc.Name = name
		svc.Annotations = map[string]string{AnnotationService: j.svc.Spec.Name, AnnotationAliasOf: j.name}
		if svc.Spec.Type == corev1.ServiceTypeNodePort {
			svc.Spec.Type = corev1.ServiceTypeClusterIP // node ports belong to the service's own Service
			for i := range svc.Spec.Ports {
				svc.Spec.Ports[i].NodePort = 0
			}
		}
		j.t.put(j.ns, svc)
		made = append(made, name)
	}
	if len(made) > 0 {
		j.addObj(field, Approximated, "Service", strings.Join(made, ", "), "metadata.name",
			"a Service per alias selects the same pods; a Swarm alias held on its network only, these in the whole namespace", false)
	}
	if len(refused) > 0 {
		j.add(field, NotCarried, "", "network aliases "+strings.Join(refused, ", ")+" are names of other services or aliases in namespace "+j.ns+": clients using them need another name", true)
	}
}

// volumeName is a pod volume name: a DNS label, unique in the pod.
func volumeName(kind string, i int) string { return fmt.Sprintf("%s-%d", kind, i) }

func (j *job) mounts() {
	c := j.svc.Spec.TaskTemplate.ContainerSpec
	for i, m := range c.Mounts {
		field := fmt.Sprintf("%sMounts[%d]", pCtr, i)
		vm := corev1.VolumeMount{Name: volumeName("mount", i), MountPath: m.Target, ReadOnly: m.ReadOnly}
		to := fmt.Sprintf("spec.template.spec.volumes[%d]", len(j.pod.Volumes))
		if !path.IsAbs(m.Target) {
			j.add(field, NotCarried, "", "the target is not an absolute path", true)
			continue
		}
		if !j.claimPath(field, m.Target) {
			continue
		}
		vol := corev1.Volume{Name: vm.Name}
		switch m.Type {
		case "volume":
			if m.Source == "" {
				vol.EmptyDir = &corev1.EmptyDirVolumeSource{}
				j.addParts(field, mountParts, Approximated, to+".emptyDir", "an anonymous volume becomes an emptyDir, emptied when the pod goes", false)
				break
			}
			claim := j.t.claim(j.ns, j.stack, m)
			vol.PersistentVolumeClaim = &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim.GetName(), ReadOnly: m.ReadOnly}
			note := "named volume → PersistentVolumeClaim " + claim.GetName() + " (" + j.t.size.String() + ", ReadWriteOnce"
			if j.t.opts.StorageClass != "" {
				note += ", class " + j.t.opts.StorageClass
			} else {
				note += ", the default class"
			}
			note += "); its data is not copied: restore it into the claim"
			drv := claim.GetAnnotations()[AnnotationDriver]
			if drv != "local" || len(claim.GetAnnotations()) > 2 {
				note += "; the Swarm volume used driver " + drv + " with options (see the claim's annotations): pick a StorageClass or PersistentVolume that provides the same storage"
			} else if j.kind == "DaemonSet" || (j.svc.Spec.Mode.Replicated != nil && j.svc.Spec.Mode.Replicated.Replicas != nil && *j.svc.Spec.Mode.Replicated.Replicas > 1) {
				note += "; with the local driver every Swarm task had its own volume on its node, while the pods now share one claim"
			}
			j.addParts(field, mountParts, Approximated, to+".persistentVolumeClaim", note, true)
			if m.VolumeOptions != nil && m.VolumeOptions.DriverConfig != nil {
				j.add(field+".VolumeOptions.DriverConfig", NotCarried, "", "driver options are reported in the claim's annotation; a StorageClass must provide them", true)
			}
		case "bind":
			vol.HostPath = &corev1.HostPathVolumeSource{Path: m.Source}
			if !path.IsAbs(m.Source) || slices.Contains(strings.Split(m.Source, "/"), "..") {
				j.add(field, NotCarried, "", "the bind source is not an absolute path without '..', which Kubernetes requires", true)
				continue
			}
			j.addParts(field, mountParts, Approximated, to+".hostPath", "a bind mount becomes a hostPath: the path must exist, with the same content, on every node the pod can run on", true)
		case "tmpfs":
			vol.EmptyDir = &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}
			if m.TmpfsOptions != nil && m.TmpfsOptions.SizeBytes > 0 {
				vol.EmptyDir.SizeLimit = resource.NewQuantity(m.TmpfsOptions.SizeBytes, resource.BinarySI)
			}
			j.addParts(field, append(mountParts, "TmpfsOptions.SizeBytes"), Carried, to+".emptyDir (medium Memory, sizeLimit)", "", false)
		default:
			j.add(field, NotCarried, "", fmt.Sprintf("mounts of type %q have no Kubernetes counterpart here", m.Type), true)
			continue
		}
		j.pod.Volumes = append(j.pod.Volumes, vol)
		j.ctr.VolumeMounts = append(j.ctr.VolumeMounts, vm)
	}
}

// claim returns the PersistentVolumeClaim of a named volume in ns,
// creating it on first use.
func (t *translator) claim(ns, stack string, m Mount) Object {
	short := m.Source
	if stack != "" {
		short = cmp.Or(strings.TrimPrefix(m.Source, stack+"_"), m.Source)
	}
	name, _ := t.names.name(ns, "pvc", short)
	if o := t.objects[ns]["PersistentVolumeClaim/"+name]; o != nil {
		return o
	}
	driver := "local"
	var opts map[string]string
	if v := t.volumes[m.Source]; v != nil {
		driver, opts = cmp.Or(v.Driver, "local"), v.Options
	}
	if m.VolumeOptions != nil && m.VolumeOptions.DriverConfig != nil {
		driver = cmp.Or(m.VolumeOptions.DriverConfig.Name, driver)
		if len(m.VolumeOptions.DriverConfig.Options) > 0 {
			opts = m.VolumeOptions.DriverConfig.Options
		}
	}
	ann := map[string]string{AnnotationSource: m.Source, AnnotationDriver: driver}
	if len(opts) > 0 {
		b, _ := json.Marshal(opts) // a map of strings always encodes (sorted keys)
		ann[AnnotationDriverOptions] = string(b)
	}
	pvc := &corev1.PersistentVolumeClaim{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "PersistentVolumeClaim"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{LabelManagedBy: ManagedByValue}, Annotations: ann},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: t.size}},
		},
	}
	if t.opts.StorageClass != "" {
		pvc.Spec.StorageClassName = &t.opts.StorageClass
	}
	t.put(ns, pvc)
	return pvc
}

// fileKey is the key of a config's or secret's content in its ConfigMap
// or Secret: the Swarm name when it is a valid key, else a sanitised one.
func fileKey(name string) string {
	if len(validation.IsConfigMapKey(name)) == 0 {
		return name
	}
	return sanitize(name)
}

func (j *job) files(kind string) {
	c := j.svc.Spec.TaskTemplate.ContainerSpec
	refs := c.Configs
	if kind == "Secrets" {
		refs = c.Secrets
	}
	for i, r := range refs {
		field := fmt.Sprintf("%s%s[%d]", pCtr, kind, i)
		id, name := r.ConfigID, r.ConfigName
		if kind == "Secrets" {
			id, name = r.SecretID, r.SecretName
		}
		var swarmName, data string
		var binary []byte
		var templating *Driver
		var driver *Driver
		found := false
		if kind == "Configs" {
			cfg := j.t.configs[id]
			if cfg == nil {
				cfg = j.t.configs["name:"+name]
			}
			if cfg != nil {
				found, swarmName, templating = true, cfg.Spec.Name, cfg.Spec.Templating
				if utf8.Valid(cfg.Spec.Data) {
					data = string(cfg.Spec.Data)
				} else {
					binary = cfg.Spec.Data
				}
			}
		} else {
			sec := j.t.secretsB[id]
			if sec == nil {
				sec = j.t.secretsB["name:"+name]
			}
			if sec != nil {
				found, swarmName, templating, driver = true, sec.Spec.Name, sec.Spec.Templating, sec.Spec.Driver
			}
		}
		if !found {
			j.add(field, NotCarried, "", fmt.Sprintf("%s %q is not in the Swarm's list", strings.TrimSuffix(strings.ToLower(kind), "s"), cmp.Or(name, id)), true)
			continue
		}
		if r.File == nil {
			j.add(field, NotCarried, "", "a runtime reference (no file), used for Windows credential specs", false)
			continue
		}
		target := r.File.Name
		if !path.IsAbs(target) {
			if kind == "Secrets" {
				target = path.Join("/run/secrets", target)
			} else {
				target = "/" + target
			}
		}
		if !j.claimPath(field, target) {
			continue
		}
		mode := int32(0o444)
		if r.File.Mode != 0 {
			mode = int32(r.File.Mode & 0o777)
		}
		short := swarmName
		if j.stack != "" {
			short = cmp.Or(strings.TrimPrefix(swarmName, j.stack+"_"), swarmName)
		}
		group := "configmap"
		if kind == "Secrets" {
			group = "secret"
		}
		objName, _ := j.t.names.name(j.ns, group, short)
		key := fileKey(short)
		meta := metav1.ObjectMeta{Name: objName, Namespace: j.ns, Labels: map[string]string{LabelManagedBy: ManagedByValue},
			Annotations: map[string]string{AnnotationSource: swarmName}}
		vol := corev1.Volume{Name: volumeName(strings.ToLower(strings.TrimSuffix(kind, "s")), i)}
		items := []corev1.KeyToPath{{Key: key, Path: key, Mode: &mode}}
		to := fmt.Sprintf("spec.template.spec.volumes[%d] mounted at %s", len(j.pod.Volumes), target)
		if kind == "Configs" {
			cm := &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}, ObjectMeta: meta}
			if binary != nil {
				cm.BinaryData = map[string][]byte{key: binary}
			} else {
				cm.Data = map[string]string{key: data}
			}
			j.t.put(j.ns, cm)
			vol.ConfigMap = &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: objName}, Items: items}
			o, note := Carried, fmt.Sprintf("ConfigMap %s, key %s, mode %#o", objName, key, mode)
			if r.File.Mode&^0o777 != 0 {
				o, note = Approximated, note+"; the setuid, setgid and sticky bits are dropped (Kubernetes takes 0-0777)"
			}
			j.addParts(field, []string{"File.Name", "File.Mode", "ConfigID", "ConfigName"}, o, to, note, false)
		} else {
			meta.Annotations[AnnotationFillIn] = key
			sec := &corev1.Secret{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}, ObjectMeta: meta, Type: corev1.SecretTypeOpaque}
			j.t.put(j.ns, sec)
			vol.Secret = &corev1.SecretVolumeSource{SecretName: objName, Items: items}
			fill := j.t.secrets[j.ns+"/"+objName]
			if fill == nil {
				fill = &SecretToFill{Namespace: j.ns, Name: objName, Key: key, Swarm: swarmName}
				j.t.secrets[j.ns+"/"+objName] = fill
			}
			if !slices.Contains(fill.UsedBy, j.svc.Spec.Name) {
				fill.UsedBy = append(fill.UsedBy, j.svc.Spec.Name)
			}
			note := fmt.Sprintf("Secret %s written without its value (the Engine API never returns it): fill in key %s; mode %#o", objName, key, mode)
			if driver != nil && driver.Name != "" {
				note += "; the Swarm secret came from the external driver " + driver.Name
			}
			j.addParts(field, []string{"File.Name", "File.Mode", "SecretID", "SecretName"}, Approximated, to, note, true)
		}
		switch uid, gid := cmp.Or(r.File.UID, "0"), cmp.Or(r.File.GID, "0"); {
		case uid == "0" && gid == "0":
			if r.File.UID != "" || r.File.GID != "" {
				j.addParts(field, []string{"File.UID", "File.GID"}, Carried, "", "owned by root, as Kubernetes mounts it", false)
			}
		default:
			j.addParts(field, []string{"File.UID", "File.GID"}, NotCarried, "", fmt.Sprintf(
				"the file belonged to %s:%s; Kubernetes mounts it owned by root, so with mode %#o the container's user may not read it: set the pod's fsGroup to the group and a group-readable mode, or adapt the image", uid, gid, mode), true)
		}
		if templating != nil {
			j.add(field, NotCarried, "", "the Swarm "+strings.ToLower(strings.TrimSuffix(kind, "s"))+" is a template rendered per task; Kubernetes mounts it as it is", true)
		}
		j.pod.Volumes = append(j.pod.Volumes, vol)
		j.ctr.VolumeMounts = append(j.ctr.VolumeMounts, corev1.VolumeMount{Name: vol.Name, MountPath: target, SubPath: key, ReadOnly: true})
	}
}

// portParts are the fields of a port its Service port (or hostPort) carries;
// the name is not: Kubernetes needs DNS-label port names.
var portParts = []string{"Protocol", "TargetPort", "PublishedPort", "PublishMode"}

func (j *job) endpoint() {
	if j.kind == "Job" {
		if e := j.svc.Spec.EndpointSpec; e != nil {
			j.add(pSpec+"EndpointSpec", NotCarried, "", "a job is not reached through a Service", false)
		}
		return
	}
	e := j.svc.Spec.EndpointSpec
	svc := &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: metav1.ObjectMeta{Name: j.name, Namespace: j.ns},
		Spec:       corev1.ServiceSpec{Selector: j.sel, Type: corev1.ServiceTypeClusterIP},
	}
	mode := "vip"
	if e != nil && e.Mode != "" {
		mode = e.Mode
	}
	type pk struct {
		proto corev1.Protocol
		port  int32
	}
	used := map[pk]bool{}
	ctrPorts := map[pk]bool{}
	if e != nil {
		for i, p := range e.Ports {
			field := fmt.Sprintf("%sEndpointSpec.Ports[%d]", pSpec, i)
			proto := corev1.Protocol(strings.ToUpper(cmp.Or(p.Protocol, "tcp")))
			if proto != corev1.ProtocolTCP && proto != corev1.ProtocolUDP && proto != corev1.ProtocolSCTP {
				j.add(field, NotCarried, "", "unknown protocol", true)
				continue
			}
			target := int32(p.TargetPort)
			if !ctrPorts[pk{proto, target}] {
				ctrPorts[pk{proto, target}] = true
				j.ctr.Ports = append(j.ctr.Ports, corev1.ContainerPort{ContainerPort: target, Protocol: proto})
			}
			if p.PublishMode == "host" {
				if p.PublishedPort == 0 {
					j.add(field, NotCarried, "", "a host-mode port without a published number gets a random one in Swarm; Kubernetes has no such hostPort", false)
				} else {
					idx := slices.IndexFunc(j.ctr.Ports, func(c corev1.ContainerPort) bool { return c.ContainerPort == target && c.Protocol == proto })
					if j.ctr.Ports[idx].HostPort != 0 {
						j.ctr.Ports = append(j.ctr.Ports, corev1.ContainerPort{ContainerPort: target, Protocol: proto})
						idx = len(j.ctr.Ports) - 1
					}
					j.ctr.Ports[idx].HostPort = int32(p.PublishedPort)
					j.addParts(field, portParts, Carried, fmt.Sprintf("spec.template.spec.containers[0].ports[%d].hostPort", idx),
						"host mode publishes on the node that runs the task, as hostPort does", false)
				}
			}
			sp := corev1.ServicePort{Name: strings.ToLower(string(proto)) + "-" + strconv.Itoa(int(target)), Protocol: proto, Port: target, TargetPort: intstr.FromInt32(target)}
			if used[pk{proto, target}] {
				if p.PublishedPort == 0 || used[pk{proto, int32(p.PublishedPort)}] {
					continue // the same target again: the Service has it
				}
				sp.Port = int32(p.PublishedPort)
				sp.Name = strings.ToLower(string(proto)) + "-" + strconv.Itoa(int(p.PublishedPort))
			}
			if p.PublishMode != "host" {
				svc.Spec.Type = corev1.ServiceTypeNodePort
				pub := int(p.PublishedPort)
				switch {
				case pub == 0:
					j.addObjParts(field, portParts, Approximated, "Service", j.name, "spec.ports[].nodePort",
						"Swarm picked the published port; Kubernetes picks the node port", false)
				case pub >= j.t.opts.NodePortMin && pub <= j.t.opts.NodePortMax:
					sp.NodePort = int32(pub)
					j.addObjParts(field, portParts, Carried, "Service", j.name, "spec.ports[].nodePort",
						"ingress mode publishes on every node (routing mesh), as a NodePort does", false)
				default:
					j.addObjParts(field, portParts, Approximated, "Service", j.name, "spec.ports[].nodePort",
						fmt.Sprintf("port %d published on every node is outside the NodePort range %d-%d: Kubernetes assigns another; put a LoadBalancer or Ingress in front, or widen the range", pub, j.t.opts.NodePortMin, j.t.opts.NodePortMax), true)
				}
			}
			used[pk{proto, sp.Port}] = true
			svc.Spec.Ports = append(svc.Spec.Ports, sp)
		}
	}
	hasIngress := svc.Spec.Type == corev1.ServiceTypeNodePort
	switch {
	case mode == "dnsrr" && !hasIngress:
		svc.Spec.ClusterIP = corev1.ClusterIPNone
		j.addObj(pSpec+"EndpointSpec.Mode", Carried, "Service", j.name, "spec.clusterIP", "DNS round robin: a headless Service", false)
	case len(svc.Spec.Ports) == 0:
		svc.Spec.ClusterIP = corev1.ClusterIPNone
		note := "no ports are declared, so a headless Service keeps the name resolvable (to the pods' addresses rather than a virtual IP)"
		if e != nil && e.Mode != "" {
			j.addObj(pSpec+"EndpointSpec.Mode", Approximated, "Service", j.name, "spec.clusterIP", note, false)
		}
	default:
		if e != nil && e.Mode != "" {
			j.addObj(pSpec+"EndpointSpec.Mode", Carried, "Service", j.name, "spec.type", "a virtual IP", false)
		}
	}
	j.svcs = svc
}

func (j *job) build() {
	spec := &j.svc.Spec
	meta := func() metav1.ObjectMeta {
		labels := map[string]string{LabelManagedBy: ManagedByValue}
		for k, v := range j.sel {
			labels[k] = v
		}
		ann := map[string]string{AnnotationService: spec.Name, AnnotationID: j.svc.ID}
		for k, v := range spec.Labels {
			if k != StackLabel && len(validation.IsQualifiedName(k)) == 0 {
				ann[k] = v
			}
		}
		return metav1.ObjectMeta{Name: j.name, Namespace: j.ns, Labels: labels, Annotations: ann}
	}
	podLabels := map[string]string{}
	for k, v := range j.sel {
		podLabels[k] = v
	}
	annot := map[string]string{}
	for k, v := range j.annot {
		annot[k] = v
	}
	if len(annot) == 0 {
		annot = nil
	}
	j.pod.Containers = []corev1.Container{j.ctr}
	tmpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: podLabels, Annotations: annot}, Spec: j.pod}
	selector := &metav1.LabelSelector{MatchLabels: j.sel}

	if j.svcs != nil {
		m := meta()
		j.svcs.ObjectMeta = metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, Labels: m.Labels,
			Annotations: map[string]string{AnnotationService: spec.Name}}
		j.t.put(j.ns, j.svcs)
	}
	uc := spec.UpdateConfig
	par, order := uint64(1), "stop-first" // Docker's defaults
	if uc != nil {
		par, order = uc.Parallelism, cmp.Or(uc.Order, "stop-first")
	}
	batch := intstr.FromString("100%") // parallelism 0: all at once
	if par > 0 {
		batch = intstr.FromInt32(int32(min(par, 1<<30)))
	}
	zero := intstr.FromInt32(0)
	const pu = pSpec + "UpdateConfig."
	switch j.kind {
	case "Deployment":
		replicas := int32(1)
		if r := spec.Mode.Replicated; r != nil && r.Replicas != nil {
			replicas = int32(min(*r.Replicas, 1<<30))
			j.add(pSpec+"Mode.Replicated.Replicas", Carried, "spec.replicas", "", false)
		} else {
			j.add(pSpec+"Mode", Carried, "spec.replicas", "1, Swarm's default", false)
		}
		ru := &appsv1.RollingUpdateDeployment{MaxUnavailable: &batch, MaxSurge: &zero}
		if order == "start-first" {
			ru = &appsv1.RollingUpdateDeployment{MaxUnavailable: &zero, MaxSurge: &batch}
		}
		d := &appsv1.Deployment{
			TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
			ObjectMeta: meta(),
			Spec: appsv1.DeploymentSpec{Replicas: &replicas, Selector: selector, Template: tmpl,
				Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: ru}},
		}
		d.Spec.MinReadySeconds = j.minReady(uc)
		j.updateEntries(uc, "spec.strategy.rollingUpdate")
		j.t.put(j.ns, d)
	case "DaemonSet":
		j.add(pSpec+"Mode.Global", Carried, "kind DaemonSet", "one pod per eligible node", false)
		ru := &appsv1.RollingUpdateDaemonSet{MaxUnavailable: &batch, MaxSurge: &zero}
		if order == "start-first" {
			ru = &appsv1.RollingUpdateDaemonSet{MaxUnavailable: &zero, MaxSurge: &batch}
		}
		ds := &appsv1.DaemonSet{
			TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"},
			ObjectMeta: meta(),
			Spec: appsv1.DaemonSetSpec{Selector: selector, Template: tmpl,
				UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType, RollingUpdate: ru}},
		}
		ds.Spec.MinReadySeconds = j.minReady(uc)
		j.updateEntries(uc, "spec.updateStrategy.rollingUpdate")
		j.t.put(j.ns, ds)
	case "Job":
		jb := &batchv1.Job{
			TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
			ObjectMeta: meta(),
			Spec:       batchv1.JobSpec{Template: tmpl, BackoffLimit: j.backoff},
		}
		if rj := spec.Mode.ReplicatedJob; rj != nil {
			par := int32(1)
			if rj.MaxConcurrent != nil {
				par = int32(min(*rj.MaxConcurrent, 1<<20))
				j.add(pSpec+"Mode.ReplicatedJob.MaxConcurrent", Carried, "spec.parallelism", "", false)
			}
			comp := par
			if rj.TotalCompletions != nil {
				comp = int32(min(*rj.TotalCompletions, 1<<20))
				j.add(pSpec+"Mode.ReplicatedJob.TotalCompletions", Carried, "spec.completions", "", false)
			}
			jb.Spec.Parallelism, jb.Spec.Completions = &par, &comp
			j.add(pSpec+"Mode.ReplicatedJob", Carried, "kind Job", "", false)
		} else {
			n := int32(max(len(j.t.inv.Nodes), 1))
			jb.Spec.Parallelism, jb.Spec.Completions = &n, &n
			aff := j.affinity()
			aff.PodAntiAffinity = &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
				LabelSelector: &metav1.LabelSelector{MatchLabels: j.sel}, TopologyKey: "kubernetes.io/hostname"}}}
			jb.Spec.Template.Spec.Affinity = aff
			j.add(pSpec+"Mode.GlobalJob", Approximated, "kind Job",
				fmt.Sprintf("Kubernetes has no per-node job: a Job of %d pods (the Swarm's node count), one per node by anti-affinity; nodes added later do not get one", n), false)
		}
		if uc != nil {
			j.add(pSpec+"UpdateConfig", NotCarried, "", "a Job is not updated in place", false)
		}
		j.t.put(j.ns, jb)
	}
}

// minReady is the update delay as minReadySeconds, accounted for.
func (j *job) minReady(uc *UpdateConfig) int32 {
	if uc == nil || uc.Delay <= 0 {
		return 0
	}
	s, _ := seconds(uc.Delay, 0, 1)
	j.add(pSpec+"UpdateConfig.Delay", Approximated, "spec.minReadySeconds", "Kubernetes waits after each new pod is ready rather than between batches", false)
	return s
}

func (j *job) updateEntries(uc *UpdateConfig, to string) {
	if uc == nil {
		return
	}
	const pu = pSpec + "UpdateConfig."
	j.add(pu+"Parallelism", Carried, to, "the batch size (0: all at once, 100%)", false)
	if uc.Order != "" {
		j.add(pu+"Order", Carried, to, "stop-first is maxSurge 0, start-first maxUnavailable 0", false)
	}
}
