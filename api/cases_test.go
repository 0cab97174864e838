package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/demo"
	"gridline.dev/gridline/dispatch"
	"gridline.dev/gridline/geo"
	"gridline.dev/gridline/importers"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/store/storetest"
	"gridline.dev/gridline/tiles"
)

type casesAPI struct {
	h                                         http.Handler
	db                                        *store.DB
	dispatcher, worker7, jiaojing, supervisor string
}

func newCasesAPI(t *testing.T) *casesAPI {
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
	res := resolve.NewIncremental(db, gridline.SystemClock{}, time.UTC)
	if err := res.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	eng := dispatch.New(db, res, dispatch.NoDeadlines{}, gridline.SystemClock{}, dispatch.Options{MaxAttachment: 4096})
	a := &casesAPI{db: db, h: wire(db, res, nil, Options{Cases: eng}, tiles.Options{}, importers.Config{}).Handler()}
	a.dispatcher = storetest.Token(t, db, "dispatcher", storetest.Everywhere(accounts.Dispatcher))
	a.supervisor = storetest.Token(t, db, "supervisor", storetest.Everywhere(accounts.Supervisor))
	a.worker7 = storetest.Token(t, db, "worker7", storetest.Under(accounts.GridWorker, 7))
	a.jiaojing = storetest.Token(t, db, "jiaojing", accounts.Grant{Role: accounts.DepartmentHandler, Scope: accounts.Scope{Kind: accounts.ScopeDepartment, Department: "jiaojing"}})
	return a
}

func (a *casesAPI) do(t *testing.T, method, path, token, ct string, body []byte) (int, map[string]any) {
	t.Helper()
	r := httptest.NewRequest(method, path, bytes.NewReader(body))
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	if ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	w := httptest.NewRecorder()
	a.h.ServeHTTP(w, r)
	var out map[string]any
	if strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s %s: %d %q: %v", method, path, w.Code, w.Body, err)
		}
	}
	return w.Code, out
}

func (a *casesAPI) json(t *testing.T, method, path, token string, v any) (int, map[string]any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return a.do(t, method, path, token, "application/json", b)
}

func errCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func multipartCase(t *testing.T, field string, v any, photos map[string][]byte) ([]byte, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	j, _ := json.Marshal(v)
	if err := mw.WriteField(field, string(j)); err != nil {
		t.Fatal(err)
	}
	for name, data := range photos {
		fw, err := mw.CreateFormFile(strings.SplitN(name, ":", 2)[0], strings.SplitN(name, ":", 2)[1])
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(data)
	}
	mw.Close()
	return b.Bytes(), mw.FormDataContentType()
}

var pngBytes = append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 64)...)

