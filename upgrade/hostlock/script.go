package hostlock

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mke-migrate/mke-migrate/internal/shell"
	"github.com/mke-migrate/mke-migrate/upgrade/journal"
)

// The host side of the lock is one POSIX sh command per operation. Each
// prints one status line starting with statusPrefix, so that banners or
// sudo noise around it do not matter:
//
//	acquired | own | takeover <age> <old content> | held <age> <content> | busy
//	ok | lost <content>
//	released | notours <content>
//
// The lock file holds "run=<id>"; its mtime is the last refresh, compared
// with the host's own clock so that the two machines' clocks need not
// agree.
const statusPrefix = "mke-migrate-lock"

// shPrelude sets the variables and a helper that prints lock content as
// one field: only the characters a run ID may have, "-" for nothing.
func shPrelude(p, run string) string {
	return "umask 077; p=" + shell.Quote(p) + "; r=" + shell.Quote(run) + "; " +
		"s() { x=$(printf '%s' \"$1\" | tr -c 'A-Za-z0-9._=-' _ | cut -c1-200); printf '%s' \"${x:--}\"; }; " +
		"say() { echo \"" + statusPrefix + " $*\"; }; "
}

// acquireScript creates the lock with a noclobber redirect (atomic: one
// creator wins). If it exists and is stale, the taker must first create a
// marker directory named after the stale mtime; mkdir is atomic, so of the
// runs that saw the same stale lock exactly one proceeds. It re-checks
// that the lock is unchanged, then renames a new file over it. A marker
// left by a taker that died is itself stale after TTL, and the next taker
// moves on to a longer name, which again only one run can create.
func acquireScript(p, run string, ttl int) string {
	return shPrelude(p, run) + "ttl=" + strconv.Itoa(ttl) + "; " +
		`d=$(dirname "$p"); [ -d "$d" ] || mkdir -p "$d" || exit 1; ` +
		`if (set -C; printf 'run=%s\n' "$r" > "$p") 2>/dev/null; then say acquired; exit 0; fi; ` +
		`cur=$(cat "$p" 2>/dev/null) || { say busy; exit 0; }; ` +
		`if [ "$cur" = "run=$r" ]; then touch -c "$p" || exit 1; say own; exit 0; fi; ` +
		`m=$(stat -c %Y "$p" 2>/dev/null) || { say busy; exit 0; }; ` +
		`now=$(date +%s); age=$((now - m)); ` +
		`if [ "$age" -lt "$ttl" ]; then say held "$age" "$(s "$cur")"; exit 0; fi; ` +
		`t="$p.takeover.$m"; ` +
		`while ! mkdir "$t" 2>/dev/null; do ` +
		`tm=$(stat -c %Y "$t" 2>/dev/null) || { say busy; exit 0; }; ` +
		`[ $((now - tm)) -ge "$ttl" ] || { say busy; exit 0; }; ` +
		`t="$t.x"; done; ` +
		`if [ "$(cat "$p" 2>/dev/null)" != "$cur" ] || [ "$(stat -c %Y "$p" 2>/dev/null)" != "$m" ]; then rmdir "$t"; say busy; exit 0; fi; ` +
		`n="$p.new.$r.$$"; ` +
		`if ! { printf 'run=%s\n' "$r" > "$n" && mv -f "$n" "$p"; }; then rm -f "$n"; rmdir "$t"; exit 1; fi; ` +
		`rm -rf "$p.takeover.$m" "$p.takeover.$m".x*; ` +
		`say takeover "$age" "$(s "$cur")"`
}

// heartbeatScript refreshes the lock's mtime if it still names run.
// touch -c never recreates a lock that was removed.
func heartbeatScript(p, run string) string {
	return shPrelude(p, run) +
		`cur=$(cat "$p" 2>/dev/null); ` +
		`if [ "$cur" = "run=$r" ]; then touch -c "$p" && say ok; else say lost - "$(s "$cur")"; fi`
}

// releaseScript removes the lock only if it names run.
func releaseScript(p, run string) string {
	return shPrelude(p, run) +
		`cur=$(cat "$p" 2>/dev/null); ` +
		`if [ "$cur" = "run=$r" ]; then rm -f "$p" && say released; else say notours - "$(s "$cur")"; fi`
}

// status is a parsed status line.
type status struct {
	word   string
	age    time.Duration
	holder string // run ID in the lock, "" if none or not a run ID
}

var errNoStatus = errors.New("no status line in the output of the lock command")

// parseStatus finds the last status line in out.
func parseStatus(out string) (status, error) {
	var line string
	found := false
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if rest, ok := strings.CutPrefix(l, statusPrefix+" "); ok {
			line, found = rest, true
		}
	}
	if !found {
		return status{}, fmt.Errorf("%w: %q", errNoStatus, clip(out, 200))
	}
	f := strings.Fields(line)
	if len(f) == 0 {
		return status{}, fmt.Errorf("%w: empty", errNoStatus)
	}
	st := status{word: f[0]}
	switch st.word {
	case "acquired", "own", "busy", "ok", "released":
		if len(f) != 1 {
			return status{}, fmt.Errorf("bad lock status %q", line)
		}
	case "takeover", "held", "lost", "notours":
		if len(f) != 3 {
			return status{}, fmt.Errorf("bad lock status %q", line)
		}
		if f[1] != "-" {
			n, err := strconv.ParseInt(f[1], 10, 32)
			if err != nil {
				return status{}, fmt.Errorf("bad lock age in %q: %w", line, err)
			}
			// A negative age is the holder's clock step; treat as fresh.
			st.age = time.Duration(max(n, 0)) * time.Second
		}
		if id, ok := strings.CutPrefix(f[2], "run="); ok && journal.CheckRun(id) == nil {
			st.holder = id
		}
	default:
		return status{}, fmt.Errorf("unknown lock status %q", line)
	}
	return st, nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
