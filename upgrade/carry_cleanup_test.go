package upgrade

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/plan"
)

// localNode runs commands in a local sh, with path's folders first on
// PATH (stand-ins for the node's tools), as a node's login shell would.
type localNode struct{ path string }

func (n localNode) Exec(ctx context.Context, cmd string, _ ...hosts.ExecOption) (string, error) {
	c := exec.CommandContext(ctx, "sh", "-c", cmd)
	c.Env = append(os.Environ(), "PATH="+n.path+":"+os.Getenv("PATH"))
	var out, errb bytes.Buffer
	c.Stdout, c.Stderr = &out, &errb
	err := c.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return "", &hosts.CommandError{ExitCode: ee.ExitCode(), Stderr: strings.TrimSpace(errb.String()), Err: err}
	}
	return strings.TrimSpace(out.String()), err
}

func (localNode) Upload(context.Context, []byte, string, fs.FileMode, bool) error {
	return errors.New("localNode: no upload")
}

func (localNode) ReadFile(context.Context, string, bool) ([]byte, error) {
	return nil, errors.New("localNode: no read")
}

// carry-cleanup removes the carry archive (MKE 3's service-account keys
// and etcd data) from the leader: an rm -rf that fails (GNU rm exits 1
// when a file cannot be removed, -f or not: -f only ignores missing
// files, coreutils rm(1); a read-only or immutable file does that even
// for root) fails the step and its undo, which name the folder, instead
// of leaving the archive behind unseen. The fault: a stand-in rm first on
// PATH that fails as GNU rm does.
func TestCarryCleanupFailsWhenTheArchiveStays(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	fc := newFakeCluster(leader)
	e := carryEnv(fc)
	state := filepath.Join(t.TempDir(), "state")
	e.Commands.StateDir = state
	archive := carryArchive(state)
	stub := t.TempDir()
	s := carryCleanupStep(e)
	for _, tc := range []struct {
		name string
		f    func(context.Context, *plan.Run) error
	}{{"do", s.Do}, {"undo", s.Undo}} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.MkdirAll(filepath.Dir(archive), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(archive, []byte("keys"), 0o600); err != nil {
				t.Fatal(err)
			}
			rm := filepath.Join(stub, "rm")
			if err := os.WriteFile(rm, []byte("#!/bin/sh\necho \"rm: cannot remove '$2': Operation not permitted\" >&2\nexit 1\n"), 0o755); err != nil {
				t.Fatal(err)
			}
			err := tc.f(t.Context(), plan.NewRun(s, localNode{stub}, nil, nil))
			if err == nil {
				t.Fatal("a failed rm -rf of the carry archive did not fail the step")
			}
			t.Log(err)
			if !strings.Contains(err.Error(), carryDir(state)) {
				t.Errorf("the error does not name the carry folder: %v", err)
			}
			if _, serr := os.Stat(archive); serr != nil {
				t.Fatalf("the archive is gone, yet the step failed: %v", serr)
			}
			// rm works again: the step removes the folder, and the state
			// folder with it when nothing else is there
			if err := os.Remove(rm); err != nil {
				t.Fatal(err)
			}
			if err := tc.f(t.Context(), plan.NewRun(s, localNode{stub}, nil, nil)); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(state); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("the state folder is left: %v", err)
			}
			// nothing to remove: nothing fails
			if err := tc.f(t.Context(), plan.NewRun(s, localNode{stub}, nil, nil)); err != nil {
				t.Fatal(err)
			}
		})
	}
}
