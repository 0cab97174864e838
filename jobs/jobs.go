// Package jobs runs long work (imports, exports, later audits) in the background of a server, so
// that a request answers at once with the job's address, or waits when the job is quick. A job's
// state and progress are in the database (store/jobs.go), so any server on it can answer for the
// job, a cancellation reaches the server running it, and a job whose server died is marked
// failed ("interrupted") instead of staying "running" for ever. The Janitor (janitor.go) removes
// what dead processes left behind.
package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"gridline.dev/gridline"
	"gridline.dev/gridline/store"
)

// Store is what the runner needs of the database.
type Store interface {
	CreateJob(ctx context.Context, j *store.Job) error
	UpdateJob(ctx context.Context, j *store.Job) (cancel bool, err error)
	FinishJob(ctx context.Context, j *store.Job) error
	GetJob(ctx context.Context, id string) (*store.Job, error)
	RequestCancel(ctx context.Context, id string, now time.Time) error
	ForgetJobFile(ctx context.Context, id string) error
}

// Kinds of job.
const (
	KindImport = "import"
	KindExport = "export"
)

// File is what an export job made: a file kept for download until it expires.
type File struct {
	Path, Name, ContentType string
	Remove                  func() error // removes the file and its directory
}

// Outcome is how a job ended, as the code that waited for it sees it: the report, or the error
// itself (a *gridline.Error the API answers with, or a bug it logs).
type Outcome struct {
	Report any
	File   *File
	Err    error
}

// Func is a job's work. It reports how it is getting on through p and stops when ctx is done.
type Func func(ctx context.Context, p *Progress) (report any, file *File, err error)

// Progress is a running job's counters, safe for concurrent use; the runner writes them to the
// database every Config.Flush.
type Progress struct {
	mu                             sync.Mutex
	stage                          string
	read, checked, written, nbytes atomic.Int64
}

// Stage names the step the job is in (upload, stage, check, write, export ...).
func (p *Progress) Stage(s string) {
	p.mu.Lock()
	p.stage = s
	p.mu.Unlock()
}

// SetRead, SetChecked, SetWritten and SetBytes set the counters: features read from the file,
// checked by the rules, written to the database (or the export file); bytes uploaded or exported.
func (p *Progress) SetRead(n int64)    { p.read.Store(n) }
func (p *Progress) SetChecked(n int64) { p.checked.Store(n) } //nolint:revive // documented above
func (p *Progress) SetWritten(n int64) { p.written.Store(n) } //nolint:revive // documented above
func (p *Progress) SetBytes(n int64)   { p.nbytes.Store(n) }  //nolint:revive // documented above

func (p *Progress) copyTo(j *store.Job) {
	p.mu.Lock()
	j.Stage = p.stage
	p.mu.Unlock()
	j.Read, j.Checked, j.Written, j.Bytes = p.read.Load(), p.checked.Load(), p.written.Load(), p.nbytes.Load()
}

// Config tunes a Runner.
type Config struct {
	Owner int64 // the store.Owner of this process
	// Concurrency is how many jobs run at once on this server; more wait, queued (default 2:
	// ogr2ogr and the checks each keep a core busy).
	Concurrency int
	// Flush is how often progress is written and cancellations from other servers are looked for
	// (default 1 s).
	Flush time.Duration
}

// Runner runs jobs on this server.
type Runner struct {
	st    Store
	clock gridline.Clock
	log   *slog.Logger
	cfg   Config
	slots chan struct{}
	base  context.Context
	stop  context.CancelFunc
	wg    sync.WaitGroup
	mu    sync.Mutex
	runs  map[string]*Handle
}

// New makes a Runner. Close stops its jobs.
func New(st Store, clock gridline.Clock, log *slog.Logger, cfg Config) *Runner {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 2
	}
	if cfg.Flush <= 0 {
		cfg.Flush = time.Second
	}
	base, stop := context.WithCancel(context.Background())
	return &Runner{st: st, clock: clock, log: log, cfg: cfg, slots: make(chan struct{}, cfg.Concurrency), base: base, stop: stop, runs: map[string]*Handle{}}
}

// Handle is a job started by this server.
type Handle struct {
	Job       *store.Job // as it was created
	done      chan struct{}
	out       Outcome
	cancel    context.CancelFunc
	cancelled atomic.Bool
}

// Done is closed when the job has ended.
func (h *Handle) Done() <-chan struct{} { return h.done }

// Outcome is how the job ended; valid once Done is closed.
func (h *Handle) Outcome() Outcome { return h.out }

// Cancel stops the job.
func (h *Handle) Cancel() {
	h.cancelled.Store(true)
	h.cancel()
}

func newID() string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return hex.EncodeToString(b)
}

// Start records a job of kind and runs fn in the background.
func (r *Runner) Start(ctx context.Context, kind string, bytes int64, fn Func) (*Handle, error) {
	now := r.clock.Now()
	j := &store.Job{ID: newID(), Kind: kind, State: store.JobQueued, Owner: r.cfg.Owner, Bytes: bytes, Created: now, Updated: now}
	if err := r.st.CreateJob(ctx, j); err != nil {
		return nil, err
	}
	jctx, cancel := context.WithCancel(r.base)
	h := &Handle{Job: j, done: make(chan struct{}), cancel: cancel}
	r.mu.Lock()
	r.runs[j.ID] = h
	r.mu.Unlock()
	r.wg.Add(1)
	go r.run(jctx, h, fn)
	return h, nil
}

