// Package geo holds gridline's geometry: coordinate systems (WGS84, CGCS2000, GCJ-02, BD-09),
// the in-memory spatial index that resolves points to grids, and the small algorithms around them.
//
// Coordinates are always (lon, lat) in degrees unless a name says otherwise.
package geo

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"gridline.dev/gridline"
)

// CRS names a coordinate system a client can send or ask for.
type CRS struct {
	Name string // "wgs84", "cgcs2000", "gcj02", "bd09" or "EPSG:n"
	EPSG int    // the EPSG code for Name, 0 for gcj02 and bd09 which have none
}

var (
	WGS84    = CRS{Name: "wgs84", EPSG: 4326}
	CGCS2000 = CRS{Name: "cgcs2000", EPSG: 4490}
	GCJ02    = CRS{Name: "gcj02"}
	BD09     = CRS{Name: "bd09"}
)

// Local reports whether points in c are converted by this package, without PostGIS or PROJ.
func (c CRS) Local() bool { return c.EPSG == 0 || c.EPSG == 4326 || c.EPSG == 4490 }

// Geographic reports whether c has lon/lat coordinates in degrees (so ranges can be checked).
// Projected EPSG codes (metres) are not range-checked here.
func (c CRS) Geographic() bool { return c.Local() }

// ParseCRS reads a crs parameter: wgs84 (the default when s is empty), cgcs2000, gcj02, bd09, or
// EPSG:n (also epsg:n, or n alone). EPSG:4326 and EPSG:4490 become wgs84 and cgcs2000.
// Whether an EPSG code other than those exists is for the caller's transformer to say.
func ParseCRS(s string) (CRS, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	switch t {
	case "", "wgs84", "wgs-84", "gps":
		return WGS84, nil
	case "cgcs2000":
		return CGCS2000, nil
	case "gcj02", "gcj-02", "amap", "tencent":
		return GCJ02, nil
	case "bd09", "bd-09", "baidu":
		return BD09, nil
	}
	t = strings.TrimPrefix(t, "epsg:")
	n, err := strconv.Atoi(t)
	if err != nil || n <= 0 || n > 999999 {
		return CRS{}, fmt.Errorf("crs %q is not one of wgs84, cgcs2000, gcj02, bd09 or EPSG:n", gridline.Excerpt(s))
	}
	switch n {
	case 4326:
		return WGS84, nil
	case 4490:
		return CGCS2000, nil
	}
	return CRS{Name: "EPSG:" + strconv.Itoa(n), EPSG: n}, nil
}

// ToWGS84 converts a point in a local CRS (see Local) to WGS84. CGCS2000 is taken as WGS84: the two
// differ by centimetres, far below what grid resolution needs.
func (c CRS) ToWGS84(lon, lat float64) (float64, float64) {
	switch c.Name {
	case "gcj02":
		return GCJ02ToWGS84(lon, lat)
	case "bd09":
		return GCJ02ToWGS84(BD09ToGCJ02(lon, lat))
	}
	return lon, lat
}

// FromWGS84 converts a WGS84 point to a local CRS (see Local).
func (c CRS) FromWGS84(lon, lat float64) (float64, float64) {
	switch c.Name {
	case "gcj02":
		return WGS84ToGCJ02(lon, lat)
	case "bd09":
		return GCJ02ToBD09(WGS84ToGCJ02(lon, lat))
	}
	return lon, lat
}

// The Krasovsky 1940 ellipsoid as GCJ-02 uses it.
const (
	gcjA  = 6378245.0
	gcjEE = 0.00669342162296594323
)

// OutOfChina reports whether GCJ-02 leaves the point unchanged (outside its box around China).
func OutOfChina(lon, lat float64) bool {
	return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271
}

// WGS84ToGCJ02 is the published GCJ-02 forward transform.
func WGS84ToGCJ02(lon, lat float64) (float64, float64) {
	if OutOfChina(lon, lat) {
		return lon, lat
	}
	dLon, dLat := gcjDelta(lon, lat)
	return lon + dLon, lat + dLat
}

