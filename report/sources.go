package report

// This file is the one place that knows the files of an output folder:
// their names, their formats and how they map to Data. The formats are
// those of the writers (package upgrade: journal.jsonl, discovery.json,
// mke3.toml, rbac-export.json; the CLI: summary.txt, summary.json,
// conversion-report.json, plan.json); they are decoded into local structs
// here rather than through the writers' types, so that the report follows
// the files, not the packages that happen to write them.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/mke-migrate/mke-migrate/convert"
	"github.com/mke-migrate/mke-migrate/convert/mke4"
	"github.com/mke-migrate/mke-migrate/rbac"
)

// The files of an output folder that the report reads.
const (
	FileJournal          = "journal.jsonl"          // package upgrade/journal
	FileDiscovery        = "discovery.json"         // upgrade.Shared
	FileMKE3TOML         = "mke3.toml"              // the save-inputs step
	FileRBACExport       = "rbac-export.json"       // rbac.EncodeExport
	FileConversionReport = "conversion-report.json" // convert.Report.JSON
	FilePreflight        = "preflight.json"         // []preflight.Result
	FilePlan             = "plan.json"              // WritePlan
	FileSummaryText      = "summary.txt"            // summary.Summary.WriteText
	FileSummaryJSON      = "summary.json"           // summary.Summary.JSON
	// FileHTML is the report itself.
	FileHTML = "report.html"
	// swarmReportYAML and swarmReportJSON are the Swarm export's report
	// (package swarm's WriteDir, into the run's swarm/ folder).
	swarmReportYAML = "swarm/report.yaml"
	swarmReportJSON = "swarm/report.json"
)

// maxFileBytes bounds what is read of one file: an output folder is
// trusted no more than MKE 3 is, and a report must not exhaust memory.
const maxFileBytes = 64 << 20

// errNotInFolder is wrapped when a file is absent.
var errNotInFolder = errors.New("not in the output folder")

func readFile(dir, name string) ([]byte, error) {
	p := filepath.Join(dir, name)
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", name, errNotInFolder)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", name)
	}
	if fi.Size() > maxFileBytes {
		return nil, fmt.Errorf("%s is %d bytes, more than the %d the report reads", name, fi.Size(), maxFileBytes)
	}
	var b bytes.Buffer
	if _, err := b.ReadFrom(f); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return b.Bytes(), nil
}

// discovery mirrors the parts of discovery.json (upgrade.Shared) read here.
type discovery struct {
	Facts map[string]struct {
		Address string `json:"address"`
		OS      struct {
			ID      string `json:"id"`
			Version string `json:"version"`
			Arch    string `json:"arch"`
		} `json:"os"`
		Hostname   string `json:"hostname"`
		MCRVersion string `json:"mcrVersion"`
		Swarm      struct {
			Role   string `json:"role"`
			Leader bool   `json:"leader"`
		} `json:"swarm"`
		MKEVersion      string `json:"mkeVersion"`
		FreeVarLibBytes uint64 `json:"freeVarLibBytes"`
		CPUs            int    `json:"cpus"`
		MemoryBytes     uint64 `json:"memoryBytes"`
	} `json:"facts"`
	Leader     string            `json:"leader"`
	Managers   []string          `json:"managers"`
	Workers    []string          `json:"workers"`
	MKEVersion string            `json:"mkeVersion"`
	ClusterID  string            `json:"clusterID"`
	MKE3TOML   []byte            `json:"mke3TOML"`
	Profiles   map[string]string `json:"profiles"`
	Config     *struct {
		Spec struct {
			APIServer struct {
				ExternalAddress string `json:"externalAddress"`
			} `json:"apiServer"`
		} `json:"spec"`
	} `json:"config"`
	RBACModel json.RawMessage `json:"rbacModel"`
	Preflight []Check         `json:"preflight"`
}

func readDiscovery(dir string) (*discovery, error) {
	b, err := readFile(dir, FileDiscovery)
	if err != nil {
		return nil, err
	}
	var d discovery
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("%s: %w", FileDiscovery, err)
	}
	return &d, nil
}

