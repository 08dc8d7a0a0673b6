package rbac

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReportOrderAndJSON(t *testing.T) {
	r := &Report{Users: Counts{Found: 3, Translated: 2}, Problems: sortProblems([]Problem{
		{SeverityInfo, "b", "x"},
		{SeverityError, "z", "y"},
		{SeverityWarning, "a", "w"},
		{SeverityInfo, "a", "x"},
		{SeverityInfo, "a", "x"},
	})}
	assert.Equal(t, []Problem{{SeverityError, "z", "y"}, {SeverityWarning, "a", "w"}, {SeverityInfo, "a", "x"}, {SeverityInfo, "b", "x"}}, r.Problems)
	assert.True(t, r.HasErrors())
	assert.False(t, (&Report{Problems: []Problem{{SeverityWarning, "a", "b"}}}).HasErrors())

	js, err := json.Marshal(r)
	require.NoError(t, err)
	assert.Contains(t, string(js), `"users":{"found":3,"translated":2}`)
	assert.Contains(t, string(js), `{"severity":"error","subject":"z","message":"y"}`)
}

func TestReportWriteText(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, (&Report{Users: Counts{1, 1}, Problems: []Problem{}}).WriteText(&b))
	assert.Equal(t, `Users found in the MKE 3 cluster: 1; translated: 1
Organizations found in the MKE 3 cluster: 0; translated: 0
Teams found in the MKE 3 cluster: 0; translated: 0
Swarm roles found in the MKE 3 cluster: 0; translated: 0
Grants found in the MKE 3 cluster: 0; translated: 0
No problems.
`, b.String())

	err := (&Report{}).WriteText(failingWriter{})
	assert.Error(t, err)
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }
