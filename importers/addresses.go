package importers

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gridline.dev/gridline"
	"gridline.dev/gridline/address"
	"gridline.dev/gridline/geo"
	"gridline.dev/gridline/store"
)

// AddressOptions say how to read a file of standard addresses (what=addresses).
type AddressOptions struct {
	Encoding string    // CSV: utf-8 or gbk; "" to detect
	CRS      string    // the coordinates' system when the file does not say: EPSG:n, wgs84, cgcs2000, gcj02, bd09
	Mapping  Mapping   // Fields: attribute -> the file's column, before the usual names
	From     time.Time // valid_from of rows that give none
	Apply    bool
}

// AddressReport is an address import's report.
type AddressReport struct {
	File         string `json:"file"`
	CRS          string `json:"crs"`
	Valid        bool   `json:"valid"`
	ProblemCount int    `json:"problem_count"`
	*store.AddressImport
}

// addressColumns are the names an address file's columns go by, tried without regard to case.
var addressColumns = map[string][]string{
	"province": {"province", "省", "省份"}, "city": {"city", "市", "城市"}, "district": {"district", "区", "区县", "县区"},
	"subdistrict": {"subdistrict", "街道", "乡镇", "街道乡镇"}, "community": {"community", "社区", "村", "社区村", "居委会"},
	"road": {"road", "street", "路", "街路巷", "道路", "街巷"}, "door": {"door", "门牌号", "门牌", "号"},
	"compound": {"compound", "小区", "院落", "小区院落"}, "building": {"building", "楼栋", "楼号", "栋", "楼栋号"},
	"unit": {"unit", "单元"}, "floor": {"floor", "楼层", "层"}, "room": {"room", "室", "户", "房号", "户室号"},
	"building_code": {"building_code", "楼栋编码", "建筑物编码"}, "households": {"households", "户数"},
	"lon": {"X", "lon", "lng", "longitude", "经度"}, "lat": {"Y", "lat", "latitude", "纬度"},
	"valid_from": {"valid_from", "from", "启用日期", "开始日期"}, "valid_to": {"valid_to", "to", "停用日期", "结束日期"},
	"provenance": {"provenance", "来源"},
}

