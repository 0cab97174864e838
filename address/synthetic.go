package address

import (
	"fmt"
	"math/rand/v2"
	"time"

	"gridline.dev/gridline"
)

// placeChars are characters Chinese place names are made of; SyntheticRegister pairs them.
var placeChars = []rune("安宝北碧滨长城春大德东丰福富光广贵国海汉和河红宏华淮惠吉嘉建江金锦京康乐丽利林龙隆陇梅美民明南宁平庆秋荣瑞润山盛顺泰天铁文西祥新兴秀阳永玉裕园远云长正政中忠")

// SyntheticRegister generates a register of about n rows for benchmarks, deterministically and
// marked synthetic: roads of two place characters and 路/街/大道, 24 doors each (odd on one side,
// even on the other), every third door a named compound, two buildings of two units at each door;
// one row per door, building and unit. Points are spread over a 20 km square near Zhengzhou.
func SyntheticRegister(n int, seed int64) []gridline.Address {
	rnd := rand.New(rand.NewPCG(uint64(seed), 0x51))
	seen := map[string]bool{}
	name := func(suffixes []string) string {
		for {
			a, b := placeChars[rnd.IntN(len(placeChars))], placeChars[rnd.IntN(len(placeChars))]
			if a == b {
				continue
			}
			s := string([]rune{a, b}) + suffixes[rnd.IntN(len(suffixes))]
			if !seen[s] {
				seen[s] = true
				return s
			}
		}
	}
	from := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var rows []gridline.Address
	roads := n/(24*7) + 1
	subs := make([]string, 0, 16)
	for range 16 {
		subs = append(subs, name([]string{"街道"}))
	}
	for r := 0; r < roads && len(rows) < n; r++ {
		road := name([]string{"路", "街", "大道", "路", "街"})
		sub := subs[r%len(subs)]
		comm := name([]string{"社区"})
		x0, y0 := 113.5+rnd.Float64()*0.2, 34.6+rnd.Float64()*0.2
		compound, bn := "", 0
		for d := 1; d <= 24; d++ {
			if d%3 == 1 {
				compound, bn = "", 0
				if rnd.IntN(2) == 0 {
					compound = name([]string{"花园", "家园", "小区", "苑"})
				}
			}
			base := gridline.Address{Province: "河南省", City: "郑州市", District: "合成区", Subdistrict: sub, Community: comm, Road: road,
				Door: fmt.Sprint(d), Compound: compound, ValidFrom: from, Provenance: gridline.ProvenanceSynthetic,
				Lon: x0 + float64(d)*0.0005, Lat: y0 + float64(d%2)*0.0003}
			if compound == "" {
				bn = 0
			}
			rows = append(rows, base)
			for range 2 {
				bn++
				b := base
				b.Building = fmt.Sprint(bn)
				b.Lat += float64(bn) * 0.0001
				rows = append(rows, b)
				for u := 1; u <= 2; u++ {
					ur := b
					ur.Unit = fmt.Sprint(u)
					ur.Households = 12
					rows = append(rows, ur)
				}
			}
		}
	}
	for i := range rows {
		rows[i].ID = int64(i + 1)
	}
	return rows
}
