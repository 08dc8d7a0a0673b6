package report

import "time"

// Section names, the keys of Data.Unavailable and the anchors of the page.
const (
	SectionCluster    = "cluster"
	SectionPreflight  = "preflight"
	SectionConversion = "conversion"
	SectionRBAC       = "rbac"
	SectionPlan       = "plan"
	SectionTimeline   = "timeline"
	SectionSummary    = "summary"
	SectionSwarm      = "swarm"
)

// Outcomes of a run, as Data.Outcome.
const (
	OutcomeDryRun         = "dry-run"         // planned, nothing changed
	OutcomeBlocked        = "blocked"         // a preflight blocker kept the upgrade from starting
	OutcomeUpgraded       = "upgraded"        // the run finished
	OutcomeFailed         = "failed"          // failed and not rolled back (past the point of no return: resume it)
	OutcomeRolledBack     = "rolled-back"     // failed, and every node is back on MKE 3
	OutcomeRollbackFailed = "rollback-failed" // the rollback did not finish: mke-migrate rollback retries it
	OutcomeIncomplete     = "incomplete"      // the journal ends mid-run: the process died or still runs
	OutcomeUnknown        = "unknown"         // neither a journal nor a plan
)

// Data is what the report shows. Every string in it may come from MKE 3,
// its nodes or the files of an output folder and is untrusted: Render
// escapes all of it. A nil section is shown as not available, with its
// reason from Unavailable.
type Data struct {
	// Title heads the page; Folder names the output folder it was made
	// from (as given, for the reader's orientation).
	Title  string `json:"title"`
	Folder string `json:"folder,omitempty"`
	// Generated is when the report was made (UTC).
	Generated time.Time `json:"generated"`
	// Outcome is one of the Outcome* values; OutcomeText says it in a
	// sentence for the banner.
	Outcome     string `json:"outcome"`
	OutcomeText string `json:"outcomeText"`
	// Unavailable says, by Section* name, why a section has no data.
	Unavailable map[string]string `json:"unavailable,omitempty"`

	Cluster    *Cluster    `json:"cluster,omitempty"`
	Preflight  *Preflight  `json:"preflight,omitempty"`
	Conversion *Conversion `json:"conversion,omitempty"`
	RBAC       *RBAC       `json:"rbac,omitempty"`
	Plan       *Plan       `json:"plan,omitempty"`
	Timeline   *Timeline   `json:"timeline,omitempty"`
	Summary    *Summary    `json:"summary,omitempty"`
	Swarm      *Swarm      `json:"swarm,omitempty"`
}

// Cluster is the MKE 3 cluster as discovered before the upgrade.
type Cluster struct {
	MKEVersion string `json:"mkeVersion"`
	ClusterID  string `json:"clusterID,omitempty"`
	Leader     string `json:"leader,omitempty"`
	// ExternalAddress is the MKE 4k load balancer (spec.apiServer).
	ExternalAddress string `json:"externalAddress,omitempty"`
	Nodes           []Node `json:"nodes"`
}

// Node is one host and its facts.
type Node struct {
	Host     string `json:"host"` // address:port, as the upgrade names it
	Hostname string `json:"hostname,omitempty"`
	// Role is manager or worker (MKE 3); Target what it becomes in MKE 4k.
	Role   string `json:"role"`
	Leader bool   `json:"leader,omitempty"`
	Target string `json:"target"`
	OS     string `json:"os,omitempty"`
	// MCRVersion and MKEVersion as the node reports them.
	MCRVersion      string `json:"mcrVersion,omitempty"`
	MKEVersion      string `json:"mkeVersion,omitempty"`
	CPUs            int    `json:"cpus,omitempty"`
	MemoryBytes     uint64 `json:"memoryBytes,omitempty"`
	FreeVarLibBytes uint64 `json:"freeVarLibBytes,omitempty"`
	// KubeletProfile is the MKE 3 kubelet profile the node keeps, if any.
	KubeletProfile string `json:"kubeletProfile,omitempty"`
}

// Preflight are the pre-upgrade checks, most severe first.
type Preflight struct {
	// Counts by severity: blocker, warning, info, skipped.
	Counts map[string]int `json:"counts"`
	Checks []Check        `json:"checks"`
}

// Check is one preflight finding.
type Check struct {
	ID       string `json:"id"`
	Severity string `json:"severity"`
	Host     string `json:"host,omitempty"` // "" = the whole cluster
	Message  string `json:"message"`
	Remedy   string `json:"remedy,omitempty"`
}

// Conversion is the per-key report of the MKE 3 → mke4.yaml conversion.
type Conversion struct {
	// Counts by status, most urgent first, statuses with no entry left out.
	Counts  []StatusCount `json:"counts"`
	Entries []Entry       `json:"entries"`
	// MetalLBPools are the MKE 3 address pools to recreate by hand.
	MetalLBPools []string `json:"metallbPools,omitempty"`
}

// StatusCount is the number of conversion entries of one status.
type StatusCount struct {
	Status string `json:"status"`
	Count  int    `json:"count"`
}

// Entry is the fate of one MKE 3 key (or one flag of a list key).
type Entry struct {
	Key    string `json:"key"`
	Line   int    `json:"line,omitempty"`
	Flag   string `json:"flag,omitempty"`
	Status string `json:"status"`
	Target string `json:"target,omitempty"`
	Reason string `json:"reason,omitempty"`
	Basis  string `json:"basis,omitempty"`
}