// ImportAddresses reads standard addresses from a CSV or XLSX table (points in lon/lat columns)
// or a GeoJSON, GeoPackage or Shapefile of points (through GDAL, reprojected to WGS84), in any
// coordinate system, with the usual Chinese or English column names or a mapping. Every problem is
// reported with its line; nothing is written unless all is well, and only with opt.Apply.
func (e *Engine) ImportAddresses(ctx context.Context, paths []string, opt AddressOptions) (*AddressReport, error) {
	path := paths[0]
	for _, p := range paths {
		if strings.EqualFold(filepath.Ext(p), ".shp") {
			path = p
		}
	}
	name := filepath.Base(path)
	st, err := os.Stat(path)
	if err != nil {
		return nil, gridline.Errorf(gridline.EInvalid, "cannot read %s: %s", name, gdalMessage(err.Error()))
	}
	if st.Size() > e.cfg.MaxBytes {
		return nil, gridline.Errorf(gridline.ETooLarge, "%s is %d bytes, over the import limit of %d bytes", name, st.Size(), e.cfg.MaxBytes).With("limit", e.cfg.MaxBytes)
	}
	crs, err := geo.ParseCRS(opt.CRS)
	if err != nil {
		return nil, gridline.Errorf(gridline.EInvalidCRS, "%v", err).With("field", "crs")
	}
	enc := opt.Encoding
	var data []byte
	ext := strings.ToLower(filepath.Ext(path))
	switch ext {
	case ".csv", ".txt":
		if data, err = os.ReadFile(path); err != nil {
			return nil, err
		}
	case ".xlsx", ".geojson", ".json", ".shp", ".gpkg", ".zip":
		work, err := os.MkdirTemp(e.cfg.TempDir, "gridline-addresses-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(work)
		out := filepath.Join(work, "addresses.csv")
		src := path
		if ext == ".zip" {
			src = "/vsizip/" + path
		}
		args := []string{"-f", "CSV", out, src, "-lco", "GEOMETRY=AS_XY"}
		if ext == ".xlsx" {
			args = append([]string{"--config", "OGR_XLSX_HEADERS", "FORCE", "--config", "OGR_XLSX_FIELD_TYPES", "STRING"}, args...)
		} else {
			// Points of a spatial file come out in WGS84, from the file's own system or the one given.
			args = append(args, "-t_srs", "EPSG:4326")
			if crs.EPSG != 0 && !crs.Local() {
				args = append(args, "-s_srs", fmt.Sprintf("EPSG:%d", crs.EPSG))
			}
			if enc != "" {
				args = append([]string{"--config", "SHAPE_ENCODING", enc}, args...)
			}
			crs = geo.CRS{} // converted: nothing left to do but for GCJ-02/BD-09, handled below
			if c, _ := geo.ParseCRS(opt.CRS); c.Local() {
				crs = c
				args = args[:len(args)-2] // GDAL does not know GCJ-02: keep the numbers, convert in Go
			}
		}
		if _, err := e.runGDAL(ctx, e.cfg.Ogr2ogr, args...); err != nil {
			return nil, invalidFile(name, err)
		}
		if data, err = os.ReadFile(out); err != nil {
			return nil, err
		}
		enc = "utf-8"
	default:
		return nil, gridline.Errorf(gridline.EInvalid, "an address file is .csv, .xlsx, .geojson, .gpkg, .shp (with its parts) or .zip, not %s", name)
	}
	names := map[string][]string{}
	for k, v := range addressColumns {
		names[k] = v
		if col, ok := opt.Mapping.Fields[k]; ok {
			names[k] = append([]string{col}, v...)
		}
	}
	for k := range opt.Mapping.Fields {
		if _, ok := addressColumns[k]; !ok {
			return nil, gridline.Errorf(gridline.EInvalid, "mapping names %q, which is not an address attribute (province, city, district, subdistrict, community, road, door, compound, building, unit, floor, room, building_code, households, lon, lat, valid_from, valid_to, provenance)", gridline.Excerpt(k)).With("field", "mapping")
		}
	}
	var rows []gridline.Address
	var lines []int
	var problems []store.ImportProblem
	readProblems, err := readList("address file", "road, door, building, unit, lon, lat ...", data, enc, names, []string{"lon", "lat"}, func(line int, get func(string) string) {
		bad := func(field, format string, args ...any) {
			problems = append(problems, store.ImportProblem{Index: line, Line: true, Field: field, Message: fmt.Sprintf(format, args...)})
		}
		a := gridline.Address{Province: get("province"), City: get("city"), District: get("district"), Subdistrict: get("subdistrict"),
			Community: get("community"), Road: get("road"), Door: address.NumberPart(get("door")), Compound: get("compound"),
			Building: address.NumberPart(get("building")), Unit: address.NumberPart(get("unit")), Floor: address.NumberPart(get("floor")),
			Room: address.NumberPart(get("room")), BuildingCode: get("building_code"), Provenance: get("provenance"), ValidFrom: opt.From}
		if a.Provenance == "" {
			a.Provenance = gridline.ProvenanceReal
		}
		n := len(problems)
		num := func(field string) float64 {
			v := strings.TrimSpace(get(field))
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				bad(field, "%s %q is not a number", field, gridline.Excerpt(v))
			}
			return f
		}
		a.Lon, a.Lat = num("lon"), num("lat")
		if v := strings.TrimSpace(get("households")); v != "" {
			h, err := strconv.Atoi(v)
			if err != nil {
				bad("households", "households %q is not a whole number", gridline.Excerpt(v))
			}
			a.Households = h
		}
		if v := get("valid_from"); v != "" {
			if a.ValidFrom, err = gridline.ParseDate("valid_from", strings.ReplaceAll(v, "/", "-")); err != nil {
				bad("valid_from", "%s", gridline.ErrorMessage(err))
			}
		}
		if v := get("valid_to"); v != "" {
			to, err := gridline.ParseDate("valid_to", strings.ReplaceAll(v, "/", "-"))
			if err != nil {
				bad("valid_to", "%s", gridline.ErrorMessage(err))
			}
			a.ValidTo = &to
		}
		if len(problems) > n {
			return
		}
		if crs.Local() {
			a.Lon, a.Lat = crs.ToWGS84(a.Lon, a.Lat)
		}
		rows = append(rows, a)
		lines = append(lines, line)
	})
	if err != nil {
		return nil, err
	}
	// EPSG systems of a table (CSV, XLSX) go through PostGIS, all at once.
	if crs.EPSG != 0 && !crs.Local() && crs.EPSG != 4326 && crs.EPSG != 4490 && len(rows) > 0 {
		xs, ys := make([]float64, len(rows)), make([]float64, len(rows))
		for i := range rows {
			xs[i], ys[i] = rows[i].Lon, rows[i].Lat
		}
		lon, lat, err := e.db.Transform(ctx, crs.EPSG, xs, ys)
		if err != nil {
			return nil, err
		}
		for i := range rows {
			rows[i].Lon, rows[i].Lat = lon[i], lat[i]
		}
	}
	// What the rows say on their own, once their points are WGS84.
	kept, keptLines := rows[:0], lines[:0]
	for i := range rows {
		if err := rows[i].Validate(); err != nil {
			var field string
			var ge *gridline.Error
			if errors.As(err, &ge) {
				field, _ = ge.Details["field"].(string)
			}
			problems = append(problems, store.ImportProblem{Index: lines[i], Line: true, Field: field, Message: gridline.ErrorMessage(err)})
			continue
		}
		kept, keptLines = append(kept, rows[i]), append(keptLines, lines[i])
	}
	problems = append(readProblems, problems...)
	rep := &AddressReport{File: name, CRS: crsName(crs)}
	if len(problems) > 0 {
		rep.AddressImport = &store.AddressImport{Rows: len(rows) + len(readProblems), Problems: problems}
		rep.ProblemCount = len(problems)
		if len(problems) > 1000 {
			rep.Problems = problems[:1000]
		}
		return rep, nil
	}
	ai, err := e.db.ImportAddresses(ctx, kept, keptLines, opt.Apply)
	if err != nil {
		return nil, err
	}
	rep.AddressImport, rep.ProblemCount, rep.Valid = ai, len(ai.Problems), len(ai.Problems) == 0
	return rep, nil
}

func crsName(c geo.CRS) string {
	if c.Name == "" {
		return "EPSG:4326"
	}
	return c.Name
}
