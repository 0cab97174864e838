// Package gridline holds the domain of grid management: grids and their levels and layers, the
// people who staff them, and the errors every part of the program speaks. It knows nothing of
// HTTP or SQL; storage lives in store/, transport in api/, and cmd/gridline wires them together.
package gridline

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/paulmach/orb"
)

// Level is a grid's place in the hierarchy of the comprehensive layer.
type Level string

const (
	LevelDistrict    Level = "district"    // 区/县: the top of a deployment
	LevelSubdistrict Level = "subdistrict" // 街道/乡镇: level 1
	LevelCommunity   Level = "community"   // 社区/村: level 2
	LevelGrid        Level = "grid"        // 基础网格: level 3, one full-time grid worker
	LevelMicro       Level = "micro"       // 微网格: a subdivision of a basic grid
)

// Levels lists the levels from the top down.
var Levels = []Level{LevelDistrict, LevelSubdistrict, LevelCommunity, LevelGrid, LevelMicro}

// Rank is the depth of a level: district 0, subdistrict 1, ... micro 4; -1 for an unknown level.
func (l Level) Rank() int {
	for i, x := range Levels {
		if x == l {
			return i
		}
	}
	return -1
}

// Valid reports whether l is one of Levels.
func (l Level) Valid() bool { return l.Rank() >= 0 }

// LevelNames lists the levels from the top down as messages name them: "district, subdistrict,
// community, grid, micro". Messages that list the levels take them from here, so that the list is
// written once.
func LevelNames() string {
	names := make([]string, len(Levels))
	for i, l := range Levels {
		names[i] = string(l)
	}
	return strings.Join(names, ", ")
}

// Layer names a set of grids that tile (or mark) the district independently of the others.
// "comprehensive" is the main layer (综合网格), "special" holds the grids drawn around one
// institution (专属网格); any other lower-case name is a thematic layer (police, city management ...).
type Layer string

const (
	LayerComprehensive Layer = "comprehensive"
	LayerSpecial       Layer = "special"
	LayerPolice        Layer = "police"
)

var layerName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// Valid reports whether l is a usable layer name.
func (l Layer) Valid() bool { return layerName.MatchString(string(l)) }

// Thematic reports whether l is a thematic layer (neither comprehensive nor special).
func (l Layer) Thematic() bool { return l != LayerComprehensive && l != LayerSpecial }

// Kinds of special grids (专属网格): the institution the grid surrounds.
var SpecialKinds = []string{"school", "hospital", "market", "mall", "park", "enterprise", "government", "station"}

// Grid is one version of a grid: the polygon and attributes valid from ValidFrom until ValidTo.
// A boundary change makes a new version with the same ID.
type Grid struct {
	ID         int64            `json:"id"`         // stable identity, shared by all versions
	VersionID  int64            `json:"version_id"` // this version's row
	Version    int              `json:"version"`    // 1, 2, ... in order of ValidFrom
	Code       string           `json:"code"`       // standard code (网格编码), unique among versions valid at once
	Name       string           `json:"name"`
	Level      Level            `json:"level"`
	Layer      Layer            `json:"layer"`
	Kind       string           `json:"kind,omitempty"`      // special grids: school, hospital ...
	ParentID   int64            `json:"parent_id,omitempty"` // grid identity of the parent, 0 for a root
	Households int              `json:"households"`
	Population int              `json:"population"`
	ValidFrom  time.Time        `json:"valid_from"`
	ValidTo    *time.Time       `json:"valid_to,omitempty"` // exclusive; nil while current
	Bounds     FourBounds       `json:"four_bounds"`
	Geometry   orb.MultiPolygon `json:"-"` // EPSG:4326, lon/lat
}

// FourBounds (四至) describes a grid by what lies east, south, west and north of it.
type FourBounds struct {
	East  string `json:"east,omitempty"`
	South string `json:"south,omitempty"`
	West  string `json:"west,omitempty"`
	North string `json:"north,omitempty"`
}

var codePattern = regexp.MustCompile(`^[0-9A-Za-z]{1,32}$`)

