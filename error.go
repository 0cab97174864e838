package gridline

import (
	"errors"
	"fmt"
)

// Error codes: one word for each way a request can fail. api/ maps each to one HTTP status.
const (
	EInvalid          = "invalid_request"      // malformed input in general
	EInvalidCoord     = "invalid_coordinate"   // a coordinate that is missing, NaN or out of range
	EInvalidCRS       = "unknown_crs"          // a crs the server does not know
	EInvalidDate      = "invalid_date"         // a date that is not YYYY-MM-DD, or outside FirstDate..LastDate
	ENotFound         = "not_found"            // no such grid, person ...
	EMethodNotAllowed = "method_not_allowed"   // a method the path does not answer (POST /v1/grids ...)
	EConflict         = "conflict"             // a write that breaks a rule other rows hold (unique code ...)
	ERule             = "rule_violation"       // a write that breaks a hierarchy or geometry rule
	ETooLarge         = "too_large"            // a body over the limit
	EUnavailable      = "database_unavailable" // the database cannot be reached right now
	EUnauthorized     = "unauthorized"         // a write without a valid token
	EForbidden        = "forbidden"            // signed in, but the grants do not reach what was asked
	ETooMany          = "too_many_attempts"    // sign-in slowed down or locked after repeated failures
	ETimeout          = "request_timeout"      // a request body that stopped sending before its end
	EInternal         = "internal"             // a bug: never a client's fault
)

// Error is an error a user can act on: a code from the list above, a message that says what was
// wrong and where, and details a program can read (field, line, feature index ...).
type Error struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details,omitempty"`
}

func (e *Error) Error() string { return e.Message }

// Errorf makes an *Error.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// With returns e with one more detail.
func (e *Error) With(key string, value any) *Error {
	if e.Details == nil {
		e.Details = map[string]any{}
	}
	e.Details[key] = value
	return e
}

// ErrorCode is the code of err's *Error, or EInternal.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EInternal
}

// ErrorMessage is the message of err's *Error, or a generic one that leaks nothing.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// ExcerptRunes is how many characters of a client's input an error message quotes at most.
const ExcerptRunes = 80

// Excerpt is s cut to its first ExcerptRunes characters, with "…" when something was cut: every
// message that quotes a client's input quotes it through Excerpt, so that a megabyte of input
// never comes back in an error.
func Excerpt(s string) string {
	n := 0
	for i := range s {
		if n == ExcerptRunes {
			return s[:i] + "…"
		}
		n++
	}
	return s
}
