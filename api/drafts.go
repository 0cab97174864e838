package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/drafts"
)

// maxOperationBytes bounds one operation's body: a reshape of a few dozen grids at full
// precision.
const maxOperationBytes = 8 << 20

// routeDrafts mounts the drafts of issue 14 (docs/api.md, "Drafts").
func (s *Server) routeDrafts(r *mux.Router) {
	r.HandleFunc("/v1/drafts", s.createDraft).Methods(http.MethodPost)
	r.HandleFunc("/v1/drafts", s.listDrafts).Methods(http.MethodGet)
	r.HandleFunc("/v1/drafts/{id:[0-9]+}", s.getDraft).Methods(http.MethodGet)
	r.HandleFunc("/v1/drafts/{id:[0-9]+}/neighbourhood", s.draftNeighbourhood).Methods(http.MethodGet)
	r.HandleFunc("/v1/drafts/{id:[0-9]+}/grids", s.draftGrids).Methods(http.MethodGet)
	r.HandleFunc("/v1/drafts/{id:[0-9]+}/history", s.draftHistory).Methods(http.MethodGet)
	r.HandleFunc("/v1/drafts/{id:[0-9]+}/operations", s.draftOperation).Methods(http.MethodPost)
	for _, a := range []string{"undo", "redo", "submit", "approve", "return", "withdraw", "publish", "rebase"} {
		r.HandleFunc("/v1/drafts/{id:[0-9]+}/"+a, s.draftAction(a)).Methods(http.MethodPost)
	}
}

// draftCaller is the request's caller as drafts sees it; anonymous callers are refused.
func (s *Server) draftCaller(r *http.Request) (drafts.Caller, error) {
	p := principalFrom(r)
	if s.drafts == nil {
		return drafts.Caller{}, gridline.Errorf(gridline.EUnavailable, "drafts are not configured on this server")
	}
	if p == nil {
		return drafts.Caller{}, gridline.Errorf(gridline.EUnauthorized, "drafts need you to sign in (POST /v1/session, or the map's sign-in) or an API token")
	}
	return drafts.Caller{AccountID: p.AccountID, Username: p.Username,
		CanWrite:  func(chain []int64) bool { return p.Can(accounts.GridsWrite, chain) },
		CanReview: func(chain []int64) bool { return p.Can(accounts.DraftsReview, chain) }}, nil
}

func draftID(r *http.Request) int64 {
	id, _ := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	return id
}

// readJSON decodes an optional JSON body (none: v unchanged) of at most limit bytes.
func readJSON(r *http.Request, limit int64, v any) error {
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLargeBody("the body", limit)
		}
		return gridline.Errorf(gridline.EInvalid, "the body could not be read: %v", err)
	}
	if len(b) == 0 {
		return nil
	}
	if raw, ok := v.(*json.RawMessage); ok {
		if !json.Valid(b) {
			return gridline.Errorf(gridline.EInvalid, "the body is not JSON")
		}
		*raw = b
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return gridline.Errorf(gridline.EInvalid, "the body must be a JSON object with the fields docs/api.md lists: %v", err)
	}
	return nil
}

// draftView is a draft as GET /v1/drafts/{id} answers it.
func (s *Server) draftView(r *http.Request, d *drafts.Draft, full bool) (map[string]any, error) {
	v := map[string]any{"id": d.ID, "title": d.Title, "author": d.Author, "author_id": d.AuthorID,
		"scope": map[string]any{"id": d.ScopeID, "code": d.ScopeCode}, "effective_date": gridline.Date(d.EffectiveDate),
		"state": d.State, "base": map[string]any{"change_seq": d.BaseSeq}, "revision": d.Head,
		"can_undo": d.CanUndo, "can_redo": d.CanRedo, "acknowledged": d.Acknowledged,
		"reviewer": d.Reviewer, "created_at": d.CreatedAt, "updated_at": d.UpdatedAt}
	if !full {
		return v, nil
	}
	problems := d.Problems
	if problems == nil {
		problems = []drafts.Problem{}
	}
	v["problems"] = problems
	changes, err := s.drafts.Changes(r.Context(), d)
	if err != nil {
		return nil, err
	}
	v["changes"] = changes
	events, err := s.drafts.Events(r.Context(), d)
	if err != nil {
		return nil, err
	}
	comments := []drafts.Event{}
	for _, e := range events {
		switch e.Action {
		case "submit", "approve", "return", "withdraw", "publish":
			comments = append(comments, e)
		}
	}
	v["comments"] = comments
	return v, nil
}

func (s *Server) writeDraft(w http.ResponseWriter, r *http.Request, status int, d *drafts.Draft, err error) {
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	v, err := s.draftView(r, d, true)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, status, v)
}

