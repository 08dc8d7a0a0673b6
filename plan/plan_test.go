package plan_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/mke-migrate/mke-migrate/plan"
)

func do(context.Context, *plan.Run) error { return nil }

func ids(p *plan.Plan) []string {
	var out []string
	for _, s := range p.Steps() {
		out = append(out, s.ID())
	}
	return out
}

func TestValidate(t *testing.T) {
	for _, p := range []*plan.Plan{
		stages([]*plan.Step{{Name: "a", Do: do}, {Name: "a", Do: do}}),
		stages([]*plan.Step{{Name: "a b", Do: do}}),
		stages([]*plan.Step{{Name: "a@b", Do: do}}),
		stages([]*plan.Step{{Name: "a"}}),
		stages([]*plan.Step{{Do: do}}),
	} {
		if p.Validate() == nil {
			t.Errorf("%v: no error", ids(p))
		}
	}
	if err := stages([]*plan.Step{{Name: "a", Do: do}, {Name: "a", Host: "h:22", Do: do}}).Validate(); err != nil {
		t.Error(err)
	}
}

func TestEdit(t *testing.T) {
	newPlan := func() *plan.Plan {
		p := &plan.Plan{Stages: []*plan.Stage{
			{Name: "M", Phase: "managers", Lanes: [][]*plan.Step{{{Name: "stop", Host: "m:22", Do: do}, {Name: "k0s", Host: "m:22", Do: do}}}},
			{Name: "W", Phase: "workers", Lanes: [][]*plan.Step{{{Name: "k0s", Host: "w1:22", Do: do}}, {{Name: "k0s", Host: "w2:22", Do: do}}}},
			{Name: "C", Phase: "cleanup", Lanes: [][]*plan.Step{{{Name: "uninstall", Host: "m:22", PointOfNoReturn: true, Do: do}}}},
		}}
		for _, st := range p.Stages {
			for _, lane := range st.Lanes {
				for _, s := range lane {
					s.Phase = st.Phase
				}
			}
		}
		return p
	}
	for _, tc := range []struct {
		name string
		edit func(p *plan.Plan) error
		want []string
	}{
		{"before the first", func(p *plan.Plan) error { return p.InsertBefore("stop@m:22", &plan.Step{Name: "check", Do: do}) },
			[]string{"check", "stop@m:22", "k0s@m:22", "k0s@w1:22", "k0s@w2:22", "uninstall@m:22"}},
		{"after, mid-lane", func(p *plan.Plan) error {
			return p.InsertAfter("stop@m:22", &plan.Step{Name: "a", Do: do}, &plan.Step{Name: "b", Do: do})
		}, []string{"stop@m:22", "a", "b", "k0s@m:22", "k0s@w1:22", "k0s@w2:22", "uninstall@m:22"}},
		{"after the last of a lane", func(p *plan.Plan) error {
			return p.InsertAfter("k0s@w1:22", &plan.Step{Name: "label", Host: "w1:22", Do: do})
		},
			[]string{"stop@m:22", "k0s@m:22", "k0s@w1:22", "label@w1:22", "k0s@w2:22", "uninstall@m:22"}},
		{"replace", func(p *plan.Plan) error {
			return p.Replace("k0s@w2:22", &plan.Step{Name: "mine", Host: "w2:22", Do: do})
		},
			[]string{"stop@m:22", "k0s@m:22", "k0s@w1:22", "mine@w2:22", "uninstall@m:22"}},
		{"remove a lane's only step", func(p *plan.Plan) error { return p.Remove("k0s@w1:22") },
			[]string{"stop@m:22", "k0s@m:22", "k0s@w2:22", "uninstall@m:22"}},
		{"remove a stage's only step", func(p *plan.Plan) error { return p.Remove("uninstall@m:22") },
			[]string{"stop@m:22", "k0s@m:22", "k0s@w1:22", "k0s@w2:22"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPlan()
			require(t, tc.edit(p))
			if got := ids(p); !slices.Equal(got, tc.want) {
				t.Fatalf("steps %v\nwant  %v", got, tc.want)
			}
			for _, st := range p.Stages {
				for _, lane := range st.Lanes {
					for _, s := range lane {
						if s.Phase != st.Phase {
							t.Errorf("%s: phase %q in stage of %q", s.ID(), s.Phase, st.Phase)
						}
					}
				}
			}
		})
	}
	p := newPlan()
	if len(p.Stages) != 3 || len(newPlan().Stages[1].Lanes) != 2 {
		t.Fatal("edits changed another plan")
	}
	var nf *plan.StepNotFoundError
	for _, err := range []error{p.InsertBefore("nope", &plan.Step{}), p.InsertAfter("k0s", &plan.Step{}), p.Replace("x", &plan.Step{}), p.Remove("x")} {
		if !errors.As(err, &nf) {
			t.Errorf("err = %v", err)
		}
	}
	if s, ok := p.PointOfNoReturn(); !ok || s.ID() != "uninstall@m:22" {
		t.Errorf("point of no return %v %v", s, ok)
	}
	require(t, p.Remove("uninstall@m:22"))
	if _, ok := p.PointOfNoReturn(); ok {
		t.Error("a point of no return in a plan without one")
	}
}
