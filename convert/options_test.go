package convert

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mke-migrate/mke-migrate/convert/mke4"
)

// The options the TOML does not hold (registries, air-gap) are in the
// report as input keys are: each one given has an entry.
func TestOptionsAreReported(t *testing.T) {
	const img, chart, ca = "reg.example.com/mke", "oci://reg.example.com/mke", "-----BEGIN CERTIFICATE-----"
	type want struct {
		status Status
		target string
	}
	tests := []struct {
		name    string
		opts    Options
		entries map[string]want // every "options." entry, exactly
		check   func(t *testing.T, s mke4.Spec)
	}{
		{"none given", Options{}, map[string]want{}, func(t *testing.T, s mke4.Spec) {
			assert.Equal(t, mke4.DefaultImageRegistry, s.Registries.ImageRegistry.URL)
			assert.False(t, s.Airgap.Enabled)
		}},
		{"image registry with CA", Options{ImageRegistry: img, ImageRegistryCAData: ca}, map[string]want{
			OptionImageRegistry:       {StatusConverted, "spec.registries.imageRegistry.url"},
			OptionImageRegistryCAData: {StatusConverted, "spec.registries.imageRegistry.caData"},
		}, func(t *testing.T, s mke4.Spec) {
			assert.Equal(t, mke4.Registry{URL: img, CAData: ca}, s.Registries.ImageRegistry)
			assert.Equal(t, mke4.DefaultChartRegistry, s.Registries.ChartRegistry.URL)
		}},
		{"chart registry", Options{ChartRegistry: chart}, map[string]want{
			OptionChartRegistry: {StatusConverted, "spec.registries.chartRegistry.url"},
		}, func(t *testing.T, s mke4.Spec) { assert.Equal(t, chart, s.Registries.ChartRegistry.URL) }},
		{"CA without its registry", Options{ChartRegistryCAData: ca}, map[string]want{
			OptionChartRegistryCAData: {StatusDropped, ""},
		}, func(t *testing.T, s mke4.Spec) { assert.Empty(t, s.Registries.ChartRegistry.CAData) }},
		{"air-gapped with both registries", Options{Airgapped: true, ImageRegistry: img, ChartRegistry: chart}, map[string]want{
			OptionAirgapped:     {StatusConverted, "spec.airgap.enabled"},
			OptionImageRegistry: {StatusConverted, "spec.registries.imageRegistry.url"},
			OptionChartRegistry: {StatusConverted, "spec.registries.chartRegistry.url"},
		}, func(t *testing.T, s mke4.Spec) { assert.True(t, s.Airgap.Enabled) }},
		{"air-gapped without a chart registry blocks", Options{Airgapped: true, ImageRegistry: img}, map[string]want{
			OptionAirgapped:     {StatusConverted, "spec.airgap.enabled"},
			OptionImageRegistry: {StatusConverted, "spec.registries.imageRegistry.url"},
			OptionChartRegistry: {StatusBlocking, ""},
		}, nil},
		{"air-gapped alone blocks twice", Options{Airgapped: true}, map[string]want{
			OptionAirgapped:     {StatusConverted, "spec.airgap.enabled"},
			OptionImageRegistry: {StatusBlocking, ""},
			OptionChartRegistry: {StatusBlocking, ""},
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, rep, err := Convert(mustParse(t, kdd), tt.opts)
			require.NoError(t, err)
			got := map[string]want{}
			for _, e := range rep.Entries {
				if strings.HasPrefix(e.Key, "options.") {
					_, dup := got[e.Key]
					assert.False(t, dup, "two entries for %s", e.Key)
					got[e.Key] = want{e.Status, e.Target}
					if e.Status != StatusConverted {
						assert.NotEmpty(t, e.Reason, e.Key)
					}
					assert.NotContains(t, e.Reason, ca, "CA data is not copied into the report")
				}
			}
			assert.Equal(t, tt.entries, got)
			assert.Equal(t, tt.entries[OptionImageRegistry].status == StatusBlocking || tt.entries[OptionChartRegistry].status == StatusBlocking, rep.HasBlocking())
			if tt.check != nil {
				tt.check(t, out.Spec)
			}
		})
	}
}

// LDAP settings read from MKE 3 never hold the reader password (eNZi does
// not return it): the report says so instead of carrying an empty bindPW
// silently.
func TestLDAPWithoutReaderPassword(t *testing.T) {
	out, rep, err := Convert(mustParse(t, "[auth]\nbackend = \"ldap\"\n"+kdd),
		Options{LDAP: &LDAPSettings{ServerURL: "ldap://ldap.example.com", ReaderDN: "cn=reader"}})
	require.NoError(t, err)
	assert.True(t, out.Spec.Authentication.LDAP.Enabled)
	assert.Equal(t, "cn=reader", out.Spec.Authentication.LDAP.BindDN)
	var found *Entry
	for i, e := range rep.Entries {
		if e.Key == "enzi.ldap.readerPassword" {
			found = &rep.Entries[i]
		}
	}
	require.NotNil(t, found, "no enzi.ldap.readerPassword entry")
	assert.Equal(t, StatusUnconvertible, found.Status)
	assert.Contains(t, found.Reason, "bindPW")
}
