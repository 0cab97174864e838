package gridline

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Provenance of a register row: real data from the district, or generated (the demo register).
const (
	ProvenanceReal      = "real"
	ProvenanceSynthetic = "synthetic"
)

// Address is one row of the standard address register (标准地址库, 一标三实): the elements of a
// standard address as GB/T 37149 structures them, with the point (WGS84) of the building or door.
// A row without a building is a door (门牌); a row with a building and no unit is the building; a
// row with a unit (and perhaps a room) is that unit or room. Its grid is not stored: it is where the
// point falls on the date asked, so a redrawn boundary moves addresses without touching them.
type Address struct {
	ID           int64      `json:"id"`
	Province     string     `json:"province"`
	City         string     `json:"city"`
	District     string     `json:"district"`
	Subdistrict  string     `json:"subdistrict"`
	Community    string     `json:"community"`
	Road         string     `json:"road"`     // 路/街/大道/巷
	Door         string     `json:"door"`     // 门牌号, digits
	Compound     string     `json:"compound"` // 小区/院/花园/苑; may be empty for "N号院"
	Building     string     `json:"building"` // 楼/栋/幢/座 number
	Unit         string     `json:"unit"`     // 单元
	Floor        string     `json:"floor"`    // 层
	Room         string     `json:"room"`     // 室/户
	BuildingCode string     `json:"building_code,omitempty"`
	Households   int        `json:"households"`
	Lon          float64    `json:"lon"`
	Lat          float64    `json:"lat"`
	ValidFrom    time.Time  `json:"valid_from"`
	ValidTo      *time.Time `json:"valid_to,omitempty"` // exclusive; nil while current
	Provenance   string     `json:"provenance"`         // real | synthetic
}

// ValidOn reports whether the row is valid on date at.
func (a *Address) ValidOn(at time.Time) bool {
	return !at.Before(a.ValidFrom) && (a.ValidTo == nil || at.Before(*a.ValidTo))
}

// Label is the address written out in the standard order, without province and city.
func (a *Address) Label() string {
	var b strings.Builder
	b.WriteString(a.District)
	b.WriteString(a.Road)
	if a.Door != "" {
		b.WriteString(a.Door + "号")
	}
	b.WriteString(a.Compound)
	if a.Building != "" {
		b.WriteString(a.Building + "号楼")
	}
	if a.Unit != "" {
		b.WriteString(a.Unit + "单元")
	}
	if a.Floor != "" && a.Room == "" {
		b.WriteString(a.Floor + "层")
	}
	if a.Room != "" {
		b.WriteString(a.Room + "室")
	}
	return b.String()
}

// Validate checks a register row on its own; the store checks what needs other rows.
func (a *Address) Validate() error {
	num := func(field, v string) error {
		if v == "" {
			return nil
		}
		if len(v) > 8 {
			return Errorf(EInvalid, "%s %q is longer than 8 characters", field, Excerpt(v)).With("field", field)
		}
		for _, r := range v {
			if !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r == '-') {
				return Errorf(EInvalid, "%s %q must be digits (and capital letters), written as in the standard address: \"3\", not \"3号楼\"", field, Excerpt(v)).With("field", field)
			}
		}
		return nil
	}
	for _, f := range []struct{ name, v string }{{"door", a.Door}, {"building", a.Building}, {"unit", a.Unit}, {"floor", a.Floor}, {"room", a.Room}} {
		if err := num(f.name, f.v); err != nil {
			return err
		}
	}
	for _, f := range []struct{ name, v string }{{"province", a.Province}, {"city", a.City}, {"district", a.District}, {"subdistrict", a.Subdistrict}, {"community", a.Community}, {"road", a.Road}, {"compound", a.Compound}, {"building_code", a.BuildingCode}} {
		if utf8.RuneCountInString(f.v) > 64 {
			return Errorf(EInvalid, "%s is longer than 64 characters", f.name).With("field", f.name)
		}
		if !utf8.ValidString(f.v) {
			return Errorf(EInvalid, "%s is not valid UTF-8", f.name).With("field", f.name)
		}
	}
	switch {
	case a.Road == "" && a.Compound == "":
		return Errorf(EInvalid, "an address needs a road or a compound").With("field", "road")
	case a.Door == "" && a.Compound == "":
		return Errorf(EInvalid, "an address on a road needs its door number (门牌号) or a compound").With("field", "door")
	case a.Unit != "" && a.Building == "":
		return Errorf(EInvalid, "a unit needs its building").With("field", "building")
	case a.Room != "" && a.Building == "":
		return Errorf(EInvalid, "a room needs its building").With("field", "building")
	case a.Households < 0:
		return Errorf(EInvalid, "households cannot be negative").With("field", "households")
	case !(a.Lon >= -180 && a.Lon <= 180 && a.Lat >= -90 && a.Lat <= 90) || (a.Lon == 0 && a.Lat == 0):
		return Errorf(EInvalidCoord, "the point (%g, %g) is not a WGS84 longitude and latitude", a.Lon, a.Lat).With("field", "lon")
	case a.ValidFrom.IsZero():
		return Errorf(EInvalid, "valid_from is required").With("field", "valid_from")
	case a.ValidTo != nil && !a.ValidTo.After(a.ValidFrom):
		return Errorf(EInvalid, "valid_to %s is not after valid_from %s", Date(*a.ValidTo), Date(a.ValidFrom)).With("field", "valid_to")
	case a.Provenance != ProvenanceReal && a.Provenance != ProvenanceSynthetic:
		return Errorf(EInvalid, "provenance %q must be real or synthetic", Excerpt(a.Provenance)).With("field", "provenance")
	}
	return nil
}
