package journal

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a deterministic Options.Now.
func clock() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Second)
		return t
	}
}

func mustCreate(t *testing.T, dir string) *Journal {
	t.Helper()
	j, err := Create(dir, "run-1", Options{Now: clock()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

func mustAppend(t *testing.T, j *Journal, rs ...Record) {
	t.Helper()
	for _, r := range rs {
		if _, err := j.Append(r); err != nil {
			t.Fatalf("append %+v: %v", r, err)
		}
	}
}

func TestCreateAppendRead(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out", "run")
	j := mustCreate(t, dir)
	got, err := j.Append(Record{Step: "k0s-install", Host: "h1", Event: StepStart, Data: map[string]string{"file": "/tmp/x"}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Seq != 2 || got.Run != "run-1" || got.Time.Location() != time.UTC || got.Time.IsZero() {
		t.Errorf("appended %+v", got)
	}
	rs, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || rs[0].Event != RunStart || rs[1].Data["file"] != "/tmp/x" || !rs[1].Time.Equal(got.Time) {
		t.Errorf("read %+v", rs)
	}
	for p, want := range map[string]fs.FileMode{dir: 0o700 | fs.ModeDir, filepath.Join(dir, FileName): 0o600} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want {
			t.Errorf("%s mode %v, want %v", p, fi.Mode(), want)
		}
	}
}

func TestAppendChecks(t *testing.T) {
	long := strings.Repeat("é", MaxErrorLen) // 2 bytes a rune
	tests := []struct {
		name    string
		r       Record
		wantErr error
		check   func(Record) string
	}{
		{name: "step event", r: Record{Step: "s", Host: "h", Event: StepDone}},
		{name: "cluster step", r: Record{Step: "s", Event: StepStart}},
		{name: "run event", r: Record{Event: RunDone}},
		{name: "unknown event", r: Record{Step: "s", Event: "exploded"}, wantErr: ErrInvalidRecord},
		{name: "no event", r: Record{Step: "s"}, wantErr: ErrInvalidRecord},
		{name: "step event without step", r: Record{Host: "h", Event: StepStart}, wantErr: ErrInvalidRecord},
		{name: "run event with step", r: Record{Step: "s", Event: RunFailed}, wantErr: ErrInvalidRecord},
		{name: "second run-start", r: Record{Event: RunStart}, wantErr: ErrInvalidRecord},
		{name: "other run", r: Record{Run: "run-2", Step: "s", Event: StepStart}, wantErr: ErrInvalidRecord},
		{name: "caller's seq and time are replaced", r: Record{Seq: 99, Time: time.Unix(1, 0), Step: "s", Event: StepStart},
			check: func(r Record) string {
				if r.Seq == 99 || r.Time.Equal(time.Unix(1, 0)) {
					return fmt.Sprintf("kept %d %v", r.Seq, r.Time)
				}
				return ""
			}},
		{name: "error cleaned", r: Record{Step: "s", Event: StepFailed, Error: "exit 1:\n\x1b[31mno space\x1b[0m\r\n"},
			check: func(r Record) string {
				if r.Error != "exit 1:  [31mno space [0m" {
					return fmt.Sprintf("error %q", r.Error)
				}
				return ""
			}},
		{name: "error cut on a rune boundary", r: Record{Step: "s", Event: StepFailed, Error: "x" + long},
			check: func(r Record) string {
				if len(r.Error) > MaxErrorLen || len(r.Error) < MaxErrorLen-2 || !strings.HasSuffix(r.Error, "é") {
					return fmt.Sprintf("error of %d bytes ending %q", len(r.Error), r.Error[len(r.Error)-4:])
				}
				return ""
			}},
		{name: "invalid utf-8 error", r: Record{Step: "s", Event: StepFailed, Error: "a\xffb"},
			check: func(r Record) string {
				if r.Error != "a\uFFFDb" {
					return fmt.Sprintf("error %q", r.Error)
				}
				return ""
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			j := mustCreate(t, dir)
			got, err := j.Append(tt.r)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if n := len(j.Records()); n != 1 {
					t.Errorf("%d records after a refused append", n)
				}
				return
			}
			if tt.check != nil {
				if msg := tt.check(got); msg != "" {
					t.Error(msg)
				}
			}
			rs, err := Read(dir)
			if err != nil {
				t.Fatal(err)
			}
			if last := rs[len(rs)-1]; last.Error != got.Error || last.Seq != got.Seq {
				t.Errorf("read back %+v, appended %+v", last, got)
			}
		})
	}
}

func TestCreateExisting(t *testing.T) {
	tests := []struct {
		name    string
		content string
		wantErr error
	}{
		{name: "with records", content: `{"seq":1,"run":"old","event":"run-start"}` + "\n", wantErr: ErrExists},
		{name: "corrupt", content: "garbage\n", wantErr: ErrExists},
		{name: "empty (died inside Create)", content: ""},
		{name: "only a torn line", content: `{"seq":1,"run":"old","ev`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, FileName), []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			j, err := Create(dir, "run-1", Options{})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				b, _ := os.ReadFile(filepath.Join(dir, FileName))
				if string(b) != tt.content {
					t.Errorf("existing journal changed to %q", b)
				}
				return
			}
			defer j.Close()
			if rs, err := Read(dir); err != nil || len(rs) != 1 || rs[0].Run != "run-1" {
				t.Errorf("read %+v, %v", rs, err)
			}
		})
	}
}

