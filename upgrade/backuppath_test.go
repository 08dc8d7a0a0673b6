package upgrade

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// backupTar makes a tar of the given members (a name ending in / is a
// folder).
func backupTar(t testing.TB, members map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	names := make([]string, 0, len(members))
	for n := range members {
		names = append(names, n)
	}
	slices.Sort(names) // the same bytes every time
	for _, name := range names {
		data := members[name]
		h := &tar.Header{Name: name, Mode: 0o600, Size: int64(len(data)), Typeflag: tar.TypeReg}
		if strings.HasSuffix(name, "/") {
			h.Mode, h.Size, h.Typeflag = 0o755, 0, tar.TypeDir
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

const goodMeta = `{"mkeVersion":"3.8.8","clusterID":"abc123"}`

func TestReadBackupInfo(t *testing.T) {
	gz := func(b []byte) []byte {
		var out bytes.Buffer
		w := gzip.NewWriter(&out)
		_, _ = w.Write(b)
		_ = w.Close()
		return out.Bytes()
	}
	good := backupTar(t, map[string]string{"backup.json": goodMeta, "ucp-kv/": "", "ucp-kv/snapshot.db": "x", "ucp-auth-api-certs/": ""})
	tests := map[string]struct {
		data []byte
		want string // error substring; "" for valid
	}{
		"valid":             {good, ""},
		"members only":      {backupTar(t, map[string]string{"backup.json": goodMeta, "ucp-kv/snapshot.db": "x"}), ""},
		"empty":             {nil, "not a tar"},
		"text":              {[]byte(strings.Repeat("hello ", 100)), "not a tar"},
		"gzip":              {gz(good), "gzip"},
		"openssl":           {append([]byte("Salted__12345678"), make([]byte, 300)...), "openssl"},
		"truncated":         {good[:532], "not a complete tar"}, // inside backup.json's data
		"no ucp-kv":         {backupTar(t, map[string]string{"backup.json": goodMeta, "ucp-auth-api-certs/": ""}), "no ucp-kv"},
		"no metadata":       {backupTar(t, map[string]string{"ucp-kv/": ""}), "cannot be tied"},
		"metadata not JSON": {backupTar(t, map[string]string{"backup.json": "{", "ucp-kv/": ""}), "backup.json"},
		"metadata empty":    {backupTar(t, map[string]string{"backup.json": `{"mkeVersion":"3.8.8"}`, "ucp-kv/": ""}), "no cluster ID"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			info, err := ReadBackupInfo(bytes.NewReader(tt.data))
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if info.ClusterID != "abc123" || info.MKEVersion != "3.8.8" {
					t.Fatalf("%+v", info)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
}

func TestVerifyBackup(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "backup.tar")
	if err := os.WriteFile(p, backupTar(t, map[string]string{"backup.json": goodMeta, "ucp-kv/": ""}), 0o600); err != nil {
		t.Fatal(err)
	}
	if sum, err := verifyBackup(p, nil, "abc123", "3.8.8"); err != nil || len(sum) != 64 {
		t.Fatalf("%q %v", sum, err)
	}
	for name, tt := range map[string]struct{ path, id, version, want string }{
		"other cluster": {p, "zzz", "3.8.8", "not of this cluster"},
		"other version": {p, "abc123", "3.8.9", "take a new backup"},
		"absent":        {filepath.Join(dir, "absent.tar"), "abc123", "3.8.8", "no such file"},
		"a folder":      {dir, "abc123", "3.8.8", "not a regular file"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := verifyBackup(tt.path, nil, tt.id, tt.version)
			var be *BackupPathError
			if !errors.As(err, &be) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.path) {
				t.Fatalf("got %v, want a *BackupPathError naming %s and %q", err, tt.path, tt.want)
			}
		})
	}
}

func FuzzReadBackupInfo(f *testing.F) {
	f.Add(backupTar(f, map[string]string{"backup.json": goodMeta, "ucp-kv/": ""}))
	f.Add(backupTar(f, map[string]string{"ucp-kv/snapshot.db": "x"}))
	f.Add([]byte("Salted__"))
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := ReadBackupInfo(bytes.NewReader(data))
		if err == nil && (info.ClusterID == "" || info.MKEVersion == "") {
			t.Fatalf("accepted without an ID or version: %+v", info)
		}
	})
}

func TestCheckDataDir(t *testing.T) {
	for d, ok := range map[string]bool{"": true, "/var/lib/k0s": true, "/var/lib/docker/k0s": true, "/data-1/x_y/k0s": true,
		"/k0s": false, "/var/lib/k0s/": false, "var/lib/k0s": false, "/var/lib/kzero": false, "/var/../lib/k0s": false,
		"/var/lib k/k0s": false, "/var/lib/$(id)/k0s": false, "//var/k0s": false} {
		err := checkDataDir(d)
		if ok != (err == nil) {
			t.Errorf("checkDataDir(%q) = %v", d, err)
		}
		var de *DataDirError
		if err != nil && !errors.As(err, &de) {
			t.Errorf("%T", err)
		}
	}
}
