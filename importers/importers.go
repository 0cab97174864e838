// Package importers reads the files districts keep their grids in (GeoJSON, Shapefile,
// GeoPackage, KML/KMZ, CSV, FlatGeobuf) and writes them back out. GDAL's ogr2ogr does the reading
// and writing, into and out of a staging table in PostGIS (see docs/decisions.md); this package
// prepares the files (zips, encodings, coordinate systems, attribute mapping) and the store checks
// and writes the grids by the same rules as every other write. The command line and the HTTP API
// share this one engine.
package importers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"gridline.dev/gridline"
	"gridline.dev/gridline/geo"
	"gridline.dev/gridline/store"
)

// Config tunes an Engine.
type Config struct {
	MaxBytes    int64  // the largest file (or set of files) an import accepts; default 512 MiB
	TempDir     string // where files are unpacked; default os.TempDir()
	Ogr2ogr     string // the tools; default found on PATH
	Ogrinfo     string
	GDALSRSInfo string
	// Audit audits the coverage a dry run would leave (store.ImportPlan.Audit); nil: no audit.
	Audit func(ctx context.Context, grids []gridline.Grid, at time.Time) (any, error)
	// Owner is the store.Owner of this process, put in the names of its staging tables so that a
	// sweep can tell them from those of a process that is gone (0: a name with owner 0, which
	// no process holds, for tools that run alone).
	Owner int64
}

// Engine imports and exports grids.
type Engine struct {
	db  *store.DB
	cfg Config
}

// New makes an Engine on db.
func New(db *store.DB, cfg Config) *Engine {
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 512 << 20
	}
	if cfg.Ogr2ogr == "" {
		cfg.Ogr2ogr = "ogr2ogr"
	}
	if cfg.Ogrinfo == "" {
		cfg.Ogrinfo = "ogrinfo"
	}
	if cfg.GDALSRSInfo == "" {
		cfg.GDALSRSInfo = "gdalsrsinfo"
	}
	return &Engine{db: db, cfg: cfg}
}

// MaxBytes is the import size limit.
func (e *Engine) MaxBytes() int64 { return e.cfg.MaxBytes }

// TempDir is where the engine's temporary files go.
func (e *Engine) TempDir() string {
	if e.cfg.TempDir == "" {
		return os.TempDir()
	}
	return e.cfg.TempDir
}

// stagingName names a new staging table of kind import or export.
func (e *Engine) stagingName(kind string) string {
	return store.StagingName(kind, e.cfg.Owner, newID())
}

// Progress hears how an import or an export is getting on; jobs.Progress is one.
type Progress interface {
	Stage(name string)
	SetRead(n int64)
	SetChecked(n int64)
	SetWritten(n int64)
}

type noProgress struct{}

func (noProgress) Stage(string)     {}
func (noProgress) SetRead(int64)    {}
func (noProgress) SetChecked(int64) {}
func (noProgress) SetWritten(int64) {}

func progressOr(p Progress) Progress {
	if p == nil {
		return noProgress{}
	}
	return p
}

// Options say how to read a file and what to do with it.
type Options struct {
	Format      string // "" to go by the file's extension
	SourceLayer string // the layer to read from a file with several (GeoPackage, KML folders)
	// CRS is the coordinate system of the file's coordinates when the file does not say, or says
	// wrongly: EPSG:n (CGCS2000 4490 and its Gauss-Krüger zones 4513-4554 included), wgs84,
	// cgcs2000, gcj02 or bd09. Empty: what the file says, or WGS84 when it says nothing.
	CRS      string
	Encoding string // attribute encoding of Shapefiles and CSV: utf-8, gbk; "" to detect
	Mapping  Mapping
	From     time.Time // the date changes take effect
	Repair   bool      // repair invalid geometries instead of refusing them
	Retire   bool      // end the grids of the file's levels and layers that it does not hold
	Apply    bool      // commit; otherwise a dry run
	// Tolerance is how far, in m², a child may stick out of its parent (store.DefaultTolerance when 0).
	Tolerance float64
	ListLimit int
	Progress  Progress // nil: none
}

// Report is an import's report: the store's, and what was learnt about the file.
type Report struct {
	File     string            `json:"file"`
	Format   string            `json:"format"`
	Layer    string            `json:"source_layer,omitempty"`
	CRS      string            `json:"crs"`
	Encoding string            `json:"encoding,omitempty"`
	Columns  map[string]string `json:"columns"`
	*store.ImportReport
}

