package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"gridline.dev/gridline"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/store/storetest"
)

// app is the whole program running on a free port against its own database.
type app struct {
	base  string
	dbURL string
	db    *store.DB
	// adminPassword is the first administrator's password, as serve printed it.
	adminPassword string
}

// appOption changes how startApp runs the program.
type appOption func(*appConfig)

type appConfig struct {
	clock gridline.Clock
	args  []string
}

// withClock runs the program on clock (an internal/fakeclock) instead of the system's.
func withClock(c gridline.Clock) appOption { return func(cfg *appConfig) { cfg.clock = c } }

// withServeArgs adds flags to `gridline serve` (e.g. --escalate-every 1s).
func withServeArgs(args ...string) appOption {
	return func(cfg *appConfig) { cfg.args = append(cfg.args, args...) }
}

// startApp loads the fixture into a fresh database, reached through proxy when it is not nil,
// and runs `gridline serve` on port 0.
func startApp(t *testing.T, proxy *tcpProxy, opts ...appOption) *app {
	t.Helper()
	return startAppWith(t, proxy, storetest.Fixture(), opts...)
}

// startAppWith is startApp serving the data set d.
func startAppWith(t *testing.T, proxy *tcpProxy, d *store.Dataset, opts ...appOption) *app {
	t.Helper()
	cfg := appConfig{clock: gridline.SystemClock{}}
	for _, o := range opts {
		o(&cfg)
	}
	dbURL := storetest.NewURL(t)
	ctx := context.Background()
	db, err := store.Open(ctx, dbURL, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	if err := db.Load(ctx, d, store.DefaultTolerance); err != nil {
		t.Fatalf("load fixture: %v", err)
	}
	serveURL := dbURL
	if proxy != nil {
		u, _ := url.Parse(dbURL)
		proxy.target = u.Host
		proxy.start(t)
		u.Host = proxy.addr
		serveURL = u.String()
	}
	env := map[string]string{"DATABASE_URL": serveURL, "GRIDLINE_TZ": "Asia/Shanghai"}
	rctx, cancel := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		args := append([]string{"serve", "--addr", "127.0.0.1:0", "--job-wait", "50s"}, cfg.args...)
		done <- runWith(rctx, cfg.clock, args, func(k string) string { return env[k] }, pw, io.Discard)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("server did not shut down")
		}
	})
	line := make(chan string, 1)
	password := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if _, pw, ok := strings.Cut(sc.Text(), "as admin with password "); ok {
				password <- pw
			}
			if strings.Contains(sc.Text(), "serving on") {
				line <- sc.Text()
			}
		}
	}()
	select {
	case l := <-line:
		base := l[strings.Index(l, "http://"):]
		base = strings.Fields(base)[0]
		a := &app{base: base, dbURL: dbURL, db: db}
		select {
		case a.adminPassword = <-password:
		default:
		}
		return a
	case err := <-done:
		t.Fatalf("server exited: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("server did not start")
	}
	return nil
}

