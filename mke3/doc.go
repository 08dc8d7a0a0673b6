// Package mke3 is a client for the part of the Mirantis Kubernetes Engine 3
// (3.7, 3.8) API that a migration to MKE 4k reads: version and health, the
// configuration TOML, eNZi accounts, teams, members and LDAP settings, Swarm
// roles, collections and grants, and the client bundle. The wire contract is
// docs/mke3-api.md.
//
//	c, err := mke3.New(mke3.Options{
//		Host:      "mke.example.com",
//		Username:  "admin",
//		Password:  password,
//		CACertPEM: caPEM, // or CAFingerprint, or the system pool
//		Logger:    logger,
//	})
//	for acct, err := range c.Accounts(ctx, mke3.AccountsUsers) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(acct.Name)
//	}
//
// # Sessions
//
// New does no I/O. The first call that needs a session logs in (POST
// /auth/login) and keeps the token in memory; concurrent calls share one
// login. When a call gets 401, the client logs in once more and sends the
// call again; a second 401 is returned (errors.Is(err, ErrUnauthorized)).
//
// # Secrets
//
// The password and the session tokens never appear in URLs, errors or logs:
// requests carry the token in the Authorization header only, errors name the
// method and path (never the query string, headers or bodies), and text a
// server puts in its error envelope is cleaned of the client's secrets
// before it becomes part of an error. The client bundle's key is kept in
// memory and left out when a Bundle is printed or logged.
//
// # Trust
//
// The server certificate is verified against the system pool, or against
// Options.CACertPEM, or matched to Options.CAFingerprint, or not at all when
// Options.Insecure is set explicitly (a warning is logged). An untrusted
// certificate gives a *CertificateError that prints its SHA-256 fingerprint
// and how to trust it.
//
// # Lists
//
// Paged lists are iterators (iter.Seq2[T, error]) that follow
// X-Next-Page-Start, or the body's nextPageStart when the header is absent,
// until it is empty; they fetch a page only when the consumer needs it, and
// stop when it breaks. The List* methods collect everything or return the
// error. A server that sends a page start twice, or two empty pages in a row
// that still point further, ends the list with an error wrapping
// ErrRepeatedPage.
//
// # Retries
//
// Calls are retried on 429, 5xx and transport errors, up to
// Options.Retry.Attempts with exponential backoff and jitter, honouring
// Retry-After up to Retry.Max (a longer Retry-After ends the retries). The
// context bounds everything: retries stop as soon as it is done. The
// configuration PUT is sent again only when a transport error shows it never
// left the client.
//
// # Decisions where docs/mke3-api.md is silent
//
//   - Host: only https; a path prefix, user information, query or fragment
//     is refused. Redirects are never followed (the session must not travel
//     to another host or to plain http); a 3xx answer is an *APIError.
//   - GET /version is sent with the session token; GET /_ping without.
//   - An error answer without the envelope gives an *APIError with empty Code
//     and Message (the status text is printed); a Docker-style body
//     {"message": "..."} (the Swarm endpoints) fills Message. Error bodies
//     are never quoted. Codes and messages are cleaned of control characters
//     and cut at 512 bytes.
//   - Size limits: 64 MiB for an answer, 1 MiB read of an error answer, 16
//     MiB for the client bundle zip, 1 MiB per file read from it (4 MiB in
//     all), 256 entries.
//   - A list page without its list field ("accounts", "teams", "members",
//     "grants") is a decoding error; a null list is an empty page. The
//     X-Next-Page-Start header, when present, wins over the body even when
//     empty.
//   - Grants: subjects that appear on several pages are kept once (by ID).
//   - PutConfigTOML refuses empty TOML (MKE would reset every setting), and
//     an empty 2xx body gives an empty message.
//   - POST /api/clientbundle is retried like a read: a repeated POST only
//     leaves one more unused key pair in MKE.
//   - The client bundle is refused as a whole when any entry name is
//     absolute or has "..", a backslash or a drive letter, when ca.pem,
//     cert.pem or key.pem is missing, duplicated or not a regular file, or
//     when the certificate does not match the key. Files are expected at the
//     top level of the zip, as MKE writes them.
//   - Bundle.RESTConfig refuses a kube.yml that runs commands (exec,
//     auth-provider), reads a token file, or names local files other than
//     the bundle's ca.pem, cert.pem and key.pem. Without kube.yml, it uses
//     Bundle.Server, set by ClientBundle to https://<host>:6443.
//   - A CAFingerprint that matches the leaf trusts the server as is; one
//     that matches a CA of the presented chain requires the leaf to be
//     signed by it and valid for the host name, so that appending a public
//     CA certificate to an unrelated chain does not pass; a server that
//     does not send its CA can only be pinned by its own certificate (the
//     error says so). CAFingerprint and
//     CACertPEM are alternatives, and neither combines with Insecure; none
//     of the three can be applied to an HTTPClient whose Transport is not an
//     *http.Transport, so New refuses that combination.
//   - Retry-After longer than Retry.Max ends the retries with the last
//     error, rather than sleeping longer than Max or ignoring the server.
//   - A 401 answer triggers the re-login without using up an attempt.
package mke3
