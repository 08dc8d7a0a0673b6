package hostlock

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/mke-migrate/mke-migrate/upgrade/journal"
)

// Execer runs one shell command on a host and returns its standard output.
// A command that exits non-zero is an error.
type Execer interface {
	Exec(ctx context.Context, cmd string, sudo bool) (string, error)
}

// DefaultPath is where the host lock lives on every host. /run is a
// tmpfs on systemd hosts (FHS 3.0, 3.15: cleared at boot), so a reboot,
// which ends any run, leaves no lock behind; and it is outside
// /var/lib/mke-migrate, the folder the upgrade's undos remove when empty.
const DefaultPath = "/run/mke-migrate.lock"

// Options tune AcquireHost; the zero value is the defaults.
type Options struct {
	// Path of the lock file on the host; default DefaultPath.
	Path string
	// TTL: a lock not refreshed for this long is stale and may be taken
	// over. Default 60s; at least 1s, as the host's clock counts seconds.
	TTL time.Duration
	// Heartbeat is how often the lock is refreshed; default TTL/3.
	Heartbeat time.Duration
	// Logger receives takeovers and heartbeat failures; nil is silent.
	Logger *slog.Logger
}

// LockedError is a host whose lock is held by another live run.
type LockedError struct {
	Host string
	Path string        // the lock file on Host
	Run  string        // the holder's run ID, "" if unreadable
	Age  time.Duration // since the holder last refreshed the lock, by the host's clock
	TTL  time.Duration // when the lock would count as stale
}

func (e *LockedError) Error() string {
	who := "another run"
	if e.Run != "" {
		who = "run " + e.Run
	}
	return fmt.Sprintf("host %s is locked by %s (refreshed %s ago): another mke-migrate run is working on this cluster; "+
		"wait for it to finish, or if you are sure it is dead, wait until the lock is %s old or remove %s on %s",
		e.Host, who, e.Age, e.TTL, e.Path, e.Host)
}

// ErrLost is wrapped by Release when the lock no longer held this
// run's ID: it went stale and another run took it, or it was removed.
var ErrLost = errors.New("host lock lost")

// Lock is a held lock on one host, refreshed in the background until
// Release.
type Lock struct {
	e         Execer
	host, run string
	path      string
	ttl       time.Duration
	log       *slog.Logger

	cancel   context.CancelFunc
	done     chan struct{} // closed when the heartbeat goroutine ends
	lost     chan struct{}
	lostOnce sync.Once
	release  sync.Once
	relErr   error
}

