// Package webhooks sends case changes to other systems: subscriptions (a URL, a secret, the event
// kinds and the scope wanted), deliveries signed with HMAC-SHA256, retried with exponential
// backoff, and a record of every attempt. A delivery is a row that a sender claims (FOR UPDATE
// SKIP LOCKED, with a lease) before it posts it, so several servers on one database send each
// delivery once, and again only when a sender died mid-post ("exactly once" as far as HTTP
// allows: receivers deduplicate by the Gridline-Delivery header).
//
// It knows nothing of HTTP handlers or SQL: the Store is declared here and implemented by store.
package webhooks

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
)

// Subscription is one receiver of case changes.
type Subscription struct {
	ID     int64          `json:"id"`
	URL    string         `json:"url"`
	Secret string         `json:"secret,omitempty"` // only in the answer that creates it
	Kinds  []string       `json:"kinds"`            // event kinds wanted; empty: all
	Scope  accounts.Scope `json:"scope"`            // all, a grid subtree, or a department
	Active bool           `json:"active"`
	// CreatedBy is the account that made it.
	CreatedBy int64     `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// Validate checks a subscription before it is stored, and makes its secret when none was given.
func (s *Subscription) Validate() error {
	u, err := url.Parse(s.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Fragment != "" {
		return gridline.Errorf(gridline.EInvalid, "url %q must be an absolute http or https URL without credentials or fragment (https://receiver.example/hooks/gridline)", gridline.Excerpt(s.URL)).With("field", "url")
	}
	if len(s.URL) > 2000 {
		return gridline.Errorf(gridline.EInvalid, "url is longer than 2,000 characters").With("field", "url")
	}
	if s.Secret == "" {
		var b [32]byte
		rand.Read(b[:]) //nolint:errcheck // crypto/rand does not fail on Linux
		s.Secret = "whsec_" + hex.EncodeToString(b[:])
	}
	if len(s.Secret) < 16 || len(s.Secret) > 200 {
		return gridline.Errorf(gridline.EInvalid, "secret must be 16 to 200 characters (leave it out and gridline makes one)").With("field", "secret")
	}
	for _, k := range s.Kinds {
		if k == "" || len(k) > 64 || strings.Trim(k, "abcdefghijklmnopqrstuvwxyz_") != "" {
			return gridline.Errorf(gridline.EInvalid, "kind %q is not an event kind (lower-case letters and _, such as dispatched)", gridline.Excerpt(k)).With("field", "kinds")
		}
	}
	slices.Sort(s.Kinds)
	s.Kinds = slices.Compact(s.Kinds)
	if s.Kinds == nil {
		s.Kinds = []string{}
	}
	switch s.Scope.Kind {
	case "":
		s.Scope.Kind = accounts.ScopeAll
	case accounts.ScopeAll, accounts.ScopeGrid, accounts.ScopeDepartment:
	default:
		return gridline.Errorf(gridline.EInvalid, "scope kind %q is not all, grid or department", s.Scope.Kind).With("field", "scope")
	}
	if s.Scope.Kind == accounts.ScopeGrid && s.Scope.Grid <= 0 || s.Scope.Kind == accounts.ScopeDepartment && s.Scope.Department == "" {
		return gridline.Errorf(gridline.EInvalid, "a grid scope names a grid ({\"kind\":\"grid\",\"grid\":ID}), a department scope a department ({\"kind\":\"department\",\"department\":\"CODE\"})").With("field", "scope")
	}
	return nil
}

// Delivery states.
const (
	Pending   = "pending"   // waiting for its first or next attempt
	Delivered = "delivered" // a receiver answered 2xx
	Failed    = "failed"    // every attempt failed; no more will be made
)

// Delivery is one change to be sent to one subscription, and what became of it.
type Delivery struct {
	ID             int64      `json:"id"`
	SubscriptionID int64      `json:"subscription_id"`
	EventSeq       int64      `json:"event_seq"`
	Status         string     `json:"status"`
	Attempts       int        `json:"attempts"`
	NextAttemptAt  *time.Time `json:"next_attempt_at,omitempty"`
	LastStatus     int        `json:"last_status,omitempty"` // the receiver's HTTP status
	LastError      string     `json:"last_error,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	DeliveredAt    *time.Time `json:"delivered_at,omitempty"`
}

// Headers a delivery carries.
const (
	SignatureHeader = "Gridline-Signature" // t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">
	DeliveryHeader  = "Gridline-Delivery"  // the delivery's id: the same on every attempt
	EventHeader     = "Gridline-Event"     // the event kind
)

// Sign is the Gridline-Signature header's value for body sent at t with secret: the HMAC-SHA256
// of the decimal Unix time, a dot and the body, in hex.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify is what a receiver does with a delivery: it checks that header (a Gridline-Signature)
// signs body with secret, and that its time is within tolerance of now (a replayed delivery is
// refused). It accepts several v1= values, as a header may carry during a secret's rotation.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts string
	var sigs [][]byte
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			if b, err := hex.DecodeString(v); err == nil {
				sigs = append(sigs, b)
			}
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return gridline.Errorf(gridline.EUnauthorized, "the %s header must be t=<unix seconds>,v1=<hex signature>", SignatureHeader)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return gridline.Errorf(gridline.EUnauthorized, "the signature's time is %s away from now, more than the %s allowed", d.Round(time.Second), tolerance)
	}
	want := mac(secret, ts, body)
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			return nil
		}
	}
	return gridline.Errorf(gridline.EUnauthorized, "the signature does not match the body")
}

// Backoff is the wait before attempt n+1 after n failed attempts: base doubled each time, at most
// ceiling.
func Backoff(n int, base, ceiling time.Duration) time.Duration {
	d := base
	for i := 1; i < n && d < ceiling; i++ {
		d *= 2
	}
	return min(d, ceiling)
}
