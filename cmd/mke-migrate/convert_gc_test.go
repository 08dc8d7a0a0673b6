package main

import (
	"os"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
)

// gcSettings reads the collector's percent and soft memory limit without
// changing them.
func gcSettings() (percent int, limit int64) {
	percent = debug.SetGCPercent(100)
	debug.SetGCPercent(percent)
	return percent, debug.SetMemoryLimit(-1)
}

// convert sets its collector settings while it runs and restores them;
// GOGC and GOMEMLIMIT set by the operator are left alone (issue 14, F13).
func TestConvertGCSettings(t *testing.T) {
	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		if v, ok := os.LookupEnv(env); ok {
			t.Setenv(env, v) // restored after the test
			os.Unsetenv(env)
		}
	}
	percent, limit := gcSettings()

	restore := convertGC()
	p, l := gcSettings()
	assert.Equal(t, convertGCPercent, p)
	assert.Equal(t, int64(convertMemoryLimit), l)
	restore()
	p, l = gcSettings()
	assert.Equal(t, percent, p)
	assert.Equal(t, limit, l)

	t.Setenv("GOGC", "200")
	t.Setenv("GOMEMLIMIT", "1GiB")
	restore = convertGC()
	p, l = gcSettings()
	restore()
	assert.Equal(t, percent, p, "the operator's GOGC wins")
	assert.Equal(t, limit, l, "the operator's GOMEMLIMIT wins")
}
