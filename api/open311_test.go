package api

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/importers"
	"gridline.dev/gridline/open311"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/store/storetest"
	"gridline.dev/gridline/tiles"
)

// memCases is a case engine in memory, as far as Open311 sees it: the contract tests check the
// wire formats and the errors against the specification, whatever files the cases.
type memCases struct {
	mu    sync.Mutex
	cases []open311.Case
	filed []open311.Report
	actor []*gridline.Actor
	clock func() time.Time
}

func (m *memCases) Categories(context.Context) ([]open311.Category, error) {
	return []open311.Category{{Code: "06010", Name: "暴露垃圾", Class: "市容环境", Description: "exposed rubbish", Keywords: []string{"垃圾", "rubbish"}},
		{Code: "09006", Name: "占道经营", Class: "街面秩序"}}, nil
}

func (m *memCases) File(ctx context.Context, _ *accounts.Principal, r open311.Report) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id := fmt.Sprint(100 + len(m.cases))
	m.filed = append(m.filed, r)
	m.actor = append(m.actor, gridline.ActorFrom(ctx))
	m.cases = append(m.cases, open311.Case{ID: id, ServiceCode: r.ServiceCode, Description: r.Description, State: "reported",
		ReportedAt: m.clock(), UpdatedAt: m.clock(), Lon: r.Lon, Lat: r.Lat, Address: r.AddressString})
	return id, nil
}

func (m *memCases) Find(_ context.Context, q open311.Query) ([]open311.Case, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []open311.Case
	for _, c := range m.cases {
		if len(q.IDs) > 0 {
			for _, id := range q.IDs {
				if id == c.ID {
					out = append(out, c)
				}
			}
			continue
		}
		if c.ReportedAt.Before(q.From) || c.ReportedAt.After(q.To) {
			continue
		}
		if len(q.Status) > 0 && !strings.Contains(strings.Join(q.Status, ","), open311.Status(c.State)) {
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

func open311Server(t *testing.T) (*httptest.Server, *memCases, string, *store.DB) {
	t.Helper()
	db := storetest.New(t)
	if err := db.Load(context.Background(), storetest.Fixture(), 1); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	cases := &memCases{clock: func() time.Time { return now }}
	res := resolve.NewIncremental(fixtureStore{}, gridline.SystemClock{}, shanghai(t))
	srv := wire(db, res, nil, Options{Clock: fixedClock{now}, Open311: Open311Options{Cases: cases, Jurisdiction: "erqi.gov.cn", Contact: "12345"}}, tiles.Options{}, importers.Config{})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	reporter := storetest.Token(t, db, "reporter", storetest.Everywhere(accounts.GridWorker))
	return ts, cases, reporter, db
}

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

// get311 sends a request and returns status, content type and body.
func do311(t *testing.T, method, u string, form url.Values) (int, string, []byte) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, u, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), b
}

// errors311 decodes an Open311 error answer in either format.
func errors311(t *testing.T, format string, b []byte) []open311.Error {
	t.Helper()
	var errs []open311.Error
	if format == "json" {
		if err := json.Unmarshal(b, &errs); err != nil {
			t.Fatalf("not an Open311 JSON error list: %v\n%s", err, b)
		}
	} else {
		var doc struct {
			XMLName xml.Name        `xml:"errors"`
			Errors  []open311.Error `xml:"error"`
		}
		if err := xml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("not an Open311 XML error document: %v\n%s", err, b)
		}
		errs = doc.Errors
	}
	if len(errs) == 0 {
		t.Fatalf("no errors in %s", b)
	}
	return errs
}

