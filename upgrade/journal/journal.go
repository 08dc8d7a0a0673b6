package journal

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// ErrExists is wrapped by Create when the directory already holds a
// journal with records: that run must be resumed or rolled back, or the
// directory removed, never overwritten.
var ErrExists = errors.New("journal already exists")

// ErrClosed is wrapped by Append after Close.
var ErrClosed = errors.New("journal closed")

// ErrBroken is wrapped by Append after a write or fsync failed: what is on
// disk is unknown (after a failed fsync Linux may have dropped the pages),
// so no later record may claim to follow it. Reopen the journal with Open.
var ErrBroken = errors.New("journal broken by an earlier write failure")

// Options tune a Journal.
type Options struct {
	// Now is the clock for Record.Time; nil means time.Now.
	Now func() time.Time
	// Logger receives warnings (a torn line dropped); nil is silent.
	Logger *slog.Logger
}

// file is the part of *os.File a Journal writes through; tests inject
// faults here.
type file interface {
	io.Writer
	Sync() error
	Truncate(size int64) error
	Close() error
}

// Journal appends records to dir/journal.jsonl. It is safe for concurrent
// use.
type Journal struct {
	path string
	run  string
	now  func() time.Time
	log  *slog.Logger

	mu      sync.Mutex
	f       file
	size    int64 // bytes known to be on disk, where a failed write is cut back to
	records []Record
	err     error // sticky: ErrClosed or ErrBroken
}

func (o Options) fill() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Create starts the journal of a new run in dir and writes its RunStart
// record. dir is created (0700) if missing and the file is 0600: it names
// hosts and files of the cluster. A journal with records in dir is
// ErrExists; an empty one, or one holding only a torn line (a run that
// died inside Create), is replaced.
func Create(dir, run string, o Options) (*Journal, error) {
	o = o.fill()
	if err := CheckRun(run); err != nil {
		return nil, err
	}
	if err := mkdirSynced(dir); err != nil {
		return nil, fmt.Errorf("create journal: %w", err)
	}
	path := filepath.Join(dir, FileName)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if errors.Is(err, fs.ErrExist) {
		rs, rerr := Read(dir)
		if rerr != nil || len(rs) > 0 {
			return nil, fmt.Errorf("create journal %s: %w (resume or roll back that run, or remove the directory)", path, ErrExists)
		}
		o.Logger.Warn("replacing a journal without records", "path", path)
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("create journal: %w", err)
		}
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	}
	if err != nil {
		return nil, fmt.Errorf("create journal: %w", err)
	}
	// The new name must survive a crash too, not only the data.
	if err := syncDir(dir); err != nil {
		f.Close()
		return nil, fmt.Errorf("create journal: %w", err)
	}
	j := &Journal{path: path, run: run, now: o.Now, log: o.Logger, f: f}
	if _, err := j.Append(Record{Event: RunStart}); err != nil {
		f.Close()
		return nil, err
	}
	return j, nil
}

// Open reopens the journal in dir to continue its run (resume or
// rollback). A torn last line is cut off the file and logged; any other
// bad line is a *CorruptError. The caller should hold LockDir(dir).
func Open(dir string, o Options) (*Journal, error) {
	o = o.fill()
	path := filepath.Join(dir, FileName)
	// Never through a symbolic link, and only a regular file: a torn last
	// line is cut off, which must not happen to another file.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|oNoFollow, 0)
	if err != nil {
		return nil, fmt.Errorf("open journal: %w (it must be a regular file, not a symbolic link)", err)
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("open journal: %s is not a regular file", path)
	}
	j, err := open(f, path, o)
	if err != nil {
		f.Close()
		return nil, err
	}
	return j, nil
}

