package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/importers"
	"gridline.dev/gridline/jobs"
	"gridline.dev/gridline/store"
)

// routeImports mounts the import and export endpoints.
func (s *Server) routeImports(r *mux.Router) {
	r.HandleFunc("/v1/imports", s.postImport).Methods(http.MethodPost)
	r.HandleFunc("/v1/exports", s.getExport).Methods(http.MethodGet, http.MethodHead)
}

// boolForm reads a true/false form value.
func boolForm(r *http.Request, name string, def bool) (bool, error) {
	v := r.FormValue(name)
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, gridline.Errorf(gridline.EInvalid, "%s %q must be true or false", name, gridline.Excerpt(v)).With("field", name)
	}
	return b, nil
}

// importOptions reads the form fields of POST /v1/imports.
func (s *Server) importOptions(r *http.Request) (importers.Options, error) {
	var opt importers.Options
	var err error
	if opt.Apply, err = boolForm(r, "apply", false); err != nil {
		return opt, err
	}
	if dry, err := boolForm(r, "dry_run", !opt.Apply); err != nil {
		return opt, err
	} else if dry && opt.Apply {
		return opt, gridline.Errorf(gridline.EInvalid, "apply=true and dry_run=true contradict each other").With("field", "apply")
	} else {
		opt.Apply = !dry
	}
	if opt.Repair, err = boolForm(r, "repair", false); err != nil {
		return opt, err
	}
	if opt.Retire, err = boolForm(r, "retire", false); err != nil {
		return opt, err
	}
	if opt.From, err = s.dateParam(r.Form, "from"); err != nil {
		return opt, err
	}
	opt.Format, opt.CRS, opt.Encoding, opt.SourceLayer = r.FormValue("format"), r.FormValue("crs"), r.FormValue("encoding"), r.FormValue("source_layer")
	if v := r.FormValue("tolerance"); v != "" {
		if opt.Tolerance, err = strconv.ParseFloat(v, 64); err != nil {
			return opt, gridline.Errorf(gridline.EInvalid, "tolerance %q must be a number of square metres from 0 to %d", gridline.Excerpt(v), importers.MaxTolerance).With("field", "tolerance")
		}
		if err := importers.CheckTolerance(opt.Tolerance); err != nil {
			return opt, err
		}
	}
	if v := r.FormValue("mapping"); v != "" {
		if opt.Mapping, err = importers.ParseMapping([]byte(v)); err != nil {
			return opt, err
		}
	}
	for k, v := range r.Form {
		if attr, ok := strings.CutPrefix(k, "field."); ok && len(v) > 0 {
			if opt.Mapping.Fields == nil {
				opt.Mapping.Fields = map[string]string{}
			}
			opt.Mapping.Fields[attr] = v[0]
		}
	}
	if v := r.FormValue("level"); v != "" {
		opt.Mapping.Level = gridline.Level(v)
	}
	if v := r.FormValue("layer"); v != "" {
		opt.Mapping.Layer = gridline.Layer(v)
	}
	if v := r.FormValue("kind"); v != "" {
		opt.Mapping.Kind = v
	}
	return opt, opt.Mapping.Validate()
}

