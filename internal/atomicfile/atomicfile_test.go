package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteFileReplacesAndSetsMode(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.yaml")
	require.NoError(t, os.WriteFile(p, []byte("old"), 0o644))
	require.NoError(t, WriteFile(p, []byte("new"), 0o600))
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, "new", string(b))
	st, err := os.Stat(p)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file may be left behind")
}

func TestWriteFileFailureLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	// The target is a directory: the rename fails after the temp file exists.
	p := filepath.Join(dir, "target")
	require.NoError(t, os.Mkdir(p, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(p, "keep"), []byte("x"), 0o644))
	err := WriteFile(p, []byte("data"), 0o600)
	require.Error(t, err)
	assert.Contains(t, err.Error(), p)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "the temporary file must be removed")
}

func TestWriteFileMissingDir(t *testing.T) {
	err := WriteFile(filepath.Join(t.TempDir(), "no", "such", "f"), []byte("x"), 0o600)
	require.Error(t, err)
}

// F1 (issue 14): renaming over a device, link or folder replaces something
// that is not ours. Each must be refused and left as it was.
func TestWriteFileRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	require.NoError(t, os.WriteFile(victim, []byte("keep"), 0o644))
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink(victim, link))
	dangling := filepath.Join(dir, "dangling")
	require.NoError(t, os.Symlink(filepath.Join(dir, "nowhere"), dangling))
	sub := filepath.Join(dir, "sub")
	require.NoError(t, os.Mkdir(sub, 0o700))
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))
	// Never the machine's own /dev: a regression would replace it. A
	// device node of our own (root only), like /dev/null (1, 3); and a
	// link to a file descriptor, like /dev/stdout.
	null := filepath.Join(dir, "null")
	if err := syscall.Mknod(null, syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
		null = ""
	}
	stdout := filepath.Join(dir, "stdout")
	require.NoError(t, os.Symlink("/proc/self/fd/1", stdout))

	cases := map[string]string{
		"symlink to a file":     link,
		"dangling symlink":      dangling,
		"directory":             sub,
		"named pipe":            fifo,
		"device like /dev/null": null,
		"link like /dev/stdout": stdout,
	}
	for name, p := range cases {
		t.Run(name, func(t *testing.T) {
			if p == "" {
				t.Skip("making a device node needs root")
			}
			before, err := os.Lstat(p)
			require.NoError(t, err)
			for what, err := range map[string]error{"Check": Check(p), "WriteFile": WriteFile(p, []byte("new"), 0o600)} {
				require.Error(t, err, what)
				assert.ErrorIs(t, err, ErrUnusable, what)
				assert.Contains(t, err.Error(), p, what)
			}
			after, err := os.Lstat(p)
			require.NoError(t, err)
			assert.Equal(t, before.Mode(), after.Mode(), "the path was replaced")
			assert.True(t, os.SameFile(before, after), "the path was replaced")
		})
	}
	b, err := os.ReadFile(victim)
	require.NoError(t, err)
	assert.Equal(t, "keep", string(b), "written through the link")
	_, err = os.Lstat(filepath.Join(dir, "nowhere"))
	assert.ErrorIs(t, err, os.ErrNotExist, "a dangling link's target was created")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	want := 6 // victim and the cases made
	if null != "" {
		want++
	}
	assert.Len(t, entries, want, "no temporary file may be left behind")
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	assert.NoError(t, Check(file), "an existing regular file")
	assert.NoError(t, Check(filepath.Join(dir, "new")), "a new file in an existing folder")
	for name, p := range map[string]string{
		"missing folder":      filepath.Join(dir, "no", "such", "f"),
		"file as folder":      filepath.Join(file, "x"),
		"empty path":          "",
		"folder as the file":  dir,
		"missing folder only": filepath.Join(dir, "missing") + "/f",
	} {
		err := Check(p)
		require.Error(t, err, name)
		assert.ErrorIs(t, err, ErrUnusable, name)
		var ue *UnusableError
		require.ErrorAs(t, err, &ue, name)
		assert.Equal(t, p, ue.Path, name)
	}
	// A missing folder is ErrUnusable from WriteFile too, so that the
	// commands exit 2 even when nothing checked first.
	assert.ErrorIs(t, WriteFile(filepath.Join(dir, "no", "f"), nil, 0o600), ErrUnusable)
}

func TestCheckUnwritableFolder(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root may write anywhere")
	}
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o500))
	t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
	assert.ErrorIs(t, Check(filepath.Join(dir, "f")), ErrUnusable)
}

func ExampleCheck() {
	dir, _ := os.MkdirTemp("", "example-")
	defer os.RemoveAll(dir)
	_ = os.Symlink("/etc/hostname", filepath.Join(dir, "link"))

	fmt.Println(Check(filepath.Join(dir, "new.yaml")))
	err := WriteFile(filepath.Join(dir, "link"), []byte("x"), 0o600)
	fmt.Println(errors.Is(err, ErrUnusable))
	// Output:
	// <nil>
	// true
}
