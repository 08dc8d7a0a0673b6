package mke3

import (
	"archive/zip"
	"bytes"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func FuzzDecodeAccounts(f *testing.F) {
	for _, s := range []string{
		`{"accounts":[{"name":"alice","id":"1","isActive":true}],"nextPageStart":"bob","usersCount":2}`,
		`{"accounts":null}`,
		`{"accounts":[],"nextPageStart":""}`,
		`{"accounts":[{"name":5}]}`,
		`{"accounts":"x"}`,
		`{"nextPageStart":7}`,
		`[]`,
		`{"accounts":[{"membersCount":1e99}]}`,
		`{"accounts":[{}],"nextPageStart":"\u0000"}`,
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		accounts, next, err := decodeAccountsPage(body)
		if err != nil {
			if accounts != nil || next != "" {
				t.Fatalf("error with results: %v", err)
			}
			if e := decodeError("x", err).Error(); len(body) > 64 && strings.Contains(e, string(body)) {
				t.Fatalf("error quotes the body: %s", e)
			}
			return
		}
		// Whatever decoded must hold up as a page of the same list.
		if len(accounts) > len(body) {
			t.Fatalf("%d accounts from %d bytes", len(accounts), len(body))
		}
	})
}

func FuzzDecodeAPIError(f *testing.F) {
	f.Add(403, []byte(`{"errors":[{"code":"NOT_AUTHORIZED","message":"not an admin"}]}`))
	f.Add(500, []byte(`{"errors":[{"code":"X"},{"message":"SECRET-hunter2"}]}`))
	f.Add(502, []byte(`<html>SECRET-hunter2</html>`))
	f.Add(409, []byte(`{"message":"conflict \u2028 SECRET-hunter2"}`))
	f.Add(400, []byte(`{"errors":"x","message":5}`))
	f.Add(0, []byte(nil))
	f.Add(999, []byte(`{"errors":[{"code":"\u001b[31m","message":"\xff\xfe"}]}`))
	const secret = "SECRET-hunter2"
	redact := func(s string) string { return strings.ReplaceAll(s, secret, "<redacted>") }
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := decodeAPIError("GET", "/enzi/v0/accounts", status, body, redact)
		msg := e.Error()
		if !strings.HasPrefix(msg, "mke3: GET /enzi/v0/accounts: ") {
			t.Fatalf("prefix: %q", msg)
		}
		if strings.Contains(msg, secret) {
			t.Fatalf("secret in %q", msg)
		}
		if !utf8.ValidString(msg) || strings.ContainsFunc(msg, unicode.IsControl) {
			t.Fatalf("unprintable: %q", msg)
		}
		if len(e.Errors) > maxErrorDetails {
			t.Fatalf("%d details", len(e.Errors))
		}
		for _, d := range append(e.Errors, ErrorDetail{Code: e.Code, Message: e.Message}) {
			if len(d.Code) > maxErrorText+len("…") || len(d.Message) > maxErrorText+len("…") {
				t.Fatalf("text not bounded: %d, %d", len(d.Code), len(d.Message))
			}
		}
		if len(msg) > 2*maxErrorText+200 {
			t.Fatalf("message of %d bytes", len(msg))
		}
		if len(e.Errors) > 0 && (e.Code != e.Errors[0].Code || e.Message != e.Errors[0].Message) {
			t.Fatalf("first error not copied: %+v", e)
		}
	})
}

func FuzzReadBundle(f *testing.F) {
	files := newBundleFiles(f)
	kube := kubeYAMLWithFiles("https://mke.example.com:6443")
	f.Add(files.zip(f, kube))
	f.Add(files.zip(f, ""))
	f.Add(files.zip(f, kube, zipEntry{name: "../x", data: []byte("x")}))
	f.Add(buildZip(f, zipEntry{name: "ca.pem", data: files.ca}))
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := readBundle(data)
		if err != nil {
			if b != nil {
				t.Fatal("bundle with error")
			}
			return
		}
		if len(b.CAPEM) == 0 || len(b.CertPEM) == 0 || len(b.KeyPEM) == 0 {
			t.Fatal("accepted without PEMs")
		}
		total := len(b.CAPEM) + len(b.CertPEM) + len(b.KeyPEM) + len(b.Kubeconfig)
		if total > maxBundleTotal {
			t.Fatalf("read %d bytes", total)
		}
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("accepted a zip the zip reader refuses: %v", err)
		}
		for _, zf := range zr.File {
			if !safeEntryName(zf.Name) {
				t.Fatalf("accepted unsafe name %q", zf.Name)
			}
		}
		// RESTConfig must not panic on whatever kube.yml came with it.
		_, _ = b.RESTConfig()
	})
}