func TestCasesAPI(t *testing.T) {
	a := newCasesAPI(t)
	// A hotline report in GCJ-02, as a map app gives it: routed by category to 交警.
	glon, glat := geo.WGS84ToGCJ02(113.603, 34.715)
	code, body := a.json(t, "POST", "/v1/cases", a.dispatcher, map[string]any{"source": "hotline", "category_code": "0504", "lon": glon, "lat": glat, "crs": "gcj02",
		"description": "车辆占用人行道", "reporter": map[string]any{"name": "张三", "phone": "13800000000"}})
	if code != http.StatusCreated {
		t.Fatalf("POST /v1/cases: %d %v", code, body)
	}
	c := body["case"].(map[string]any)
	id := int64(c["id"].(float64))
	if p := c["party"].(map[string]any); p["ref"] != "jiaojing" || c["state"] != "reported" || c["number"] == "" {
		t.Fatalf("case %v", c)
	}
	// Read: with events and routing provenance.
	code, body = a.do(t, "GET", fmt.Sprintf("/v1/cases/%d", id), a.jiaojing, "", nil)
	if code != http.StatusOK || len(body["events"].([]any)) != 1 || body["routing"] == nil {
		t.Fatalf("GET case: %d %v", code, body)
	}
	// The list, filtered.
	code, body = a.do(t, "GET", "/v1/cases?state=reported&department=jiaojing", a.dispatcher, "", nil)
	if code != http.StatusOK || len(body["cases"].([]any)) != 1 {
		t.Fatalf("list: %d %v", code, body)
	}
	// A transition the role does not own, one not allowed from the state, one that works.
	if code, body = a.json(t, "POST", fmt.Sprintf("/v1/cases/%d/events", id), a.worker7, map[string]any{"kind": "file"}); code != http.StatusForbidden {
		t.Fatalf("file by a grid worker: %d %v", code, body)
	}
	if code, body = a.json(t, "POST", fmt.Sprintf("/v1/cases/%d/events", id), a.dispatcher, map[string]any{"kind": "close"}); code != http.StatusConflict {
		t.Fatalf("close from reported: %d %v", code, body)
	}
	if code, body = a.json(t, "POST", fmt.Sprintf("/v1/cases/%d/events", id), a.dispatcher, map[string]any{"kind": "file", "expect_version": 1}); code != http.StatusOK || body["state"] != "filed" {
		t.Fatalf("file: %d %v", code, body)
	}
	if code, body = a.json(t, "POST", fmt.Sprintf("/v1/cases/%d/events", id), a.dispatcher, map[string]any{"kind": "dispatch", "expect_version": 1}); code != http.StatusConflict {
		t.Fatalf("stale expect_version: %d %v", code, body)
	}
	if code, body = a.json(t, "POST", fmt.Sprintf("/v1/cases/%d/events", id), a.dispatcher, map[string]any{"kind": "dispatch", "expect_version": 2}); code != http.StatusOK || body["state"] != "dispatched" {
		t.Fatalf("dispatch: %d %v", code, body)
	}
	if code, body = a.json(t, "POST", fmt.Sprintf("/v1/cases/%d/events", id), a.jiaojing, map[string]any{"kind": "sign"}); code != http.StatusOK {
		t.Fatalf("sign: %d %v", code, body)
	}
	// Report back with a photo, multipart; the photo is served back.
	mb, ct := multipartCase(t, "event", map[string]any{"kind": "report_back", "reason": "towed"}, map[string][]byte{"photo_after:after.png": pngBytes})
	code, body = a.do(t, "POST", fmt.Sprintf("/v1/cases/%d/events", id), a.jiaojing, ct, mb)
	if code != http.StatusOK || len(body["attachments"].([]any)) != 1 {
		t.Fatalf("report back: %d %v", code, body)
	}
	aid := int64(body["attachments"].([]any)[0].(map[string]any)["id"].(float64))
	r := httptest.NewRequest("GET", fmt.Sprintf("/v1/cases/%d/attachments/%d", id, aid), nil)
	r.Header.Set("Authorization", "Bearer "+a.dispatcher)
	w := httptest.NewRecorder()
	a.h.ServeHTTP(w, r)
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "image/png" || !bytes.Equal(w.Body.Bytes(), pngBytes) {
		t.Fatalf("photo: %d %s", w.Code, w.Header())
	}
	// A department handler sees its own cases only.
	code, _ = a.json(t, "POST", "/v1/cases", a.worker7, map[string]any{"source": "patrol", "category_code": "0101", "lon": 113.603, "lat": 34.715})
	if code != http.StatusCreated {
		t.Fatalf("patrol report: %d", code)
	}
	code, body = a.do(t, "GET", "/v1/cases", a.jiaojing, "", nil)
	if code != http.StatusOK || len(body["cases"].([]any)) != 1 {
		t.Fatalf("jiaojing's list: %d %v", code, body)
	}
	code, body = a.do(t, "GET", "/v1/cases", a.worker7, "", nil)
	if code != http.StatusOK || len(body["cases"].([]any)) != 2 {
		t.Fatalf("worker's list: %d %v", code, body)
	}
}

