package mke3

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
)

// Role is a Swarm RBAC role. Operations maps resource kinds to the allowed
// Swarm API operations; it is kept as the server sent it.
type Role struct {
	ID         string          `json:"id"`
	Name       string          `json:"name"`
	SystemRole bool            `json:"system_role"`
	Operations json.RawMessage `json:"operations,omitempty"`
}

// Collection is a Swarm collection.
type Collection struct {
	ID               string            `json:"id"`
	Name             string            `json:"name"`
	Path             string            `json:"path"`
	ParentIDs        []string          `json:"parent_ids"`
	LabelConstraints []LabelConstraint `json:"label_constraints"`
}

// LabelConstraint restricts the nodes or resources of a collection.
type LabelConstraint struct {
	Type       string `json:"type"`
	LabelKey   string `json:"label_key"`
	LabelValue string `json:"label_value"`
	Equality   bool   `json:"equality"`
}

// Grant binds a role to a subject on an object: a collection ID,
// "kubernetesnamespaces", or a namespace.
type Grant struct {
	SubjectID string `json:"subjectID"`
	ObjectID  string `json:"objectID"`
	RoleID    string `json:"roleID"`
}

// Subject describes the subject of grants: a user, team or organization.
type Subject struct {
	ID          string   `json:"id"`
	SubjectType string   `json:"subject_type"`
	Account     *Account `json:"account,omitempty"`
	// Team is set for team subjects (subject_type "team"), which have no
	// account of their own.
	Team *Team `json:"team,omitempty"`
}

// Grants holds every grant, and the subjects they name, each subject once.
type Grants struct {
	Grants   []Grant
	Subjects []Subject
}

const (
	pathRoles       = "/roles"
	pathCollections = "/collections"
	pathGrants      = "/collectionGrants"
)

// Roles returns the Swarm RBAC roles (GET /roles, not paged).
func (c *Client) Roles(ctx context.Context) ([]Role, error) {
	return getJSON[[]Role](ctx, c, pathRoles, "a JSON array of roles")
}

// Collections lists the Swarm collections, following the pages.
func (c *Client) Collections(ctx context.Context) iter.Seq2[Collection, error] {
	return pagedItems(ctx, c, pathCollections, nil, "a JSON array of collections", decodeCollectionsPage)
}

// ListCollections returns every collection, or the error.
func (c *Client) ListCollections(ctx context.Context) ([]Collection, error) {
	return collect(c.Collections(ctx))
}

// decodeCollectionsPage decodes a page of GET /collections: an array, paged
// by header only.
func decodeCollectionsPage(body []byte) ([]Collection, string, error) {
	var items []Collection
	if err := json.Unmarshal(body, &items); err != nil {
		return nil, "", err
	}
	return items, "", nil
}

// Grants returns every grant (GET /collectionGrants with subjectType=all,
// expandUser=false, showPaths=false), all pages merged. A subject repeated
// on several pages is kept once.
func (c *Client) Grants(ctx context.Context) (Grants, error) {
	q := url.Values{"subjectType": {"all"}, "expandUser": {"false"}, "showPaths": {"false"}}
	var out Grants
	seen := make(map[string]struct{})
	err := c.walk(ctx, pathGrants, q, func(resp *response) (int, string, bool, error) {
		page, next, err := decodeGrantsPage(resp.body)
		if err != nil {
			return 0, "", false, &opError{method: http.MethodGet, path: pathGrants,
				err: decodeError(`a JSON object with "grants" and "subjects"`, err)}
		}
		out.Grants = append(out.Grants, page.Grants...)
		for _, s := range page.Subjects {
			if _, dup := seen[s.ID]; dup {
				continue
			}
			seen[s.ID] = struct{}{}
			out.Subjects = append(out.Subjects, s)
		}
		return len(page.Grants), next, true, nil
	})
	if err != nil {
		return Grants{}, err
	}
	return out, nil
}

func decodeGrantsPage(body []byte) (Grants, string, error) {
	grants, next, err := decodeListPage[Grant](body, "grants")
	if err != nil {
		return Grants{}, "", err
	}
	var page struct {
		Subjects []Subject `json:"subjects"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return Grants{}, "", err
	}
	return Grants{Grants: grants, Subjects: page.Subjects}, next, nil
}
