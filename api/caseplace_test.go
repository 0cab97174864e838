package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/address"
	"gridline.dev/gridline/demo"
	"gridline.dev/gridline/dispatch"
	"gridline.dev/gridline/importers"
	"gridline.dev/gridline/open311"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/store/storetest"
	"gridline.dev/gridline/tiles"
)

// newPlaceAPI is the cases API over the fixture with the address register of
// api/addresses_test.go (淮北街 12号 in basic grid 410103001001001, 兴华街 8号 in 410103001002001)
// plus 绿城小区, a compound with a 2号楼 in both grids (an ambiguous address), Open311 through the
// same engine, and the photos in dir when dir is not "".
func newPlaceAPI(t *testing.T, dir string) (*casesAPI, *httptest.Server) {
	t.Helper()
	ctx := context.Background()
	db := storetest.New(t)
	if err := db.Load(ctx, storetest.Fixture(), store.DefaultTolerance); err != nil {
		t.Fatal(err)
	}
	for _, l := range []struct {
		what string
		data []byte
	}{{"categories", demo.CaseCategories}, {"departments", demo.Departments}, {"rules", demo.ResponsibilityRules}} {
		if rep, err := importers.ImportCaseList(ctx, db, l.what, l.data, ""); err != nil || len(rep.Problems) > 0 {
			t.Fatalf("%s: %v %+v", l.what, err, rep)
		}
	}
	compound := func(a gridline.Address) gridline.Address { a.Compound = "绿城小区"; return a }
	rows := []gridline.Address{
		fixtureRow("淮河路街道", "淮北街社区", "淮北街", "12", "", "", 0, 113.6050, 34.7050),
		fixtureRow("淮河路街道", "淮北街社区", "淮北街", "12", "3", "", 0, 113.6052, 34.7052),
		fixtureRow("淮河路街道", "淮北街社区", "淮北街", "12", "3", "2", 24, 113.6052, 34.7052),
		fixtureRow("淮河路街道", "兴华街社区", "兴华街", "8", "1", "1", 12, 113.6100, 34.7300),
		compound(fixtureRow("淮河路街道", "淮北街社区", "淮北街", "30", "", "", 0, 113.6060, 34.7060)),
		compound(fixtureRow("淮河路街道", "淮北街社区", "淮北街", "30", "2", "", 0, 113.6061, 34.7061)),
		compound(fixtureRow("淮河路街道", "兴华街社区", "兴华街", "40", "", "", 0, 113.6101, 34.7301)),
		compound(fixtureRow("淮河路街道", "兴华街社区", "兴华街", "40", "2", "", 0, 113.6102, 34.7302)),
	}
	if err := db.LoadAddresses(ctx, rows); err != nil {
		t.Fatal(err)
	}
	reg := address.NewRegister(db)
	if err := reg.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.UseAttachmentsDir(dir); err != nil {
		t.Fatal(err)
	}
	res := resolve.NewIncremental(db, gridline.SystemClock{}, time.UTC)
	if err := res.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	eng := dispatch.New(db, res, dispatch.NoDeadlines{}, gridline.SystemClock{}, dispatch.Options{MaxAttachment: 4096, Addresses: reg})
	a := &casesAPI{db: db, h: wire(db, res, nil, Options{Cases: eng, Addresses: reg,
		Open311: Open311Options{Cases: open311.NewEngine(eng, db), Jurisdiction: "erqi.gov.cn"}}, tiles.Options{}, importers.Config{}).Handler()}
	a.dispatcher = storetest.Token(t, db, "dispatcher", storetest.Everywhere(accounts.Dispatcher))
	a.worker7 = storetest.Token(t, db, "integration", storetest.Everywhere(accounts.GridWorker))
	ts := httptest.NewServer(a.h)
	t.Cleanup(ts.Close)
	return a, ts
}

