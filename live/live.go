// Package live fans case changes out to everyone watching: the readers of the server-sent event
// stream (GET /v1/cases/stream), each filtered by their own scope. One Hub per server reads the
// changes from its Source once per notification (PostgreSQL LISTEN/NOTIFY on case_events, wired in
// cmd/gridline) and hands every change to every reader's buffer in memory: a reader costs a scope
// check and a channel send per change, never a query. A reader too slow to keep its buffer from
// filling is cut off and resumes with Last-Event-ID, which the Hub answers from its recent changes
// or, further back, from the Source.
//
// It knows nothing of HTTP or SQL: the Source is declared here and implemented by store.
package live

import (
	"context"
	"strconv"
	"sync"
	"time"

	"gridline.dev/gridline/accounts"
)

// Party is who a case is with now: a grid's post, a department or a person.
type Party struct {
	Kind string `json:"kind"`           // "post", "department", "person", or "" while nobody has it
	Ref  string `json:"ref"`            // the post's grid code and post, the department's code, the person's id
	Name string `json:"name,omitempty"` // what people call it
}

// Event is one change of one case: the case_events row it came from (Seq, the stream's event id)
// and the case as it stands after it.
type Event struct {
	Seq    int64       `json:"seq"`
	CaseID int64       `json:"case_id"`
	Number string      `json:"number"`
	Kind   string      `json:"kind"` // the event's kind (reported, dispatched, ...)
	State  string      `json:"state"`
	Light  string      `json:"light,omitempty"`
	Grid   *GridRef    `json:"grid,omitempty"`
	Party  Party       `json:"party"`
	Point  *[2]float64 `json:"point,omitempty"` // lon, lat in WGS84
	At     time.Time   `json:"at"`
	// Chain is the case's grid and its ancestors (the scope check's input); Departments the
	// departments the case is with (its party's, and those co-handling it). Neither is sent.
	Chain       []int64  `json:"-"`
	Departments []string `json:"-"`
}

// GridRef names the case's grid.
type GridRef struct {
	ID   int64  `json:"id"`
	Code string `json:"code"`
	Name string `json:"name"`
}

// Visible reports whether p may see e: cases.read on the case's grid chain or on its department.
func Visible(p *accounts.Principal, e *Event) bool {
	if p.Can(accounts.CasesRead, e.Chain) {
		return true
	}
	for _, d := range e.Departments {
		if p.CanDepartment(accounts.CasesRead, d) {
			return true
		}
	}
	return false
}

// Source is where the Hub reads changes.
type Source interface {
	// LastSeq is the newest case_events sequence number (0 when there is none).
	LastSeq(ctx context.Context) (int64, error)
	// Events is the changes with these sequence numbers (those that exist, in any order).
	Events(ctx context.Context, seqs []int64) ([]Event, error)
	// EventsAfter is at most limit changes with Seq > seq, in Seq order.
	EventsAfter(ctx context.Context, seq int64, limit int) ([]Event, error)
}

// Options tune a Hub.
type Options struct {
	Buffer int // changes a reader may fall behind before it is cut off (default 256)
	Recent int // changes kept in memory to resume readers without a query (default 4096)
	Batch  int // changes read from the Source per query (default 1000)
}

// Hub is the fan-out. Make it with New.
//
// Sequence numbers are taken when a change is written and committed later, so two writers can
// commit out of sequence order: the Hub does not read "everything after the last number" but
// the changes a notification names (NOTIFY is delivered at commit, in commit order), and the
// order it publishes in is the order of commits. After a lost connection it catches up over
// the last Recent changes, skipping those it already published.
type Hub struct {
	src Source
	opt Options

	pmu     sync.Mutex
	pending []int64 // notified sequence numbers not yet read
	catchUp bool    // a reconnection: changes may have been missed
	wake    chan struct{}

	mu      sync.RWMutex
	readers map[*Reader]struct{}
	recent  []Event // ring of the newest published changes, in publish order
	head, n int
	seen    map[int64]struct{} // the Seqs in recent
	last    int64              // the highest Seq published (or the newest at start)
	ready   chan struct{}
}

// New makes a Hub over src; Run feeds it.
func New(src Source, opt Options) *Hub {
	if opt.Buffer <= 0 {
		opt.Buffer = 256
	}
	if opt.Recent <= 0 {
		opt.Recent = 4096
	}
	if opt.Batch <= 0 {
		opt.Batch = 1000
	}
	return &Hub{src: src, opt: opt, wake: make(chan struct{}, 1), readers: map[*Reader]struct{}{},
		recent: make([]Event, opt.Recent), seen: map[int64]struct{}{}, ready: make(chan struct{})}
}