func gcjDelta(lon, lat float64) (dLon, dLat float64) {
	x, y := lon-105.0, lat-35.0
	dLat = -100.0 + 2.0*x + 3.0*y + 0.2*y*y + 0.1*x*y + 0.2*math.Sqrt(math.Abs(x))
	dLat += (20.0*math.Sin(6.0*x*math.Pi) + 20.0*math.Sin(2.0*x*math.Pi)) * 2.0 / 3.0
	dLat += (20.0*math.Sin(y*math.Pi) + 40.0*math.Sin(y/3.0*math.Pi)) * 2.0 / 3.0
	dLat += (160.0*math.Sin(y/12.0*math.Pi) + 320*math.Sin(y*math.Pi/30.0)) * 2.0 / 3.0
	dLon = 300.0 + x + 2.0*y + 0.1*x*x + 0.1*x*y + 0.1*math.Sqrt(math.Abs(x))
	dLon += (20.0*math.Sin(6.0*x*math.Pi) + 20.0*math.Sin(2.0*x*math.Pi)) * 2.0 / 3.0
	dLon += (20.0*math.Sin(x*math.Pi) + 40.0*math.Sin(x/3.0*math.Pi)) * 2.0 / 3.0
	dLon += (150.0*math.Sin(x/12.0*math.Pi) + 300.0*math.Sin(x/30.0*math.Pi)) * 2.0 / 3.0
	rad := lat / 180.0 * math.Pi
	m := 1 - gcjEE*math.Sin(rad)*math.Sin(rad)
	sm := math.Sqrt(m)
	dLat = (dLat * 180.0) / ((gcjA * (1 - gcjEE)) / (m * sm) * math.Pi)
	dLon = (dLon * 180.0) / (gcjA / sm * math.Cos(rad) * math.Pi)
	return dLon, dLat
}

// GCJ02ToWGS84 inverts WGS84ToGCJ02 by fixed-point iteration, w <- w - (f(w) - gcj), which
// converges to well below a millimetre in a few steps (the one-step inverse errs up to ~4 m).
func GCJ02ToWGS84(lon, lat float64) (float64, float64) {
	if OutOfChina(lon, lat) {
		return lon, lat
	}
	wLon, wLat := lon, lat
	for i := 0; i < 10; i++ {
		gLon, gLat := WGS84ToGCJ02(wLon, wLat)
		eLon, eLat := gLon-lon, gLat-lat
		wLon -= eLon
		wLat -= eLat
		// 1e-12 degrees is about 0.1 micrometre.
		if math.Abs(eLon) < 1e-12 && math.Abs(eLat) < 1e-12 {
			break
		}
	}
	return wLon, wLat
}

const bdXPi = math.Pi * 3000.0 / 180.0

// GCJ02ToBD09 is Baidu's published offset from GCJ-02.
func GCJ02ToBD09(lon, lat float64) (float64, float64) {
	z := math.Sqrt(lon*lon+lat*lat) + 0.00002*math.Sin(lat*bdXPi)
	theta := math.Atan2(lat, lon) + 0.000003*math.Cos(lon*bdXPi)
	return z*math.Cos(theta) + 0.0065, z*math.Sin(theta) + 0.006
}

// BD09ToGCJ02 inverts GCJ02ToBD09: the published closed-form inverse (error under 0.25 m),
// refined by the same fixed-point iteration as GCJ-02 so a round trip stays under a millimetre.
func BD09ToGCJ02(lon, lat float64) (float64, float64) {
	x, y := lon-0.0065, lat-0.006
	z := math.Sqrt(x*x+y*y) - 0.00002*math.Sin(y*bdXPi)
	theta := math.Atan2(y, x) - 0.000003*math.Cos(x*bdXPi)
	gLon, gLat := z*math.Cos(theta), z*math.Sin(theta)
	for i := 0; i < 10; i++ {
		bLon, bLat := GCJ02ToBD09(gLon, gLat)
		eLon, eLat := bLon-lon, bLat-lat
		gLon -= eLon
		gLat -= eLat
		if math.Abs(eLon) < 1e-12 && math.Abs(eLat) < 1e-12 {
			break
		}
	}
	return gLon, gLat
}
