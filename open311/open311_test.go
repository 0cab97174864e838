package open311

import (
	"encoding/json"
	"encoding/xml"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestParseReport(t *testing.T) {
	v := url.Values{"service_code": {"06010"}, "lat": {"34.7426"}, "long": {"113.6524"}, "description": {"垃圾"},
		"attribute[urgency]": {"urgent"}, "email": {"a@b.cn"}, "jurisdiction_id": {"x"}}
	r, err := ParseReport(v)
	if err != nil {
		t.Fatal(err)
	}
	if r.ServiceCode != "06010" || *r.Lat != 34.7426 || *r.Lon != 113.6524 || r.Urgency != "urgent" {
		t.Fatalf("%+v", r)
	}
	// An address alone is a location.
	if _, err := ParseReport(url.Values{"service_code": {"06010"}, "address_string": {"大学路 1 号"}}); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		v    url.Values
		want []string
	}{
		"nothing":          {url.Values{}, []string{"service_code was not provided", "a location was not provided"}},
		"lat only":         {url.Values{"service_code": {"1"}, "lat": {"34"}}, []string{"lat and long must both be sent"}},
		"lat out of range": {url.Values{"service_code": {"1"}, "lat": {"95"}, "long": {"113"}}, []string{`lat "95" is out of range -90..90`}},
		"long not number":  {url.Values{"service_code": {"1"}, "lat": {"34"}, "long": {"east"}}, []string{`long "east" is not a number`}},
		"NaN":              {url.Values{"service_code": {"1"}, "lat": {"NaN"}, "long": {"113"}}, []string{"is not a number"}},
		"long description": {url.Values{"service_code": {"1"}, "lat": {"34"}, "long": {"113"}, "description": {strings.Repeat("字", 4001)}}, []string{"4001 characters"}},
		"unknown attr":     {url.Values{"service_code": {"1"}, "lat": {"34"}, "long": {"113"}, "attribute[colour]": {"red"}}, []string{`attribute "colour" is not defined`}},
		"bad urgency":      {url.Values{"service_code": {"1"}, "lat": {"34"}, "long": {"113"}, "attribute[urgency]": {"now"}}, []string{`"now" is not one of normal, urgent`}},
		"bad media":        {url.Values{"service_code": {"1"}, "lat": {"34"}, "long": {"113"}, "media_url": {"javascript:x"}}, []string{"media_url"}},
	} {
		_, err := ParseReport(c.v)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		e := ErrorsOf(err)
		if e.Status != 400 || len(e.List) != len(c.want) {
			t.Errorf("%s: %d %v", name, e.Status, e.List)
			continue
		}
		for i, w := range c.want {
			if !strings.Contains(e.List[i].Description, w) || e.List[i].Code != 400 {
				t.Errorf("%s: %q does not say %q", name, e.List[i].Description, w)
			}
		}
	}
}

func TestParseQuery(t *testing.T) {
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	q, err := ParseQuery(url.Values{}, now)
	if err != nil || !q.To.Equal(now) || q.From != now.Add(-MaxSpan) || q.Limit != MaxRequests {
		t.Fatalf("%+v %v", q, err)
	}
	q, err = ParseQuery(url.Values{"service_request_id": {"3, 4"}, "status": {"bogus"}}, now)
	if err != nil || len(q.IDs) != 2 {
		t.Fatalf("ids override: %+v %v", q, err)
	}
	q, err = ParseQuery(url.Values{"status": {"open,closed"}, "service_code": {"06010,09006"}, "start_date": {"2026-11-01T08:00:00+08:00"}}, now)
	if err != nil || len(q.Status) != 2 || len(q.Codes) != 2 || !q.From.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) || q.To.Sub(q.From) != MaxSpan {
		t.Fatalf("%+v %v", q, err)
	}
	for _, v := range []url.Values{
		{"status": {"pending"}},
		{"start_date": {"2026-11-01"}},
		{"start_date": {"2026-01-01T00:00:00Z"}, "end_date": {"2026-12-01T00:00:00Z"}},
		{"start_date": {"2026-12-01T00:00:00Z"}, "end_date": {"2026-11-01T00:00:00Z"}},
	} {
		if _, err := ParseQuery(v, now); err == nil || ErrorsOf(err).Status != 400 {
			t.Errorf("%v: %v", v, err)
		}
	}
}

func TestJurisdiction(t *testing.T) {
	if CheckJurisdiction(url.Values{}, "erqi.gov.cn") != nil || CheckJurisdiction(url.Values{"jurisdiction_id": {"ERQI.gov.cn"}}, "erqi.gov.cn") != nil {
		t.Fatal("this jurisdiction refused")
	}
	if e := ErrorsOf(CheckJurisdiction(url.Values{"jurisdiction_id": {"sfgov.org"}}, "erqi.gov.cn")); e.Status != 404 {
		t.Fatal(e)
	}
}

