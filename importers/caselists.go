package importers

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gridline.dev/gridline"
	"gridline.dev/gridline/dispatch"
	"gridline.dev/gridline/store"
)

// The case lists (issue #15): the catalogue of categories, the departments and the
// responsibility list, read from CSV (or XLSX), every line checked, all or nothing.

var categoryColumns = map[string][]string{
	"code": {"code", "编码", "代码"}, "standard": {"standard", "标准"}, "name": {"name", "名称"},
	"class_code": {"class_code", "大类编码", "大类代码"}, "class_name": {"class_name", "大类名称"},
	"parent_code": {"parent_code", "上级编码"}, "kind": {"kind", "类型"}, "active": {"active", "启用"}, "patrol_findable": {"patrol_findable", "巡查应发现"},
}

var departmentColumns = map[string][]string{
	"code": {"code", "编码", "代码"}, "name": {"name", "名称"}, "phone": {"phone", "电话"},
	"fallback": {"fallback", "兜底"}, "active": {"active", "启用"},
}

var ruleColumns = map[string][]string{
	"ord": {"ord", "order", "顺序"}, "category_code": {"category_code", "category", "类别编码"},
	"standard": {"standard", "标准"}, "class_code": {"class_code", "大类编码"},
	"place_level": {"place_level", "level", "层级"}, "place_code_prefix": {"place_code_prefix", "code_prefix", "编码前缀"},
	"place_layer": {"place_layer", "layer", "图层"}, "urgency": {"urgency", "紧急程度"},
	"party_kind": {"party_kind", "责任方类型"}, "party_ref": {"party_ref", "party", "责任方"},
	"active": {"active", "启用"}, "note": {"note", "备注"},
}

var kindNames = map[string]string{"事件": "incident", "部件": "asset", "event": "incident"}

func parseBool(v string, def bool) (bool, bool) {
	switch strings.ToLower(v) {
	case "":
		return def, true
	case "true", "yes", "1", "是", "y":
		return true, true
	case "false", "no", "0", "否", "n":
		return false, true
	}
	return false, false
}

// ListReport is what an import of a case list answers: the entries read, what changed, and the
// problems that stopped it (nothing is written when there are any).
type ListReport struct {
	What     string                `json:"what"`
	Rows     int                   `json:"rows"`
	Added    int                   `json:"added"`
	Changed  int                   `json:"changed"`
	Problems []store.ImportProblem `json:"problems"`
}

// ParseCategoriesCSV reads a catalogue: code, standard, name, class_code, class_name,
// parent_code, kind, active, patrol_findable (optional, default true).
func ParseCategoriesCSV(data []byte, encoding string) ([]dispatch.Category, []int, []store.ImportProblem, error) {
	var out []dispatch.Category
	var at []int
	var problems []store.ImportProblem
	lines := map[string]int{}
	readProblems, err := readList("catalogue", "code, standard, name, class_code, class_name, parent_code, kind, active, patrol_findable", data, encoding, categoryColumns,
		[]string{"code", "standard", "name", "class_code", "kind"}, func(line int, get func(string) string) {
			c := dispatch.Category{Code: get("code"), Standard: strings.ToLower(get("standard")), Name: get("name"), ClassCode: get("class_code"),
				ClassName: get("class_name"), ParentCode: get("parent_code"), Kind: strings.ToLower(get("kind"))}
			if k, ok := kindNames[c.Kind]; ok {
				c.Kind = k
			}
			var ok bool
			if c.Active, ok = parseBool(get("active"), true); !ok {
				problems = append(problems, store.ImportProblem{Index: line, Line: true, Code: c.Code, Field: "active", Message: "active is not true or false"})
				return
			}
			if c.PatrolFindable, ok = parseBool(get("patrol_findable"), true); !ok {
				problems = append(problems, store.ImportProblem{Index: line, Line: true, Code: c.Code, Field: "patrol_findable", Message: "patrol_findable is not true or false"})
				return
			}
			if first, dup := lines[c.Code]; dup {
				problems = append(problems, store.ImportProblem{Index: line, Line: true, Code: c.Code, Field: "code", Message: fmt.Sprintf("code %s is also on line %d", c.Code, first)})
				return
			}
			lines[c.Code] = line
			out = append(out, c)
			at = append(at, line)
		})
	if err != nil {
		return nil, nil, nil, err
	}
	return out, at, append(readProblems, problems...), nil
}

