package main

import (
	"path/filepath"

	"github.com/mke-migrate/mke-migrate/rbac"
	"github.com/mke-migrate/mke-migrate/summary"
	"github.com/mke-migrate/mke-migrate/swarm"
	"github.com/mke-migrate/mke-migrate/upgrade"
)

// summaryRBAC is the part of an RBAC report that the summary prints.
func summaryRBAC(r *rbac.Report) *summary.RBAC {
	if r == nil {
		return nil
	}
	return &summary.RBAC{UsersFound: r.Users.Found, UsersMigrated: r.Users.Translated, OrgsFound: r.Orgs.Found,
		OrgsTranslated: r.Orgs.Translated, TeamsFound: r.Teams.Found, TeamsTranslated: r.Teams.Translated}
}

// summarySwarm is the Swarm export the run left in its output folder, read
// back from the folder so that a resumed run's summary has it too; nil
// when there is none (a dry run, --skip-swarm-export, or no run folder).
func summarySwarm(outputDir string) *summary.Swarm {
	if outputDir == "" {
		return nil
	}
	dir := filepath.Join(outputDir, upgrade.SwarmDir)
	rep, err := swarm.ReadReport(dir)
	if err != nil {
		return nil
	}
	n, exported, attention := rep.Counts()
	return &summary.Swarm{Services: n, Exported: exported, NeedAttention: attention, Dir: dir}
}
