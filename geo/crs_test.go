package geo

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

// metresBetween is the distance between two nearby lon/lat points in a local equirectangular
// projection around the first (the same measure as BoundaryDistance).
func metresBetween(lon1, lat1, lon2, lat2 float64) float64 {
	return math.Hypot((lon2-lon1)*math.Cos(lat1*math.Pi/180)*metresPerDegree, (lat2-lat1)*metresPerDegree)
}

// Published outputs of the same GCJ-02/BD-09 formulas in other implementations. Each forward pair
// must agree to 1e-9 degrees (about 0.1 mm): the formulas are the same, only the order of
// floating-point operations differs.
var forwardRefs = []struct {
	name                 string
	from                 CRS // the reference's input system: wgs84 or gcj02
	to                   CRS
	lon, lat, wLon, wLat float64
}{
	// googollee/eviltransform go/transform_test.go (given there as lat, lng).
	{"eviltransform shanghai", WGS84, GCJ02, 121.5272106, 31.1774276, 121.531541859215, 31.17530398364597},
	{"eviltransform shenzhen", WGS84, GCJ02, 113.912316, 22.543847, 113.9171764808363, 22.540796131694766},
	{"eviltransform beijing", WGS84, GCJ02, 116.377817, 39.911954, 116.38404722455657, 39.91334545536069},
	// wandergis/coordtransform test/app.js.
	{"coordtransform wgs84togcj02", WGS84, GCJ02, 116.404, 39.915, 116.41024449916938, 39.91640428150164},
	{"coordtransform gcj02tobd09", GCJ02, BD09, 116.404, 39.915, 116.41036949371029, 39.92133699351021},
}

func TestForwardMatchesPublishedReferences(t *testing.T) {
	for _, r := range forwardRefs {
		t.Run(r.name, func(t *testing.T) {
			var lon, lat float64
			switch {
			case r.from == WGS84 && r.to == GCJ02:
				lon, lat = WGS84ToGCJ02(r.lon, r.lat)
			case r.from == GCJ02 && r.to == BD09:
				lon, lat = GCJ02ToBD09(r.lon, r.lat)
			default:
				t.Fatalf("no transform from %s to %s in this test", r.from.Name, r.to.Name)
			}
			if math.Abs(lon-r.wLon) > 1e-9 || math.Abs(lat-r.wLat) > 1e-9 {
				t.Errorf("got (%.15f, %.15f), published (%.15f, %.15f): %.4f m apart",
					lon, lat, r.wLon, r.wLat, metresBetween(lon, lat, r.wLon, r.wLat))
			}
			// GCJ-02 moves points by 18-700 m; BD-09 adds roughly 1 km more.
			if d := metresBetween(r.lon, r.lat, lon, lat); d < 15 || d > 1500 {
				t.Errorf("offset %.1f m is implausible", d)
			}
		})
	}
}

// The references below invert with one closed-form step, which errs by up to about 4 m (GCJ-02)
// and 0.25 m (BD-09); ours iterates to well below a millimetre. So they must agree within those
// errors, and ours must be the better inverse (checked by the forward transform).
func TestInverseAgainstOneStepReferences(t *testing.T) {
	cases := []struct {
		name                 string
		inverse              func(lon, lat float64) (float64, float64)
		forward              func(lon, lat float64) (float64, float64)
		lon, lat, wLon, wLat float64
		within               float64 // metres
	}{
		// wandergis/coordtransform test/app.js.
		{"coordtransform gcj02towgs84", GCJ02ToWGS84, WGS84ToGCJ02, 116.404, 39.915, 116.39775550083061, 39.91359571849836, 4},
		{"coordtransform bd09togcj02", BD09ToGCJ02, GCJ02ToBD09, 116.404, 39.915, 116.39762729119315, 39.90865673957631, 0.25},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lon, lat := tc.inverse(tc.lon, tc.lat)
			if d := metresBetween(lon, lat, tc.wLon, tc.wLat); d > tc.within {
				t.Errorf("got (%.12f, %.12f), %.3f m from the published one-step value", lon, lat, d)
			}
			fLon, fLat := tc.forward(lon, lat)
			oursErr := metresBetween(fLon, fLat, tc.lon, tc.lat)
			rLon, rLat := tc.forward(tc.wLon, tc.wLat)
			refErr := metresBetween(rLon, rLat, tc.lon, tc.lat)
			if oursErr > 0.001 || oursErr > refErr {
				t.Errorf("forward of our inverse misses by %.6f m (the one-step reference by %.6f m)", oursErr, refErr)
			}
		})
	}
}

