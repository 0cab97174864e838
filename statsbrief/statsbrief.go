// Package statsbrief renders the monthly brief of the statistics (issue #16, 统计考核月度简报) as
// one self-contained, printable HTML document: one A4 page per month, with the totals and their
// change from the month before, the tables of the level below and of the departments, two charts,
// and the ten worst and best basic grids. The data of every page is embedded in the document and
// the chart script (web-map's brief.js, Chart.js) is inlined, so that it opens and prints with no
// network. It reads the brief in the JSON shape of GET /v1/stats/brief and knows nothing of HTTP
// or SQL.
package statsbrief

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"strings"
	"time"
)

// Row is one row of figures (GET /v1/stats); fields the brief does not show are not read.
type Row struct {
	Key                  string   `json:"key"`
	Name                 string   `json:"name"`
	Level                string   `json:"level"`
	GridID               int64    `json:"grid_id"`
	Reported             float64  `json:"reported"`
	Filed                float64  `json:"filed"`
	Closed               float64  `json:"closed"`
	Due                  float64  `json:"due"`
	Postponed            float64  `json:"postponed"`
	ClosedOnTime         float64  `json:"closed_on_time"`
	Dispatched           float64  `json:"dispatched"`
	Redispatched         float64  `json:"redispatched"`
	Reworked             float64  `json:"reworked"`
	PatrolReported       float64  `json:"patrol_reported"`
	PatrolValid          float64  `json:"patrol_valid"`
	Missed               float64  `json:"missed"`
	OnTimeCloseRate      *float64 `json:"on_time_close_rate"`
	CloseRate            *float64 `json:"close_rate"`
	ReworkRate           *float64 `json:"rework_rate"`
	AccurateDispatchRate *float64 `json:"accurate_dispatch_rate"`
	ValidReportRate      *float64 `json:"valid_report_rate"`
	MissedReportRate     *float64 `json:"missed_report_rate"`
	Points               float64  `json:"points"`
}

// Brief is GET /v1/stats/brief's answer.
type Brief struct {
	Scope struct {
		ID    int64  `json:"id"`
		Code  string `json:"code"`
		Name  string `json:"name"`
		Level string `json:"level"`
	} `json:"scope"`
	Month       string `json:"month"`
	From        string `json:"from"`
	To          string `json:"to"`
	GeneratedAt string `json:"generated_at"`
	Total       Row    `json:"total"`
	Previous    *Row   `json:"previous"`
	Children    []Row  `json:"children"`
	Departments []Row  `json:"departments"`
	ByDay       []struct {
		Bucket          string   `json:"bucket"`
		Reported        float64  `json:"reported"`
		Closed          float64  `json:"closed"`
		OnTimeCloseRate *float64 `json:"on_time_close_rate"`
	} `json:"by_day"`
	ByClass []struct {
		ClassCode string  `json:"class_code"`
		ClassName string  `json:"class_name"`
		Reported  float64 `json:"reported"`
		Closed    float64 `json:"closed"`
	} `json:"by_class"`
	BySource []struct {
		Source   string  `json:"source"`
		Reported float64 `json:"reported"`
	} `json:"by_source"`
	WorstGrids []Row `json:"worst_grids"`
	BestGrids  []Row `json:"best_grids"`
	Workers    []Row `json:"workers"`
	MinCases   int   `json:"min_cases"`
}

// Most rows a table shows, so that a month stays on one A4 page; the rest are counted under it.
const (
	maxChildren    = 14
	maxDepartments = 8
	maxGrids       = 10
)

//go:embed brief.html.tmpl
var files embed.FS

var page = template.Must(template.New("brief.html.tmpl").Funcs(template.FuncMap{
	"rate": fmtRate, "num": fmtNum, "level": levelName, "source": sourceName,
}).ParseFS(files, "brief.html.tmpl"))

// kpi is one figure of the strip at the top of a page, with its change from the month before.
type kpi struct {
	Label, Value, Change string
	Dir                  string // up, down or "" (no change, or nothing to compare)
	Good, Bad            bool   // the change is for the better, for the worse
}

type pageData struct {
	Brief
	Index                  int
	KPIs                   []kpi
	Children, Departments  []Row
	ChildrenMore, DeptMore int
	ChildLevel             string
	Worst, Best            []Row
	Data                   template.JS // the page's data for the charts
}

// Render makes the document of briefs (one page each, in order) with script, the chart script
// (web-map's dist/brief.js; nil: no charts, the tables alone). It returns the HTML and the value of
// the Content-Security-Policy it needs (its one inline script, by hash).
func Render(briefs []Brief, script []byte) (html []byte, csp string, err error) {
	if len(briefs) == 0 {
		return nil, "", fmt.Errorf("statsbrief: no month to render")
	}
	pages := make([]pageData, len(briefs))
	for i, b := range briefs {
		if t, err := time.Parse(time.RFC3339, b.GeneratedAt); err == nil {
			b.GeneratedAt = t.Format("2006-01-02 15:04")
		}
		p := pageData{Brief: b, Index: i, ChildLevel: childLevel(b.Scope.Level)}
		p.Children, p.ChildrenMore = cut(b.Children, maxChildren)
		p.Departments, p.DeptMore = cut(b.Departments, maxDepartments)
		p.Worst, _ = cut(b.WorstGrids, maxGrids)
		p.Best, _ = cut(b.BestGrids, maxGrids)
		p.KPIs = kpis(b.Total, b.Previous)
		data, err := json.Marshal(chartData(b)) // json escapes <, > and &: safe inside <script>
		if err != nil {
			return nil, "", err
		}
		p.Data = template.JS(data)
		pages[i] = p
	}
	// The chart script goes in as it is; only a "</script" inside it would end the element early.
	js := strings.ReplaceAll(string(script), "</script", `<\/script`)
	if len(script) == 0 { // the tables alone, still marked drawn for the printer
		js = "document.body.dataset.ready = '1';"
	}
	var buf bytes.Buffer
	if err := page.Execute(&buf, map[string]any{"Pages": pages, "Script": template.JS(js), "Title": title(briefs)}); err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256([]byte(js))
	csp = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
	return buf.Bytes(), csp, nil
}

