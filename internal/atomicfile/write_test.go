package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Write streams content into the file; an error from the producer leaves
// the target as it was and no temporary file behind.
func TestWriteStreams(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out")
	require.NoError(t, Write(p, 0o640, func(w io.Writer) error {
		for range 3 {
			if _, err := io.WriteString(w, "chunk\n"); err != nil {
				return err
			}
		}
		return nil
	}))
	got, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, "chunk\nchunk\nchunk\n", string(got))
	st, err := os.Stat(p)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), st.Mode().Perm())

	boom := errors.New("producer failed")
	err = Write(p, 0o640, func(w io.Writer) error {
		_, _ = io.WriteString(w, "partial")
		return boom
	})
	require.ErrorIs(t, err, boom)
	got, err = os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, "chunk\nchunk\nchunk\n", string(got), "the target is untouched")
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, ents, 1, "no temporary file is left")
}