// createDraft is POST /v1/drafts {"title", "scope", "effective_date"}.
func (s *Server) createDraft(w http.ResponseWriter, r *http.Request) {
	c, err := s.draftCaller(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var body struct {
		Title         string `json:"title"`
		Scope         any    `json:"scope"`
		EffectiveDate string `json:"effective_date"`
	}
	if err := readJSON(r, 64<<10, &body); err != nil {
		s.writeError(w, r, err)
		return
	}
	var scope string
	switch v := body.Scope.(type) {
	case string:
		scope = v
	case float64:
		scope = strconv.FormatInt(int64(v), 10)
	}
	var eff time.Time
	if body.EffectiveDate != "" {
		if eff, err = gridline.ParseDate("effective_date", body.EffectiveDate); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	d, err := s.drafts.Create(r.Context(), c, body.Title, scope, eff)
	s.writeDraft(w, r, http.StatusCreated, d, err)
}

// listDrafts is GET /v1/drafts?state=&mine=1&queue=1.
func (s *Server) listDrafts(w http.ResponseWriter, r *http.Request) {
	c, err := s.draftCaller(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	f := drafts.ListFilter{State: drafts.State(q.Get("state")), Queue: q.Get("queue") == "1"}
	if f.State != "" {
		ok := false
		for _, st := range drafts.States {
			ok = ok || st == f.State
		}
		if !ok {
			s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "state %q is not one of draft, submitted, approved, returned, published, withdrawn", gridline.Excerpt(string(f.State))).With("field", "state"))
			return
		}
	}
	if q.Get("mine") == "1" {
		f.AuthorID = c.AccountID
	}
	list, err := s.drafts.List(r.Context(), c, f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := []map[string]any{}
	for i := range list {
		v, _ := s.draftView(r, &list[i], false)
		out = append(out, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"drafts": out})
}

func (s *Server) getDraft(w http.ResponseWriter, r *http.Request) {
	c, err := s.draftCaller(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	d, err := s.drafts.Get(r.Context(), c, draftID(r))
	s.writeDraft(w, r, http.StatusOK, d, err)
}

func (s *Server) writeGeoJSON(w http.ResponseWriter, r *http.Request, v any, err error) {
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/geo+json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b)
}

// draftNeighbourhood is GET /v1/drafts/{id}/neighbourhood?parent=CODE_OR_ID.
func (s *Server) draftNeighbourhood(w http.ResponseWriter, r *http.Request) {
	c, err := s.draftCaller(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	d, err := s.drafts.Get(r.Context(), c, draftID(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	parent := r.URL.Query().Get("parent")
	if parent == "" {
		parent = d.ScopeCode
	}
	fc, err := s.drafts.Neighbourhood(r.Context(), d, parent)
	s.writeGeoJSON(w, r, fc, err)
}

// draftGrids is GET /v1/drafts/{id}/grids?before=1.
func (s *Server) draftGrids(w http.ResponseWriter, r *http.Request) {
	c, err := s.draftCaller(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	d, err := s.drafts.Get(r.Context(), c, draftID(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	fc, err := s.drafts.ChangedGrids(r.Context(), d, r.URL.Query().Get("before") == "1")
	s.writeGeoJSON(w, r, fc, err)
}

// draftHistory is GET /v1/drafts/{id}/history.
func (s *Server) draftHistory(w http.ResponseWriter, r *http.Request) {
	c, err := s.draftCaller(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	revs, events, err := s.drafts.History(r.Context(), c, draftID(r))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"revisions": revs, "events": events})
}

// draftOperation is POST /v1/drafts/{id}/operations with one operation.
func (s *Server) draftOperation(w http.ResponseWriter, r *http.Request) {
	c, err := s.draftCaller(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var raw json.RawMessage
	if err := readJSON(r, maxOperationBytes, &raw); err != nil {
		s.writeError(w, r, err)
		return
	}
	if len(raw) == 0 {
		s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "the body must be one operation: {\"op\": ...}"))
		return
	}
	d, err := s.drafts.Apply(r.Context(), c, draftID(r), raw)
	s.writeDraft(w, r, http.StatusOK, d, err)
}

// draftAction is POST /v1/drafts/{id}/ACTION.
func (s *Server) draftAction(action string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := s.draftCaller(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		var body struct {
			Acknowledge []string `json:"acknowledge"`
			Comment     string   `json:"comment"`
		}
		if err := readJSON(r, 64<<10, &body); err != nil {
			s.writeError(w, r, err)
			return
		}
		id := draftID(r)
		ctx := r.Context()
		var d *drafts.Draft
		switch action {
		case "undo":
			d, err = s.drafts.Undo(ctx, c, id)
		case "redo":
			d, err = s.drafts.Redo(ctx, c, id)
		case "submit":
			d, err = s.drafts.Submit(ctx, c, id, body.Acknowledge)
		case "approve":
			d, err = s.drafts.Review(ctx, c, id, true, body.Comment)
		case "return":
			d, err = s.drafts.Review(ctx, c, id, false, body.Comment)
		case "withdraw":
			d, err = s.drafts.Withdraw(ctx, c, id)
		case "publish":
			d, err = s.drafts.Publish(ctx, c, id)
		case "rebase":
			d, err = s.drafts.Rebase(ctx, c, id)
		}
		s.writeDraft(w, r, http.StatusOK, d, err)
	}
}