func (r *Runner) run(ctx context.Context, h *Handle, fn Func) {
	defer r.wg.Done()
	defer h.cancel()
	j := *h.Job
	p := &Progress{}
	p.SetBytes(j.Bytes)
	select {
	case r.slots <- struct{}{}:
	case <-ctx.Done():
	}
	if ctx.Err() == nil {
		defer func() { <-r.slots }()
		j.State, j.Started = store.JobRunning, r.clock.Now()
		j.Updated = j.Started
		r.flush(ctx, h, &j, p)
		stopFlush := make(chan struct{})
		flushed := make(chan struct{})
		go func() {
			defer close(flushed)
			t := time.NewTicker(r.cfg.Flush)
			defer t.Stop()
			for {
				select {
				case <-stopFlush:
					return
				case <-t.C:
					jj := j
					jj.Updated = r.clock.Now()
					r.flush(ctx, h, &jj, p)
				}
			}
		}()
		h.out = r.call(ctx, fn, p)
		close(stopFlush)
		<-flushed
	} else {
		h.out.Err = ctx.Err()
	}
	p.copyTo(&j)
	j.Finished = r.clock.Now()
	switch {
	case h.cancelled.Load():
		// The state says it all: cancelled, nothing written. A job that finished before it saw
		// the cancellation is done: what it did stands.
		j.State = store.JobCancelled
		if h.out.Err == nil {
			j.State = store.JobDone
		}
	case h.out.Err != nil && r.base.Err() != nil:
		j.State = store.JobFailed
		j.Error = gridline.Errorf(gridline.EInternal, "interrupted: the server stopped before the job finished; nothing it was doing was written, run it again")
	case h.out.Err != nil:
		j.State = store.JobFailed
		var ge *gridline.Error
		if errors.As(h.out.Err, &ge) {
			j.Error = ge
		} else {
			r.log.Error("job failed", "job", j.ID, "kind", j.Kind, "err", h.out.Err)
			j.Error = &gridline.Error{Code: gridline.EInternal, Message: "internal error"}
		}
	default:
		j.State = store.JobDone
	}
	if j.State == store.JobDone && h.out.Report != nil {
		b, err := json.Marshal(h.out.Report)
		if err != nil {
			r.log.Error("job report", "job", j.ID, "err", err)
		}
		j.Report = b
	}
	if h.out.Err == nil && h.out.File != nil {
		j.FilePath, j.FileName, j.ContentType = h.out.File.Path, h.out.File.Name, h.out.File.ContentType
	}
	if j.State == store.JobCancelled && h.out.File != nil && h.out.File.Remove != nil {
		h.out.File.Remove() //nolint:errcheck // best effort; the janitor removes what stays
	}
	if err := r.st.FinishJob(context.WithoutCancel(ctx), &j); err != nil {
		r.log.Error("job: could not record its end", "job", j.ID, "err", err)
	}
	r.mu.Lock()
	delete(r.runs, j.ID)
	r.mu.Unlock()
	close(h.done)
}

// call runs fn, turning a panic into an error: no job crashes the server.
func (r *Runner) call(ctx context.Context, fn Func, p *Progress) (out Outcome) {
	defer func() {
		if v := recover(); v != nil {
			r.log.Error("panic in job", "panic", v)
			out = Outcome{Err: errors.New("job panicked")}
		}
	}()
	rep, f, err := fn(ctx, p)
	return Outcome{Report: rep, File: f, Err: err}
}

// flush writes the job's progress and stops it when another server asked for it to be cancelled.
func (r *Runner) flush(ctx context.Context, h *Handle, j *store.Job, p *Progress) {
	p.copyTo(j)
	cancel, err := r.st.UpdateJob(ctx, j)
	if err != nil {
		if ctx.Err() == nil {
			r.log.Warn("job: could not record progress", "job", j.ID, "err", err)
		}
		return
	}
	if cancel {
		h.Cancel()
	}
}

// Get reads a job.
func (r *Runner) Get(ctx context.Context, id string) (*store.Job, error) { return r.st.GetJob(ctx, id) }

// Cancel stops a job: at once when it runs here, at its server's next progress update otherwise.
func (r *Runner) Cancel(ctx context.Context, id string) (*store.Job, error) {
	r.mu.Lock()
	h := r.runs[id]
	r.mu.Unlock()
	if err := r.st.RequestCancel(ctx, id, r.clock.Now()); err != nil {
		return nil, err
	}
	if h != nil {
		h.Cancel()
		select {
		case <-h.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return r.st.GetJob(ctx, id)
}

// Close cancels the jobs still running and waits for them to record their end.
func (r *Runner) Close() {
	r.stop()
	r.wg.Wait()
}

// ForgetFile records that a job's file was removed (it was sent as the request's answer).
func (r *Runner) ForgetFile(ctx context.Context, id string) error { return r.st.ForgetJobFile(ctx, id) }
