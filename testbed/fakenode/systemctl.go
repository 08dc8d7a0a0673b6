package main

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mke-migrate/mke-migrate/testbed/internal/fakestate"
)

// unitName completes a unit name with ".service" like systemctl does.
func unitName(s string) string {
	if strings.Contains(s, ".") {
		return s
	}
	return s + ".service"
}

func (e *env) systemctl(args []string) error {
	_, bools, pos := flags(args, "-p", "--property", "--type", "-t", "--state")
	quiet := bools["-q"] || bools["--quiet"]
	if len(pos) == 0 {
		return unsupported("systemctl", args)
	}
	units, err := e.units()
	if err != nil {
		return err
	}
	verb, names := pos[0], pos[1:]
	save := func() error { return e.saveJSON(fakestate.UnitsFile, units) }
	switch verb {
	case "daemon-reload", "reset-failed":
		return nil
	case "start", "stop", "restart", "reload-or-restart", "try-restart":
		if len(names) == 0 {
			return fail(1, "Too few arguments.")
		}
		for _, n := range names {
			u := units[unitName(n)]
			if u == nil {
				word := map[string]string{"stop": "Failed to stop"}[verb]
				if word == "" {
					return fail(5, "Failed to %s %s: Unit %s not found.", verb, unitName(n), unitName(n))
				}
				return fail(5, "%s %s: Unit %s not loaded.", word, unitName(n), unitName(n))
			}
			switch verb {
			case "stop":
				u.Active = false
			case "try-restart":
			default:
				u.Active = true
			}
			if unitName(n) == "docker.service" {
				if err := e.dockerUnit(verb); err != nil {
					return err
				}
			}
		}
		if err := save(); err != nil {
			return err
		}
		// a k0s unit runs its daemon (k0s_daemon.go)
		for _, n := range names {
			if strings.HasPrefix(unitName(n), "k0s") && verb != "try-restart" {
				if verb != "stop" && verb != "start" {
					if err := e.unitChanged(unitName(n), false); err != nil {
						return err
					}
				}
				if err := e.unitChanged(unitName(n), verb != "stop"); err != nil {
					return err
				}
			}
		}
		return nil
	case "enable", "disable":
		if len(names) == 0 {
			return fail(1, "Too few arguments.")
		}
		for _, n := range names {
			un := unitName(n)
			u := units[un]
			if u == nil {
				return fail(1, "Failed to %s unit: Unit file %s does not exist.", verb, un)
			}
			if verb == "enable" {
				if !u.Enabled {
					fmt.Fprintf(e.stderr, "Created symlink /etc/systemd/system/multi-user.target.wants/%s → /etc/systemd/system/%s.\n", un, un)
				}
				u.Enabled = true
				if bools["--now"] {
					u.Active = true
				}
			} else {
				if u.Enabled {
					fmt.Fprintf(e.stderr, "Removed \"/etc/systemd/system/multi-user.target.wants/%s\".\n", un)
				}
				u.Enabled = false
				if bools["--now"] {
					u.Active = false
				}
			}
		}
		return save()
	case "is-active":
		code := 0
		for _, n := range names {
			st := "inactive"
			if u := units[unitName(n)]; u != nil && u.Active {
				st = "active"
			} else {
				code = 3
			}
			if !quiet {
				fmt.Fprintln(e.stdout, st)
			}
		}
		if code != 0 {
			return fail(code, "")
		}
		return nil
	case "is-enabled":
		code := 0
		for _, n := range names {
			u := units[unitName(n)]
			if u == nil {
				return fail(1, "Failed to get unit file state for %s: No such file or directory", unitName(n))
			}
			st := "enabled"
			if !u.Enabled {
				st, code = "disabled", 1
			}
			if !quiet {
				fmt.Fprintln(e.stdout, st)
			}
		}
		if code != 0 {
			return fail(code, "")
		}
		return nil
	case "status":
		code := 0
		for _, n := range names {
			un := unitName(n)
			u := units[un]
			if u == nil {
				return fail(4, "Unit %s could not be found.", un)
			}
			enabled, active := "disabled", "inactive (dead)"
			if u.Enabled {
				enabled = "enabled"
			}
			if u.Active {
				active = "active (running) since Mon 2024-01-01 00:00:00 UTC; 2 weeks ago"
			} else {
				code = 3
			}
			fmt.Fprintf(e.stdout, "● %s\n     Loaded: loaded (/etc/systemd/system/%s; %s; preset: enabled)\n     Active: %s\n", un, un, enabled, active)
		}
		if code != 0 {
			return fail(code, "")
		}
		return nil
	case "list-unit-files":
		var match []string
		for name := range units {
			if len(names) == 0 {
				match = append(match, name)
				continue
			}
			for _, p := range names {
				if name == p || name == unitName(p) || globMatch(p, name) {
					match = append(match, name)
					break
				}
			}
		}
		sort.Strings(match)
		fmt.Fprintln(e.stdout, "UNIT FILE               STATE   PRESET")
		for _, name := range match {
			st := "disabled"
			if units[name].Enabled {
				st = "enabled"
			}
			fmt.Fprintf(e.stdout, "%-23s %-7s enabled\n", name, st)
		}
		fmt.Fprintf(e.stdout, "\n%d unit files listed.\n", len(match))
		if len(match) == 0 {
			return fail(1, "")
		}
		return nil
	}
	return unsupported("systemctl", args)
}

func globMatch(pattern, name string) bool {
	if !strings.ContainsAny(pattern, "*?[") {
		return false
	}
	ok, _ := filepath.Match(pattern, name)
	return ok
}

// dockerUnit stops or starts the processes behind containers with
// docker.service: dockerd stops its containers when it stops (without
// live-restore) and starts those with a restart policy when it starts;
// MKE's ucp-* containers run with one (the fake gives every container
// that was running one).
func (e *env) dockerUnit(verb string) error {
	n, err := e.node()
	if err != nil || n.Real == nil {
		return nil
	}
	switch verb {
	case "stop":
		return e.stopAll(n)
	case "restart", "reload-or-restart":
		if err := e.stopAll(n); err != nil {
			return err
		}
	}
	return e.boot(nil)
}