// whole GETs path and checks that the answer came with its length (not chunked) and is one JSON
// value and a newline; it returns the body's length.
func (a *app) whole(t *testing.T, path string) int {
	t.Helper()
	resp, err := http.Get(a.base + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	if resp.StatusCode != 200 || resp.ContentLength != int64(len(b)) || len(resp.TransferEncoding) != 0 {
		t.Fatalf("GET %s: status %d, Content-Length %d, Transfer-Encoding %v, body %d bytes", path, resp.StatusCode, resp.ContentLength, resp.TransferEncoding, len(b))
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Fatalf("GET %s: Content-Type %q", path, ct)
	}
	if !json.Valid(b) || b[len(b)-1] != '\n' {
		t.Fatalf("GET %s: not one JSON value and a newline: %q", path, b)
	}
	return len(b)
}

func (a *app) get(t *testing.T, path string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(a.base + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("GET %s: body is not JSON: %v", path, err)
	}
	return resp.StatusCode, body
}

// chainCodes lists the codes of an answer's chain.
func chainCodes(body map[string]any) []string {
	var out []string
	chain, _ := body["chain"].([]any)
	for _, c := range chain {
		out = append(out, c.(map[string]any)["code"].(string))
	}
	return out
}

func errCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func TestResolveEndToEnd(t *testing.T) {
	a := startApp(t, nil)
	if code, body := a.get(t, "/healthz"); code != 200 || body["status"] != "ok" {
		t.Fatalf("healthz = %d %v", code, body)
	}

	t.Run("inside the first micro grid", func(t *testing.T) {
		code, body := a.get(t, "/v1/resolve?lon=113.6055&lat=34.7055")
		if code != 200 {
			t.Fatalf("status %d: %v", code, body)
		}
		want := []string{"410103", "410103001", "410103001001", "410103001001001", "410103001001001001"}
		if got := chainCodes(body); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("chain = %v, want %v", got, want)
		}
		if sp := body["special"].([]any); len(sp) != 1 || sp[0].(map[string]any)["code"] != "410103001001901" {
			t.Fatalf("special = %v", sp)
		}
		if th := body["thematic"].([]any); len(th) != 1 || th[0].(map[string]any)["code"] != "410103JW001" {
			t.Fatalf("thematic = %v", th)
		}
		if body["covered"] != true || body["on_boundary"] != false {
			t.Fatalf("covered/on_boundary = %v/%v", body["covered"], body["on_boundary"])
		}
		// The basic grid spans 113.60..113.61, 34.70..34.72. Its nearest edge is the east one,
		// 0.0045 degrees of longitude away: 0.0045 * cos(34.7055°) * 111195 m = 411.4 m (the west
		// edge is 503 m away, the south edge 612 m).
		b := body["boundary"].(map[string]any)
		if m := b["distance_m"].(float64); m < 405 || m > 418 {
			t.Fatalf("boundary distance = %v m, want about 411 m (east edge)", m)
		}
		if body["near_boundary"] != nil {
			t.Fatalf("near_boundary = %v, want none", body["near_boundary"])
		}
	})

	t.Run("a vacant grid falls back to its community chief", func(t *testing.T) {
		_, body := a.get(t, "/v1/resolve?lon=113.615&lat=34.71")
		chain := body["chain"].([]any)
		grid := chain[3].(map[string]any)
		if grid["code"] != "410103001001002" {
			t.Fatalf("grid = %v", grid["code"])
		}
		var fallback map[string]any
		for _, p := range grid["responsible"].([]any) {
			if pm := p.(map[string]any); pm["fallback"] == true {
				fallback = pm
			}
		}
		// Anonymous callers see people masked (the default, GRIDLINE_ANONYMOUS_PEOPLE=masked):
		// this expectation changed with issue #12, from 刘芳 and her number in full.
		if fallback == nil || fallback["name"] != "刘*" || fallback["phone"] != "138****0300" || fallback["person_id"] != 0.0 || fallback["from_grid"] != "410103001001" {
			t.Fatalf("responsible = %v, want 刘* (masked) from 410103001001 as fallback", grid["responsible"])
		}
		// A caller with people.read on the grid sees her in full.
		admin, err := a.db.AccountByUsername(context.Background(), "admin")
		if err != nil {
			t.Fatal(err)
		}
		tok, err := a.db.CreateToken(context.Background(), admin.ID, "reader", false)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodGet, a.base+"/v1/resolve?lon=113.615&lat=34.71", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		full, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(full), `"name":"刘芳"`) {
			t.Fatalf("with a token: %d %s, want 刘芳 in full", resp.StatusCode, full)
		}
	})

	t.Run("a point on a shared edge goes to the smaller code", func(t *testing.T) {
		for i := 0; i < 3; i++ {
			_, body := a.get(t, "/v1/resolve?lon=113.61&lat=34.715")
			if got := chainCodes(body); len(got) < 4 || got[3] != "410103001001001" {
				t.Fatalf("chain = %v, want basic grid 410103001001001", got)
			}
			nb, _ := body["near_boundary"].(map[string]any)
			if body["on_boundary"] != true || nb == nil || nb["code"] != "410103001001002" || nb["distance_m"].(float64) != 0 {
				t.Fatalf("on_boundary = %v, near_boundary = %v", body["on_boundary"], body["near_boundary"])
			}
		}
	})

	t.Run("near a boundary names the grid across", func(t *testing.T) {
		// 0.0002 degrees of longitude west of the G1|G2 edge: about 18.3 m.
		_, body := a.get(t, "/v1/resolve?lon=113.6098&lat=34.715")
		nb, _ := body["near_boundary"].(map[string]any)
		if nb == nil || nb["code"] != "410103001001002" {
			t.Fatalf("near_boundary = %v", body["near_boundary"])
		}
		if m := nb["distance_m"].(float64); m < 17.5 || m > 19 {
			t.Fatalf("distance = %v, want about 18.3 m", m)
		}
	})

	t.Run("outside every grid", func(t *testing.T) {
		_, body := a.get(t, "/v1/resolve?lon=113.65&lat=34.72")
		nearest, _ := body["nearest"].(map[string]any)
		if body["covered"] != false || nearest == nil || nearest["code"] != "410103002001001" {
			t.Fatalf("covered = %v, nearest = %v", body["covered"], body["nearest"])
		}
		// 0.01 degrees of longitude east of 113.64 at lat 34.72: about 914 m.
		if m := nearest["distance_m"].(float64); m < 900 || m > 930 {
			t.Fatalf("nearest distance = %v", m)
		}
	})

	t.Run("an answer is sent whole, with its length", func(t *testing.T) {
		for _, q := range []string{"lon=113.6055&lat=34.7055", "lon=113.65&lat=34.72", "crs=EPSG:3857&lon=12646506.41&lat=4123931.44"} {
			a.whole(t, "/v1/resolve?"+q)
		}
		// Other methods on the path still go through the router: HEAD answers as GET does,
		// without the body; a method the path does not take is 405.
		resp, err := http.Head(a.base + "/v1/resolve?lon=113.6055&lat=34.7055")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.ContentLength <= 0 {
			t.Fatalf("HEAD /v1/resolve = %d with length %d, want 200 with the GET answer's length", resp.StatusCode, resp.ContentLength)
		}
		req, _ := http.NewRequest(http.MethodPut, a.base+"/v1/resolve", nil)
		if resp, err = http.DefaultClient.Do(req); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("PUT /v1/resolve = %d, want 405", resp.StatusCode)
		}
	})

	t.Run("other datums resolve to the same grid", func(t *testing.T) {
		// The ground point (113.6055, 34.7055) sent in GCJ-02, BD-09 and Web Mercator: each must
		// come back to within a few centimetres of it, in the first micro grid.
		for _, q := range []string{
			"crs=gcj02&lon=113.6115341&lat=34.7042628",
			"crs=bd09&lon=113.6180440&lat=34.7102957",
			"crs=EPSG:3857&lon=12646506.41&lat=4123931.44",
		} {
			code, body := a.get(t, "/v1/resolve?"+q)
			if code != 200 {
				t.Fatalf("%s: %d %v", q, code, body)
			}
			w := body["wgs84"].(map[string]any)
			if math.Abs(w["lon"].(float64)-113.6055) > 1e-6 || math.Abs(w["lat"].(float64)-34.7055) > 1e-6 {
				t.Fatalf("%s: wgs84 = %v, want 113.6055, 34.7055", q, w)
			}
			if got := chainCodes(body); len(got) != 5 || got[4] != "410103001001001001" {
				t.Fatalf("%s: chain = %v", q, got)
			}
		}
	})

	t.Run("historic date before any grid", func(t *testing.T) {
		_, body := a.get(t, "/v1/resolve?lon=113.6055&lat=34.7055&at=2020-01-01")
		if body["covered"] != false {
			t.Fatalf("covered on 2020-01-01 = %v", body["covered"])
		}
	})

	bad := []struct{ name, query, code string }{
		{"lat out of range", "lon=113.6&lat=95", gridline.EInvalidCoord},
		{"NaN", "lon=NaN&lat=34.7", gridline.EInvalidCoord},
		{"missing lon", "lat=34.7", gridline.EInvalidCoord},
		{"not a number", "lon=abc&lat=34.7", gridline.EInvalidCoord},
		{"unknown crs", "lon=113.6&lat=34.7&crs=mars", gridline.EInvalidCRS},
		{"unknown EPSG code", "lon=113.6&lat=34.7&crs=EPSG:999999", gridline.EInvalidCRS},
		{"malformed date", "lon=113.6&lat=34.7&at=2024-13-45", gridline.EInvalidDate},
		{"malformed query", "lon=113.6&lat=34.7&%zz", gridline.EInvalid},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			code, body := a.get(t, "/v1/resolve?"+tc.query)
			if code != 400 || errCode(body) != tc.code {
				t.Fatalf("status %d, body %v; want 400 %s", code, body, tc.code)
			}
			if msg, _ := body["error"].(map[string]any)["message"].(string); msg == "" {
				t.Fatal("error without a message")
			}
		})
	}
}

