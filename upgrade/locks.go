package upgrade

import (
	"context"
	"errors"
	"fmt"
	"slices"
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

// hostLocks are the host locks of a run. ctx ends when one of them is
// lost (taken over after this run stalled); release lets them all go and
// may be called more than once.
type hostLocks struct {
	ctx     context.Context
	release func()
}

// lockOrder is the one order in which every run takes the host locks:
// sorted by host key. Two runs on overlapping hosts then meet first on the
// lowest host they share; the one that took it goes on, the other stops
// there, holding only locks the winner does not need.
func lockOrder(hs []hosts.Host) []string {
	keys := make([]string, 0, len(hs))
	for _, h := range hs {
		keys = append(keys, hostKey(h))
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// lockHosts takes the host lock of every host, one at a time in
// lockOrder. On a failure it releases the locks it took before it
// returns. With skipUnreachable (a rollback), a host that cannot be
// reached is left unlocked, so that it does not keep the others from
// being restored; a host locked by another live run always stops it.
func (u *Upgrade) lockHosts(ctx context.Context, run string, skipUnreachable bool) (*hostLocks, error) {
	lockCtx, lost := context.WithCancelCause(ctx)
	var locks []*hostlock.Lock
	released := false
	release := func() {
		if released {
			return
		}
		released = true
		lost(nil)
		for _, l := range locks {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			_ = l.Release(rctx)
			cancel()
		}
	}
	log := u.o.logger()
	for _, key := range lockOrder(u.o.Hosts) {
		l, err := hostlock.Acquire(ctx, lockExec{u.clients, key}, key, run, hostlock.Options{Path: u.o.HostLockPath, Logger: u.o.Logger})
		if err != nil {
			var le *hostlock.LockedError
			if skipUnreachable && !errors.As(err, &le) && ctx.Err() == nil {
				log.Warn("rolling back without the lock of an unreachable host", "host", key, "err", err)
				continue
			}
			release()
			return nil, fmt.Errorf("upgrade: lock the hosts: %w", err)
		}
		locks = append(locks, l)
		go func() {
			select {
			case <-l.Lost():
				lost(fmt.Errorf("the lock on %s was lost: another run took it over", key))
			case <-lockCtx.Done():
			}
		}()
	}
	return &hostLocks{ctx: lockCtx, release: release}, nil
}
