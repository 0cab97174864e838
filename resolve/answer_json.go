package resolve

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"

	"gridline.dev/gridline"
)

// MarshalJSON writes the answer by hand: answers are the hottest output of the server, and the
// grid references in them are spliced in already rendered (see Index.Ref).
func (a *Answer) MarshalJSON() ([]byte, error) { return a.AppendJSON(make([]byte, 0, 4096)), nil }

// AppendJSON appends the answer's JSON to b. Field names and order follow the struct tags.
func (a *Answer) AppendJSON(b []byte) []byte { return a.AppendJSONAs(b, gridline.DiscloseFull) }

// AppendJSONAs appends the answer's JSON with the people responsible shown as d says.
func (a *Answer) AppendJSONAs(b []byte, d gridline.Disclosure) []byte {
	b = append(b, `{"point":{"lon":`...)
	b = appendFloat(b, a.Point.Lon)
	b = append(b, `,"lat":`...)
	b = appendFloat(b, a.Point.Lat)
	b = append(b, `,"crs":`...)
	b = appendString(b, a.Point.CRS)
	b = append(b, `},"wgs84":{"lon":`...)
	b = appendFloat(b, a.WGS84.Lon)
	b = append(b, `,"lat":`...)
	b = appendFloat(b, a.WGS84.Lat)
	b = append(b, `},"at":`...)
	b = appendString(b, a.At)
	b = append(b, `,"covered":`...)
	b = strconv.AppendBool(b, a.Covered)
	for _, list := range []struct {
		key  string
		refs []GridRef
	}{{`,"chain":[`, a.Chain}, {`,"special":[`, a.Special}, {`,"thematic":[`, a.Thematic}} {
		b = append(b, list.key...)
		for i := range list.refs {
			if i > 0 {
				b = append(b, ',')
			}
			b = list.refs[i].appendJSON(b, d)
		}
		b = append(b, ']')
	}
	b = append(b, `,"on_boundary":`...)
	b = strconv.AppendBool(b, a.OnBoundary)
	if a.Boundary != nil {
		b = append(b, `,"boundary":{"grid":`...)
		b = appendString(b, a.Boundary.Grid)
		b = append(b, `,"distance_m":`...)
		b = appendFloat(b, a.Boundary.Metres)
		b = append(b, '}')
	}
	b = append(b, `,"near_boundary":`...)
	b = a.NearBoundary.appendJSON(b)
	if a.Nearest != nil {
		b = append(b, `,"nearest":`...)
		b = a.Nearest.appendJSON(b)
	}
	b = append(b, `,"index":{"built_at":"`...)
	b = a.Index.BuiltAt.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","age_seconds":`...)
	b = appendFloat(b, a.Index.AgeSeconds)
	b = append(b, `,"live":`...)
	b = strconv.AppendBool(b, a.Index.Live)
	b = append(b, `,"grid_versions":`...)
	b = strconv.AppendInt(b, int64(a.Index.Grids), 10)
	return append(b, "}}"...)
}

func (r *GridRef) appendJSON(b []byte, d gridline.Disclosure) []byte {
	if r.raw == nil {
		if err := r.render(); err != nil {
			return append(b, "null"...)
		}
	}
	switch d {
	case gridline.DiscloseMasked:
		return append(b, r.rawMasked...)
	case gridline.DiscloseNone:
		return append(b, r.rawNone...)
	}
	return append(b, r.raw...)
}

func (n *Neighbour) appendJSON(b []byte) []byte {
	if n == nil {
		return append(b, "null"...)
	}
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, n.ID, 10)
	b = append(b, `,"code":`...)
	b = appendString(b, n.Code)
	b = append(b, `,"name":`...)
	b = appendString(b, n.Name)
	b = append(b, `,"level":`...)
	b = appendString(b, n.Level)
	b = append(b, `,"distance_m":`...)
	b = appendFloat(b, n.Metres)
	return append(b, '}')
}

// appendFloat writes a finite number as encoding/json would (shortest representation); the
// answers hold no NaN or infinity, since inputs are checked.
func appendFloat(b []byte, f float64) []byte {
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

// appendString writes s as a JSON string. Text without quotes, backslashes, control characters
// or invalid UTF-8 (every code and name in practice) is copied as is; anything else goes through
// encoding/json.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' {
			raw, _ := json.Marshal(s)
			return append(b, raw...)
		}
	}
	if !utf8.ValidString(s) {
		raw, _ := json.Marshal(s)
		return append(b, raw...)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
