// Command postgisresolve is the PostGIS side of the HTTP benchmark (bench/run.sh): it serves
// GET /v1/resolve?lon=&lat= (WGS84) with one PostGIS ST_Covers query per request (GiST index,
// store.DB.Covering) where `gridline serve` looks the point up in its in-memory index. The rest is
// gridline's, so that the comparison measures the lookup alone: the same resolver, built from
// the same database, assembles the answer (the choice per level, staff, fallback, distances to
// the boundary) from the versions PostGIS returns, writes the same JSON with its length in one
// Write, and the server has the same timeouts. It reads DATABASE_URL and GRIDLINE_TZ as gridline
// does, and nothing of the request but lon and lat, which is all bench/resolve.lua sends.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"
	_ "time/tzdata" // as in cmd/gridline: the time zone must load on machines without zoneinfo

	"github.com/paulmach/orb"

	"gridline.dev/gridline"
	"gridline.dev/gridline/geo"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr); err != nil {
		fmt.Fprintln(os.Stderr, "postgisresolve:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, addr string) error {
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		return errors.New("DATABASE_URL is not set")
	}
	tz := os.Getenv("GRIDLINE_TZ")
	if tz == "" {
		tz = "Asia/Shanghai"
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return fmt.Errorf("GRIDLINE_TZ %q: %w", tz, err)
	}
	db, err := store.Open(ctx, url, store.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	// The resolver is what assembles gridline's answers; its spatial index is not asked. The data
	// do not change during the benchmark, so it does not listen for changes.
	res := resolve.NewIncremental(db, gridline.SystemClock{}, loc)
	if err := res.Refresh(ctx); err != nil {
		return err
	}
	h := &handler{db: db, res: res, crs: geo.WGS84}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	// The timeouts of `gridline serve`.
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	fmt.Printf("postgisresolve serving on http://%s\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return hs.Shutdown(shutdown)
}

type handler struct {
	db  *store.DB
	res *resolve.Resolver
	crs geo.CRS
	// bufs holds *[]byte answer buffers, reused across requests as gridline's handler does.
	bufs sync.Pool
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet || r.URL.Path != "/v1/resolve" {
		writeError(w, http.StatusNotFound, gridline.Errorf(gridline.ENotFound, "only GET /v1/resolve is served here"))
		return
	}
	q := r.URL.Query()
	lon, errLon := strconv.ParseFloat(q.Get("lon"), 64)
	lat, errLat := strconv.ParseFloat(q.Get("lat"), 64)
	if errLon != nil || errLat != nil {
		writeError(w, http.StatusBadRequest, gridline.Errorf(gridline.EInvalidCoord, "lon and lat must be numbers"))
		return
	}
	if e := resolve.CheckCoordinate(lon, lat, h.crs); e != nil {
		writeError(w, http.StatusBadRequest, e)
		return
	}
	ids, err := h.db.Covering(r.Context(), lon, lat)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, &gridline.Error{Code: gridline.ErrorCode(err), Message: gridline.ErrorMessage(err)})
		return
	}
	bp, _ := h.bufs.Get().(*[]byte)
	if bp == nil {
		b := make([]byte, 0, 8192)
		bp = &b
	}
	in := resolve.InputPoint{Lon: lon, Lat: lat, CRS: h.crs.Name}
	buf := h.res.AnswerCovering(in, orb.Point{lon, lat}, h.res.Today(), ids).AppendJSON((*bp)[:0])
	buf = append(buf, '\n')
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json; charset=utf-8")
	hdr.Set("Content-Length", strconv.Itoa(len(buf)))
	w.Write(buf)
	if cap(buf) <= 64<<10 {
		*bp = buf
		h.bufs.Put(bp)
	}
}

// writeError writes gridline's error shape, {"error": {"code": ..., "message": ...}}.
func writeError(w http.ResponseWriter, status int, e *gridline.Error) {
	b, _ := json.Marshal(map[string]any{"error": e})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
