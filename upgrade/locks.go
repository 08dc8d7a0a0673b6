package upgrade

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/mke-migrate/mke-migrate/hosts"
	"github.com/mke-migrate/mke-migrate/internal/shell"
	"github.com/mke-migrate/mke-migrate/upgrade/hostlock"
)

// lockExec adapts the run's connection to a host for hostlock.Acquire.
// It asks the pool each time, so that the heartbeat and the release work
// over a new connection when a fault closed the old one.
type lockExec struct {
	pool *clientPool
	host string
}

func (l lockExec) Exec(ctx context.Context, cmd string, sudo bool) (string, error) {
	c, err := l.pool.get(ctx, l.host)
	if err != nil {
		return "", err
	}
	if sudo {
		return c.Exec(ctx, shell.Sudo(cmd), hosts.WithSudo())
	}
	return c.Exec(ctx, cmd)
}

// lockHosts takes the host lock of every host; release lets them go.
// When a lock is lost (taken over after this run stalled), lost is called.
func (u *Upgrade) lockHosts(ctx context.Context, run string, lost context.CancelCauseFunc) (func(), error) {
	var (
		mu    sync.Mutex
		locks []*hostlock.Lock
	)
	release := func() {
		mu.Lock()
		defer mu.Unlock()
		for _, l := range locks {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			_ = l.Release(rctx)
			cancel()
		}
		locks = nil
	}
	err := hosts.Run(ctx, u.o.Hosts, u.o.Concurrency, func(ctx context.Context, h hosts.Host) error {
		l, err := hostlock.Acquire(ctx, lockExec{u.clients, hostKey(h)}, hostKey(h), run, hostlock.Options{Path: u.o.HostLockPath, Logger: u.o.Logger})
		if err != nil {
			return err
		}
		mu.Lock()
		locks = append(locks, l)
		mu.Unlock()
		go func() {
			select {
			case <-l.Lost():
				lost(fmt.Errorf("the lock on %s was lost: another run took it over", hostKey(h)))
			case <-ctx.Done():
			}
		}()
		return nil
	})
	if err != nil {
		return release, fmt.Errorf("upgrade: lock the hosts: %w", err)
	}
	return release, nil
}
