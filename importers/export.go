package importers

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"gridline.dev/gridline"
	"gridline.dev/gridline/geo"
	"gridline.dev/gridline/store"
)

// ExportFormats lists the formats Export writes.
var ExportFormats = []string{"geojson", "shapefile", "gpkg", "csv", "kml", "fgb"}

// ExportOptions say what to export and how.
type ExportOptions struct {
	Format   string         // one of ExportFormats
	Level    gridline.Level // "" for every level
	Layer    gridline.Layer // "" for every layer
	At       time.Time      // the boundaries valid on this date
	CRS      string         // output coordinates: wgs84 (default), cgcs2000, gcj02, bd09 or EPSG:n
	Encoding string         // Shapefile attribute encoding: utf-8 (default) or gbk
	Progress Progress       // nil: none
}

// Export is a written export file.
type Export struct {
	Path        string // the file, in a temporary directory the caller removes with Close
	Name        string // a file name to offer a user: grids-<level>-<date>.<ext>
	ContentType string
	Features    int
	dir         string
}

// Close removes the export's temporary directory.
func (x *Export) Close() error { return os.RemoveAll(x.dir) }

type exportFormat struct {
	driver, ext, contentType string
	lco                      []string
}

var exportFormats = map[string]exportFormat{
	// Every format carries a float64's 17 significant digits where it can (GeoJSON's default of 15
	// decimals and WKT's of 15 digits trim the last; RFC 7946 mode would cut to 7 decimals), so a
	// file read back in is the stored boundary (and store.SameGeometryTolerance covers the rest).
	"geojson":   {"GeoJSON", ".geojson", "application/geo+json", []string{"SIGNIFICANT_FIGURES=17"}},
	"shapefile": {"ESRI Shapefile", ".zip", "application/zip", nil},
	"gpkg":      {"GPKG", ".gpkg", "application/geopackage+sqlite3", nil},
	"csv":       {"CSV", ".csv", "text/csv; charset=utf-8", []string{"GEOMETRY=AS_WKT"}},
	"kml":       {"KML", ".kml", "application/vnd.google-earth.kml+xml", nil},
	"fgb":       {"FlatGeobuf", ".fgb", "application/octet-stream", nil},
}

