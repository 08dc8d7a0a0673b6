//go:build !fakenodelight

package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/k0sproject/k0s/pkg/apis/k0s/v1beta1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/mke-migrate/mke-migrate/testbed/internal/fakestate"
)

// adminConf is the admin kubeconfig k0s writes (CfgVars.AdminKubeConfigPath).
const adminConf = k0sDataDir + "/pki/admin.conf"

// adminClient is a clientset from the admin kubeconfig.
func adminClient() (*kubernetes.Clientset, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", adminConf)
	if err != nil {
		return nil, err
	}
	cfg.Timeout = 30 * time.Second
	return kubernetes.NewForConfig(cfg)
}

// tokenCreate is cmd/token/create.go: parse the expiry, check k0s runs
// (status socket), refuse a single node or a controller token without
// joinable storage, create the bootstrap-token Secret and print the token.
func (e *env) tokenCreate(role, expiry string) error {
	d, err := time.ParseDuration(expiry)
	if err != nil {
		return err
	}
	k, err := e.k0sState()
	if err != nil {
		return err
	}
	cfg, err := e.nodeConfigOf(k)
	if err != nil {
		return err
	}
	st, err := e.running()
	if err != nil {
		return fmt.Errorf("failed to get k0s status: %w", err)
	}
	if st.SingleNode {
		return errors.New("refusing to create token: cannot join into a single node cluster")
	}
	if role == roleController && !cfg.Spec.Storage.IsJoinable() {
		return errors.New("refusing to create token: cannot join controller into current storage")
	}
	// pkg/token/kubeconfig.go loadUserAndJoinURL
	user, joinURL := workerTokenUser, cfg.Spec.API.APIAddressURL()
	if role == roleController {
		user, joinURL = controllerTokenUser, cfg.Spec.API.K0sControlPlaneAPIAddress()
	}
	tok, err := randomBootstrapToken()
	if err != nil {
		return err
	}
	secret, err := bootstrapTokenSecret(tok, role, d, now())
	if err != nil {
		return err
	}
	var ca []byte
	if e.kubeAssets() != "" {
		crt := filepath.Join(k0sDataDir, "pki", "ca.crt")
		if ca, err = os.ReadFile(crt); err != nil {
			return fmt.Errorf("failed to read cluster CA from %q: %w; check if the control plane is initialized on this node", crt, err)
		}
		c, err := adminClient()
		if err != nil {
			return err
		}
		if _, err := c.CoreV1().Secrets(metav1.NamespaceSystem).Create(context.Background(), secret, metav1.CreateOptions{}); err != nil {
			return err
		}
	} else {
		if k.Role == roleWorker {
			return fmt.Errorf("failed to read cluster CA from %q: open %[1]s: no such file or directory; check if the control plane is initialized on this node", k0sDataDir+"/pki/ca.crt")
		}
		ca = fakeCA()
		jt := fakestate.JoinToken{ID: secret.Name[len("bootstrap-token-"):], Role: role, Expires: string(secret.Data["expiration"])}
		k.Tokens++
		k.JoinTokens = append(k.JoinTokens, jt)
		if err := e.saveJSON(fakestate.K0sFile, k); err != nil {
			return err
		}
	}
	s, err := encodeJoinToken(joinToken{Server: joinURL, CA: ca, User: user, Token: tok})
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, s)
	return nil
}

// fakeCA is a fixed PEM block standing for the CA in fast mode.
func fakeCA() []byte {
	return []byte("-----BEGIN CERTIFICATE-----\nZmFrZW5vZGUgZmFzdCBtb2RlIENB\n-----END CERTIFICATE-----\n")
}

// tokenList is cmd/token/list.go over pkg/token Manager.List.
func (e *env) tokenList(role string) error {
	k, err := e.k0sState()
	if err != nil {
		return err
	}
	type row struct{ id, role, exp string }
	var rows []row
	if e.kubeAssets() != "" {
		c, err := adminClient()
		if err != nil {
			return err
		}
		l, err := c.CoreV1().Secrets(metav1.NamespaceSystem).List(context.Background(), metav1.ListOptions{FieldSelector: "type=" + string(corev1.SecretTypeBootstrapToken)})
		if err != nil {
			return err
		}
		for _, s := range l.Items {
			r := row{id: string(s.Data["token-id"]), exp: string(s.Data["expiration"])}
			switch {
			case string(s.Data["usage-bootstrap-controller-join"]) == "true" || string(s.Data["usage-controller-join"]) == "true":
				r.role = roleController
			case string(s.Data["usage-bootstrap-authentication"]) == "true":
				r.role = roleWorker
			}
			rows = append(rows, r)
		}
	} else {
		if _, err := e.running(); err != nil || k.Role == roleWorker {
			return noAPI()
		}
		for _, t := range k.JoinTokens {
			rows = append(rows, row{t.ID, t.Role, t.Expires})
		}
	}
	rows = slices.DeleteFunc(rows, func(r row) bool { return role != "" && r.role != role })
	if len(rows) == 0 {
		fmt.Fprintln(e.stdout, "No k0s join tokens found")
		return nil
	}
	fmt.Fprintln(e.stdout, "ID\tROLE\tEXPIRES AT")
	for _, r := range rows {
		fmt.Fprintf(e.stdout, "%s\t%s\t%s\n", r.id, r.role, r.exp)
	}
	return nil
}

