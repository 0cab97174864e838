package importers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"

	"gridline.dev/gridline"
	"gridline.dev/gridline/store"
)

// Mapping says which attributes of a file hold what, and what level, layer and kind the file's
// features have when no attribute says. Empty fields are found by the usual names (see aliases).
// It is read from flags or from a small JSON file:
//
//	{"fields": {"code": "WGBM", "name": "WGMC", "parent_code": "SQBM", "households": "HS"},
//	 "level": "grid", "layer": "comprehensive"}
type Mapping struct {
	Fields map[string]string `json:"fields,omitempty"` // attribute → column in the file
	Level  gridline.Level    `json:"level,omitempty"`
	Layer  gridline.Layer    `json:"layer,omitempty"`
	Kind   string            `json:"kind,omitempty"`
}

// Attributes lists the attributes a mapping can name.
var Attributes = []string{"code", "name", "level", "layer", "kind", "parent_code", "households", "population",
	"bound_east", "bound_south", "bound_west", "bound_north"}

// aliases are the column names districts' files commonly use for each attribute, tried in order
// and without regard to case. The 10-character forms are what Shapefiles keep of longer names.
var aliases = map[string][]string{
	"code":        {"code", "grid_code", "gridcode", "wgbm", "网格编码", "编码", "代码", "bm", "dm"},
	"name":        {"name", "grid_name", "gridname", "wgmc", "网格名称", "名称", "mc"},
	"level":       {"level", "grid_level", "层级", "级别", "jb"},
	"layer":       {"layer", "图层", "tc"},
	"kind":        {"kind", "类型", "lx"},
	"parent_code": {"parent_code", "parent_cod", "parent", "pcode", "sjbm", "上级编码", "上级代码"},
	"households":  {"households", "户数", "hs"},
	"population":  {"population", "人口", "人口数", "rk"},
	"bound_east":  {"bound_east", "b_east", "四至东", "东至"},
	"bound_south": {"bound_south", "bound_sout", "b_south", "四至南", "南至"},
	"bound_west":  {"bound_west", "b_west", "四至西", "西至"},
	"bound_north": {"bound_north", "bound_nort", "b_north", "四至北", "北至"},
}

// maxMappingBytes bounds a mapping file: it names a dozen columns.
const maxMappingBytes = 64 << 10

// ParseMapping reads a mapping file. Unknown attributes and keys are errors, so that a typo does
// not silently map nothing.
func ParseMapping(data []byte) (Mapping, error) {
	var m Mapping
	if len(data) > maxMappingBytes {
		return m, gridline.Errorf(gridline.ETooLarge, "the mapping file is larger than %d bytes", maxMappingBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return m, gridline.Errorf(gridline.EInvalid, "the mapping is not valid JSON of the form {\"fields\": {\"code\": \"WGBM\", ...}, \"level\": \"grid\"}: %s", mappingJSONError(err)).With("field", "mapping")
	}
	if dec.More() {
		return m, gridline.Errorf(gridline.EInvalid, "the mapping has text after its JSON object").With("field", "mapping")
	}
	return m, m.Validate()
}

// Validate checks a mapping's names and values.
func (m Mapping) Validate() error {
	for k, v := range m.Fields {
		if _, ok := aliases[k]; !ok {
			return gridline.Errorf(gridline.EInvalid, "mapping: %q is not an attribute; use one of %s", gridline.Excerpt(k), strings.Join(Attributes, ", ")).With("field", "mapping")
		}
		if v == "" || len(v) > 63 || !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
			return gridline.Errorf(gridline.EInvalid, "mapping: the column for %s must be a column name of 1 to 63 bytes", k).With("field", "mapping")
		}
	}
	if m.Level != "" && !m.Level.Valid() {
		return gridline.Errorf(gridline.EInvalid, "mapping: level %q is not one of %s", gridline.Excerpt(string(m.Level)), gridline.LevelNames()).With("field", "level")
	}
	if m.Layer != "" && !m.Layer.Valid() {
		return gridline.Errorf(gridline.EInvalid, "mapping: layer %q must be a lower-case name such as comprehensive, special or police", gridline.Excerpt(string(m.Layer))).With("field", "layer")
	}
	if len(m.Kind) > 40 || !utf8.ValidString(m.Kind) {
		return gridline.Errorf(gridline.EInvalid, "mapping: kind must be a short name such as school").With("field", "kind")
	}
	return nil
}

// resolve finds each attribute's column among the file's columns. A column the mapping names must
// exist; code and name must be found one way or the other.
func (m Mapping) resolve(columns []string) (store.ImportColumns, map[string]string, error) {
	byLower := map[string]string{}
	for _, c := range columns {
		if _, dup := byLower[strings.ToLower(c)]; !dup {
			byLower[strings.ToLower(c)] = c
		}
	}
	found := map[string]string{}
	for _, attr := range Attributes {
		if want, ok := m.Fields[attr]; ok {
			c, ok := byLower[strings.ToLower(want)]
			if !ok {
				return store.ImportColumns{}, nil, gridline.Errorf(gridline.EInvalid, "the mapping names column %q for %s, but the file has no such column; its columns are: %s",
					gridline.Excerpt(want), attr, strings.Join(columns, ", ")).With("field", "mapping").With("columns", columns)
			}
			found[attr] = c
			continue
		}
		for _, a := range aliases[attr] {
			if c, ok := byLower[strings.ToLower(a)]; ok {
				found[attr] = c
				break
			}
		}
	}
	for _, attr := range []string{"code", "name"} {
		if found[attr] == "" {
			return store.ImportColumns{}, nil, gridline.Errorf(gridline.EInvalid, "the file has no %s column (looked for %s); its columns are: %s. Name the column with %s",
				attr, strings.Join(aliases[attr], ", "), strings.Join(columns, ", "), flagFor(attr)).With("field", attr).With("columns", columns)
		}
	}
	if found["level"] == "" && m.Level == "" {
		return store.ImportColumns{}, nil, gridline.Errorf(gridline.EInvalid, "the file has no level column: give the level of its features (level=grid, --level grid) or name the column with %s", flagFor("level")).With("field", "level")
	}
	return store.ImportColumns{
		Code: found["code"], Name: found["name"], Level: found["level"], Layer: found["layer"], Kind: found["kind"],
		ParentCode: found["parent_code"], Households: found["households"], Population: found["population"],
		East: found["bound_east"], South: found["bound_south"], West: found["bound_west"], North: found["bound_north"],
	}, found, nil
}

func flagFor(attr string) string {
	return fmt.Sprintf("--field %s=COLUMN (HTTP: field.%s=COLUMN) or a mapping file", attr, attr)
}

// mappingJSONError says what was wrong with a mapping's JSON in the project's words:
// encoding/json's own names Go types and struct fields, which mean nothing to a user.
func mappingJSONError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		want := "a different kind of value"
		if te.Type != nil {
			switch te.Type.Kind() {
			case reflect.String:
				want = "a string"
			case reflect.Map, reflect.Struct:
				want = "an object"
			case reflect.Slice, reflect.Array:
				want = "an array"
			case reflect.Float64, reflect.Int, reflect.Int64:
				want = "a number"
			}
		}
		if te.Field == "" {
			return "the mapping must be an object"
		}
		return fmt.Sprintf("%q must be %s", te.Field, want)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("at byte %d: %s", se.Offset, se.Error())
	}
	return gridline.Excerpt(strings.TrimPrefix(err.Error(), "json: "))
}
