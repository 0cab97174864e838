package coverage

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"gridline.dev/gridline"
)

// FeatureCollection is the findings as GeoJSON: one feature per finding, its geometry the gap,
// overlap or outside part (a point on the grid for the other rules), its properties the finding's
// fields and a bbox to fly to.
func (r *Report) FeatureCollection() *geojson.FeatureCollection {
	fc := geojson.NewFeatureCollection()
	fc.Features = make([]*geojson.Feature, 0, len(r.Findings))
	for k := range r.Findings {
		f := &r.Findings[k]
		g := f.Geometry
		if g == nil {
			g = orb.Point{}
		}
		ft := geojson.NewFeature(g)
		ft.ID = k + 1
		ft.Properties = geojson.Properties{
			"rule": f.Rule, "severity": f.Severity, "level": f.Level, "layer": f.Layer, "parent_code": f.ParentCode,
			"codes": f.Codes, "area_m2": f.AreaM2, "width_m": f.WidthM, "message": f.Message, "as_of": f.AsOf,
		}
		if f.Kind != "" {
			ft.Properties["kind"] = f.Kind
		}
		for k, v := range f.Details {
			if _, taken := ft.Properties[k]; !taken {
				ft.Properties[k] = v
			}
		}
		if f.Bound != (orb.Bound{}) {
			ft.BBox = geojson.NewBBox(f.Bound)
		}
		fc.Features = append(fc.Features, ft)
	}
	return fc
}

// WriteJSON writes the report: scope, date, rules, summary and the findings as a
// FeatureCollection.
func (r *Report) WriteJSON(w io.Writer) error {
	return json.NewEncoder(w).Encode(r.Body())
}

// Body is the report as WriteJSON writes it: the summary with the findings as a GeoJSON
// FeatureCollection, for answers that carry a report inside another (an import's dry run).
func (r *Report) Body() any {
	return struct {
		*Report
		Findings *geojson.FeatureCollection `json:"findings"`
	}{r, r.FeatureCollection()}
}

// WriteGeoJSON writes the findings as a FeatureCollection with the summary as a foreign member.
func (r *Report) WriteGeoJSON(w io.Writer) error {
	fc := r.FeatureCollection()
	fc.ExtraMembers = geojson.Properties{"scope": r.Scope, "as_of": r.AsOf, "summary": r.Summary}
	return json.NewEncoder(w).Encode(fc)
}

// CSVHeader is the first row of WriteCSV.
var CSVHeader = []string{"rule", "severity", "level", "layer", "parent_code", "codes", "kind", "area_m2", "width_m", "lon", "lat", "message", "as_of"}

// WriteCSV writes one row per finding, located by the centre of its box (WGS84).
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	num := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	for _, f := range r.Findings {
		c := f.Bound.Center()
		row := []string{f.Rule, f.Severity, string(f.Level), string(f.Layer), f.ParentCode, strings.Join(f.Codes, " "), f.Kind,
			num(f.AreaM2), num(f.WidthM), num(c[0]), num(c[1]), f.Message, f.AsOf}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// Fails reports whether the report has a finding matching failOn: rule names, groups (geometry,
// hierarchy, staffing) or severities (error, warning; "warning" includes errors). It reads the
// summary, so findings beyond MaxFindings count too.
func (r *Report) Fails(failOn []string) bool {
	for _, x := range failOn {
		switch x {
		case SeverityError:
			if r.Summary.BySeverity[SeverityError] > 0 {
				return true
			}
		case SeverityWarning:
			if r.Summary.Findings > 0 {
				return true
			}
		default:
			rules, err := ParseRules(x)
			if err != nil {
				continue
			}
			for _, rule := range rules {
				if len(r.Summary.ByRule[rule]) > 0 {
					return true
				}
			}
		}
	}
	return false
}

// ParseFailOn reads --fail-on: a comma-separated list of rules, groups or severities.
func ParseFailOn(s string) ([]string, error) {
	var out []string
	for _, x := range strings.Split(s, ",") {
		x = strings.TrimSpace(x)
		if x == "" {
			continue
		}
		if x != SeverityError && x != SeverityWarning {
			if _, err := ParseRules(x); err != nil {
				return nil, gridline.Errorf(gridline.EInvalid, "--fail-on %q: not a rule (%s), a group (geometry, hierarchy, staffing) or a severity (error, warning)", x, strings.Join(AllRules, ", "))
			}
		}
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out, nil
}

// ParseLayers reads a comma-separated list of layers ("" for the default: nil).
func ParseLayers(s string) ([]gridline.Layer, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []gridline.Layer
	for _, x := range strings.Split(s, ",") {
		l := gridline.Layer(strings.TrimSpace(x))
		if !l.Valid() || l == gridline.LayerSpecial {
			return nil, gridline.Errorf(gridline.EInvalid, "layer %q cannot be audited for coverage: name the comprehensive layer or thematic layers (police ...)", l).With("field", "layers")
		}
		out = append(out, l)
	}
	return out, nil
}