// The example often quoted for Tiananmen: WGS84 (116.397428, 39.90923) shows on AMap near
// (116.403674, 39.910628). That figure is rounded and of unknown provenance, so only check that we
// land within a metre of it and that the offset is of the documented size.
func TestTiananmenPlausible(t *testing.T) {
	lon, lat := WGS84ToGCJ02(116.397428, 39.90923)
	if d := metresBetween(lon, lat, 116.403674, 39.910628); d > 1 {
		t.Errorf("GCJ-02 (%.6f, %.6f) is %.2f m from the quoted (116.403674, 39.910628)", lon, lat, d)
	}
	if d := metresBetween(116.397428, 39.90923, lon, lat); d < 100 || d > 700 {
		t.Errorf("offset %.1f m, want 100-700 m", d)
	}
}

// chinaGrid calls fn for points every step degrees over the GCJ-02 box, kept 0.05 degrees inside
// its edges so that a transformed point stays inside too (offsets are under 0.01 degrees).
func chinaGrid(step float64, fn func(lon, lat float64)) {
	for lon := 72.004 + 0.05; lon <= 137.8347-0.05; lon += step {
		for lat := 0.8293 + 0.05; lat <= 55.8271-0.05; lat += step {
			fn(lon, lat)
		}
	}
}

func TestRoundTripsOverChina(t *testing.T) {
	const step = 0.25
	var worstGCJ, worstBD, minOff, maxOff float64
	minOff = math.Inf(1)
	n := 0
	chinaGrid(step, func(lon, lat float64) {
		n++
		gLon, gLat := WGS84ToGCJ02(lon, lat)
		if mainland(lon, lat) {
			off := metresBetween(lon, lat, gLon, gLat)
			minOff, maxOff = min(minOff, off), max(maxOff, off)
		}
		wLon, wLat := GCJ02ToWGS84(gLon, gLat)
		worstGCJ = max(worstGCJ, metresBetween(lon, lat, wLon, wLat))

		bLon, bLat := BD09.FromWGS84(lon, lat)
		wLon, wLat = BD09.ToWGS84(bLon, bLat)
		worstBD = max(worstBD, metresBetween(lon, lat, wLon, wLat))
	})
	if worstGCJ > 0.001 {
		t.Errorf("WGS84 -> GCJ-02 -> WGS84 is off by up to %.6f m, want under 1 mm", worstGCJ)
	}
	if worstBD > 0.001 {
		t.Errorf("WGS84 -> BD-09 -> WGS84 is off by up to %.6f m, want under 1 mm", worstBD)
	}
	// The documented offset over the mainland: 18-700 m (median about 430 m). In the box's empty
	// corners (open sea, south of 18 degrees) it falls to almost nothing.
	if minOff < 15 || maxOff > 750 {
		t.Errorf("GCJ-02 offsets over the mainland range over %.1f-%.1f m, want within 15-750 m", minOff, maxOff)
	}
	t.Logf("%d points: worst round trip GCJ-02 %.2e m, BD-09 %.2e m; mainland offsets %.1f-%.1f m", n, worstGCJ, worstBD, minOff, maxOff)
}

// mainland is a box around mainland China, where GCJ-02 offsets are 18-700 m.
func mainland(lon, lat float64) bool { return lon >= 73.5 && lon <= 135 && lat >= 18 && lat <= 53.5 }

