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
}

func (c *tokenCache) get(token string, now time.Time) (*Principal, bool) {
	k := sha256.Sum256([]byte(token))
	c.mu.Lock()
	e, ok := c.m[k]
	c.mu.Unlock()
	if !ok || now.Sub(e.at) >= c.ttl || now.Before(e.at) {
		return nil, false
	}
	p := e.p // a copy per request: nobody can change what the cache holds
	return &p, true
}

func (c *tokenCache) put(token string, p *Principal, now time.Time) {
	k := sha256.Sum256([]byte(token))
	c.mu.Lock()
	if c.m == nil || len(c.m) >= tokenCacheSize {
		c.m = make(map[[32]byte]cachedPrincipal)
	}
	c.m[k] = cachedPrincipal{p: *p, at: now}
	c.mu.Unlock()
}

func (c *tokenCache) forget() {
	c.mu.Lock()
	c.m = nil
	c.mu.Unlock()
}

// Forget drops every cached token principal: an account was disabled, a token or a grant
// revoked or added, through this server. (Other servers see it within Options.TokenCacheTTL.)
func (s *Service) Forget() {
	if s != nil && s.tokens != nil {
		s.tokens.forget()
	}
}
