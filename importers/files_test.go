package importers_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"gridline.dev/gridline"
	"gridline.dev/gridline/importers"
)

// topology is a TopoJSON file with three objects, as US counties/states/nation files are: the
// counties (two districts) share an arc with each other and with their state.
const topology = `{"type":"Topology","transform":{"scale":[0.0001,0.0001],"translate":[113.6,34.7]},
"objects":{
 "counties":{"type":"GeometryCollection","geometries":[
  {"type":"Polygon","arcs":[[0,1]],"properties":{"code":"410901","name":"西县","level":"district"}},
  {"type":"Polygon","arcs":[[2,-1]],"properties":{"code":"410902","name":"东县","level":"district"}}]},
 "states":{"type":"GeometryCollection","geometries":[{"type":"Polygon","arcs":[[2,1]],"properties":{"code":"410900","name":"州","level":"district"}}]},
 "nation":{"type":"GeometryCollection","geometries":[{"type":"Polygon","arcs":[[2,1]],"properties":{"code":"100000","name":"国","level":"district"}}]}},
"arcs":[[[100,0],[0,200]],[[100,200],[-100,0],[0,-200],[100,0]],[[100,0],[100,0],[0,200],[-100,0]]]}`

func errMessage(t *testing.T, err error) *gridline.Error {
	t.Helper()
	var ge *gridline.Error
	if !errors.As(err, &ge) {
		t.Fatalf("error %v (%T), want a gridline.Error", err, err)
	}
	return ge
}

// TopoJSON is read as .topojson and as .json; a file with several objects needs the one to read
// (the error lists them), a wrong name is refused with the list, and the one named is read.
func TestImportTopoJSON(t *testing.T) {
	_, eng := emptyDB(t)
	ctx := context.Background()
	for _, name := range []string{"us.topojson", "us.json"} {
		path := writeFile(t, name, topology)
		_, err := eng.Import(ctx, []string{path}, importers.Options{From: from})
		ge := errMessage(t, err)
		if !strings.Contains(ge.Message, "3 layers (counties, states, nation)") || ge.Details["field"] != "source_layer" {
			t.Errorf("%s without a layer: %q %v, want the three layers listed", name, ge.Message, ge.Details)
		}
		_, err = eng.Import(ctx, []string{path}, importers.Options{From: from, SourceLayer: "county"})
		ge = errMessage(t, err)
		if !strings.Contains(ge.Message, `no layer "county"; its layers are: counties, states, nation`) {
			t.Errorf("%s with a wrong layer: %q", name, ge.Message)
		}
		rep, err := eng.Import(ctx, []string{path}, importers.Options{From: from, SourceLayer: "counties"})
		if err != nil || !rep.OK() || rep.Added != 2 || rep.Layer != "counties" || rep.Format != "topojson" {
			t.Fatalf("%s counties: %v %+v", name, err, rep)
		}
		for _, c := range rep.Lists.Added {
			// Each county is 0.01 x 0.02 degrees: about 2.03 km².
			if c.AreaM2 < 1.95e6 || c.AreaM2 > 2.1e6 {
				t.Errorf("%s: county %s has %.0f m², want about 2.03 km²", name, c.Code, c.AreaM2)
			}
		}
	}
}

// A source layer is honoured for every format: a GeoJSON or Shapefile has one layer, named by
// the file, and another name is refused with it.
func TestSourceLayerEveryFormat(t *testing.T) {
	db, eng := fixtureDB(t)
	ctx := context.Background()
	gj := writeFile(t, "grids.geojson", collection(feature(`"code":"410103001001009","name":"新网格","parent_code":"410103001001","level":"grid"`, inGrid1)))
	_, err := eng.Import(ctx, []string{gj}, importers.Options{From: from, SourceLayer: "counties"})
	if ge := errMessage(t, err); !strings.Contains(ge.Message, `no layer "counties"; its layers are: grids`) {
		t.Errorf("geojson: %q", ge.Message)
	}
	if rep, err := eng.Import(ctx, []string{gj}, importers.Options{From: from, SourceLayer: "grids"}); err != nil || !rep.OK() {
		t.Errorf("geojson with its own layer: %v %+v", err, rep)
	}
	shp := exported(t, eng, "")
	_, err = eng.Import(ctx, []string{shp, sibling(shp, ".shx"), sibling(shp, ".dbf")}, importers.Options{From: from, SourceLayer: "counties"})
	if ge := errMessage(t, err); !strings.Contains(ge.Message, `no layer "counties"; its one layer is`) {
		t.Errorf("shapefile: %q", ge.Message)
	}
	_ = db
}

func sibling(path, ext string) string { return strings.TrimSuffix(path, filepath.Ext(path)) + ext }

// Many files of one layer (one per street) get one short sentence, not every name twice.
func TestManyFilesOneSentence(t *testing.T) {
	_, eng := emptyDB(t)
	var paths []string
	for i := 0; i < 300; i++ {
		paths = append(paths, writeFile(t, fmt.Sprintf("street-%03d-with-a-long-name.geojson", i), collection()))
	}
	_, err := eng.Import(context.Background(), paths, importers.Options{From: from})
	ge := errMessage(t, err)
	if len(ge.Message) > 300 || strings.Count(ge.Message, "street-000") != 1 || !strings.Contains(ge.Message, "300 datasets") {
		t.Errorf("message of %d bytes: %q", len(ge.Message), ge.Message)
	}
}

// ECharts map files carry coordinates as encoded strings: GDAL finds no geometry, and the report
// says the geometry could not be read and why.
func TestEncodedCoordinates(t *testing.T) {
	_, eng := emptyDB(t)
	gj := `{"type":"FeatureCollection","UTF8Encoding":true,"features":[{"type":"Feature","id":"410102",
		"properties":{"code":"410102","name":"中原区","level":"district","cp":[113.6,34.7]},
		"geometry":{"type":"Polygon","coordinates":["@@BAABDAC@A"],"encodeOffsets":[[116270,35307]]}}]}`
	rep, err := eng.Import(context.Background(), []string{writeFile(t, "410100.json", gj)}, importers.Options{From: from})
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() || len(rep.Problems) != 1 || !strings.HasPrefix(rep.Problems[0].Message, "the geometry could not be read because its coordinates are in the encoded form") {
		t.Errorf("problems %v", rep.Problems)
	}
}
