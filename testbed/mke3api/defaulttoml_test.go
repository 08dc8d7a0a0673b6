package mke3api_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/convert"
	"github.com/mke-migrate/mke-migrate/testbed/mke3api"
)

// The simulator's default configuration holds only real MKE 3 keys, so that
// no demo or test summary shows an "unknown" entry it did not ask for.
func TestDefaultConfigTOMLHasOnlyRealKeys(t *testing.T) {
	cfg, err := convert.Parse("DefaultConfigTOML", []byte(mke3api.DefaultConfigTOML))
	require.NoError(t, err)
	assert.Empty(t, cfg.Unknown)
	_, rep, err := convert.Convert(cfg, convert.Options{ExternalAddress: "mke.example.com"})
	require.NoError(t, err)
	assert.Zero(t, rep.Counts()[convert.StatusUnknown], "unknown entries: %v", rep.Entries)
	assert.NotEmpty(t, rep.Entries)
}
