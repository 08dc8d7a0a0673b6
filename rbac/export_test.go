package rbac

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExportRoundTrip(t *testing.T) {
	for _, m := range []*Model{loadModel(t, "model.json"), generateModel(200, 20, 60, 3), {}} {
		data, err := EncodeExport(m)
		require.NoError(t, err)
		back, err := DecodeExport("round.json", data)
		require.NoError(t, err)
		want := m.sorted()
		want.APIVersion, want.Kind = ExportAPIVersion, ExportKind
		assert.Equal(t, want, back)
		again, err := EncodeExport(back)
		require.NoError(t, err)
		assert.Equal(t, string(data), string(again), "canonical")
		shuffledData, err := EncodeExport(shuffled(m, 9))
		require.NoError(t, err)
		assert.Equal(t, string(data), string(shuffledData), "order-independent")
	}
	_, err := EncodeExport(nil)
	assert.ErrorIs(t, err, ErrExportNilModel)
}

func TestExportGolden(t *testing.T) {
	data, err := EncodeExport(loadModel(t, "model.json"))
	require.NoError(t, err)
	golden(t, "model.export.json", data)
}

func TestDecodeExportErrors(t *testing.T) {
	const head = `{"apiVersion": "rbac.mke-migrate.io/v1", "kind": "MKE3RBACExport"`
	cases := []struct {
		name, input string
		want        error
		line, col   int
		field       string
		msg         string
	}{
		{"empty", "  \n", ErrExportSyntax, 0, 0, "", "file is empty"},
		{"not an object", `[1]`, ErrExportShape, 1, 1, "", "a list, want an object"},
		{"syntax", head + ",\n  \"users\": [}", ErrExportSyntax, 2, 13, "users", "fix the file"},
		{"truncated", head + `, "users": [`, ErrExportSyntax, 1, 78, "users", "unexpected end of file"},
		{"unknown top field", head + ",\n  \"user\": []}", ErrExportUnknown, 2, 3, "user", `unknown field "user"`},
		{"wrong case", head + `, "Users": []}`, ErrExportUnknown, 1, 68, "Users", "case-sensitive"},
		{"unknown nested field", head + ",\n\"users\": [\n {\"id\": \"u\", \"nmae\": \"x\"}]}", ErrExportUnknown, 3, 14, "users[0].nmae", "fullName, id, isActive, isAdmin, name"},
		{"duplicate field", head + `, "kind": "x"}`, ErrExportDuplicate, 1, 68, "kind", "keep one"},
		{"wrong type", head + `, "users": [{"id": 7}]}`, ErrExportShape, 1, 85, "users[0].id", "a number, want a string"},
		{"bool as string", head + `, "users": [{"isAdmin": "yes"}]}`, ErrExportShape, 1, 90, "users[0].isAdmin", "want true or false"},
		{"null member", head + `, "teams": [{"members": [null]}]}`, ErrExportShape, 1, 91, "teams[0].members[0]", "null, want a string"},
		{"trailing", head + "}\n{}", ErrExportTrailing, 2, 1, "", "one JSON object"},
		{"trailing garbage", head + "} x", ErrExportTrailing, 1, 68, "", "remove what follows"},
		{"wrong apiVersion", `{"apiVersion": "v2", "kind": "MKE3RBACExport"}`, ErrExportWrongKind, 1, 2, "apiVersion", `want "rbac.mke-migrate.io/v1"`},
		{"no apiVersion", `{"kind": "MKE3RBACExport"}`, ErrExportWrongKind, 1, 1, "apiVersion", `apiVersion is ""`},
		{"wrong kind", `{"apiVersion": "rbac.mke-migrate.io/v1", "kind": "List"}`, ErrExportWrongKind, 1, 42, "kind", `want "MKE3RBACExport"`},
		{"not UTF-8", head + "\n, \"source\": \"\xff\"}", ErrExportNotUTF8, 2, 14, "", "JSON text file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeExport("in.json", []byte(tc.input))
			require.ErrorIs(t, err, tc.want)
			var ee *ExportError
			require.ErrorAs(t, err, &ee)
			assert.Equal(t, "in.json", ee.File)
			assert.Equal(t, tc.line, ee.Line, "line")
			assert.Equal(t, tc.col, ee.Column, "column")
			assert.Equal(t, tc.field, ee.Field)
			assert.Contains(t, err.Error(), tc.msg)
			assert.True(t, strings.HasPrefix(err.Error(), "in.json"), err.Error())
		})
	}
}

func TestDecodeExportAccepts(t *testing.T) {
	// A byte-order mark, null lists and missing optional fields are fine.
	m, err := DecodeExport("x", []byte("\xef\xbb\xbf"+`{"apiVersion": "rbac.mke-migrate.io/v1", "kind": "MKE3RBACExport", "users": null, "teams": [{"id": "t", "orgID": "o", "name": "n"}]}`))
	require.NoError(t, err)
	assert.Nil(t, m.Users)
	assert.Equal(t, []Team{{ID: "t", OrgID: "o", Name: "n"}}, m.Teams)
}

func TestDecodeExportTooLarge(t *testing.T) {
	_, err := DecodeExport("big", make([]byte, MaxExportSize+1))
	assert.ErrorIs(t, err, ErrExportTooLarge)
}

func FuzzDecodeExport(f *testing.F) {
	for _, name := range []string{"model.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		require.NoError(f, err)
		f.Add(data)
	}
	f.Add([]byte(`{"apiVersion": "rbac.mke-migrate.io/v1", "kind": "MKE3RBACExport", "users": [{"id": "u", "name": "<&>é"}]}`))
	f.Add([]byte(`{"apiVersion": "rbac.mke-migrate.io/v1", "kind": "MKE3RBACExport", "orgs": [{"id": "a", "members": ["b", "a", "b"]}], "orgs": []}`))
	f.Add([]byte(`[{"a":`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeExport("fuzz.json", data)
		if err != nil {
			var ee *ExportError
			if !errors.As(err, &ee) {
				t.Fatalf("error is not an *ExportError: %v", err)
			}
			return
		}
		enc, err := EncodeExport(m)
		if err != nil {
			t.Fatalf("decoded model does not encode: %v", err)
		}
		back, err := DecodeExport("again.json", enc)
		if err != nil {
			t.Fatalf("encoding does not decode: %v\n%s", err, enc)
		}
		if !reflect.DeepEqual(m.sorted(), back.sorted()) {
			t.Fatalf("round trip changed the model:\n%s", enc)
		}
		// Whatever decodes translates without panicking, deterministically.
		a, ra, errA := Translate(m, Options{})
		b, rb, errB := Translate(back, Options{})
		if (errA == nil) != (errB == nil) || !reflect.DeepEqual(ra, rb) {
			t.Fatalf("translation differs after a round trip: %v / %v", errA, errB)
		}
		if errA == nil {
			ya, _ := Manifests(a, FormatYAML)
			yb, _ := Manifests(b, FormatYAML)
			if !bytes.Equal(ya, yb) {
				t.Fatal("manifests differ after a round trip")
			}
		}
	})
}
