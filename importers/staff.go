package importers

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gridline.dev/gridline"
	"gridline.dev/gridline/store"
)

// StaffOptions say how to read a staff list.
type StaffOptions struct {
	Encoding string    // CSV: utf-8 or gbk; "" to detect
	From     time.Time // the start of assignments whose line gives none
	Apply    bool
}

// StaffReport is a staff import's report.
type StaffReport struct {
	File string `json:"file"`
	*store.StaffReport
}

// staffColumns are the names a staff list's columns go by, tried without regard to case.
var staffColumns = map[string][]string{
	"grid_code":  {"grid_code", "code", "网格编码", "网格代码", "编码"},
	"role":       {"role", "角色", "岗位", "职务"},
	"name":       {"name", "姓名", "名字"},
	"phone":      {"phone", "电话", "手机", "手机号", "联系电话"},
	"valid_from": {"valid_from", "from", "start", "开始日期", "任职日期", "起始日期"},
	"valid_to":   {"valid_to", "to", "end", "结束日期", "离任日期", "终止日期"},
}

// roleNames are the Chinese titles of the roles, as staff lists write them.
var roleNames = map[string]gridline.Post{
	"网格长": gridline.PostGridChief, "专职网格员": gridline.PostFullTimeWorker, "兼职网格员": gridline.PostPartTimeWorker,
	"楼栋长": gridline.PostBuildingSteward, "社区民警": gridline.PostPoliceOfficer, "下沉干部": gridline.PostAssignedCadre,
	"部门联络人": gridline.PostDepartmentLiaison, "网格员": gridline.PostFullTimeWorker,
}

// maxStaffRows bounds a staff list: a large district has tens of thousands of posts.
const maxStaffRows = 1_000_000

// ImportStaff reads a staff list (CSV, or XLSX's first sheet) and writes it like a grid import:
// every problem is reported with its line, nothing is written unless all is well, and a dry run
// unless opt.Apply.
func (e *Engine) ImportStaff(ctx context.Context, path string, opt StaffOptions) (*StaffReport, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, gridline.Errorf(gridline.EInvalid, "cannot read %s: %s", filepath.Base(path), gdalMessage(err.Error()))
	}
	if st.Size() > e.cfg.MaxBytes {
		return nil, gridline.Errorf(gridline.ETooLarge, "%s is %d bytes, over the import limit of %d bytes", filepath.Base(path), st.Size(), e.cfg.MaxBytes).With("limit", e.cfg.MaxBytes)
	}
	name := filepath.Base(path)
	enc := opt.Encoding
	var data []byte
	switch strings.ToLower(filepath.Ext(path)) {
	case ".xlsx":
		if data, err = xlsxAsCSV(path, name); err != nil {
			return nil, err
		}
		enc = "utf-8"
	case ".csv", ".txt":
		if data, err = os.ReadFile(path); err != nil {
			return nil, err
		}
	default:
		return nil, gridline.Errorf(gridline.EInvalid, "a staff list is a .csv or .xlsx file, not %s", name)
	}
	rows, problems, err := ParseStaffCSV(data, enc, opt.From)
	if err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		r := &store.StaffReport{Rows: len(rows) + len(problems), Problems: problems, ProblemCount: len(problems)}
		if len(problems) > 1000 {
			r.Problems = problems[:1000]
		}
		return &StaffReport{File: name, StaffReport: r}, nil
	}
	sr, err := e.db.ImportStaff(ctx, rows, opt.Apply)
	if err != nil {
		return nil, err
	}
	return &StaffReport{File: name, StaffReport: sr}, nil
}

// ParseStaffCSV reads a staff list: a header line, then one post per line. It returns the rows it
// could read and a problem for every line it could not; the error is for a file that is not a
// staff list at all (not text, no header, a required column missing).
func ParseStaffCSV(data []byte, encoding string, defaultFrom time.Time) ([]store.StaffRow, []store.ImportProblem, error) {
	var rows []store.StaffRow
	var problems []store.ImportProblem
	readProblems, err := readList("staff list", "grid_code, role, name, phone, valid_from, valid_to", data, encoding, staffColumns,
		[]string{"grid_code", "role", "name"}, func(line int, get func(string) string) {
			row := store.StaffRow{Index: line, GridCode: get("grid_code"), Name: get("name"), Phone: get("phone"), From: defaultFrom}
			bad := func(field, format string, args ...any) {
				problems = append(problems, store.ImportProblem{Index: line, Line: true, Code: row.GridCode, Field: field, Message: fmt.Sprintf(format, args...)})
			}
			n := len(problems)
			role := get("role")
			if rr, ok := roleNames[role]; ok {
				row.Post = rr
			} else {
				row.Post = gridline.Post(strings.ToLower(role))
			}
			if !row.Post.Valid() {
				bad("role", "role %q is not one of 网格长, 专职网格员, 兼职网格员, 楼栋长, 社区民警, 下沉干部, 部门联络人 (or grid_chief, full_time_worker ...)", role)
			}
			if row.GridCode == "" {
				bad("grid_code", "has no grid code")
			}
			p := gridline.Person{Name: row.Name, Phone: row.Phone}
			if err := p.Validate(); err != nil {
				bad("name", "%s", gridline.ErrorMessage(err))
			}
			if v := get("valid_from"); v != "" {
				var err error
				if row.From, err = gridline.ParseDate("valid_from", strings.ReplaceAll(v, "/", "-")); err != nil {
					bad("valid_from", "%s", gridline.ErrorMessage(err))
				}
			} else if row.From.IsZero() {
				bad("valid_from", "has no start date")
			}
			if v := get("valid_to"); v != "" {
				to, err := gridline.ParseDate("valid_to", strings.ReplaceAll(v, "/", "-"))
				if err != nil {
					bad("valid_to", "%s", gridline.ErrorMessage(err))
				} else if !to.After(row.From) {
					bad("valid_to", "ends on %s, not after it starts (%s)", v, gridline.Date(row.From))
				} else {
					row.To = &to
				}
			}
			if len(problems) == n {
				rows = append(rows, row)
			}
		})
	if err != nil {
		return nil, nil, err
	}
	return rows, append(readProblems, problems...), nil
}