var layerLine = regexp.MustCompile(`^\d+: (.*?)(?: \([^()]*\))?$`)

// newID names a staging table.
func newID() string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported systems
	}
	return hex.EncodeToString(b)
}

// Import reads the dataset in paths (one file, a .zip, or a Shapefile's loose files), checks it
// and, with opt.Apply, writes it in one transaction. Problems with the data are in the report
// (Report.OK is false) and nothing is written; the error is for files that cannot be read at all,
// options that make no sense, and the database.
func (e *Engine) Import(ctx context.Context, paths []string, opt Options) (*Report, error) {
	if err := opt.Mapping.Validate(); err != nil {
		return nil, err
	}
	if opt.From.IsZero() {
		return nil, gridline.Errorf(gridline.EInvalid, "an import needs the date its changes take effect (from)")
	}
	if err := CheckTolerance(opt.Tolerance); err != nil {
		return nil, err
	}
	var crs geo.CRS
	if opt.CRS != "" {
		var err error
		if crs, err = geo.ParseCRS(opt.CRS); err != nil {
			return nil, gridline.Errorf(gridline.EInvalidCRS, "%v", err).With("field", "crs")
		}
	}
	prog := progressOr(opt.Progress)
	prog.Stage("prepare")
	work, err := os.MkdirTemp(e.cfg.TempDir, "gridline-import-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	src, err := e.prepare(ctx, paths, opt, work)
	if err != nil {
		return nil, err
	}
	rep := &Report{File: src.name, Format: src.format, Encoding: src.encoding}
	layer, err := e.sourceLayer(ctx, src, opt.SourceLayer)
	if err != nil {
		return nil, err
	}
	rep.Layer = layer

	table := e.stagingName("import")
	// The staging table goes whatever happens; a cancelled request must not leave it behind.
	defer e.db.DropStaging(context.WithoutCancel(ctx), table) //nolint:errcheck // best effort: a leftover staging table holds no live data

	conn, env := pgConn(e.db.URL())
	args := []string{"--config", "OGR_GEOMETRY_ACCEPT_UNCLOSED_RING", "NO", "--config", "PG_USE_COPY", "YES",
		"-f", "PostgreSQL", "PG:" + conn, src.path}
	if layer != "" {
		args = append(args, layer)
	}
	args = append(args, "-nln", table, "-lco", "SCHEMA="+store.StagingSchema, "-lco", "GEOMETRY_NAME=geom",
		"-lco", "FID=ogc_fid", "-lco", "LAUNDER=NO", "-lco", "PRECISION=NO", "-lco", "SPATIAL_INDEX=NONE",
		"-lco", "UNLOGGED=ON", "-nlt", "GEOMETRY", "-dim", "XY", "-unsetFid", "-gt", "65536", "-t_srs", "EPSG:4326",
		// A straight edge in a projected system is a curve in degrees (9.7 m off on a 25 km edge
		// 140 km from a Gauss-Krüger zone's meridian): split edges longer than 1000 units in the
		// file's own system before reprojecting, which keeps them within 0.02 m (docs/decisions.md).
		// In a geographic system the units are degrees, and no edge is that long.
		"-segmentize", "1000")
	for _, o := range src.openOpts {
		args = append(args, "-oo", o)
	}
	rep.CRS = "from the file"
	local := false
	switch {
	case opt.CRS != "" && crs.EPSG != 0:
		args = append(args, "-s_srs", fmt.Sprintf("EPSG:%d", crs.EPSG))
		rep.CRS = fmt.Sprintf("EPSG:%d", crs.EPSG)
	case opt.CRS != "":
		// GCJ-02 and BD-09 are not in PROJ: read the numbers as they are and convert them here.
		args = append(args, "-s_srs", "EPSG:4326")
		rep.CRS, local = crs.Name, true
	case !src.hasSRS:
		args = append(args, "-s_srs", "EPSG:4326")
		rep.CRS = "EPSG:4326 (the file does not say; give crs if it is another)"
	}
	prog.Stage("stage")
	staged := time.Now()
	stopCount := e.countCopied(ctx, table, prog)
	res, err := e.runGDALEnv(ctx, env, e.cfg.Ogr2ogr, args...)
	stopCount()
	stageMS := float64(time.Since(staged).Microseconds()) / 1000
	if err != nil {
		var ge *gdalError
		if errors.As(err, &ge) && strings.Contains(ge.msg, "no coordinate system") && opt.CRS == "" {
			return nil, gridline.Errorf(gridline.EInvalidCRS, "%s does not say which coordinate system its coordinates are in: give crs (e.g. EPSG:4326, EPSG:4547, gcj02)", src.name).With("field", "crs")
		}
		if errors.As(err, &ge) && opt.CRS != "" && strings.Contains(ge.msg, "SRS") {
			return nil, gridline.Errorf(gridline.EInvalidCRS, "GDAL does not know the coordinate system %s: %s", gridline.Excerpt(opt.CRS), gdalMessage(ge.msg)).With("field", "crs")
		}
		return nil, invalidFile(src.name, err)
	}
	if local {
		toWGS84 := func(l []orb.Point) []orb.Point { return crs.LineToWGS84(l, geo.ImportEdgeTolerance) }
		if err := e.db.MapStagingCoords(ctx, table, toWGS84); err != nil {
			return nil, err
		}
	}
	if ok, err := e.db.StagingExists(ctx, table); err != nil {
		return nil, err
	} else if !ok {
		return nil, unreadableFile(src.name, res)
	}
	n, err := e.db.StagingCount(ctx, table)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, gridline.Errorf(gridline.EInvalid, "%s holds no features: nothing to import", src.name).With("file", src.name)
	}
	cols, err := e.db.StagingColumns(ctx, table)
	if err != nil {
		return nil, err
	}
	ic, found, err := opt.Mapping.resolve(cols)
	if err != nil {
		return nil, err
	}
	rep.Columns = found
	prog.SetRead(int64(n))
	prog.Stage("check")
	sr, err := e.db.ImportGrids(ctx, store.ImportPlan{
		Table: table, Columns: ic, Level: opt.Mapping.Level, Layer: opt.Mapping.Layer, Kind: opt.Mapping.Kind,
		From: opt.From, Repair: opt.Repair, Retire: opt.Retire, Apply: opt.Apply, Tolerance: opt.Tolerance, ListLimit: opt.ListLimit,
		Audit: e.cfg.Audit,
	})
	if err != nil {
		return nil, err
	}
	prog.SetChecked(int64(sr.Features))
	if sr.Applied {
		prog.SetWritten(int64(sr.Added + sr.Changed + sr.Retired))
	}
	prog.Stage("done")
	sr.Timings = append([]store.ImportTiming{{Step: "stage (ogr2ogr)", MS: stageMS}}, sr.Timings...)
	rep.ImportReport = sr
	unclosed := false
	for _, w := range append(res.errors, res.warnings...) {
		if strings.Contains(w, "Non closed ring") {
			unclosed = true
			continue
		}
		if len(sr.Warnings) < 20 {
			sr.Warnings = append(sr.Warnings, "GDAL: "+w)
		}
	}
	if err := e.fileCoords(ctx, sr, opt, crs, src); err != nil {
		return nil, err
	}
	why := ""
	switch {
	case unclosed:
		why = "its geometry cannot be read: a ring is not closed (its last point must repeat its first)"
	case src.encoded != "":
		why = "the geometry could not be read because " + src.encoded
	}
	if why != "" {
		for i, p := range sr.Problems {
			if p.Field == "geometry" && p.Message == "has no geometry" {
				sr.Problems[i].Message = why
			}
		}
	}
	return rep, nil
}

