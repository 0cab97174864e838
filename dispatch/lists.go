package dispatch

import (
	"regexp"
	"strings"

	"gridline.dev/gridline"
)

// The checks of the catalogue, the department list and the responsibility list, one entry at a
// time: imports run them on every line and report each failure with its line; edits through the
// API run them on the one entry.

var (
	categoryCode = regexp.MustCompile(`^[0-9A-Za-z]{1,16}$`)
	standardName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,39}$`)
	deptCode     = regexp.MustCompile(`^[0-9A-Za-z_.-]{1,40}$`)
)

// CheckCategory checks one catalogue entry; parents are the codes known (stored or in the same
// import).
func CheckCategory(c *Category, known func(code string) bool) error {
	switch {
	case !categoryCode.MatchString(c.Code):
		return gridline.Errorf(gridline.EInvalid, "code %q is not 1-16 letters or digits", gridline.Excerpt(c.Code)).With("field", "code")
	case !standardName.MatchString(c.Standard):
		return gridline.Errorf(gridline.EInvalid, "standard %q is not a lower-case name such as legacy or gbt47678.5", gridline.Excerpt(c.Standard)).With("field", "standard")
	case strings.TrimSpace(c.Name) == "":
		return gridline.Errorf(gridline.EInvalid, "category %s has no name", c.Code).With("field", "name")
	case c.ClassCode == "":
		return gridline.Errorf(gridline.EInvalid, "category %s has no class_code (the class it belongs to, e.g. 06)", c.Code).With("field", "class_code")
	case c.Kind != "incident" && c.Kind != "asset":
		return gridline.Errorf(gridline.EInvalid, "kind %q of category %s is not incident or asset", gridline.Excerpt(c.Kind), c.Code).With("field", "kind")
	case c.ParentCode != "" && (c.ParentCode == c.Code || !known(c.ParentCode)):
		return gridline.Errorf(gridline.EInvalid, "parent_code %q of category %s is not a category of the catalogue", gridline.Excerpt(c.ParentCode), c.Code).With("field", "parent_code")
	case !strings.HasPrefix(c.Code, c.ClassCode) && c.ParentCode == "":
		return gridline.Errorf(gridline.EInvalid, "code %s does not start with its class_code %s (a local extension names its parent_code)", c.Code, c.ClassCode).With("field", "class_code")
	}
	return nil
}

// CheckDepartment checks one department.
func CheckDepartment(d *Department) error {
	switch {
	case !deptCode.MatchString(d.Code):
		return gridline.Errorf(gridline.EInvalid, "department code %q is not 1-40 letters, digits, _ . or -", gridline.Excerpt(d.Code)).With("field", "code")
	case strings.TrimSpace(d.Name) == "":
		return gridline.Errorf(gridline.EInvalid, "department %s has no name", d.Code).With("field", "name")
	case len(d.Phone) > 32:
		return gridline.Errorf(gridline.EInvalid, "phone of department %s is longer than 32 characters", d.Code).With("field", "phone")
	}
	return nil
}

// CheckRule checks one rule of the responsibility list against the catalogue and departments of t.
func CheckRule(r *Rule, t *Table) error {
	if r.CategoryCode != "" && r.ClassCode != "" {
		return gridline.Errorf(gridline.EInvalid, "a rule names a category_code or a class (standard + class_code), not both").With("field", "category_code")
	}
	if r.CategoryCode != "" && t.Category(r.CategoryCode) == nil {
		return gridline.Errorf(gridline.EInvalid, "category_code %q is not in the catalogue", gridline.Excerpt(r.CategoryCode)).With("field", "category_code")
	}
	if r.ClassCode != "" {
		found := false
		for _, c := range t.Categories {
			if c.Standard == r.Standard && c.ClassCode == r.ClassCode {
				found = true
				break
			}
		}
		if !found {
			return gridline.Errorf(gridline.EInvalid, "class %q of standard %q has no category in the catalogue", gridline.Excerpt(r.ClassCode), gridline.Excerpt(r.Standard)).With("field", "class_code")
		}
	} else if r.Standard != "" {
		return gridline.Errorf(gridline.EInvalid, "standard is given without class_code: a rule names a whole class by both").With("field", "class_code")
	}
	if r.PlaceLevel != "" && !gridline.Level(r.PlaceLevel).Valid() {
		return gridline.Errorf(gridline.EInvalid, "place_level %q is not one of %s", gridline.Excerpt(r.PlaceLevel), gridline.LevelNames()).With("field", "place_level")
	}
	if r.PlaceLayer != "" && (!gridline.Layer(r.PlaceLayer).Valid() || !gridline.Layer(r.PlaceLayer).Thematic()) {
		return gridline.Errorf(gridline.EInvalid, "place_layer %q is not a thematic layer name (police, city_management ...)", gridline.Excerpt(r.PlaceLayer)).With("field", "place_layer")
	}
	if len(r.PlaceCodePrefix) > 32 {
		return gridline.Errorf(gridline.EInvalid, "place_code_prefix is longer than 32 characters").With("field", "place_code_prefix")
	}
	if r.Urgency != "" && r.Urgency != Normal && r.Urgency != Urgent {
		return gridline.Errorf(gridline.EInvalid, "urgency %q is not normal, urgent or empty (any)", gridline.Excerpt(string(r.Urgency))).With("field", "urgency")
	}
	switch r.PartyKind {
	case PartyDepartment:
		if t.Department(r.PartyRef) == nil {
			return gridline.Errorf(gridline.EInvalid, "party_ref %q is not a department of the list", gridline.Excerpt(r.PartyRef)).With("field", "party_ref")
		}
	case PartyPost:
		level, post, ok := strings.Cut(r.PartyRef, ":")
		if !ok || !gridline.Level(level).Valid() || !gridline.Post(post).Valid() {
			return gridline.Errorf(gridline.EInvalid, "party_ref %q of a post is not LEVEL:POST (e.g. community:grid_chief)", gridline.Excerpt(r.PartyRef)).With("field", "party_ref")
		}
	case PartyWorker:
		if r.PartyRef != "" && (!gridline.Layer(r.PartyRef).Valid() || !gridline.Layer(r.PartyRef).Thematic()) {
			return gridline.Errorf(gridline.EInvalid, "party_ref %q of a worker is empty (the case's grid) or a thematic layer (police)", gridline.Excerpt(r.PartyRef)).With("field", "party_ref")
		}
	default:
		return gridline.Errorf(gridline.EInvalid, "party_kind %q is not worker, post or department", gridline.Excerpt(string(r.PartyKind))).With("field", "party_kind")
	}
	if len(r.Note) > maxText {
		return gridline.Errorf(gridline.EInvalid, "note is longer than %d characters", maxText).With("field", "note")
	}
	return nil
}
