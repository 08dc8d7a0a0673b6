// Package mke3api simulates the MKE 3.7/3.8 manager API subset that
// mke-migrate reads (docs/mke3-api.md is the contract), so that the mke3
// client, and any third-party tool, can be tested without a cluster.
//
// # Serving
//
// New builds a Server (an http.Handler) from Options; Start also serves it
// over HTTPS on a loopback port with a fresh CA and returns the URL, the CA
// PEM and the certificate fingerprints. Running.Client gives an
// *http.Client that trusts that CA.
//
//	sim, err := mke3api.Start(mke3api.Options{Seed: seed})
//	...
//	defer sim.Close()
//
// # Content
//
// A Seed describes the cluster: version, admin credentials, users, orgs
// with teams and members, Swarm roles, collections and grants, the LDAP
// settings, the initial configuration TOML and the Docker Swarm content. LoadSeed reads one from YAML
// strictly (errors name file and line, as *SeedError); GenerateSeed builds
// large deterministic ones for load tests. IDs left empty are derived from
// names (AccountID, TeamID), so tests can predict them.
//
// # Behaviour
//
//   - POST /auth/login issues a random bearer token valid for
//     Options.TokenTTL by the Options.Now clock; ExpireTokens ends every
//     session at once. Every other endpoint but GET /_ping wants the token
//     (401 UNAUTHORIZED otherwise). Users who are not admins get 403
//     NOT_AUTHORIZED everywhere except /version and /api/clientbundle.
//   - Lists are sorted by their start key (account name, team name, member
//     account ID, collection ID; grants by subject, object and role ID), start
//     is inclusive, and the next start comes in X-Next-Page-Start (absent on
//     the last page) and, for eNZi lists, in nextPageStart. Without limit a
//     page has Options.PageSize items; limit outside 1..65536 is 400
//     INVALID_INPUT.
//   - PUT /api/ucp/config-toml stores a TOML that parses, answers the
//     calico_kdd false → true switch with the KDD upgrade message, and
//     refuses true → false and unparsable TOML with 400 INVALID_CONFIG.
//   - GET or POST /api/clientbundle returns a zip with ca.pem, cert.pem,
//     key.pem, cert.pub, kube.yml and env.sh, the certificate signed by the
//     simulator's CA (Options.CA; NewCAFrom takes a cluster's own) for the
//     logged-in user, with Options.BundleAdminGroups as its groups for an
//     admin; kube.yml's server is Options.BundleKubeAPI.
//   - GET /services, /tasks, /configs, /secrets, /networks, /volumes and
//     /nodes (also under a /v1.NN/ prefix, refused above 1.41 or below 1.12
//     as dockerd refuses it) serve Seed.Swarm, DefaultSwarm when nil, in
//     Docker Engine API shapes, to admins only; secrets never carry Data.
//   - Unknown paths answer 404 (code NOT_FOUND) and known paths with
//     another method 405 (code METHOD_NOT_ALLOWED, with an Allow header),
//     both before authentication and in the error envelope.
//
// # Faults
//
// SetFault injects, per method and path pattern, an error status, latency,
// a malformed 200 body, a dropped connection or a repeating page start,
// for all or only the first n matching requests. Stats counts requests per
// path, logins and rejections.
//
// # Secrets
//
// Passwords, tokens and private keys are never logged; the seeded LDAP
// readerPassword is never served. Certificates are valid by the wall clock
// whatever Options.Now says, because TLS peers check them against theirs.
package mke3api
