package open311

import (
	"errors"
	"math"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gridline.dev/gridline"
)

// Error is one error of Open311's error list: an HTTP status as its code, and a description.
type Error struct {
	Code        int    `json:"code" xml:"code"`
	Description string `json:"description" xml:"description"`
}

// Errors is an Open311 error answer: every problem found, and the HTTP status to answer with.
type Errors struct {
	Status int
	List   []Error
}

func (e *Errors) Error() string {
	var s []string
	for _, x := range e.List {
		s = append(s, x.Description)
	}
	return strings.Join(s, "; ")
}

func (e *Errors) add(status int, format string, args ...any) {
	if e.Status == 0 {
		e.Status = status
	}
	e.List = append(e.List, Error{Code: status, Description: sprintf(format, args...)})
}

func (e *Errors) orNil() error {
	if len(e.List) == 0 {
		return nil
	}
	return e
}

// statusOf is Open311's HTTP status for each of gridline's error codes.
var statusOf = map[string]int{
	gridline.ENotFound:     404,
	gridline.EUnauthorized: 403,
	gridline.EForbidden:    403,
	gridline.ETooLarge:     413,
	gridline.EUnavailable:  503,
	gridline.EConflict:     409,
	gridline.EInternal:     500,
}

// ErrorsOf is err as an Open311 error answer: itself when it is one, else a *gridline.Error's
// message with its status (400 for bad input), else an internal error that says nothing more.
func ErrorsOf(err error) *Errors {
	var oe *Errors
	if errors.As(err, &oe) {
		return oe
	}
	var ge *gridline.Error
	if !errors.As(err, &ge) {
		return &Errors{Status: 500, List: []Error{{Code: 500, Description: "internal error"}}}
	}
	st, ok := statusOf[ge.Code]
	if !ok {
		st = 400
	}
	return &Errors{Status: st, List: []Error{{Code: st, Description: ge.Message}}}
}

// CheckJurisdiction refuses a jurisdiction_id that is not this one (404, as the specification
// says). An absent or empty one is this one: gridline serves one jurisdiction per server.
func CheckJurisdiction(v url.Values, jurisdiction string) error {
	j := strings.TrimSpace(v.Get("jurisdiction_id"))
	if j == "" || strings.EqualFold(j, jurisdiction) {
		return nil
	}
	e := &Errors{}
	e.add(404, "jurisdiction_id %q was not found: this server serves %q (or leave jurisdiction_id out)", gridline.Excerpt(j), jurisdiction)
	return e
}

var attrKey = regexp.MustCompile(`^attribute\[([^\[\]]{1,64})\](\[\])?$`)

// MaxDescription is the longest description Open311 allows, in characters.
const MaxDescription = 4000

// ParseReport reads a POST requests form (api_key excepted, which the caller checks). Every
// problem is reported at once: missing service_code, a missing location, lat without long, a
// coordinate that is not a number or out of range, a description over 4,000 characters, an
// attribute the service does not define.
func ParseReport(v url.Values) (Report, error) {
	e := &Errors{}
	r := Report{
		ServiceCode:   strings.TrimSpace(v.Get("service_code")),
		AddressString: strings.TrimSpace(v.Get("address_string")),
		AddressID:     strings.TrimSpace(v.Get("address_id")),
		Description:   strings.TrimSpace(v.Get("description")),
		Email:         strings.TrimSpace(v.Get("email")),
		Phone:         strings.TrimSpace(v.Get("phone")),
		FirstName:     strings.TrimSpace(v.Get("first_name")),
		LastName:      strings.TrimSpace(v.Get("last_name")),
		DeviceID:      strings.TrimSpace(v.Get("device_id")),
		AccountID:     strings.TrimSpace(v.Get("account_id")),
		MediaURL:      strings.TrimSpace(v.Get("media_url")),
	}
	for k, vals := range v {
		for _, s := range vals {
			if !utf8.ValidString(s) {
				e.add(400, "%s is not UTF-8 text", gridline.Excerpt(k))
			}
		}
	}
	if r.ServiceCode == "" {
		e.add(400, "service_code was not provided: take one from GET services")
	}
	lat, long := strings.TrimSpace(v.Get("lat")), strings.TrimSpace(v.Get("long"))
	switch {
	case lat != "" || long != "":
		if lat == "" || long == "" {
			e.add(400, "lat and long must both be sent (got only %s)", map[bool]string{true: "lat", false: "long"}[lat != ""])
			break
		}
		la, errLa := coord(lat, 90)
		lo, errLo := coord(long, 180)
		if errLa != "" {
			e.add(400, "lat %q %s", gridline.Excerpt(lat), errLa)
		}
		if errLo != "" {
			e.add(400, "long %q %s", gridline.Excerpt(long), errLo)
		}
		if errLa == "" && errLo == "" {
			r.Lat, r.Lon = &la, &lo
		}
	case r.AddressString == "" && r.AddressID == "":
		e.add(400, "a location was not provided: send lat and long (WGS84), or address_string, or address_id")
	}
	if n := utf8.RuneCountInString(r.Description); n > MaxDescription {
		e.add(400, "description has %d characters, more than the %d Open311 allows", n, MaxDescription)
	}
	if r.MediaURL != "" {
		if u, err := url.Parse(r.MediaURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			e.add(400, "media_url %q is not an http or https URL", gridline.Excerpt(r.MediaURL))
		}
	}
	for _, f := range []struct{ name, val string }{{"email", r.Email}, {"phone", r.Phone}, {"first_name", r.FirstName},
		{"last_name", r.LastName}, {"device_id", r.DeviceID}, {"account_id", r.AccountID}, {"address_string", r.AddressString},
		{"address_id", r.AddressID}, {"media_url", r.MediaURL}} {
		if utf8.RuneCountInString(f.val) > 500 {
			e.add(400, "%s is longer than 500 characters", f.name)
		}
	}
	if r.Email != "" && !strings.Contains(r.Email, "@") {
		e.add(400, "email %q is not an e-mail address", gridline.Excerpt(r.Email))
	}
	for k, vals := range v {
		if !strings.HasPrefix(k, "attribute") {
			continue
		}
		m := attrKey.FindStringSubmatch(k)
		if m == nil {
			e.add(400, "%q is not an attribute: write attribute[CODE]=value", gridline.Excerpt(k))
			continue
		}
		if r.Attributes == nil {
			r.Attributes = map[string][]string{}
		}
		r.Attributes[m[1]] = append(r.Attributes[m[1]], vals...)
	}
	for code, vals := range r.Attributes {
		a, ok := attributeByCode(code)
		if !ok {
			e.add(400, "attribute %q is not defined for service %q: see GET services/%s for its attributes", gridline.Excerpt(code), gridline.Excerpt(r.ServiceCode), gridline.Excerpt(r.ServiceCode))
			continue
		}
		if a.Datatype == "singlevaluelist" && len(vals) > 1 {
			e.add(400, "attribute %s takes one value", code)
			continue
		}
		for _, val := range vals {
			if !a.allows(val) {
				e.add(400, "attribute %s: %q is not one of %s", code, gridline.Excerpt(val), a.keys())
			}
		}
		if code == "urgency" && len(vals) == 1 {
			r.Urgency = vals[0]
		}
	}
	return r, e.orNil()
}

