//go:build !fakenodelight

package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/k0sproject/k0s/pkg/apis/k0s/v1beta1"

	"github.com/mke-migrate/mke-migrate/testbed/internal/fakestate"
)

// k0s's layout (pkg/constant/constant_unix.go, pkg/config/cfgvars.go).
const (
	k0sDataDir       = "/var/lib/k0s"
	k0sConfigDefault = "/etc/k0s/k0s.yaml"
	k0sStatusSocket  = "/run/k0s/status.sock"
	k0sLogDir        = fakestate.LogDir
)

// validateNodeConfig is what k0s install controller does with it
// (cmd/install/controller.go): "invalid node config: " and the joined
// errors of ClusterConfig.Validate.
func validateNodeConfig(c *v1beta1.ClusterConfig) error {
	if errs := c.Validate(); len(errs) > 0 {
		return fmt.Errorf("invalid node config: %w", errors.Join(errs...))
	}
	return nil
}

// installConfig loads and validates the config of k0s install controller:
// "failed to load node config: …" or "invalid node config: …".
// The file is read as CfgVars.NodeConfig (pkg/config/cfgvars.go at
// v1.33.9+k0s.0) reads it: k0s's default ClusterConfig merged with the
// file; a missing file is the defaults only when it is the default path.
func (e *env) installConfig(path string) (*v1beta1.ClusterConfig, error) {
	if path == "-" {
		// cmd/install/controller.go replaces stdin with an error reader
		return nil, errors.New("failed to load node config: cannot read configuration from standard input when installing k0s")
	}
	c, err := e.loadConfig(path)
	if err != nil {
		return nil, fmt.Errorf("failed to load node config: %w", err)
	}
	return c, validateNodeConfig(c)
}

// kubeMinor is the "<major>.<minor>" of the Kubernetes version a k0s
// version carries (v1.31.2+k0s.0 → 1.31): k0s names the worker-config
// ConfigMaps with its constant.KubernetesMajorMinorVersion, which the fake
// derives from the version it reports.
func kubeMinor() string {
	v := strings.TrimPrefix(binaryK0sVersion(), "v")
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + parts[1]
}
