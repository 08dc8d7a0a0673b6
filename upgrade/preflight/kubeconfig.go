package preflight

import (
	"fmt"

	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// kubeconfigFile mirrors the shape of client-go's clientcmd/api/v1.Config,
// the file format of a kubeconfig, for the fields whose type can make
// clientcmd.Load fail. preflight only needs to know whether a leftover
// ~/.mke/mke.kubeconf is a kubeconfig with clusters, and reading it with
// client-go would pull client-go and apimachinery's runtime into every
// program that runs the checks. TestKubeconfigMatchesClientcmd compares
// parseKubeconfig with clientcmd.Load on a table of files.
type kubeconfigFile struct {
	Kind        string `json:"kind,omitempty"`
	APIVersion  string `json:"apiVersion,omitempty"`
	Preferences struct {
		Colors     bool           `json:"colors,omitempty"`
		Extensions []kcfgNamedExt `json:"extensions,omitempty"`
	} `json:"preferences"`
	Clusters []struct {
		Name    string `json:"name"`
		Cluster struct {
			Server                   string         `json:"server"`
			TLSServerName            string         `json:"tls-server-name,omitempty"`
			InsecureSkipTLSVerify    bool           `json:"insecure-skip-tls-verify,omitempty"`
			CertificateAuthority     string         `json:"certificate-authority,omitempty"`
			CertificateAuthorityData []byte         `json:"certificate-authority-data,omitempty"`
			ProxyURL                 string         `json:"proxy-url,omitempty"`
			DisableCompression       bool           `json:"disable-compression,omitempty"`
			Extensions               []kcfgNamedExt `json:"extensions,omitempty"`
		} `json:"cluster"`
	} `json:"clusters"`
	AuthInfos []struct {
		Name     string `json:"name"`
		AuthInfo struct {
			ClientCertificate     string              `json:"client-certificate,omitempty"`
			ClientCertificateData []byte              `json:"client-certificate-data,omitempty"`
			ClientKey             string              `json:"client-key,omitempty"`
			ClientKeyData         []byte              `json:"client-key-data,omitempty"`
			Token                 string              `json:"token,omitempty"`
			TokenFile             string              `json:"tokenFile,omitempty"`
			Impersonate           string              `json:"as,omitempty"`
			ImpersonateUID        string              `json:"as-uid,omitempty"`
			ImpersonateGroups     []string            `json:"as-groups,omitempty"`
			ImpersonateUserExtra  map[string][]string `json:"as-user-extra,omitempty"`
			Username              string              `json:"username,omitempty"`
			Password              string              `json:"password,omitempty"`
			AuthProvider          *struct {
				Name   string            `json:"name"`
				Config map[string]string `json:"config"`
			} `json:"auth-provider,omitempty"`
			Exec *struct {
				Command string   `json:"command"`
				Args    []string `json:"args"`
				Env     []struct {
					Name  string `json:"name"`
					Value string `json:"value"`
				} `json:"env"`
				APIVersion         string `json:"apiVersion,omitempty"`
				InstallHint        string `json:"installHint,omitempty"`
				ProvideClusterInfo bool   `json:"provideClusterInfo"`
				InteractiveMode    string `json:"interactiveMode,omitempty"`
			} `json:"exec,omitempty"`
			Extensions []kcfgNamedExt `json:"extensions,omitempty"`
		} `json:"user"`
	} `json:"users"`
	Contexts []struct {
		Name    string `json:"name"`
		Context struct {
			Cluster    string         `json:"cluster"`
			AuthInfo   string         `json:"user"`
			Namespace  string         `json:"namespace,omitempty"`
			Extensions []kcfgNamedExt `json:"extensions,omitempty"`
		} `json:"context"`
	} `json:"contexts"`
	CurrentContext string         `json:"current-context"`
	Extensions     []kcfgNamedExt `json:"extensions,omitempty"`
}

type kcfgNamedExt struct {
	Name      string `json:"name"`
	Extension any    `json:"extension"`
}

// parseKubeconfig decodes a non-empty kubeconfig the way clientcmd.Load
// does (YAML or JSON, case-sensitive field names, unknown fields ignored,
// apiVersion v1 and kind Config when given, names unique within each list)
// and returns how many clusters it has.
func parseKubeconfig(data []byte) (clusters int, err error) {
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		return 0, err
	}
	var c kubeconfigFile
	if err := kjson.UnmarshalCaseSensitivePreserveInts(j, &c); err != nil {
		return 0, err
	}
	if c.APIVersion != "" && c.APIVersion != "v1" {
		return 0, fmt.Errorf("apiVersion %q is not v1", c.APIVersion)
	}
	if c.Kind != "" && c.Kind != "Config" {
		return 0, fmt.Errorf("kind %q is not Config", c.Kind)
	}
	names := func(what string, n int, name func(int) string) error {
		seen := map[string]bool{}
		for i := range n {
			if seen[name(i)] {
				return fmt.Errorf("duplicate %s name %q", what, name(i))
			}
			seen[name(i)] = true
		}
		return nil
	}
	for _, e := range []error{
		names("cluster", len(c.Clusters), func(i int) string { return c.Clusters[i].Name }),
		names("user", len(c.AuthInfos), func(i int) string { return c.AuthInfos[i].Name }),
		names("context", len(c.Contexts), func(i int) string { return c.Contexts[i].Name }),
		names("extension", len(c.Extensions), func(i int) string { return c.Extensions[i].Name }),
	} {
		if e != nil {
			return 0, e
		}
	}
	return len(c.Clusters), nil
}
