package accounts

import (
	"context"
	"crypto/sha256"
	"sync"
	"time"
)

// TokenGrantsStore is a Store that finds a token's account and its grants in one query (store.DB
// does): FromToken then costs one round trip instead of two.
type TokenGrantsStore interface {
	TokenAccountGrants(ctx context.Context, token string) (tokenID int64, admin bool, a *Account, grants []Grant, err error)
}

// MaxTokenCacheTTL is the longest Options.TokenCacheTTL may be: the bound on how long a revoked
// token, a disabled account or a revoked grant may still be honoured by a server that did not
// make the change itself.
const MaxTokenCacheTTL = 10 * time.Second

// tokenCacheSize bounds the cache: when it is full it is emptied (tokens are few: scripts and
// integrations; a flood of unknown tokens is never cached).
const tokenCacheSize = 4096

type cachedPrincipal struct {
	p  Principal
	at time.Time
}

// tokenCache remembers the principals of API tokens for a TTL. Only tokens that were found are
// remembered; a revoked token, a disabled account or a changed grant is seen at the latest TTL
// after the change, and at once by this server when the change went through it (Forget).
type tokenCache struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[[32]byte]cachedPrincipal
	// gen counts forgets: a principal read from the store before a forget is not put after it
	// (the change it was read before would otherwise be undone for a TTL).
	gen uint64
	// off: the change notifications are not arriving (Service.FollowChanges(false)), so
	// nothing is remembered until they are again.
	off bool
}

func (c *tokenCache) get(token string, now time.Time) (*Principal, bool, uint64) {
	k := sha256.Sum256([]byte(token))
	c.mu.Lock()
	e, ok := c.m[k]
	gen := c.gen
	c.mu.Unlock()
	if !ok || now.Sub(e.at) >= c.ttl || now.Before(e.at) {
		return nil, false, gen
	}
	p := e.p // a copy per request: nobody can change what the cache holds
	return &p, true, gen
}

// put remembers p, read from the store after get answered gen, unless a forget came between.
func (c *tokenCache) put(token string, p *Principal, now time.Time, gen uint64) {
	k := sha256.Sum256([]byte(token))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.off || gen != c.gen {
		return
	}
	if c.m == nil || len(c.m) >= tokenCacheSize {
		c.m = make(map[[32]byte]cachedPrincipal)
	}
	c.m[k] = cachedPrincipal{p: *p, at: now}
}

// forget drops everything remembered; follow, when not nil, also says whether the change
// notifications are arriving (nothing is remembered while they are not).
func (c *tokenCache) forget(follow *bool) {
	c.mu.Lock()
	c.m = nil
	c.gen++
	if follow != nil {
		c.off = !*follow
	}
	c.mu.Unlock()
}

// Forget drops every cached token principal: an account was disabled, a token or a grant
// revoked or added, through this server. (Other servers see it within Options.TokenCacheTTL.)
func (s *Service) Forget() {
	if s != nil && s.tokens != nil {
		s.tokens.forget(nil)
	}
}

// FollowChanges tells the cache whether the database's change notifications of accounts,
// grants and tokens are arriving (cmd calls Forget on each): while they are not (live false),
// nothing is remembered, so a change made by another process can only be missed for as long
// as a notification takes to arrive. With them a cached principal lasts at most the TTL and
// never past a change.
func (s *Service) FollowChanges(live bool) {
	if s != nil && s.tokens != nil {
		s.tokens.forget(&live)
	}
}
