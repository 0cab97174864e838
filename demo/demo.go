// Package demo builds whole districts to show and measure gridline with.
//
// Erqi builds 二七区 of Zhengzhou from real data: its real outline (converted from GCJ-02 to WGS84)
// and its real 16 subdistricts and 176 communities with their statistical codes. Everything below
// that is generated: the boundaries of subdistricts and communities (no public data set has them),
// the basic, micro, special and police grids, the households and population of every grid (synthetic,
// not census figures) and the staff (fictitious people with fictitious phone numbers).
//
// Synthetic builds a lattice region of any size, for benchmarks.
//
// Both give every level as an exact partition of its parent: children cover the parent with no gap
// and no overlap, and a border shared by two grids has the same vertices, bit for bit, in both.
package demo

import (
	"context"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"time"

	"github.com/paulmach/orb"

	"gridline.dev/gridline"
)

// Options tune a generated district.
type Options struct {
	Seed      int64     // same seed, same district, byte for byte
	ValidFrom time.Time // valid_from of every grid and assignment (default 2024-01-01)
}

// DefaultValidFrom is the valid_from of generated grids and assignments when Options leave it zero.
var DefaultValidFrom = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func (o Options) validFrom() time.Time {
	if o.ValidFrom.IsZero() {
		return DefaultValidFrom
	}
	return o.ValidFrom
}

// District is a whole generated district, with IDs assigned 1..n by the generator (grids, people and
// assignments each numbered from 1; ParentID, PersonID and GridID refer to those IDs).
type District struct {
	Grids       []gridline.Grid // parents before children
	People      []gridline.Person
	Assignments []gridline.Assignment
}

// PostGIS is what Erqi needs of PostGIS: geometry computed from what it is given, with no table
// read or written. *store.DB implements it (store/demo.go holds the SQL).
type PostGIS interface {
	// VoronoiFaces cuts outline into the faces of the Voronoi diagram of seeds, the diagram's
	// edges and the outline noded together so that faces on both sides of an edge share its
	// vertices, and returns each face with a point inside it. Faces outside outline are dropped.
	VoronoiFaces(ctx context.Context, outline orb.MultiPolygon, seeds []orb.Point) ([]orb.Polygon, []orb.Point, error)
	// UnionLevels unions faces bottom up through the four levels below a district: owner[i] is
	// the micro grid (level 4) of faces[i], and children[k] with parents[k] pair the groups of
	// level 4-k with their parents at level 3-k. It calls each with every union, level 0 (the
	// district, id 0) first, then by level and id; every union is a valid MultiPolygon.
	UnionLevels(ctx context.Context, faces []orb.Polygon, owner []int32, children, parents [3][]int32, each func(level, id int, g orb.MultiPolygon)) error
	// UnionGroups unions polys by group (group[i] is the group of polys[i]) and calls each with
	// every group's union in order of group; every union is a valid MultiPolygon.
	UnionGroups(ctx context.Context, polys []orb.MultiPolygon, group []int32, each func(id int, g orb.MultiPolygon)) error
}

// newRand gives each stage of a generator its own stream, so changing how much randomness one stage
// draws does not reshuffle the others.
func newRand(seed int64, stage uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), stage*0x9e3779b97f4a7c15+1))
}

// Metres per degree: of latitude, and of longitude at the equator (times cos(lat) elsewhere).
const (
	metresPerDegLat = 110574.0
	metresPerDegLon = 111320.0
)

// proj is an equirectangular projection to metres around a reference latitude: good to a fraction
// of a percent over a district, which is all the clustering, sizing and four bounds need.
type proj struct {
	lon0, lat0, kx, ky float64
}

// projFor is the projection centred on a geometry's bounding box, as the generators use it.
func projFor(mp orb.MultiPolygon) proj {
	c := mp.Bound().Center()
	return newProj(c[0], c[1])
}

func newProj(lon0, lat0 float64) proj {
	return proj{lon0: lon0, lat0: lat0, kx: metresPerDegLon * math.Cos(lat0*math.Pi/180), ky: metresPerDegLat}
}

func (p proj) fwd(q orb.Point) vec { return vec{(q[0] - p.lon0) * p.kx, (q[1] - p.lat0) * p.ky} }
func (p proj) inv(v vec) orb.Point { return orb.Point{p.lon0 + v.x/p.kx, p.lat0 + v.y/p.ky} }

// areaM2 is the area of a lon/lat geometry in square metres under p.
func (p proj) areaM2(mp orb.MultiPolygon) float64 {
	var a float64
	for _, poly := range mp {
		for i, r := range poly {
			s := math.Abs(ringSignedArea(r)) * p.kx * p.ky
			if i == 0 {
				a += s
			} else {
				a -= s
			}
		}
	}
	return a
}

// ringSignedArea is the shoelace area in coordinate units, positive for counter-clockwise rings.
func ringSignedArea(r orb.Ring) float64 {
	var s float64
	for i := 0; i+1 < len(r); i++ {
		s += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
	}
	return s / 2
}

