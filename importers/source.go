package importers

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"

	"gridline.dev/gridline"
)

// source is a file made ready for ogr2ogr.
type source struct {
	name     string   // the file as the user named it, for messages
	path     string   // what GDAL opens
	format   string   // geojson, topojson, shapefile, gpkg, kml, kmz, csv, fgb
	openOpts []string // -oo NAME=VALUE
	encoding string   // attribute encoding used: UTF-8 or GB18030 (shapefile, csv)
	hasSRS   bool     // whether the file says its coordinate system
	// encoded is why the file's geometries cannot be read though it has them, or "": GeoJSON with
	// ECharts' encoded coordinates (strings, not numbers), which GDAL reads as no geometry.
	encoded string
}

// formatOf maps extensions to formats; a .zip is opened and its contents looked at.
var formatOf = map[string]string{
	".shp": "shapefile", ".gpkg": "gpkg", ".geojson": "geojson", ".json": "geojson", ".topojson": "topojson",
	".kml": "kml", ".kmz": "kmz", ".csv": "csv", ".fgb": "fgb",
}

// Formats lists the formats Import reads.
var Formats = []string{"geojson", "topojson", "shapefile", "gpkg", "kml", "kmz", "csv", "fgb"}

// normEncoding names an attribute encoding the way GDAL's iconv wants it. GBK and GB2312 files
// are read as GB18030, which contains both.
func normEncoding(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return "", nil
	case "utf-8", "utf8", "65001":
		return "UTF-8", nil
	case "gbk", "cp936", "936", "gb2312", "gb18030", "ansi 936":
		return "GB18030", nil
	}
	return "", gridline.Errorf(gridline.EInvalid, "encoding %q is not one of utf-8, gbk, gb18030", gridline.Excerpt(s)).With("field", "encoding")
}

// prepare finds the dataset among paths (one file, a .zip, or the loose files of a Shapefile),
// unpacks and checks it, and works out its encoding and open options.
func (e *Engine) prepare(ctx context.Context, paths []string, opt Options, work string) (*source, error) {
	if len(paths) == 0 {
		return nil, gridline.Errorf(gridline.EInvalid, "no file to import")
	}
	var total int64
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, gridline.Errorf(gridline.EInvalid, "cannot read %s: %s", filepath.Base(p), gdalMessage(err.Error()))
		}
		if st.IsDir() {
			return nil, gridline.Errorf(gridline.EInvalid, "%s is a directory: give the dataset's files, or a .zip of them", filepath.Base(p))
		}
		total += st.Size()
	}
	if total > e.cfg.MaxBytes {
		return nil, gridline.Errorf(gridline.ETooLarge, "the files add up to %d bytes, over the import limit of %d bytes", total, e.cfg.MaxBytes).With("limit", e.cfg.MaxBytes)
	}
	files := paths
	if len(paths) == 1 && strings.EqualFold(filepath.Ext(paths[0]), ".zip") {
		var err error
		if files, err = e.unzip(paths[0], filepath.Join(work, "unzipped")); err != nil {
			return nil, err
		}
	}
	// The dataset is the one file whose extension names a format; a Shapefile's .shx, .dbf,
	// .prj and .cpg ride along.
	var candidates []string
	for _, f := range files {
		if _, ok := formatOf[strings.ToLower(filepath.Ext(f))]; ok {
			candidates = append(candidates, f)
		}
	}
	if opt.Format != "" && len(files) == 1 {
		candidates = files
	}
	switch {
	case len(candidates) == 0:
		return nil, gridline.Errorf(gridline.EInvalid, "found no dataset in %s: expected one of .geojson, .topojson, .shp (with .shx and .dbf), .gpkg, .kml, .kmz, .csv, .fgb, or a .zip of one", names(paths))
	case len(candidates) > 1:
		// One short sentence, however many files: an import reads one dataset.
		return nil, gridline.Errorf(gridline.EInvalid, "%d datasets were given (%s): an import reads one; import them one at a time, or merge them into one file first (e.g. ogrmerge.py -single -o all.gpkg FILES)", len(candidates), names(candidates)).With("datasets", len(candidates))
	}
	s := &source{path: candidates[0], name: filepath.Base(candidates[0]), format: formatOf[strings.ToLower(filepath.Ext(candidates[0]))]}
	if opt.Format != "" {
		f := strings.ToLower(opt.Format)
		if f == "shp" {
			f = "shapefile"
		}
		if !contains(Formats, f) {
			return nil, gridline.Errorf(gridline.EInvalid, "format %q is not one of %s", gridline.Excerpt(opt.Format), strings.Join(Formats, ", ")).With("field", "format")
		}
		s.format = f
	}
	enc, err := normEncoding(opt.Encoding)
	if err != nil {
		return nil, err
	}
	switch s.format {
	case "shapefile":
		err = e.prepareShapefile(ctx, s, enc)
	case "csv":
		err = prepareCSV(s, enc, work)
	case "geojson", "topojson":
		err = checkUTF8File(s)
		// GeoJSON is WGS84 unless it says otherwise; GDAL gives TopoJSON no system at all, and it
		// is taken as WGS84 like any file that does not say.
		s.hasSRS = s.format == "geojson"
	case "kml":
		s.hasSRS = true
	case "kmz":
		s.hasSRS = true
		err = e.prepareKMZ(s, work)
	default:
		s.hasSRS = true
	}
	return s, err
}

