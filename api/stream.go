package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/live"
)

// StreamOptions configure GET /v1/cases/stream (Options.Stream).
type StreamOptions struct {
	// Hub fans case changes out (nil: the stream answers 503). cmd/gridline feeds it from
	// LISTEN gridline_cases.
	Hub *live.Hub
	// Heartbeat is how often an idle stream sends a comment line, so that proxies and clients
	// know it is alive (default 15 s).
	Heartbeat time.Duration
}

func (s *Server) routeStream(r *mux.Router, opt StreamOptions) {
	if opt.Heartbeat <= 0 {
		opt.Heartbeat = 15 * time.Second
	}
	s.live = opt
	r.Handle("/v1/cases/stream", s.need(accounts.CasesRead, "watching cases", s.streamCases)).Methods(http.MethodGet)
	s.routeWebhooks(r)
}

// streamCases is GET /v1/cases/stream: server-sent events, one per change of a case the caller
// may read (cases.read on its grid chain or its department), each with the case_events sequence
// number as its id; Last-Event-ID (the header browsers send on reconnecting, or ?last_event_id=)
// resumes after that change.
func (s *Server) streamCases(w http.ResponseWriter, r *http.Request) {
	if s.live.Hub == nil {
		s.writeError(w, r, gridline.Errorf(gridline.EUnavailable, "the live stream is not configured on this server"))
		return
	}
	after := int64(0)
	if v := strings.TrimSpace(r.Header.Get("Last-Event-ID")); v != "" || r.URL.Query().Has("last_event_id") {
		if v == "" {
			v = r.URL.Query().Get("last_event_id")
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "Last-Event-ID %q is not an event id: send the id of the last event received, a whole number", gridline.Excerpt(v)).With("field", "Last-Event-ID"))
			return
		}
		after = n
	}
	reader, err := s.live.Hub.Subscribe(r.Context(), principalFrom(r), after)
	if err != nil {
		if r.Context().Err() != nil {
			return
		}
		s.writeError(w, r, err)
		return
	}
	defer s.live.Hub.Unsubscribe(reader)
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	// The server's write timeout would end a stream after a minute: each write moves it on.
	write := func(b []byte) bool {
		rc.SetWriteDeadline(time.Now().Add(s.live.Heartbeat + 30*time.Second)) //nolint:errcheck // not every writer has deadlines
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write([]byte("retry: 2000\n: connected\n\n")) {
		return
	}
	var buf []byte
	send := func(e *live.Event) bool {
		buf = appendEvent(buf[:0], e)
		return write(buf)
	}
	for i := range reader.Backlog {
		if !send(&reader.Backlog[i]) {
			return
		}
	}
	reader.Backlog = nil
	beat := time.NewTicker(s.live.Heartbeat)
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-beat.C:
			if !write([]byte(": heartbeat\n\n")) {
				return
			}
		case e, ok := <-reader.C():
			if !ok {
				return // cut off (too slow) or the server is stopping: the client reconnects
			}
			if !send(&e) {
				return
			}
		}
	}
}

// appendEvent appends e as one server-sent event: id, event type "case", and the JSON data.
func appendEvent(b []byte, e *live.Event) []byte {
	b = append(b, "id: "...)
	b = strconv.AppendInt(b, e.Seq, 10)
	b = append(b, "\nevent: case\ndata: "...)
	j, _ := json.Marshal(e) // a live.Event always encodes
	b = append(b, j...)
	return append(b, "\n\n"...)
}
