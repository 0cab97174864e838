// Command tilebench measures vector tiles side by side on the same table and the same tile list:
// gridline (uncached and cached), tegola's mvt_postgis provider, and the plain query pg_tileserv and
// Martin run (ST_AsMVTGeom + ST_AsMVT over ST_TileEnvelope, GiST index), which this program serves
// itself. Every engine is driven over HTTP by the same load generator. It also measures how long
// an edit takes to show in a fresh tile request. Prints Markdown. Run by bench/tiles.sh.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"gridline.dev/gridline"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/tiles"
)

func main() {
	dbURL := flag.String("db", os.Getenv("DATABASE_URL"), "database with the grids")
	uncached := flag.String("gridline-uncached", "", "base URL of a gridline serving with --tile-cache-mb 0")
	cached := flag.String("gridline-cached", "", "base URL of a gridline with its tile cache")
	tegola := flag.String("tegola", "", "base URL of tegola serving `gridline tegola-config`")
	seconds := flag.Float64("seconds", 8, "seconds of load per engine and zoom")
	clients := flag.Int("clients", 8, "concurrent clients")
	label := flag.String("label", "", "name of the data set, for the table")
	list := flag.Int("list", 0, "only print gridline's tile paths at this zoom, one per line (for wrk)")
	parts := flag.Bool("breakdown", false, "only print where each engine's tile bytes go, at each zoom")
	zoomList := flag.String("zooms", "10,12,14,16", "zooms to measure, comma-separated")
	also := flag.String("also", "", "another gridline to measure beside the others, as label=base-URL (for A/B runs)")
	flag.Parse()
	for _, v := range strings.Split(*zoomList, ",") {
		z, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || z < 0 || z > 22 {
			fmt.Fprintf(os.Stderr, "tilebench: -zooms: %q is not a zoom\n", v)
			os.Exit(2)
		}
		zooms = append(zooms, maptile.Zoom(z))
	}
	if label, base, ok := strings.Cut(*also, "="); ok {
		extra = &engine{label, func(t maptile.Tile) string {
			return fmt.Sprintf("%s/tiles/%s/%d/%d/%d.mvt", base, gridlineLayers, t.Z, t.X, t.Y)
		}}
	}
	if *list > 0 {
		if err := listPaths(*dbURL, maptile.Zoom(*list)); err != nil {
			fmt.Fprintln(os.Stderr, "tilebench:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*dbURL, *uncached, *cached, *tegola, *label, time.Duration(*seconds*float64(time.Second)), *clients, *parts); err != nil {
		fmt.Fprintln(os.Stderr, "tilebench:", err)
		os.Exit(1)
	}
}

// gridlineLayers are gridline's polygon layers present in the data, comma-separated: the same set
// tegola's map (from `gridline tegola-config`) and the plain query serve. Set by extent.
var gridlineLayers string

// zooms and extra are set from the flags in main.
var (
	zooms []maptile.Zoom
	extra *engine
)

type engine struct {
	name string
	url  func(t maptile.Tile) string
}

func run(dbURL, uncached, cached, tegola, label string, dur time.Duration, clients int, parts bool) error {
	ctx := context.Background()
	db, err := store.Open(ctx, dbURL, store.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	b, layers, err := extent(ctx, db)
	if err != nil {
		return err
	}
	plain, err := servePlain(db.PlainTiles(layers, true))
	if err != nil {
		return err
	}
	lean, err := servePlain(db.PlainTiles(layers, false))
	if err != nil {
		return err
	}
	engines := []engine{}
	if uncached != "" {
		engines = append(engines, engine{"gridline, uncached", func(t maptile.Tile) string {
			return fmt.Sprintf("%s/tiles/%s/%d/%d/%d.mvt", uncached, gridlineLayers, t.Z, t.X, t.Y)
		}})
	}
	if extra != nil {
		engines = append(engines, *extra)
	}
	if tegola != "" {
		engines = append(engines, engine{"tegola v0.21.2 mvt_postgis", func(t maptile.Tile) string {
			return fmt.Sprintf("%s/maps/gridline/%d/%d/%d.pbf", tegola, t.Z, t.X, t.Y)
		}})
	}
	engines = append(engines, engine{"plain ST_AsMVT query (pg_tileserv/Martin)", func(t maptile.Tile) string {
		return fmt.Sprintf("%s/%d/%d/%d", plain, t.Z, t.X, t.Y)
	}}, engine{"plain query without staffed and kind", func(t maptile.Tile) string {
		return fmt.Sprintf("%s/%d/%d/%d", lean, t.Z, t.X, t.Y)
	}})
	if cached != "" {
		engines = append(engines, engine{"gridline, cached", func(t maptile.Tile) string {
			return fmt.Sprintf("%s/tiles/%s/%d/%d/%d.mvt", cached, gridlineLayers, t.Z, t.X, t.Y)
		}})
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}, Timeout: 60 * time.Second}
	if parts {
		for _, z := range zooms {
			if err := breakdown(client, engines, tilesOver(b, z), z); err != nil {
				return err
			}
		}
		return nil
	}
	fmt.Printf("Data: %s. Tiles: every tile over the district's extent at each zoom (at z16 a random sample of 2,000), requested in a shuffled order by %d concurrent clients for %s per engine and zoom; responses uncompressed. Every engine's features carry the same properties (id, code, name, level, layer, households, population, version, staffed, kind where there is one), except the plain query's row \"without staffed and kind\" (the query as it was before, a speed reference: staffed costs it a subquery per feature).\n\n", label, clients, dur)
	fmt.Println("| zoom | tiles | engine | tiles/s | p50 ms | p99 ms | mean bytes/tile | errors |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for _, z := range zooms {
		tiles := tilesOver(b, z)
		for _, e := range engines {
			if strings.HasSuffix(e.name, "cached") && !strings.Contains(e.name, "uncached") {
				// Warm the cache with one pass first: this row measures hits.
				for _, t := range tiles {
					fetch(client, e.url(t))
				}
			}
			bytes := meanBytes(client, e, tiles)
			r := load(client, e, tiles, dur, clients)
			fmt.Printf("| z%d | %d | %s | **%.0f** | %.2f | %.2f | %.0f | %d |\n", z, len(tiles), e.name, r.rate, r.p50, r.p99, bytes, r.errors)
		}
	}
	if cached != "" {
		fmt.Println()
		return editLatency(ctx, db, client, cached)
	}
	return nil
}

// listPaths prints the paths of gridline's tiles over the district at zoom z.
func listPaths(dbURL string, z maptile.Zoom) error {
	ctx := context.Background()
	db, err := store.Open(ctx, dbURL, store.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	b, _, err := extent(ctx, db)
	if err != nil {
		return err
	}
	for _, t := range tilesOver(b, z) {
		fmt.Printf("/tiles/%s/%d/%d/%d.mvt\n", gridlineLayers, t.Z, t.X, t.Y)
	}
	return nil
}

// extent is the bounding box of the districts, and the polygon layers of the data (thematic
// layers included only where grids belong to them), which it also sets gridlineLayers to.
func extent(ctx context.Context, db *store.DB) (orb.Bound, []store.TileLayer, error) {
	b, ok, err := db.DistrictExtent(ctx)
	if err != nil {
		return b, nil, err
	}
	if !ok {
		return b, nil, fmt.Errorf("the database holds no district: run `gridline demo` first")
	}
	thematic, err := db.ThematicLayers(ctx)
	if err != nil {
		return b, nil, err
	}
	var layers []store.TileLayer
	var names []string
	for _, l := range tiles.PolygonLayers(thematic) {
		layers = append(layers, store.TileLayer{Name: l.Spec.Name, MinZoom: l.Spec.MinZoom, MaxZoom: l.Spec.MaxZoom, Layer: l.Layer, Level: l.Level})
		names = append(names, l.Spec.Name)
	}
	gridlineLayers = strings.Join(names, ",")
	return b, layers, nil
}

func tilesOver(b orb.Bound, z maptile.Zoom) []maptile.Tile {
	min := maptile.At(orb.Point{b.Min[0], b.Max[1]}, z)
	max := maptile.At(orb.Point{b.Max[0], b.Min[1]}, z)
	var out []maptile.Tile
	for x := min.X; x <= max.X; x++ {
		for y := min.Y; y <= max.Y; y++ {
			out = append(out, maptile.New(x, y, z))
		}
	}
	// A fixed shuffle, so that every engine sees the same order.
	s := uint64(z) * 2654435761
	for i := len(out) - 1; i > 0; i-- {
		s = s*6364136223846793005 + 1442695040888963407
		j := int(s>>33) % (i + 1)
		out[i], out[j] = out[j], out[i]
	}
	if len(out) > 2000 {
		out = out[:2000]
	}
	return out
}

func fetch(c *http.Client, url string) (int, error) {
	resp, err := c.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != 200 && resp.StatusCode != 204 && resp.StatusCode != 404 {
		return int(n), fmt.Errorf("%s: %s", url, resp.Status)
	}
	return int(n), err
}

func meanBytes(c *http.Client, e engine, tiles []maptile.Tile) float64 {
	total := 0
	for _, t := range tiles {
		n, _ := fetch(c, e.url(t))
		total += n
	}
	return float64(total) / float64(len(tiles))
}

type result struct {
	rate, p50, p99 float64
	errors         int64
}

func load(c *http.Client, e engine, tiles []maptile.Tile, dur time.Duration, clients int) result {
	var next atomic.Int64
	var errs atomic.Int64
	var mu sync.Mutex
	var lat []float64
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []float64
			for time.Since(start) < dur {
				t := tiles[int(next.Add(1))%len(tiles)]
				t0 := time.Now()
				if _, err := fetch(c, e.url(t)); err != nil {
					errs.Add(1)
				}
				mine = append(mine, float64(time.Since(t0).Microseconds())/1000)
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	el := time.Since(start).Seconds()
	sort.Float64s(lat)
	q := func(p float64) float64 {
		if len(lat) == 0 {
			return math.NaN()
		}
		return lat[int(p*float64(len(lat)-1))]
	}
	return result{rate: float64(len(lat)) / el, p50: q(0.5), p99: q(0.99), errors: errs.Load()}
}

// servePlain serves the plain per-layer ST_AsMVT query (store.PlainTiles) on a loopback port, for
// the boundaries valid today.
func servePlain(q *store.PlainTiles) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
		if len(parts) != 3 {
			http.Error(w, "z/x/y", 400)
			return
		}
		z, _ := strconv.Atoi(parts[0])
		x, _ := strconv.Atoi(parts[1])
		y, _ := strconv.Atoi(parts[2])
		tile, err := q.Tile(r.Context(), z, x, y, time.Now())
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "application/vnd.mapbox-vector-tile")
		w.Write(tile)
	})
	go http.Serve(ln, h) //nolint:errcheck // lives as long as the benchmark
	return "http://" + ln.Addr().String(), nil
}