// The XML forms have the specification's root and element names, and the fields that have no
// value are present and empty.
func TestEncodeXML(t *testing.T) {
	b := Encode(XML, []Request{RequestOf(Case{ID: "7", ServiceCode: "06010", State: "dispatched", ReportedAt: time.Unix(0, 0)})})
	s := string(b)
	if !strings.HasPrefix(s, `<?xml version="1.0" encoding="utf-8"?>`) {
		t.Fatal(s)
	}
	for _, want := range []string{"<service_requests>", "<request>", "<service_request_id>7</service_request_id>", "<status>open</status>",
		"<status_notes></status_notes>", "<agency_responsible></agency_responsible>", "<lat></lat>", "<long></long>",
		"<expected_datetime></expected_datetime>", "<requested_datetime>1970-01-01T00:00:00Z</requested_datetime>", "<address_id></address_id>", "<zipcode></zipcode>", "<media_url></media_url>"} {
		if !strings.Contains(s, want) {
			t.Errorf("no %s in\n%s", want, s)
		}
	}
	var doc struct {
		Requests []struct {
			ID string `xml:"service_request_id"`
		} `xml:"request"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil || len(doc.Requests) != 1 {
		t.Fatal(err, doc)
	}
	s = string(Encode(XML, Services([]Category{{Code: "06010", Name: "暴露垃圾", Class: "市容环境"}})))
	for _, want := range []string{"<services>", "<service>", "<service_code>06010</service_code>", "<group>市容环境</group>", "<type>realtime</type>", "<keywords></keywords>", "<metadata>true</metadata>"} {
		if !strings.Contains(s, want) {
			t.Errorf("no %s in\n%s", want, s)
		}
	}
	s = string(Encode(XML, DefinitionOf("06010")))
	for _, want := range []string{"<service_definition>", "<attributes>", "<attribute>", "<code>urgency</code>", "<values>", "<value>", "<key>urgent</key>", "<datatype>singlevaluelist</datatype>"} {
		if !strings.Contains(s, want) {
			t.Errorf("no %s in\n%s", want, s)
		}
	}
	s = string(Encode(XML, &Errors{Status: 400, List: []Error{{400, "service_code was not provided"}}}))
	if !strings.Contains(s, "<errors>") || !strings.Contains(s, "<error>") || !strings.Contains(s, "<code>400</code>") || !strings.Contains(s, "<description>service_code was not provided</description>") {
		t.Error(s)
	}
	s = string(Encode(XML, []Created{{ServiceRequestID: "9"}}))
	if !strings.Contains(s, "<service_request_id>9</service_request_id>") || !strings.Contains(s, "<account_id></account_id>") || !strings.Contains(s, "<service_notice></service_notice>") {
		t.Error(s)
	}
	s = string(Encode(XML, DiscoveryOf("http://x/open311/v2", "c", "k")))
	if !strings.Contains(s, "<discovery>") || !strings.Contains(s, "<endpoint>") || !strings.Contains(s, "<format>text/xml</format>") || !strings.Contains(s, "<specification>"+Specification+"</specification>") {
		t.Error(s)
	}
}

func TestEncodeJSON(t *testing.T) {
	lat, lon := 34.7, 113.6
	due := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	var got []map[string]any
	if err := json.Unmarshal(Encode(JSON, []Request{RequestOf(Case{ID: "7", State: "dispatched", Lat: &lat, Lon: &lon, ExpectedAt: &due}),
		RequestOf(Case{ID: "8", State: "closed", ExpectedAt: &due})}), &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"service_request_id", "status", "status_notes", "service_name", "service_code", "description", "agency_responsible",
		"service_notice", "requested_datetime", "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"} {
		if _, ok := got[1][k]; !ok {
			t.Errorf("no %s in %v", k, got[1])
		}
	}
	if got[0]["lat"] != 34.7 || got[0]["expected_datetime"] != "2026-12-07T01:00:00Z" || got[1]["lat"] != nil || got[1]["expected_datetime"] != nil || got[1]["status"] != "closed" {
		t.Errorf("%v", got)
	}
	var errs []Error
	if err := json.Unmarshal(Encode(JSON, &Errors{Status: 404, List: []Error{{404, "no"}}}), &errs); err != nil || errs[0].Code != 404 {
		t.Fatal(err, errs)
	}
	var created []map[string]any
	json.Unmarshal(Encode(JSON, []Created{{ServiceRequestID: "9"}}), &created)
	if v, ok := created[0]["account_id"]; !ok || v != nil {
		t.Errorf("%v", created)
	}
}
