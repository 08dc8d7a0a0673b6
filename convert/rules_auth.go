package convert

import (
	"fmt"
	"strings"
	"time"

	"github.com/mke-migrate/mke-migrate/convert/mke4"
)

func (c *conv) auth() {
	a := &c.in.Auth
	out := &c.out.Spec.Authentication

	c.set("auth.managedPasswordDisabled", "authentication.localUsers", Checked, func() {
		out.LocalUsers = mke4.Ptr(!a.ManagedPasswordDisabled)
	})
	if c.has("auth.sessions.lifetime_minutes") {
		if a.Sessions.LifetimeMinutes > 0 {
			c.set("auth.sessions.lifetime_minutes", "authentication.expiry.idTokens", Inferred, func() {
				out.Expiry.IDTokens = minutes(a.Sessions.LifetimeMinutes)
			})
		} else {
			c.mark("auth.sessions.lifetime_minutes", StatusUnconvertible, fmt.Sprintf("session lifetime %d minutes is not a positive duration", a.Sessions.LifetimeMinutes))
		}
	}
	if c.has("auth.sessions.renewal_threshold_minutes") {
		if a.Sessions.RenewalThresholdMinutes > 0 {
			c.set("auth.sessions.renewal_threshold_minutes", "authentication.expiry.refreshTokens.validIfNotUsedFor", Inferred, func() {
				if out.Expiry.RefreshTokens == nil {
					out.Expiry.RefreshTokens = &mke4.RefreshTokens{}
				}
				out.Expiry.RefreshTokens.ValidIfNotUsedFor = minutes(a.Sessions.RenewalThresholdMinutes)
			})
		} else {
			c.mark("auth.sessions.renewal_threshold_minutes", StatusDefault, "0 disables session renewal in MKE 3; Dex's refresh-token default applies")
		}
	}

	// SAML.
	c.set("auth.samlEnabled", "authentication.saml.enabled", Inferred, func() { out.SAML.Enabled = a.SAMLEnabled })
	c.setString("auth.saml.idpMetadataURL", "authentication.saml.ssoMetadataURL", a.SAML.IdPMetadataURL, &out.SAML.SSOMetadataURL)
	c.setString("auth.saml.rootCerts", "authentication.saml.caData", a.SAML.RootCerts, &out.SAML.CAData)

	// OIDC.
	eip := &a.ExternalIdentityProvider
	const eipk = "auth.external_identity_provider."
	c.setString(eipk+"clientId", "authentication.oidc.clientID", eip.ClientID, &out.OIDC.ClientID)
	c.setString(eipk+"clientSecret", "authentication.oidc.clientSecret", eip.ClientSecret, &out.OIDC.ClientSecret)
	c.setString(eipk+"issuer", "authentication.oidc.issuer", eip.Issuer, &out.OIDC.Issuer)
	if c.has(eipk + "wellKnownConfigUrl") {
		const suffix = "/.well-known/openid-configuration"
		switch u := eip.WellKnownConfigURL; {
		case u == "":
			c.mark(eipk+"wellKnownConfigUrl", StatusDefault, "empty")
		case eip.Issuer != "":
			c.mark(eipk+"wellKnownConfigUrl", StatusDefault, "the issuer is set explicitly and Dex discovers the configuration from it")
		case strings.HasSuffix(u, suffix):
			c.set(eipk+"wellKnownConfigUrl", "authentication.oidc.issuer", Inferred, func() { out.OIDC.Issuer = strings.TrimSuffix(u, suffix) })
		default:
			c.mark(eipk+"wellKnownConfigUrl", StatusUnconvertible, "does not end in "+suffix+", so the issuer cannot be derived: set spec.authentication.oidc.issuer by hand")
		}
	}
	if out.OIDC.ClientID != "" && out.OIDC.Issuer != "" {
		out.OIDC.Enabled = true
	}

	// Backend: managed, or ldap (settings come from eNZi, not the TOML).
	switch {
	case !c.has("auth.backend"):
	case a.Backend == "managed":
		c.mark("auth.backend", StatusDefault, "managed accounts become MKE 4k local users (Dex)")
	case a.Backend == "ldap" && c.opts.LDAP == nil:
		c.mark("auth.backend", StatusUnconvertible, "LDAP settings are not in the TOML: they come from GET /enzi/v0/config/auth/ldap (the upgrade reads them; for convert, pass Options.LDAP)")
	case a.Backend == "ldap":
		c.set("auth.backend", "authentication.ldap.enabled", Inferred, func() { out.LDAP.Enabled = true })
		c.ldap()
	default:
		c.mark("auth.backend", StatusUnconvertible, fmt.Sprintf("unknown backend %q (MKE 3 knows managed and ldap)", a.Backend))
	}
}

