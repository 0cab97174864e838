package accounts

import (
	"sync"
	"time"

	"gridline.dev/gridline"
)

// Limiter slows down and then locks sign-in for one key (an account's username, a client's
// address) after repeated failures: the first few failures cost nothing, then each attempt must
// wait twice as long as the one before, and at Lock failures the key is locked for LockFor.
// A success clears the key. It is per process: several server processes each keep their own
// count, which multiplies the attempts an attacker gets by the number of processes, not more.
type Limiter struct {
	Free    int           // failures that cost nothing
	Lock    int           // failures at which the key is locked
	LockFor time.Duration // how long
	Now     func() time.Time

	mu   sync.Mutex
	keys map[string]*failures
}

type failures struct {
	n    int
	last time.Time
}

// NewLimiter is a limiter with free failures, locking at lock for lockFor.
func NewLimiter(free, lock int, lockFor time.Duration, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{Free: free, Lock: lock, LockFor: lockFor, Now: now, keys: map[string]*failures{}}
}

// wait is how long key must still wait before its next attempt.
func (l *Limiter) wait(key string, now time.Time) time.Duration {
	f := l.keys[key]
	if f == nil || f.n < l.Free {
		return 0
	}
	var d time.Duration
	if f.n >= l.Lock {
		d = l.LockFor
	} else {
		d = time.Second << (f.n - l.Free)
	}
	if left := f.last.Add(d).Sub(now); left > 0 {
		return left
	}
	return 0
}

// Allow says whether key may try now; when not, the error says how long to wait.
func (l *Limiter) Allow(key, what string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.Now()
	left := l.wait(key, now)
	if left <= 0 {
		return nil
	}
	secs := int(left.Round(time.Second) / time.Second)
	if secs < 1 {
		secs = 1
	}
	f := l.keys[key]
	if f.n >= l.Lock {
		return gridline.Errorf(gridline.ETooMany, "%s is locked after %d failed sign-ins: try again in %d seconds, or ask an administrator to set a new password", what, f.n, secs).With("retry_after", secs)
	}
	return gridline.Errorf(gridline.ETooMany, "too many failed sign-ins for %s: wait %d seconds before trying again", what, secs).With("retry_after", secs)
}

// Fail records a failure for key.
func (l *Limiter) Fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.Now()
	f := l.keys[key]
	if f == nil {
		// Forget keys whose lock has run out, so the map does not grow without bound.
		if len(l.keys) > 10000 {
			for k, v := range l.keys {
				if now.Sub(v.last) > l.LockFor {
					delete(l.keys, k)
				}
			}
		}
		f = &failures{}
		l.keys[key] = f
	} else if now.Sub(f.last) > l.LockFor {
		f.n = 0
	}
	f.n++
	f.last = now
}

// Succeed clears key.
func (l *Limiter) Succeed(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.keys, key)
}
