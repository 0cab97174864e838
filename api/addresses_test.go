package api

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/address"
	"gridline.dev/gridline/importers"
	"gridline.dev/gridline/internal/testenv"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/store/storetest"
	"gridline.dev/gridline/tiles"
)

func fixtureRow(sub, comm, road, door, bld, unit string, hh int, lon, lat float64) gridline.Address {
	return gridline.Address{Province: "河南省", City: "郑州市", District: "二七区", Subdistrict: sub, Community: comm, Road: road, Door: door,
		Building: bld, Unit: unit, Households: hh, Lon: lon, Lat: lat, ValidFrom: storetest.FixtureFrom, Provenance: gridline.ProvenanceSynthetic}
}

// addressServer is the API over the fixture database with a small register: 淮北街 12号 in basic
// grid 410103001001001 (micro 410103001001001001), 兴华街 8号 in 410103001002001.
func addressServer(t *testing.T) (*httptest.Server, *store.DB, *address.Register) {
	t.Helper()
	db := storetest.New(t)
	ctx := context.Background()
	if err := db.Load(ctx, storetest.Fixture(), store.DefaultTolerance); err != nil {
		t.Fatal(err)
	}
	rows := []gridline.Address{
		fixtureRow("淮河路街道", "淮北街社区", "淮北街", "12", "", "", 0, 113.6050, 34.7050),
		fixtureRow("淮河路街道", "淮北街社区", "淮北街", "12", "3", "", 0, 113.6052, 34.7052),
		fixtureRow("淮河路街道", "淮北街社区", "淮北街", "12", "3", "2", 24, 113.6052, 34.7052),
		fixtureRow("淮河路街道", "兴华街社区", "兴华街", "8", "1", "1", 12, 113.6100, 34.7300),
	}
	if err := db.LoadAddresses(ctx, rows); err != nil {
		t.Fatal(err)
	}
	reg := address.NewRegister(db)
	if err := reg.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	res := resolve.NewIncremental(fixtureStore{}, gridline.SystemClock{}, shanghai(t))
	if err := res.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	srv := wire(db, res, nil, Options{Addresses: reg, Accounts: accounts.New(db, accounts.Options{Now: func() time.Time { return time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC) }})}, tiles.Options{}, importers.Config{})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts, db, reg
}

func chainCodes(body map[string]any) []string {
	var out []string
	list, _ := body["chain"].([]any)
	for _, g := range list {
		out = append(out, g.(map[string]any)["code"].(string))
	}
	return out
}

