package api

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/importers"
	"gridline.dev/gridline/live"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store/storetest"
	"gridline.dev/gridline/tiles"
)

// memEvents is a case_events table in memory for the hub.
type memEvents struct {
	mu  sync.Mutex
	evs []live.Event
}

func (m *memEvents) add(e live.Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.evs = append(m.evs, e)
}

func (m *memEvents) LastSeq(context.Context) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.evs) == 0 {
		return 0, nil
	}
	return m.evs[len(m.evs)-1].Seq, nil
}

func (m *memEvents) Events(_ context.Context, seqs []int64) ([]live.Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []live.Event
	for _, e := range m.evs {
		for _, s := range seqs {
			if e.Seq == s {
				out = append(out, e)
			}
		}
	}
	return out, nil
}

func (m *memEvents) EventsAfter(_ context.Context, seq int64, limit int) ([]live.Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []live.Event
	for _, e := range m.evs {
		if e.Seq > seq && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

// sseEvent is one event read from a stream.
type sseEvent struct {
	id, event string
	data      live.Event
}

// openStream connects to the stream and returns its events as they come, and comments.
func openStream(t *testing.T, url, token, lastID string) (<-chan sseEvent, <-chan string, *http.Response) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	evs, comments := make(chan sseEvent, 100), make(chan string, 100)
	if resp.StatusCode != 200 {
		return evs, comments, resp
	}
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var cur sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if cur.id != "" {
					evs <- cur
				}
				cur = sseEvent{}
			case strings.HasPrefix(line, ":"):
				comments <- strings.TrimSpace(line[1:])
			case strings.HasPrefix(line, "id: "):
				cur.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				cur.event = line[7:]
			case strings.HasPrefix(line, "data: "):
				json.Unmarshal([]byte(line[6:]), &cur.data)
			}
		}
	}()
	return evs, comments, resp
}

func nextEvent(t *testing.T, ch <-chan sseEvent) sseEvent {
	t.Helper()
	select {
	case e := <-ch:
		return e
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5 s")
	}
	return sseEvent{}
}

func noEvent(t *testing.T, ch <-chan sseEvent) {
	t.Helper()
	select {
	case e := <-ch:
		t.Fatalf("unexpected event %+v", e)
	case <-time.After(100 * time.Millisecond):
	}
}

func TestCaseStream(t *testing.T) {
	db := storetest.New(t)
	if err := db.Load(context.Background(), storetest.Fixture(), 1); err != nil {
		t.Fatal(err)
	}
	src := &memEvents{}
	hub := live.New(src, live.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	go hub.Run(ctx, func(err error) { t.Error(err) })
	t.Cleanup(cancel)
	res := resolve.NewIncremental(fixtureStore{}, gridline.SystemClock{}, shanghai(t))
	srv := wire(db, res, nil, Options{Stream: StreamOptions{Hub: hub, Heartbeat: 50 * time.Millisecond}}, tiles.Options{}, importers.Config{})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	url := ts.URL + "/v1/cases/stream"

	dispatcher := storetest.Token(t, db, "dispatcher", storetest.Everywhere(accounts.Dispatcher))
	worker := storetest.Token(t, db, "worker", storetest.Under(accounts.GridWorker, 7))
	dept := storetest.Token(t, db, "cg", accounts.Grant{Role: accounts.DepartmentHandler, Scope: accounts.Scope{Kind: accounts.ScopeDepartment, Department: "cg"}})
	planner := storetest.Token(t, db, "planner", storetest.Everywhere(accounts.Planner))

	if _, _, resp := openStream(t, url, "", ""); resp.StatusCode != 401 {
		t.Fatalf("anonymous: %d", resp.StatusCode)
	}
	if _, _, resp := openStream(t, url, planner, ""); resp.StatusCode != 403 {
		t.Fatalf("without cases.read: %d", resp.StatusCode)
	}
	if _, _, resp := openStream(t, url, dispatcher, "yesterday"); resp.StatusCode != 400 {
		t.Fatalf("bad Last-Event-ID: %d", resp.StatusCode)
	}

	all, comments, resp := openStream(t, url, dispatcher, "")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	mine, _, _ := openStream(t, url, worker, "")
	theirs, _, _ := openStream(t, url, dept, "")
	for hub.Readers() < 3 {
		time.Sleep(10 * time.Millisecond)
	}

	pt := [2]float64{113.65, 34.74}
	publish := func(seq int64, chain []int64, deptCode string) {
		src.add(live.Event{Seq: seq, CaseID: seq, Number: "E" + strconv.FormatInt(seq, 10), Kind: "dispatched", State: "dispatched", Light: "green",
			Grid: &live.GridRef{ID: chain[0], Code: "g"}, Party: live.Party{Kind: "department", Ref: deptCode}, Point: &pt, Chain: chain, Departments: []string{deptCode}})
		hub.Notify(strconv.FormatInt(seq, 10))
	}
	publish(1, []int64{70, 7, 1}, "")
	publish(2, []int64{80, 8, 1}, "cg")

	e := nextEvent(t, all)
	if e.id != "1" || e.event != "case" || e.data.Number != "E1" || e.data.State != "dispatched" || e.data.Light != "green" || e.data.Point == nil || e.data.Grid.ID != 70 {
		t.Fatalf("%+v", e)
	}
	if e := nextEvent(t, all); e.id != "2" {
		t.Fatal(e)
	}
	if e := nextEvent(t, mine); e.id != "1" {
		t.Fatal(e)
	}
	noEvent(t, mine)
	if e := nextEvent(t, theirs); e.id != "2" {
		t.Fatal(e)
	}
	noEvent(t, theirs)
	// Heartbeats keep an idle stream alive.
	deadline := time.After(5 * time.Second)
	for beat := false; !beat; {
		select {
		case c := <-comments:
			beat = c == "heartbeat"
		case <-deadline:
			t.Fatal("no heartbeat")
		}
	}
	// A client that reconnects with Last-Event-ID gets what it missed, in its scope.
	publish(3, []int64{70, 7, 1}, "")
	resumed, _, _ := openStream(t, url, worker, "1")
	if e := nextEvent(t, resumed); e.id != "3" {
		t.Fatalf("resumed with %+v", e)
	}
	noEvent(t, resumed)
}
