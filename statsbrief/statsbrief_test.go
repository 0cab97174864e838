package statsbrief

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func fixture(t *testing.T) Brief {
	t.Helper()
	data, err := os.ReadFile("testdata/brief.json")
	if err != nil {
		t.Fatal(err)
	}
	var b Brief
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRender renders two months of the fixture (synthetic figures in the contract's shape): one
// page each, the totals' changes, the tables cut to fit a page, the data embedded and the script
// inlined under the CSP's hash.
func TestRender(t *testing.T) {
	b := fixture(t)
	nov := b
	oct := b
	oct.Month, oct.From, oct.To = "2026-10", "2026-10-01", "2026-10-31"
	html, csp, err := Render([]Brief{oct, nov}, []byte(`console.log("</script>")`))
	if err != nil {
		t.Fatal(err)
	}
	s := string(html)
	if n := strings.Count(s, `<section class="page"`); n != 2 {
		t.Fatalf("%d pages, want 2", n)
	}
	for _, want := range []string{"示例区(合成)", "2026-10 网格化管理考核月报", "按期结案率最低的十个网格", "城管局", "@page { size: A4 portrait",
		`<\/script>`, "另有 1 个未列出"} {
		if !strings.Contains(s, want) {
			t.Errorf("the brief lacks %q", want)
		}
	}
	if strings.Contains(s, `console.log("</script>")`) {
		t.Error("a </script> inside the chart script was not escaped")
	}
	if !strings.Contains(csp, "script-src 'sha256-") || strings.Contains(csp, "unsafe-inline'; script") {
		t.Errorf("csp: %s", csp)
	}
	if n := strings.Count(s, `class="brief-data"`); n != 2 {
		t.Errorf("%d data blocks, want 2", n)
	}
}

func TestKPIs(t *testing.T) {
	r := func(v float64) *float64 { return &v }
	cur := Row{Reported: 10, Closed: 8, OnTimeCloseRate: r(0.9), ReworkRate: r(0.1)}
	prev := Row{Reported: 12, Closed: 8, OnTimeCloseRate: r(0.8), ReworkRate: r(0.05)}
	k := kpis(cur, &prev)
	got := map[string]kpi{}
	for _, x := range k {
		got[x.Label] = x
	}
	if x := got["按期结案率 on-time close"]; x.Value != "90.0%" || x.Change != "+10.0 pp" || x.Dir != "up" || !x.Good {
		t.Errorf("on-time: %+v", x)
	}
	if x := got["返工率 rework"]; x.Dir != "up" || !x.Bad {
		t.Errorf("rework up is bad: %+v", x)
	}
	if x := got["上报 reported"]; x.Change != "-2" || x.Good || x.Bad {
		t.Errorf("reported: %+v", x)
	}
	if x := got["结案 closed"]; x.Change != "±0" || x.Dir != "" {
		t.Errorf("closed: %+v", x)
	}
	if x := got["结案率 close rate"]; x.Value != "—" || x.Change != "" {
		t.Errorf("close rate without figures: %+v", x)
	}
	if k := kpis(cur, nil); k[0].Change != "" {
		t.Errorf("no previous month: %+v", k[0])
	}
}