// cluster maps discovery.json to the Cluster section.
func (d *discovery) cluster() *Cluster {
	c := &Cluster{MKEVersion: d.MKEVersion, ClusterID: d.ClusterID, Leader: d.Leader, Nodes: []Node{}}
	if d.Config != nil {
		c.ExternalAddress = d.Config.Spec.APIServer.ExternalAddress
	}
	add := func(host, role, target string) {
		f := d.Facts[host]
		n := Node{Host: host, Hostname: f.Hostname, Role: role, Target: target, Leader: host == d.Leader,
			MCRVersion: f.MCRVersion, MKEVersion: f.MKEVersion, CPUs: f.CPUs, MemoryBytes: f.MemoryBytes,
			FreeVarLibBytes: f.FreeVarLibBytes, KubeletProfile: d.Profiles[host]}
		if f.OS.ID != "" {
			n.OS = strings.TrimSpace(f.OS.ID + " " + f.OS.Version + " " + f.OS.Arch)
		}
		c.Nodes = append(c.Nodes, n)
	}
	for _, h := range d.Managers {
		add(h, "manager", "k0s controller+worker")
	}
	for _, h := range d.Workers {
		add(h, "worker", "k0s worker")
	}
	// hosts with facts but neither role (should not happen) still show
	var rest []string
	for h := range d.Facts {
		if !slices.Contains(d.Managers, h) && !slices.Contains(d.Workers, h) {
			rest = append(rest, h)
		}
	}
	sort.Strings(rest)
	for _, h := range rest {
		add(h, d.Facts[h].Swarm.Role, "")
	}
	return c
}

// readPreflight reads preflight.json, or the results saved in
// discovery.json.
func readPreflight(dir string, d *discovery) (*Preflight, error) {
	var checks []Check
	b, err := readFile(dir, FilePreflight)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &checks); err != nil {
			return nil, fmt.Errorf("%s: %w", FilePreflight, err)
		}
	case errors.Is(err, errNotInFolder) && d != nil && d.Preflight != nil:
		checks = d.Preflight
	default:
		return nil, err
	}
	return preflightSection(checks), nil
}

// savedConversion is conversion-report.json as read here, into this
// package's Entry: statuses and bases stay text (convert's are small
// integers that refuse a name they do not know), so that a report written
// by another version, with a status this one does not know, still renders.
type savedConversion struct {
	Entries      []Entry               `json:"entries"`
	MetalLBPools []convert.MetalLBPool `json:"metallbPools"`
}

// readConversion reads conversion-report.json; without it, the report is
// made again from the saved MKE 3 configuration, as the upgrade made it.
func readConversion(dir string, d *discovery) (*Conversion, error) {
	var rep savedConversion
	b, err := readFile(dir, FileConversionReport)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &rep); err != nil {
			return nil, fmt.Errorf("%s: %w", FileConversionReport, err)
		}
	case errors.Is(err, errNotInFolder):
		r, rerr := reconvert(dir, d)
		if rerr != nil {
			return nil, fmt.Errorf("%w, and %w", err, rerr)
		}
		for _, e := range r.Entries {
			rep.Entries = append(rep.Entries, Entry{Key: e.Key, Line: int(e.Line), Flag: e.Flag, Status: e.Status.String(),
				Target: e.Target, Reason: e.Reason, Basis: e.Basis.String()})
		}
		rep.MetalLBPools = r.MetalLBPools
	default:
		return nil, err
	}
	c := &Conversion{Entries: rep.Entries}
	if c.Entries == nil {
		c.Entries = []Entry{}
	}
	counts := map[string]int{}
	for _, e := range rep.Entries {
		counts[e.Status]++
	}
	for _, s := range statusOrder {
		if counts[s] > 0 {
			c.Counts = append(c.Counts, StatusCount{Status: s, Count: counts[s]})
			delete(counts, s)
		}
	}
	for _, s := range sortedKeys(counts) { // statuses this version does not know
		c.Counts = append(c.Counts, StatusCount{Status: s, Count: counts[s]})
	}
	sortEntries(c.Entries)
	for _, p := range rep.MetalLBPools {
		c.MetalLBPools = append(c.MetalLBPools, p.Name+": "+strings.Join(p.Addresses, ", "))
	}
	return c, nil
}

func reconvert(dir string, d *discovery) (*convert.Report, error) {
	toml, err := readFile(dir, FileMKE3TOML)
	if err != nil && d != nil && len(d.MKE3TOML) > 0 {
		toml, err = d.MKE3TOML, nil
	}
	if err != nil {
		return nil, err
	}
	cfg, err := convert.Parse(FileMKE3TOML, toml)
	if err != nil {
		return nil, err
	}
	var o convert.Options
	if d != nil {
		if d.Config != nil {
			o.ExternalAddress = d.Config.Spec.APIServer.ExternalAddress
		}
		for _, h := range append(append([]string{}, d.Managers...), d.Workers...) {
			role := mke4.RoleWorker
			if slices.Contains(d.Managers, h) {
				role = mke4.RoleControllerWorker
			}
			o.Hosts = append(o.Hosts, convert.Host{Host: mke4.Host{Role: role, SSH: &mke4.SSH{Address: d.Facts[h].Address}}})
		}
	}
	if o.ExternalAddress == "" {
		o.ExternalAddress = "mke.example.com" // needed by Convert; not part of the per-key report
	}
	_, rep, err := convert.Convert(cfg, o)
	if err != nil {
		return nil, err
	}
	return &rep, nil
}

