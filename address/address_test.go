package address

import (
	"testing"
	"time"

	"gridline.dev/gridline"
)

var day = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func row(id int64, sub, comm, road, door, comp, bld, unit string, lon, lat float64) gridline.Address {
	return gridline.Address{ID: id, Province: "河南省", City: "郑州市", District: "二七区", Subdistrict: sub, Community: comm,
		Road: road, Door: door, Compound: comp, Building: bld, Unit: unit, Lon: lon, Lat: lat,
		ValidFrom: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), Provenance: gridline.ProvenanceSynthetic}
}

func smallRegister() *Matcher {
	rows := []gridline.Address{
		row(1, "福华街街道", "福华南街社区委员会", "福华南街", "32", "", "", "", 113.60, 34.70),
		row(2, "福华街街道", "福华南街社区委员会", "福华南街", "32", "", "3", "", 113.601, 34.701),
		row(3, "福华街街道", "福华南街社区委员会", "福华南街", "32", "", "3", "2", 113.601, 34.701),
		row(4, "福华街街道", "福华北街社区居民委员会", "福华北街", "7", "", "1", "1", 113.61, 34.71),
		row(5, "淮河路街道", "陇海路社区居民委员会", "陇海路", "5", "", "3", "2", 113.62, 34.72),
		row(6, "淮河路街道", "华润悦府社区居民委员会", "淮河路", "88", "华润悦府", "12", "1", 113.63, 34.73),
		row(7, "福华街街道", "福华南街社区委员会", "福华南街", "40", "", "", "", 113.604, 34.704),
	}
	return NewMatcher(rows, []Alias{{Alias: "老福华南街", Name: "福华南街"}})
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"二七区福华街福华南街32号院3号楼2单元501": "二七区福华街福华南街32号3栋2单501室",
		"福华南街３２号院三栋二单元五零一室":       "福华南街32号3栋2单501室",
		"福华南街 32号 3-2-501":        "福华南街32号3栋2单501室",
		"陇海路第五号三幢":                "陇海路5号3栋",
		"淮河路一百零五号十二座":             "淮河路105号12栋",
		"一马路二十号":                  "一马路20号",
		"二七区（郑州）":                 "二七区郑州",
		"陇海路5号3号楼5楼":              "陇海路5号3栋5层",
	} {
		if got, _ := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestResolveSmall(t *testing.T) {
	m := smallRegister()
	for _, c := range []struct {
		text string
		id   int64
		prec Precision
		conf float64 // at least
	}{
		{"河南省郑州市二七区福华街街道福华南街32号院3号楼2单元501", 3, PrecisionUnit, 1},
		{"郑州二七福华南街32号3栋", 2, PrecisionBuilding, 1},
		{"福华南街三十二号院三号楼", 2, PrecisionBuilding, 1},
		{"福化南街32号3栋2单元", 3, PrecisionUnit, 0.9},
		{"福华北街32号3号楼2单元", 3, PrecisionUnit, 0.6},
		{"福华南街32号院", 1, PrecisionDoor, 1},
		{"华润悦府12号楼1单元", 6, PrecisionUnit, 1},
		{"陇海路５号３号楼二单元 附近", 5, PrecisionUnit, 1},
		{"老福华南街32号3栋", 2, PrecisionBuilding, 1},
	} {
		r := m.Resolve(c.text, day)
		if !r.Resolved || r.Best.ID != c.id || r.Best.Precision != c.prec || r.Best.Confidence < c.conf {
			t.Errorf("%s: got %+v %+v", c.text, r.Best, r.Parsed)
		}
	}
	r := m.Resolve("福华南街36号", day)
	if !r.Resolved || r.Best.Precision != PrecisionRoad || r.Best.Confidence >= Threshold {
		t.Errorf("interpolation: %+v", r.Best)
	}
	if r.Best.Lon <= 113.60 || r.Best.Lon >= 113.604 {
		t.Errorf("interpolated at %v", r.Best.Lon)
	}
	for _, bad := range []string{"", "   ", "hello world", "金水区花园路100号", "\x00\x01", "!!!"} {
		r := m.Resolve(bad, day)
		if r.Resolved || r.Reason == "" {
			t.Errorf("%q: resolved %+v", bad, r.Best)
		}
	}
	r = m.Resolve("淮河路街道", day)
	if !r.Resolved || r.Best.Precision != PrecisionSubdistrict && r.Best.Precision != PrecisionRoad {
		t.Errorf("subdistrict: %+v", r.Best)
	}
}
