package journal

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzRead checks that parsing any bytes neither panics nor accepts what
// it should not, and that whatever it accepts replays.
func FuzzRead(f *testing.F) {
	f.Add([]byte(`{"seq":1,"run":"r","event":"run-start"}` + "\n" + `{"seq":2,"run":"r","step":"s","host":"h","event":"start","data":{"k":"v"}}` + "\n"))
	f.Add([]byte(`{"seq":1,"run":"r","event":"run-start"}` + "\n" + `{"seq":2,"ru`))
	f.Add([]byte("\n\n"))
	f.Add([]byte(`{"seq":1,"run":"r","event":"run-start","error":"\u001b"}` + "\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parse(b, "journal.jsonl")
		if err != nil {
			if _, ok := err.(*CorruptError); !ok {
				t.Fatalf("error %T %v, want *CorruptError", err, err)
			}
			return
		}
		if p.good+int64(p.torn) != int64(len(b)) {
			t.Fatalf("good %d + torn %d != %d bytes", p.good, p.torn, len(b))
		}
		if p.torn > 0 && strings.Contains(string(b[p.good:]), "\n") {
			t.Fatal("torn part has a newline")
		}
		for i, r := range p.records {
			if r.Seq != i+1 || r.Run != p.records[0].Run {
				t.Fatalf("record %d: %+v", i, r)
			}
		}
		s := Replay(p.records)
		for _, k := range append(s.Started(), append(s.Completed(), s.ToUndo()...)...) {
			s.Status(k.Step, k.Host)
			s.Data(k.Step, k.Host)
		}
		s.RunEnded()
		// What was accepted re-encodes to lines that parse the same.
		var out []byte
		for _, r := range p.records {
			l, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			out = append(append(out, l...), '\n')
		}
		p2, err := parse(out, "journal.jsonl")
		if err != nil || len(p2.records) != len(p.records) {
			t.Fatalf("re-encoded journal: %d records, %v", len(p2.records), err)
		}
	})
}
