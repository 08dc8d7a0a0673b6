package rbac_test

import (
	"errors"
	"fmt"
	"os"

	"github.com/mke-migrate/mke-migrate/rbac"
)

func ExampleTranslate() {
	m := &rbac.Model{
		Users: []rbac.User{{ID: "u1", Name: "alice", IsActive: true}, {ID: "u2", Name: "bob", IsActive: true}},
		Orgs:  []rbac.Org{{ID: "o1", Name: "Entire Company"}},
		Teams: []rbac.Team{{ID: "t1", OrgID: "o1", Name: "Development", Members: []string{"u1", "u2"}}},
		Roles: []rbac.Role{{ID: "viewonly", Name: "View Only", System: true}},
		Grants: []rbac.Grant{
			{SubjectID: "t1", RoleID: "viewonly", ObjectID: "web", ObjectType: rbac.ObjectNamespace},
		},
	}
	objs, report, err := rbac.Translate(m, rbac.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range objs.ClusterRoles {
		fmt.Println("ClusterRole", r.Name, r.Labels[rbac.LabelKind])
	}
	for _, b := range objs.ClusterRoleBindings {
		fmt.Println("ClusterRoleBinding", b.Name, "->", b.RoleRef.Name, len(b.Subjects), "users")
	}
	for _, b := range objs.RoleBindings {
		fmt.Println("RoleBinding", b.Namespace+"/"+b.Name, "->", b.RoleRef.Name)
	}
	fmt.Println("problems:", len(report.Problems))
	// Output:
	// ClusterRole development-team team
	// ClusterRole entire-company-org org
	// ClusterRole none placeholder
	// ClusterRole view-only swarm-role
	// ClusterRoleBinding development-team -> development-team 2 users
	// ClusterRoleBinding entire-company-org -> entire-company-org 2 users
	// RoleBinding web/development-team:view -> view
	// problems: 0
}

func ExampleTranslate_collision() {
	m := &rbac.Model{
		Orgs:  []rbac.Org{{ID: "o1", Name: "acme"}},
		Teams: []rbac.Team{{ID: "t1", OrgID: "o1", Name: "Dev Ops"}, {ID: "t2", OrgID: "o1", Name: "dev.ops"}},
	}
	_, _, err := rbac.Translate(m, rbac.Options{})
	var ce *rbac.CollisionError
	if errors.As(err, &ce) {
		fmt.Println(err)
	}
	objs, _, err := rbac.Translate(m, rbac.Options{Rename: map[string]string{ce.RenameKey: "devops-2"}})
	fmt.Println(err, objs.ClusterRoles[1].Name, objs.ClusterRoles[2].Name)
	// Output:
	// rbac: team "Dev Ops" (org "acme", id t1) and team "dev.ops" (org "acme", id t2) both become ClusterRole "dev-ops-team"; rename one in MKE 3 or set Options.Rename["team:t2"] to another name
	// <nil> dev-ops-team devops-2-team
}

func ExampleSanitizeName() {
	for _, s := range []string{"Entire Company", "dev.ops", "Équipe ☃", ""} {
		fmt.Printf("%q\n", rbac.SanitizeName(s))
	}
	// Output:
	// "entire-company"
	// "dev-ops"
	// "quipe"
	// "unnamed"
}

func ExampleDecodeExport() {
	_, err := rbac.DecodeExport("rbac.json", []byte(`{
  "apiVersion": "rbac.mke-migrate.io/v1",
  "kind": "MKE3RBACExport",
  "users": [{"id": "u1", "nmae": "alice"}]
}`))
	fmt.Println(err)
	// Output:
	// rbac.json:4:26: users[0].nmae: unknown field "nmae" (names are case-sensitive; the fields here are fullName, id, isActive, isAdmin, name): remove or correct it
}

func ExampleReport_WriteText() {
	m := &rbac.Model{
		Users: []rbac.User{{ID: "u1", Name: "alice", IsActive: true}},
		Orgs:  []rbac.Org{{ID: "o1", Name: "acme"}},
		Teams: []rbac.Team{{ID: "t1", OrgID: "o1", Name: "dev", Members: []string{"u1", "u9"}}},
	}
	_, report, _ := rbac.Translate(m, rbac.Options{})
	_ = report.WriteText(os.Stdout)
	// Output:
	// Users found in the MKE 3 cluster: 1; translated: 1
	// Organizations found in the MKE 3 cluster: 1; translated: 1
	// Teams found in the MKE 3 cluster: 1; translated: 1
	// Swarm roles found in the MKE 3 cluster: 0; translated: 0
	// Grants found in the MKE 3 cluster: 0; translated: 0
	// Problems: 0 errors, 1 warnings, 0 info
	//   warning team "dev" (org "acme", id t1): member u9 is not a known user: left out
}

func ExampleManifests() {
	objs, _, _ := rbac.Translate(&rbac.Model{
		Users: []rbac.User{{ID: "u1", Name: "root", IsAdmin: true, IsActive: true}},
	}, rbac.Options{})
	y, _ := rbac.Manifests(objs, rbac.FormatYAML)
	fmt.Print(string(y))
	// Output:
	// apiVersion: rbac.authorization.k8s.io/v1
	// kind: ClusterRoleBinding
	// metadata:
	//   annotations:
	//     rbac.mke-migrate.io/source: MKE 3 admins
	//   labels:
	//     app.kubernetes.io/managed-by: mke-migrate
	//     rbac.mke-migrate.io/kind: grant
	//   name: mke3-admins
	// roleRef:
	//   apiGroup: rbac.authorization.k8s.io
	//   kind: ClusterRole
	//   name: cluster-admin
	// subjects:
	// - apiGroup: rbac.authorization.k8s.io
	//   kind: User
	//   name: root
}