// postImport is POST /v1/imports: a multipart upload of one dataset (one file, a .zip, or a
// Shapefile's parts, each in a part named file) with the options as form fields; what=staff for a
// staff list (CSV or XLSX), what=divisions for a division list (CSV). A dry run unless apply=true. 200 with the report; an applied import with problems is 422 with the report in the
// error's details, and nothing written.
func (s *Server) postImport(w http.ResponseWriter, r *http.Request) {
	// What an import needs depends on what it imports (grids and division lists change grids,
	// staff lists change posts), which the form says: before reading the upload, a caller who
	// may do neither is refused; after, the one it asks for is checked. The store checks each
	// written row against the caller's scope again, inside the import's transaction.
	if err := s.allowed(r, accounts.GridsWrite, "importing"); err != nil && !principalFrom(r).CanSomewhere(accounts.StaffWrite) {
		s.writeError(w, r, err)
		return
	}
	limit := s.imports.MaxBytes()
	body, err := s.body(w, r, "the upload", limit+1<<20)
	if err == nil {
		r.Body = body
		err = r.ParseMultipartForm(32 << 20)
	}
	if err != nil {
		var mbe *http.MaxBytesError
		var ge *gridline.Error
		if errors.As(err, &ge) && ge.Code != gridline.ETooLarge {
			s.writeError(w, r, ge) // the body stopped coming (request_timeout)
			return
		}
		if errors.As(err, &mbe) || ge != nil {
			s.writeError(w, r, gridline.Errorf(gridline.ETooLarge, "the upload is larger than the import limit of %d bytes", limit).With("limit", limit))
			return
		}
		s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "send the file as multipart/form-data in a part named file: %v", err))
		return
	}
	defer r.MultipartForm.RemoveAll()
	opt, err := s.importOptions(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	parts := r.MultipartForm.File["file"]
	if len(parts) == 0 {
		s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "no file: send the dataset in a multipart part named file").With("field", "file"))
		return
	}
	// The upload goes in the engine's temporary directory, this server's own, and belongs to the
	// job from when it starts: the job removes it, or the janitor does if the server dies.
	dir, err := os.MkdirTemp(s.imports.TempDir(), "gridline-upload-")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	owned := false
	defer func() {
		if !owned {
			os.RemoveAll(dir)
		}
	}()
	var paths []string
	var size int64
	for _, p := range parts {
		name := filepath.Base(strings.ReplaceAll(p.Filename, `\`, "/"))
		if name == "." || name == "/" || name == "" || len(name) > 200 || !utf8.ValidString(name) || strings.ContainsAny(name, "\x00") || strings.HasPrefix(name, ".") {
			s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "file name %q is not usable: give each part a plain file name such as grids.shp", gridline.Excerpt(p.Filename)).With("field", "file"))
			return
		}
		dst := filepath.Join(dir, name)
		if err := saveUpload(p, dst); err != nil {
			s.writeError(w, r, err)
			return
		}
		paths = append(paths, dst)
		size += p.Size
	}
	what := r.FormValue("what")
	need, doing := accounts.GridsWrite, "importing grids"
	switch what {
	case "staff":
		need, doing = accounts.StaffWrite, "importing a staff list"
	case "divisions":
		doing = "importing a division list"
	case "addresses":
		doing = "importing addresses"
	case "roads":
		doing = "importing a road network"
	}
	if err := s.allowed(r, need, doing); err != nil {
		s.writeError(w, r, err)
		return
	}
	switch what {
	case "staff", "divisions":
		if len(paths) != 1 {
			s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "a %s list is one file (.csv, or .xlsx for staff)", what).With("field", "file"))
			return
		}
	case "", "grids", "addresses", "roads":
	default:
		s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "what %q is not grids, staff, divisions, addresses or roads", gridline.Excerpt(what)).With("field", "what"))
		return
	}
	work := func(ctx context.Context, p *jobs.Progress) (any, *jobs.File, error) {
		defer os.RemoveAll(dir)
		switch what {
		case "staff":
			p.Stage("check")
			rep, err := s.imports.ImportStaff(ctx, paths[0], importers.StaffOptions{Encoding: opt.Encoding, From: opt.From, Apply: opt.Apply})
			if err != nil {
				return nil, nil, err
			}
			return rep, nil, listRefusal(rep, opt.Apply && !rep.Valid, rep.Problems, rep.ProblemCount)
		case "divisions":
			p.Stage("check")
			rep, err := s.imports.ImportDivisions(ctx, paths[0], importers.DivisionOptions{Encoding: opt.Encoding, From: opt.From, Apply: opt.Apply})
			if err != nil {
				return nil, nil, err
			}
			return rep, nil, listRefusal(rep, opt.Apply && !rep.Valid, rep.Problems, rep.ProblemCount)
		case "addresses":
			// The standard address register (api/addresses.go).
			p.Stage("check")
			rep, err := s.imports.ImportAddresses(ctx, paths, importers.AddressOptions{Encoding: opt.Encoding, CRS: opt.CRS, Mapping: opt.Mapping, From: opt.From, Apply: opt.Apply})
			if err != nil {
				return nil, nil, err
			}
			if rep.Applied && s.addresses != nil {
				if err := s.addresses.Refresh(ctx); err != nil {
					s.log.Warn("address register refresh failed", "err", err)
				}
			}
			return rep, nil, listRefusal(rep, opt.Apply && !rep.Valid, rep.Problems, rep.ProblemCount)
		case "roads":
			p.Stage("check")
			rep, err := s.imports.ImportRoads(ctx, paths, importers.RoadOptions{CRS: opt.CRS, SourceLayer: opt.SourceLayer, Encoding: opt.Encoding, Apply: opt.Apply})
			if err != nil {
				return nil, nil, err
			}
			return rep, nil, nil
		}
		opt.Progress = p
		rep, err := s.imports.Import(ctx, paths, opt)
		if err != nil {
			return nil, nil, err
		}
		if opt.Apply && !rep.OK() {
			msg := "the import has problems and nothing was written"
			if len(rep.Problems) > 0 {
				msg = rep.Problems[0].String() + " (" + strconv.Itoa(rep.ProblemCount) + " problems in all); nothing was written"
			}
			return rep, nil, gridline.Errorf(gridline.ERule, "%s", msg).With("report", rep).With("problems", rep.Problems)
		}
		return rep, nil, nil
	}
	owned = true
	s.runJob(w, r, jobs.KindImport, size, work, func(out jobs.Outcome, _ *store.Job) { writeJSON(w, http.StatusOK, out.Report) })
}

// saveUpload copies one uploaded part to dst.
func saveUpload(p *multipart.FileHeader, dst string) error {
	src, err := p.Open()
	if err != nil {
		return err
	}
	defer src.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, src); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// listRefusal is the error of an apply of a staff or division list that found problems (and so
// wrote nothing): 422 with the report in the error's details; nil when it was not refused.
func listRefusal(rep any, refused bool, problems []store.ImportProblem, count int) error {
	if !refused {
		return nil
	}
	msg := "the list has problems; nothing was written"
	if len(problems) > 0 {
		msg = fmt.Sprintf("%s (%d problems in all); nothing was written", problems[0].String(), count)
	}
	return gridline.Errorf(gridline.ERule, "%s", msg).With("report", rep).With("problems", problems)
}