// Notify tells the Hub of a notification: payload is the sequence number of a committed change,
// or "" after the listener reconnected (changes may have been missed). It never blocks: a burst
// of notifications is one read.
func (h *Hub) Notify(payload string) {
	h.pmu.Lock()
	if seq, err := strconv.ParseInt(payload, 10, 64); err == nil && seq > 0 {
		h.pending = append(h.pending, seq)
	} else {
		h.catchUp = true
	}
	h.pmu.Unlock()
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// Run reads and publishes changes whenever notified, until ctx ends. It starts from the newest
// change there is: readers that need older ones ask with Last-Event-ID. onErr, when not nil, is
// told of every failed read (the Hub retries each second).
func (h *Hub) Run(ctx context.Context, onErr func(error)) {
	report := func(err error) {
		if onErr != nil && ctx.Err() == nil {
			onErr(err)
		}
	}
	for ctx.Err() == nil {
		last, err := h.src.LastSeq(ctx)
		if err == nil {
			h.mu.Lock()
			h.last = last
			h.mu.Unlock()
			close(h.ready)
			break
		}
		report(err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
	retry := time.NewTicker(time.Second)
	defer retry.Stop()
	failed := false
	for {
		select {
		case <-ctx.Done():
			h.closeAll()
			return
		case <-h.wake:
		case <-retry.C:
			if !failed {
				continue
			}
		}
		failed = false
		if err := h.poll(ctx); err != nil {
			failed = true
			report(err)
		}
	}
}

// poll reads and publishes what was notified, and after a reconnection what may have been missed.
func (h *Hub) poll(ctx context.Context) error {
	h.pmu.Lock()
	seqs, catchUp := h.pending, h.catchUp
	h.pending, h.catchUp = nil, false
	h.pmu.Unlock()
	requeue := func() {
		h.pmu.Lock()
		h.pending = append(seqs, h.pending...)
		h.catchUp = h.catchUp || catchUp
		h.pmu.Unlock()
	}
	for len(seqs) > 0 {
		n := min(len(seqs), h.opt.Batch)
		evs, err := h.src.Events(ctx, seqs[:n])
		if err != nil {
			requeue()
			return err
		}
		bySeq := make(map[int64]int, len(evs))
		for i := range evs {
			bySeq[evs[i].Seq] = i
		}
		for _, s := range seqs[:n] {
			if i, ok := bySeq[s]; ok {
				h.publish(evs[i])
			}
		}
		seqs = seqs[n:]
	}
	if catchUp {
		h.mu.RLock()
		from := max(0, h.last-int64(len(h.recent)))
		h.mu.RUnlock()
		for {
			evs, err := h.src.EventsAfter(ctx, from, h.opt.Batch)
			if err != nil {
				requeue()
				return err
			}
			for i := range evs {
				h.publish(evs[i])
				from = evs[i].Seq
			}
			if len(evs) < h.opt.Batch {
				break
			}
		}
	}
	return nil
}

// Publish hands e to every reader that may see it, once (a change already published is
// ignored). The Hub calls it for what it reads; tests and benchmarks may feed a Hub with it.
func (h *Hub) Publish(e Event) { h.publish(e) }

func (h *Hub) publish(e Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, dup := h.seen[e.Seq]; dup {
		return
	}
	if h.n == len(h.recent) {
		delete(h.seen, h.recent[h.head].Seq)
		h.head = (h.head + 1) % len(h.recent)
		h.n--
	}
	slot := &h.recent[(h.head+h.n)%len(h.recent)]
	*slot = e
	h.n++
	h.seen[e.Seq] = struct{}{}
	h.last = max(h.last, e.Seq)
	for r := range h.readers {
		if !Visible(r.p, slot) {
			continue
		}
		select {
		case r.ch <- *slot:
		default:
			// Too slow: cut off. The client reconnects with Last-Event-ID and misses nothing.
			delete(h.readers, r)
			close(r.ch)
		}
	}
}

func (h *Hub) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for r := range h.readers {
		delete(h.readers, r)
		close(r.ch)
	}
}

// Reader is one watcher's subscription.
type Reader struct {
	p  *accounts.Principal
	ch chan Event
	// Backlog is the changes after the Last-Event-ID the reader asked for that it may see, to be
	// sent before those of C.
	Backlog []Event
}

// C delivers the reader's changes; it is closed when the reader is cut off (too slow) or the Hub
// stops.
func (r *Reader) C() <-chan Event { return r.ch }

// Subscribe adds a reader for p. after is the Last-Event-ID the client sent (0: none, only new
// changes). The changes published after it that p may see are in the Reader's Backlog: from
// memory when the Hub still holds that change, else from the Source (those with a higher sequence
// number). Cancel with Unsubscribe.
func (h *Hub) Subscribe(ctx context.Context, p *accounts.Principal, after int64) (*Reader, error) {
	select {
	case <-h.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	r := &Reader{p: p, ch: make(chan Event, h.opt.Buffer)}
	h.mu.Lock()
	_, inMemory := h.seen[after]
	if inMemory {
		found := false
		for i := 0; i < h.n; i++ {
			e := &h.recent[(h.head+i)%len(h.recent)]
			if found && Visible(p, e) {
				r.Backlog = append(r.Backlog, *e)
			}
			found = found || e.Seq == after
		}
	}
	upTo := h.last
	h.readers[r] = struct{}{}
	h.mu.Unlock()
	if after <= 0 || inMemory || after >= upTo {
		return r, nil
	}
	// Further back than memory: read (after, upTo] from the Source. Changes published since
	// the reader was added arrive on C, so the backlog stops at upTo.
	for cur := after; cur < upTo; {
		evs, err := h.src.EventsAfter(ctx, cur, h.opt.Batch)
		if err != nil {
			h.Unsubscribe(r)
			return nil, err
		}
		for i := range evs {
			if evs[i].Seq > upTo {
				break
			}
			if Visible(p, &evs[i]) {
				r.Backlog = append(r.Backlog, evs[i])
			}
		}
		if len(evs) < h.opt.Batch {
			break
		}
		cur = evs[len(evs)-1].Seq
	}
	return r, nil
}

// Unsubscribe removes r; its channel is closed if it was not already.
func (h *Hub) Unsubscribe(r *Reader) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.readers[r]; ok {
		delete(h.readers, r)
		close(r.ch)
	}
}

// Readers is how many readers are connected.
func (h *Hub) Readers() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.readers)
}
