package open311

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"time"
)

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

// Format is an answer's format, from the path's extension.
type Format string

const (
	XML  Format = "xml"
	JSON Format = "json"
)

// ContentType is the format's Content-Type header, as the specification gives it.
func (f Format) ContentType() string {
	if f == JSON {
		return "application/json; charset=utf-8"
	}
	return "text/xml; charset=utf-8"
}

// Value is one choice of a list attribute.
type Value struct {
	Key  string `json:"key" xml:"key"`
	Name string `json:"name" xml:"name"`
}

// Attribute is one field of a service definition.
type Attribute struct {
	Variable            bool    `json:"variable" xml:"variable"`
	Code                string  `json:"code" xml:"code"`
	Datatype            string  `json:"datatype" xml:"datatype"`
	Required            bool    `json:"required" xml:"required"`
	DatatypeDescription string  `json:"datatype_description" xml:"datatype_description"`
	Order               int     `json:"order" xml:"order"`
	Description         string  `json:"description" xml:"description"`
	Values              []Value `json:"values" xml:"values>value"`
}

func (a Attribute) allows(v string) bool {
	if a.Datatype != "singlevaluelist" && a.Datatype != "multivaluelist" {
		return true
	}
	for _, x := range a.Values {
		if x.Key == v {
			return true
		}
	}
	return false
}

func (a Attribute) keys() string {
	var k []string
	for _, x := range a.Values {
		k = append(k, x.Key)
	}
	return strings.Join(k, ", ")
}

// attributes are the attributes every service has: the case's urgency. (The catalogue has no
// per-category fields yet; they would join these.)
var attributes = []Attribute{{
	Variable: true, Code: "urgency", Datatype: "singlevaluelist", Required: false, Order: 1,
	DatatypeDescription: "normal or urgent",
	Description:         "紧急程度 / urgency: urgent cases are routed and timed as urgent",
	Values:              []Value{{Key: "normal", Name: "一般 / normal"}, {Key: "urgent", Name: "紧急 / urgent"}},
}}

func attributeByCode(code string) (Attribute, bool) {
	for _, a := range attributes {
		if a.Code == code {
			return a, true
		}
	}
	return Attribute{}, false
}

// Service is one entry of GET services.
type Service struct {
	XMLName     xml.Name `json:"-" xml:"service"`
	ServiceCode string   `json:"service_code" xml:"service_code"`
	ServiceName string   `json:"service_name" xml:"service_name"`
	Description string   `json:"description" xml:"description"`
	Metadata    bool     `json:"metadata" xml:"metadata"`
	Type        string   `json:"type" xml:"type"`
	Keywords    string   `json:"keywords" xml:"keywords"`
	Group       string   `json:"group" xml:"group"`
}

// Services is the service list from the catalogue: every category a realtime service (intake
// files the case at once), grouped by its class, with the urgency attribute.
func Services(cats []Category) []Service {
	out := make([]Service, 0, len(cats))
	for _, c := range cats {
		out = append(out, Service{ServiceCode: c.Code, ServiceName: c.Name, Description: c.Description, Metadata: len(attributes) > 0,
			Type: "realtime", Keywords: strings.Join(c.Keywords, ", "), Group: c.Class})
	}
	return out
}

// Definition is GET services/{code}: the service's attributes.
type Definition struct {
	XMLName     xml.Name    `json:"-" xml:"service_definition"`
	ServiceCode string      `json:"service_code" xml:"service_code"`
	Attributes  []Attribute `json:"attributes" xml:"attributes>attribute"`
}

// DefinitionOf is the service definition of category code.
func DefinitionOf(code string) Definition {
	return Definition{ServiceCode: code, Attributes: attributes}
}

// Request is one service request as GET requests shows it. Every field is present: text as ""
// when empty, and in JSON lat, long and expected_datetime as null when unknown.
type Request struct {
	ServiceRequestID  string   `json:"service_request_id" xml:"service_request_id"`
	Status            string   `json:"status" xml:"status"`
	StatusNotes       string   `json:"status_notes" xml:"status_notes"`
	ServiceName       string   `json:"service_name" xml:"service_name"`
	ServiceCode       string   `json:"service_code" xml:"service_code"`
	Description       string   `json:"description" xml:"description"`
	AgencyResponsible string   `json:"agency_responsible" xml:"agency_responsible"`
	ServiceNotice     string   `json:"service_notice" xml:"service_notice"`
	RequestedDatetime string   `json:"requested_datetime" xml:"requested_datetime"`
	UpdatedDatetime   string   `json:"updated_datetime" xml:"updated_datetime"`
	ExpectedDatetime  *string  `json:"expected_datetime" xml:"-"`
	Address           string   `json:"address" xml:"address"`
	AddressID         string   `json:"address_id" xml:"address_id"`
	Zipcode           string   `json:"zipcode" xml:"zipcode"`
	Lat               *float64 `json:"lat" xml:"-"`
	Long              *float64 `json:"long" xml:"-"`
	MediaURL          string   `json:"media_url" xml:"media_url"`
}

