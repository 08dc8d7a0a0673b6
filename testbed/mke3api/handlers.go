package mke3api

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
)

type access int

const (
	public    access = iota // no token (login, ping)
	anyUser                 // any logged-in user
	adminOnly               // logged-in admins; others get 403 NOT_AUTHORIZED
)

type handler func(s *Server, w http.ResponseWriter, c *call)

// routeDef is one endpoint. In pattern, "*" is a path parameter.
type routeDef struct {
	pattern []string
	access  access
	methods map[string]handler
}

// routes is the endpoint table of docs/mke3-api.md. Everything that lists
// or reads cluster-wide content is admin-only, as in MKE, where the
// migration tool is expected to run as an admin; /version and the user's
// own client bundle are open to every user.
func routes() []routeDef {
	get := func(h handler) map[string]handler { return map[string]handler{http.MethodGet: h} }
	return []routeDef{
		{[]string{"_ping"}, public, map[string]handler{http.MethodGet: (*Server).ping, http.MethodHead: (*Server).ping}},
		{[]string{"auth", "login"}, public, map[string]handler{http.MethodPost: (*Server).login}},
		{[]string{"version"}, anyUser, get((*Server).versionInfo)},
		{[]string{"api", "ucp", "config-toml"}, adminOnly, map[string]handler{http.MethodGet: (*Server).getConfigTOML, http.MethodPut: (*Server).putConfigTOML}},
		{[]string{"api", "clientbundle"}, anyUser, map[string]handler{http.MethodGet: (*Server).clientBundle, http.MethodPost: (*Server).clientBundle}},
		{[]string{"enzi", "v0", "accounts"}, adminOnly, get((*Server).listAccounts)},
		{[]string{"enzi", "v0", "accounts", "*"}, adminOnly, get((*Server).getAccount)},
		{[]string{"enzi", "v0", "accounts", "*", "teams"}, adminOnly, get((*Server).listTeams)},
		{[]string{"enzi", "v0", "accounts", "*", "teams", "*"}, adminOnly, get((*Server).getTeam)},
		{[]string{"enzi", "v0", "accounts", "*", "teams", "*", "members"}, adminOnly, get((*Server).listMembers)},
		{[]string{"enzi", "v0", "config", "auth", "ldap"}, adminOnly, get((*Server).getLDAP)},
		{[]string{"roles"}, adminOnly, get((*Server).listRoles)},
		{[]string{"collections"}, adminOnly, get((*Server).listCollections)},
		{[]string{"collectionGrants"}, adminOnly, get((*Server).listGrants)},
		// The Docker Engine API lists MKE 3 serves to admins (swarm.go).
		{[]string{"services"}, adminOnly, get(engineList("services"))},
		{[]string{"tasks"}, adminOnly, get(engineList("tasks"))},
		{[]string{"configs"}, adminOnly, get(engineList("configs"))},
		{[]string{"secrets"}, adminOnly, get(engineList("secrets"))},
		{[]string{"networks"}, adminOnly, get(engineList("networks"))},
		{[]string{"volumes"}, adminOnly, get(engineList("volumes"))},
		{[]string{"nodes"}, adminOnly, get(engineList("nodes"))},
	}
}

// route finds the endpoint of a URL and its unescaped path parameters.
// Segments are split before unescaping so that an escaped "/" in a name
// stays inside its segment.
func (s *Server) route(u *url.URL) (routeDef, []string, bool) {
	raw := u.EscapedPath()
	if !strings.HasPrefix(raw, "/") {
		return routeDef{}, nil, false
	}
	segs := strings.Split(raw[1:], "/")
	for _, rt := range s.routes {
		if len(rt.pattern) != len(segs) {
			continue
		}
		var params []string
		matched := true
		for i, p := range rt.pattern {
			seg, err := url.PathUnescape(segs[i])
			if err != nil || (p == "*" && seg == "") || (p != "*" && p != seg) {
				matched = false
				break
			}
			if p == "*" {
				params = append(params, seg)
			}
		}
		if matched {
			return rt, params, true
		}
	}
	return routeDef{}, nil, false
}

func (s *Server) ping(w http.ResponseWriter, _ *call) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", "2")
	_, _ = io.WriteString(w, "OK")
}

