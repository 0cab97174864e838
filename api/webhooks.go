package api

import (
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/webhooks"
)

// routeWebhooks mounts the webhook subscriptions, which administrators manage (accounts.manage).
func (s *Server) routeWebhooks(r *mux.Router) {
	r.Handle("/v1/webhooks", s.need(accounts.AccountsManage, "listing webhook subscriptions", s.listWebhooks)).Methods(http.MethodGet)
	r.Handle("/v1/webhooks", s.need(accounts.AccountsManage, "subscribing a webhook", s.createWebhook)).Methods(http.MethodPost)
	r.Handle("/v1/webhooks/{id:[0-9]+}", s.need(accounts.AccountsManage, "removing a webhook subscription", s.deleteWebhook)).Methods(http.MethodDelete)
	r.Handle("/v1/webhooks/{id:[0-9]+}/deliveries", s.need(accounts.AccountsManage, "reading webhook deliveries", s.webhookDeliveries)).Methods(http.MethodGet)
}

// createWebhook is POST /v1/webhooks {"url", "secret"?, "kinds"?, "scope"?}: 201 with the
// subscription and its secret, which is shown this once.
func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) {
	var in struct {
		URL    string         `json:"url"`
		Secret string         `json:"secret"`
		Kinds  []string       `json:"kinds"`
		Scope  accounts.Scope `json:"scope"`
	}
	if err := decodeBody(r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	sub := webhooks.Subscription{URL: in.URL, Secret: in.Secret, Kinds: in.Kinds, Scope: in.Scope}
	if err := sub.Validate(); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.db.CreateWebhook(r.Context(), &sub, s.clock.Now()); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, sub)
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) {
	subs, err := s.db.Webhooks(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"webhooks": subs})
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	if err := s.db.DeleteWebhook(r.Context(), id); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// webhookDeliveries is GET /v1/webhooks/{id}/deliveries?status=pending|delivered|failed&limit=N
// (default 100, at most 1,000): each delivery's status, attempts, next attempt and last error.
func (s *Server) webhookDeliveries(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	q := r.URL.Query()
	status := q.Get("status")
	switch status {
	case "", webhooks.Pending, webhooks.Delivered, webhooks.Failed:
	default:
		s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "status %q is not pending, delivered or failed", gridline.Excerpt(status)).With("field", "status"))
		return
	}
	limit := 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			s.writeError(w, r, gridline.Errorf(gridline.EInvalid, "limit %q must be a whole number from 1 to 1000", gridline.Excerpt(v)).With("field", "limit"))
			return
		}
		limit = n
	}
	ds, err := s.db.Deliveries(r.Context(), id, status, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": ds})
}
