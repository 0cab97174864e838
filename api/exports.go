package api

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/importers"
)

// getExport is GET /v1/exports?format=&level=&layer=&at=&crs=&encoding=: the grids valid on a
// date as a file to download (geojson, shapefile as a .zip, gpkg, csv with WKT, kml, fgb).
func (s *Server) getExport(w http.ResponseWriter, r *http.Request) {
	if err := s.allowed(r, accounts.GridsExport, "exporting grids"); err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	at, err := s.dateParam(q, "at")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	x, err := s.imports.Export(r.Context(), importers.ExportOptions{
		Format: q.Get("format"), Level: gridline.Level(q.Get("level")), Layer: gridline.Layer(q.Get("layer")),
		At: at, CRS: q.Get("crs"), Encoding: q.Get("encoding"),
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer x.Close()
	f, err := os.Open(x.Path)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", x.ContentType)
	w.Header().Set("Content-Length", strconv.FormatInt(st.Size(), 10))
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q; filename*=UTF-8''%s", x.Name, url.PathEscape(x.Name)))
	w.Header().Set("X-Feature-Count", strconv.Itoa(x.Features))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	io.Copy(w, f) //nolint:errcheck // the client went away; nothing to tell it
}