func open(f *os.File, path string, o Options) (*Journal, error) {
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	p, err := parse(b, path)
	if err != nil {
		return nil, err
	}
	if len(p.records) == 0 {
		return nil, fmt.Errorf("open journal %s: no records, the run never started: %w", path, fs.ErrNotExist)
	}
	if p.torn > 0 {
		// Appending after the fragment would put a corrupt line in the
		// middle, so it goes before anything else is written.
		if err := f.Truncate(p.good); err != nil {
			return nil, fmt.Errorf("open journal: cut torn line: %w", err)
		}
		if err := f.Sync(); err != nil {
			return nil, fmt.Errorf("open journal: cut torn line: %w", err)
		}
		o.Logger.Warn("dropped a torn last line of the journal (the previous process died while writing it)",
			"path", path, "line", len(p.records)+1, "bytes", p.torn)
	}
	return &Journal{
		path: path, run: p.records[0].Run, now: o.Now, log: o.Logger,
		f: f, size: p.good, records: p.records,
	}, nil
}

// Append sets r's Seq, Time and Run (when empty), cleans r.Error, writes
// it as one line and fsyncs the file before returning: a step may run only
// once its start is on disk. It returns the record as written.
func (j *Journal) Append(r Record) (Record, error) {
	if r.Run == "" {
		r.Run = j.run
	}
	if r.Run != j.run {
		return Record{}, fmt.Errorf("%w: run %q in the journal of run %q", ErrInvalidRecord, r.Run, j.run)
	}
	if err := r.check(); err != nil {
		return Record{}, err
	}
	r.Error = cleanError(r.Error)
	r.Data = cloneData(r.Data)

	j.mu.Lock()
	defer j.mu.Unlock()
	if j.err != nil {
		return Record{}, fmt.Errorf("append to journal %s: %w", j.path, j.err)
	}
	if r.Event == RunStart && len(j.records) > 0 {
		return Record{}, fmt.Errorf("%w: %q is written once, by Create", ErrInvalidRecord, RunStart)
	}
	r.Seq = len(j.records) + 1
	// Round(0) drops the monotonic reading, so the record in memory
	// equals the one read back.
	r.Time = j.now().Round(0).UTC()
	line, err := json.Marshal(r)
	if err != nil {
		return Record{}, fmt.Errorf("append to journal %s: %w", j.path, err)
	}
	line = append(line, '\n')
	if err := j.write(line); err != nil {
		j.err = ErrBroken
		return Record{}, fmt.Errorf("append to journal %s: %w: %w", j.path, ErrBroken, err)
	}
	j.size += int64(len(line))
	j.records = append(j.records, r)
	out := r
	out.Data = cloneData(r.Data)
	return out, nil
}

func (j *Journal) write(line []byte) error {
	// One write per line: a crash leaves at most one torn last line.
	n, err := j.f.Write(line)
	if err == nil && n != len(line) {
		err = io.ErrShortWrite
	}
	if err != nil {
		// Best effort: a partial line left in place would be read back
		// as a torn line, or as corruption once more lines follow.
		if terr := j.f.Truncate(j.size); terr != nil {
			return errors.Join(err, fmt.Errorf("cut partial line: %w", terr))
		}
		return err
	}
	return j.f.Sync()
}

// Records returns a copy of all records, those read by Open included.
func (j *Journal) Records() []Record {
	j.mu.Lock()
	defer j.mu.Unlock()
	return cloneRecords(j.records)
}

// Run returns the run ID of the journal.
func (j *Journal) Run() string { return j.run }

// Path returns the journal file's path, for messages to the operator.
func (j *Journal) Path() string { return j.path }

// Close closes the file. Records already appended are on disk; Append
// after Close fails with ErrClosed.
func (j *Journal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if errors.Is(j.err, ErrClosed) {
		return nil
	}
	j.err = ErrClosed
	if err := j.f.Close(); err != nil {
		return fmt.Errorf("close journal %s: %w", j.path, err)
	}
	return nil
}

// mkdirSynced creates dir (0700) and its missing parents, syncing each
// parent so that the new directories survive a crash.
func mkdirSynced(dir string) error {
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s is not a directory", dir)
		}
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := mkdirSynced(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return syncDir(parent)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