// readRBAC reads rbac-export.json (or the model in discovery.json) and
// translates it with the default options, as the upgrade does.
func readRBAC(dir string, d *discovery) (*rbac.Model, error) {
	b, err := readFile(dir, FileRBACExport)
	if errors.Is(err, errNotInFolder) && d != nil && len(d.RBACModel) > 0 && string(d.RBACModel) != "null" {
		b, err = d.RBACModel, nil
	}
	if err != nil {
		return nil, err
	}
	return rbac.DecodeExport(FileRBACExport, b)
}

func rbacSection(m *rbac.Model) (*RBAC, error) {
	objs, rep, err := rbac.Translate(m, rbac.Options{})
	if err != nil {
		return nil, err
	}
	r := &RBAC{Orgs: []Org{}, Objects: []ObjectGroup{}}
	for _, c := range []struct {
		kind string
		c    rbac.Counts
	}{{"users", rep.Users}, {"organizations", rep.Orgs}, {"teams", rep.Teams}, {"roles", rep.Roles}, {"grants", rep.Grants}} {
		r.Counts = append(r.Counts, RBACCount{Kind: c.kind, Found: c.c.Found, Translated: c.c.Translated})
	}
	for _, p := range rep.Problems {
		r.Problems = append(r.Problems, Problem{Severity: string(p.Severity), Subject: p.Subject, Message: p.Message})
	}
	users := map[string]string{}
	for _, u := range m.Users {
		users[u.ID] = u.Name
	}
	names := func(ids []string) []string {
		out := []string{}
		for _, id := range ids {
			if n, ok := users[id]; ok {
				out = append(out, n)
			} else {
				out = append(out, "unknown user "+id)
			}
		}
		sort.Strings(out)
		return out
	}
	byOrg := map[string][]Team{}
	for _, t := range m.Teams {
		byOrg[t.OrgID] = append(byOrg[t.OrgID], Team{Name: t.Name, Members: names(t.Members)})
	}
	for _, o := range m.Orgs {
		ts := byOrg[o.ID]
		if ts == nil {
			ts = []Team{}
		}
		sort.Slice(ts, func(i, j int) bool { return ts[i].Name < ts[j].Name })
		r.Orgs = append(r.Orgs, Org{Name: o.Name, Members: names(o.Members), Teams: ts})
	}
	sort.SliceStable(r.Orgs, func(i, j int) bool { return r.Orgs[i].Name < r.Orgs[j].Name })
	cr := ObjectGroup{Kind: "ClusterRole", Objects: []Object{}}
	for _, o := range objs.ClusterRoles {
		cr.Objects = append(cr.Objects, Object{Name: o.Name, Source: o.Annotations[rbac.AnnotationSource]})
	}
	crb := ObjectGroup{Kind: "ClusterRoleBinding", Objects: []Object{}}
	for _, o := range objs.ClusterRoleBindings {
		crb.Objects = append(crb.Objects, Object{Name: o.Name, Role: o.RoleRef.Name, Subjects: len(o.Subjects), Source: o.Annotations[rbac.AnnotationSource]})
	}
	rb := ObjectGroup{Kind: "RoleBinding", Objects: []Object{}}
	for _, o := range objs.RoleBindings {
		rb.Objects = append(rb.Objects, Object{Name: o.Name, Namespace: o.Namespace, Role: o.RoleRef.Name, Subjects: len(o.Subjects), Source: o.Annotations[rbac.AnnotationSource]})
	}
	r.Objects = append(r.Objects, cr, crb, rb)
	return r, nil
}

// record mirrors one line of journal.jsonl (package upgrade/journal).
type record struct {
	Seq   int       `json:"seq"`
	Time  time.Time `json:"time"`
	Run   string    `json:"run"`
	Step  string    `json:"step"`
	Host  string    `json:"host"`
	Event string    `json:"event"`
	Error string    `json:"error"`
}

// Journal events (package upgrade/journal).
const (
	evRunStart       = "run-start"
	evRunResume      = "run-resume"
	evRunDone        = "run-done"
	evRunFailed      = "run-failed"
	evStepStart      = "start"
	evStepDone       = "done"
	evStepFailed     = "failed"
	evUndoStart      = "undo-start"
	evUndone         = "undone"
	evUndoFailed     = "undo-failed"
	evRollbackStart  = "rollback-start"
	evRollbackDone   = "rollback-done"
	evRollbackFailed = "rollback-failed"
)

