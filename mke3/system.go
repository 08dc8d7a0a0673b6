package mke3

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
)

const (
	pathPing       = "/_ping"
	pathVersion    = "/version"
	pathConfigTOML = "/api/ucp/config-toml"
)

// Ping checks that MKE answers GET /_ping with 200. It needs no session.
func (c *Client) Ping(ctx context.Context) error {
	_, err := c.do(ctx, &request{
		method:     http.MethodGet,
		path:       pathPing,
		replayable: true,
		limit:      1 << 16,
	})
	return err
}

// Version returns the MKE version, e.g. "3.8.8" (GET /version, with the
// "ucp/" prefix of the Version field removed).
func (c *Client) Version(ctx context.Context) (string, error) {
	v, err := getJSON[struct {
		Version string `json:"Version"`
	}](ctx, c, pathVersion, `a JSON object with "Version"`)
	if err != nil {
		return "", err
	}
	version := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v.Version), "ucp/"))
	if version == "" {
		return "", &opError{method: http.MethodGet, path: pathVersion, err: errors.New(`the answer has no "Version"`)}
	}
	return version, nil
}

// ConfigTOML returns the MKE configuration as TOML (GET
// /api/ucp/config-toml). It may hold secrets; the client never logs it.
func (c *Client) ConfigTOML(ctx context.Context) ([]byte, error) {
	resp, err := c.do(ctx, &request{
		method:     http.MethodGet,
		path:       pathConfigTOML,
		accept:     "application/toml",
		auth:       true,
		replayable: true,
	})
	if err != nil {
		return nil, err
	}
	return resp.body, nil
}

// errEmptyConfig refuses to send an empty configuration, which MKE would
// read as "every setting at its default".
var errEmptyConfig = errors.New("refusing to send an empty configuration")

// PutConfigTOML replaces the MKE configuration (PUT /api/ucp/config-toml)
// and returns the server's message. The PUT is not idempotent (switching
// calico_kdd migrates the Calico datastore), so it is sent again only when
// a transport error shows that it never left the client, or after a 401
// and a new login. An answer of 2xx that is not the expected JSON is an
// error that says the configuration may have been applied.
func (c *Client) PutConfigTOML(ctx context.Context, toml []byte) (string, error) {
	if len(bytes.TrimSpace(toml)) == 0 {
		return "", &opError{method: http.MethodPut, path: pathConfigTOML, err: errEmptyConfig}
	}
	resp, err := c.do(ctx, &request{
		method:      http.MethodPut,
		path:        pathConfigTOML,
		body:        toml,
		contentType: "application/toml",
		accept:      "application/json",
		auth:        true,
	})
	if err != nil {
		return "", err
	}
	if len(bytes.TrimSpace(resp.body)) == 0 {
		return "", nil
	}
	var answer struct {
		Message string `json:"message"`
	}
	if err := decodeJSON(resp, &answer, `a JSON object with "message" (the server answered 2xx: the configuration may have been applied)`); err != nil {
		return "", err
	}
	return cleanText(answer.Message, c.redact), nil
}