// countCopied reports the rows ogr2ogr has copied into table so far, twice a second, until the
// returned function is called.
func (e *Engine) countCopied(ctx context.Context, table string, prog Progress) (stop func()) {
	if _, ok := prog.(noProgress); ok {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if n, err := e.db.StagingRowsCopied(ctx, table); err == nil && n > 0 {
					prog.SetRead(n)
				}
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// sourceLayer picks the layer to read: the one asked for, or the only one. A file with several
// layers and no choice is an error that lists them.
//
// Shapefiles and CSV hold one layer, named by the file; so does GeoJSON (looked at only when a
// layer is asked for: GDAL reads the whole file to list it). A layer asked for that the file does
// not have is an error in every format.
func (e *Engine) sourceLayer(ctx context.Context, src *source, want string) (string, error) {
	switch src.format {
	case "shapefile", "csv":
		own := strings.TrimSuffix(src.name, filepath.Ext(src.name))
		if want != "" && want != own {
			return "", gridline.Errorf(gridline.EInvalid, "%s has no layer %q; its one layer is: %s", src.name, want, own).With("field", "source_layer").With("layers", []string{own})
		}
		return "", nil
	case "geojson", "fgb":
		if want == "" {
			return "", nil
		}
	}
	res, err := e.runGDAL(ctx, e.cfg.Ogrinfo, "-ro", "-q", src.path)
	if err != nil {
		return "", invalidFile(src.name, err)
	}
	var layers []string
	for _, line := range strings.Split(res.stdout, "\n") {
		if m := layerLine.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			layers = append(layers, m[1])
		}
	}
	switch {
	case want != "":
		if !contains(layers, want) {
			return "", gridline.Errorf(gridline.EInvalid, "%s has no layer %q; its layers are: %s", src.name, gridline.Excerpt(want), strings.Join(layers, ", ")).With("field", "source_layer").With("layers", layers)
		}
		return want, nil
	case len(layers) == 0:
		return "", gridline.Errorf(gridline.EInvalid, "%s holds no layers: nothing to import", src.name)
	case len(layers) > 1:
		return "", gridline.Errorf(gridline.EInvalid, "%s holds %d layers (%s): choose one with source_layer", src.name, len(layers), strings.Join(layers, ", ")).With("field", "source_layer").With("layers", layers)
	}
	return layers[0], nil
}

// coordInMessage is a location GEOS puts in a message, "[x y]" (ST_IsValidReason's
// "Self-intersection[113.6 34.7]").
var coordInMessage = regexp.MustCompile(`\[(-?[0-9.]+(?:e[-+]?[0-9]+)?) (-?[0-9.]+(?:e[-+]?[0-9]+)?)\]`)

// fileCoords puts the locations in the report's problems and repairs into the file's own
// coordinates (GCJ-02, BD-09 or the EPSG code given), and says which: the checks see WGS84, 500 m
// from a GCJ-02 file's numbers. A file that names its own projected system gets WGS84, said so.
func (e *Engine) fileCoords(ctx context.Context, sr *store.ImportReport, opt Options, crs geo.CRS, src *source) error {
	lists := [][]store.ImportProblem{sr.Problems, sr.Lists.Repaired}
	var xs, ys []float64
	for _, l := range lists {
		for _, p := range l {
			for _, m := range coordInMessage.FindAllStringSubmatch(p.Message, -1) {
				x, _ := strconv.ParseFloat(m[1], 64)
				y, _ := strconv.ParseFloat(m[2], 64)
				xs, ys = append(xs, x), append(ys, y)
			}
		}
	}
	if len(xs) == 0 {
		return nil
	}
	name := "WGS84 lon/lat"
	switch {
	case opt.CRS != "" && crs.EPSG == 0:
		for i := range xs {
			xs[i], ys[i] = crs.FromWGS84(xs[i], ys[i])
		}
		name = "the file's " + strings.ToUpper(crs.Name[:3]) + "-" + crs.Name[3:]
	case opt.CRS != "" && crs.EPSG != 4326 && crs.EPSG != 4490:
		var err error
		if xs, ys, err = e.db.TransformFromWGS84(ctx, crs.EPSG, xs, ys); err != nil {
			return err
		}
		name = fmt.Sprintf("the file's EPSG:%d", crs.EPSG)
	case opt.CRS != "" || !src.hasSRS || src.format == "geojson" || src.format == "topojson" || src.format == "kml" || src.format == "kmz":
		name = "the file's lon/lat"
	}
	k := 0
	for _, l := range lists {
		for i, p := range l {
			if !coordInMessage.MatchString(p.Message) {
				continue
			}
			l[i].Message = coordInMessage.ReplaceAllStringFunc(p.Message, func(string) string {
				s := fmt.Sprintf("[%s %s]", strconv.FormatFloat(xs[k], 'f', -1, 64), strconv.FormatFloat(ys[k], 'f', -1, 64))
				k++
				return s
			}) + " (at " + name + ")"
		}
	}
	return nil
}
