package mke3_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/mke3"
	"github.com/mke-migrate/mke-migrate/testbed/mke3api"
)

func TestEngineList(t *testing.T) {
	r := startSim(t, mke3api.Seed{})
	c, _ := simClient(t, r)
	body, err := c.EngineList(ctx(t), "services")
	require.NoError(t, err)
	var services []map[string]any
	require.NoError(t, json.Unmarshal(body, &services))
	assert.Len(t, services, len(mke3api.DefaultSwarm().Services))
	assert.Equal(t, 1, r.Stats().Requests["GET /v"+mke3.EngineAPIVersion+"/services"], "the versioned path is asked")

	_, err = c.EngineList(ctx(t), "containers")
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"containers" is not one of the Engine API lists`)
}

func TestEngineListNeedsAnAdmin(t *testing.T) {
	r := startSim(t, mke3api.Seed{Users: []mke3api.User{{Name: "dev", Password: "devdevdev"}}})
	c, _ := simClient(t, r, func(o *mke3.Options) { o.Username, o.Password = "dev", "devdevdev" })
	_, err := c.EngineList(ctx(t), "secrets")
	require.Error(t, err)
	assert.True(t, errors.Is(err, mke3.ErrForbidden), err.Error())
}
