package rbac

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// generateModel builds a deterministic model of the given size: every user
// in 1–5 teams, every team with 2–20 members (repeats within a team
// dropped), a third of the team names shared by all orgs (so they are
// qualified), 1% admins, 2% inactive users, and 3 grants per 5 teams on
// namespaces, all namespaces and collections, some with custom roles.
func generateModel(users, orgs, teams int, seed uint64) *Model {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	m := &Model{APIVersion: ExportAPIVersion, Kind: ExportKind, Source: "generated"}
	for i := range users {
		m.Users = append(m.Users, User{ID: fmt.Sprintf("u%06d", i), Name: fmt.Sprintf("user%05d", i),
			IsAdmin: i%100 == 0, IsActive: i%50 != 7})
	}
	for i := range orgs {
		m.Orgs = append(m.Orgs, Org{ID: fmt.Sprintf("o%05d", i), Name: fmt.Sprintf("Org %04d", i)})
	}
	// Membership slots: each user 1–5 times, dealt to teams so that each
	// team gets 2 first and then at most 20.
	var slots []string
	for _, u := range m.Users {
		for range 1 + r.IntN(5) {
			slots = append(slots, u.ID)
		}
	}
	r.Shuffle(len(slots), func(i, j int) { slots[i], slots[j] = slots[j], slots[i] })
	members := make([][]string, teams)
	for i := range members {
		for range 2 {
			if len(slots) > 0 {
				members[i] = append(members[i], slots[0])
				slots = slots[1:]
			}
		}
	}
	for _, s := range slots {
		for tries := 0; tries < 10; tries++ {
			if t := r.IntN(teams); len(members[t]) < 20 {
				members[t] = append(members[t], s)
				break
			}
		}
	}
	for i := range teams {
		o, j := i%orgs, i/orgs
		name := fmt.Sprintf("squad %d-%d", o, j)
		if i%3 == 0 {
			name = fmt.Sprintf("Team %d", j)
		}
		m.Teams = append(m.Teams, Team{ID: fmt.Sprintf("t%06d", i), OrgID: m.Orgs[o].ID, Name: name, Members: members[i]})
	}
	m.Roles = []Role{{ID: "none", Name: "None", System: true}, {ID: "viewonly", Name: "View Only", System: true},
		{ID: "restrictedcontrol", Name: "Restricted Control", System: true}, {ID: "scheduler", Name: "Scheduler", System: true},
		{ID: "fullcontrol", Name: "Full Control", System: true}}
	for i := range 10 {
		m.Roles = append(m.Roles, Role{ID: fmt.Sprintf("custom-%d", i), Name: fmt.Sprintf("Custom Role %d", i)})
	}
	m.Collections = []Collection{{ID: "swarm", Path: "/"}, {ID: "shared", Path: "/Shared"}, {ID: "system", Path: "/System"}}
	for range teams * 3 / 5 {
		var g Grant
		switch p := r.IntN(100); {
		case p < 60:
			g.SubjectID = m.Teams[r.IntN(teams)].ID
		case p < 85:
			g.SubjectID = m.Orgs[r.IntN(orgs)].ID
		default:
			g.SubjectID = m.Users[r.IntN(users)].ID
		}
		g.RoleID = m.Roles[r.IntN(len(m.Roles))].ID
		switch p := r.IntN(100); {
		case p < 70:
			g.ObjectType, g.ObjectID = ObjectNamespace, fmt.Sprintf("ns-%03d", r.IntN(200))
		case p < 80:
			g.ObjectType, g.ObjectID = ObjectAllNamespaces, AllNamespacesObjectID
		default:
			g.ObjectType, g.ObjectID = ObjectCollection, m.Collections[r.IntN(len(m.Collections))].ID
		}
		m.Grants = append(m.Grants, g)
	}
	return m
}

func BenchmarkTranslate(b *testing.B) {
	m := generateModel(10000, 1000, 5000, 1)
	b.ReportAllocs()
	var objs *Objects
	for b.Loop() {
		var err error
		objs, _, err = Translate(m, Options{})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(objs.Len()), "objects")
}