func TestGridsEndpoints(t *testing.T) {
	a := startApp(t, nil)
	code, body := a.get(t, "/v1/grids?level=grid&layer=comprehensive")
	if code != 200 || body["total"].(float64) != 4 || len(body["features"].([]any)) != 4 {
		t.Fatalf("list basic grids: %d total=%v", code, body["total"])
	}
	_, body = a.get(t, "/v1/grids?code=410103001&level=community")
	if body["total"].(float64) != 2 {
		t.Fatalf("code prefix filter: total = %v", body["total"])
	}
	_, body = a.get(t, "/v1/grids?bbox=113.60,34.70,113.605,34.705&level=micro")
	if body["total"].(float64) != 1 {
		t.Fatalf("bbox filter: total = %v", body["total"])
	}
	_, body = a.get(t, "/v1/grids?level=grid&limit=2")
	if body["next"] == nil || len(body["features"].([]any)) != 2 {
		t.Fatalf("paging: %v", body["next"])
	}
	code, body = a.get(t, "/v1/grids/410103001001002")
	if code != 200 {
		t.Fatalf("get grid: %d %v", code, body)
	}
	props := body["properties"].(map[string]any)
	if props["vacant"] != true || props["child_count"].(float64) != 0 || len(props["parents"].([]any)) != 3 {
		t.Fatalf("grid properties: %v", props)
	}
	code, body = a.get(t, "/v1/grids/410103001001001/children")
	if code != 200 || body["total"].(float64) != 2 {
		t.Fatalf("children: %d %v", code, body["total"])
	}
	code, body = a.get(t, "/v1/grids/410103001001001/versions")
	if code != 200 || body["total"].(float64) != 1 {
		t.Fatalf("versions: %d %v", code, body["total"])
	}
	// GCJ-02 output moves the geometry east and north by a few hundred metres here.
	_, w := a.get(t, "/v1/grids/410103?crs=gcj02")
	ring := w["geometry"].(map[string]any)["coordinates"].([]any)[0].([]any)[0].([]any)
	first := ring[0].([]any)
	if lon := first[0].(float64); lon <= 113.60 || lon > 113.62 {
		t.Fatalf("gcj02 first vertex lon = %v", lon)
	}
	for _, tc := range []struct {
		path, code string
		status     int
	}{
		{"/v1/grids/nope", gridline.ENotFound, 404},
		{"/v1/grids?level=planet", gridline.EInvalid, 400},
		{"/v1/grids?bbox=1,2,3", gridline.EInvalid, 400},
		{"/v1/grids?limit=0", gridline.EInvalid, 400},
		{"/v1/grids?at=yesterday", gridline.EInvalidDate, 400},
		{"/v1/nothing", gridline.ENotFound, 404},
	} {
		code, body := a.get(t, tc.path)
		if code != tc.status || errCode(body) != tc.code {
			t.Errorf("%s: %d %v, want %d %s", tc.path, code, body, tc.status, tc.code)
		}
	}
}

