package upgrade

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mke-migrate/mke-migrate/internal/atomicfile"
	"github.com/mke-migrate/mke-migrate/plan"
)

// BackupInfo is what an MKE 3 backup archive says about itself.
//
// mirantis/ucp backup writes "a tar file with the contents of the volumes
// used by this manager" (MKE 3.8 CLI reference, "backup"): one top-level
// folder per volume, ucp-kv (etcd) among them. Where the archive names the
// cluster and the MKE version is not documented; the default reader takes
// them from backup.json at the archive's root (mkeVersion, clusterID), as
// the test bed's bootstrapper writes it, and refuses an archive without
// them: a backup that cannot be tied to this cluster is not used.
// Options.BackupInfo replaces the reader for another layout.
type BackupInfo struct {
	MKEVersion string   `json:"mkeVersion"`
	ClusterID  string   `json:"clusterID"`
	Volumes    []string `json:"-"` // top-level folders, sorted
}

// backupMetaFile is the archive member the default reader takes the
// cluster ID and version from.
const backupMetaFile = "backup.json"

// maxBackupMeta bounds backup.json.
const maxBackupMeta = 1 << 20

// ReadBackupInfo reads an MKE 3 backup archive (a plain tar: decrypt one
// made with --passphrase first) and returns what it says about itself.
func ReadBackupInfo(r io.Reader) (*BackupInfo, error) {
	br := bufio.NewReader(r)
	// tar's magic is at offset 257 ("ustar"); a gzip, PGP or openssl
	// file is named rather than reported as a broken tar
	head, _ := br.Peek(262)
	switch {
	case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
		return nil, errors.New("a gzip file, not MKE 3's backup tar (mirantis/ucp backup writes a plain tar)")
	case strings.HasPrefix(string(head), "Salted__"):
		return nil, errors.New("encrypted with openssl (mke-migrate's --backup-passphrase): decrypt it first")
	case len(head) < 262 || string(head[257:262]) != "ustar":
		return nil, errors.New("not a tar archive (a backup made with --passphrase is PGP-encrypted: decrypt it with gpg first)")
	}
	tr := tar.NewReader(br)
	info := &BackupInfo{}
	var meta []byte
	vols := map[string]bool{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("not a complete tar archive: %w", err)
		}
		name := path.Clean(strings.TrimPrefix(h.Name, "./"))
		if top, _, nested := strings.Cut(name, "/"); nested || h.Typeflag == tar.TypeDir {
			vols[top] = true
		}
		if name == backupMetaFile && h.Typeflag == tar.TypeReg {
			if meta, err = io.ReadAll(io.LimitReader(tr, maxBackupMeta+1)); err != nil {
				return nil, fmt.Errorf("not a complete tar archive: %s: %w", backupMetaFile, err)
			}
			if len(meta) > maxBackupMeta {
				return nil, fmt.Errorf("%s: larger than %d bytes", backupMetaFile, maxBackupMeta)
			}
		}
	}
	for v := range vols {
		info.Volumes = append(info.Volumes, v)
	}
	slices.Sort(info.Volumes)
	if !vols["ucp-kv"] {
		return nil, fmt.Errorf("no ucp-kv folder (MKE 3's etcd): not an MKE 3 manager backup (folders: %s)", strings.Join(info.Volumes, ", "))
	}
	if meta == nil {
		return nil, fmt.Errorf("no %s naming the cluster ID and MKE version: the archive cannot be tied to this cluster", backupMetaFile)
	}
	if err := json.Unmarshal(meta, info); err != nil {
		return nil, fmt.Errorf("%s: %w", backupMetaFile, err)
	}
	if info.ClusterID == "" || info.MKEVersion == "" {
		return nil, fmt.Errorf("%s names no cluster ID or no MKE version", backupMetaFile)
	}
	return info, nil
}

// BackupPathError is a --backup-path archive that is not usable for this
// cluster. Nothing has changed when Discover returns it.
type BackupPathError struct {
	Path string
	Err  error
}

func (e *BackupPathError) Error() string {
	return fmt.Sprintf("upgrade: backup %s: %v", e.Path, e.Err)
}

func (e *BackupPathError) Unwrap() error { return e.Err }

// verifyBackup checks that the archive at p is readable, an MKE 3 backup,
// and of this cluster and version; it returns the archive's SHA-256.
func verifyBackup(p string, read func(io.Reader) (*BackupInfo, error), clusterID, version string) (string, error) {
	bad := func(err error) (string, error) { return "", &BackupPathError{Path: p, Err: err} }
	f, err := os.Open(p)
	if err != nil {
		return bad(err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return bad(err)
	} else if !fi.Mode().IsRegular() {
		return bad(errors.New("not a regular file"))
	}
	h := sha256.New()
	if read == nil {
		read = ReadBackupInfo
	}
	info, err := read(io.TeeReader(f, h))
	if err != nil {
		return bad(err)
	}
	if _, err := io.Copy(h, f); err != nil {
		return bad(err)
	}
	switch {
	case info.ClusterID != clusterID:
		return bad(fmt.Errorf("of cluster %q, not of this cluster %q", info.ClusterID, clusterID))
	case info.MKEVersion != version:
		return bad(fmt.Errorf("of MKE %s, but the cluster runs MKE %s: take a new backup", info.MKEVersion, version))
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// checkBackupPath verifies Options.BackupPath against the discovered
// cluster, before anything changes.
func (o *Options) checkBackupPath(sh *Shared) error {
	if o.BackupPath == "" {
		return nil
	}
	if _, err := verifyBackup(o.BackupPath, o.BackupInfo, sh.ClusterID, sh.MKEVersion); err != nil {
		return err
	}
	sh.BackupPath = o.BackupPath
	return nil
}

// givenBackupStep replaces the backup step when the operator gives an
// existing MKE 3 backup: verified again (it may have changed since
// Discover) and copied into the output directory as the run's way back;
// nothing runs on the nodes.
func givenBackupStep(e *Env) *plan.Step {
	src := e.Cluster.BackupPath
	return &plan.Step{Name: "mke3-backup", Host: e.Cluster.Leader, Phase: PhaseBackup,
		Changes: "uses the given MKE 3 backup " + src + " (verified: this cluster's ID and version), copied to the output directory",
		Do: func(ctx context.Context, r *plan.Run) error {
			sum, err := verifyBackup(src, e.BackupInfo, e.Cluster.ClusterID, e.Cluster.MKEVersion)
			if err != nil {
				return err
			}
			// streamed (backups can be large), its hash checked against
			// the verified one before the copy is renamed into place
			local := filepath.Join(e.OutputDir, "mke3-backup.tar")
			err = atomicfile.Write(local, 0o600, func(w io.Writer) error {
				f, err := os.Open(src)
				if err != nil {
					return err
				}
				defer f.Close()
				h := sha256.New()
				if _, err := io.Copy(io.MultiWriter(w, h), f); err != nil {
					return err
				}
				if hex.EncodeToString(h.Sum(nil)) != sum {
					return fmt.Errorf("backup %s changed while it was copied", src)
				}
				return nil
			})
			if err != nil {
				return err
			}
			r.Set("sha256", sum)
			r.Set("file", local)
			r.Set("source", src)
			return nil
		},
		// the copy stays, as the backup step's does
		Undo: func(context.Context, *plan.Run) error { return nil }}
}
