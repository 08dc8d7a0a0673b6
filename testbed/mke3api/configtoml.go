package mke3api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// The answers MKE gives to a config-toml PUT (docs/mke3-api.md).
const (
	msgKDDUpgraded   = "Calico datastore upgrade from etcd to kdd successful"
	msgConfigUpdated = "Configuration updated"
)

// maxConfigBytes bounds a PUT body; real exports are about 10 KB.
const maxConfigBytes = 4 << 20

// configError is a configuration MKE would refuse; line and column are set
// (1-based) when the TOML does not parse.
type configError struct {
	line, col int
	msg       string
	err       error
}

func (e *configError) Error() string {
	if e.line > 0 {
		return fmt.Sprintf("invalid TOML at line %d, column %d: %s", e.line, e.col, e.msg)
	}
	return e.msg
}

func (e *configError) Unwrap() error { return e.err }

// parseConfigTOML checks that text is a TOML document MKE could store and
// returns its cluster_config.calico_kdd (false when absent, which is MKE's
// default for clusters upgraded from etcd-backed Calico).
func parseConfigTOML(text string) (kdd bool, err error) {
	if strings.TrimSpace(text) == "" {
		return false, &configError{msg: "the configuration is empty"}
	}
	var doc map[string]any
	if err := toml.Unmarshal([]byte(text), &doc); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			return false, &configError{line: row, col: col, msg: strings.TrimPrefix(de.Error(), "toml: "), err: err}
		}
		return false, &configError{msg: fmt.Sprintf("invalid TOML: %v", err), err: err}
	}
	cc, ok := doc["cluster_config"]
	if !ok {
		return false, nil
	}
	table, ok := cc.(map[string]any)
	if !ok {
		return false, &configError{msg: "cluster_config must be a table"}
	}
	v, ok := table["calico_kdd"]
	if !ok {
		return false, nil
	}
	b, ok := v.(bool)
	if !ok {
		return false, &configError{msg: fmt.Sprintf("cluster_config.calico_kdd must be a boolean, not %T", v)}
	}
	return b, nil
}

// ConfigTOML returns the configuration as last stored by a PUT (or the
// seed's, before any).
func (s *Server) ConfigTOML() string {
	s.cfgMu.Lock()
	defer s.cfgMu.Unlock()
	return s.configTOML
}

func (s *Server) getConfigTOML(w http.ResponseWriter, _ *call) {
	// MKE serves TOML whatever the Accept header says; clients send
	// "Accept: application/toml" and the simulator does not insist on it.
	w.Header().Set("Content-Type", "application/toml")
	_, _ = io.WriteString(w, s.ConfigTOML())
}

func (s *Server) putConfigTOML(w http.ResponseWriter, c *call) {
	body, err := io.ReadAll(http.MaxBytesReader(w, c.r.Body, maxConfigBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, codeInvalidInput, fmt.Sprintf("configuration larger than %d bytes", maxConfigBytes))
			return
		}
		writeError(w, http.StatusBadRequest, codeInvalidInput, "cannot read the request body")
		return
	}
	newKDD, err := parseConfigTOML(string(body))
	if err != nil {
		writeError(w, http.StatusBadRequest, codeInvalidConfig, err.Error())
		return
	}

	// Compare and store under one lock so that two concurrent PUTs cannot
	// both see calico_kdd=false and both report the upgrade.
	s.cfgMu.Lock()
	oldKDD := s.kdd
	if oldKDD && !newKDD {
		s.cfgMu.Unlock()
		writeError(w, http.StatusBadRequest, codeInvalidConfig,
			"cluster_config.calico_kdd cannot be changed from true to false: the Calico datastore upgrade from etcd to kdd is irreversible")
		return
	}
	s.configTOML, s.kdd = string(body), newKDD
	s.cfgMu.Unlock()

	msg := msgConfigUpdated
	if !oldKDD && newKDD {
		msg = msgKDDUpgraded
	}
	writeJSON(w, http.StatusOK, map[string]string{"message": msg})
}
