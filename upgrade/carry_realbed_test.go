package upgrade

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/mke-migrate/mke-migrate/convert/mke4"
	"github.com/mke-migrate/mke-migrate/plan"
	"github.com/mke-migrate/mke-migrate/testbed"
)

// ucpKVDigestCmd prints what shows that ucp-kv was not written: the
// hash of every file of its write-ahead log (every write to etcd is a raft
// entry appended there) and etcd's hash of its whole keyspace with the
// revision (etcdctl endpoint hashkv). Not the bolt file (member/snap/db)
// byte for byte: etcd's snapshot API commits the backend before it
// streams it (etcd server/storage/backend Snapshot), which rewrites the
// file's meta page (bbolt's transaction ID) with the same content; an
// idle etcd leaves it unchanged (measured on the test bed).
const ucpKVDigestCmd = "cd /var/lib/docker/volumes/ucp-kv/_data && find member/wal -type f | LC_ALL=C sort | xargs sha256sum && " +
	"docker run --rm --network host --log-driver none -v ucp-kv-certs:/etc/docker/ssl:ro --entrypoint etcdctl {image} " +
	"--endpoints https://127.0.0.1:12379 --cacert /etc/docker/ssl/ca.pem --cert /etc/docker/ssl/cert.pem --key /etc/docker/ssl/key.pem endpoint hashkv -w json"

// ucpKVLeasesCmd prints every lease ucp-kv holds, one `etcdctl lease
// timetolive --keys -w json` line each (`lease list` prints the IDs in hex
// after a "found N leases" line).
const ucpKVLeasesCmd = "etcdctl() { docker run --rm --network host --log-driver none -v ucp-kv-certs:/etc/docker/ssl:ro --entrypoint etcdctl {image} " +
	"--endpoints https://127.0.0.1:12379 --cacert /etc/docker/ssl/ca.pem --cert /etc/docker/ssl/cert.pem --key /etc/docker/ssl/key.pem \"$@\"; } && " +
	"ids=$(etcdctl lease list | tail -n +2) && for id in $ids; do etcdctl lease timetolive --keys -w json $id || exit 1; done"

// kvLease is a line of `etcdctl lease timetolive --keys -w json`: the
// remaining TTL in seconds and the keys attached (base64).
type kvLease struct {
	ID   int64    `json:"id"`
	TTL  int64    `json:"ttl"`
	Keys []string `json:"keys"`
}

