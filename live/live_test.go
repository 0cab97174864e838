package live

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"gridline.dev/gridline/accounts"
)

// fakeSource is a case_events table in memory.
type fakeSource struct {
	mu     sync.Mutex
	events []Event // in Seq order
	reads  int
}

func (f *fakeSource) add(e Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, e)
	slices.SortFunc(f.events, func(a, b Event) int { return int(a.Seq - b.Seq) })
}

func (f *fakeSource) LastSeq(context.Context) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.events) == 0 {
		return 0, nil
	}
	return f.events[len(f.events)-1].Seq, nil
}

func (f *fakeSource) Events(_ context.Context, seqs []int64) ([]Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	var out []Event
	for _, e := range f.events {
		if slices.Contains(seqs, e.Seq) {
			out = append(out, e)
		}
	}
	return out, nil
}

func (f *fakeSource) EventsAfter(_ context.Context, seq int64, limit int) ([]Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	var out []Event
	for _, e := range f.events {
		if e.Seq > seq && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

func principal(grants ...accounts.Grant) *accounts.Principal {
	return accounts.NewPrincipal(1, "t", 1, grants, accounts.AllPermissions)
}

var (
	everyone   = principal(accounts.Grant{Role: accounts.Dispatcher, Scope: accounts.Scope{Kind: accounts.ScopeAll}})
	community7 = principal(accounts.Grant{Role: accounts.GridWorker, Scope: accounts.Scope{Kind: accounts.ScopeGrid, Grid: 7}})
	cityMgmt   = principal(accounts.Grant{Role: accounts.DepartmentHandler, Scope: accounts.Scope{Kind: accounts.ScopeDepartment, Department: "cg"}})
	planner    = principal(accounts.Grant{Role: accounts.Planner, Scope: accounts.Scope{Kind: accounts.ScopeAll}})
)

func ev(seq int64, chain []int64, dept string) Event {
	return Event{Seq: seq, CaseID: seq, Number: "C" + strconv.FormatInt(seq, 10), State: "reported", Chain: chain, Departments: depts(dept)}
}

func start(t *testing.T, src Source, opt Options) *Hub {
	t.Helper()
	h := New(src, opt)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.Run(ctx, func(err error) { t.Error(err) }); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return h
}

func recv(t *testing.T, r *Reader) Event {
	t.Helper()
	select {
	case e, ok := <-r.C():
		if !ok {
			t.Fatal("reader closed")
		}
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5 s")
	}
	return Event{}
}

func none(t *testing.T, r *Reader) {
	t.Helper()
	select {
	case e := <-r.C():
		t.Fatalf("unexpected event %+v", e)
	case <-time.After(50 * time.Millisecond):
	}
}

func TestHubFiltersByScope(t *testing.T) {
	src := &fakeSource{}
	h := start(t, src, Options{})
	ctx := context.Background()
	all, _ := h.Subscribe(ctx, everyone, 0)
	c7, _ := h.Subscribe(ctx, community7, 0)
	cg, _ := h.Subscribe(ctx, cityMgmt, 0)
	pl, _ := h.Subscribe(ctx, planner, 0)

	src.add(ev(1, []int64{70, 7, 1}, ""))
	src.add(ev(2, []int64{80, 8, 1}, "cg"))
	h.Notify("1")
	h.Notify("2")
	if e := recv(t, all); e.Seq != 1 {
		t.Fatalf("all got %d first", e.Seq)
	}
	if e := recv(t, all); e.Seq != 2 {
		t.Fatalf("all got %d second", e.Seq)
	}
	if e := recv(t, c7); e.Seq != 1 {
		t.Fatalf("community 7 got %d", e.Seq)
	}
	none(t, c7)
	if e := recv(t, cg); e.Seq != 2 {
		t.Fatalf("department got %d", e.Seq)
	}
	none(t, cg)
	none(t, pl) // a planner has no cases.read
}

// Two writers commit out of sequence order: the Hub publishes in the order of the notifications
// (commits) and misses neither.
func TestHubOutOfOrderCommits(t *testing.T) {
	src := &fakeSource{}
	h := start(t, src, Options{})
	r, _ := h.Subscribe(context.Background(), everyone, 0)
	src.add(ev(11, []int64{1}, ""))
	h.Notify("11")
	if e := recv(t, r); e.Seq != 11 {
		t.Fatal(e.Seq)
	}
	src.add(ev(10, []int64{1}, ""))
	h.Notify("10")
	if e := recv(t, r); e.Seq != 10 {
		t.Fatal(e.Seq)
	}
	// A duplicate notification and a reconnection publish nothing twice.
	h.Notify("10")
	h.Notify("")
	none(t, r)
}

func TestHubResume(t *testing.T) {
	src := &fakeSource{}
	for i := int64(1); i <= 20; i++ {
		src.add(ev(i, []int64{1}, ""))
	}
	h := start(t, src, Options{Recent: 8})
	ctx := context.Background()
	// Wait until the Hub has started (it starts at the newest change, 20).
	r0, err := h.Subscribe(ctx, everyone, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := int64(21); i <= 30; i++ {
		src.add(ev(i, []int64{1}, ""))
		h.Notify(strconv.FormatInt(i, 10))
	}
	for i := 21; i <= 30; i++ {
		recv(t, r0)
	}
	// In memory (the last 8: 23..30).
	r, err := h.Subscribe(ctx, everyone, 27)
	if err != nil {
		t.Fatal(err)
	}
	if got := seqs(r.Backlog); !slices.Equal(got, []int64{28, 29, 30}) {
		t.Fatalf("backlog from memory %v", got)
	}
	// Further back: from the source.
	r, err = h.Subscribe(ctx, everyone, 5)
	if err != nil {
		t.Fatal(err)
	}
	if got := seqs(r.Backlog); len(got) != 25 || got[0] != 6 || got[24] != 30 {
		t.Fatalf("backlog from the source %v", got)
	}
	// Out of scope events are not in a backlog.
	r, _ = h.Subscribe(ctx, community7, 5)
	if len(r.Backlog) != 0 {
		t.Fatalf("backlog out of scope %v", seqs(r.Backlog))
	}
}

func TestHubCutsOffSlowReaders(t *testing.T) {
	src := &fakeSource{}
	h := start(t, src, Options{Buffer: 2})
	slow, _ := h.Subscribe(context.Background(), everyone, 0)
	for i := int64(1); i <= 3; i++ {
		h.Publish(ev(i, []int64{1}, ""))
	}
	recv(t, slow)
	recv(t, slow)
	if _, ok := <-slow.C(); ok {
		t.Fatal("a reader that fell behind stays open")
	}
	if h.Readers() != 0 {
		t.Fatalf("%d readers", h.Readers())
	}
}

// Many readers, many changes: one read of the source per notification, whatever the readers.
func TestHubReadsOncePerNotification(t *testing.T) {
	src := &fakeSource{}
	h := start(t, src, Options{})
	var rs []*Reader
	for range 200 {
		r, _ := h.Subscribe(context.Background(), everyone, 0)
		rs = append(rs, r)
	}
	src.add(ev(1, []int64{1}, ""))
	h.Notify("1")
	for _, r := range rs {
		recv(t, r)
	}
	src.mu.Lock()
	defer src.mu.Unlock()
	if src.reads != 1 {
		t.Fatalf("%d reads for 200 readers", src.reads)
	}
}

func seqs(evs []Event) []int64 {
	var out []int64
	for _, e := range evs {
		out = append(out, e.Seq)
	}
	return out
}

// BenchmarkFanout1000: one change to 1,000 readers, each a goroutine draining its channel (the
// stream handler's part without the socket). One op is one change received by all.
func BenchmarkFanout1000(b *testing.B) {
	h := New(&fakeSource{}, Options{Buffer: 1024})
	close(h.ready)
	var wg sync.WaitGroup
	var got sync.WaitGroup
	for range 1000 {
		r, _ := h.Subscribe(context.Background(), community7, 0)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range r.C() {
				got.Done()
			}
		}()
	}
	chain := []int64{70, 7, 1}
	b.ResetTimer()
	for i := range b.N {
		got.Add(1000)
		h.Publish(Event{Seq: int64(i + 1), Chain: chain})
		got.Wait()
	}
	b.StopTimer()
	h.closeAll()
	wg.Wait()
}

func depts(d string) []string {
	if d == "" {
		return nil
	}
	return []string{d}
}
