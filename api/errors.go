package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"gridline.dev/gridline"
)

// statusOf is the one table from error code to HTTP status.
var statusOf = map[string]int{
	gridline.EInvalid:          http.StatusBadRequest,
	gridline.EInvalidCoord:     http.StatusBadRequest,
	gridline.EInvalidCRS:       http.StatusBadRequest,
	gridline.EInvalidDate:      http.StatusBadRequest,
	gridline.ENotFound:         http.StatusNotFound,
	gridline.EConflict:         http.StatusConflict,
	gridline.ERule:             http.StatusUnprocessableEntity,
	gridline.ETooLarge:         http.StatusRequestEntityTooLarge,
	gridline.EUnavailable:      http.StatusServiceUnavailable,
	gridline.EUnauthorized:     http.StatusUnauthorized,
	gridline.EForbidden:        http.StatusForbidden,
	gridline.ETooMany:          http.StatusTooManyRequests,
	gridline.EInternal:         http.StatusInternalServerError,
	gridline.EMethodNotAllowed: http.StatusMethodNotAllowed,
	gridline.ETimeout:          http.StatusRequestTimeout,
}

// errorBody is the one JSON error shape: {"error":{"code":..,"message":..,"details":{..}}}.
type errorBody struct {
	Error *gridline.Error `json:"error"`
}

// writeError writes err in the one error shape. Errors that are not *gridline.Error are bugs or
// outages: they are logged and answered without their text.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var e *gridline.Error
	if !errors.As(err, &e) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			e = gridline.Errorf(gridline.ETooLarge, "the request body is larger than the limit of %d bytes", mbe.Limit).With("limit", mbe.Limit)
		} else {
			s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
			e = &gridline.Error{Code: gridline.EInternal, Message: "internal error"}
		}
	}
	status, ok := statusOf[e.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "2")
	}
	writeJSON(w, status, errorBody{Error: e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal","message":"could not encode the response"}}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// recoverer turns a panic in a handler into a 500 in the error shape: no request crashes the server.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic in handler", "method", r.Method, "path", r.URL.Path, "panic", v, slog.String("stack", stack()))
				writeJSON(w, http.StatusInternalServerError, errorBody{Error: &gridline.Error{Code: gridline.EInternal, Message: "internal error"}})
			}
		}()
		next.ServeHTTP(w, r)
	})
}
