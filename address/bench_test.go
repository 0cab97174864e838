package address_test

import (
	"testing"
	"time"

	"gridline.dev/gridline/address"
	"gridline.dev/gridline/demo"
)

// BenchmarkResolve200k matches people-written addresses (demo.AddressTestSet's rules) against a
// 200,000-row synthetic register on one goroutine. The target is 20,000 addresses/s on
// one core; bench/addressbench reports the figure for BENCHMARKS.md.
func BenchmarkResolve200k(b *testing.B) {
	rows := address.SyntheticRegister(200000, 1)
	m := address.NewMatcher(rows, nil)
	set := demo.AddressTestSet(rows, 5000)
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.Resolve(set[i%len(set)].Text, at)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "addresses/s")
}

// TestSyntheticRegisterAccuracy: on a synthetic register (60,000 rows here, to keep the suite
// quick under -race; the benchmark uses 200,000), the same rules find the written row's door and
// building.
func TestSyntheticRegisterAccuracy(t *testing.T) {
	rows := address.SyntheticRegister(60000, 1)
	if len(rows) < 60000 {
		t.Fatalf("%d rows", len(rows))
	}
	m := address.NewMatcher(rows, nil)
	set := demo.AddressTestSet(rows, 1000)
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	right := 0
	wrong := map[string]int{}
	for _, c := range set {
		r := m.Resolve(c.Text, at)
		if r.Resolved && r.Best.Address.Road == c.Want.Road && r.Best.Address.Door == c.Want.Door &&
			(r.Best.Address.Building == c.Want.Building || r.Best.Precision == address.PrecisionDoor) {
			right++
		} else {
			wrong[c.Rule]++
			if testing.Verbose() && wrong[c.Rule] < 4 {
				t.Logf("%s (%s) -> %s", c.Text, c.Rule, label(r))
			}
		}
		if r.Resolved && !(r.Best.Address.Road == c.Want.Road && r.Best.Address.Door == c.Want.Door) && r.Best.Confidence >= address.Threshold {
			t.Errorf("wrong with confidence %.2f: %s (%s) -> %s %v", r.Best.Confidence, c.Text, c.Rule, r.Best.Label, r.Best.Differs)
		}
	}
	t.Logf("%d of %d right; wrong by rule: %v", right, len(set), wrong)
	// Two-character road names drawn from 83 characters collide by construction (a homophone typo is
	// one edit from several roads): those answers are ambiguous and low-confidence, so the bar here
	// is lower than the demo test set's 95%.
	if float64(right) < 0.9*float64(len(set)) {
		t.Errorf("%d of %d right", right, len(set))
	}
}

func label(r *address.Result) string {
	if !r.Resolved {
		return "unresolved: " + r.Reason
	}
	return r.Best.Label + " (" + string(r.Best.Precision) + ")"
}