// rowOrder gives the order in which codes are handed out to siblings: west to east, north to south,
// as DB11/T 2157 numbers grids. Siblings are put in rows by latitude bands of height band (degrees),
// counted from top (the parent's northern edge); within a row they go west to east by their
// representative point. band is about one sibling's height: sqrt(parent area / number of siblings).
func rowOrder(pts []orb.Point, top, band float64) []int {
	idx := make([]int, len(pts))
	rows := make([]int, len(pts))
	for i, p := range pts {
		idx[i] = i
		if band > 0 {
			rows[i] = int(math.Floor((top - p[1]) / band))
		}
	}
	sort.SliceStable(idx, func(a, b int) bool {
		i, j := idx[a], idx[b]
		if rows[i] != rows[j] {
			return rows[i] < rows[j]
		}
		if pts[i][0] != pts[j][0] {
			return pts[i][0] < pts[j][0]
		}
		return pts[i][1] > pts[j][1]
	})
	return idx
}

// rowBand is the band height rowOrder uses for n siblings sharing a parent of areaM2 square metres.
func rowBand(areaM2 float64, n int) float64 {
	if n < 1 {
		n = 1
	}
	return math.Sqrt(areaM2/float64(n)) / metresPerDegLat
}

// splitInt divides total into len(weights) non-negative integers proportional to weights that sum
// to total exactly (largest remainder).
func splitInt(total int, weights []float64) []int {
	out := make([]int, len(weights))
	var sum float64
	for _, w := range weights {
		sum += w
	}
	if sum <= 0 || len(weights) == 0 {
		return out
	}
	type rem struct {
		i int
		r float64
	}
	rems := make([]rem, len(weights))
	given := 0
	for i, w := range weights {
		x := float64(total) * w / sum
		out[i] = int(math.Floor(x))
		given += out[i]
		rems[i] = rem{i, x - math.Floor(x)}
	}
	sort.SliceStable(rems, func(a, b int) bool { return rems[a].r > rems[b].r })
	for k := 0; given < total; k++ {
		out[rems[k%len(rems)].i]++
		given++
	}
	return out
}

// people builds Person and Assignment rows with IDs numbered from 1.
type people struct {
	rng       *rand.Rand
	validFrom time.Time
	tail0     uint64            // offset of the phone numbers' last eight digits
	notes     map[string]string // title -> note, so people with one title share one string
	list      []gridline.Person
	asg       []gridline.Assignment
}

func newPeople(seed int64, validFrom time.Time) *people {
	rng := newRand(seed, 90)
	return &people{rng: rng, validFrom: validFrom, tail0: rng.Uint64N(phoneTails), notes: map[string]string{}}
}

// assign creates a fictitious person with the given title and gives them role on grid.
func (pp *people) assign(grid int64, role gridline.Post, title string) {
	id := int64(len(pp.list) + 1)
	note, ok := pp.notes[title]
	if !ok {
		note = title + "；" + fictitiousNote
		pp.notes[title] = note
	}
	pp.list = append(pp.list, gridline.Person{ID: id, Name: chineseName(pp.rng), Phone: pp.phone(id), Note: note})
	pp.asg = append(pp.asg, gridline.Assignment{
		ID: int64(len(pp.asg) + 1), PersonID: id, GridID: grid, Post: role, ValidFrom: pp.validFrom,
	})
}

// phone gives person id a well-formed mobile number: a common prefix and eight digits that are a
// bijection of the id (multiplying by a number prime to 10 permutes the residues mod 10^8), so no
// two people of a district share a number and no lookup is needed.
func (pp *people) phone(id int64) string {
	tail := (uint64(id)*phoneStride + pp.tail0) % phoneTails
	b := make([]byte, 0, 11)
	b = append(b, mobilePrefixes[pp.rng.IntN(len(mobilePrefixes))]...)
	d := strconv.AppendUint(nil, tail, 10)
	for range 8 - len(d) {
		b = append(b, '0')
	}
	return string(append(b, d...))
}

const (
	phoneTails  = 100000000
	phoneStride = 48271937 // odd and not a multiple of 5
)

// fictitiousNote marks every generated person: the names are drawn from common surnames and
// given-name characters, and the phone numbers only look like mainland mobile numbers.
const fictitiousNote = "虚构人员，手机号为虚构号码（演示数据）"

// mobilePrefixes are common mainland mobile prefixes, so generated numbers are well formed (11 digits).
var mobilePrefixes = []string{"130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155", "156", "157", "158", "159", "166", "177", "180", "181", "182", "183", "185", "186", "187", "188", "189", "199"}