// names lists the files' base names, the first three and how many more.
func names(paths []string) string {
	var out []string
	for i, p := range paths {
		if i == 3 && len(paths) > 4 {
			out = append(out, fmt.Sprintf("and %d more", len(paths)-3))
			break
		}
		out = append(out, filepath.Base(p))
	}
	return strings.Join(out, ", ")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// unzip extracts a zip's files, flattened to their base names, refusing archives that would
// unpack to more than four times the import limit or hold more than 1000 files.
func (e *Engine) unzip(path, dir string) ([]string, error) {
	name := filepath.Base(path)
	bad := func(err error) error {
		return gridline.Errorf(gridline.EInvalid, "%s is not a readable zip archive (it may be truncated or damaged): %s", name, gdalMessage(err.Error())).With("file", name)
	}
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, bad(err)
	}
	defer zr.Close()
	if len(zr.File) > 1000 {
		return nil, gridline.Errorf(gridline.EInvalid, "%s holds %d files; a dataset needs a handful", name, len(zr.File))
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	budget := 4 * e.cfg.MaxBytes
	var out []string
	for _, f := range zr.File {
		base := filepath.Base(strings.ReplaceAll(f.Name, `\`, "/"))
		if f.FileInfo().IsDir() || strings.HasPrefix(f.Name, "__MACOSX") || strings.HasPrefix(base, ".") || base == "" {
			continue
		}
		dst := filepath.Join(dir, base)
		if contains(out, dst) {
			return nil, gridline.Errorf(gridline.EInvalid, "%s holds two files named %s: import one dataset at a time", name, base)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, bad(err)
		}
		w, err := os.Create(dst)
		if err != nil {
			rc.Close()
			return nil, err
		}
		n, err := io.Copy(w, io.LimitReader(rc, budget+1))
		rc.Close()
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, bad(err)
		}
		budget -= n
		if budget < 0 {
			return nil, gridline.Errorf(gridline.ETooLarge, "%s unpacks to more than %d bytes", name, 4*e.cfg.MaxBytes).With("limit", 4*e.cfg.MaxBytes)
		}
		out = append(out, dst)
	}
	sort.Strings(out)
	return out, nil
}

// prepareKMZ unpacks a KMZ (a zip of a KML, doc.kml by convention, and its images) and points
// s at the KML inside. GDAL reads a KMZ itself, but its LIBKML driver then ignores the schema
// that names the KML's ExtendedData fields, so that code, level and the rest would be lost.
func (e *Engine) prepareKMZ(s *source, work string) error {
	files, err := e.unzip(s.path, filepath.Join(work, "kmz"))
	if err != nil {
		return err
	}
	var kmls []string
	for _, f := range files {
		if strings.EqualFold(filepath.Ext(f), ".kml") {
			kmls = append(kmls, f)
		}
	}
	for _, f := range kmls {
		if strings.EqualFold(filepath.Base(f), "doc.kml") {
			s.path = f
			return nil
		}
	}
	switch len(kmls) {
	case 0:
		return gridline.Errorf(gridline.EInvalid, "%s holds no .kml file: a KMZ is a zip of one (doc.kml)", s.name).With("file", s.name)
	case 1:
		s.path = kmls[0]
		return nil
	}
	return gridline.Errorf(gridline.EInvalid, "%s holds %d .kml files and no doc.kml: import them one at a time", s.name, len(kmls)).With("file", s.name)
}

// sibling finds the file with the same base name as path and extension ext, in any case.
func sibling(path, ext string) string {
	stem := strings.TrimSuffix(path, filepath.Ext(path))
	for _, e := range []string{strings.ToLower(ext), strings.ToUpper(ext)} {
		if _, err := os.Stat(stem + e); err == nil {
			return stem + e
		}
	}
	return ""
}

// prepareShapefile checks that the parts are there and readable, and settles the encoding of the
// attribute table: the one given, else the .cpg's, else UTF-8 when the text is valid UTF-8 and GBK
// when it is not (a Chinese district's files are one or the other; a .dbf header's language id is
// too often wrong to trust). A UTF-8 claim that the text contradicts is refused.
func (e *Engine) prepareShapefile(ctx context.Context, s *source, enc string) error {
	for _, ext := range []string{".shx", ".dbf"} {
		if sibling(s.path, ext) == "" {
			return gridline.Errorf(gridline.EInvalid, "the Shapefile %s has no %s file: a Shapefile is at least .shp, .shx and .dbf with the same name (send them together, or as one .zip)", s.name, ext).With("file", s.name)
		}
	}
	if prj := sibling(s.path, ".prj"); prj != "" {
		if _, err := e.runGDAL(ctx, e.cfg.GDALSRSInfo, "-o", "wkt1", prj); err != nil {
			var ge *gdalError
			if errors.As(err, &ge) {
				return gridline.Errorf(gridline.EInvalid, "GDAL cannot read the coordinate system in %s (%s): fix or delete the .prj, or give the system with crs (e.g. EPSG:4547)", filepath.Base(prj), gdalMessage(ge.msg)).With("file", filepath.Base(prj))
			}
			return err
		}
		s.hasSRS = true
	}
	given := "given"
	if enc == "" {
		given = "named in the .cpg"
		if cpg := sibling(s.path, ".cpg"); cpg != "" {
			b, err := os.ReadFile(cpg)
			if err != nil {
				return err
			}
			if enc, err = normEncoding(string(b)); err != nil {
				return gridline.Errorf(gridline.EInvalid, "the .cpg of %s names encoding %q, which is not one of UTF-8, GBK, GB18030: give the encoding", s.name, gridline.Excerpt(strings.TrimSpace(string(b))))
			}
		}
	}
	text, err := dbfText(sibling(s.path, ".dbf"))
	if err != nil {
		return gridline.Errorf(gridline.EInvalid, "cannot read the attribute table of %s: %s", s.name, gdalMessage(err.Error())).With("file", s.name)
	}
	switch {
	case enc == "":
		enc = "UTF-8"
		if text.invalidRecord > 0 {
			enc = "GB18030"
		}
	case enc == "UTF-8" && text.invalidRecord > 0:
		return gridline.Errorf(gridline.EInvalid, "the attributes of %s are not UTF-8 as %s (feature %d is the first that is not): the file is probably GBK; give encoding=gbk",
			s.name, given, text.invalidRecord).With("field", "encoding").With("index", text.invalidRecord)
	case enc == "GB18030" && text.invalidRecord == 0 && text.nonASCII:
		return gridline.Errorf(gridline.EInvalid, "the attributes of %s are UTF-8, but encoding GBK was %s: give encoding=utf-8 (or no encoding) so that names are not garbled", s.name, given).With("field", "encoding")
	}
	s.encoding = enc
	s.openOpts = append(s.openOpts, "ENCODING="+enc)
	return nil
}

// dbfStats is what dbfText learns about a .dbf's character fields.
type dbfStats struct {
	invalidRecord int  // the first record (from 1) whose text is not UTF-8, 0 if none
	nonASCII      bool // whether any text is outside ASCII
}

// dbfText reads the character fields of a dBASE file, which is simple enough to walk here: GDAL
// would recode the text before anyone could see whether the encoding was right.
func dbfText(path string) (dbfStats, error) {
	var st dbfStats
	b, err := os.ReadFile(path)
	if err != nil {
		return st, err
	}
	if len(b) < 32 {
		return st, errors.New("the .dbf is shorter than its header")
	}
	nrec := int(binary.LittleEndian.Uint32(b[4:8]))
	hlen := int(binary.LittleEndian.Uint16(b[8:10]))
	rlen := int(binary.LittleEndian.Uint16(b[10:12]))
	if hlen < 33 || hlen > len(b) || rlen < 1 {
		return st, errors.New("the .dbf header is damaged")
	}
	type field struct{ off, n int }
	var fields []field
	off := 1 // the deletion flag
	for p := 32; p+32 <= hlen && b[p] != 0x0d; p += 32 {
		n := int(b[p+16])
		if b[p+11] == 'C' {
			fields = append(fields, field{off, n})
		}
		off += n
	}
	if off > rlen {
		return st, errors.New("the .dbf fields are longer than its records")
	}
	for r := 0; r < nrec; r++ {
		start := hlen + r*rlen
		if start+rlen > len(b) {
			return st, fmt.Errorf("the .dbf is truncated: it should hold %d records and holds %d", nrec, r)
		}
		for _, f := range fields {
			v := bytes.TrimRight(b[start+f.off:start+f.off+f.n], " \x00")
			for _, c := range v {
				if c >= 0x80 {
					st.nonASCII = true
					break
				}
			}
			if st.invalidRecord == 0 && !utf8.Valid(v) {
				st.invalidRecord = r + 1
			}
		}
	}
	return st, nil
}

// prepareCSV settles a CSV's encoding, recoding GBK to UTF-8 for GDAL, and tells GDAL where the
// geometry is: a WKT column, or lon/lat columns.
func prepareCSV(s *source, enc, work string) error {
	b, err := os.ReadFile(s.path)
	if err != nil {
		return err
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	valid := utf8.Valid(b)
	switch {
	case enc == "" && valid, enc == "UTF-8" && valid:
		enc = "UTF-8"
	case enc == "UTF-8":
		return gridline.Errorf(gridline.EInvalid, "%s is not UTF-8 text: it is probably GBK (as Excel saves CSV on Chinese Windows); give encoding=gbk", s.name).With("field", "encoding")
	default:
		if enc == "GB18030" && valid && !isASCII(b) {
			return gridline.Errorf(gridline.EInvalid, "%s is UTF-8 text, but encoding GBK was given: give encoding=utf-8 (or none)", s.name).With("field", "encoding")
		}
		enc = "GB18030"
		if b, err = simplifiedchinese.GB18030.NewDecoder().Bytes(b); err != nil {
			return gridline.Errorf(gridline.EInvalid, "%s is neither UTF-8 nor GBK text: %s", s.name, gdalMessage(err.Error())).With("field", "encoding")
		}
	}
	// GDAL picks the driver by extension; the recoded copy keeps it.
	p := filepath.Join(work, "utf8.csv")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		return err
	}
	s.path, s.encoding = p, enc
	s.openOpts = append(s.openOpts, "AUTODETECT_TYPE=NO", "EMPTY_STRING_AS_NULL=YES", "KEEP_GEOM_COLUMNS=NO",
		"GEOM_POSSIBLE_NAMES=wkt,geometry,geom,the_geom,shape",
		"X_POSSIBLE_NAMES=lon,lng,longitude,x,经度", "Y_POSSIBLE_NAMES=lat,latitude,y,纬度")
	return nil
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// checkUTF8File refuses GeoJSON that is not UTF-8, which RFC 7946 requires: GDAL would replace
// the bad bytes and the names would be lost without a word.
//
// The file is read a block at a time, never whole: it may be as large as the upload limit.
func checkUTF8File(s *source) error {
	f, err := os.Open(s.path)
	if err != nil {
		return err
	}
	defer f.Close()
	ok, err := validUTF8(f)
	if err != nil {
		return err
	}
	if !ok {
		return gridline.Errorf(gridline.EInvalid, "%s is not UTF-8 text, which GeoJSON must be: convert it (e.g. iconv -f GBK -t UTF-8)", s.name).With("field", "encoding")
	}
	head, encoded, err := scanJSON(s.path, 64<<10, []byte(`"UTF8Encoding"`), []byte(`"encodeOffsets"`))
	if err != nil {
		return err
	}
	if s.format == "geojson" && bytes.Contains(head, []byte(`"Topology"`)) && bytes.Contains(head, []byte(`"arcs"`)) {
		s.format = "topojson"
	}
	if encoded {
		s.encoded = "its coordinates are in the encoded form of ECharts map files (\"UTF8Encoding\": strings with encodeOffsets, not GeoJSON numbers): decode the file first (ECharts' decode, or the same map as plain GeoJSON)"
	}
	return nil
}

// scanJSON reads the file at path a block at a time, never whole: it returns its first headBytes
// bytes, and whether any of needles occurs anywhere in it (blocks overlap by the longest needle,
// so one cut by a block's end is still found).
func scanJSON(path string, headBytes int, needles ...[]byte) (head []byte, found bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	longest := 0
	for _, n := range needles {
		longest = max(longest, len(n))
	}
	buf := make([]byte, 64<<10+longest)
	carry := 0
	for {
		n, rerr := f.Read(buf[carry:])
		b := buf[:carry+n]
		if len(head) < headBytes {
			take := min(headBytes-len(head), n)
			head = append(head, buf[carry:carry+take]...)
		}
		for _, nd := range needles {
			if bytes.Contains(b, nd) {
				found = true
			}
		}
		if rerr == io.EOF || found {
			return head, found, nil
		}
		if rerr != nil {
			return nil, false, rerr
		}
		carry = min(longest-1, len(b))
		copy(buf, b[len(b)-carry:])
	}
}

// validUTF8 tells whether all of r is UTF-8, reading it in 64 KiB blocks. A character cut by the
// end of a block is carried into the next.
func validUTF8(r io.Reader) (bool, error) {
	buf := make([]byte, 64<<10)
	carry := 0
	for {
		n, err := r.Read(buf[carry:])
		b := buf[:carry+n]
		// Keep back an incomplete character at the end (at most utf8.UTFMax-1 bytes).
		keep := 0
		for k := 1; k < utf8.UTFMax && k <= len(b); k++ {
			c := b[len(b)-k]
			if c < utf8.RuneSelf {
				break // ASCII: nothing is cut
			}
			if utf8.RuneStart(c) {
				if !utf8.FullRune(b[len(b)-k:]) {
					keep = k
				}
				break
			}
		}
		if err == io.EOF {
			return utf8.Valid(b), nil
		}
		if err != nil {
			return false, err
		}
		if !utf8.Valid(b[:len(b)-keep]) {
			return false, nil
		}
		carry = copy(buf, b[len(b)-keep:])
	}
}