func title(briefs []Brief) string {
	b := briefs[0]
	months := b.Month
	if len(briefs) > 1 {
		months += "–" + briefs[len(briefs)-1].Month
	}
	return fmt.Sprintf("%s %s 月度简报", b.Scope.Name, months)
}

func cut(rows []Row, n int) ([]Row, int) {
	if len(rows) <= n {
		return rows, 0
	}
	return rows[:n], len(rows) - n
}

// chartData is what the page's charts draw (web-map/src/brief.js reads it).
func chartData(b Brief) map[string]any {
	days := make([]string, len(b.ByDay))
	rep, clo := make([]float64, len(b.ByDay)), make([]float64, len(b.ByDay))
	for i, d := range b.ByDay {
		days[i], rep[i], clo[i] = strings.TrimPrefix(d.Bucket, b.Month+"-"), d.Reported, d.Closed
	}
	classes := b.ByClass
	if len(classes) > 8 {
		classes = classes[:8]
	}
	names, crep, cclo := make([]string, len(classes)), make([]float64, len(classes)), make([]float64, len(classes))
	for i, c := range classes {
		names[i], crep[i], cclo[i] = c.ClassName, c.Reported, c.Closed
		if names[i] == "" {
			names[i] = c.ClassCode
		}
	}
	return map[string]any{"days": days, "reported": rep, "closed": clo, "classes": names, "class_reported": crep, "class_closed": cclo}
}

// kpis are the totals with their change from the month before. Rates change in percentage
// points. better is +1 where higher is better, -1 where lower is (rework, missed reports), 0 where
// neither (the number of reports).
func kpis(t Row, prev *Row) []kpi {
	type fig struct {
		label  string
		get    func(Row) *float64
		rate   bool
		better float64
	}
	count := func(f func(Row) float64) func(Row) *float64 { return func(r Row) *float64 { v := f(r); return &v } }
	figs := []fig{
		{"上报 reported", count(func(r Row) float64 { return r.Reported }), false, 0},
		{"立案 filed", count(func(r Row) float64 { return r.Filed }), false, 0},
		{"结案 closed", count(func(r Row) float64 { return r.Closed }), false, 1},
		{"按期结案率 on-time close", func(r Row) *float64 { return r.OnTimeCloseRate }, true, 1},
		{"结案率 close rate", func(r Row) *float64 { return r.CloseRate }, true, 1},
		{"返工率 rework", func(r Row) *float64 { return r.ReworkRate }, true, -1},
		{"准确派遣率 accurate dispatch", func(r Row) *float64 { return r.AccurateDispatchRate }, true, 1},
		{"有效上报率 valid report", func(r Row) *float64 { return r.ValidReportRate }, true, 1},
		{"漏报率 missed report", func(r Row) *float64 { return r.MissedReportRate }, true, -1},
	}
	out := make([]kpi, 0, len(figs))
	for _, f := range figs {
		k := kpi{Label: f.label}
		cur := f.get(t)
		if f.rate {
			k.Value = fmtRate(cur)
		} else {
			k.Value = fmtNum(*cur)
		}
		if prev != nil && cur != nil {
			if old := f.get(*prev); old != nil {
				d := *cur - *old
				switch {
				case math.Abs(d) < 1e-9:
					k.Change = "±0"
				case f.rate:
					k.Change = fmt.Sprintf("%+.1f pp", d*100)
				default:
					k.Change = fmt.Sprintf("%+.0f", d)
				}
				if math.Abs(d) >= 1e-9 {
					k.Dir = map[bool]string{true: "up", false: "down"}[d > 0]
					k.Good = d*f.better > 0
					k.Bad = d*f.better < 0
				}
			}
		}
		out = append(out, k)
	}
	return out
}

func fmtRate(v *float64) string {
	if v == nil {
		return "—"
	}
	return fmt.Sprintf("%.1f%%", *v*100)
}

func fmtNum(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func childLevel(level string) string {
	switch level {
	case "district":
		return "subdistrict"
	case "subdistrict":
		return "community"
	case "community":
		return "grid"
	}
	return ""
}

func levelName(level string) string {
	return map[string]string{"district": "区县", "subdistrict": "街道", "community": "社区", "grid": "网格", "micro": "微网格"}[level]
}

func sourceName(s string) string {
	if n, ok := map[string]string{"patrol": "巡查上报", "hotline": "热线", "public": "群众上报", "open311": "Open311", "supervisor": "督查"}[s]; ok {
		return n
	}
	return s
}