func TestChinaBoxDecidesShift(t *testing.T) {
	cases := []struct {
		name     string
		lon, lat float64
	}{
		{"London", -0.1276, 51.5072},
		{"Tokyo, east of the box", 139.6917, 35.6895},
		{"Ulan Bator is inside the box", 106.9057, 47.8864}, // checked below to move
		{"west of the box", 72.003, 30},
		{"north of the box", 100, 55.8272},
		{"south of the box", 100, 0.8292},
		{"origin", 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			inside := !OutOfChina(tc.lon, tc.lat)
			for name, fn := range map[string]func(float64, float64) (float64, float64){
				"WGS84ToGCJ02": WGS84ToGCJ02, "GCJ02ToWGS84": GCJ02ToWGS84,
				"GCJ02.FromWGS84": GCJ02.FromWGS84, "GCJ02.ToWGS84": GCJ02.ToWGS84,
			} {
				lon, lat := fn(tc.lon, tc.lat)
				moved := lon != tc.lon || lat != tc.lat
				if moved != inside {
					t.Errorf("%s(%v, %v) = (%v, %v): moved %v, but inside the box %v", name, tc.lon, tc.lat, lon, lat, moved, inside)
				}
			}
		})
	}
}

func TestLocalCRSDispatch(t *testing.T) {
	const lon, lat = 113.6253, 34.7466 // Zhengzhou
	gLon, gLat := WGS84ToGCJ02(lon, lat)
	bLon, bLat := GCJ02ToBD09(gLon, gLat)
	cases := []struct {
		crs          CRS
		local        bool
		wantX, wantY float64 // FromWGS84(lon, lat)
	}{
		{WGS84, true, lon, lat},
		{CGCS2000, true, lon, lat},
		{GCJ02, true, gLon, gLat},
		{BD09, true, bLon, bLat},
		{CRS{Name: "EPSG:4547", EPSG: 4547}, false, lon, lat},
	}
	for _, tc := range cases {
		t.Run(tc.crs.Name, func(t *testing.T) {
			if tc.crs.Local() != tc.local || tc.crs.Geographic() != tc.local {
				t.Errorf("Local() = %v, Geographic() = %v, want %v", tc.crs.Local(), tc.crs.Geographic(), tc.local)
			}
			if x, y := tc.crs.FromWGS84(lon, lat); x != tc.wantX || y != tc.wantY {
				t.Errorf("FromWGS84 = (%v, %v), want (%v, %v)", x, y, tc.wantX, tc.wantY)
			}
			x, y := tc.crs.ToWGS84(tc.wantX, tc.wantY)
			if d := metresBetween(lon, lat, x, y); d > 0.001 {
				t.Errorf("ToWGS84(FromWGS84) is %.6f m off", d)
			}
		})
	}
	// At Zhengzhou the GCJ-02 shift is about 560 m (domain notes).
	if d := metresBetween(lon, lat, gLon, gLat); d < 500 || d > 620 {
		t.Errorf("GCJ-02 shift at Zhengzhou %.1f m, want about 560 m", d)
	}
}