// ParseDepartmentsCSV reads a department list: code, name, phone, fallback, active.
func ParseDepartmentsCSV(data []byte, encoding string) ([]dispatch.Department, []store.ImportProblem, error) {
	var out []dispatch.Department
	var problems []store.ImportProblem
	lines := map[string]int{}
	readProblems, err := readList("department list", "code, name, phone, fallback, active", data, encoding, departmentColumns,
		[]string{"code", "name"}, func(line int, get func(string) string) {
			d := dispatch.Department{Code: get("code"), Name: get("name"), Phone: get("phone")}
			var ok1, ok2 bool
			d.Fallback, ok1 = parseBool(get("fallback"), false)
			d.Active, ok2 = parseBool(get("active"), true)
			if !ok1 || !ok2 {
				problems = append(problems, store.ImportProblem{Index: line, Line: true, Code: d.Code, Field: "fallback", Message: "fallback and active are true or false"})
				return
			}
			if err := dispatch.CheckDepartment(&d); err != nil {
				problems = append(problems, lineProblem(line, d.Code, err))
				return
			}
			if first, dup := lines[d.Code]; dup {
				problems = append(problems, store.ImportProblem{Index: line, Line: true, Code: d.Code, Field: "code", Message: fmt.Sprintf("code %s is also on line %d", d.Code, first)})
				return
			}
			lines[d.Code] = line
			out = append(out, d)
		})
	if err != nil {
		return nil, nil, err
	}
	n := 0
	for _, d := range out {
		if d.Fallback {
			n++
		}
	}
	if n > 1 {
		problems = append(problems, store.ImportProblem{Field: "fallback", Message: fmt.Sprintf("%d departments are marked fallback: the district has one fallback party", n)})
	}
	return out, append(readProblems, problems...), nil
}

// ParseRulesCSV reads a responsibility list: ord, category_code, standard, class_code,
// place_level, place_code_prefix, place_layer, urgency, party_kind, party_ref, active, note.
func ParseRulesCSV(data []byte, encoding string) ([]dispatch.Rule, []int, []store.ImportProblem, error) {
	var out []dispatch.Rule
	var at []int
	var problems []store.ImportProblem
	readProblems, err := readList("responsibility list", "ord, category_code, standard, class_code, place_level, place_code_prefix, place_layer, urgency, party_kind, party_ref, active, note",
		data, encoding, ruleColumns, []string{"party_kind"}, func(line int, get func(string) string) {
			r := dispatch.Rule{CategoryCode: get("category_code"), Standard: strings.ToLower(get("standard")), ClassCode: get("class_code"),
				PlaceLevel: strings.ToLower(get("place_level")), PlaceCodePrefix: get("place_code_prefix"), PlaceLayer: strings.ToLower(get("place_layer")),
				Urgency: dispatch.Urgency(strings.ToLower(get("urgency"))), PartyKind: dispatch.PartyKind(strings.ToLower(get("party_kind"))),
				PartyRef: get("party_ref"), Note: get("note")}
			ord := get("ord")
			if ord == "" {
				r.Ord = (len(out) + 1) * 10
			} else if n, err := strconv.Atoi(ord); err != nil {
				problems = append(problems, store.ImportProblem{Index: line, Line: true, Field: "ord", Message: fmt.Sprintf("ord %q is not a whole number", gridline.Excerpt(ord))})
				return
			} else {
				r.Ord = n
			}
			var ok bool
			if r.Active, ok = parseBool(get("active"), true); !ok {
				problems = append(problems, store.ImportProblem{Index: line, Line: true, Field: "active", Message: "active is not true or false"})
				return
			}
			out = append(out, r)
			at = append(at, line)
		})
	if err != nil {
		return nil, nil, nil, err
	}
	return out, at, append(readProblems, problems...), nil
}

