package api

import (
	"context"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"gridline.dev/gridline"
	"gridline.dev/gridline/batch"
	"gridline.dev/gridline/geo"
	"gridline.dev/gridline/resolve"
)

// dateParam reads a YYYY-MM-DD query parameter, or today when it is absent.
func (s *Server) dateParam(q url.Values, name string) (time.Time, error) {
	v := q.Get(name)
	if v == "" {
		return s.resolver.Today(), nil
	}
	return gridline.ParseDate(name, v)
}

func crsParam(q url.Values) (geo.CRS, error) {
	c, err := geo.ParseCRS(q.Get("crs"))
	if err != nil {
		return c, gridline.Errorf(gridline.EInvalidCRS, "%v", err).With("field", "crs")
	}
	return c, nil
}

// resolveParams are the query parameters of GET /v1/resolve, read without building a map: this
// is the hottest request the server answers.
type resolveParams struct {
	lon, lat, crs, at string
	hasLon, hasLat    bool
	address           string // GET /v1/resolve?address= (api/addresses.go)
	hasAddress        bool
}

func parseResolveQuery(raw string) (p resolveParams, err error) {
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		if strings.ContainsAny(k, "%+") {
			if k, err = url.QueryUnescape(k); err != nil {
				return p, err
			}
		}
		if strings.ContainsAny(v, "%+") {
			if v, err = url.QueryUnescape(v); err != nil {
				return p, err
			}
		}
		// The first value of a repeated parameter wins, as url.Values.Get does.
		switch k {
		case "lon", "x", "lng":
			if !p.hasLon {
				p.lon, p.hasLon = v, true
			}
		case "lat", "y":
			if !p.hasLat {
				p.lat, p.hasLat = v, true
			}
		case "crs":
			if p.crs == "" {
				p.crs = v
			}
		case "at":
			if p.at == "" {
				p.at = v
			}
		case "address":
			if !p.hasAddress {
				p.address, p.hasAddress = v, true
			}
		}
	}
	return p, nil
}

// point is the query's lon, lat and crs, read and checked (required, numbers, a known CRS, in
// the CRS's range).
func (q *resolveParams) point() (lon, lat float64, crs geo.CRS, err error) {
	if lon, err = coordinate("lon", q.lon, q.hasLon); err != nil {
		return
	}
	if lat, err = coordinate("lat", q.lat, q.hasLat); err != nil {
		return
	}
	if crs, err = geo.ParseCRS(q.crs); err != nil {
		return 0, 0, crs, gridline.Errorf(gridline.EInvalidCRS, "%v", err).With("field", "crs")
	}
	if e := resolve.CheckCoordinate(lon, lat, crs); e != nil {
		return 0, 0, crs, e
	}
	return lon, lat, crs, nil
}

func coordinate(name, v string, present bool) (float64, error) {
	if !present || strings.TrimSpace(v) == "" {
		return 0, gridline.Errorf(gridline.EInvalidCoord, "%s is required", name).With("field", name)
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil {
		return 0, gridline.Errorf(gridline.EInvalidCoord, "%s %q is not a number", name, gridline.Excerpt(v)).With("field", name)
	}
	return f, nil
}

// resolveOne is GET /v1/resolve?lon=&lat=&crs=&at=.
func (s *Server) resolveOne(w http.ResponseWriter, r *http.Request) {
	q, err := parseResolveQuery(r.URL.RawQuery)
	if err != nil {
		s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "malformed query string: %v", err))
		return
	}
	if q.hasAddress {
		s.resolveAddress(w, r, q)
		return
	}
	lon, lat, crs, err := q.point()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	at := s.resolver.Today()
	if q.at != "" {
		if at, err = gridline.ParseDate("at", q.at); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	if !s.resolver.Ready() {
		s.writeError(w, r, gridline.Errorf(gridline.EUnavailable, "the resolution index is still being built"))
		return
	}
	p, err := s.toWGS84(r.Context(), crs, lon, lat)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	in := resolve.InputPoint{Lon: lon, Lat: lat, CRS: crs.Name}
	// The answer is written with its length, in one Write from a reused buffer: without a
	// Content-Length, net/http sends an answer longer than 2 KiB (most are) chunked.
	bp, _ := s.answerBufs.Get().(*[]byte)
	if bp == nil {
		b := make([]byte, 0, 8192)
		bp = &b
	}
	d, full, err := s.peopleDisclosure(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	buf := s.resolver.AppendAnswerAs((*bp)[:0], in, p, at, d, full)
	buf = append(buf, '\n')
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(buf)))
	w.Write(buf)
	// net/http has copied or sent the bytes when Write returns. A rare huge answer is not kept.
	if cap(buf) <= 64<<10 {
		*bp = buf
		s.answerBufs.Put(bp)
	}
}