func TestResolveAddress(t *testing.T) {
	ts, db, _ := addressServer(t)
	get := func(q string) (int, map[string]any) {
		return call(t, nil, "GET", ts.URL+"/v1/resolve?"+q, "", nil)
	}
	status, body := get("address=" + url.QueryEscape("郑州市二七区淮北街12号院3号楼2单元501"))
	a, _ := body["address"].(map[string]any)
	if status != 200 || a["resolved"] != true || a["precision"] != "unit" || a["confidence"].(float64) < address.Threshold {
		t.Fatalf("%d %v", status, body)
	}
	if codes := chainCodes(body); len(codes) != 5 || codes[3] != "410103001001001" || codes[4] != "410103001001001001" {
		t.Fatalf("chain %v", codes)
	}
	// 栋, Chinese numerals, no unit.
	_, body = get("address=" + url.QueryEscape("淮北街十二号三栋"))
	if a := body["address"].(map[string]any); a["precision"] != "building" || a["match"].(map[string]any)["grid"] != "410103001001001001" {
		t.Fatalf("%v", body)
	}
	// With a point in another grid: they disagree.
	_, body = get("address=" + url.QueryEscape("淮北街12号3号楼") + "&lon=113.63&lat=34.71")
	ag := body["address"].(map[string]any)["agreement"].(map[string]any)
	if ag["same_grid"] != false || ag["address_grid"] != "410103001001001001" && ag["level"] != "grid" {
		t.Fatalf("agreement %v", ag)
	}
	_, body = get("address=" + url.QueryEscape("淮北街12号3号楼") + "&lon=113.6051&lat=34.7051")
	if ag := body["address"].(map[string]any)["agreement"].(map[string]any); ag["same_grid"] != true {
		t.Fatalf("agreement %v", ag)
	}
	// A community only: the chain stops at the community.
	_, body = get("address=" + url.QueryEscape("兴华街社区"))
	if codes := chainCodes(body); len(codes) != 3 || codes[2] != "410103001002" {
		t.Fatalf("community: %v %v", codes, body["address"])
	}
	// Bad input: 200, unresolved, with why.
	for _, bad := range []string{"", "hello", "金水区花园路100号", strings.Repeat("淮", 4000), "\x01\x02\x7f", "淮北街\x00号"} {
		status, body := get("address=" + url.QueryEscape(bad))
		a, _ := body["address"].(map[string]any)
		if status != 200 || a == nil || (a["resolved"] == true && bad != "淮北街\x00号") || (a["resolved"] == false && a["reason"] == "") {
			t.Errorf("%q: %d %v", gridline.Excerpt(bad), status, body)
		}
	}
	// A wrong point with an address: refused like a point alone.
	if status, _ := get("address=x&lon=abc&lat=1"); status != 400 {
		t.Errorf("bad lon: %d", status)
	}

	// The register through the API: anonymous refused, a planner within their community allowed
	// and audited, outside refused; the new address resolves at once.
	in := map[string]any{"province": "河南省", "city": "郑州市", "district": "二七区", "subdistrict": "淮河路街道", "community": "淮北街社区",
		"road": "淮北街", "door": "20号", "building": "五", "unit": "1", "households": 10, "lon": 113.615, "lat": 34.701, "valid_from": "2024-06-01"}
	if status, _ := call(t, nil, "POST", ts.URL+"/v1/addresses", "", in); status != 401 {
		t.Fatalf("anonymous: %d", status)
	}
	tok := storetest.Token(t, db, "planner", storetest.Under(accounts.Planner, 4))
	status, body = call(t, nil, "POST", ts.URL+"/v1/addresses", tok, in)
	if status != 201 || body["building"] != "5" || body["door"] != "20" {
		t.Fatalf("create: %d %v", status, body)
	}
	id := int64(body["id"].(float64))
	_, body = get("address=" + url.QueryEscape("淮北街20号5号楼1单元"))
	if m := body["address"].(map[string]any)["match"].(map[string]any); int64(m["id"].(float64)) != id {
		t.Fatalf("new address not matched: %v", body)
	}
	out := map[string]any{"road": "建新街", "door": "1", "lon": 113.63, "lat": 34.71, "valid_from": "2024-06-01"}
	if status, body := call(t, nil, "POST", ts.URL+"/v1/addresses", tok, out); status != 403 {
		t.Fatalf("outside: %d %v", status, body)
	}
	if status, body := call(t, nil, "POST", ts.URL+"/v1/addresses", tok, map[string]any{"road": "淮北街", "lon": 113.615, "lat": 34.701}); status != 400 {
		t.Fatalf("no door: %d %v", status, body)
	}
	var n int
	storetest.Raw(t, db).QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action LIKE 'addresses.%'`).Scan(&n)
	if n != 1 {
		t.Fatalf("%d audit rows", n)
	}
	if status, body := call(t, nil, "GET", ts.URL+"/v1/addresses?road="+url.QueryEscape("淮北街"), "", nil); status != 200 || len(body["addresses"].([]any)) != 4 {
		t.Fatalf("list: %d %v", status, body)
	}
	if status, body := call(t, nil, "GET", ts.URL+"/v1/addresses/households?differing=true&at=2025-01-01", "", nil); status != 200 || len(body["grids"].([]any)) == 0 {
		t.Fatalf("households: %d %v", status, body)
	}
	if status, _ := call(t, nil, "DELETE", ts.URL+"/v1/addresses/"+strconv.FormatInt(id, 10), tok, nil); status != 204 {
		t.Fatalf("delete: %d", status)
	}

	// POST /v1/resolve: an address column in CSV, an address member in JSON, mixed with points.
	req, _ := http.NewRequest("POST", ts.URL+"/v1/resolve?out=csv", strings.NewReader("id,lon,lat,address\na,,,淮北街12号3栋2单元\nb,113.6051,34.7051,\nc,,,金水区花园路1号\n"))
	req.Header.Set("Content-Type", "text/csv")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	csvOut, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	lines := strings.Split(strings.TrimSpace(string(csvOut)), "\n")
	if resp.StatusCode != 200 || len(lines) != 4 || !strings.HasSuffix(lines[0], "address,precision,confidence") ||
		!strings.Contains(lines[1], "410103001001001001") || !strings.Contains(lines[1], ",unit,1") || !strings.Contains(lines[3], "not resolved") {
		t.Fatalf("csv batch: %d\n%s", resp.StatusCode, csvOut)
	}
	req, _ = http.NewRequest("POST", ts.URL+"/v1/resolve", strings.NewReader(`[{"id":1,"address":"淮北街十二号"},{"id":2,"lon":113.6051,"lat":34.7051},{"id":3,"address":""}]`))
	req.Header.Set("Content-Type", "application/json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	ndjson, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	lines = strings.Split(strings.TrimSpace(string(ndjson)), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], `"precision":"door"`) || !strings.Contains(lines[0], `"micro":"410103001001001001"`) ||
		strings.Contains(lines[1], `"address"`) || !strings.Contains(lines[2], "the address is empty") {
		t.Fatalf("json batch:\n%s", ndjson)
	}
}

// TestImportAddresses: what=addresses through POST /v1/imports: Chinese column names, GCJ-02
// coordinates, a dry run, problems by line and nothing written, then an apply.
func TestImportAddresses(t *testing.T) {
	testenv.NeedCommands(t, "gdal-bin", "ogr2ogr")
	ts, db, reg := addressServer(t)
	tok := storetest.Token(t, db, "admin2", storetest.Everywhere(accounts.Administrator))
	// 113.6155,34.7155 in WGS84 is about 113.6215,34.7145 in GCJ-02 here; the file gives WGS84
	// points (crs empty) first.
	good := "街道,社区,路,门牌号,楼栋,单元,户数,经度,纬度\n淮河路街道,淮北街社区,淮北街,30号,2号楼,1,18,113.6155,34.7055\n淮河路街道,淮北街社区,淮北街,30号,2号楼,2,18,113.6155,34.7055\n"
	bad := good + "淮河路街道,淮北街社区,淮北街,31号,1,1,5,abc,34.7\n淮河路街道,淮北街社区,淮北街,33号,1,1,5,120.0,30.0\n"
	status, body := uploadCSV(t, ts.URL+"/v1/imports", tok, map[string]string{"what": "addresses", "apply": "true", "from": "2024-06-01"}, bad)
	if status != 422 {
		t.Fatalf("bad file: %d %v", status, body)
	}
	rows, _, _ := db.Addresses(context.Background())
	if len(rows) != 4 {
		t.Fatalf("a refused import wrote: %d rows", len(rows))
	}
	status, body = uploadCSV(t, ts.URL+"/v1/imports", tok, map[string]string{"what": "addresses", "from": "2024-06-01"}, good)
	if status != 200 || body["valid"] != true || body["applied"] != false {
		t.Fatalf("dry run: %d %v", status, body)
	}
	status, body = uploadCSV(t, ts.URL+"/v1/imports", tok, map[string]string{"what": "addresses", "apply": "true", "from": "2024-06-01"}, good)
	if status != 200 || body["written"] != float64(2) {
		t.Fatalf("apply: %d %v", status, body)
	}
	if r := reg.Matcher().Resolve("淮北街30号2栋2单元", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)); !r.Resolved || r.Best.Precision != address.PrecisionUnit {
		t.Fatalf("imported address not matched: %+v", r.Best)
	}
	var n int
	storetest.Raw(t, db).QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action = 'addresses.import'`).Scan(&n)
	if n != 1 {
		t.Fatalf("%d audit rows", n)
	}
}