func TestCreateInvalidRun(t *testing.T) {
	for _, run := range []string{"", "a b", "x;rm -rf /", "a'b", strings.Repeat("a", 129), "é"} {
		if _, err := Create(t.TempDir(), run, Options{}); !errors.Is(err, ErrInvalidRun) {
			t.Errorf("run %q: err %v, want ErrInvalidRun", run, err)
		}
	}
}

// TestCrashTornLine simulates a process killed in the middle of writing
// a line: every possible cut of the last line is dropped by Open, and
// appending continues with the next Seq.
func TestCrashTornLine(t *testing.T) {
	src := t.TempDir()
	j := mustCreate(t, src)
	mustAppend(t, j,
		Record{Step: "a", Host: "h1", Event: StepStart},
		Record{Step: "a", Host: "h1", Event: StepDone},
		Record{Step: "b", Host: "h1", Event: StepStart, Data: map[string]string{"k": "v"}},
	)
	j.Close()
	whole, err := os.ReadFile(filepath.Join(src, FileName))
	if err != nil {
		t.Fatal(err)
	}
	lastStart := bytes.LastIndexByte(whole[:len(whole)-1], '\n') + 1
	for cut := lastStart + 1; cut < len(whole); cut++ {
		dir := t.TempDir()
		path := filepath.Join(dir, FileName)
		if err := os.WriteFile(path, whole[:cut], 0o600); err != nil {
			t.Fatal(err)
		}
		var logs bytes.Buffer
		j, err := Open(dir, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatalf("cut at %d: %v", cut, err)
		}
		if n := len(j.Records()); n != 3 {
			t.Fatalf("cut at %d: %d records, want 3", cut, n)
		}
		if !strings.Contains(logs.String(), "torn") {
			t.Errorf("cut at %d: torn line not logged: %q", cut, logs.String())
		}
		r, err := j.Append(Record{Step: "b", Host: "h1", Event: StepStart})
		if err != nil || r.Seq != 4 {
			t.Fatalf("cut at %d: append gave %+v, %v", cut, r, err)
		}
		j.Close()
		rs, err := Read(dir)
		if err != nil || len(rs) != 4 {
			t.Fatalf("cut at %d: reread %d records, %v", cut, len(rs), err)
		}
	}
}

