package api

import (
	"errors"
	"io"
	"net/http"
	"os"
	"time"

	"gridline.dev/gridline"
)

// DefaultBodyIdle is how long a request body may send nothing before the server gives up on it
// (Options.BodyIdle).
const DefaultBodyIdle = 30 * time.Second

// tooLargeBody is the 413 of a body whose declared length is over limit.
func tooLargeBody(what string, limit int64) error {
	return gridline.Errorf(gridline.ETooLarge, "%s is larger than the limit of %d bytes", what, limit).With("limit", limit)
}

// body bounds r's body for a handler that reads it: a declared Content-Length over limit is
// refused at once (413, before a byte is read); otherwise the body is cut at limit bytes, and cut
// with a request_timeout error when it sends nothing for the idle limit. The read deadline of the
// connection is moved on as data arrives, so a large body that keeps coming is read whole while a
// trickle that stops is not held open: the deadline the server was started with (a fixed
// ReadTimeout) would instead cut a slow large upload and hold a stalled one for its whole length.
func (s *Server) body(w http.ResponseWriter, r *http.Request, what string, limit int64) (io.ReadCloser, error) {
	if r.ContentLength > limit {
		return nil, tooLargeBody(what, limit)
	}
	ir := &idleReader{r: r.Body, rc: http.NewResponseController(w), idle: s.bodyIdle}
	ir.extend(time.Now())
	return http.MaxBytesReader(w, ir, limit), nil
}

// idleReader moves the connection's read deadline idle past the last time data arrived. Socket
// deadlines are on the real clock, whatever clock the server is given.
type idleReader struct {
	r     io.ReadCloser
	rc    *http.ResponseController
	idle  time.Duration
	until time.Time // the deadline set last
}

func (ir *idleReader) extend(now time.Time) {
	// Moving the deadline costs a timer reset: do it when a tenth of the limit has passed, not on
	// every read.
	if ir.until.Sub(now) > ir.idle-ir.idle/10 {
		return
	}
	ir.until = now.Add(ir.idle)
	// A ResponseWriter that cannot set deadlines (a test recorder) is not a connection to hold.
	_ = ir.rc.SetReadDeadline(ir.until)
}

func (ir *idleReader) Read(p []byte) (int, error) {
	n, err := ir.r.Read(p)
	if n > 0 {
		ir.extend(time.Now())
	}
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		secs := int(ir.idle.Round(time.Second) / time.Second)
		err = gridline.Errorf(gridline.ETimeout, "the request body sent nothing for %s, the idle limit: send the body without pauses", ir.idle).With("idle_seconds", secs)
	}
	return n, err
}

func (ir *idleReader) Close() error { return ir.r.Close() }