// noAPI is client-go's error when nothing listens on the API's port.
func noAPI() error {
	return errors.New(`Get "https://localhost:6443/api/v1/namespaces/kube-system/secrets": dial tcp 127.0.0.1:6443: connect: connection refused`)
}

// tokenInvalidate is cmd/token/invalidate.go: Manager.Remove deletes
// Secret bootstrap-token-<id>; one that does not exist is not an error.
func (e *env) tokenInvalidate(ids []string) error {
	k, err := e.k0sState()
	if err != nil {
		return err
	}
	if e.kubeAssets() != "" {
		if _, err := os.Stat(adminConf); err != nil {
			return err
		}
		c, err := adminClient()
		if err != nil {
			return err
		}
		for _, id := range ids {
			err := c.CoreV1().Secrets(metav1.NamespaceSystem).Delete(context.Background(), "bootstrap-token-"+id, metav1.DeleteOptions{})
			if err != nil && !apierrors.IsNotFound(err) {
				return err
			}
			fmt.Fprintf(e.stdout, "token %s deleted successfully\n", id)
		}
		return nil
	}
	if _, err := e.running(); err != nil || k.Role == roleWorker {
		return noAPI()
	}
	for _, id := range ids {
		k.JoinTokens = slices.DeleteFunc(k.JoinTokens, func(t fakestate.JoinToken) bool { return t.ID == id })
		if err := e.saveJSON(fakestate.K0sFile, k); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "token %s deleted successfully\n", id)
	}
	return nil
}

// kubeconfigAdmin is cmd/kubeconfig/admin.go: the admin kubeconfig with
// the server rewritten from the local URL to the external one.
func (e *env) kubeconfigAdmin() error {
	k, err := e.k0sState()
	if err != nil {
		return err
	}
	cfg, err := e.nodeConfigOf(k)
	if err != nil {
		return err
	}
	if e.kubeAssets() == "" {
		return e.fastKubeconfigAdmin(k, cfg)
	}
	kc, err := clientcmd.LoadFromFile(adminConf)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("admin config %q not found, check if the control plane is initialized on this node", adminConf)
	}
	if err != nil {
		return fmt.Errorf("failed to load admin config: %w", err)
	}
	internal, external := cfg.Spec.API.LocalURL().String(), cfg.Spec.API.APIAddressURL()
	for _, c := range kc.Clusters {
		if c.Server == internal {
			c.Server = external
		}
	}
	b, err := clientcmd.Write(*kc)
	if err != nil {
		return fmt.Errorf("failed to serialize admin kubeconfig: %w", err)
	}
	_, err = e.stdout.Write(b)
	return err
}

// fastKubeconfigAdmin prints a kubeconfig of the right shape without a
// real PKI: it exists from a controller's first start until k0s reset.
func (e *env) fastKubeconfigAdmin(k *fakestate.K0s, cfg *v1beta1.ClusterConfig) error {
	if k == nil || k.Role == roleWorker || !k.Initialized {
		return fmt.Errorf("admin config %q not found, check if the control plane is initialized on this node", adminConf)
	}
	host, _ := os.Hostname()
	server := cfg.Spec.API.APIAddressURL()
	if n, _ := e.node(); n != nil && n.Address != "" && cfg.Spec.API.ExternalAddress == "" {
		server = "https://" + n.Address + ":6443"
	}
	pem := func(kind, seed string) string {
		sum := sha256.Sum256([]byte(host + "/" + seed))
		body := base64.StdEncoding.EncodeToString(bytes.Repeat(sum[:], 8))
		return base64.StdEncoding.EncodeToString([]byte("-----BEGIN " + kind + "-----\n" + body + "\n-----END " + kind + "-----\n"))
	}
	fmt.Fprintf(e.stdout, `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: %s
    server: %s
  name: local
contexts:
- context:
    cluster: local
    namespace: default
    user: user
  name: Default
current-context: Default
kind: Config
preferences: {}
users:
- name: user
  user:
    client-certificate-data: %s
    client-key-data: %s
`, pem("CERTIFICATE", "ca"), server, pem("CERTIFICATE", "admin"), pem("RSA PRIVATE KEY", "admin-key"))
	return nil
}