func TestReadLeavesTornLine(t *testing.T) {
	dir := t.TempDir()
	j := mustCreate(t, dir)
	j.Close()
	path := filepath.Join(dir, FileName)
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"seq":2,"ru`)
	f.Close()
	before, _ := os.ReadFile(path)
	rs, err := Read(dir)
	if err != nil || len(rs) != 1 {
		t.Fatalf("read %d, %v", len(rs), err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("Read changed the file")
	}
}

func TestCorrupt(t *testing.T) {
	start := `{"seq":1,"run":"r","event":"run-start"}`
	step := func(seq int) string {
		return fmt.Sprintf(`{"seq":%d,"run":"r","step":"s","event":"start"}`, seq)
	}
	tests := []struct {
		name  string
		lines []string
		line  int
	}{
		{name: "garbage in the middle", lines: []string{start, "{{{", step(2)}, line: 2},
		{name: "garbage last line with newline", lines: []string{start, step(2), "nonsense"}, line: 3},
		{name: "empty line", lines: []string{start, "", step(2)}, line: 2},
		{name: "seq gap", lines: []string{start, step(3)}, line: 2},
		{name: "seq repeated", lines: []string{start, step(2), step(2)}, line: 3},
		{name: "other run", lines: []string{start, `{"seq":2,"run":"q","step":"s","event":"start"}`}, line: 2},
		{name: "unknown event", lines: []string{start, `{"seq":2,"run":"r","step":"s","event":"boom"}`}, line: 2},
		{name: "no run-start first", lines: []string{step(1)}, line: 1},
		{name: "bad run id", lines: []string{`{"seq":1,"run":"a b","event":"run-start"}`}, line: 1},
		{name: "wrong type", lines: []string{start, `{"seq":"2","run":"r","step":"s","event":"start"}`}, line: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, FileName)
			content := strings.Join(tt.lines, "\n") + "\n"
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			for name, f := range map[string]func() error{
				"Read": func() error { _, err := Read(dir); return err },
				"Open": func() error {
					j, err := Open(dir, Options{})
					if err == nil {
						j.Close()
					}
					return err
				},
			} {
				err := f()
				var ce *CorruptError
				if !errors.As(err, &ce) {
					t.Fatalf("%s: err %v, want *CorruptError", name, err)
				}
				if ce.Path != path || ce.Line != tt.line {
					t.Errorf("%s: corrupt at %s:%d, want %s:%d", name, ce.Path, ce.Line, path, tt.line)
				}
				if !strings.Contains(err.Error(), path) {
					t.Errorf("%s: message %q does not name the file", name, err)
				}
			}
			if b, _ := os.ReadFile(path); string(b) != content {
				t.Error("a corrupt journal was changed")
			}
		})
	}
}