// fields is every element or key of each record of an answer: the XML children of each record
// element, or the keys of each JSON object.
func fields(t *testing.T, format string, b []byte, record string) []map[string]string {
	t.Helper()
	var out []map[string]string
	if format == "json" {
		var list []map[string]any
		if err := json.Unmarshal(b, &list); err != nil {
			var one map[string]any
			if err := json.Unmarshal(b, &one); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, b)
			}
			list = []map[string]any{one}
		}
		for _, m := range list {
			r := map[string]string{}
			for k, v := range m {
				if v == nil {
					r[k] = ""
				} else {
					r[k] = strings.Trim(fmt.Sprint(v), "[]")
				}
			}
			out = append(out, r)
		}
		return out
	}
	dec := xml.NewDecoder(strings.NewReader(string(b)))
	var cur map[string]string
	depth, recDepth := 0, -1
	var name string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not XML: %v\n%s", err, b)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			depth++
			if tk.Name.Local == record && cur == nil {
				cur, recDepth = map[string]string{}, depth
			} else if cur != nil && depth == recDepth+1 {
				name = tk.Name.Local
				cur[name] = ""
			}
		case xml.CharData:
			if cur != nil && depth == recDepth+1 && name != "" {
				cur[name] += strings.TrimSpace(string(tk))
			}
		case xml.EndElement:
			if cur != nil && depth == recDepth {
				out = append(out, cur)
				cur = nil
			}
			depth--
		}
	}
	return out
}

func has(t *testing.T, what string, rec map[string]string, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := rec[k]; !ok {
			t.Errorf("%s: no %s in %v", what, k, rec)
		}
	}
}

var requestFields = []string{"service_request_id", "status", "status_notes", "service_name", "service_code", "description",
	"agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime", "address",
	"address_id", "zipcode", "lat", "long", "media_url"}

