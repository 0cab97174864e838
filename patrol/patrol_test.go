package patrol

import (
	"testing"
	"time"

	"github.com/paulmach/orb"
	orbgeo "github.com/paulmach/orb/geo"
)

// TestSummarise: tracks break at silences longer than the gap; distance and time outside count
// only within tracks; the time from a point counts where that point is.
func TestSummarise(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	ps := []Position{
		{At: at(0), Lon: 113.60, Lat: 34.70, OwnGrid: 7},
		{At: at(1), Lon: 113.601, Lat: 34.70, OwnGrid: 0}, // outside from here ...
		{At: at(3), Lon: 113.602, Lat: 34.70, OwnGrid: 7}, // ... for 2 minutes
		{At: at(30), Lon: 113.61, Lat: 34.71, OwnGrid: 0}, // after a 27-minute silence: a new track, alone
	}
	d := Summarise(ps, 10*time.Minute)
	want := orbgeo.Distance(orb.Point{113.60, 34.70}, orb.Point{113.601, 34.70}) + orbgeo.Distance(orb.Point{113.601, 34.70}, orb.Point{113.602, 34.70})
	if len(d.Tracks) != 2 || len(d.Tracks[0]) != 3 || len(d.Tracks[1]) != 2 || d.OutsideMinutes != 2 || d.Points != 4 {
		t.Fatalf("%+v", d)
	}
	if d.DistanceM < want-0.1 || d.DistanceM > want+0.1 {
		t.Fatalf("distance %v, want %v", d.DistanceM, want)
	}
	if e := Summarise(nil, time.Minute); len(e.Tracks) != 0 || e.DistanceM != 0 {
		t.Fatalf("%+v", e)
	}
}
