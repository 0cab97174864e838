package demo

import (
	"math"
	"math/rand/v2"
)

// vec is a point in local metres (see proj).
type vec struct{ x, y float64 }

func (a vec) sub(b vec) vec       { return vec{a.x - b.x, a.y - b.y} }
func (a vec) dist2(b vec) float64 { d := a.sub(b); return d.x*d.x + d.y*d.y }
func (a vec) dot(b vec) float64   { return a.x*b.x + a.y*b.y }
func (a vec) scale(k float64) vec { return vec{a.x * k, a.y * k} }
func (a vec) add(b vec) vec       { return vec{a.x + b.x, a.y + b.y} }
func (a vec) norm() float64       { return math.Hypot(a.x, a.y) }
func centroidOf(pts []vec, idx []int) vec {
	var c vec
	for _, i := range idx {
		c = c.add(pts[i])
	}
	if len(idx) > 0 {
		c = c.scale(1 / float64(len(idx)))
	}
	return c
}

// balancedKMeans splits the points idx (indices into pts) into len(shares) compact clusters whose
// sizes are proportional to shares, starting from the given centres (which fix each cluster's
// identity: cluster j stays near centres[j]). With fixed, the centres never move: only the sizes
// adapt, which keeps each cluster where its centre was put.
//
// It is Lloyd's k-means with an additive weight per cluster: a point goes to the cluster minimising
// |p - c_j|² - w_j, so the clusters are the cells of a power diagram, convex and compact. Each
// weight moves up while its cluster has too few points and down while it has too many, by a step
// that grows while the sign of the error holds and halves when it flips (so it finds the scale of
// the weights by itself, whatever the spread of the cluster sizes). It returns the cluster of each
// point of idx (in the order of idx) and the final centres.
func balancedKMeans(pts []vec, idx []int, shares []float64, centres []vec, fixed bool) ([]int, []vec) {
	labels, c, _ := balancedKMeansWeights(pts, idx, shares, centres, fixed)
	return labels, c
}

// sampleSize is how many points balancedKMeans fits on before it works with all of them.
const sampleSize = 10000

// balancedKMeansWeights is balancedKMeans, returning the weights of the power diagram too.
func balancedKMeansWeights(pts []vec, idx []int, shares []float64, centres []vec, fixed bool) ([]int, []vec, []float64) {
	k := len(shares)
	if k <= 1 {
		return make([]int, len(idx)), []vec{centroidOf(pts, idx)}, []float64{0}
	}
	f := newPowerFit(pts, idx, shares, centres)
	lloyd, settle := 20, 120
	if fixed {
		lloyd = 0
	}
	// A large set is fitted on a sample first (every m-th point), then settled on all points
	// starting from the sample's centres and weights: a few passes over all points instead of dozens.
	if m := len(idx) / sampleSize; m >= 2 {
		sample := make([]int, 0, len(idx)/m+1)
		for n := 0; n < len(idx); n += m {
			sample = append(sample, idx[n])
		}
		_, f.c, f.w = balancedKMeansWeights(pts, sample, shares, f.c, fixed)
		lloyd = 0
		clear(f.step)
	}
	for it := 0; it < lloyd; it++ {
		f.reweigh(f.assign())
		for j := range k {
			if f.counts[j] > 0 {
				f.c[j] = f.sums[j].scale(1 / float64(f.counts[j]))
			}
		}
	}
	for it := 0; it < settle; it++ {
		spread := f.assign()
		if f.balanced() {
			break
		}
		f.reweigh(spread)
	}
	f.assign()
	return f.labels, f.c, f.w
}

// powerFit is the state of balancedKMeansWeights: the clusters' centres and weights, each
// point's cluster, and what the last assignment counted.
type powerFit struct {
	pts    []vec
	idx    []int
	target []float64 // the number of points each cluster should have
	c      []vec     // centres
	w      []float64 // weights of the power diagram
	labels []int     // the cluster of each point of idx

	step     []float64 // how far each weight moves next
	lastSign []int     // the sign of each weight's last move
	counts   []int     // points per cluster, by the last assign
	sums     []vec     // their sum, for the next centre
}