func TestCasesAPIBadInput(t *testing.T) {
	a := newCasesAPI(t)
	count := func() int {
		var n int
		if err := storetest.Raw(t, a.db).QueryRow(context.Background(), `SELECT (SELECT count(*) FROM cases) + (SELECT count(*) FROM case_attachments)`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	ok := map[string]any{"category_code": "0101", "lon": 113.603, "lat": 34.715}
	for _, tc := range []struct {
		name   string
		token  string
		body   any
		photos map[string][]byte
		status int
		code   string
	}{
		{"unknown category", a.dispatcher, map[string]any{"category_code": "9999", "lon": 113.603, "lat": 34.715}, nil, 400, gridline.EInvalid},
		{"unknown field", a.dispatcher, map[string]any{"category": "0101", "lon": 113.603, "lat": 34.715}, nil, 400, gridline.EInvalid},
		{"bad crs", a.dispatcher, map[string]any{"category_code": "0101", "lon": 113.603, "lat": 34.715, "crs": "mars"}, nil, 400, gridline.EInvalidCRS},
		{"anonymous", "", ok, nil, 401, gridline.EUnauthorized},
		{"a department handler", a.jiaojing, ok, nil, 403, gridline.EForbidden},
		{"photo not an image", a.dispatcher, ok, map[string][]byte{"photo:x.jpg": []byte("<html>not an image</html>")}, 400, gridline.EInvalid},
		{"photo over the limit", a.dispatcher, ok, map[string][]byte{"photo:big.png": append(pngBytes, make([]byte, 5000)...)}, 413, gridline.ETooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var code int
			var body map[string]any
			if tc.photos != nil {
				mb, ct := multipartCase(t, "case", tc.body, tc.photos)
				code, body = a.do(t, "POST", "/v1/cases", tc.token, ct, mb)
			} else {
				code, body = a.json(t, "POST", "/v1/cases", tc.token, tc.body)
			}
			if code != tc.status || errCode(body) != tc.code {
				t.Fatalf("%d %v, want %d %s", code, body, tc.status, tc.code)
			}
		})
	}
	if n := count(); n != 0 {
		t.Fatalf("refused reports wrote %d rows", n)
	}
	// Outside every grid: accepted, routed to the fallback department, flagged.
	code, body := a.json(t, "POST", "/v1/cases", a.dispatcher, map[string]any{"category_code": "0101", "lon": 113.70, "lat": 34.70})
	if code != http.StatusCreated {
		t.Fatalf("outside: %d %v", code, body)
	}
	c := body["case"].(map[string]any)
	if c["party"].(map[string]any)["ref"] != "center" || !strings.Contains(fmt.Sprint(c["flags"]), "outside") {
		t.Fatalf("outside: %v", c)
	}
}

func TestCasesAPILists(t *testing.T) {
	a := newCasesAPI(t)
	code, body := a.do(t, "GET", "/v1/case-categories", "", "", nil)
	if code != http.StatusOK || len(body["categories"].([]any)) < 20 {
		t.Fatalf("catalogue: %d", code)
	}
	// An import with bad lines writes nothing and names the lines.
	csv := "code,standard,name,class_code,kind\n0601,legacy,新类别,06,incident\n0602,legacy,,06,incident\n0603,legacy,坏类型,06,thing\n"
	code, body = a.do(t, "POST", "/v1/case-categories/import", a.supervisor, "text/csv", []byte(csv))
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("bad import: %d %v", code, body)
	}
	probs := body["report"].(map[string]any)["problems"].([]any)
	if len(probs) != 2 || probs[0].(map[string]any)["index"].(float64) != 3 || probs[1].(map[string]any)["index"].(float64) != 4 {
		t.Fatalf("problems %v", probs)
	}
	if code, body = a.do(t, "GET", "/v1/case-categories", "", "", nil); code != http.StatusOK {
		t.Fatalf("catalogue: %d", code)
	}
	for _, c := range body["categories"].([]any) {
		if c.(map[string]any)["code"] == "0601" {
			t.Fatal("a refused import wrote 0601")
		}
	}
	// Whether the patrol should have found a category first (the missed-report figure): true
	// unless said, set by PUT or by the import's patrol_findable column (checked per line).
	if code, body = a.json(t, "PUT", "/v1/case-categories/0607", a.supervisor, map[string]any{"standard": "legacy", "name": "井盖丢失", "class_code": "06", "kind": "asset",
		"patrol_findable": false}); code != http.StatusOK || body["patrol_findable"] != false {
		t.Fatalf("put with patrol_findable false: %d %v", code, body)
	}
	csv = "code,standard,name,class_code,kind,巡查应发现\n0608,legacy,新类别,06,incident,false\n0609,legacy,又一类别,06,incident,\n0610,legacy,坏值,06,incident,maybe\n"
	if code, body = a.do(t, "POST", "/v1/case-categories/import", a.supervisor, "text/csv", []byte(csv)); code != http.StatusUnprocessableEntity ||
		len(body["report"].(map[string]any)["problems"].([]any)) != 1 || body["report"].(map[string]any)["problems"].([]any)[0].(map[string]any)["field"] != "patrol_findable" {
		t.Fatalf("import with a bad patrol_findable: %d %v", code, body)
	}
	csv = "code,standard,name,class_code,kind,巡查应发现\n0608,legacy,新类别,06,incident,false\n0609,legacy,又一类别,06,incident,\n"
	if code, body = a.do(t, "POST", "/v1/case-categories/import", a.supervisor, "text/csv", []byte(csv)); code != http.StatusOK {
		t.Fatalf("import with patrol_findable: %d %v", code, body)
	}
	_, body = a.do(t, "GET", "/v1/case-categories", "", "", nil)
	findable := map[string]any{}
	for _, c := range body["categories"].([]any) {
		findable[c.(map[string]any)["code"].(string)] = c.(map[string]any)["patrol_findable"]
	}
	if findable["0607"] != false || findable["0608"] != false || findable["0609"] != true || findable["0101"] != true {
		t.Fatalf("patrol_findable: 0607 %v 0608 %v 0609 %v 0101 %v", findable["0607"], findable["0608"], findable["0609"], findable["0101"])
	}
	// Only a district-wide supervisor edits the responsibility list; every change is audited.
	rule := map[string]any{"ord": 5, "category_code": "0101", "party_kind": "department", "party_ref": "chengguan"}
	if code, body = a.json(t, "POST", "/v1/responsibility-rules", a.dispatcher, rule); code != http.StatusForbidden {
		t.Fatalf("rule by a dispatcher: %d %v", code, body)
	}
	if code, body = a.json(t, "POST", "/v1/responsibility-rules", a.supervisor, map[string]any{"ord": 5, "category_code": "0101", "party_kind": "department", "party_ref": "nobody"}); code != http.StatusBadRequest {
		t.Fatalf("rule to an unknown department: %d %v", code, body)
	}
	if code, body = a.json(t, "POST", "/v1/responsibility-rules", a.supervisor, rule); code != http.StatusCreated {
		t.Fatalf("rule: %d %v", code, body)
	}
	// The new first rule routes at once (the engine's table was invalidated).
	code, body = a.json(t, "POST", "/v1/cases", a.dispatcher, map[string]any{"category_code": "0101", "lon": 113.603, "lat": 34.715})
	if code != http.StatusCreated || body["case"].(map[string]any)["party"].(map[string]any)["ref"] != "chengguan" {
		t.Fatalf("routed by the new rule: %d %v", code, body)
	}
	var n int
	if err := storetest.Raw(t, a.db).QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action = 'responsibility_rule.create' AND username = 'supervisor'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("audit rows %d %v", n, err)
	}
}
