package importers

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gridline.dev/gridline"
	"gridline.dev/gridline/geo"
	"gridline.dev/gridline/store"
)

// RoadOptions say how to read a road network file.
type RoadOptions struct {
	CRS         string // the file's coordinate system when it does not say (EPSG:n)
	SourceLayer string // the layer to read (an OSM file's default: lines)
	Encoding    string
	Apply       bool
}

// RoadReport is a road import's report.
type RoadReport struct {
	File        string `json:"file"`
	Layer       string `json:"layer,omitempty"`
	NameColumn  string `json:"name_column"`
	ClassColumn string `json:"class_column"`
	*store.RoadReport
}

// Column names read as a road's name and class, in order of preference.
var (
	roadNameColumns  = []string{"name", "NAME", "Name", "名称", "道路名称", "road_name", "name_zh"}
	roadClassColumns = []string{"highway", "fclass", "class", "CLASS", "等级", "道路等级", "type"}
)

// ImportRoads reads a road network from any file GDAL reads (GeoJSON, Shapefile, GeoPackage, KML,
// FlatGeobuf ... and OSM XML or PBF, whose lines layer is read) through the same staging table as
// grid imports, and replaces the road network with it, noded in SQL (store.ImportRoads).
func (e *Engine) ImportRoads(ctx context.Context, paths []string, opt RoadOptions) (*RoadReport, error) {
	work, err := os.MkdirTemp(e.cfg.TempDir, "gridline-roads-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	var src *source
	layer := opt.SourceLayer
	if len(paths) == 1 && isOSM(paths[0]) {
		src = &source{path: paths[0], name: filepath.Base(paths[0]), format: "osm", hasSRS: true}
		if layer == "" {
			layer = "lines"
		}
	} else {
		if src, err = e.prepare(ctx, paths, Options{Encoding: opt.Encoding}, work); err != nil {
			return nil, err
		}
		if layer, err = e.sourceLayer(ctx, src, layer); err != nil {
			return nil, err
		}
	}
	table := e.stagingName("import")
	defer e.db.DropStaging(context.WithoutCancel(ctx), table) //nolint:errcheck // best effort: a leftover staging table holds no live data
	conn, env := pgConn(e.db.URL())
	args := []string{"--config", "PG_USE_COPY", "YES", "-f", "PostgreSQL", "PG:" + conn, src.path}
	if layer != "" {
		args = append(args, layer)
	}
	args = append(args, "-nln", table, "-lco", "SCHEMA="+store.StagingSchema, "-lco", "GEOMETRY_NAME=geom",
		"-lco", "FID=ogc_fid", "-lco", "LAUNDER=NO", "-lco", "PRECISION=NO", "-lco", "SPATIAL_INDEX=NONE",
		"-lco", "UNLOGGED=ON", "-nlt", "GEOMETRY", "-dim", "XY", "-unsetFid", "-gt", "65536", "-t_srs", "EPSG:4326")
	for _, o := range src.openOpts {
		args = append(args, "-oo", o)
	}
	switch {
	case opt.CRS != "":
		c, err := geo.ParseCRS(opt.CRS)
		if err != nil {
			return nil, gridline.Errorf(gridline.EInvalidCRS, "%v", err).With("field", "crs")
		}
		if c.EPSG == 0 && c.Name != geo.WGS84.Name && c.Name != geo.CGCS2000.Name {
			return nil, gridline.Errorf(gridline.EInvalidCRS, "a road network in %s is not supported: give it in WGS84 or an EPSG system", c.Name).With("field", "crs")
		}
		epsg := c.EPSG
		if epsg == 0 {
			epsg = 4326
		}
		args = append(args, "-s_srs", fmt.Sprintf("EPSG:%d", epsg))
	case !src.hasSRS:
		args = append(args, "-s_srs", "EPSG:4326")
	}
	res, err := e.runGDALEnv(ctx, env, e.cfg.Ogr2ogr, args...)
	if err != nil {
		return nil, invalidFile(src.name, err)
	}
	if ok, err := e.db.StagingExists(ctx, table); err != nil {
		return nil, err
	} else if !ok {
		return nil, unreadableFile(src.name, res)
	}
	cols, err := e.db.StagingColumns(ctx, table)
	if err != nil {
		return nil, err
	}
	rep := &RoadReport{File: src.name, Layer: layer, NameColumn: firstOf(cols, roadNameColumns), ClassColumn: firstOf(cols, roadClassColumns)}
	if rep.RoadReport, err = e.db.ImportRoads(ctx, store.RoadImport{Table: table, NameColumn: rep.NameColumn, ClassColumn: rep.ClassColumn, Apply: opt.Apply}); err != nil {
		return nil, err
	}
	return rep, nil
}

func isOSM(p string) bool {
	l := strings.ToLower(p)
	return strings.HasSuffix(l, ".osm") || strings.HasSuffix(l, ".pbf")
}

func firstOf(cols, want []string) string {
	for _, w := range want {
		if slices.Contains(cols, w) {
			return w
		}
	}
	return ""
}
