package api

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/importers"
	"gridline.dev/gridline/internal/testenv"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/store/storetest"
	"gridline.dev/gridline/tiles"
)

// importServer is the API over a fixture database with a small import limit, and a write token.
func importServer(t *testing.T) (*httptest.Server, *store.DB, string) {
	t.Helper()
	testenv.NeedCommands(t, "gdal-bin", "ogr2ogr")
	db := storetest.New(t)
	ctx := context.Background()
	if err := db.Load(ctx, storetest.Fixture(), store.DefaultTolerance); err != nil {
		t.Fatal(err)
	}
	token := storetest.Token(t, db, "importer", storetest.Everywhere(accounts.Planner), storetest.Everywhere(accounts.Supervisor))
	res := resolve.NewIncremental(fixtureStore{}, gridline.SystemClock{}, shanghai(t))
	srv := wire(db, res, nil, Options{}, tiles.Options{}, importers.Config{MaxBytes: 2000})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts, db, token
}

func postForm(t *testing.T, url, token string, fields map[string]string, fileName string, content []byte) (int, map[string]any) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if fileName != "" {
		w, _ := mw.CreateFormFile("file", fileName)
		w.Write(content)
	}
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, url, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

func errorCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func TestImportRequests(t *testing.T) {
	ts, db, token := importServer(t)
	ctx := context.Background()
	before, _ := db.CountGrids(ctx)
	big := []byte(`{"type":"FeatureCollection","features":[]}` + strings.Repeat(" ", 5000))
	cases := []struct {
		name     string
		fields   map[string]string
		file     string
		content  []byte
		status   int
		code     string
		contains string
	}{
		{"over the size limit", map[string]string{"apply": "true"}, "big.geojson", big, 413, "too_large", "import limit of 2000 bytes"},
		{"no file", map[string]string{"apply": "true"}, "", nil, 400, "invalid_request", "part named file"},
		{"contradicting options", map[string]string{"apply": "true", "dry_run": "true"}, "a.geojson", []byte("{}"), 400, "invalid_request", "contradict"},
		{"bad date", map[string]string{"from": "2025-13-01"}, "a.geojson", []byte("{}"), 400, "invalid_date", "from"},
		{"bad mapping", map[string]string{"mapping": `{"fields":{"colour":"x"}}`}, "a.geojson", []byte("{}"), 400, "invalid_request", "not an attribute"},
		{"unknown crs", map[string]string{"crs": "mars"}, "a.geojson", []byte(`{"type":"FeatureCollection","features":[]}`), 400, "unknown_crs", "mars"},
		{"not a dataset", nil, "notes.txt", []byte("hello"), 400, "invalid_request", "found no dataset"},
		{"hidden file name", nil, ".a.geojson", []byte("{}"), 400, "invalid_request", "not usable"},
		// GDAL's words about a broken file, without server paths, its driver list or staging tables.
		{"random bytes as FlatGeobuf", nil, "random.fgb", []byte("\x01\x02not a flatgeobuf"), 400, "invalid_request", "random.fgb: it is not in a format GDAL reads"},
		{"truncated FlatGeobuf", nil, "trunc.fgb", []byte("fgb\x03fgb\x00\x10\x00\x00"), 400, "invalid_request", "GDAL cannot read trunc.fgb: Failed to read header"},
		{"broken GeoJSON", nil, "x.geojson", []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[1`), 400, "invalid_request", "x.geojson: At line 1"},
		{"broken KML", nil, "x.kml", []byte("<kml><Document>"), 400, "invalid_request", "parsing kml x.kml"},
		{"broken GeoPackage", nil, "x.gpkg", []byte("SQLite format 3\x00garbage"), 400, "invalid_request", "x.gpkg: it is damaged"},
		// NaN, infinity or a huge tolerance would switch the containment rule off.
		{"tolerance NaN", map[string]string{"tolerance": "NaN", "apply": "true"}, "a.geojson", []byte("{}"), 400, "invalid_request", "from 0 to 10000"},
		{"tolerance infinite", map[string]string{"tolerance": "+Inf", "apply": "true"}, "a.geojson", []byte("{}"), 400, "invalid_request", "from 0 to 10000"},
		{"tolerance 1e308", map[string]string{"tolerance": "1e308", "apply": "true"}, "a.geojson", []byte("{}"), 400, "invalid_request", "from 0 to 10000"},
		{"tolerance negative", map[string]string{"tolerance": "-1", "apply": "true"}, "a.geojson", []byte("{}"), 400, "invalid_request", "from 0 to 10000"},
		{"tolerance not a number", map[string]string{"tolerance": "x", "apply": "true"}, "a.geojson", []byte("{}"), 400, "invalid_request", "from 0 to 10000"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := postForm(t, ts.URL+"/v1/imports", token, tc.fields, tc.file, tc.content)
			e, _ := body["error"].(map[string]any)
			msg, _ := e["message"].(string)
			if status != tc.status || errorCode(body) != tc.code || !strings.Contains(msg, tc.contains) {
				t.Fatalf("got %d %v, want %d %s containing %q", status, body, tc.status, tc.code, tc.contains)
			}
			for _, leak := range []string{"/tmp", "gridline-upload-", "->", "staging", "SQLSTATE", "drivers"} {
				if strings.Contains(msg, leak) {
					t.Fatalf("the message shows %q: %s", leak, msg)
				}
			}
			if n, _ := db.CountGrids(ctx); n != before {
				t.Fatalf("%d grid versions, had %d", n, before)
			}
		})
	}
}

func TestExportRequests(t *testing.T) {
	ts, _, token := importServer(t)
	for _, tc := range []struct {
		query  string
		status int
		code   string
	}{
		{"format=dwg", 400, "invalid_request"},
		{"format=gpkg&crs=mars", 400, "unknown_crs"},
		{"format=gpkg&level=street", 400, "invalid_request"},
		{"format=geojson&encoding=gbk", 400, "invalid_request"},
		{"format=gpkg&at=2025-02-30", 400, "invalid_date"},
	} {
		resp, err := getAs(ts.URL+"/v1/exports?"+tc.query, token)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || errorCode(body) != tc.code {
			t.Errorf("%s: %d %v, want %d %s", tc.query, resp.StatusCode, body, tc.status, tc.code)
		}
	}
	// An export is a read: anonymous callers may export what /ogc already shows them (unless the
	// deployment asks everyone to sign in to read, which TestSignInToRead covers for every read).
	if resp, err := http.Get(ts.URL + "/v1/exports?format=geojson"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("anonymous export: %v %v, want 200", resp, err)
	} else {
		resp.Body.Close()
	}
	// A real export: GeoJSON of the police layer in GCJ-02.
	resp, err := getAs(ts.URL+"/v1/exports?format=geojson&layer=police&at=2025-01-01&crs=gcj02", token)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var fc struct {
		Features []struct {
			Properties map[string]any `json:"properties"`
		} `json:"features"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&fc); err != nil || resp.StatusCode != 200 || len(fc.Features) != 2 ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "grids-police-2025-01-01.geojson") {
		t.Fatalf("%d %v %v %s", resp.StatusCode, err, fc, resp.Header.Get("Content-Disposition"))
	}
}

// getAs is a GET with an API token.
func getAs(url, token string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return http.DefaultClient.Do(req)
}
