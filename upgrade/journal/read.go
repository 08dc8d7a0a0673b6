package journal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// FileName is the journal's name inside its directory.
const FileName = "journal.jsonl"

// CorruptError is a journal line that is not a valid record and is not a
// torn last line. The journal cannot be trusted past it, so nothing is
// resumed or rolled back automatically.
type CorruptError struct {
	Path string // the journal file
	Line int    // 1-based
	Err  error  // what is wrong with the line
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("journal %s line %d is corrupt: %v (the run cannot be resumed from it; inspect the file)", e.Path, e.Line, e.Err)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// Read returns the records of the journal in dir without changing the
// file. A torn last line (no newline: the writer died mid-write) is
// ignored, as Open would drop it; any other bad line is a *CorruptError.
func Read(dir string) ([]Record, error) {
	path := filepath.Join(dir, FileName)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	p, err := parse(b, path)
	if err != nil {
		return nil, err
	}
	return p.records, nil
}

// parsed is what parse found in a journal file.
type parsed struct {
	records []Record
	good    int64 // bytes up to the end of the last complete line
	torn    int   // bytes of a torn last line, 0 if none
}

// parse checks every complete line: a record with a known event, the
// same run as the first one, and Seq one more than the previous line.
// The Seq check catches lost, duplicated or reordered lines.
func parse(b []byte, path string) (parsed, error) {
	var p parsed
	line := 0
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			// Append writes a line and its newline in one write, so a
			// line without one was never acknowledged to its caller.
			p.torn = len(b)
			break
		}
		line++
		r, err := decodeLine(b[:i])
		if err == nil {
			err = p.next(r)
		}
		if err != nil {
			return parsed{}, &CorruptError{Path: path, Line: line, Err: err}
		}
		p.records = append(p.records, r)
		p.good += int64(i + 1)
		b = b[i+1:]
	}
	return p, nil
}

func decodeLine(l []byte) (Record, error) {
	var r Record
	if len(bytes.TrimSpace(l)) == 0 {
		return r, errors.New("empty line")
	}
	// Unknown fields are allowed so that an older binary can still
	// roll back a run journaled by a newer one.
	if err := json.Unmarshal(l, &r); err != nil {
		return r, err
	}
	if err := r.check(); err != nil {
		return r, err
	}
	return r, nil
}

// next checks r against the records before it.
func (p *parsed) next(r Record) error {
	if want := len(p.records) + 1; r.Seq != want {
		return fmt.Errorf("seq %d, want %d (lines lost, duplicated or reordered)", r.Seq, want)
	}
	if err := CheckRun(r.Run); err != nil {
		return err
	}
	if len(p.records) > 0 && r.Run != p.records[0].Run {
		return fmt.Errorf("run %q in a journal of run %q", r.Run, p.records[0].Run)
	}
	if len(p.records) == 0 && r.Event != RunStart {
		return fmt.Errorf("first record is %q, want %q", r.Event, RunStart)
	}
	return nil
}
