package main

import (
	"github.com/mke-migrate/mke-migrate/rbac"
	"github.com/mke-migrate/mke-migrate/summary"
)

// summaryRBAC is the part of an RBAC report that the summary prints.
func summaryRBAC(r *rbac.Report) *summary.RBAC {
	if r == nil {
		return nil
	}
	return &summary.RBAC{UsersFound: r.Users.Found, UsersMigrated: r.Users.Translated, OrgsFound: r.Orgs.Found,
		OrgsTranslated: r.Orgs.Translated, TeamsFound: r.Teams.Found, TeamsTranslated: r.Teams.Translated}
}