func (a *casesAPI) countCases(t *testing.T) int {
	t.Helper()
	var n int
	if err := storetest.Raw(t, a.db).QueryRow(context.Background(), `SELECT count(*) FROM cases`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func details(body map[string]any) map[string]any {
	e, _ := body["error"].(map[string]any)
	d, _ := e["details"].(map[string]any)
	return d
}

// TestCasesByAddress: a report with an address and no point is placed by the address register,
// routed from the row's point, and says so in its routing; one that cannot be placed is refused
// (422, with the candidates when ambiguous) and writes nothing; a point sent with an address wins.
func TestCasesByAddress(t *testing.T) {
	a, _ := newPlaceAPI(t, "")
	text := "郑州市二七区淮北街12号院3号楼2单元"
	code, body := a.json(t, "POST", "/v1/cases", a.dispatcher, map[string]any{"source": "hotline", "category_code": "0504", "address": text, "description": "车辆占用人行道"})
	if code != http.StatusCreated {
		t.Fatalf("by address: %d %v", code, body)
	}
	c := body["case"].(map[string]any)
	if c["lon"] != 113.6052 || c["lat"] != 34.7052 || c["address"] != text {
		t.Fatalf("case %v", c)
	}
	code, body = a.do(t, "GET", fmt.Sprintf("/v1/cases/%d", int64(c["id"].(float64))), a.dispatcher, "", nil)
	rt, _ := body["routing"].(map[string]any)
	place, _ := rt["place"].(map[string]any)
	if code != 200 || place == nil || place["by"] != "address" || place["precision"] != "unit" || place["register_id"] == nil || place["confidence"].(float64) < address.Threshold {
		t.Fatalf("routing %v", rt)
	}
	if steps := fmt.Sprint(rt["steps"]); !strings.HasPrefix(steps, "[placed by address:") {
		t.Errorf("steps %s", steps)
	}
	if chain := fmt.Sprint(rt["chain"]); !strings.Contains(chain, "410103001001001") {
		t.Errorf("chain %s", chain)
	}

	// A point and an address: the point wins, the address is text, no placement is recorded.
	code, body = a.json(t, "POST", "/v1/cases", a.dispatcher, map[string]any{"category_code": "0504", "address": text, "lon": 113.6101, "lat": 34.7301})
	if code != http.StatusCreated {
		t.Fatalf("point and address: %d %v", code, body)
	}
	c = body["case"].(map[string]any)
	if c["lon"] != 113.6101 || c["address"] != text || c["routing"].(map[string]any)["place"] != nil {
		t.Fatalf("point and address: %v", c)
	}

	before := a.countCases(t)
	for _, tc := range []struct {
		name   string
		body   map[string]any
		status int
		code   string
		reason string
		cands  int // at least
	}{
		{"ambiguous", map[string]any{"category_code": "0504", "address": "绿城小区2号楼"}, 422, gridline.ERule, "ambiguous", 2},
		{"not found", map[string]any{"category_code": "0504", "address": "金水区花园路100号"}, 422, gridline.ERule, "not_found", 0},
		{"only a community", map[string]any{"category_code": "0504", "address": "兴华街社区"}, 422, gridline.ERule, "too_coarse", 1},
		{"a door not in the register", map[string]any{"category_code": "0504", "address": "淮北街14号"}, 422, gridline.ERule, "low_confidence", 1},
		{"no place at all", map[string]any{"category_code": "0504"}, 400, gridline.EInvalidCoord, "", 0},
		{"lon without lat", map[string]any{"category_code": "0504", "lon": 113.6, "address": text}, 400, gridline.EInvalidCoord, "", 0},
		{"crs without a point", map[string]any{"category_code": "0504", "crs": "gcj02", "address": text}, 400, gridline.EInvalid, "", 0},
		{"an address too long", map[string]any{"category_code": "0504", "address": strings.Repeat("淮", 400)}, 400, gridline.EInvalid, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := a.json(t, "POST", "/v1/cases", a.dispatcher, tc.body)
			if code != tc.status || errCode(body) != tc.code {
				t.Fatalf("%d %v, want %d %s", code, body, tc.status, tc.code)
			}
			if tc.reason == "" {
				return
			}
			d := details(body)
			cands, _ := d["candidates"].([]any)
			msg := body["error"].(map[string]any)["message"].(string)
			if d["reason"] != tc.reason || d["field"] != "address" || len(cands) < tc.cands || !strings.Contains(msg, "send lon and lat") {
				t.Fatalf("%v", body)
			}
			if tc.reason == "ambiguous" && !strings.Contains(fmt.Sprint(cands), "兴华街40号") {
				t.Fatalf("candidates %v", cands)
			}
		})
	}
	if n := a.countCases(t); n != before {
		t.Fatalf("refused reports wrote %d cases", n-before)
	}
}

// TestOpen311ByAddress: address_string without lat and long is placed through the same intake;
// what cannot be placed is Open311's 400 error list, with the candidates named.
func TestOpen311ByAddress(t *testing.T) {
	a, ts := newPlaceAPI(t, "")
	post := func(form url.Values) (int, []byte) {
		form.Set("api_key", a.worker7)
		form.Set("service_code", "0504")
		st, _, b := do311(t, "POST", ts.URL+"/open311/v2/requests.json", form)
		return st, b
	}
	st, b := post(url.Values{"address_string": {"淮北街12号3号楼2单元"}, "description": {"占道"}})
	if st != 201 {
		t.Fatalf("%d %s", st, b)
	}
	var lon, lat float64
	var by string
	if err := storetest.Raw(t, a.db).QueryRow(context.Background(), `SELECT ST_X(geom), ST_Y(geom), routing->'place'->>'by' FROM cases WHERE source = 'open311'`).Scan(&lon, &lat, &by); err != nil {
		t.Fatal(err)
	}
	if lon != 113.6052 || lat != 34.7052 || by != "address" {
		t.Fatalf("stored at %v %v by %q", lon, lat, by)
	}
	for _, tc := range []struct {
		name string
		form url.Values
		want []string
	}{
		{"ambiguous", url.Values{"address_string": {"绿城小区2号楼"}}, []string{"address_string cannot be placed", "兴华街40号", "lat and long"}},
		{"not found", url.Values{"address_string": {"金水区花园路100号"}}, []string{"address_string cannot be placed", "not found"}},
		{"address_id alone", url.Values{"address_id": {"17"}}, []string{"address_id alone cannot be placed"}},
	} {
		st, b := post(tc.form)
		errs := errors311(t, "json", b)
		if st != 400 || errs[0].Code != 400 {
			t.Errorf("%s: %d %s", tc.name, st, b)
		}
		for _, w := range tc.want {
			if !strings.Contains(errs[0].Description, w) {
				t.Errorf("%s: %q lacks %q", tc.name, errs[0].Description, w)
			}
		}
	}
	if n := a.countCases(t); n != 1 {
		t.Fatalf("%d cases", n)
	}
}

// files lists the regular files under dir, relative to it.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	return out
}

