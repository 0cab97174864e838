package demo

import (
	"bytes"
	"embed"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/paulmach/orb"

	"gridline.dev/gridline/geo"
)

// The real data the Erqi district is built from, copied into the module so the program never reads
// outside it; data/PROVENANCE.md says where each file comes from and how it was derived.
//
//go:embed data/erqi.gcj02.geojson data/erqi-divisions.csv
var dataFS embed.FS

const (
	outlineFile   = "data/erqi.gcj02.geojson"
	divisionsFile = "data/erqi-divisions.csv"
	erqiAdcode    = "410103"
)

// division is one row of the statistical division table.
type division struct {
	Code   string
	Name   string
	Level  string // district, subdistrict, community
	Parent string
}

// divisions is the district, its subdistricts and communities, each list in code order.
type divisions struct {
	District     division
	Subdistricts []division
	Communities  []division
}

// loadDivisions reads data/erqi-divisions.csv and checks the shape of every code, so a bad edit of
// the file fails here and not as a strange grid code later.
func loadDivisions() (*divisions, error) {
	b, err := dataFS.ReadFile(divisionsFile)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", divisionsFile, err)
	}
	r := csv.NewReader(bytes.NewReader(b))
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("read %s header: %w", divisionsFile, err)
	}
	if strings.Join(header, ",") != "code,name,level,parent_code" {
		return nil, fmt.Errorf("%s: header %q, want code,name,level,parent_code", divisionsFile, strings.Join(header, ","))
	}
	var d divisions
	subs := map[string]bool{}
	seen := map[string]bool{}
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", divisionsFile, line, err)
		}
		v := division{Code: rec[0], Name: rec[1], Level: rec[2], Parent: rec[3]}
		if seen[v.Code] {
			return nil, fmt.Errorf("%s line %d: code %s appears twice", divisionsFile, line, v.Code)
		}
		seen[v.Code] = true
		switch {
		case v.Level == "district" && v.Code == erqiAdcode:
			d.District = v
		case v.Level == "subdistrict" && len(v.Code) == 9 && v.Parent == erqiAdcode && allDigits(v.Code):
			d.Subdistricts = append(d.Subdistricts, v)
			subs[v.Code] = true
		case v.Level == "community" && len(v.Code) == 12 && subs[v.Parent] && strings.HasPrefix(v.Code, v.Parent) && allDigits(v.Code):
			d.Communities = append(d.Communities, v)
		default:
			return nil, fmt.Errorf("%s line %d: %v is not a district %s, a 9-digit subdistrict of it or a 12-digit community of a subdistrict listed above it", divisionsFile, line, rec, erqiAdcode)
		}
	}
	if d.District.Code == "" || len(d.Subdistricts) == 0 || len(d.Communities) == 0 {
		return nil, fmt.Errorf("%s: want district %s with subdistricts and communities, got %d subdistricts and %d communities", divisionsFile, erqiAdcode, len(d.Subdistricts), len(d.Communities))
	}
	return &d, nil
}

// loadOutline reads the district outline (GCJ-02, as DataV publishes it) and converts every vertex
// to WGS84. The file holds one MultiPolygon feature.
func loadOutline() (orb.MultiPolygon, error) {
	b, err := dataFS.ReadFile(outlineFile)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", outlineFile, err)
	}
	// Parsed by hand: orb's geojson package would pull in a BSON library for nothing.
	var fc struct {
		Features []struct {
			Geometry struct {
				Type        string          `json:"type"`
				Coordinates json.RawMessage `json:"coordinates"`
			} `json:"geometry"`
		} `json:"features"`
	}
	if err := json.Unmarshal(b, &fc); err != nil {
		return nil, fmt.Errorf("parse %s: %w", outlineFile, err)
	}
	if len(fc.Features) != 1 {
		return nil, fmt.Errorf("%s: want the one feature of 二七区, got %d", outlineFile, len(fc.Features))
	}
	var mp [][][][2]float64
	switch g := fc.Features[0].Geometry; g.Type {
	case "MultiPolygon":
		err = json.Unmarshal(g.Coordinates, &mp)
	case "Polygon":
		var poly [][][2]float64
		err = json.Unmarshal(g.Coordinates, &poly)
		mp = [][][][2]float64{poly}
	default:
		return nil, fmt.Errorf("%s: geometry is %q, want a (Multi)Polygon", outlineFile, g.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("parse %s coordinates: %w", outlineFile, err)
	}
	out := make(orb.MultiPolygon, len(mp))
	for i, poly := range mp {
		out[i] = make(orb.Polygon, len(poly))
		for j, ring := range poly {
			r := make(orb.Ring, len(ring))
			for k, p := range ring {
				lon, lat := geo.GCJ02ToWGS84(p[0], p[1])
				r[k] = orb.Point{lon, lat}
			}
			out[i][j] = r
		}
	}
	return out, nil
}

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}
