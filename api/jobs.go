package api

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/jobs"
	"gridline.dev/gridline/store"
)

// MaxJobWait is the longest a request may wait for its job (?wait=): an answer must come before
// the server's write timeout, and a client that wants more follows the job instead.
const MaxJobWait = 50 * time.Second

// routeJobs mounts /v1/jobs.
func (s *Server) routeJobs(r *mux.Router) {
	r.HandleFunc("/v1/jobs/{id}", s.getJob).Methods(http.MethodGet)
	r.HandleFunc("/v1/jobs/{id}", s.cancelJob).Methods(http.MethodDelete)
	r.HandleFunc("/v1/jobs/{id}/cancel", s.cancelJob).Methods(http.MethodPost)
	r.HandleFunc("/v1/jobs/{id}/file", s.getJobFile).Methods(http.MethodGet, http.MethodHead)
}

// jobView is a job as GET /v1/jobs/{id} shows it.
type jobView struct {
	ID       string          `json:"id"`
	Kind     string          `json:"kind"`
	State    string          `json:"state"`
	Stage    string          `json:"stage,omitempty"`
	Progress jobProgress     `json:"progress"`
	Created  time.Time       `json:"created"`
	Started  *time.Time      `json:"started,omitempty"`
	Finished *time.Time      `json:"finished,omitempty"`
	Report   any             `json:"report,omitempty"`
	Error    *gridline.Error `json:"error,omitempty"`
	URL      string          `json:"url"`
	File     string          `json:"file,omitempty"` // an export's download, while it is kept
}

type jobProgress struct {
	Read    int64 `json:"features_read"`
	Checked int64 `json:"features_checked"`
	Written int64 `json:"features_written"`
	Bytes   int64 `json:"bytes"`
}

func jobURL(id string) string { return "/v1/jobs/" + url.PathEscape(id) }

func viewJob(j *store.Job) jobView {
	v := jobView{ID: j.ID, Kind: j.Kind, State: j.State, Stage: j.Stage, Created: j.Created.UTC(), Error: j.Error, URL: jobURL(j.ID),
		Progress: jobProgress{Read: j.Read, Checked: j.Checked, Written: j.Written, Bytes: j.Bytes}}
	if !j.Started.IsZero() {
		t := j.Started.UTC()
		v.Started = &t
	}
	if !j.Finished.IsZero() {
		t := j.Finished.UTC()
		v.Finished = &t
	}
	if len(j.Report) > 0 {
		v.Report = j.Report
	}
	if j.FilePath != "" {
		v.File = jobURL(j.ID) + "/file"
	}
	return v
}

// jobWait reads ?wait= (seconds, 0 to answer 202 at once); the default is Options.JobWait.
func (s *Server) jobWait(r *http.Request) (time.Duration, error) {
	v := r.URL.Query().Get("wait")
	if v == "" {
		v = r.FormValue("wait")
	}
	if v == "" {
		return s.jobWaitDefault, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > MaxJobWait.Seconds() {
		return 0, gridline.Errorf(gridline.EInvalid, "wait %q must be a number of seconds from 0 to %d", v, int(MaxJobWait.Seconds())).With("field", "wait")
	}
	return time.Duration(f * float64(time.Second)), nil
}

// runJob starts fn as a job and waits for it as the request asks: when it ends in time, done
// answers as the endpoint always has (or the error does); otherwise 202 with the job and its
// address in Location. A client that goes away while it waits cancels the job: it never learnt
// the job's address, so nobody could follow it.
func (s *Server) runJob(w http.ResponseWriter, r *http.Request, kind string, bytes int64, fn jobs.Func, done func(jobs.Outcome, *store.Job)) {
	wait, err := s.jobWait(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// The job outlives the request, so it runs on a context of its own; the store checks every
	// write against the actor it finds there, who must be the request's.
	if actor := gridline.ActorFrom(r.Context()); actor != nil {
		work := fn
		fn = func(ctx context.Context, p *jobs.Progress) (any, *jobs.File, error) {
			return work(gridline.WithActor(ctx, actor), p)
		}
	}
	h, err := s.jobs.Start(r.Context(), kind, bytes, fn)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// The answer may be a large file after a wait: it must not be cut off by the server's write
	// timeout, which is there for the short answers.
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(wait + 30*time.Minute)) //nolint:errcheck // not every writer supports deadlines
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-h.Done():
			out := h.Outcome()
			if out.Err != nil {
				s.writeError(w, r, out.Err)
				return
			}
			done(out, h.Job)
			return
		case <-r.Context().Done():
			h.Cancel()
			return
		case <-t.C:
		}
	}
	j, err := s.jobs.Get(r.Context(), h.Job.ID)
	if err != nil {
		j = h.Job
	}
	w.Header().Set("Location", jobURL(j.ID))
	writeJSON(w, http.StatusAccepted, viewJob(j))
}

// getJob is GET /v1/jobs/{id}: the job's state, progress, and its report or error when it has
// ended.
func (s *Server) getJob(w http.ResponseWriter, r *http.Request) {
	j, err := s.jobs.Get(r.Context(), mux.Vars(r)["id"])
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, viewJob(j))
}

// cancelJob is DELETE /v1/jobs/{id} (or POST /v1/jobs/{id}/cancel): stop the job; an import
// writes nothing. Cancelling an import needs a token, as starting one does. A job that has ended
// stays as it ended.
func (s *Server) cancelJob(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	j, err := s.jobs.Get(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if j.Kind != jobs.KindExport {
		// Cancelling an import needs what starting one did: a grant that writes somewhere.
		if err := s.allowed(r, accounts.GridsWrite, "cancelling an import"); err != nil && !principalFrom(r).CanSomewhere(accounts.StaffWrite) {
			s.writeError(w, r, err)
			return
		}
	}
	if j, err = s.jobs.Cancel(r.Context(), id); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, viewJob(j))
}

// getJobFile is GET /v1/jobs/{id}/file: the file an export job wrote, kept for an hour after it
// ends on the server that ran it.
func (s *Server) getJobFile(w http.ResponseWriter, r *http.Request) {
	// The file is an export: fetching it needs what asking for it did.
	if err := s.mayExport(r, "downloading an export"); err != nil {
		s.writeError(w, r, err)
		return
	}
	j, err := s.jobs.Get(r.Context(), mux.Vars(r)["id"])
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if j.State != store.JobDone || j.Kind != jobs.KindExport {
		s.writeError(w, r, gridline.Errorf(gridline.ENotFound, "job %s is %s: it has no file (an export's file is ready when its state is done)", j.ID, j.State))
		return
	}
	if j.FilePath == "" || filepath.Dir(filepath.Dir(j.FilePath)) != filepath.Clean(s.imports.TempDir()) {
		s.writeError(w, r, gridline.Errorf(gridline.ENotFound, "the file of job %s has expired, or is kept by another server on this database: export again", j.ID))
		return
	}
	s.sendFile(w, r, j.FilePath, j.FileName, j.ContentType, j.Written)
}

// sendFile answers with a file to download.
func (s *Server) sendFile(w http.ResponseWriter, r *http.Request, path, name, contentType string, features int64) {
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			s.writeError(w, r, gridline.Errorf(gridline.ENotFound, "the file %s has expired: export again", name))
			return
		}
		s.writeError(w, r, err)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q; filename*=UTF-8''%s", name, url.PathEscape(name)))
	w.Header().Set("X-Feature-Count", strconv.FormatInt(features, 10))
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(30 * time.Minute)) //nolint:errcheck // not every writer supports deadlines
	http.ServeContent(w, r, "", st.ModTime(), f)
}