// TestOpen311Contract runs every method of GeoReport v2 in both formats and checks each answer's
// content type, root and fields against the specification, required fields present even when
// empty.
func TestOpen311Contract(t *testing.T) {
	ts, cases, key, _ := open311Server(t)
	base := ts.URL + "/open311/v2/"
	for _, f := range []string{"xml", "json"} {
		ct := map[string]string{"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}[f]
		check := func(what string, status int, gotCT string, b []byte, want int) {
			t.Helper()
			if status != want || gotCT != ct {
				t.Fatalf("%s.%s: %d %s, want %d %s\n%s", what, f, status, gotCT, want, ct, b)
			}
			if f == "xml" && !strings.HasPrefix(string(b), `<?xml version="1.0" encoding="utf-8"?>`) {
				t.Errorf("%s.xml has no XML declaration", what)
			}
		}

		st, gotCT, b := do311(t, "GET", base+"discovery."+f, nil)
		check("discovery", st, gotCT, b, 200)
		d := fields(t, f, b, "discovery")
		has(t, "discovery", d[0], "changeset", "contact", "key_service", "endpoints")
		if !strings.Contains(string(b), open311.Specification) || !strings.Contains(string(b), ts.URL+"/open311/v2") {
			t.Errorf("discovery does not name the specification and endpoint:\n%s", b)
		}

		st, gotCT, b = do311(t, "GET", base+"services."+f+"?jurisdiction_id=erqi.gov.cn", nil)
		check("services", st, gotCT, b, 200)
		svcs := fields(t, f, b, "service")
		if len(svcs) != 2 || svcs[0]["service_code"] != "06010" || svcs[0]["group"] != "市容环境" || svcs[0]["type"] != "realtime" || svcs[1]["keywords"] != "" {
			t.Errorf("services.%s: %v", f, svcs)
		}
		for _, s := range svcs {
			has(t, "service", s, "service_code", "service_name", "description", "metadata", "type", "keywords", "group")
		}

		st, gotCT, b = do311(t, "GET", base+"services/06010."+f, nil)
		check("service definition", st, gotCT, b, 200)
		def := fields(t, f, b, "service_definition")
		has(t, "service definition", def[0], "service_code", "attributes")
		attrs := fields(t, f, b, "attribute")
		if f == "json" {
			var doc struct {
				Attributes []map[string]any `json:"attributes"`
			}
			json.Unmarshal(b, &doc)
			attrs = nil
			for _, a := range doc.Attributes {
				m := map[string]string{}
				for k, v := range a {
					m[k] = fmt.Sprint(v)
				}
				attrs = append(attrs, m)
			}
		}
		if len(attrs) != 1 || attrs[0]["code"] != "urgency" {
			t.Fatalf("attributes.%s: %v", f, attrs)
		}
		has(t, "attribute", attrs[0], "variable", "code", "datatype", "required", "datatype_description", "order", "description", "values")

		form := url.Values{"api_key": {key}, "jurisdiction_id": {"erqi.gov.cn"}, "service_code": {"06010"}, "lat": {"34.7426"}, "long": {"113.6524"},
			"description": {"路口垃圾堆放"}, "first_name": {"明"}, "last_name": {"李"}, "phone": {"13800000000"}, "attribute[urgency]": {"urgent"}}
		st, gotCT, b = do311(t, "POST", base+"requests."+f, form)
		check("POST requests", st, gotCT, b, 201)
		created := fields(t, f, b, "request")
		if len(created) != 1 || created[0]["service_request_id"] == "" {
			t.Fatalf("POST requests.%s: %v", f, created)
		}
		has(t, "POST requests", created[0], "service_request_id", "service_notice", "account_id")
		if _, ok := created[0]["token"]; ok {
			t.Errorf("POST requests.%s returns a token beside the id", f)
		}
		id := created[0]["service_request_id"]
		last := cases.filed[len(cases.filed)-1]
		if last.Urgency != "urgent" || *last.Lat != 34.7426 || last.FirstName != "明" {
			t.Errorf("filed %+v", last)
		}
		if a := cases.actor[len(cases.actor)-1]; a == nil || a.Username != "reporter" {
			t.Errorf("filed as %+v, not the api_key's account", a)
		}

		st, gotCT, b = do311(t, "GET", base+"requests."+f+"?status=open&service_code=06010", nil)
		check("GET requests", st, gotCT, b, 200)
		reqs := fields(t, f, b, "request")
		if len(reqs) == 0 {
			t.Fatalf("GET requests.%s: nothing", f)
		}
		for _, r := range reqs {
			has(t, "GET requests", r, requestFields...)
		}

		st, gotCT, b = do311(t, "GET", base+"requests/"+id+"."+f, nil)
		check("GET request", st, gotCT, b, 200)
		one := fields(t, f, b, "request")
		if len(one) != 1 || one[0]["service_request_id"] != id || one[0]["status"] != "open" || one[0]["lat"] != "34.7426" || one[0]["requested_datetime"] != "2026-12-06T09:00:00Z" {
			t.Errorf("GET requests/%s.%s: %v", id, f, one)
		}
		has(t, "GET request", one[0], requestFields...)

		st, gotCT, b = do311(t, "GET", base+"tokens/"+id+"."+f, nil)
		check("GET token", st, gotCT, b, 200)
		tok := fields(t, f, b, "request")
		if len(tok) != 1 || tok[0]["service_request_id"] != id || tok[0]["token"] != id {
			t.Errorf("tokens.%s: %v", f, tok)
		}
	}
}

// TestOpen311Errors: every error under /open311 is Open311's list of {code, description}, in the
// format asked for, with the status the specification gives; nothing is filed.
func TestOpen311Errors(t *testing.T) {
	ts, cases, key, db := open311Server(t)
	base := ts.URL + "/open311/v2/"
	ok := url.Values{"api_key": {key}, "service_code": {"06010"}, "lat": {"34.7"}, "long": {"113.6"}}
	with := func(kv ...string) url.Values {
		v := url.Values{}
		for k, vs := range ok {
			v[k] = vs
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				v.Del(kv[i])
			} else {
				v.Set(kv[i], kv[i+1])
			}
		}
		return v
	}
	viewer := storetest.Token(t, db, "viewer", storetest.Everywhere(accounts.Viewer))
	for _, c := range []struct {
		name, method, path string
		form               url.Values
		status             int
		says               []string
	}{
		{"missing service_code", "POST", "requests", with("service_code", ""), 400, []string{"service_code was not provided"}},
		{"missing location", "POST", "requests", with("lat", "", "long", ""), 400, []string{"a location was not provided"}},
		{"missing everything", "POST", "requests", url.Values{"api_key": {key}}, 400, []string{"service_code was not provided", "a location was not provided"}},
		{"bad lat", "POST", "requests", with("lat", "95"), 400, []string{`lat "95" is out of range`}},
		{"bad long", "POST", "requests", with("long", "x"), 400, []string{`long "x" is not a number`}},
		{"lat without long", "POST", "requests", with("long", ""), 400, []string{"lat and long must both be sent"}},
		{"unknown service_code", "POST", "requests", with("service_code", "99999"), 404, []string{`service_code "99999" was not found`}},
		{"no api_key", "POST", "requests", with("api_key", ""), 403, []string{"api_key was not provided"}},
		{"bad api_key", "POST", "requests", with("api_key", "glt_nonsense"), 403, []string{"api_key is not a valid API token"}},
		{"api_key without cases.report", "POST", "requests", with("api_key", viewer), 403, []string{"may not report cases"}},
		{"wrong jurisdiction", "POST", "requests", with("jurisdiction_id", "sfgov.org"), 404, []string{`jurisdiction_id "sfgov.org" was not found`}},
		{"wrong jurisdiction on GET", "GET", "services.FORMAT?jurisdiction_id=sfgov.org", nil, 404, []string{"jurisdiction_id"}},
		{"unknown service definition", "GET", "services/99999.FORMAT", nil, 404, []string{`service_code "99999" was not found`}},
		{"unknown request", "GET", "requests/424242.FORMAT", nil, 404, []string{`service_request_id "424242" was not found`}},
		{"unknown token", "GET", "tokens/424242.FORMAT", nil, 404, []string{`token "424242" was not found`}},
		{"bad status", "GET", "requests.FORMAT?status=pending", nil, 400, []string{`status "pending" is not open or closed`}},
		{"bad date", "GET", "requests.FORMAT?start_date=yesterday", nil, 400, []string{"start_date"}},
		{"span over 90 days", "GET", "requests.FORMAT?start_date=2026-01-01T00:00:00Z&end_date=2026-12-01T00:00:00Z", nil, 400, []string{"more than the 90"}},
		{"unknown resource", "GET", "things.FORMAT", nil, 404, []string{"no such Open311 resource"}},
		{"method", "DELETE", "services.FORMAT", nil, 405, []string{"DELETE is not allowed"}},
	} {
		for _, f := range []string{"xml", "json"} {
			path := c.path
			if !strings.Contains(path, "FORMAT") {
				path += ".FORMAT"
			}
			path = strings.Replace(path, "FORMAT", f, 1)
			n := len(cases.filed)
			st, _, b := do311(t, c.method, base+path, c.form)
			if st != c.status {
				t.Errorf("%s (%s): %d, want %d\n%s", c.name, f, st, c.status, b)
				continue
			}
			errs := errors311(t, f, b)
			for i, want := range c.says {
				if i >= len(errs) || !strings.Contains(errs[i].Description, want) || errs[i].Code != c.status {
					t.Errorf("%s (%s): %+v does not say %q with code %d", c.name, f, errs, want, c.status)
				}
			}
			if len(cases.filed) != n {
				t.Errorf("%s (%s): a case was filed", c.name, f)
			}
		}
	}
	// No extension: XML, Open311's required format.
	st, ct, b := do311(t, "GET", base+"services", nil)
	if st != 404 || ct != "text/xml; charset=utf-8" || len(errors311(t, "xml", b)) != 1 {
		t.Errorf("services without a format: %d %s %s", st, ct, b)
	}
	// Outside /open311 the project's own error shape stays.
	resp, _ := http.Get(ts.URL + "/v1/nothing")
	var e struct{ Error gridline.Error }
	json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	if e.Error.Code != gridline.ENotFound {
		t.Errorf("outside /open311: %+v", e)
	}
}