func TestBatchResolve(t *testing.T) {
	a := startApp(t, nil)
	post := func(ctype, accept, body string) (int, string) {
		req, _ := http.NewRequest("POST", a.base+"/v1/resolve", strings.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, out := post("application/json", "", `[{"id":"a","lon":113.6055,"lat":34.7055},{"id":7,"lon":113.65,"lat":34.72},[113.615,34.71],{"id":"bad","lon":113.6}]`)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 200 || len(lines) != 4 {
		t.Fatalf("json batch: %d\n%s", code, out)
	}
	if !strings.Contains(lines[0], `"micro":"410103001001001001"`) || !strings.Contains(lines[1], `"covered":false`) ||
		!strings.Contains(lines[2], `"grid":"410103001001002"`) || !strings.Contains(lines[3], `"invalid_coordinate"`) || !strings.Contains(lines[3], "element 4") {
		t.Fatalf("json batch lines:\n%s", out)
	}
	code, out = post("application/geo+json", "", `{"type":"FeatureCollection","features":[{"type":"Feature","id":"f1","geometry":{"type":"Point","coordinates":[113.625,34.71]},"properties":{}}]}`)
	if code != 200 || !strings.Contains(out, `"id":"f1"`) || !strings.Contains(out, `"community":"410103002001"`) || !strings.Contains(out, `"police":"410103JW001"`) {
		t.Fatalf("geojson batch: %d %s", code, out)
	}
	code, out = post("text/csv", "text/csv", "id,lon,lat\np1,113.6055,34.7055\np2,oops,34.7\np3,113.615,34.71,gcj02\n")
	lines = strings.Split(strings.TrimSpace(out), "\n")
	if code != 200 || len(lines) != 4 || !strings.HasPrefix(lines[0], "id,lon,lat,wgs84_lon") || !strings.Contains(lines[2], "line 3") || !strings.Contains(lines[1], "410103001001001001") {
		t.Fatalf("csv batch: %d\n%s", code, out)
	}
	code, out = post("application/json", "", `[{"id":1,"lon":113.6,"lat":34.7}`)
	if !strings.Contains(out, "not closed") {
		t.Fatalf("truncated array: %d %s", code, out)
	}
	code, out = post("application/json", "", `{"nothing":1}`)
	if code != 400 || !strings.Contains(out, "features") {
		t.Fatalf("object without features: %d %s", code, out)
	}
	code, out = post("application/xml", "", `<a/>`)
	if code != 400 {
		t.Fatalf("xml: %d %s", code, out)
	}
}

// TestChangesReachTheIndex: a grid written straight into the database (as another gridline process
// would) is resolved by this server shortly after, through LISTEN/NOTIFY.
func TestChangesReachTheIndex(t *testing.T) {
	a := startApp(t, nil)
	ctx := context.Background()
	_, err := a.db.SaveGrid(ctx, gridline.Grid{Code: "410103001001902", Name: "淮河路市场专属网格", Level: gridline.LevelGrid, Layer: gridline.LayerSpecial,
		Kind: "market", ParentID: 4, ValidFrom: storetest.FixtureFrom, Geometry: storetest.Box(113.601, 34.701, 113.602, 34.702)}, store.DefaultTolerance)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, body := a.get(t, "/v1/resolve?lon=113.6015&lat=34.7015")
		found := false
		for _, g := range body["special"].([]any) {
			if g.(map[string]any)["code"] == "410103001001902" {
				found = true
			}
		}
		if found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the new special grid never reached the index")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// A plain UPDATE, as another tool would make it: the change stamp and the notification come
	// from triggers, and only that row is read again.
	raw := storetest.Raw(t, a.db)
	if _, err := raw.Exec(ctx, `UPDATE grids SET name = '淮北街社区一网格' WHERE code = '410103001001001'`); err != nil {
		t.Fatal(err)
	}
	for deadline = time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		_, body := a.get(t, "/v1/resolve?lon=113.6015&lat=34.7015")
		if body["chain"].([]any)[3].(map[string]any)["name"] == "淮北街社区一网格" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the renamed grid never reached the index")
		}
	}
	// A long name makes the answer larger than 2 KiB, the size from which net/http would send it
	// chunked unless the handler gives its length.
	long := strings.Repeat("长", 400)
	if _, err := raw.Exec(ctx, `UPDATE grids SET name = $1 WHERE code = '410103001001001'`, long); err != nil {
		t.Fatal(err)
	}
	for deadline = time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		_, body := a.get(t, "/v1/resolve?lon=113.6015&lat=34.7015")
		if body["chain"].([]any)[3].(map[string]any)["name"] == long {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the long name never reached the index")
		}
	}
	if n := a.whole(t, "/v1/resolve?lon=113.6015&lat=34.7015"); n <= 2048 {
		t.Fatalf("the answer is %d bytes: this check needs one over 2 KiB", n)
	}
}