// The data carry on the realistic test bed: a real ucp-kv (etcd with
// client certificates) behind a real MKE 3 API server, seeded with a
// realistic state, carried by the engine's own steps into the fake k0s,
// whose controller runs a real etcd and API server restored from the
// archive. Checked: ucp-kv's write-ahead log and keyspace are unchanged
// after every step of the carry and every undo of the rollback; after the
// carry k0s's API serves every seeded object with the same UID,
// resourceVersion and spec, and accepts a service-account token MKE 3
// issued; after the rollback MKE 3's API serves every seeded object with
// the same UID and resourceVersion.
func TestRealBedCarry(t *testing.T) {
	b := startRealBed(t, 1, 0)
	m := b.c.Managers[0]
	ctx := t.Context()
	if err := b.c.SeedKubernetes(ctx); err != nil {
		t.Fatal(err)
	}
	mcfg, err := b.c.KubeConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	before, err := testbed.KubeObjects(ctx, mcfg)
	if err != nil {
		t.Fatal(err)
	}
	token := seededToken(t, mcfg)

	// what Discover reads on the leader
	out, err := b.c.Exec(ctx, m, b.env.Commands.Inspect)
	if err != nil {
		t.Fatal(err)
	}
	carry, err := parseCarry([]byte(out), m.Name, CarryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if carry.EtcdPrefix != DefaultEtcdPrefix || carry.KVImage == "" {
		t.Fatalf("carry %+v", carry)
	}
	cfg := mke4.Default()
	e := b.env
	e.Cluster.Config, e.Cluster.Carry = &cfg, carry
	if e.Cluster.K0sConfig, err = k0sConfig(&cfg, carry); err != nil {
		t.Fatal(err)
	}
	e.K0sBinary, err = testbed.FakeK0sBinary("v1.33.4+k0s.0")
	if err != nil {
		t.Fatal(err)
	}
	// what Env and Steps do for a run: the delivery checked against the
	// binary (its SHA-256) and its state made
	if e.Delivery, err = (Delivery{Mode: DeliveryUpload}).resolve(e.K0sBinary); err != nil {
		t.Fatal(err)
	}
	e.delivery = newDeliveryState(e.Delivery)
	// finding 2's fix: Swarm drains the node, so neither Swarm nor the
	// agent restarts MKE 3's components, then the default stop list
	e.Commands.Ready = time.Minute

	steps := []*plan.Step{swarmDrainNodesStep(e, "swarm-drain", append(slices.Clone(e.Cluster.Managers), e.Cluster.Workers...)), stopStep(e, m.Name), snapshotStep(e), k0sBinaryStep(e, m.Name), restoreStep(e), controllerStep(e, m.Name, true), carryCleanupStep(e)}
	runs := make([]*plan.Run, len(steps))
	doTo := func(from, k int) {
		t.Helper()
		for i := from; i <= k; i++ {
			var data map[string]string
			if runs[i] != nil {
				data = runs[i].Data()
			}
			runs[i] = plan.NewRun(steps[i], b.nodes[m.Name], nil, data)
			if err := steps[i].Do(ctx, runs[i]); err != nil {
				t.Fatalf("%s: %v", steps[i].ID(), err)
			}
		}
	}
	undoFrom := func(k, to int) {
		t.Helper()
		for i := k; i >= to; i-- {
			if err := steps[i].Undo(ctx, runs[i]); err != nil {
				t.Fatalf("undo %s: %v", steps[i].ID(), err)
			}
		}
	}
	kvDigest := func() string {
		t.Helper()
		out, err := b.c.Exec(ctx, m, expandCarry(ucpKVDigestCmd, carry.KVImage, ""))
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	// Every step forward, then every undo back: ucp-kv's log and keyspace
	// are checked after each, so a rollback from any step finds them as
	// they were when MKE 3 stopped.
	doTo(0, 1)
	// A stopped MKE 3 still has etcd's own writes to come: the leader
	// revokes every lease that expires, through raft, so each revocation
	// is an entry in the write-ahead log (etcd v3.7.3
	// server/lease/lessor.go runLoop -> revokeExpiredLeases, then
	// server/etcdserver/server.go run -> revokeExpiredLeases ->
	// LeaseRevoke). MKE 3's API server leaves leases with no key behind
	// (each update of its /registry/masterleases key attaches a new
	// 15-second lease, k8s.io/apiserver storage/etcd3 lease_manager.go, and
	// a graceful stop deletes the key): they expire seconds after the stop,
	// in whichever step runs then, with the keyspace unchanged. Neither the
	// engine nor MKE 3 writes them; the baseline is taken once they are
	// gone, so that the log is compared byte for byte. A lease with keys
	// left (events: one hour) must outlive the test, or its expiry would
	// delete keys.
	waitKVLeasesKept(t, b.c, m, carry.KVImage)
	stopped := kvDigest()
	t.Logf("ucp-kv with MKE 3 stopped:\n%s", stopped)
	for k := 2; k < len(steps); k++ {
		doTo(k, k)
		if got := kvDigest(); got != stopped {
			t.Fatalf("ucp-kv's data changed by %s:\n%s\nnow\n%s", steps[k].ID(), stopped, got)
		}
	}
	kc, err := b.c.Exec(ctx, m, "k0s kubeconfig admin")
	if err != nil {
		t.Fatal(err)
	}
	kcfg, err := clientcmd.RESTConfigFromKubeConfig([]byte(kc))
	if err != nil {
		t.Fatal(err)
	}
	kcfg.Host = "https://" + m.Address + ":6443"
	// k0s's own controllers reconcile what they own once they run (a
	// Deployment's revision annotation, a PV's bind annotations, a token
	// Secret's ca.crt, the Node a controller's kubelet updates), as they
	// would on a real cluster: here every object keeps its UID; the e2e
	// test compares them whole, leaving out those documented fields
	waitObjects(t, kcfg, byUID(before), "k0s after the carry", byUID)
	// a token MKE 3's controller manager signed is valid on k0s's API
	tcfg := rest.AnonymousClientConfig(kcfg)
	tcfg.BearerToken = token.value
	cs, err := kubernetes.NewForConfig(tcfg)
	if err != nil {
		t.Fatal(err)
	}
	r, err := cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("MKE 3's token for %s on k0s: %v", token.sa, err)
	}
	if want := "system:serviceaccount:" + token.sa; r.Status.UserInfo.Username != want {
		t.Fatalf("token of %q, want %q", r.Status.UserInfo.Username, want)
	}
	if _, err := b.c.Exec(ctx, m, "test ! -e "+carryDir(e.Commands.StateDir)); err != nil {
		t.Error("the carry archive is left on the leader")
	}

	// the rollback, newest step first
	for k := len(steps) - 1; k >= 1; k-- {
		undoFrom(k, k)
		if got := kvDigest(); got != stopped {
			t.Fatalf("ucp-kv's data changed after the undo of %s:\n%s\nnow\n%s", steps[k].ID(), stopped, got)
		}
	}
	undoFrom(1, 0)
	waitObjects(t, mcfg, before, "MKE 3 after the rollback", nil)
}

// waitKVLeasesKept waits until every lease ucp-kv holds has keys attached
// and at least 10 minutes to live: the leases etcd would revoke by itself
// during the test are gone.
func waitKVLeasesKept(t *testing.T, c *testbed.Cluster, m *testbed.Host, image string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute) // a safety net: MKE 3's key-less leases live 15 s
	defer cancel()
	var last, first string
	for {
		out, err := c.Exec(ctx, m, expandCarry(ucpKVLeasesCmd, image, ""))
		if err == nil {
			last = ""
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				if line == "" {
					continue
				}
				var l kvLease
				if err := json.Unmarshal([]byte(line), &l); err != nil {
					t.Fatalf("lease timetolive: %v: %q", err, line)
				}
				switch {
				case len(l.Keys) == 0:
					last += fmt.Sprintf("lease %x has no key and %d s to live; ", l.ID, l.TTL)
				case l.TTL < 600:
					t.Fatalf("ucp-kv's lease %x holds %d keys and expires in %d s, during the test: etcd would delete them", l.ID, len(l.Keys), l.TTL)
				}
			}
			if last == "" {
				if first != "" {
					t.Logf("waited for etcd to revoke: %s", first)
				}
				return
			}
			if first == "" {
				first = last
			}
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			t.Fatalf("ucp-kv's key-less leases did not expire: %s", last)
		case <-time.After(time.Second):
		}
	}
}

