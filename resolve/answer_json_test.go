package resolve_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"gridline.dev/gridline/resolve"
)

// TestAnswerJSON: the hand-written JSON decodes to the same value as the struct's fields would,
// for a covered point with staff and fallback, an uncovered one, and awkward strings.
func TestAnswerJSON(t *testing.T) {
	r := fixtureResolver(t)
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, p := range []orb.Point{{113.6055, 34.7055}, {113.615, 34.71}, {113.61, 34.715}, {113.65, 34.72}} {
		a := r.Answer(resolve.InputPoint{Lon: p[0], Lat: p[1], CRS: "wgs84\"\\\n"}, p, at)
		got, err := json.Marshal(a)
		if err != nil || !json.Valid(got) {
			t.Fatalf("%v: invalid JSON %s (%v)", p, got, err)
		}
		// The reference: the same struct through encoding/json's reflection, field by field.
		type plain resolve.Answer
		want, err := json.Marshal((*plain)(a))
		if err != nil {
			t.Fatal(err)
		}
		var g, w any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(want, &w); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(g, w) {
			t.Fatalf("%v:\n got %s\nwant %s", p, got, want)
		}
	}
}

// TestAppendAnswer: AppendAnswer writes the bytes of Answer's JSON, call after call while its
// space is reused (the index status at the end, timed per call, aside).
func TestAppendAnswer(t *testing.T) {
	r := fixtureResolver(t)
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var buf []byte
	for round := 0; round < 2; round++ {
		for _, p := range []orb.Point{{113.6055, 34.7055}, {113.615, 34.71}, {113.61, 34.715}, {113.65, 34.72}, {120, 30}} {
			in := resolve.InputPoint{Lon: p[0], Lat: p[1], CRS: "wgs84"}
			want := r.Answer(in, p, at).AppendJSON(nil)
			buf = r.AppendAnswer(buf[:0], in, p, at)
			cut := func(b []byte) string { s, _, _ := strings.Cut(string(b), `,"index":`); return s }
			if cut(buf) != cut(want) {
				t.Fatalf("round %d, %v:\n got %s\nwant %s", round, p, buf, want)
			}
			if !strings.Contains(string(buf), `,"index":{"built_at":`) {
				t.Fatalf("%v: no index status in %s", p, buf)
			}
		}
	}
}