// w3time is t in W3C form, in UTC.
func w3time(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// RequestOf is c as a service request.
func RequestOf(c Case) Request {
	r := Request{ServiceRequestID: c.ID, Status: Status(c.State), StatusNotes: c.StatusNotes, ServiceName: c.ServiceName,
		ServiceCode: c.ServiceCode, Description: c.Description, AgencyResponsible: c.Agency,
		RequestedDatetime: w3time(c.ReportedAt), UpdatedDatetime: w3time(c.UpdatedAt), Address: c.Address,
		Lat: c.Lat, Long: c.Lon, MediaURL: c.MediaURL}
	if c.ExpectedAt != nil && r.Status == "open" {
		s := w3time(*c.ExpectedAt)
		r.ExpectedDatetime = &s
	}
	return r
}

// Created is POST requests' answer: the new request's id (gridline's services are realtime, so
// never a token), the service notice, and the account_id as sent.
type Created struct {
	ServiceRequestID string  `json:"service_request_id"`
	ServiceNotice    string  `json:"service_notice"`
	AccountID        *string `json:"account_id"`
}

// TokenAnswer is GET tokens/{token}'s answer.
type TokenAnswer struct {
	ServiceRequestID string `json:"service_request_id" xml:"service_request_id"`
	Token            string `json:"token" xml:"token"`
}

// Discovery is the service discovery document.
type Discovery struct {
	XMLName    xml.Name   `json:"-" xml:"discovery"`
	Changeset  string     `json:"changeset" xml:"changeset"`
	Contact    string     `json:"contact" xml:"contact"`
	KeyService string     `json:"key_service" xml:"key_service"`
	Endpoints  []Endpoint `json:"endpoints" xml:"endpoints>endpoint"`
}

// Endpoint is one API endpoint of discovery.
type Endpoint struct {
	Specification string   `json:"specification" xml:"specification"`
	URL           string   `json:"url" xml:"url"`
	Changeset     string   `json:"changeset" xml:"changeset"`
	Type          string   `json:"type" xml:"type"`
	Formats       []string `json:"formats" xml:"formats>format"`
}

// Changeset is when this interface last changed, as discovery reports it.
const Changeset = "2026-12-06T00:00:00Z"

// DiscoveryOf is the discovery document for the API at base (the /open311/v2 URL).
func DiscoveryOf(base, contact, keyService string) Discovery {
	return Discovery{Changeset: Changeset, Contact: contact, KeyService: keyService,
		Endpoints: []Endpoint{{Specification: Specification, URL: base, Changeset: Changeset, Type: "production",
			Formats: []string{"text/xml", "application/json"}}}}
}

// Encode writes v in format f. Lists are JSON arrays and XML documents with the specification's
// root element (services, service_requests, errors). XML starts with the declaration the
// specification asks for.
func Encode(f Format, v any) []byte {
	if f == JSON {
		b, err := json.Marshal(jsonOf(v))
		if err != nil {
			return []byte(`[{"code":500,"description":"could not encode the answer"}]`)
		}
		return append(b, '\n')
	}
	var buf bytes.Buffer
	buf.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := encodeXML(enc, v); err != nil {
		return []byte(`<?xml version="1.0" encoding="utf-8"?>` + "\n<errors><error><code>500</code><description>could not encode the answer</description></error></errors>\n")
	}
	enc.Flush()
	buf.WriteByte('\n')
	return buf.Bytes()
}

// jsonOf is what JSON answers send for v: errors as their list.
func jsonOf(v any) any {
	if e, ok := v.(*Errors); ok {
		return e.List
	}
	return v
}

func encodeXML(enc *xml.Encoder, v any) error {
	switch v := v.(type) {
	case []Service:
		return enc.Encode(struct {
			XMLName  xml.Name  `xml:"services"`
			Services []Service `xml:"service"`
		}{Services: v})
	case []Request:
		type req struct {
			XMLName xml.Name `xml:"request"`
			Request
			ExpectedDatetime string `xml:"expected_datetime"`
			Lat              string `xml:"lat"`
			Long             string `xml:"long"`
		}
		out := make([]req, len(v))
		for i, r := range v {
			out[i] = req{Request: r, Lat: num(r.Lat), Long: num(r.Long)}
			if r.ExpectedDatetime != nil {
				out[i].ExpectedDatetime = *r.ExpectedDatetime
			}
		}
		return enc.Encode(struct {
			XMLName  xml.Name `xml:"service_requests"`
			Requests []req
		}{Requests: out})
	case []Created:
		type req struct {
			XMLName          xml.Name `xml:"request"`
			ServiceRequestID string   `xml:"service_request_id"`
			ServiceNotice    string   `xml:"service_notice"`
			AccountID        string   `xml:"account_id"`
		}
		out := make([]req, len(v))
		for i, c := range v {
			out[i] = req{ServiceRequestID: c.ServiceRequestID, ServiceNotice: c.ServiceNotice}
			if c.AccountID != nil {
				out[i].AccountID = *c.AccountID
			}
		}
		return enc.Encode(struct {
			XMLName  xml.Name `xml:"service_requests"`
			Requests []req
		}{Requests: out})
	case []TokenAnswer:
		type req struct {
			XMLName xml.Name `xml:"request"`
			TokenAnswer
		}
		out := make([]req, len(v))
		for i, t := range v {
			out[i] = req{TokenAnswer: t}
		}
		return enc.Encode(struct {
			XMLName  xml.Name `xml:"service_requests"`
			Requests []req
		}{Requests: out})
	case *Errors:
		return enc.Encode(struct {
			XMLName xml.Name `xml:"errors"`
			Errors  []Error  `xml:"error"`
		}{Errors: v.List})
	}
	return enc.Encode(v)
}

func num(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}
