package kube_test

import (
	"fmt"
	"testing"

	"github.com/mke-migrate/mke-migrate/rbac"
	"github.com/mke-migrate/mke-migrate/rbac/kube"
)

// benchModel is orgs orgs of teamsPerOrg teams of 5 users each, every team
// with one namespace grant.
func benchModel(prefix string, orgs, teamsPerOrg int) *rbac.Model {
	m := &rbac.Model{APIVersion: rbac.ExportAPIVersion, Kind: rbac.ExportKind,
		Roles: []rbac.Role{{ID: "viewonly", Name: "View Only", System: true}}}
	u := 0
	for o := range orgs {
		oid := fmt.Sprintf("%s-o%d", prefix, o)
		m.Orgs = append(m.Orgs, rbac.Org{ID: oid, Name: oid})
		for t := range teamsPerOrg {
			tid := fmt.Sprintf("%s-t%d", oid, t)
			team := rbac.Team{ID: tid, OrgID: oid, Name: tid}
			for range 5 {
				uid := fmt.Sprintf("%s-u%d", prefix, u)
				u++
				m.Users = append(m.Users, rbac.User{ID: uid, Name: uid, IsActive: true})
				team.Members = append(team.Members, uid)
			}
			m.Teams = append(m.Teams, team)
			m.Grants = append(m.Grants, rbac.Grant{SubjectID: tid, RoleID: "viewonly", ObjectID: "bench-ns", ObjectType: rbac.ObjectNamespace})
		}
	}
	return m
}

// BenchmarkApply applies a translated tree of 20 orgs x 25 teams (about
// 1 500 objects) to the real API server, then applies it again: the second
// apply must write nothing.
//
//	go test ./rbac -run '^$' -bench BenchmarkApply -benchtime 3x
func BenchmarkApply(b *testing.B) {
	cs := client(b)
	namespace(b, cs, "bench-ns")
	i := 0
	for b.Loop() {
		b.StopTimer()
		objs, _, err := rbac.Translate(benchModel(fmt.Sprintf("b%d", i), 20, 25), rbac.Options{SkipAdmins: true})
		if err != nil {
			b.Fatal(err)
		}
		i++
		b.StartTimer()
		res, err := kube.Apply(b.Context(), cs, objs, kube.ApplyOptions{Concurrency: 16})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if len(res.Created) != objs.Len()-1 && len(res.Created) != objs.Len() { // "none" may exist already
			b.Fatalf("created %d of %d", len(res.Created), objs.Len())
		}
		again, err := kube.Apply(b.Context(), cs, objs, kube.ApplyOptions{Concurrency: 16})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(objs.Len()), "objects/op")
		b.ReportMetric(float64(len(again.Created)+len(again.Updated)), "writes-on-reapply")
		if _, err := kube.Delete(b.Context(), cs, rbac.Select(objs, res.Created), kube.DeleteOptions{Concurrency: 16}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