// Export writes the grids opt selects to a file in opt.Format.
func (e *Engine) Export(ctx context.Context, opt ExportOptions) (*Export, error) {
	f := strings.ToLower(opt.Format)
	if f == "shp" || f == "zip" {
		f = "shapefile"
	}
	if f == "geopackage" {
		f = "gpkg"
	}
	if f == "" {
		f = "geojson"
	}
	ef, ok := exportFormats[f]
	if !ok {
		return nil, gridline.Errorf(gridline.EInvalid, "format %q is not one of %s", gridline.Excerpt(opt.Format), strings.Join(ExportFormats, ", ")).With("field", "format")
	}
	if opt.Level != "" && !opt.Level.Valid() {
		return nil, gridline.Errorf(gridline.EInvalid, "level %q is not one of %s", gridline.Excerpt(string(opt.Level)), gridline.LevelNames()).With("field", "level")
	}
	if opt.Layer != "" && !opt.Layer.Valid() {
		return nil, gridline.Errorf(gridline.EInvalid, "layer %q is not a layer name", gridline.Excerpt(string(opt.Layer))).With("field", "layer")
	}
	if opt.At.IsZero() {
		return nil, gridline.Errorf(gridline.EInvalid, "an export needs a date (at)")
	}
	crs, err := geo.ParseCRS(opt.CRS)
	if err != nil {
		return nil, gridline.Errorf(gridline.EInvalidCRS, "%v", err).With("field", "crs")
	}
	if crs.EPSG != 0 && !crs.Local() {
		if err := e.db.KnownSRID(ctx, crs.EPSG); err != nil {
			return nil, err
		}
	}
	enc, err := normEncoding(opt.Encoding)
	if err != nil {
		return nil, err
	}
	if enc != "" && f != "shapefile" && f != "csv" {
		return nil, gridline.Errorf(gridline.EInvalid, "encoding applies to Shapefile exports only: %s is always UTF-8", f).With("field", "encoding")
	}
	if f == "csv" && enc == "GB18030" {
		return nil, gridline.Errorf(gridline.EInvalid, "CSV exports are UTF-8; GBK is for Shapefiles").With("field", "encoding")
	}
	dir, err := os.MkdirTemp(e.cfg.TempDir, "gridline-export-")
	if err != nil {
		return nil, err
	}
	x := &Export{dir: dir, ContentType: ef.contentType}
	ok = false
	defer func() {
		if !ok {
			x.Close()
		}
	}()
	table := e.stagingName("export")
	prog := progressOr(opt.Progress)
	prog.Stage("stage")
	defer e.db.DropStaging(context.WithoutCancel(ctx), table) //nolint:errcheck // best effort
	if x.Features, err = e.db.StageExport(ctx, table, store.ExportFilter{Level: opt.Level, Layer: opt.Layer, At: opt.At}); err != nil {
		return nil, err
	}
	prog.SetRead(int64(x.Features))
	prog.SetChecked(int64(x.Features))
	prog.Stage("write")
	// WKT (CSV) and KML write 15 significant digits unless told.
	args := []string{"--config", "OGR_WKT_PRECISION", "17", "-f", ef.driver}
	if crs.Local() && crs.EPSG == 0 {
		fromWGS84 := func(l []orb.Point) []orb.Point { return crs.LineFromWGS84(l, geo.ExportEdgeTolerance) }
		if err := e.db.MapStagingCoords(ctx, table, fromWGS84); err != nil {
			return nil, err
		}
	} else if crs.EPSG != 4326 {
		args = append(args, "-t_srs", fmt.Sprintf("EPSG:%d", crs.EPSG))
		projected, err := e.db.Projected(ctx, crs.EPSG)
		if err != nil {
			return nil, err
		}
		if projected {
			// A straight edge in degrees is a curve in metres: split edges longer than 0.005
			// degrees (550 m at most) before projecting, which keeps the file within 0.01 m of the
			// stored boundary and, read back (split at 1000 m), changes nothing.
			args = append(args, "-segmentize", "0.005")
		}
	}
	stem := "grids"
	if opt.Layer != "" {
		stem += "-" + string(opt.Layer)
	}
	if opt.Level != "" {
		stem += "-" + string(opt.Level)
	}
	stem += "-" + gridline.Date(opt.At)
	out := filepath.Join(dir, stem+ef.ext)
	if f == "shapefile" {
		if err := os.Mkdir(filepath.Join(dir, "shp"), 0o700); err != nil {
			return nil, err
		}
		out = filepath.Join(dir, "shp", stem+".shp")
		if enc == "GB18030" {
			// CP936 is the name ArcGIS and QGIS recognise in a .cpg.
			args = append(args, "-lco", "ENCODING=CP936")
		} else {
			args = append(args, "-lco", "ENCODING=UTF-8")
		}
	}
	conn, env := pgConn(e.db.URL())
	args = append(args, out, "PG:"+conn, store.StagingSchema+"."+table, "-nln", stem)
	for _, l := range ef.lco {
		args = append(args, "-lco", l)
	}
	if f == "kml" {
		args = append(args, "-dsco", "NameField=name")
	}
	if _, err := e.runGDALEnv(ctx, env, e.cfg.Ogr2ogr, args...); err != nil {
		return nil, fmt.Errorf("export %s: %w", f, err)
	}
	prog.SetWritten(int64(x.Features))
	x.Path, x.Name = out, stem+ef.ext
	if f == "shapefile" {
		x.Path = filepath.Join(dir, stem+".zip")
		if err := zipDir(filepath.Join(dir, "shp"), x.Path); err != nil {
			return nil, err
		}
	}
	ok = true
	return x, nil
}

// zipDir writes every file of dir into a new zip at dst.
func zipDir(dir, dst string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var names []string
	for _, en := range entries {
		names = append(names, en.Name())
	}
	sort.Strings(names)
	w, err := os.Create(dst)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(w)
	for _, n := range names {
		fw, err := zw.Create(n)
		if err != nil {
			w.Close()
			return err
		}
		r, err := os.Open(filepath.Join(dir, n))
		if err != nil {
			w.Close()
			return err
		}
		_, err = io.Copy(fw, r)
		r.Close()
		if err != nil {
			w.Close()
			return err
		}
	}
	if err := zw.Close(); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}