// RBAC is the translation of MKE 3 accounts and grants to Kubernetes RBAC.
type RBAC struct {
	// State is "applied", "not-applied" or "left-out", with StateText the
	// sentence shown.
	State     string `json:"state"`
	StateText string `json:"stateText"`
	// Counts are found and translated per kind of MKE 3 object.
	Counts []RBACCount `json:"counts"`
	// Orgs is the tree orgs → teams → users of MKE 3.
	Orgs []Org `json:"orgs"`
	// Objects are the roles and bindings made, by kind.
	Objects  []ObjectGroup `json:"objects"`
	Problems []Problem     `json:"problems,omitempty"`
}

// RBACCount is found/translated of one kind (users, orgs, teams, roles, grants).
type RBACCount struct {
	Kind       string `json:"kind"`
	Found      int    `json:"found"`
	Translated int    `json:"translated"`
}

// Org is an MKE 3 organization with its teams.
type Org struct {
	Name    string   `json:"name"`
	Members []string `json:"members"`
	Teams   []Team   `json:"teams"`
}

// Team is an MKE 3 team with its members' user names.
type Team struct {
	Name    string   `json:"name"`
	Members []string `json:"members"`
}

// ObjectGroup are the objects of one Kubernetes kind made by the translation.
type ObjectGroup struct {
	Kind    string   `json:"kind"`
	Objects []Object `json:"objects"`
}

// Object is one ClusterRole, ClusterRoleBinding or RoleBinding.
type Object struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
	// Role is the role a binding refers to; Subjects counts its subjects.
	Role     string `json:"role,omitempty"`
	Subjects int    `json:"subjects,omitempty"`
	// Source is the MKE 3 object it was made from.
	Source string `json:"source,omitempty"`
}

// Problem is something the RBAC translation reports for review.
type Problem struct {
	Severity string `json:"severity"`
	Subject  string `json:"subject"`
	Message  string `json:"message"`
}

// Plan is the upgrade's steps in stages. Stages run one after the other;
// the lanes of a stage at the same time.
type Plan struct {
	Stages []Stage `json:"stages"`
	// Steps is the number of steps; Estimate the sum of the stages'
	// estimates (see EstimateStep: rough upper bounds, not measurements).
	Steps    int      `json:"steps"`
	Estimate Duration `json:"estimate"`
}

// Stage is a set of lanes run at once.
type Stage struct {
	Name  string     `json:"name"`
	Phase string     `json:"phase"`
	Steps []PlanStep `json:"steps"`
	// Lanes is the number of lanes (hosts worked on at once).
	Lanes int `json:"lanes"`
	// PointOfNoReturn: a step of the stage is the point of no return.
	PointOfNoReturn bool `json:"pointOfNoReturn,omitempty"`
	// Estimate is the longest lane's estimate; Took the stage's real
	// duration when a run's journal has it (0 otherwise).
	Estimate Duration `json:"estimate"`
	Took     Duration `json:"took,omitempty"`
}

// PlanStep is one step of the plan.
type PlanStep struct {
	Name    string `json:"name"`
	Host    string `json:"host,omitempty"`
	Lane    int    `json:"lane"`
	Changes string `json:"changes"`
	// PointOfNoReturn: from this step on a failure is finished by resume,
	// not rolled back. Undo says whether the step has an undo.
	PointOfNoReturn bool `json:"pointOfNoReturn,omitempty"`
	Undo            bool `json:"undo"`
	// Status is the step's last journal event after a run ("" before).
	Status string `json:"status,omitempty"`
}

// Timeline is what a run did, from its journal.
type Timeline struct {
	Run   string    `json:"run"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Hosts has one row per host ("" for the steps not about one host,
	// shown as "cluster"), in order of first appearance.
	Hosts []HostRow `json:"hosts"`
	// Events are the run-level events (start, resume, failure, rollback).
	Events []RunEvent `json:"events"`
	// Failures are the steps and undos that failed, in journal order.
	Failures []Failure `json:"failures,omitempty"`
	// RollbackStart is when the rollback began (zero: none).
	RollbackStart time.Time `json:"rollbackStart,omitzero"`
}

// HostRow is one host's bars.
type HostRow struct {
	Host string `json:"host"`
	Bars []Bar  `json:"bars"`
}

// Bar is one step, or one undo, on one host.
type Bar struct {
	Step  string    `json:"step"`
	Undo  bool      `json:"undo,omitempty"`
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Status is done, failed, undone, undo-failed or running (no end
	// recorded: the process died or the journal was cut).
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// RunEvent is a run-level journal event.
type RunEvent struct {
	Time  time.Time `json:"time"`
	Event string    `json:"event"`
	Error string    `json:"error,omitempty"`
}

// Failure is a step or undo that failed.
type Failure struct {
	Time  time.Time `json:"time"`
	Step  string    `json:"step"`
	Host  string    `json:"host,omitempty"`
	Undo  bool      `json:"undo,omitempty"`
	Error string    `json:"error"`
}

// Summary is the upgrade summary as the run saved it.
type Summary struct {
	// Text is summary.txt, shown as it is.
	Text string `json:"text"`
	// NotConverted are the settings whose value did not reach MKE 4k.
	NotConverted []Entry `json:"notConverted,omitempty"`
}

// Swarm is the export of the Swarm workloads, when the output folder has
// one.
type Swarm struct {
	File string `json:"file"`
	// Kinds are the exported kinds (services, networks, ...) with their
	// item names.
	Kinds []SwarmKind `json:"kinds"`
}

// SwarmKind is one kind of Swarm object in the export.
type SwarmKind struct {
	Kind  string   `json:"kind"`
	Names []string `json:"names"`
}