// versionJSON is Docker's /version shape, which MKE's controller answers
// with its own version in Version.
type versionJSON struct {
	Platform      struct{ Name string } `json:"Platform"`
	Version       string                `json:"Version"`
	APIVersion    string                `json:"ApiVersion"`
	MinAPIVersion string                `json:"MinAPIVersion"`
	GitCommit     string                `json:"GitCommit"`
	GoVersion     string                `json:"GoVersion"`
	Os            string                `json:"Os"`
	Arch          string                `json:"Arch"`
	KernelVersion string                `json:"KernelVersion"`
	BuildTime     string                `json:"BuildTime"`
}

func (s *Server) versionInfo(w http.ResponseWriter, _ *call) {
	var v versionJSON
	v.Platform.Name = "Mirantis Kubernetes Engine (simulated)"
	v.Version = "ucp/" + s.version
	v.APIVersion, v.MinAPIVersion = "1.41", "1.12"
	v.GitCommit, v.GoVersion = "mke3api", runtime.Version()
	v.Os, v.Arch, v.KernelVersion = "linux", "amd64", "simulated"
	v.BuildTime = "2025-01-01T00:00:00Z"
	writeJSON(w, http.StatusOK, v)
}

// pageParams reads start and limit. A missing limit means the server's
// page size; a limit that is not an integer in 1..MaxLimit is refused.
func (s *Server) pageParams(w http.ResponseWriter, c *call) (start string, limit int, ok bool) {
	q := c.r.URL.Query()
	limit = s.pageSize
	if v, present := q["limit"]; present {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 1 || n > MaxLimit {
			writeError(w, http.StatusBadRequest, codeInvalidInput, fmt.Sprintf("limit must be an integer from 1 to %d, got %q", MaxLimit, v[0]))
			return "", 0, false
		}
		limit = n
	}
	return q.Get("start"), limit, true
}

// setNext sets X-Next-Page-Start; it is absent on the last page.
func setNext(w http.ResponseWriter, next string) {
	if next != "" {
		w.Header().Set("X-Next-Page-Start", next)
	}
}

func (s *Server) listAccounts(w http.ResponseWriter, c *call) {
	filter := c.r.URL.Query().Get("filter")
	if filter == "" {
		filter = "all"
	}
	list, ok := s.m.filtered[filter]
	if !ok {
		writeError(w, http.StatusBadRequest, codeInvalidInput, fmt.Sprintf("unknown filter %q; one of %s", filter, strings.Join(accountFilterNames(), ", ")))
		return
	}
	start, limit, ok := s.pageParams(w, c)
	if !ok {
		return
	}
	page, next := paginate(list.items, func(a *account) string { return a.json.Name }, start, limit, nil, c.repeatStart)
	// Assembled from the pre-encoded accounts; the shape is
	// {"accounts":[...],"nextPageStart":...,"usersCount":n,"orgsCount":n,"resourceCount":n}.
	size := 128 + len(next)
	for _, a := range page {
		size += len(a.raw) + 1
	}
	body := make([]byte, 0, size)
	body = append(body, `{"accounts":[`...)
	for i, a := range page {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, a.raw...)
	}
	nextJSON, _ := json.Marshal(next) // a string cannot fail
	body = append(body, `],"nextPageStart":`...)
	body = append(body, nextJSON...)
	body = fmt.Appendf(body, `,"usersCount":%d,"orgsCount":%d,"resourceCount":%d}`+"\n", list.users, list.orgs, len(list.items))
	setNext(w, next)
	writeRawJSON(w, http.StatusOK, body)
}

func (s *Server) getAccount(w http.ResponseWriter, c *call) {
	a := s.m.lookup(c.params[0])
	if a == nil {
		writeError(w, http.StatusNotFound, codeNoSuchAccount, fmt.Sprintf("no account %q", c.params[0]))
		return
	}
	writeJSON(w, http.StatusOK, &a.json)
}

// org resolves the org of a teams path, answering 404 itself when absent.
func (s *Server) org(w http.ResponseWriter, c *call) *account {
	a := s.m.lookup(c.params[0])
	if a == nil || !a.json.IsOrg {
		writeError(w, http.StatusNotFound, codeNoSuchAccount, fmt.Sprintf("no organization %q", c.params[0]))
		return nil
	}
	return a
}

type teamsPage struct {
	Teams         []*teamJSON `json:"teams"`
	NextPageStart string      `json:"nextPageStart"`
}