// coord parses a coordinate, or says what is wrong with it.
func coord(s string, limit float64) (float64, string) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, "is not a number"
	}
	if f < -limit || f > limit {
		return 0, "is out of range -" + strconv.Itoa(int(limit)) + ".." + strconv.Itoa(int(limit))
	}
	return f, ""
}

// MaxSpan is the longest start_date..end_date GET requests allows, and its default window.
const MaxSpan = 90 * 24 * time.Hour

// MaxRequests is the most service requests one GET requests answers.
const MaxRequests = 1000

// ParseQuery reads GET requests' arguments at now: service_request_id (comma separated, which
// overrides the rest), service_code (comma separated), start_date and end_date (w3 date-times
// with a time zone; the most recent 90 days by default, never more than 90), status (open,
// closed).
func ParseQuery(v url.Values, now time.Time) (Query, error) {
	e := &Errors{}
	q := Query{Limit: MaxRequests}
	if ids := list(v, "service_request_id"); len(ids) > 0 {
		if len(ids) > MaxRequests {
			e.add(400, "service_request_id lists %d ids, more than %d", len(ids), MaxRequests)
		}
		q.IDs = ids
		return q, e.orNil()
	}
	q.Codes = list(v, "service_code")
	for _, s := range list(v, "status") {
		if s != "open" && s != "closed" {
			e.add(400, "status %q is not open or closed", gridline.Excerpt(s))
		}
		q.Status = append(q.Status, s)
	}
	from, errF := w3(v.Get("start_date"), "start_date")
	to, errT := w3(v.Get("end_date"), "end_date")
	for _, err := range []string{errF, errT} {
		if err != "" {
			e.add(400, "%s", err)
		}
	}
	switch {
	case from.IsZero() && to.IsZero():
		to = now
		from = now.Add(-MaxSpan)
	case from.IsZero():
		from = to.Add(-MaxSpan)
	case to.IsZero():
		to = from.Add(MaxSpan)
	}
	if errF == "" && errT == "" {
		if to.Before(from) {
			e.add(400, "end_date is before start_date")
		} else if to.Sub(from) > MaxSpan {
			e.add(400, "start_date to end_date spans %d days, more than the 90 Open311 allows", int(to.Sub(from).Hours()/24))
		}
	}
	q.From, q.To = from, to
	return q, e.orNil()
}

func list(v url.Values, key string) []string {
	var out []string
	for _, s := range v[key] {
		for part := range strings.SplitSeq(s, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

// w3 parses a W3C date-time with its time zone (2010-01-01T00:00:00Z, 1994-11-05T08:15:30-05:00).
func w3(s, name string) (time.Time, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, ""
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, name + " " + strconvQuote(s) + " is not a w3 date-time with a time zone, such as 2026-12-01T00:00:00Z or 2026-12-01T08:00:00+08:00"
	}
	return t, ""
}

func strconvQuote(s string) string { return strconv.Quote(gridline.Excerpt(s)) }