// readJournal reads the journal's complete lines. Unlike the engine it
// does not refuse a journal with a bad line: the lines before it are
// shown, and the error says where it stopped.
func readJournal(dir string) ([]record, error) {
	b, err := readFile(dir, FileJournal)
	if err != nil {
		return nil, err
	}
	var rs []record
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var r record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			if !bytes.HasSuffix(b, []byte("\n")) && line == bytes.Count(b, []byte("\n"))+1 {
				break // a torn last line: the writer died mid-write
			}
			return rs, fmt.Errorf("%s line %d: %w (the timeline stops before it)", FileJournal, line, err)
		}
		rs = append(rs, r)
	}
	if err := sc.Err(); err != nil {
		return rs, fmt.Errorf("%s line %d: %w", FileJournal, line+1, err)
	}
	return rs, nil
}

// readPlan reads plan.json (written by WritePlan).
func readPlan(dir string) (*Plan, error) {
	b, err := readFile(dir, FilePlan)
	if err != nil {
		return nil, err
	}
	var p Plan
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("%s: %w", FilePlan, err)
	}
	return &p, nil
}

// readSummary reads summary.txt and the not-converted settings of
// summary.json.
func readSummary(dir string) (*Summary, error) {
	t, err := readFile(dir, FileSummaryText)
	if err != nil {
		return nil, err
	}
	s := &Summary{Text: string(t)}
	if b, err := readFile(dir, FileSummaryJSON); err == nil {
		var j struct {
			Configuration struct {
				NotConverted []Entry `json:"notConverted"`
			} `json:"configuration"`
		}
		if err := json.Unmarshal(b, &j); err != nil {
			return nil, fmt.Errorf("%s: %w", FileSummaryJSON, err)
		}
		s.NotConverted = j.Configuration.NotConverted
	}
	return s, nil
}

// readSwarm reads the Swarm export that the upgrade (or mke-migrate swarm
// export --out) leaves in the swarm/ folder: package swarm's report, in
// YAML or JSON, decoded into local types like the other sources.
func readSwarm(dir string) (*Swarm, error) {
	var b []byte
	var name string
	var err error
	for _, name = range []string{swarmReportYAML, swarmReportJSON} {
		if b, err = readFile(dir, name); err == nil || !errors.Is(err, errNotInFolder) {
			break
		}
	}
	if errors.Is(err, errNotInFolder) {
		return nil, fmt.Errorf("%s: %w", swarmReportYAML, errNotInFolder)
	}
	if err != nil {
		return nil, err
	}
	var rep struct {
		Services []struct {
			Swarm     string `json:"swarm"`
			Namespace string `json:"namespace"`
			Kind      string `json:"kind"`
			Name      string `json:"name"`
			Entries   []struct {
				Attention bool `json:"attention"`
			} `json:"entries"`
		} `json:"services"`
		Networks []struct {
			Swarm string `json:"swarm"`
		} `json:"networks"`
		SecretsToFill []struct {
			Namespace string `json:"namespace"`
			Name      string `json:"name"`
			Key       string `json:"key"`
		} `json:"secretsToFill"`
	}
	if err := yaml.Unmarshal(b, &rep); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	exported := SwarmKind{Kind: "exported services", Names: []string{}}
	attention := SwarmKind{Kind: "services that need a person", Names: []string{}}
	notExported := SwarmKind{Kind: "services not exported", Names: []string{}}
	for _, sv := range rep.Services {
		if sv.Kind != "" {
			exported.Names = append(exported.Names, fmt.Sprintf("%s → %s %s/%s", sv.Swarm, sv.Kind, sv.Namespace, sv.Name))
		} else {
			notExported.Names = append(notExported.Names, sv.Swarm)
		}
		for _, e := range sv.Entries {
			if e.Attention {
				attention.Names = append(attention.Names, sv.Swarm)
				break
			}
		}
	}
	networks := SwarmKind{Kind: "overlay networks (reported, not carried)", Names: []string{}}
	for _, n := range rep.Networks {
		networks.Names = append(networks.Names, n.Swarm)
	}
	secrets := SwarmKind{Kind: "secrets to fill in", Names: []string{}}
	for _, sc := range rep.SecretsToFill {
		secrets.Names = append(secrets.Names, fmt.Sprintf("%s/%s (key %s)", sc.Namespace, sc.Name, sc.Key))
	}
	s := &Swarm{File: name, Kinds: []SwarmKind{}}
	for _, k := range []SwarmKind{exported, attention, notExported, networks, secrets} {
		if len(k.Names) > 0 {
			s.Kinds = append(s.Kinds, k)
		}
	}
	return s, nil
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
