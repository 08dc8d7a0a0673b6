package hostlock

import (
	"testing"

	"github.com/mke-migrate/mke-migrate/upgrade/journal"
)

// FuzzParseStatus checks the parser of the host lock commands' output.
func FuzzParseStatus(f *testing.F) {
	for _, s := range []string{
		"mke-migrate-lock acquired", "banner\nmke-migrate-lock held 12 run=r1\n", "mke-migrate-lock takeover 99 -",
		"mke-migrate-lock lost - run=x", "mke-migrate-lock held -5 run=r", "mke-migrate-lock held 1", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, out string) {
		st, err := parseStatus(out)
		if err != nil {
			return
		}
		if st.age < 0 {
			t.Fatalf("negative age %v", st.age)
		}
		if st.holder != "" && journal.CheckRun(st.holder) != nil {
			t.Fatalf("holder %q is not a run ID", st.holder)
		}
	})
}