func TestOpenMissingOrEmpty(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(dir, Options{}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
	os.WriteFile(filepath.Join(dir, FileName), []byte(`{"seq":1`), 0o600)
	if _, err := Open(dir, Options{}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("only torn: %v", err)
	}
	if _, err := Read(t.TempDir()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("read missing: %v", err)
	}
}

func TestOpenKeepsRun(t *testing.T) {
	dir := t.TempDir()
	j := mustCreate(t, dir)
	mustAppend(t, j, Record{Step: "s", Event: StepStart})
	j.Close()
	j2, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer j2.Close()
	if j2.Run() != "run-1" || j2.Path() != filepath.Join(dir, FileName) {
		t.Errorf("run %q path %q", j2.Run(), j2.Path())
	}
	r, err := j2.Append(Record{Event: RunResume})
	if err != nil || r.Seq != 3 || r.Run != "run-1" {
		t.Errorf("append %+v %v", r, err)
	}
}

func TestRecordsIsACopy(t *testing.T) {
	j := mustCreate(t, t.TempDir())
	data := map[string]string{"k": "v"}
	mustAppend(t, j, Record{Step: "s", Event: StepStart, Data: data})
	data["k"] = "changed by caller"
	rs := j.Records()
	rs[1].Data["k"] = "changed in copy"
	rs[0].Event = "x"
	if got := j.Records(); got[1].Data["k"] != "v" || got[0].Event != RunStart {
		t.Errorf("records changed from outside: %+v", got)
	}
}

func TestCloseThenAppend(t *testing.T) {
	j := mustCreate(t, t.TempDir())
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	if _, err := j.Append(Record{Event: RunDone}); !errors.Is(err, ErrClosed) {
		t.Errorf("append after close: %v", err)
	}
}

func TestConcurrentAppend(t *testing.T) {
	dir := t.TempDir()
	j := mustCreate(t, dir)
	const hosts, steps = 16, 20
	var wg sync.WaitGroup
	for h := range hosts {
		wg.Go(func() {
			for s := range steps {
				for _, ev := range []Event{StepStart, StepDone} {
					if _, err := j.Append(Record{Step: fmt.Sprint("step-", s), Host: fmt.Sprint("h", h), Event: ev}); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	j.Close()
	rs, err := Read(dir) // checks Seq 1..n in order
	if err != nil {
		t.Fatal(err)
	}
	if want := 1 + hosts*steps*2; len(rs) != want {
		t.Fatalf("%d records, want %d", len(rs), want)
	}
	st := Replay(rs)
	if n := len(st.Completed()); n != hosts*steps {
		t.Errorf("%d completed, want %d", n, hosts*steps)
	}
}

// faultyFile fails the chosen operation of the wrapped file.
type faultyFile struct {
	file
	shortWrite, failWrite, failSync, failTruncate bool
}

func (f *faultyFile) Write(b []byte) (int, error) {
	switch {
	case f.shortWrite:
		n, _ := f.file.Write(b[:len(b)/2])
		return n, nil
	case f.failWrite:
		n, _ := f.file.Write(b[:len(b)/3])
		return n, errors.New("disk full")
	}
	return f.file.Write(b)
}

func (f *faultyFile) Sync() error {
	if f.failSync {
		return errors.New("fsync: input/output error")
	}
	return f.file.Sync()
}

func (f *faultyFile) Truncate(n int64) error {
	if f.failTruncate {
		return errors.New("truncate: read-only file system")
	}
	return f.file.Truncate(n)
}

func TestAppendFaults(t *testing.T) {
	tests := []struct {
		name        string
		fault       faultyFile
		wantRecords int // read back by Open after the failure
	}{
		{name: "short write", fault: faultyFile{shortWrite: true}, wantRecords: 2},
		{name: "write error", fault: faultyFile{failWrite: true}, wantRecords: 2},
		{name: "fsync error", fault: faultyFile{failSync: true}, wantRecords: 3},
		{name: "write and truncate errors", fault: faultyFile{failWrite: true, failTruncate: true}, wantRecords: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			j := mustCreate(t, dir)
			mustAppend(t, j, Record{Step: "s", Host: "h", Event: StepStart})
			ff := tt.fault
			ff.file = j.f
			j.f = &ff
			if _, err := j.Append(Record{Step: "s", Host: "h", Event: StepDone}); !errors.Is(err, ErrBroken) {
				t.Fatalf("err %v, want ErrBroken", err)
			}
			// Sticky: nothing may follow an unknown tail, even once the
			// disk recovers.
			j.f = ff.file
			if _, err := j.Append(Record{Event: RunFailed}); !errors.Is(err, ErrBroken) {
				t.Fatalf("next append: %v, want ErrBroken", err)
			}
			if n := len(j.Records()); n != 2 {
				t.Errorf("%d records in memory, want 2", n)
			}
			j.Close()
			// A later process recovers with Open: the failed line is
			// gone or was cut back, or is a torn tail that Open drops.
			j2, err := Open(dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer j2.Close()
			if n := len(j2.Records()); n != tt.wantRecords {
				t.Errorf("%d records after reopen, want %d", n, tt.wantRecords)
			}
			if r, err := j2.Append(Record{Event: RunResume}); err != nil || r.Seq != tt.wantRecords+1 {
				t.Errorf("append after reopen: %+v %v", r, err)
			}
		})
	}
}

func BenchmarkAppend(b *testing.B) {
	j, err := Create(b.TempDir(), "bench", Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	r := Record{Step: "k0s-install", Host: "10.0.0.11", Event: StepDone, Data: map[string]string{"sha256": strings.Repeat("a", 64)}}
	b.ResetTimer()
	for b.Loop() {
		if _, err := j.Append(r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkAppendParallel(b *testing.B) {
	j, err := Create(b.TempDir(), "bench", Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	r := Record{Step: "k0s-install", Host: "10.0.0.11", Event: StepDone}
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := j.Append(r); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