func newPowerFit(pts []vec, idx []int, shares []float64, centres []vec) *powerFit {
	k := len(shares)
	f := &powerFit{
		pts: pts, idx: idx, target: make([]float64, k), c: append([]vec(nil), centres...), w: make([]float64, k),
		labels: make([]int, len(idx)), step: make([]float64, k), lastSign: make([]int, k), counts: make([]int, k), sums: make([]vec, k),
	}
	var total float64
	for _, s := range shares {
		total += s
	}
	for j, s := range shares {
		f.target[j] = s / total * float64(len(idx))
	}
	return f
}

// assign puts every point in the cell of the power diagram it falls in, counts the clusters and
// returns the mean squared distance of a point from its centre.
func (f *powerFit) assign() float64 {
	clear(f.counts)
	clear(f.sums)
	var spread float64
	for n, i := range f.idx {
		p := f.pts[i]
		best, bestD := 0, math.Inf(1)
		for j := range f.target {
			if d := p.dist2(f.c[j]) - f.w[j]; d < bestD {
				best, bestD = j, d
			}
		}
		f.labels[n] = best
		f.counts[best]++
		f.sums[best] = f.sums[best].add(p)
		spread += p.dist2(f.c[best])
	}
	return spread / float64(len(f.idx))
}

// balanced reports whether every cluster is within 2% (or one point) of its target.
func (f *powerFit) balanced() bool {
	for j, t := range f.target {
		if math.Abs(float64(f.counts[j])-t) > math.Max(1, 0.02*t) {
			return false
		}
	}
	return true
}

// reweigh moves each weight towards its cluster's target size: up while the cluster has too few
// points, down while too many, by a step that starts at 5% of spread, grows while the sign holds
// and halves when it flips.
func (f *powerFit) reweigh(spread float64) {
	for j, t := range f.target {
		err := t - float64(f.counts[j])
		sign := 0
		switch {
		case err > 0.5:
			sign = 1
		case err < -0.5:
			sign = -1
		}
		switch {
		case f.step[j] == 0:
			f.step[j] = 0.05 * spread
		case sign != 0 && sign == f.lastSign[j]:
			f.step[j] *= 1.4
		case sign != 0:
			f.step[j] *= 0.5
		}
		f.w[j] += float64(sign) * f.step[j]
		if sign != 0 {
			f.lastSign[j] = sign
		}
	}
}

// kmeansPP picks k initial centres among the points idx by k-means++ (each next centre drawn with
// probability proportional to its squared distance from the nearest centre already chosen).
func kmeansPP(pts []vec, idx []int, k int, rng *rand.Rand) []vec {
	out := make([]vec, 0, k)
	if len(idx) == 0 {
		return out
	}
	out = append(out, pts[idx[rng.IntN(len(idx))]])
	d2 := make([]float64, len(idx))
	for n, i := range idx {
		d2[n] = pts[i].dist2(out[0])
	}
	for len(out) < k {
		var sum float64
		for _, d := range d2 {
			sum += d
		}
		var pick int
		if sum == 0 {
			pick = rng.IntN(len(idx))
		} else {
			r := rng.Float64() * sum
			for pick = 0; pick < len(d2)-1; pick++ {
				r -= d2[pick]
				if r <= 0 {
					break
				}
			}
		}
		c := pts[idx[pick]]
		out = append(out, c)
		for n, i := range idx {
			if d := pts[i].dist2(c); d < d2[n] {
				d2[n] = d
			}
		}
	}
	return out
}

// groupBy returns, for each cluster 0..k-1, the points of idx with that label.
func groupBy(idx, labels []int, k int) [][]int {
	out := make([][]int, k)
	for n, i := range idx {
		out[labels[n]] = append(out[labels[n]], i)
	}
	return out
}
