// Package fromapi reads the access model of an MKE 3 cluster (users,
// orgs, teams and their members, Swarm roles, collections and grants)
// through the MKE 3 API client (package mke3) into an rbac.Model, which
// package rbac translates. It is kept apart from package rbac so that a
// program that only translates an export needs no MKE 3 client.
//
//	m, err := fromapi.Read(ctx, client, fromapi.Options{Source: host})
//	objs, report, err := rbac.Translate(m, rbac.Options{})
package fromapi
