package convert

import "testing"

func TestReportFind(t *testing.T) {
	r := Report{Entries: []Entry{
		{Key: "a", Status: StatusConverted},
		{Key: "f", Flag: "--x=1", Status: StatusConverted},
		{Key: "f", Flag: "--x=2", Status: StatusDropped},
		{Key: "f", Flag: "-y", Status: StatusUnconvertible},
		{Key: "f", Status: StatusDefault},
	}}
	for _, c := range []struct {
		key, flag string
		ok        bool
		want      Status
	}{
		{"a", "", true, StatusConverted},
		{"a", "x", false, 0},
		{"f", "x", true, StatusConverted}, // the first of two
		{"f", "--x", true, StatusConverted},
		{"f", "--x=9", true, StatusConverted},
		{"f", "y", true, StatusUnconvertible},
		{"f", "", true, StatusDefault},
		{"f", "z", false, 0},
		{"b", "", false, 0},
	} {
		e, ok := r.Find(c.key, c.flag)
		if ok != c.ok || e.Status != c.want {
			t.Errorf("Find(%q, %q) = %v, %v; want %v, %v", c.key, c.flag, e.Status, ok, c.want, c.ok)
		}
	}
}
