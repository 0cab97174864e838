package accounts

import (
	"testing"
	"time"
)

// TestTokenCacheForgets: a principal read before a forget is not remembered after it (the change
// it was read before would otherwise be undone for a TTL), and nothing is remembered while the
// change notifications are not arriving.
func TestTokenCacheForgets(t *testing.T) {
	now := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	c := &tokenCache{ttl: 10 * time.Second}
	p := &Principal{AccountID: 7}

	_, ok, gen := c.get("t", now)
	if ok {
		t.Fatal("empty cache answered")
	}
	c.put("t", p, now, gen)
	if got, ok, _ := c.get("t", now.Add(time.Second)); !ok || got.AccountID != 7 {
		t.Fatalf("remembered: %v %v", got, ok)
	}
	if _, ok, _ := c.get("t", now.Add(10*time.Second)); ok {
		t.Fatal("answered after its TTL")
	}

	// A read that began before a forget (a revocation announced meanwhile) is not put.
	_, _, gen = c.get("u", now)
	c.forget(nil)
	c.put("u", p, now, gen)
	if _, ok, _ := c.get("u", now); ok {
		t.Fatal("a principal read before the forget was remembered")
	}

	// Not following changes: nothing is remembered until they are followed again.
	s := &Service{tokens: c}
	s.FollowChanges(false)
	_, _, gen = c.get("v", now)
	c.put("v", p, now, gen)
	if _, ok, _ := c.get("v", now); ok {
		t.Fatal("remembered while the notifications were not arriving")
	}
	s.Forget() // stays off
	_, _, gen = c.get("v", now)
	c.put("v", p, now, gen)
	if _, ok, _ := c.get("v", now); ok {
		t.Fatal("Forget turned the cache back on")
	}
	s.FollowChanges(true)
	_, _, gen = c.get("v", now)
	c.put("v", p, now, gen)
	if _, ok, _ := c.get("v", now); !ok {
		t.Fatal("not remembered once the notifications arrive again")
	}
}