func (c *conv) ldap() {
	l := c.opts.LDAP
	out := &c.out.Spec.Authentication.LDAP
	const k = "enzi.ldap."
	api := func(field string, s Status, target, reason string, basis Basis) {
		e := Entry{Key: k + field, Status: s, Reason: reason, Basis: basis}
		if target != "" {
			e.Target = sp + "authentication.ldap." + target
		}
		c.extra = append(c.extra, e)
	}
	host, insecure, err := ldapHost(l.ServerURL)
	if err != nil {
		api("serverURL", StatusUnconvertible, "", err.Error(), 0)
	} else {
		out.Host, out.InsecureNoSSL = host, insecure && !l.StartTLS
		api("serverURL", StatusConverted, "host", "", Inferred)
		if insecure && l.StartTLS {
			api("startTLS", StatusUnconvertible, "", "MkeConfig has no startTLS switch for LDAP: use an ldaps:// server or set it in Dex by hand", 0)
		}
	}
	if l.RootCerts != "" {
		out.RootCA = l.RootCerts
		api("rootCerts", StatusConverted, "rootCA", "", Inferred)
	}
	if l.TLSSkipVerify {
		api("tlsSkipVerify", StatusDropped, "", "Dex's LDAP connector verifies TLS; there is no skip switch in MkeConfig", 0)
	}
	out.BindDN, out.BindPW = l.ReaderDN, l.ReaderPassword
	api("readerDN", StatusConverted, "bindDN", "", Inferred)
	if l.ReaderPassword != "" {
		api("readerPassword", StatusConverted, "bindPW", "", Inferred)
	} else {
		// eNZi never returns it (write-only), so settings read from the
		// API always lack it: Dex could not bind without it.
		api("readerPassword", StatusUnconvertible, "", "MKE 3 does not return the LDAP reader password (it is write-only): set spec.authentication.ldap.bindPW in mke4.yaml", 0)
	}
	for i, us := range l.UserSearchConfigs {
		f := fmt.Sprintf("userSearchConfigs[%d]", i)
		if i > 0 {
			api(f, StatusDropped, "", "MkeConfig takes one LDAP user search; only the first is carried", 0)
			continue
		}
		filter := us.Filter
		if filter != "" && !strings.HasPrefix(filter, "(") {
			filter = "(" + filter + ")"
		}
		out.UserSearch = &mke4.LDAPUserSearch{BaseDN: us.BaseDN, Filter: filter, Username: us.UsernameAttr, NameAttr: us.FullNameAttr, IDAttr: "DN"}
		api(f, StatusConverted, "userSearch", "idAttr set to DN (Dex needs one; eNZi had none)", Inferred)
	}
	if len(l.AdditionalDomains) > 0 {
		api("additionalDomains", StatusDropped, "", "Dex's LDAP connector takes one server: add one connector per domain by hand", 0)
	}
	if l.JITUserProvisioning {
		api("jitUserProvisioning", StatusDropped, "", "LDAP JIT provisioning: "+whyAuthNS, 0)
	}
	if l.NoSimplePagination {
		api("noSimplePagination", StatusDropped, "", "LDAP simple pagination: "+whyAuthNS, 0)
	}
	if l.AdminSyncOpts.EnableSync || l.SyncSchedule != "" {
		api("adminSyncOpts", StatusDropped, "", "LDAP user sync: "+whyAuthNS+"; Dex looks users up at login", 0)
	}
}

func ldapHost(raw string) (host string, insecure bool, err error) {
	switch {
	case strings.HasPrefix(raw, "ldaps://"):
		host = strings.TrimPrefix(raw, "ldaps://")
		if !strings.Contains(host, ":") {
			host += ":636"
		}
	case strings.HasPrefix(raw, "ldap://"):
		host, insecure = strings.TrimPrefix(raw, "ldap://"), true
		if !strings.Contains(host, ":") {
			host += ":389"
		}
	default:
		return "", false, fmt.Errorf("server URL %q does not start with ldap:// or ldaps://", raw)
	}
	return strings.TrimSuffix(host, "/"), insecure, nil
}

func minutes(n int) string { return (time.Duration(n) * time.Minute).String() }

func (c *conv) tracking() {
	t := &c.in.TrackingConfiguration
	out := &c.out.Spec
	const k = "tracking_configuration."
	out.Tracking.Enabled = !t.DisableTracking && !t.DisableUsageInfo
	c.set(k+"disable_tracking", "tracking.enabled", Inferred, func() {})
	c.set(k+"disable_usageinfo", "tracking.enabled", Inferred, func() {})
	if t.ClusterLabel == "default" {
		c.mark(k+"cluster_label", StatusDefault, "MKE 3 default label")
	} else {
		c.setString(k+"cluster_label", "tracking.clusterLabel", t.ClusterLabel, &out.Tracking.ClusterLabel)
	}
	c.set(k+"ops_care", "monitoring.enableOpscare", Inferred, func() { out.Monitoring.EnableOpscare = t.OpsCare })
}
