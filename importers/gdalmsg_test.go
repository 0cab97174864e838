package importers

import (
	"strings"
	"testing"
)

// TestGDALMessage: what GDAL says reaches the user without the server's paths or GDAL's list of
// drivers, and never empty.
func TestGDALMessage(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"path cut to the file", "ERROR parsing kml /tmp/gridline-upload-1890327079/x.kml :no element found", "ERROR parsing kml x.kml :no element found"},
		{"driver list", "At line 1, character 112: Unterminated object; Failed to read GeoJSON data FAILURE: Unable to open datasource `/tmp/gridline-upload-2/x.geojson' with the following drivers. -> `FITS' -> `PCIDSK'", "At line 1, character 112: Unterminated object; Failed to read GeoJSON data"},
		{"driver list alone", "FAILURE:\nUnable to open datasource `/tmp/a/b.fgb' with the following drivers.\n -> `FITS'", "it is not in a format GDAL reads"},
		{"nothing said", "", "it is damaged, or not in the format its name says"},
		{"FAILURE alone", "FAILURE:", "it is damaged, or not in the format its name says"},
		{"a tool that stopped silently", "ogrinfo stopped (exit status 1) without saying why", "it is damaged, or not in the format its name says"},
		{"long", strings.Repeat("网", 400), strings.Repeat("网", 166) + "…"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := gdalMessage(tc.in); got != tc.want {
				t.Fatalf("gdalMessage = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestReadErrorsHidePaths: a file that cannot be opened is named by its name, not its path on the
// server.
func TestReadErrorsHidePaths(t *testing.T) {
	msg := gdalMessage("open /tmp/gridline-upload-123/grids.csv: permission denied")
	if msg != "open grids.csv: permission denied" {
		t.Fatalf("gdalMessage = %q", msg)
	}
}
