package upgrade

import (
	"context"
	"time"

	"github.com/mke-migrate/mke-migrate/support"
)

// supportBundleTimeout bounds the collection of one support bundle.
const supportBundleTimeout = 3 * time.Minute

// failureBundle writes a support bundle into the output directory when a
// run fails (reason "before-rollback", then "after-rollback"), unless
// Options.NoSupportBundle: the nodes as they are, over the run's
// connections, and the run's files, with the run's secrets redacted. Its
// path is logged (warn) and kept in Result.SupportBundles; a bundle that
// cannot be written is logged, never the run's error.
func (u *Upgrade) failureBundle(ctx context.Context, res *Result, reason string) {
	if u.o.NoSupportBundle {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), supportBundleTimeout)
	defer cancel()
	o := support.Options{Nodes: u.clients, RunDir: u.o.OutputDir, Secrets: u.secrets(), Logger: u.o.Logger}
	for _, h := range u.o.Hosts {
		o.Hosts = append(o.Hosts, hostKey(h))
	}
	if sh := u.shared; sh != nil {
		o.Facts = func(_ context.Context, host string) (any, error) { return sh.Facts[host], nil }
	}
	p, _, err := support.WriteFile(ctx, u.o.OutputDir, support.BundleName(reason, time.Now()), o)
	if err != nil {
		u.o.logger().Warn("support bundle not written", "reason", reason, "err", err)
		return
	}
	res.SupportBundles = append(res.SupportBundles, p)
	u.o.logger().Warn("support bundle written", "reason", reason, "path", p)
}

// secrets are the values of this run a support bundle must not hold.
func (u *Upgrade) secrets() [][]byte {
	var s [][]byte
	add := func(b []byte) {
		if len(b) > 0 {
			s = append(s, b)
		}
	}
	add(u.o.BackupPassphrase)
	for _, a := range []*RegistryAuth{u.o.ImageRegistryAuth, u.o.ChartRegistryAuth} {
		if a != nil {
			add(a.Password)
		}
	}
	add(u.o.MKE3Password)
	if t := u.tokens; t != nil {
		t.mu.Lock()
		for _, tok := range t.m {
			add(tok)
		}
		t.mu.Unlock()
	}
	return s
}