// Validate checks what can be checked without the database: the rules that need other grids
// (parent level, uniqueness, containment) are the store's.
func (g *Grid) Validate() error {
	switch {
	case !codePattern.MatchString(g.Code):
		return Errorf(EInvalid, "grid code %q must be 1 to 32 letters or digits", Excerpt(g.Code))
	case g.Name == "":
		return Errorf(EInvalid, "grid %s has no name", g.Code)
	case !g.Level.Valid():
		return Errorf(EInvalid, "grid %s: level %q is not one of %s", Excerpt(g.Code), Excerpt(string(g.Level)), LevelNames())
	case !g.Layer.Valid():
		return Errorf(EInvalid, "grid %s: layer %q must be a lower-case name such as comprehensive, special or police", Excerpt(g.Code), Excerpt(string(g.Layer)))
	case g.Households < 0 || g.Population < 0:
		return Errorf(EInvalid, "grid %s: households and population cannot be negative", g.Code)
	case g.ValidFrom.IsZero():
		return Errorf(EInvalid, "grid %s has no valid_from date", g.Code)
	case g.ValidTo != nil && !g.ValidTo.After(g.ValidFrom):
		return Errorf(EInvalid, "grid %s: valid_to %s is not after valid_from %s", g.Code, Date(*g.ValidTo), Date(g.ValidFrom))
	case len(g.Geometry) == 0:
		return Errorf(EInvalid, "grid %s has no geometry", g.Code)
	}
	if g.Layer == LayerSpecial && g.Kind == "" {
		return Errorf(EInvalid, "special grid %s needs a kind (school, hospital, market ...)", g.Code)
	}
	if g.Level == LevelDistrict && g.ParentID != 0 {
		return Errorf(EInvalid, "district %s cannot have a parent", g.Code)
	}
	if g.Level != LevelDistrict && g.ParentID == 0 {
		return Errorf(EInvalid, "grid %s (%s) needs a parent", g.Code, g.Level)
	}
	return checkRings(g.Code, g.Geometry)
}

// checkRings refuses rings PostGIS cannot even read: fewer than four positions, or a last position
// that is not the first. PostGIS fails on them with XX000, its internal error, which names neither
// the grid nor the ring; other invalid geometry (self-intersection, NaN) it reads, and the store's
// rules report it. Both are geometry rule violations, as the store's are.
func checkRings(code string, mp orb.MultiPolygon) error {
	for i, p := range mp {
		for j, r := range p {
			switch {
			case len(r) < 4:
				return Errorf(ERule, "grid %s: geometry is not valid: ring %d of polygon %d has %d points; a ring needs at least 4, the last the same as the first", code, j+1, i+1, len(r)).With("field", "geometry")
			case r[0] != r[len(r)-1]:
				return Errorf(ERule, "grid %s: geometry is not valid: ring %d of polygon %d is not closed (its last point is not its first)", code, j+1, i+1).With("field", "geometry")
			}
		}
	}
	return nil
}

// Post is what a person does on a grid.
type Post string

const (
	PostGridChief         Post = "grid_chief"         // 网格长
	PostFullTimeWorker    Post = "full_time_worker"   // 专职网格员
	PostPartTimeWorker    Post = "part_time_worker"   // 兼职网格员
	PostBuildingSteward   Post = "building_steward"   // 楼栋长
	PostPoliceOfficer     Post = "police_officer"     // 社区民警
	PostAssignedCadre     Post = "assigned_cadre"     // 下沉干部
	PostDepartmentLiaison Post = "department_liaison" // 部门联络人
)

// Posts lists the roles in the order a roster shows them.
var Posts = []Post{PostGridChief, PostFullTimeWorker, PostPartTimeWorker, PostBuildingSteward, PostPoliceOfficer, PostAssignedCadre, PostDepartmentLiaison}

// Valid reports whether r is one of Roles.
func (r Post) Valid() bool {
	for _, x := range Posts {
		if x == r {
			return true
		}
	}
	return false
}

// Person is someone who can hold a role on a grid.
type Person struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Phone string `json:"phone,omitempty"`
	Note  string `json:"note,omitempty"`
}

