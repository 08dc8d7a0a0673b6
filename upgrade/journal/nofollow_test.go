package journal

import (
	"os"
	"path/filepath"
	"testing"
)

// F9 (issue 14): Open followed a symbolic link at journal.jsonl, then
// appended to (and cut a torn last line off) whatever it pointed at. The
// output folder's lock file is written and truncated: the same rule.
func TestOpenAndLockDirDoNotFollowLinks(t *testing.T) {
	// another run's journal, with a torn last line that Open would cut
	other := t.TempDir()
	j := mustCreate(t, other)
	j.Close()
	target := filepath.Join(other, FileName)
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`{"torn`); err != nil {
		t.Fatal(err)
	}
	f.Close()
	before, err := os.ReadFile(target)
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	if err := os.Symlink(target, filepath.Join(dir, FileName)); err != nil {
		t.Fatal(err)
	}
	if jj, err := Open(dir, Options{}); err == nil {
		jj.Close()
		t.Error("Open followed a symbolic link")
	}

	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(dir, LockFileName)); err != nil {
		t.Fatal(err)
	}
	if release, err := LockDir(dir, "run-2"); err == nil {
		_ = release()
		t.Error("LockDir followed a symbolic link")
	}

	if after, _ := os.ReadFile(target); string(after) != string(before) {
		t.Errorf("the linked journal changed:\n%s\nbecame\n%s", before, after)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep" {
		t.Errorf("the linked lock target became %q", b)
	}
}
