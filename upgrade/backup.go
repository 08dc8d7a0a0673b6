package upgrade

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/mke-migrate/mke-migrate/convert/mke4"
	"github.com/mke-migrate/mke-migrate/hosts"
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

// passphraseVar is the variable that carries the backup passphrase from
// the remote command's stdin to the encryption command's environment:
// never a command line (ps, /proc/*/cmdline) nor a file.
const passphraseVar = "MKE_MIGRATE_BACKUP_PASSPHRASE"

// backupCmd runs the backup command (expanded) into a .part file, renames
// it when complete and prints its SHA-256. The archive holds MKE 3's CA
// keys and secrets: it is made 0600 (umask 077) in a folder made or set
// 0700. With encrypt, the first line of stdin is the passphrase and the
// archive goes through encrypt before it reaches the disk; the backup's
// own exit status is kept, as sh has no pipefail. With image, the image
// the backup runs is looked for first (imageCheckCmd).
func backupCmd(stateDir, image, backup, remote, encrypt string) string {
	q, d := shell.Quote(remote), shell.Quote(stateDir)
	var b strings.Builder
	fmt.Fprintf(&b, "set -e\numask 077\nmkdir -p %s\nchmod 700 %s\n", d, d)
	if image != "" {
		b.WriteString(imageCheckCmd(image) + "\n")
	}
	if encrypt == "" {
		fmt.Fprintf(&b, "%s > %s.part\n", backup, q)
	} else {
		fmt.Fprintf(&b, "IFS= read -r %s\nexport %s\n", passphraseVar, passphraseVar)
		fmt.Fprintf(&b, "{ set +e; %s; echo $? > %s.status; } | %s > %s.part\n", backup, q, encrypt, q)
		fmt.Fprintf(&b, "st=$(cat %s.status); rm -f %s.status; [ \"$st\" = 0 ] || { echo \"backup failed (exit $st)\" >&2; exit 1; }\n", q, q)
	}
	fmt.Fprintf(&b, "mv %s.part %s\nsha256sum %s", q, q, q)
	return b.String()
}

// backupRemoveCmd removes the archive from the leader once the local copy
// matches it, and the state folder if nothing else is in it.
func backupRemoveCmd(stateDir, remote string) string {
	q := shell.Quote(remote)
	return fmt.Sprintf("rm -f %s %s.part %s.status; rmdir %s 2>/dev/null; true", q, q, q, shell.Quote(stateDir))
}

// backupStep copies MKE 3's own backup archive to the output directory,
// checked against its SHA-256 on the node, and then removes it from the
// node. With Env.BackupPassphrase, the archive is encrypted on the node
// (Commands.Encrypt) before it is written, and kept as
// mke3-backup.tar.enc.
func backupStep(e *Env) *plan.Step {
	c := e.Commands
	remote := backupPath(c.StateDir)
	return &plan.Step{Name: "mke3-backup", Host: e.Cluster.Leader, Phase: PhaseBackup,
		Changes: "takes MKE 3's backup archive on the leader and copies it to the output directory",
		Do: func(ctx context.Context, r *plan.Run) error {
			var out string
			var err error
			name := "mke3-backup.tar"
			if len(e.BackupPassphrase) > 0 {
				name += ".enc"
				stdin := append(append([]byte{}, e.BackupPassphrase...), '\n')
				out, err = r.Node.Exec(ctx, shell.Sudo(backupCmd(c.StateDir, e.ucpImage(), e.expand(c.Backup, ""), remote, c.Encrypt)),
					hosts.WithSudo(), hosts.WithStdin(bytes.NewReader(stdin)))
			} else {
				out, err = sudo(ctx, r.Node, backupCmd(c.StateDir, e.ucpImage(), e.expand(c.Backup, ""), remote, ""))
			}
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
			local := filepath.Join(e.OutputDir, name)
			if err := atomicfile.WriteFile(local, data, 0o600); err != nil {
				return err
			}
			r.Set("sha256", want)
			r.Set("file", local)
			// the copy is safe here: the leader keeps no archive of its
			// secrets
			_, err = sudo(ctx, r.Node, backupRemoveCmd(c.StateDir, remote))
			return err
		},
		// the local copy stays: it is the way back if all else fails
		Undo: func(ctx context.Context, r *plan.Run) error {
			_, err := sudo(ctx, r.Node, backupRemoveCmd(c.StateDir, remote))
			return err
		}}
}

// ucpImage is MKE 3's bootstrapper image, UCPImage:MKE version.
func (e *Env) ucpImage() string { return e.Commands.UCPImage + ":" + e.Cluster.MKEVersion }

// imageInspectCmd succeeds when image is on the node (docker image
// inspect: "Error: No such image" and exit 1 otherwise). It reads no
// stdin: the backup's passphrase comes that way.
func imageInspectCmd(image string) string {
	return "docker image inspect --format '{{.Id}}' " + shell.Word(image) + " </dev/null >/dev/null 2>&1"
}

// imageCheckCmd fails, saying how to load it, when image is neither on
// the node nor pullable (air-gapped): docker run would otherwise fail
// with a pull error that names no remedy.
func imageCheckCmd(image string) string {
	msg := "the MKE 3 image " + image + " is not on this node and cannot be pulled: load it with docker load -i <archive with " +
		image + "> (MKE 3's offline bundle has it), then run the upgrade again"
	return imageInspectCmd(image) + " || docker pull -q " + shell.Word(image) + " </dev/null >/dev/null 2>&1 || { echo " + shell.Quote(msg) + " >&2; exit 1; }"
}
