package mke3

import (
	"context"
	"fmt"
	"net/http"
	"slices"
)

// EngineAPIVersion is the Docker Engine API version the Engine* calls ask
// for. A versioned path makes the daemon answer in that version's shapes
// (Docker Engine API docs, "Versioning"), so decoders written for v1.41
// keep working against newer engines. MKE 3.7 ships Mirantis Container
// Runtime 20.10 (API 1.41), the oldest engine this tool meets.
const EngineAPIVersion = "1.41"

// engineLists are the read-only Docker Engine API lists that EngineList
// serves: what a Swarm service is and references.
var engineLists = []string{"services", "tasks", "configs", "secrets", "networks", "volumes", "nodes"}

// EngineList returns the raw JSON body of one Docker Engine API list that
// MKE 3 serves to administrators: "services", "tasks", "configs",
// "secrets", "networks", "volumes" or "nodes" (GET /v1.41/<list>). The body
// is returned as sent, for the caller to decode; secrets' values are never
// in it (the Engine API does not return them).
func (c *Client) EngineList(ctx context.Context, list string) ([]byte, error) {
	path := "/v" + EngineAPIVersion + "/" + list
	if !slices.Contains(engineLists, list) {
		return nil, &opError{method: http.MethodGet, path: path, err: fmt.Errorf("%q is not one of the Engine API lists %v", list, engineLists)}
	}
	resp, err := c.get(ctx, path)
	if err != nil {
		return nil, err
	}
	return resp.body, nil
}