// editLatency renames a basic grid in the database and times how long until a fresh request for
// a tile over it returns different bytes.
func editLatency(ctx context.Context, db *store.DB, c *http.Client, base string) error {
	gs, _, err := db.Grids(ctx, store.GridFilter{Level: gridline.LevelGrid, Layer: gridline.LayerComprehensive, At: time.Now(), Limit: 1, WithGeometry: true})
	if err != nil {
		return err
	}
	if len(gs) == 0 {
		return fmt.Errorf("no basic grid to rename")
	}
	g := gs[0]
	// A point inside the grid, so that the tile at it draws the grid.
	p := tiles.PoleOfInaccessibility(g.Geometry, 1e-6)
	t := maptile.At(p, 14)
	url := fmt.Sprintf("%s/tiles/grids/%d/%d/%d.mvt", base, t.Z, t.X, t.Y)
	get := func() string {
		resp, err := c.Get(url)
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	var worst time.Duration
	var all []string
	for i := 0; i < 5; i++ {
		before := get()
		get() // cached now
		t0 := time.Now()
		g.Name += "·"
		if err := db.RenameGrid(ctx, g.ID, g.Name); err != nil {
			return err
		}
		for get() == before {
			if time.Since(t0) > 10*time.Second {
				return fmt.Errorf("the edit never showed in %s", url)
			}
			time.Sleep(2 * time.Millisecond)
		}
		d := time.Since(t0)
		all = append(all, fmt.Sprintf("%.0f ms", float64(d.Microseconds())/1000))
		if d > worst {
			worst = d
		}
	}
	fmt.Printf("Edit to visible: a basic grid renamed by an UPDATE committed in the database; the first fresh request for its z14 tile (cached before) that shows the change came %s after the commit (5 edits; worst **%.0f ms**).\n",
		strings.Join(all, ", "), float64(worst.Microseconds())/1000)
	return nil
}
