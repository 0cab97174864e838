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
	labels := make([]int, len(idx))
	if k <= 1 {
		return labels, []vec{centroidOf(pts, idx)}, []float64{0}
	}
	c := append([]vec(nil), centres...)
	var total float64
	for _, s := range shares {
		total += s
	}
	target := make([]float64, k)
	for j, s := range shares {
		target[j] = s / total * float64(len(idx))
	}
	w := make([]float64, k)
	step := make([]float64, k)
	lastSign := make([]int, k)
	counts := make([]int, k)
	sums := make([]vec, k)
	assign := func() float64 {
		clear(counts)
		clear(sums)
		var spread float64
		for n, i := range idx {
			p := pts[i]
			best, bestD := 0, math.Inf(1)
			for j := 0; j < k; j++ {
				if d := p.dist2(c[j]) - w[j]; d < bestD {
					best, bestD = j, d
				}
			}
			labels[n] = best
			counts[best]++
			sums[best] = sums[best].add(p)
			spread += p.dist2(c[best])
		}
		return spread / float64(len(idx))
	}
	// balanced reports whether every cluster is within 2% (or one point) of its target.
	balanced := func() bool {
		for j := range k {
			if math.Abs(float64(counts[j])-target[j]) > math.Max(1, 0.02*target[j]) {
				return false
			}
		}
		return true
	}
	reweigh := func(spread float64) {
		for j := range k {
			err := target[j] - float64(counts[j])
			sign := 0
			switch {
			case err > 0.5:
				sign = 1
			case err < -0.5:
				sign = -1
			}
			switch {
			case step[j] == 0:
				step[j] = 0.05 * spread
			case sign != 0 && sign == lastSign[j]:
				step[j] *= 1.4
			case sign != 0:
				step[j] *= 0.5
			}
			w[j] += float64(sign) * step[j]
			if sign != 0 {
				lastSign[j] = sign
			}
		}
	}
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
		_, c, w = balancedKMeansWeights(pts, sample, shares, c, fixed)
		lloyd = 0
		for j := range step {
			step[j] = 0
		}
	}
	for it := 0; it < lloyd; it++ {
		reweigh(assign())
		for j := range k {
			if counts[j] > 0 {
				c[j] = sums[j].scale(1 / float64(counts[j]))
			}
		}
	}
	for it := 0; it < settle; it++ {
		spread := assign()
		if balanced() {
			break
		}
		reweigh(spread)
	}
	assign()
	return labels, c, w
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