func (s *Server) listTeams(w http.ResponseWriter, c *call) {
	org := s.org(w, c)
	if org == nil {
		return
	}
	start, limit, ok := s.pageParams(w, c)
	if !ok {
		return
	}
	page, next := paginate(org.teams, func(t *team) string { return t.json.Name }, start, limit, nil, c.repeatStart)
	out := teamsPage{Teams: make([]*teamJSON, len(page)), NextPageStart: next}
	for i, t := range page {
		out.Teams[i] = &t.json
	}
	setNext(w, next)
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) team(w http.ResponseWriter, c *call) *team {
	org := s.org(w, c)
	if org == nil {
		return nil
	}
	t := org.lookupTeam(c.params[1])
	if t == nil {
		writeError(w, http.StatusNotFound, codeNoSuchTeam, fmt.Sprintf("no team %q in organization %q", c.params[1], org.json.Name))
	}
	return t
}

func (s *Server) getTeam(w http.ResponseWriter, c *call) {
	if t := s.team(w, c); t != nil {
		writeJSON(w, http.StatusOK, &t.json)
	}
}

type membersPage struct {
	Members       []memberJSON `json:"members"`
	NextPageStart string       `json:"nextPageStart"`
}

func (s *Server) listMembers(w http.ResponseWriter, c *call) {
	t := s.team(w, c)
	if t == nil {
		return
	}
	var keep func(memberJSON) bool
	switch f := c.r.URL.Query().Get("filter"); f {
	case "", "all":
	case "admins":
		keep = func(m memberJSON) bool { return m.IsAdmin }
	case "non-admins":
		keep = func(m memberJSON) bool { return !m.IsAdmin }
	default:
		writeError(w, http.StatusBadRequest, codeInvalidInput, fmt.Sprintf("unknown filter %q; one of admins, non-admins, all", f))
		return
	}
	start, limit, ok := s.pageParams(w, c)
	if !ok {
		return
	}
	page, next := paginate(t.members, func(m memberJSON) string { return m.Member.ID }, start, limit, keep, c.repeatStart)
	setNext(w, next)
	writeJSON(w, http.StatusOK, membersPage{Members: page, NextPageStart: next})
}

func (s *Server) getLDAP(w http.ResponseWriter, _ *call) {
	writeJSON(w, http.StatusOK, s.m.ldap)
}

func (s *Server) listRoles(w http.ResponseWriter, _ *call) {
	writeJSON(w, http.StatusOK, s.m.roles)
}

func (s *Server) listCollections(w http.ResponseWriter, c *call) {
	start, limit, ok := s.pageParams(w, c)
	if !ok {
		return
	}
	page, next := paginate(s.m.colls, func(c collectionJSON) string { return c.ID }, start, limit, nil, c.repeatStart)
	setNext(w, next)
	writeJSON(w, http.StatusOK, page)
}

type grantsPage struct {
	Grants   []grantJSON   `json:"grants"`
	Subjects []subjectJSON `json:"subjects"`
}

// listGrants pages grants ordered by subject ID, object ID and role ID; the
// start value is opaque (whatever X-Next-Page-Start said). expandUser and
// showPaths are accepted and ignored: the answer is the expandUser=false,
// showPaths=false form the client asks for.
func (s *Server) listGrants(w http.ResponseWriter, c *call) {
	q := c.r.URL.Query()
	subjectType := q.Get("subjectType")
	switch subjectType {
	case "", "all", "user", "org", "team":
	default:
		writeError(w, http.StatusBadRequest, codeInvalidInput, fmt.Sprintf("unknown subjectType %q; one of all, user, org, team", subjectType))
		return
	}
	subjectID := q.Get("subjectID")
	start, limit, ok := s.pageParams(w, c)
	if !ok {
		return
	}
	keep := func(g grant) bool {
		return (subjectType == "" || subjectType == "all" || g.subjectType == subjectType) &&
			(subjectID == "" || g.json.SubjectID == subjectID)
	}
	page, next := paginate(s.m.grants, func(g grant) string { return g.key }, start, limit, keep, c.repeatStart)
	out := grantsPage{Grants: make([]grantJSON, len(page)), Subjects: []subjectJSON{}}
	seen := map[string]bool{}
	for i, g := range page {
		out.Grants[i] = g.json
		if !seen[g.json.SubjectID] {
			seen[g.json.SubjectID] = true
			out.Subjects = append(out.Subjects, s.m.subjects[g.json.SubjectID])
		}
	}
	setNext(w, next)
	writeJSON(w, http.StatusOK, out)
}