func (o Options) fill() (Options, error) {
	if o.Path == "" {
		o.Path = DefaultPath
	}
	if !path.IsAbs(o.Path) || path.Clean(o.Path) != o.Path || strings.ContainsFunc(o.Path, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return o, fmt.Errorf("host lock path %q: must be a clean absolute path", o.Path)
	}
	if o.TTL == 0 {
		o.TTL = 60 * time.Second
	}
	if o.TTL < time.Second {
		return o, fmt.Errorf("host lock TTL %s: must be at least 1s", o.TTL)
	}
	o.TTL = o.TTL.Round(time.Second)
	if o.Heartbeat == 0 {
		o.Heartbeat = o.TTL / 3
	}
	if o.Heartbeat < 0 || o.Heartbeat >= o.TTL {
		return o, fmt.Errorf("host lock heartbeat %s: must be positive and shorter than the TTL %s", o.Heartbeat, o.TTL)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// acquireAttempts bounds retries after a race that the host's script
// cannot settle by itself (a takeover in progress by another run).
const acquireAttempts = 8

// AcquireHost takes the lock at o.Path on host for run. It succeeds when
// the lock is free, already this run's (a resumed run), or stale (not
// refreshed for o.TTL by the host's clock; the takeover is logged at warn).
// A lock of another live run is a *LockedError.
//
// The lock is then refreshed every o.Heartbeat until Release, under a
// context of its own: ctx bounds only the acquisition, since callers
// often pass a per-call timeout.
func Acquire(ctx context.Context, e Execer, host, run string, o Options) (*Lock, error) {
	if err := journal.CheckRun(run); err != nil {
		return nil, err
	}
	o, err := o.fill()
	if err != nil {
		return nil, err
	}
	l := &Lock{e: e, host: host, run: run, path: o.Path, ttl: o.TTL, log: o.Logger.With("host", host, "lock", o.Path)}
	cmd := acquireScript(o.Path, run, int(o.TTL/time.Second))
	var last status
	for attempt := 1; ; attempt++ {
		out, err := e.Exec(ctx, cmd, true)
		if err != nil {
			return nil, fmt.Errorf("acquire lock %s on %s: %w", o.Path, host, err)
		}
		st, err := parseStatus(out)
		if err != nil {
			return nil, fmt.Errorf("acquire lock %s on %s: %w", o.Path, host, err)
		}
		switch st.word {
		case "acquired", "own":
			l.log.Debug("host lock acquired", "run", run, "how", st.word)
			return l.start(ctx, o.Heartbeat), nil
		case "takeover":
			l.log.Warn("took over a stale host lock", "run", run, "previous", st.holder, "age", st.age)
			return l.start(ctx, o.Heartbeat), nil
		case "held":
			if st.holder != "" {
				return nil, &LockedError{Host: host, Path: o.Path, Run: st.holder, Age: st.age, TTL: o.TTL}
			}
			// A fresh lock without content is being created right now.
		case "busy":
		default:
			return nil, fmt.Errorf("acquire lock %s on %s: unexpected status %q", o.Path, host, st.word)
		}
		if st.word != "busy" || st.holder != "" {
			last = st
		}
		if attempt == acquireAttempts {
			return nil, &LockedError{Host: host, Path: o.Path, Run: last.holder, Age: last.age, TTL: o.TTL}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("acquire lock %s on %s: %w", o.Path, host, ctx.Err())
		case <-time.After(time.Duration(attempt) * 50 * time.Millisecond):
		}
	}
}

func (l *Lock) start(ctx context.Context, every time.Duration) *Lock {
	hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	l.cancel = cancel
	l.done = make(chan struct{})
	l.lost = make(chan struct{})
	go l.heartbeat(hctx, every)
	return l
}

func (l *Lock) heartbeat(ctx context.Context, every time.Duration) {
	defer close(l.done)
	t := time.NewTicker(every)
	defer t.Stop()
	cmd := heartbeatScript(l.path, l.run)
	lastOK := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// A hung command still ends in time to declare the lock lost.
		cctx, cancel := context.WithTimeout(ctx, l.ttl)
		out, err := l.e.Exec(cctx, cmd, true)
		cancel()
		if ctx.Err() != nil {
			return
		}
		var st status
		if err == nil {
			st, err = parseStatus(out)
		}
		switch {
		case err == nil && st.word == "ok":
			lastOK = time.Now()
			continue
		case err == nil && st.word == "lost":
			l.log.Error("host lock taken by another run", "run", l.run, "holder", st.holder)
			l.markLost()
			return
		case err == nil:
			err = fmt.Errorf("unexpected status %q", st.word)
		}
		l.log.Warn("host lock heartbeat failed", "run", l.run, "err", err)
		if time.Since(lastOK) >= l.ttl {
			l.log.Error("host lock not refreshed for its TTL: another run may take it", "run", l.run, "ttl", l.ttl)
			l.markLost()
			return
		}
	}
}

func (l *Lock) markLost() { l.lostOnce.Do(func() { close(l.lost) }) }

// Lost is closed when the lock can no longer be trusted: a heartbeat found
// another run's ID in it, or heartbeats failed for longer than the TTL.
// Work on the host should stop.
func (l *Lock) Lost() <-chan struct{} { return l.lost }

// Host returns the host the lock is on.
func (l *Lock) Host() string { return l.host }

// Release stops the heartbeat and removes the lock file if it still holds
// this run's ID. A lock taken by another run is left alone and Release
// returns an error wrapping ErrLost. Later calls return the first
// call's result.
func (l *Lock) Release(ctx context.Context) error {
	l.release.Do(func() {
		l.cancel()
		<-l.done
		out, err := l.e.Exec(ctx, releaseScript(l.path, l.run), true)
		var st status
		if err == nil {
			st, err = parseStatus(out)
		}
		switch {
		case err != nil:
			l.relErr = fmt.Errorf("release lock %s on %s: %w", l.path, l.host, err)
		case st.word == "released":
			l.log.Debug("host lock released", "run", l.run)
		case st.word == "notours":
			l.relErr = fmt.Errorf("release lock %s on %s: %w: it holds %q, not run %s", l.path, l.host, ErrLost, st.holder, l.run)
		default:
			l.relErr = fmt.Errorf("release lock %s on %s: unexpected status %q", l.path, l.host, st.word)
		}
	})
	return l.relErr
}
