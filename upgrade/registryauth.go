package upgrade

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mke-migrate/mke-migrate/convert/mke4"
	"github.com/mke-migrate/mke-migrate/plan"
)

// RegistryAuth is the pull credential of a registry. MKE 3 does not store
// MKE 4k's pull credentials, so the operator gives them to every run that
// creates them (mkectl 4.2.1 asks for them at upgrade time too). The
// password lives in memory only: it reaches the new cluster in the body of
// an HTTPS request (a kubernetes.io/dockerconfigjson Secret), never an
// argv, a log, the journal or a file of the output folder.
type RegistryAuth struct {
	Username string
	Password []byte
}

// Defaults of the pull-credential Secrets: where the upgrade puts them and
// what mke4.yaml's registries.*.credentialsSecretName names. MKE 4k's
// MkeConfig lives in namespace mke; the names are ours (the MKE 4 docs
// leave them to the operator). Options.RegistrySecretNamespace and
// Options.RegistrySecretPrefix override them.
const (
	DefaultRegistrySecretNamespace = "mke"
	DefaultRegistrySecretPrefix    = "mke-migrate-"
)

// registrySecretName is the Secret of the image or chart registry.
func registrySecretName(prefix, which string) string { return prefix + which + "-registry-credentials" }

// RegistryError is a registry option that is wrong: which registry
// (image or chart), which option, why. Nothing has changed when New
// returns it.
type RegistryError struct {
	Registry, Option, Msg string
}

func (e *RegistryError) Error() string {
	return fmt.Sprintf("upgrade: %s registry %s: %s", e.Registry, e.Option, e.Msg)
}

// CheckRegistries validates the registry credentials and CA bundles of
// the options (New does too), with no I/O; the errors are
// *RegistryError and never hold a password.
func (o *Options) CheckRegistries() error { return o.checkRegistries() }

func (o *Options) checkRegistries() error {
	var errs []error
	check := func(which, url string, a *RegistryAuth, ca []byte) {
		bad := func(opt, msg string) { errs = append(errs, &RegistryError{Registry: which, Option: opt, Msg: msg}) }
		if a != nil {
			switch {
			case strings.TrimSpace(a.Username) == "":
				bad("username", "empty: give the username with the password")
			case strings.ContainsAny(a.Username, ":\n\r\x00"):
				bad("username", "must be one line without ':' (the registry's basic auth joins user:password)")
			}
			switch {
			case len(a.Password) == 0:
				bad("password", "empty: give the password with the username")
			case strings.ContainsAny(string(a.Password), "\n\r\x00"):
				bad("password", "must be one line")
			}
			if strings.HasPrefix(url, "http://") {
				bad("url", "credentials are sent over HTTPS only: the registry must not be http://")
			}
		}
		if ca != nil {
			if err := checkPEMCerts(ca); err != nil {
				bad("CA", err.Error())
			}
		}
	}
	check("image", o.ImageRegistry, o.ImageRegistryAuth, o.ImageRegistryCA)
	check("chart", o.ChartRegistry, o.ChartRegistryAuth, o.ChartRegistryCA)
	return errors.Join(errs...)
}

// checkPEMCerts accepts one or more PEM certificates and nothing else.
func checkPEMCerts(b []byte) error {
	n := 0
	rest := b
	for {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			return fmt.Errorf("a PEM %q block: want certificates only", blk.Type)
		}
		if _, err := x509.ParseCertificate(blk.Bytes); err != nil {
			return fmt.Errorf("certificate %d: %v", n+1, err)
		}
		n++
	}
	if n == 0 || strings.TrimSpace(string(rest)) != "" {
		return errors.New("not a PEM certificate bundle")
	}
	return nil
}

// registryHost is the host[:port] a registry URL names: what Docker's
// config.json keys its auths by.
func registryHost(url string) string {
	url = strings.TrimPrefix(strings.TrimPrefix(url, "oci://"), "https://")
	host, _, _ := strings.Cut(url, "/")
	return host
}

// dockerConfigJSON is a .dockerconfigjson document (the format of
// kubernetes.io/dockerconfigjson Secrets: k8s.io/api core/v1
// DockerConfigJsonKey, and Docker's config.json auths).
func dockerConfigJSON(host string, a *RegistryAuth) ([]byte, error) {
	auth := base64.StdEncoding.EncodeToString([]byte(a.Username + ":" + string(a.Password)))
	return json.Marshal(map[string]any{"auths": map[string]any{host: map[string]string{
		"username": a.Username, "password": string(a.Password), "auth": auth}}})
}

// registryKinds are the registries MKE 4k pulls from, in order.
var registryKinds = []string{"image", "chart"}