// TestDatabaseOutage: with the database unreachable, resolution answers from the index and says
// so, other endpoints answer 503, and everything recovers by itself when the database returns.
func TestDatabaseOutage(t *testing.T) {
	p := &tcpProxy{}
	a := startApp(t, p)
	p.setDown(true)
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, body := a.get(t, "/v1/resolve?lon=113.6055&lat=34.7055")
		if code != 200 || len(chainCodes(body)) != 5 {
			t.Fatalf("resolve during outage: %d %v", code, body)
		}
		if idx := body["index"].(map[string]any); idx["live"] == false {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the answer never said the index may be stale")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code, body := a.get(t, "/v1/grids?level=grid"); code != 503 || errCode(body) != gridline.EUnavailable {
		t.Fatalf("grids during outage: %d %v", code, body)
	}
	p.setDown(false)
	deadline = time.Now().Add(20 * time.Second)
	for {
		code, _ := a.get(t, "/v1/grids?level=grid")
		_, body := a.get(t, "/v1/resolve?lon=113.6055&lat=34.7055")
		if code == 200 && body["index"].(map[string]any)["live"] == true {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("did not recover: grids %d, index %v", code, body["index"])
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// tcpProxy forwards connections to target; while down it closes every connection and refuses new ones.
type tcpProxy struct {
	target string
	addr   string
	ln     net.Listener
	mu     sync.Mutex
	down   bool
	conns  []net.Conn
}

func (p *tcpProxy) start(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.ln, p.addr = ln, ln.Addr().String()
	t.Cleanup(func() { ln.Close(); p.setDown(true) })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			down := p.down
			if !down {
				p.conns = append(p.conns, c)
			}
			p.mu.Unlock()
			if down {
				c.Close()
				continue
			}
			go p.pipe(c)
		}
	}()
}

func (p *tcpProxy) pipe(c net.Conn) {
	u, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns = append(p.conns, u)
	p.mu.Unlock()
	go func() { io.Copy(u, c); u.Close() }()
	io.Copy(c, u)
	c.Close()
}

func (p *tcpProxy) setDown(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for _, c := range p.conns {
			c.Close()
		}
		p.conns = nil
	}
}
