package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mke-migrate/mke-migrate/testbed/internal/fakestate"
)

// now is the clock of STATUS texts; tests replace it.
var now = time.Now

func (e *env) times() (fakestate.Times, error) {
	t := fakestate.Times{}
	_, err := e.loadJSON(fakestate.TimesFile, &t)
	return t, err
}

// dockerStopStart runs docker stop, start and restart. Like docker, it
// prints each name it was given on success, reports the failures of the
// others, and exits 1 if any failed; stopping a stopped container or
// starting a running one succeeds and changes nothing.
func (e *env) dockerStopStart(n *fakestate.Node, verb string, args []string) error {
	vals, _, pos := flags(args, "-t", "--time", "-s", "--signal", "--detach-keys")
	if len(pos) == 0 {
		return fail(1, "\"docker %s\" requires at least 1 argument.", verb)
	}
	// docker stop -t: seconds before SIGKILL, 10 by default (docker CLI
	// reference "container stop")
	timeout := 10 * time.Second
	if t := first(vals, "-t", "--time"); t != "" {
		s, err := strconv.Atoi(t)
		if err != nil {
			return fail(125, "invalid argument %q for \"-t, --time\" flag: strconv.ParseInt: parsing %q: invalid syntax", t, t)
		}
		timeout = time.Duration(s) * time.Second
	}
	times, err := e.times()
	if err != nil {
		return err
	}
	procs, err := e.procs()
	if err != nil {
		return err
	}
	var errs, failed []string
	t := now().UTC()
	for _, ref := range pos {
		i := findContainer(n, ref)
		if i < 0 {
			msg := "Error response from daemon: No such container: " + ref
			if verb == "start" {
				// docker start reports each failure at once, then a summary
				fmt.Fprintln(e.stderr, msg)
				failed = append(failed, ref)
			} else {
				errs = append(errs, msg)
			}
			continue
		}
		c := &n.Containers[i]
		if verb != "start" {
			e.stopProcess(procs, c, timeout)
		}
		if verb != "stop" {
			if err := e.startProcess(procs, c); err != nil {
				var xe *exitError
				if errors.As(err, &xe) {
					fmt.Fprintln(e.stderr, xe.msg)
				} else {
					fmt.Fprintln(e.stderr, "Error response from daemon:", err)
				}
				failed = append(failed, ref)
				continue
			}
		}
		ct := times[c.ID]
		if c.Running && verb != "start" {
			ct.FinishedAt = t
		}
		if verb != "stop" && (!c.Running || verb == "restart") {
			ct.StartedAt = t
		}
		if ct != times[c.ID] {
			times[c.ID] = ct
		}
		c.Running = verb != "stop"
		fmt.Fprintln(e.stdout, ref)
	}
	if err := e.saveJSON(fakestate.NodeFile, n); err != nil {
		return err
	}
	if err := e.saveJSON(fakestate.TimesFile, times); err != nil {
		return err
	}
	if err := e.saveProcs(procs); err != nil {
		return err
	}
	if len(failed) > 0 {
		return fail(1, "Error: failed to start containers: %s", strings.Join(failed, ", "))
	}
	if len(errs) > 0 {
		return fail(1, "%s", strings.Join(errs, "\n"))
	}
	return nil
}

// containerStatus is docker ps's STATUS: "Up 3 hours" or "Exited (0) 5
// seconds ago". Containers never stopped or started in the test have run
// for two weeks.
func containerStatus(c fakestate.Container, ct fakestate.ContainerTimes) string {
	if c.Running {
		if ct.StartedAt.IsZero() {
			return "Up 2 weeks"
		}
		return "Up " + humanDuration(now().Sub(ct.StartedAt))
	}
	if ct.FinishedAt.IsZero() {
		return "Exited (0) 2 weeks ago"
	}
	return "Exited (0) " + humanDuration(now().Sub(ct.FinishedAt)) + " ago"
}

// humanDuration rounds d the way docker's STATUS and CREATED columns do
// (go-units HumanDuration).
func humanDuration(d time.Duration) string {
	s := int(d.Seconds())
	m := int(d.Minutes())
	h := int(d.Hours() + 0.5)
	switch {
	case s < 1:
		return "Less than a second"
	case s == 1:
		return "1 second"
	case s < 60:
		return fmt.Sprintf("%d seconds", s)
	case m == 1:
		return "About a minute"
	case m < 60:
		return fmt.Sprintf("%d minutes", m)
	case h == 1:
		return "About an hour"
	case h < 48:
		return fmt.Sprintf("%d hours", h)
	case h < 24*7*2:
		return fmt.Sprintf("%d days", h/24)
	case h < 24*30*2:
		return fmt.Sprintf("%d weeks", h/24/7)
	case h < 24*365*2:
		return fmt.Sprintf("%d months", h/24/30)
	}
	return fmt.Sprintf("%d years", int(d.Hours())/24/365)
}
