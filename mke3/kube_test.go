package mke3_test

import (
	"crypto/x509"
	"encoding/pem"
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/mke-migrate/mke-migrate/internal/kubetest"
	"github.com/mke-migrate/mke-migrate/mke3"
	"github.com/mke-migrate/mke-migrate/testbed/mke3api"
)

// TestKubeNodesThroughClientBundle goes the whole way an operator's run
// goes: log in to (simulated) MKE 3, download the client bundle, and list
// the nodes of a real kube-apiserver that trusts the bundle's certificate,
// as MKE 3's own API server trusts its CA.
func TestKubeNodesThroughClientBundle(t *testing.T) {
	ca, err := mke3api.NewCA()
	require.NoError(t, err)
	serving, err := ca.ServerCertificate("127.0.0.1")
	require.NoError(t, err)
	var certPEM []byte
	for _, der := range serving.Certificate {
		certPEM = append(certPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(serving.PrivateKey)
	require.NoError(t, err)
	plane := kubetest.StartT(t, kubetest.Options{
		ServingCertPEM: certPEM,
		ServingKeyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		ServingCAPEM:   ca.CertPEM(),
		ClientCAPEM:    ca.CertPEM(),
	})
	admin, err := plane.Client()
	require.NoError(t, err)
	c := ctx(t)

	// MKE 3 binds its admins to cluster-admin; here the bundle's user may
	// read nodes, and nothing more.
	_, err = admin.RbacV1().ClusterRoles().Create(c, &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "node-reader"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"list"}}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = admin.RbacV1().ClusterRoleBindings().Create(c, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "node-reader"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "node-reader"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: mke3api.DefaultAdminUsername}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	for _, n := range []struct {
		name, ip string
		labels   map[string]string
	}{
		{"worker-2", "10.0.0.12", map[string]string{"com.mirantis.kubelet-profile": "edge"}},
		{"manager-1", "10.0.0.1", map[string]string{"node-role.kubernetes.io/master": ""}},
		{"worker-1", "10.0.0.11", nil},
	} {
		node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.name, Labels: n.labels}}
		created, err := admin.CoreV1().Nodes().Create(c, node, metav1.CreateOptions{})
		require.NoError(t, err)
		created.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: n.ip}, {Type: corev1.NodeHostName, Address: n.name}}
		_, err = admin.CoreV1().Nodes().UpdateStatus(c, created, metav1.UpdateOptions{})
		require.NoError(t, err)
	}

	sim := startSim(t, mke3api.GenerateSeed(2, 1, 1, 1), func(o *mke3api.Options) {
		o.CA = ca
		o.BundleKubeAPI = plane.Config.Host
	})
	client, logs := simClient(t, sim)
	bundle, err := client.ClientBundle(c)
	require.NoError(t, err)
	cfg, err := bundle.RESTConfig()
	require.NoError(t, err)
	nodes, err := mke3.KubeNodes(c, cfg)
	require.NoError(t, err)

	require.Len(t, nodes, 3)
	require.Equal(t, []string{"manager-1", "worker-1", "worker-2"}, []string{nodes[0].Name, nodes[1].Name, nodes[2].Name})
	require.Equal(t, []string{"10.0.0.12", "worker-2"}, nodes[2].Addresses)
	require.Equal(t, "edge", nodes[2].Labels["com.mirantis.kubelet-profile"])

	n, ok := mke3.MatchNode(nodes, "WORKER-1")
	require.True(t, ok)
	require.Equal(t, "worker-1", n.Name)
	n, ok = mke3.MatchNode(nodes, "other-name", "192.0.2.1", "10.0.0.12")
	require.True(t, ok)
	require.Equal(t, "worker-2", n.Name)
	_, ok = mke3.MatchNode(nodes, "", "")
	require.False(t, ok)

	// the API server did authorize the bundle's user: it may not write
	bundleClient, err := kubernetes.NewForConfig(cfg)
	require.NoError(t, err)
	_, err = bundleClient.CoreV1().Nodes().Create(c, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{})
	require.True(t, apierrors.IsForbidden(err), "err = %v", err)
	require.NotContains(t, logs.String(), string(bundle.KeyPEM))
}
