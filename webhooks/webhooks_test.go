package webhooks

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"gridline.dev/gridline/internal/fakeclock"
)

func TestSignVerify(t *testing.T) {
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	body := []byte(`{"event":{"seq":1}}`)
	h := Sign("whsec_0123456789abcdef", now, body)
	if err := Verify("whsec_0123456789abcdef", h, body, now.Add(time.Minute), 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		secret, header string
		body           string
		at             time.Time
	}{
		"other secret":  {"whsec_other_secret_xx", h, string(body), now},
		"changed body":  {"whsec_0123456789abcdef", h, `{"event":{"seq":2}}`, now},
		"replayed late": {"whsec_0123456789abcdef", h, string(body), now.Add(time.Hour)},
		"no header":     {"whsec_0123456789abcdef", "", string(body), now},
	} {
		if Verify(c.secret, c.header, []byte(c.body), c.at, 5*time.Minute) == nil {
			t.Errorf("%s: verified", name)
		}
	}
	// The documented recipe, by hand: HMAC-SHA256(secret, "<t>.<body>").
	if h != "t=1796551200,v1="+hexMAC("whsec_0123456789abcdef", "1796551200."+string(body)) {
		t.Errorf("header %s", h)
	}
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second}
	for i, w := range want {
		if got := Backoff(i+1, 10*time.Second, time.Hour); got != w {
			t.Errorf("after %d failures %s, want %s", i+1, got, w)
		}
	}
	if got := Backoff(30, 10*time.Second, time.Hour); got != time.Hour {
		t.Errorf("ceiling %s", got)
	}
}

func TestValidate(t *testing.T) {
	for _, u := range []string{"ftp://x/y", "/relative", "https://user:pw@x/", "not a url", ""} {
		s := Subscription{URL: u}
		if s.Validate() == nil {
			t.Errorf("url %q accepted", u)
		}
	}
	s := Subscription{URL: "https://receiver.example/hook", Kinds: []string{"dispatched", "closed", "dispatched"}}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(s.Secret) < 16 || len(s.Kinds) != 2 || s.Scope.Kind != "all" {
		t.Fatalf("%+v", s)
	}
	if (&Subscription{URL: "https://x/", Kinds: []string{"Bad Kind"}}).Validate() == nil {
		t.Error("bad kind accepted")
	}
}

// memStore is the deliveries table in memory, claimed as store.DB claims it.
type memStore struct {
	mu   sync.Mutex
	rows map[int64]*Claim
}

func (m *memStore) ClaimDeliveries(_ context.Context, now time.Time, lease time.Duration, limit int) ([]Claim, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Claim
	for _, c := range m.rows {
		if c.Status == Pending && !c.NextAttemptAt.After(now) && len(out) < limit {
			c.Attempts++
			next := now.Add(lease)
			c.NextAttemptAt = &next
			out = append(out, *c)
		}
	}
	return out, nil
}

func (m *memStore) FinishDelivery(_ context.Context, id int64, r Result) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.rows[id]
	c.Status, c.NextAttemptAt, c.LastStatus, c.LastError = r.Status, r.NextAttemptAt, r.LastStatus, r.LastError
	if r.Status == Delivered {
		c.DeliveredAt = &r.At
	}
	return nil
}

// A receiver that fails first and then succeeds: the sender retries after the backoff, the
// receiver checks every signature, and the delivery ends delivered after two attempts.
func TestSenderRetriesUntilDelivered(t *testing.T) {
	const secret = "whsec_receiver_test_secret"
	clock := fakeclock.New(time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC))
	var mu sync.Mutex
	var calls int
	var bad []string
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		calls++
		if err := Verify(secret, r.Header.Get(SignatureHeader), body, clock.Now(), 5*time.Minute); err != nil {
			bad = append(bad, err.Error())
		}
		if r.Header.Get(DeliveryHeader) != "7" || r.Header.Get(EventHeader) != "dispatched" {
			bad = append(bad, "headers "+r.Header.Get(DeliveryHeader)+" "+r.Header.Get(EventHeader))
		}
		if calls == 1 {
			http.Error(w, "not now", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rcv.Close()
	now := clock.Now()
	st := &memStore{rows: map[int64]*Claim{7: {Delivery: Delivery{ID: 7, Status: Pending, NextAttemptAt: &now}, URL: rcv.URL, Secret: secret, Kind: "dispatched", Body: []byte(`{"x":1}`)}}}
	s := NewSender(st, clock, Options{})
	ctx := context.Background()
	if n, err := s.SendDue(ctx); n != 1 || err != nil {
		t.Fatal(n, err)
	}
	d := st.rows[7]
	if d.Status != Pending || d.LastStatus != 503 || d.LastError == "" || !d.NextAttemptAt.Equal(now.Add(10*time.Second)) {
		t.Fatalf("after the failure: %+v next %v", d.Delivery, d.NextAttemptAt)
	}
	if n, _ := s.SendDue(ctx); n != 0 {
		t.Fatal("retried before its time")
	}
	clock.Advance(10 * time.Second)
	if n, err := s.SendDue(ctx); n != 1 || err != nil {
		t.Fatal(n, err)
	}
	if d.Status != Delivered || d.Attempts != 2 || d.DeliveredAt == nil {
		t.Fatalf("after the retry: %+v", d.Delivery)
	}
	if calls != 2 || len(bad) > 0 {
		t.Fatalf("%d calls, problems %v", calls, bad)
	}
}

func TestSenderGivesUp(t *testing.T) {
	clock := fakeclock.New(time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC))
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", 500) }))
	defer rcv.Close()
	now := clock.Now()
	st := &memStore{rows: map[int64]*Claim{1: {Delivery: Delivery{ID: 1, Status: Pending, NextAttemptAt: &now}, URL: rcv.URL, Secret: "whsec_0123456789abcdef", Body: []byte(`{}`)}}}
	s := NewSender(st, clock, Options{MaxAttempts: 3, Base: time.Second})
	for range 3 {
		if _, err := s.SendDue(context.Background()); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Hour)
	}
	if d := st.rows[1]; d.Status != Failed || d.Attempts != 3 || d.LastStatus != 500 {
		t.Fatalf("%+v", d.Delivery)
	}
}

func hexMAC(secret, msg string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}