// Surnames weighted roughly by how common they are (the first ones repeat), and given-name characters.
var (
	surnames   = []rune("王王王王李李李李张张张张刘刘刘陈陈陈杨杨赵赵黄黄周吴徐孙马马朱胡郭郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴孔汤牛申翟常乔")
	givenChars = []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国志文俊峰婷雪晨欣宇浩博雨梓轩子涵佳怡思晓慧海亮斌飞琳颖倩凤春燕云林新永利德振喜成红梅丹宁波鑫凯瑞晶雯琪昊然诗佩航涵帅")
)

func chineseName(rng *rand.Rand) string {
	n := []rune{surnames[rng.IntN(len(surnames))]}
	n = append(n, givenChars[rng.IntN(len(givenChars))])
	if rng.IntN(10) < 7 {
		n = append(n, givenChars[rng.IntN(len(givenChars))])
	}
	return string(n)
}

// staffPlan says which roles go on which generated grids. Grids are given in ID order.
type staffPlan struct {
	vacancyRate    float64 // share of basic grids left without a full-time worker
	partTimeRate   float64 // share of basic grids with part-time workers (1 or 2)
	cadreRate      float64 // share of basic grids with an assigned cadre
	stewardRate    float64 // share of micro grids with a building steward
	minVacancies   int     // at least this many vacancies, so fallback to the parent always shows
	policePerGrid2 float64 // share of police grids with a second officer
}

var defaultStaff = staffPlan{vacancyRate: 0.025, partTimeRate: 0.3, cadreRate: 0.15, stewardRate: 0.85, minVacancies: 1, policePerGrid2: 0.5}

// staff generates the roster of a district whose grids are final (IDs set).
func staff(grids []gridline.Grid, seed int64, validFrom time.Time, plan staffPlan) ([]gridline.Person, []gridline.Assignment) {
	pp := newPeople(seed, validFrom)
	pp.list = make([]gridline.Person, 0, len(grids)+len(grids)/4)
	pp.asg = make([]gridline.Assignment, 0, cap(pp.list))
	rng := newRand(seed, 91)
	var basic []int
	for i := range grids {
		if grids[i].Layer == gridline.LayerComprehensive && grids[i].Level == gridline.LevelGrid {
			basic = append(basic, i)
		}
	}
	nVacant := int(math.Round(plan.vacancyRate * float64(len(basic))))
	if nVacant < plan.minVacancies && len(basic) > 0 {
		nVacant = plan.minVacancies
	}
	vacant := map[int]bool{}
	for _, k := range rng.Perm(len(basic))[:nVacant] {
		vacant[basic[k]] = true
	}
	for i := range grids {
		g := &grids[i]
		switch {
		case g.Layer == gridline.LayerComprehensive && g.Level == gridline.LevelDistrict:
			// The top of the fallback chain (属地兜底): someone always answers for a vacancy.
			pp.assign(g.ID, gridline.PostGridChief, "总网格长（区网格化服务管理中心）")
		case g.Layer == gridline.LayerComprehensive && g.Level == gridline.LevelSubdistrict:
			pp.assign(g.ID, gridline.PostGridChief, "一级网格长（街道党工委书记）")
		case g.Layer == gridline.LayerComprehensive && g.Level == gridline.LevelCommunity:
			pp.assign(g.ID, gridline.PostGridChief, "二级网格长（社区党组织书记）")
		case g.Layer == gridline.LayerComprehensive && g.Level == gridline.LevelGrid:
			if !vacant[i] {
				pp.assign(g.ID, gridline.PostFullTimeWorker, "专职网格员")
			}
			if rng.Float64() < plan.partTimeRate {
				for n := 1 + rng.IntN(2); n > 0; n-- {
					pp.assign(g.ID, gridline.PostPartTimeWorker, "兼职网格员")
				}
			}
			if rng.Float64() < plan.cadreRate {
				pp.assign(g.ID, gridline.PostAssignedCadre, "下沉干部")
			}
		case g.Layer == gridline.LayerComprehensive && g.Level == gridline.LevelMicro:
			if rng.Float64() < plan.stewardRate {
				pp.assign(g.ID, gridline.PostBuildingSteward, "楼栋长")
			}
		case g.Layer == gridline.LayerSpecial:
			pp.assign(g.ID, gridline.PostGridChief, "专属网格长（单位负责人）")
			pp.assign(g.ID, gridline.PostFullTimeWorker, "专属网格员")
		case g.Layer == gridline.LayerPolice:
			pp.assign(g.ID, gridline.PostPoliceOfficer, "社区民警")
			if rng.Float64() < plan.policePerGrid2 {
				pp.assign(g.ID, gridline.PostPoliceOfficer, "社区民警")
			}
		}
	}
	return pp.list, pp.asg
}

// fourBoundsText writes one direction of a four-bounds description.
func fourBoundsText(dir int, what string) string {
	return dirPrefix[dir] + what
}

var dirPrefix = [4]string{"东至", "南至", "西至", "北至"}

// districtLine is what lies beyond a grid whose border there is the district's own boundary.
const districtLine = "区界"