// resolveBatch is POST /v1/resolve: a JSON array, a GeoJSON FeatureCollection or CSV in; NDJSON
// (default) or CSV out, by Accept. It streams both ways.
func (s *Server) resolveBatch(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	crs, err := crsParam(q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	at, err := s.dateParam(q, "at")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	in := batch.FormatJSON
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "text/csv", "application/csv":
		in = batch.FormatCSV
	case "application/geo+json":
		in = batch.FormatGeoJSON
	case "application/json", "":
	default:
		s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "Content-Type %q is not accepted: send application/json, application/geo+json or text/csv", gridline.Excerpt(mt)))
		return
	}
	if f := q.Get("format"); f != "" {
		in = f
	}
	out, ctype := batch.OutNDJSON, "application/x-ndjson"
	if strings.Contains(r.Header.Get("Accept"), "text/csv") || q.Get("out") == "csv" {
		out, ctype = batch.OutCSV, "text/csv; charset=utf-8"
	}
	body, err := s.body(w, r, "the request body", s.maxBatchBytes)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// A large batch takes longer than the server's default write timeout (the read side is
	// s.body's idle limit). Socket deadlines are on the real clock, whatever clock the server is
	// given.
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Now().Add(10 * time.Minute))
	sw := &startWriter{w: w, ctype: ctype}
	n, started, err := batch.Resolve(r.Context(), s.resolver.Index(), body, sw, batch.Options{In: in, Out: out, DefaultCRS: crs, At: at, Transform: s.db, Addresses: s.addressMatcher()})
	if err == nil {
		if !sw.started {
			sw.start()
		}
		return
	}
	if !started && !sw.started {
		s.writeError(w, r, err)
		return
	}
	// The status is sent already: end the stream with the error in the stream's own format, and
	// log it, since no error status will show it. An internal error's text is only in the log.
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		err = gridline.Errorf(gridline.ETooLarge, "the request body is larger than the limit of %d bytes", mbe.Limit)
	}
	level := slog.LevelWarn
	switch {
	case r.Context().Err() != nil:
		level = slog.LevelInfo // the client went away: nothing failed on this side
	case gridline.ErrorCode(err) == gridline.EInternal:
		level = slog.LevelError
	}
	s.log.Log(r.Context(), level, "batch failed after its answer started", "method", r.Method, "path", r.URL.Path, "records", n, "code", gridline.ErrorCode(err), "err", err)
	if out == batch.OutCSV {
		w.Write([]byte("# error: " + gridline.ErrorCode(err) + ": " + gridline.ErrorMessage(err) + "\n"))
	} else {
		e := &gridline.Error{Code: gridline.ErrorCode(err), Message: gridline.ErrorMessage(err)}
		b, _ := jsonMarshal(errorBody{Error: e})
		w.Write(append(b, '\n'))
	}
}

// startWriter sends the 200 and its Content-Type only when the first bytes are written, so an
// error found before any output can still be a proper error response.
type startWriter struct {
	w       http.ResponseWriter
	ctype   string
	started bool
}

func (s *startWriter) start() {
	s.started = true
	s.w.Header().Set("Content-Type", s.ctype)
	s.w.WriteHeader(http.StatusOK)
}

func (s *startWriter) Write(b []byte) (int, error) {
	if !s.started {
		s.start()
	}
	return s.w.Write(b)
}

// toWGS84 is (lon, lat) of crs in WGS84: in process for the coordinate systems gridline computes
// itself (wgs84, cgcs2000, gcj02, bd09), through PostGIS for an EPSG code. Every endpoint that
// takes a point with a crs (resolve, addresses, cases) converts it here.
func (s *Server) toWGS84(ctx context.Context, crs geo.CRS, lon, lat float64) (orb.Point, error) {
	if crs.Local() {
		x, y := crs.ToWGS84(lon, lat)
		return orb.Point{x, y}, nil
	}
	xs, ys, err := s.db.Transform(ctx, crs.EPSG, []float64{lon}, []float64{lat})
	if err != nil {
		return orb.Point{}, err
	}
	return orb.Point{xs[0], ys[0]}, nil
}
