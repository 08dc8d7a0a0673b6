//go:build !fakenodelight

package main

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/k0sproject/k0s/pkg/apis/k0s/v1beta1"
)

// restore is cmd/restore/restore_unix.go with pkg/backup (v1.33.9+k0s.0):
// refuse while k0s runs, unpack the tar.gz, parse its k0s.yaml, restore
// etcd from etcd-snapshot.db (etcdutl snapshot restore, as
// etcd_unix.go's RestoreConfig), copy pki, manifests, images and helm
// folders into the data dir (filesystem_unix.go), and write k0s.yaml to
// configOut (config_unix.go).
func (e *env) restore(archive, configOut, dataDir string) error {
	if !e.isRoot() {
		return errNotRoot
	}
	if st, _ := e.running(); st != nil && st.Pid != 0 {
		// logrus.Fatal
		return fail(1, "time=%q level=fatal msg=\"k0s seems to be running! k0s must be down during the restore operation.\"", now().UTC().Format(time.DateTime))
	}
	if archive == "-" {
		return unsupported("k0s", []string{"restore", "-"})
	}
	src := e.hostPath(archive)
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("given file %s does not exist", archive)
	}
	dataDir = e.hostPath(dataDir)
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return err
	}
	if configOut == "" {
		name := strings.Split(filepath.Base(archive), ".")[0]
		configOut = fmt.Sprintf("k0s_%s.yaml", strings.TrimPrefix(name, "k0s_backup_"))
	}
	tmp, err := os.MkdirTemp("", "k0s-backup")
	if err != nil {
		return fmt.Errorf("failed to create temporary directory: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := extractTarGz(src, tmp); err != nil {
		return fmt.Errorf("failed to unpack backup archive `%s`: %w", archive, err)
	}
	b, err := os.ReadFile(filepath.Join(tmp, "k0s.yaml"))
	var cfg *v1beta1.ClusterConfig
	if err == nil {
		cfg, err = v1beta1.ConfigFromBytes(b)
	}
	if err != nil {
		return fmt.Errorf("failed to parse backed-up configuration file, check the backup archive: %w", err)
	}
	logInfo := func(format string, a ...any) {
		fmt.Fprintf(e.stderr, "time=%q level=info msg=%q\n", now().UTC().Format(time.DateTime), fmt.Sprintf(format, a...))
	}
	logInfo("Starting restore")
	st := cfg.Spec.Storage
	if st.Type == v1beta1.EtcdStorageType && !st.Etcd.IsExternalClusterUsed() {
		logInfo("Restore step: etcd")
		if err := e.restoreEtcd(tmp, st.Etcd.PeerAddress, filepath.Join(dataDir, "etcd")); err != nil {
			return fmt.Errorf("failed to restore on step `etcd`: %w", err)
		}
	}
	// CertRootDir, ManifestsDir, OCIBundleDir, HelmHome, HelmRepositoryConfig
	for _, p := range []string{"pki", "manifests", "images", "helmhome", "helmhome/repositories.yaml"} {
		base := filepath.Base(p)
		logInfo("Restore step: filesystem path `%s`", filepath.Join(dataDir, p))
		from := filepath.Join(tmp, base)
		if _, err := os.Lstat(from); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		logInfo("restoring from `%s` to `%s`", from, dataDir)
		if err := copyTree(from, filepath.Join(dataDir, base)); err != nil {
			return fmt.Errorf("failed to restore on step `filesystem path `%s``: %w", filepath.Join(dataDir, p), err)
		}
	}
	logInfo("Restore step: k0s-config")
	if configOut == "-" {
		_, err := e.stdout.Write(b)
		return err
	}
	logInfo("restoring from `%s` to `%s`", filepath.Join(tmp, "k0s.yaml"), configOut)
	out := e.hostPath(configOut)
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return fmt.Errorf("failed to restore on step `k0s-config`: %w", err)
	}
	if err := os.WriteFile(out, b, 0o644); err != nil {
		return fmt.Errorf("failed to restore on step `k0s-config`: %w", err)
	}
	return nil
}

// restoreEtcd is etcdStep.Restore: the member is named after the host,
// its peer URL https://<peerAddress>:2380. In real mode etcdutl does it;
// in fast mode the snapshot is copied where etcd keeps its database.
func (e *env) restoreEtcd(from, peerAddress, dataDir string) error {
	snap := filepath.Join(from, "etcd-snapshot.db")
	if _, err := os.Stat(snap); err != nil {
		return fmt.Errorf("etcd snapshot not found at %s", snap)
	}
	name, err := os.Hostname()
	if err != nil {
		return err
	}
	peerURL := "https://" + net.JoinHostPort(peerAddress, "2380")
	assets := e.kubeAssets()
	if assets == "" {
		if _, err := os.Stat(dataDir); err == nil {
			return fmt.Errorf("data-dir %q not empty or could not be read", dataDir)
		}
		return copyTree(snap, filepath.Join(dataDir, "member", "snap", "db"))
	}
	cmd := exec.Command(filepath.Join(assets, "etcdutl"), "snapshot", "restore", snap,
		"--name", name, "--initial-cluster", name+"="+peerURL, "--initial-advertise-peer-urls", peerURL,
		"--data-dir", dataDir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

// extractTarGz unpacks a gzipped tar into dir; entries that would land
// outside dir are refused.
func extractTarGz(path, dir string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name := filepath.Clean(h.Name)
		if filepath.IsAbs(name) || name == ".." || strings.HasPrefix(name, "../") {
			return fmt.Errorf("archive entry %q is outside the archive's folder", h.Name)
		}
		dst := filepath.Join(dir, name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			w, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, fs.FileMode(h.Mode)&0o777)
			if err != nil {
				return err
			}
			_, err = io.Copy(w, tr)
			if cerr := w.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		default:
			return fmt.Errorf("archive entry %q: unsupported type %c", h.Name, h.Typeflag)
		}
	}
}

// copyTree copies a file or a folder (otiai10/copy's Copy as k0s uses it:
// into place, keeping modes).
func copyTree(from, to string) error {
	return filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(dst, fi.Mode().Perm()|0o700)
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, fi.Mode().Perm())
	})
}