// TestCaseAttachmentsDir: in directory mode a photo is a file named by its SHA-256 (stored once
// for the same content), the row holds its path and no bytes, GET serves it from the file; a
// failed transaction leaves no file; a missing file is a clear 404.
func TestCaseAttachmentsDir(t *testing.T) {
	dir := t.TempDir()
	a, _ := newPlaceAPI(t, dir)
	photo := append(append([]byte{}, pngBytes...), []byte("photo one")...)
	sum := sha256.Sum256(photo)
	name := hex.EncodeToString(sum[:])
	report := func(extra map[string]any, p []byte) (int, map[string]any) {
		body := map[string]any{"category_code": "0504", "lon": 113.6052, "lat": 34.7052}
		for k, v := range extra {
			body[k] = v
		}
		mb, ct := multipartCase(t, "case", body, map[string][]byte{"photo:a.png": p})
		return a.do(t, "POST", "/v1/cases", a.dispatcher, ct, mb)
	}
	code, body := report(nil, photo)
	if code != http.StatusCreated {
		t.Fatalf("%d %v", code, body)
	}
	c := body["case"].(map[string]any)
	att := c["attachments"].([]any)[0].(map[string]any)
	get := fmt.Sprintf("/v1/cases/%d/attachments/%d", int64(c["id"].(float64)), int64(att["id"].(float64)))
	if got := files(t, dir); len(got) != 1 || got[0] != filepath.Join(name[:2], name) {
		t.Fatalf("files %v", got)
	}
	var hasBytes bool
	var path string
	if err := storetest.Raw(t, a.db).QueryRow(context.Background(), `SELECT bytes IS NOT NULL, path FROM case_attachments`).Scan(&hasBytes, &path); err != nil || hasBytes || path != filepath.Join(name[:2], name) {
		t.Fatalf("row: bytes %v path %q %v", hasBytes, path, err)
	}
	r := httptest.NewRequest("GET", get, nil)
	r.Header.Set("Authorization", "Bearer "+a.dispatcher)
	w := httptest.NewRecorder()
	a.h.ServeHTTP(w, r)
	if w.Code != 200 || w.Body.String() != string(photo) || w.Header().Get("Content-Type") != "image/png" {
		t.Fatalf("GET: %d %q", w.Code, w.Body.String())
	}

	// The same photo again: stored once.
	if code, body := report(map[string]any{"external_id": "H-1", "source": "hotline"}, photo); code != http.StatusCreated {
		t.Fatalf("%d %v", code, body)
	}
	if got := files(t, dir); len(got) != 1 {
		t.Fatalf("the same content twice: files %v", got)
	}
	// A transaction that fails (external_id taken) after its file was written: the file is gone.
	other := append(append([]byte{}, pngBytes...), []byte("photo two")...)
	if code, body := report(map[string]any{"external_id": "H-1", "source": "hotline"}, other); code != http.StatusConflict {
		t.Fatalf("duplicate external_id: %d %v", code, body)
	}
	if got := files(t, dir); len(got) != 1 {
		t.Fatalf("after a failed transaction: files %v", got)
	}
	if n := a.countCases(t); n != 2 {
		t.Fatalf("%d cases", n)
	}
	// A transition whose transaction fails (the case moved on: 409) after its photo was written.
	third := append(append([]byte{}, pngBytes...), []byte("photo three")...)
	s3 := sha256.Sum256(third)
	err := a.db.ApplyChange(context.Background(), &dispatch.Change{CaseID: int64(c["id"].(float64)), ExpectVersion: 99,
		Case: dispatch.Case{Number: "x", State: dispatch.Reported}, Event: dispatch.Event{Kind: dispatch.KindHandle, At: time.Now()},
		Attachments: []dispatch.Attachment{{Kind: "after", ContentType: "image/png", Size: len(third), SHA256: hex.EncodeToString(s3[:]), Bytes: third, CreatedAt: time.Now()}}})
	if gridline.ErrorCode(err) != gridline.EConflict {
		t.Fatalf("stale transition: %v", err)
	}
	if got := files(t, dir); len(got) != 1 {
		t.Fatalf("after a failed transition: files %v", got)
	}
	// A directory that cannot be one is refused when the server starts.
	if err := a.db.UseAttachmentsDir(filepath.Join(dir, name[:2], name, "sub")); err == nil {
		t.Fatal("a directory under a file was accepted")
	}
	if err := a.db.UseAttachmentsDir(dir); err != nil {
		t.Fatal(err)
	}

	// The file removed behind the server's back: a clear 404, not a 500.
	if err := os.Remove(filepath.Join(dir, name[:2], name)); err != nil {
		t.Fatal(err)
	}
	code, body = a.do(t, "GET", get, a.dispatcher, "", nil)
	if code != http.StatusNotFound || errCode(body) != gridline.ENotFound || !strings.Contains(fmt.Sprint(body), "missing") {
		t.Fatalf("missing file: %d %v", code, body)
	}
}
