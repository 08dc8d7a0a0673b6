package kubeletprofile

import (
	"crypto/tls"
	"maps"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"
)

// quantityCases cover ParseQuantity's grammar and its corners: numbers
// without digits, every suffix, exponents around the fast path's limits.
var quantityCases = []string{
	"0", "1", "-1", "+1", "00", "-0", "0.0", "-0.000", "1.", ".5", "-.5", "+.5", ".", "-", "+", "-.", "+-1", "--1",
	"1n", "1u", "1m", "1k", "1K", "1M", "1G", "1T", "1P", "1E", "1Ki", "1Mi", "1Gi", "1Ti", "1Pi", "1Ei", "1ki", "1Ki5", "1KiB",
	"1.5Gi", ".Gi", "Gi", "Ki", "Ti", "Pi", "-Pi", ".Pi", "Ei", "00Pi", "0Pi", "E", "m", "-m", "e5", ".e5", "-e5", ".e-9", ".e-10", "-e-50", "e-10",
	"1e3", "1E3", "1e+3", "1e-3", "1e-9", "1e-10", "1e", "1e-", "1e+", "1ee5", "1e5k", "1e 5", "1e٣", "5E-2", "2.5E-2",
	"1.2.3", "1.2.3e5", " 1", "1 ", "1Gi ", "10Mi", "512Mi", "200m", "0.1", "1.000000000000000000001",
	"123456789012345678", "1234567890123456789", "12345678901234567890", "99999999999999999999Ei", "0.0000000001", "1e-100", "1e100", "-1e-100",
	"1x", "x", "1Gix", "1mm", "1nn", "1Mii",
}

// TestParseQuantityMatchesResource holds parseQuantity to the real
// resource.ParseQuantity: the same inputs accepted and the same sign.
func TestParseQuantityMatchesResource(t *testing.T) {
	for _, s := range quantityCases {
		compareQuantity(t, s)
	}
}

func compareQuantity(t *testing.T, s string) {
	t.Helper()
	sign, err := parseQuantity(s)
	if err != nil && strings.Contains(err.Error(), "out of range") {
		return // the exponent bound is ours, on purpose (ParseQuantity would take minutes)
	}
	q, want := resource.ParseQuantity(s)
	if (err != nil) != (want != nil) {
		t.Fatalf("%q: parseQuantity error %v, resource.ParseQuantity error %v", s, err, want)
	}
	if want == nil && sign != q.Sign() {
		t.Fatalf("%q: parseQuantity sign %d, resource.ParseQuantity %d", s, sign, q.Sign())
	}
}

func FuzzParseQuantity(f *testing.F) {
	for _, s := range quantityCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 64 {
			return // ParseQuantity's big-number path is slow; length adds no grammar
		}
		compareQuantity(t, s)
	})
}

// TestCipherNamesMatchCryptoTLS keeps the written-out cipher list equal to
// crypto/tls's (plus component-base's two aliases): a Go release that adds
// or renames a suite fails here.
func TestCipherNamesMatchCryptoTLS(t *testing.T) {
	want := map[string]bool{
		"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305":   true,
		"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305": true,
	}
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		want[s.Name] = true
	}
	if !maps.Equal(want, cipherNames) {
		t.Fatalf("cipherNames differ from crypto/tls:\nwant %v\ngot  %v", slices.Sorted(maps.Keys(want)), slices.Sorted(maps.Keys(cipherNames)))
	}
}
