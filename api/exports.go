package api

import (
	"context"
	"net/http"
	"os"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/importers"
	"gridline.dev/gridline/jobs"
	"gridline.dev/gridline/store"
)

// getExport is GET /v1/exports?format=&level=&layer=&at=&crs=&encoding=: the grids valid on a
// date as a file to download (geojson, shapefile as a .zip, gpkg, csv with WKT, kml, fgb).
func (s *Server) getExport(w http.ResponseWriter, r *http.Request) {
	if err := s.mayExport(r, "exporting grids"); err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	at, err := s.dateParam(q, "at")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	opt := importers.ExportOptions{
		Format: q.Get("format"), Level: gridline.Level(q.Get("level")), Layer: gridline.Layer(q.Get("layer")),
		At: at, CRS: q.Get("crs"), Encoding: q.Get("encoding"),
	}
	work := func(ctx context.Context, p *jobs.Progress) (any, *jobs.File, error) {
		opt.Progress = p
		x, err := s.imports.Export(ctx, opt)
		if err != nil {
			return nil, nil, err
		}
		if st, err := os.Stat(x.Path); err == nil {
			p.SetBytes(st.Size())
		}
		return exportReport{Features: x.Features, File: x.Name}, &jobs.File{Path: x.Path, Name: x.Name, ContentType: x.ContentType, Remove: x.Close}, nil
	}
	// A quick export is answered with its file as it always was, and the file goes at once; a
	// slow one is a job whose file stays to be downloaded (api/jobs.go).
	s.runJob(w, r, jobs.KindExport, 0, work, func(out jobs.Outcome, j *store.Job) {
		defer func() {
			out.File.Remove()                                           //nolint:errcheck // the janitor removes what stays
			s.jobs.ForgetFile(context.WithoutCancel(r.Context()), j.ID) //nolint:errcheck // the janitor expires it anyway
		}()
		s.sendFile(w, r, out.File.Path, out.File.Name, out.File.ContentType, int64(out.Report.(exportReport).Features))
	})
}

// exportReport is an export job's report.
type exportReport struct {
	Features int    `json:"features"`
	File     string `json:"file"`
}

// mayExport decides whether r may have an export. An export is a read of the boundaries that
// /ogc and the tiles already give every caller the operator lets read: anonymous callers may
// export unless the deployment asks everyone to sign in to read (GRIDLINE_SIGN_IN_TO_READ, which
// authenticate enforces before this); a signed-in caller needs grids.export somewhere, which every
// role from viewer up holds.
func (s *Server) mayExport(r *http.Request, what string) error {
	if principalFrom(r) == nil && !s.signInToRead {
		return nil
	}
	return s.allowed(r, accounts.GridsExport, what)
}