type saToken struct{ sa, value string }

// seededToken is a legacy service-account token MKE 3's controller
// manager filled in.
func seededToken(t *testing.T, cfg *rest.Config) saToken {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l, err := cs.CoreV1().Secrets("").List(t.Context(), metav1.ListOptions{LabelSelector: testbed.SeedLabel + "=true", FieldSelector: "type=" + string(corev1.SecretTypeServiceAccountToken)})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range l.Items {
		if tok := s.Data[corev1.ServiceAccountTokenKey]; len(tok) > 0 {
			return saToken{sa: s.Namespace + ":" + s.Annotations[corev1.ServiceAccountNameKey], value: string(tok)}
		}
	}
	t.Fatal("no seeded service-account token")
	return saToken{}
}

// waitObjects waits until the API of cfg serves exactly the seeded
// objects of want (same UID, resourceVersion and spec), failing with the
// difference after a generous safety net.
// byUID keeps only the identity of objects: resource, name and UID.
func byUID(objs []testbed.Object) []testbed.Object {
	out := slices.Clone(objs)
	for i := range out {
		out[i].ResourceVersion, out[i].SpecHash = "", strings.Repeat("-", 12)
	}
	return out
}

// waitObjects waits until cfg's API serves want (through norm, if any).
func waitObjects(t *testing.T, cfg *rest.Config, want []testbed.Object, where string, norm func([]testbed.Object) []testbed.Object) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	var last error
	for {
		got, err := testbed.KubeObjects(ctx, cfg)
		if err == nil && norm != nil {
			got = norm(got)
		}
		if err == nil {
			if err = testbed.DiffObjects(want, got); err == nil {
				t.Logf("%s: %d seeded objects, the same (%s)", where, len(got), kinds(got))
				return
			}
		}
		if err != nil && (last == nil || err.Error() != last.Error()) {
			t.Logf("%s: %v", where, err)
		}
		if err != nil && ctx.Err() == nil {
			last = err
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %v", where, last)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func kinds(objs []testbed.Object) string {
	var b strings.Builder
	for k, n := range testbed.CountKinds(objs) {
		fmt.Fprintf(&b, "%s=%d ", k, n)
	}
	return strings.TrimSpace(b.String())
}
