package upgrade

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/mke-migrate/mke-migrate/convert/mke4"
	"github.com/mke-migrate/mke-migrate/internal/atomicfile"
	"github.com/mke-migrate/mke-migrate/internal/shell"
	"github.com/mke-migrate/mke-migrate/plan"
	"github.com/mke-migrate/mke-migrate/rbac"
)

// saveInputsStep keeps what the upgrade starts from in the output
// directory. A local step.
func saveInputsStep(e *Env) *plan.Step {
	sh := e.Cluster
	return &plan.Step{Name: "save-inputs", Phase: PhaseBackup, Changes: "writes mke3.toml, mke4.yaml (preview) and the RBAC export to the output directory",
		Do: func(ctx context.Context, r *plan.Run) error {
			files := map[string][]byte{"mke3.toml": sh.MKE3TOML}
			y, err := mke4.Marshal(*sh.Config)
			if err != nil {
				return err
			}
			files["mke4.yaml"] = y
			if sh.RBACModel != nil {
				if files["rbac-export.json"], err = rbac.EncodeExport(sh.RBACModel); err != nil {
					return err
				}
			}
			for name, b := range files {
				if err := atomicfile.WriteFile(filepath.Join(e.OutputDir, name), b, 0o600); err != nil {
					return err
				}
			}
			return nil
		}}
}

// backupPath is where MKE 3's backup archive is made on the leader.
func backupPath(stateDir string) string { return strings.TrimRight(stateDir, "/") + "/mke3-backup.tar" }

// backupCmd runs the backup command (expanded) into a .part file, renames
// it when complete and prints its SHA-256.
func backupCmd(stateDir, backup, remote string) string {
	q := shell.Quote(remote)
	return fmt.Sprintf("mkdir -p %s && %s > %s.part && mv %s.part %s && sha256sum %s", shell.Quote(stateDir), backup, q, q, q, q)
}

// backupUndoCmd removes the archive from the leader, and the state folder
// if nothing else is in it.
func backupUndoCmd(stateDir, remote string) string {
	q := shell.Quote(remote)
	return fmt.Sprintf("rm -f %s %s.part; rmdir %s 2>/dev/null; true", q, q, shell.Quote(stateDir))
}

// backupStep copies MKE 3's own backup archive to the output directory,
// checked against its SHA-256 on the node.
func backupStep(e *Env) *plan.Step {
	c := e.Commands
	remote := backupPath(c.StateDir)
	return &plan.Step{Name: "mke3-backup", Host: e.Cluster.Leader, Phase: PhaseBackup,
		Changes: "takes MKE 3's backup archive on the leader and copies it to the output directory",
		Do: func(ctx context.Context, r *plan.Run) error {
			out, err := sudo(ctx, r.Node, backupCmd(c.StateDir, e.expand(c.Backup, ""), remote))
			if err != nil {
				return err
			}
			want, _, _ := strings.Cut(out, " ")
			data, err := r.Node.ReadFile(ctx, remote, true)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(data)
			if got := hex.EncodeToString(sum[:]); got != want {
				return fmt.Errorf("backup copy is corrupt: SHA-256 %s on the node, %s here", want, got)
			}
			local := filepath.Join(e.OutputDir, "mke3-backup.tar")
			if err := atomicfile.WriteFile(local, data, 0o600); err != nil {
				return err
			}
			r.Set("sha256", want)
			r.Set("file", local)
			return nil
		},
		// the local copy stays: it is the way back if all else fails
		Undo: func(ctx context.Context, r *plan.Run) error {
			_, err := sudo(ctx, r.Node, backupUndoCmd(c.StateDir, remote))
			return err
		}}
}