// Validate checks a person's fields.
func (p *Person) Validate() error {
	if p.Name == "" {
		return Errorf(EInvalid, "a person needs a name")
	}
	if len(p.Phone) > 32 {
		return Errorf(EInvalid, "phone %q of %s is longer than 32 characters", Excerpt(p.Phone), Excerpt(p.Name))
	}
	return nil
}

// Assignment is a person holding a role on a grid for a period.
type Assignment struct {
	ID        int64      `json:"id"`
	PersonID  int64      `json:"person_id"`
	GridID    int64      `json:"grid_id"`
	Post      Post       `json:"role"`
	ValidFrom time.Time  `json:"valid_from"`
	ValidTo   *time.Time `json:"valid_to,omitempty"`
}

// Validate checks an assignment's fields.
func (a *Assignment) Validate() error {
	switch {
	case !a.Post.Valid():
		return Errorf(EInvalid, "role %q is not one of grid_chief, full_time_worker, part_time_worker, building_steward, police_officer, assigned_cadre, department_liaison", Excerpt(string(a.Post)))
	case a.PersonID == 0 || a.GridID == 0:
		return Errorf(EInvalid, "an assignment needs a person and a grid")
	case a.ValidFrom.IsZero():
		return Errorf(EInvalid, "an assignment needs a valid_from date")
	case a.ValidTo != nil && !a.ValidTo.After(a.ValidFrom):
		return Errorf(EInvalid, "assignment valid_to %s is not after valid_from %s", Date(*a.ValidTo), Date(a.ValidFrom))
	}
	return nil
}

// Staff is a person holding a role on a grid, as a roster shows it.
type Staff struct {
	GridID    int64      `json:"-"`
	Post      Post       `json:"role"`
	PersonID  int64      `json:"person_id"`
	Name      string     `json:"name"`
	Phone     string     `json:"phone,omitempty"`
	ValidFrom time.Time  `json:"valid_from"`
	ValidTo   *time.Time `json:"valid_to,omitempty"`
}

// ValidOn reports whether the assignment holds on date at.
func (s *Staff) ValidOn(at time.Time) bool {
	return !s.ValidFrom.After(at) && (s.ValidTo == nil || s.ValidTo.After(at))
}

// PrimaryPost is the post that makes a grid of this level and layer staffed: its absence is a
// vacancy, and the roster falls back to the parent's people (属地兜底).
func PrimaryPost(level Level, layer Layer) Post {
	switch {
	case layer == LayerPolice:
		return PostPoliceOfficer
	case layer == LayerSpecial:
		return PostGridChief
	case level == LevelGrid:
		return PostFullTimeWorker
	case level == LevelMicro:
		return PostBuildingSteward
	}
	return PostGridChief
}

// DateLayout is how dates are written everywhere: YYYY-MM-DD.
const DateLayout = "2006-01-02"

// Date writes t as YYYY-MM-DD.
func Date(t time.Time) string { return t.Format(DateLayout) }

// The dates gridline accepts: a grid's validity, a staff assignment, an "as of" date. Before 1900
// there were no grids to govern; after 9999-12-30 a date's next day (the exclusive end of a
// PostgreSQL daterange) would not have four digits. Outside them a date is a mistake (0001-01-01
// is Go's zero time, which means "not given" inside gridline).
var (
	FirstDate = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	LastDate  = time.Date(9999, 12, 30, 0, 0, 0, 0, time.UTC)
)

// ParseDate reads a YYYY-MM-DD date from FirstDate to LastDate; the error names the field.
func ParseDate(field, s string) (time.Time, error) {
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		return time.Time{}, &Error{Code: EInvalidDate, Message: fmt.Sprintf("%s %q is not a date of the form YYYY-MM-DD", field, Excerpt(s)), Details: map[string]any{"field": field}}
	}
	if t.Before(FirstDate) || t.After(LastDate) {
		return time.Time{}, &Error{Code: EInvalidDate, Message: fmt.Sprintf("%s %s is outside the dates gridline accepts, %s to %s", field, s, Date(FirstDate), Date(LastDate)), Details: map[string]any{"field": field}}
	}
	return t, nil
}
