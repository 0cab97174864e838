package webhooks

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"gridline.dev/gridline"
)

// Claim is a delivery a sender has claimed: what to send, and where.
type Claim struct {
	Delivery
	URL    string
	Secret string
	Kind   string // the event kind (the Gridline-Event header)
	Body   []byte // the JSON body (docs/api.md, Webhooks)
}

// Result is what became of one attempt.
type Result struct {
	Status        string     // Delivered, Pending (another attempt at NextAttemptAt) or Failed
	NextAttemptAt *time.Time // when Pending
	LastStatus    int        // the receiver's HTTP status, 0 when none answered
	LastError     string
	At            time.Time
}

// Store is what the sender needs from the database (store.DB implements it).
type Store interface {
	// ClaimDeliveries takes up to limit pending deliveries due at now, skipping those another
	// sender holds, counts the attempt and moves their next attempt to now+lease, so that a
	// sender that dies mid-post leaves them to be retried once the lease is over.
	ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Claim, error)
	// FinishDelivery records an attempt's result.
	FinishDelivery(ctx context.Context, id int64, r Result) error
}

// Options tune a Sender.
type Options struct {
	Client      *http.Client  // default: a client with a 10 s timeout that does not follow redirects
	Poll        time.Duration // how often to look for due deliveries (default 1 s; Wake looks at once)
	Batch       int           // deliveries claimed at once (default 20)
	Parallel    int           // posts at once (default 4)
	Lease       time.Duration // how long a claim is held (default 1 minute; more than the client's timeout)
	MaxAttempts int           // attempts before a delivery fails for good (default 10)
	Base        time.Duration // the first retry's wait (default 10 s), doubled each time
	Ceiling     time.Duration // the longest wait between attempts (default 1 h)
}

// Sender posts due deliveries.
type Sender struct {
	st    Store
	clock gridline.Clock
	opt   Options
	wake  chan struct{}
}

// NewSender makes a sender; Run runs it.
func NewSender(st Store, clock gridline.Clock, opt Options) *Sender {
	if opt.Client == nil {
		opt.Client = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if opt.Poll <= 0 {
		opt.Poll = time.Second
	}
	if opt.Batch <= 0 {
		opt.Batch = 20
	}
	if opt.Parallel <= 0 {
		opt.Parallel = 4
	}
	if opt.Lease <= 0 {
		opt.Lease = time.Minute
	}
	if opt.MaxAttempts <= 0 {
		opt.MaxAttempts = 10
	}
	if opt.Base <= 0 {
		opt.Base = 10 * time.Second
	}
	if opt.Ceiling <= 0 {
		opt.Ceiling = time.Hour
	}
	return &Sender{st: st, clock: clock, opt: opt, wake: make(chan struct{}, 1)}
}

// Wake asks the sender to look for due deliveries now (a case changed).
func (s *Sender) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run sends due deliveries until ctx ends; onErr is told of database errors.
func (s *Sender) Run(ctx context.Context, onErr func(error)) {
	t := time.NewTicker(s.opt.Poll)
	defer t.Stop()
	for {
		n, err := s.SendDue(ctx)
		if err != nil && onErr != nil && ctx.Err() == nil {
			onErr(err)
		}
		if n == s.opt.Batch && err == nil {
			continue // more may be due
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.wake:
		}
	}
}

// SendDue claims one batch of due deliveries and posts them; it returns how many it claimed.
func (s *Sender) SendDue(ctx context.Context) (int, error) {
	claims, err := s.st.ClaimDeliveries(ctx, s.clock.Now(), s.opt.Lease, s.opt.Batch)
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, s.opt.Parallel)
	errs := make(chan error, len(claims))
	for i := range claims {
		wg.Add(1)
		sem <- struct{}{}
		go func(c *Claim) {
			defer wg.Done()
			defer func() { <-sem }()
			r := s.attempt(ctx, c)
			if err := s.st.FinishDelivery(context.WithoutCancel(ctx), c.ID, r); err != nil {
				errs <- err
			}
		}(&claims[i])
	}
	wg.Wait()
	close(errs)
	return len(claims), <-errs
}

// attempt posts c once and says what follows.
func (s *Sender) attempt(ctx context.Context, c *Claim) Result {
	now := s.clock.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(c.Body))
	var status int
	if err == nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		req.Header.Set("User-Agent", "gridline-webhooks/1")
		req.Header.Set(SignatureHeader, Sign(c.Secret, now, c.Body))
		req.Header.Set(DeliveryHeader, fmt.Sprint(c.ID))
		req.Header.Set(EventHeader, c.Kind)
		var resp *http.Response
		resp, err = s.opt.Client.Do(req)
		if err == nil {
			status = resp.StatusCode
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) //nolint:errcheck // draining for reuse
			resp.Body.Close()
			if status < 200 || status > 299 {
				err = fmt.Errorf("the receiver answered %d %s", status, http.StatusText(status))
			}
		}
	}
	at := s.clock.Now()
	if err == nil {
		return Result{Status: Delivered, LastStatus: status, At: at}
	}
	msg := err.Error()
	if len(msg) > 500 {
		msg = msg[:500]
	}
	if c.Attempts >= s.opt.MaxAttempts {
		return Result{Status: Failed, LastStatus: status, LastError: msg, At: at}
	}
	next := at.Add(Backoff(c.Attempts, s.opt.Base, s.opt.Ceiling))
	return Result{Status: Pending, NextAttemptAt: &next, LastStatus: status, LastError: msg, At: at}
}
