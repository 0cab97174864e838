package storetest

import (
	"time"

	"github.com/paulmach/orb"

	"gridline.dev/gridline"
	"gridline.dev/gridline/store"
)

// Box is an axis-aligned rectangle as a MultiPolygon.
func Box(x0, y0, x1, y1 float64) orb.MultiPolygon {
	return orb.MultiPolygon{{{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}}}
}

// FixtureFrom is the valid_from date of every fixture row.
var FixtureFrom = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// Fixture is a small district whose answers are known by hand:
//
//	district 410103: lon 113.60..113.64, lat 34.70..34.74
//	subdistrict 410103001 (x 113.60..113.62) > communities 410103001001 (y 34.70..34.72), 410103001002 (y 34.72..34.74)
//	subdistrict 410103002 (x 113.62..113.64) > community 410103002001
//	basic grids 410103001001001 (x ..113.61) and 410103001001002 (x 113.61..) in the first community,
//	  410103001002001 and 410103002001001 filling the other two; the second basic grid has no
//	  full-time worker (vacant: its community's chief is the fallback)
//	  the first basic grid records its four bounds (east, south, west, north)
//	micro grids 410103001001001001 (y ..34.71) and 410103001001001002 in the first basic grid
//	special grid 410103001001901 (school) at 113.605..113.607, 34.705..34.707
//	police grids 410103JW001 (x ..113.63) and 410103JW002
func Fixture() *store.Dataset {
	f := FixtureFrom
	type g struct {
		id     int64
		code   string
		name   string
		level  gridline.Level
		layer  gridline.Layer
		parent int64
		geom   orb.MultiPolygon
		kind   string
	}
	C, S, P := gridline.LayerComprehensive, gridline.LayerSpecial, gridline.LayerPolice
	rows := []g{
		{1, "410103", "二七区", gridline.LevelDistrict, C, 0, Box(113.60, 34.70, 113.64, 34.74), ""},
		{2, "410103001", "淮河路街道", gridline.LevelSubdistrict, C, 1, Box(113.60, 34.70, 113.62, 34.74), ""},
		{3, "410103002", "解放路街道", gridline.LevelSubdistrict, C, 1, Box(113.62, 34.70, 113.64, 34.74), ""},
		{4, "410103001001", "淮北街社区", gridline.LevelCommunity, C, 2, Box(113.60, 34.70, 113.62, 34.72), ""},
		{5, "410103001002", "兴华街社区", gridline.LevelCommunity, C, 2, Box(113.60, 34.72, 113.62, 34.74), ""},
		{6, "410103002001", "建新街社区", gridline.LevelCommunity, C, 3, Box(113.62, 34.70, 113.64, 34.74), ""},
		{7, "410103001001001", "淮北街社区第1网格", gridline.LevelGrid, C, 4, Box(113.60, 34.70, 113.61, 34.72), ""},
		{8, "410103001001002", "淮北街社区第2网格", gridline.LevelGrid, C, 4, Box(113.61, 34.70, 113.62, 34.72), ""},
		{9, "410103001002001", "兴华街社区第1网格", gridline.LevelGrid, C, 5, Box(113.60, 34.72, 113.62, 34.74), ""},
		{10, "410103002001001", "建新街社区第1网格", gridline.LevelGrid, C, 6, Box(113.62, 34.70, 113.64, 34.74), ""},
		{11, "410103001001001001", "第1微网格", gridline.LevelMicro, C, 7, Box(113.60, 34.70, 113.61, 34.71), ""},
		{12, "410103001001001002", "第2微网格", gridline.LevelMicro, C, 7, Box(113.60, 34.71, 113.61, 34.72), ""},
		{13, "410103001001901", "淮河路小学专属网格", gridline.LevelGrid, S, 4, Box(113.605, 34.705, 113.607, 34.707), "school"},
		{14, "410103JW001", "警务网格1", gridline.LevelGrid, P, 1, Box(113.60, 34.70, 113.63, 34.74), ""},
		{15, "410103JW002", "警务网格2", gridline.LevelGrid, P, 1, Box(113.63, 34.70, 113.64, 34.74), ""},
	}
	d := &store.Dataset{}
	for _, r := range rows {
		d.Grids = append(d.Grids, gridline.Grid{ID: r.id, Version: 1, Code: r.code, Name: r.name, Level: r.level,
			Layer: r.layer, Kind: r.kind, ParentID: r.parent, Households: 400, Population: 1000, ValidFrom: f, Geometry: r.geom})
	}
	// The first basic grid has its four bounds (四至), as the standard's grid table records them.
	d.Grids[6].Bounds = gridline.FourBounds{East: "淮北街社区第2网格", South: "陇海中路", West: "京广南路", North: "淮北街社区第1网格北侧支路"}
	people := []struct {
		name string
		grid int64
		role gridline.Post
	}{
		{"王建国", 1, gridline.PostGridChief},
		{"李秀英", 2, gridline.PostGridChief},
		{"张伟", 3, gridline.PostGridChief},
		{"刘芳", 4, gridline.PostGridChief},
		{"陈静", 5, gridline.PostGridChief},
		{"杨洋", 6, gridline.PostGridChief},
		{"赵磊", 7, gridline.PostFullTimeWorker},
		{"黄敏", 8, gridline.PostPartTimeWorker}, // grid 8 has no full-time worker: vacant
		{"周杰", 9, gridline.PostFullTimeWorker},
		{"吴婷", 10, gridline.PostFullTimeWorker},
		{"徐强", 11, gridline.PostBuildingSteward},
		{"孙丽", 13, gridline.PostGridChief},
		{"马超", 14, gridline.PostPoliceOfficer},
		{"朱军", 15, gridline.PostPoliceOfficer},
	}
	for i, p := range people {
		id := int64(i + 1)
		d.People = append(d.People, gridline.Person{ID: id, Name: p.name, Phone: "1380371" + string(rune('0'+i/10)) + string(rune('0'+i%10)) + "00", Note: "fictitious"})
		d.Assignments = append(d.Assignments, gridline.Assignment{ID: id, PersonID: id, GridID: p.grid, Post: p.role, ValidFrom: f})
	}
	return d
}
