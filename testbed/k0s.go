package testbed

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/mke-migrate/mke-migrate/internal/kubetest"
	"github.com/mke-migrate/mke-migrate/testbed/internal/fakestate"
)

// RealK0s makes the fake k0s of every host of c run a real control plane
// (etcd, kube-apiserver, kube-controller-manager in k0s's layout and
// ports, the join API on 9443) instead of keeping JSON state only: it
// writes the folder of kubetest.Assets, as the hosts see it, to each node's
// fakestate.KubeAssetsFile. A realistic cluster (a node whose seed names a
// testbin folder) runs real k0s without it. It fails with
// kubetest.ErrNoBinaries when etcdutl, etcdctl or kubectl are missing too.
func (c *Cluster) RealK0s(ctx context.Context) error {
	assets, err := kubetest.Assets()
	if err != nil {
		return err
	}
	for _, b := range []string{"etcdutl", "etcdctl", "kubectl"} {
		if _, err := os.Stat(filepath.Join(assets, b)); err != nil {
			return fmt.Errorf("%w: no %s in %s", kubetest.ErrNoBinaries, b, assets)
		}
	}
	vis, err := hostVisible(assets)
	if err != nil {
		return fmt.Errorf("testbed: %w", err)
	}
	for _, h := range c.Hosts {
		if _, err := c.Exec(ctx, h, "echo "+vis+" > "+fakestate.Dir+"/"+fakestate.KubeAssetsFile); err != nil {
			return err
		}
	}
	return nil
}

// hostVisible returns a folder the hosts see with the files of dir: a
// host mounts fresh /root, /tmp and /run over the machine's, so a folder
// under them is hard-linked into /var/tmp/mke-migrate-testbin/<name>.
func hostVisible(dir string) (string, error) {
	masked := false
	for _, m := range []string{"/root/", "/tmp/", "/run/"} {
		masked = masked || strings.HasPrefix(dir+"/", m)
	}
	if !masked {
		return dir, nil
	}
	dst := filepath.Join("/var/tmp/mke-migrate-testbin", filepath.Base(dir))
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return "", err
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	for _, e := range ents {
		src, to := filepath.Join(dir, e.Name()), filepath.Join(dst, e.Name())
		if !e.Type().IsRegular() {
			continue
		}
		if sfi, err := os.Stat(src); err != nil {
			return "", err
		} else if dfi, err := os.Stat(to); err == nil && os.SameFile(sfi, dfi) {
			continue
		}
		tmp := to + ".tmp"
		_ = os.Remove(tmp)
		if err := os.Link(src, tmp); err != nil {
			return "", err
		}
		if err := os.Rename(tmp, to); err != nil {
			return "", err
		}
	}
	return dst, nil
}