// withRegistries puts the names of the pull-credential Secrets into
// mke4.yaml and the plan (never the credentials; the CA bundles go
// through the conversion).
func (o *Options) withRegistries(sh *Shared) {
	if sh == nil || sh.Config == nil {
		return
	}
	r := &sh.Config.Spec.Registries
	set := func(which string, a *RegistryAuth, dst *mke4.Registry) {
		if a == nil {
			return
		}
		name := registrySecretName(o.registrySecretPrefix(), which)
		dst.CredentialsSecretName = name
		if sh.RegistrySecrets == nil {
			sh.RegistrySecrets = map[string]string{}
		}
		sh.RegistrySecrets[which] = name
	}
	set("image", o.ImageRegistryAuth, &r.ImageRegistry)
	set("chart", o.ChartRegistryAuth, &r.ChartRegistry)
}

func (o *Options) registrySecretPrefix() string {
	if o.RegistrySecretPrefix != "" {
		return o.RegistrySecretPrefix
	}
	return DefaultRegistrySecretPrefix
}

func (o *Options) registrySecretNamespace() string {
	if o.RegistrySecretNamespace != "" {
		return o.RegistrySecretNamespace
	}
	return DefaultRegistrySecretNamespace
}

// registrySecrets are the pull-credential Secrets the run creates, by name.
type registrySecret struct {
	name, host string
	auth       *RegistryAuth
}

// registryCredentialsStep creates the pull-credential Secrets in the new
// cluster, before MKE 3 is uninstalled; its undo deletes the ones it
// created. A resumed run needs the credentials again (they are never
// saved): without them, the step fails and says so.
func registryCredentialsStep(e *Env) *plan.Step {
	ns := e.RegistrySecretNamespace
	var want []string
	for _, which := range registryKinds {
		if name, ok := e.Cluster.RegistrySecrets[which]; ok {
			want = append(want, which+" "+name)
		}
	}
	return &plan.Step{Name: "registry-credentials", Phase: PhaseRBAC,
		Changes: "creates the registries' pull-credential Secrets in namespace " + ns + " (" + strings.Join(want, ", ") + ")",
		Do: func(ctx context.Context, r *plan.Run) error {
			var secrets []registrySecret
			for _, which := range registryKinds {
				name, ok := e.Cluster.RegistrySecrets[which]
				if !ok {
					continue
				}
				a, url := e.ImageRegistryAuth, e.Cluster.Config.Spec.Registries.ImageRegistry.URL
				if which == "chart" {
					a, url = e.ChartRegistryAuth, e.Cluster.Config.Spec.Registries.ChartRegistry.URL
				}
				if a == nil {
					return fmt.Errorf("the %s registry's credentials are not saved: give them again to resume the run", which)
				}
				secrets = append(secrets, registrySecret{name: name, host: registryHost(url), auth: a})
			}
			cs, err := e.kubeClient(ctx)
			if err != nil {
				return err
			}
			if _, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); apierrors.IsNotFound(err) {
				if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
					return fmt.Errorf("create namespace %s: %w", ns, err)
				}
				r.Set("namespace-created", "true")
			} else if err != nil {
				return fmt.Errorf("namespace %s: %w", ns, err)
			}
			for _, s := range secrets {
				data, err := dockerConfigJSON(s.host, s.auth)
				if err != nil {
					return err
				}
				sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: s.name, Namespace: ns,
					Labels: map[string]string{"app.kubernetes.io/managed-by": "mke-migrate"}},
					Type: corev1.SecretTypeDockerConfigJson, Data: map[string][]byte{corev1.DockerConfigJsonKey: data}}
				_, err = cs.CoreV1().Secrets(ns).Create(ctx, sec, metav1.CreateOptions{})
				if apierrors.IsAlreadyExists(err) {
					_, err = cs.CoreV1().Secrets(ns).Update(ctx, sec, metav1.UpdateOptions{})
				}
				if err != nil {
					// the API server's error names the object, never its data
					return fmt.Errorf("secret %s/%s: %w", ns, s.name, err)
				}
				r.Set("created-"+s.name, "true")
			}
			return nil
		},
		Undo: func(ctx context.Context, r *plan.Run) error {
			made := r.Get("namespace-created") != ""
			for _, name := range e.Cluster.RegistrySecrets {
				made = made || r.Get("created-"+name) != ""
			}
			if !made { // nothing of ours to delete: no need of the cluster
				return nil
			}
			cs, err := e.kubeClient(ctx)
			if err != nil {
				return err
			}
			for _, name := range e.Cluster.RegistrySecrets {
				if r.Get("created-"+name) == "" {
					continue
				}
				if err := cs.CoreV1().Secrets(ns).Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
					return err
				}
			}
			if r.Get("namespace-created") != "" {
				if err := cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
					return err
				}
			}
			return nil
		}}
}