func lineProblem(line int, code string, err error) store.ImportProblem {
	p := store.ImportProblem{Index: line, Line: true, Code: code, Message: gridline.ErrorMessage(err)}
	if e, ok := err.(*gridline.Error); ok {
		if f, ok := e.Details["field"].(string); ok {
			p.Field = f
		}
	}
	return p
}

// CaseListData reads an uploaded case list: CSV as it is, XLSX's first sheet as CSV (xlsxAsCSV).
func (e *Engine) CaseListData(ctx context.Context, path, name string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Size() > e.cfg.MaxBytes {
		return nil, gridline.Errorf(gridline.ETooLarge, "%s is %d bytes, over the import limit of %d bytes", name, st.Size(), e.cfg.MaxBytes).With("limit", e.cfg.MaxBytes)
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".xlsx":
		return xlsxAsCSV(path, name)
	case ".csv", ".txt", "":
		return os.ReadFile(path)
	}
	return nil, gridline.Errorf(gridline.EInvalid, "a case list is a .csv or .xlsx file, not %s", gridline.Excerpt(name)).With("field", "file")
}

// ImportCaseList checks and writes a case list (what: categories, departments or rules) read
// from data: every line is checked first, and nothing is written when one fails.
func ImportCaseList(ctx context.Context, db *store.DB, what string, data []byte, encoding string) (*ListReport, error) {
	rep := &ListReport{What: what, Problems: []store.ImportProblem{}}
	t, err := db.RoutingTable(ctx)
	if err != nil {
		return nil, err
	}
	finish := func(problems []store.ImportProblem) bool {
		if len(problems) > 1000 {
			problems = problems[:1000]
		}
		if problems != nil {
			rep.Problems = problems
		}
		return len(problems) == 0
	}
	switch what {
	case "categories":
		cats, lines, problems, err := ParseCategoriesCSV(data, encoding)
		if err != nil {
			return nil, err
		}
		rep.Rows = len(cats) + len(problems)
		inFile := map[string]bool{}
		for _, c := range cats {
			inFile[c.Code] = true
		}
		known := func(code string) bool { return inFile[code] || t.Category(code) != nil }
		for i := range cats {
			if err := dispatch.CheckCategory(&cats[i], known); err != nil {
				problems = append(problems, lineProblem(lines[i], cats[i].Code, err))
			}
		}
		if !finish(problems) {
			return rep, nil
		}
		rep.Added, rep.Changed, err = db.SaveCategories(ctx, cats, "case_categories.import")
		return rep, err
	case "departments":
		depts, problems, err := ParseDepartmentsCSV(data, encoding)
		if err != nil {
			return nil, err
		}
		rep.Rows = len(depts) + len(problems)
		if !finish(problems) {
			return rep, nil
		}
		rep.Added, rep.Changed, err = db.SaveDepartments(ctx, depts, "departments.import")
		return rep, err
	case "rules":
		rules, lines, problems, err := ParseRulesCSV(data, encoding)
		if err != nil {
			return nil, err
		}
		rep.Rows = len(rules) + len(problems)
		for i := range rules {
			if err := dispatch.CheckRule(&rules[i], t); err != nil {
				problems = append(problems, lineProblem(lines[i], rules[i].CategoryCode, err))
			}
		}
		if !finish(problems) {
			return rep, nil
		}
		rep.Added = len(rules)
		return rep, db.ReplaceRules(ctx, rules)
	}
	return nil, gridline.Errorf(gridline.EInvalid, "what %q is not categories, departments or rules", gridline.Excerpt(what)).With("field", "what")
}
