package api_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"gridline.dev/gridline"
	"gridline.dev/gridline/internal/testenv"
)

// TestBadInputTable: the cases of docs/api.md's error table that issue #10 found answered 500 or
// with internal text, each with the status, code and words the client gets.
func TestBadInputTable(t *testing.T) {
	testenv.NeedCommands(t, "gdal-bin", "ogr2ogr")
	h := newServer(t)
	cases := []struct {
		name, method, target string
		status               int
		code, says           string
	}{
		{"grids before the first date", "GET", "/v1/grids?at=0001-01-01", 400, gridline.EInvalidDate, "1900-01-01 to 9999-12-30"},
		{"grids after the last date", "GET", "/v1/grids?at=9999-12-31", 400, gridline.EInvalidDate, "outside the dates"},
		{"resolve at the zero date", "GET", "/v1/resolve?lon=113.6&lat=34.7&at=0001-01-01", 400, gridline.EInvalidDate, "outside the dates"},
		{"export at the zero date", "GET", "/v1/exports?format=geojson&at=0001-01-01", 400, gridline.EInvalidDate, "outside the dates"},
		{"ogc instant at the zero date", "GET", "/ogc/collections/comprehensive-grid/items?datetime=0001-01-01T00:00:00Z", 400, gridline.EInvalidDate, "outside the dates"},
		{"ogc interval from the zero date", "GET", "/ogc/collections/comprehensive-grid/items?datetime=0001-01-01/..", 400, gridline.EInvalidDate, "outside the dates"},
		{"export to an unknown EPSG code", "GET", "/v1/exports?format=geojson&crs=EPSG:999999", 400, gridline.EInvalidCRS, "EPSG:999999 is not a coordinate system"},
		{"export to EPSG:4", "GET", "/v1/exports?format=geojson&crs=EPSG:4", 400, gridline.EInvalidCRS, "EPSG:4 "},
		{"export to EPSG:32767", "GET", "/v1/exports?format=geojson&crs=EPSG:32767", 400, gridline.EInvalidCRS, "EPSG:32767 "},
		{"resolve a point PROJ cannot transform", "GET", "/v1/resolve?lon=1e300&lat=1e300&crs=EPSG:4547", 400, gridline.EInvalidCoord, "outside the area"},
		{"HEAD of a resolve", "HEAD", "/v1/resolve?lon=113.6055&lat=34.7055", 200, "", ""},
		{"POST to the OGC landing page", "POST", "/ogc", 405, gridline.EMethodNotAllowed, "POST is not allowed on /ogc"},
		{"POST to OGC items", "POST", "/ogc/collections/comprehensive-grid/items", 405, gridline.EMethodNotAllowed, "POST is not allowed"},
		{"DELETE of a grid", "DELETE", "/v1/grids/410103", 405, gridline.EMethodNotAllowed, "DELETE is not allowed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.target, nil)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			var e struct{ Error *gridline.Error }
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body.String())
			}
			if tc.code == "" {
				return
			}
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error == nil || e.Error.Code != tc.code || !strings.Contains(e.Error.Message, tc.says) {
				t.Fatalf("answer %s, want code %s saying %q", w.Body.String(), tc.code, tc.says)
			}
			// Nothing internal: no SQLSTATE, no server path, no Go type.
			for _, leak := range []string{"SQLSTATE", "/tmp/", "Go value", "staging."} {
				if strings.Contains(e.Error.Message, leak) {
					t.Fatalf("the message shows %q: %s", leak, e.Error.Message)
				}
			}
		})
	}
}