func TestParseCRS(t *testing.T) {
	good := []struct {
		in   string
		want CRS
	}{
		{"", WGS84},
		{"wgs84", WGS84},
		{"WGS84", WGS84},
		{" wgs-84 ", WGS84},
		{"gps", WGS84},
		{"EPSG:4326", WGS84},
		{"epsg:4326", WGS84},
		{"4326", WGS84},
		{"cgcs2000", CGCS2000},
		{"CGCS2000", CGCS2000},
		{"EPSG:4490", CGCS2000},
		{"gcj02", GCJ02},
		{"GCJ-02", GCJ02},
		{"amap", GCJ02},
		{"Tencent", GCJ02},
		{"bd09", BD09},
		{"BD-09", BD09},
		{"baidu", BD09},
		{"EPSG:4547", CRS{Name: "EPSG:4547", EPSG: 4547}},
		{"3857", CRS{Name: "EPSG:3857", EPSG: 3857}},
		{"epsg:999999", CRS{Name: "EPSG:999999", EPSG: 999999}},
	}
	for _, tc := range good {
		t.Run("good "+tc.in, func(t *testing.T) {
			got, err := ParseCRS(tc.in)
			if err != nil {
				t.Fatalf("ParseCRS(%q): %v", tc.in, err)
			}
			if got != tc.want {
				t.Errorf("ParseCRS(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
	bad := []string{"EPSG:", "EPSG:0", "EPSG:-4326", "EPSG:abc", "EPSG:1000000", "EPSG:4326x", "epsg: 4326",
		"utm", "wgs 84", "gcj", "mercator", "EPSG:EPSG:4326", "4326.0"}
	for _, in := range bad {
		t.Run("bad "+in, func(t *testing.T) {
			got, err := ParseCRS(in)
			if err == nil {
				t.Fatalf("ParseCRS(%q) = %+v, want an error", in, got)
			}
			if got != (CRS{}) {
				t.Errorf("ParseCRS(%q) returned %+v with its error", in, got)
			}
			// The message must name the input and the accepted forms.
			if msg := err.Error(); !strings.Contains(msg, strconv.Quote(in)) || !strings.Contains(msg, "EPSG:n") {
				t.Errorf("error %q does not say what was wrong and what is accepted", msg)
			}
		})
	}
}

func FuzzParseCRS(f *testing.F) {
	for _, s := range []string{"", "wgs84", "EPSG:4326", "4490", "gcj02", "BD-09", "epsg:3857", "EPSG:-1", "x", " 12 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCRS(s)
		if err != nil {
			if c != (CRS{}) {
				t.Fatalf("ParseCRS(%q) returned %+v with an error", s, c)
			}
			return
		}
		if c.Name == "" || c.EPSG < 0 || c.EPSG > 999999 {
			t.Fatalf("ParseCRS(%q) = %+v", s, c)
		}
		// A parsed CRS's name parses to itself, and so does its EPSG code.
		if again, err := ParseCRS(c.Name); err != nil || again != c {
			t.Fatalf("ParseCRS(%q) = %+v, but its name %q parses to %+v, %v", s, c, c.Name, again, err)
		}
		if c.EPSG != 0 {
			if again, err := ParseCRS(strconv.Itoa(c.EPSG)); err != nil || again != c {
				t.Fatalf("ParseCRS(%q) = %+v, but its code parses to %+v, %v", s, c, again, err)
			}
		}
	})
}

func FuzzRoundTrip(f *testing.F) {
	f.Add(116.397428, 39.90923)
	f.Add(113.6253, 34.7466)
	f.Add(72.06, 0.88)
	f.Add(137.78, 55.77)
	f.Add(-0.1276, 51.5072)
	f.Add(math.NaN(), 30.0)
	f.Fuzz(func(t *testing.T, lon, lat float64) {
		if OutOfChina(lon, lat) {
			if g0, g1 := WGS84ToGCJ02(lon, lat); !same(g0, lon) || !same(g1, lat) {
				t.Fatalf("WGS84ToGCJ02(%v, %v) = (%v, %v), want the point unchanged outside China", lon, lat, g0, g1)
			}
			if w0, w1 := GCJ02ToWGS84(lon, lat); !same(w0, lon) || !same(w1, lat) {
				t.Fatalf("GCJ02ToWGS84(%v, %v) = (%v, %v), want the point unchanged outside China", lon, lat, w0, w1)
			}
			return
		}
		// Near the box's edges a shifted point may leave the box, where GCJ-02 is not invertible.
		if lon < 72.004+0.05 || lon > 137.8347-0.05 || lat < 0.8293+0.05 || lat > 55.8271-0.05 {
			return
		}
		gLon, gLat := WGS84ToGCJ02(lon, lat)
		if d := metresBetween(lon, lat, gLon, gLat); d > 800 || (mainland(lon, lat) && d < 15) {
			t.Fatalf("GCJ-02 offset at (%v, %v) is %.1f m", lon, lat, d)
		}
		if wLon, wLat := GCJ02ToWGS84(gLon, gLat); metresBetween(lon, lat, wLon, wLat) > 0.001 {
			t.Fatalf("GCJ-02 round trip of (%v, %v) gives (%v, %v)", lon, lat, wLon, wLat)
		}
		bLon, bLat := BD09.FromWGS84(lon, lat)
		if wLon, wLat := BD09.ToWGS84(bLon, bLat); metresBetween(lon, lat, wLon, wLat) > 0.001 {
			t.Fatalf("BD-09 round trip of (%v, %v) gives (%v, %v)", lon, lat, wLon, wLat)
		}
	})
}

// same is equality that also holds between two NaNs.
func same(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }
