package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"regexp"
	"strings"
	"time"

	"gridline.dev/gridline"
)

// Account is a person's way into gridline. The person is one of the roster (people): a grid
// worker who also signs in is one person with one account.
type Account struct {
	ID         int64      `json:"id"`
	PersonID   int64      `json:"person_id"`
	Username   string     `json:"username"`
	Name       string     `json:"name"` // the person's name
	CreatedAt  time.Time  `json:"created_at"`
	DisabledAt *time.Time `json:"disabled_at,omitempty"`
	Grants     []Grant    `json:"grants"`
	// PasswordHash is the argon2id hash (HashPassword); never sent anywhere.
	PasswordHash string `json:"-"`
}

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,39}$`)

// ValidateUsername checks a username: 2 to 40 lower-case letters, digits, dots, dashes and
// underscores, starting with a letter or digit.
func ValidateUsername(name string) error {
	if !usernameRE.MatchString(name) {
		return gridline.Errorf(gridline.EInvalid, "username %q: use 2 to 40 lower-case letters, digits, '.', '-' or '_', starting with a letter or digit (e.g. zhang.wei)", name).With("field", "username")
	}
	return nil
}

// Store is what accounts needs from the database (store.DB implements it). Methods that change
// something write their audit row in the same transaction, with the actor the context carries.
type Store interface {
	AccountByUsername(ctx context.Context, username string) (*Account, error) // ENotFound when none
	GrantsOf(ctx context.Context, accountID int64) ([]Grant, error)
	// CreateSession stores the hash of secret; SessionAccount finds a live session by its secret
	// (unauthorized when unknown, ended, expired, or the account is disabled).
	CreateSession(ctx context.Context, accountID int64, secret, address string, expires time.Time) (int64, error)
	SessionAccount(ctx context.Context, secret string, now time.Time) (sessionID int64, a *Account, err error)
	EndSession(ctx context.Context, sessionID int64) error
	// TokenAccount finds a live API token by its text (unauthorized when unknown or revoked, or
	// the account is disabled), with whether it is an admin token.
	TokenAccount(ctx context.Context, token string) (tokenID int64, admin bool, a *Account, err error)
}

// Options tune the service.
type Options struct {
	SessionTTL time.Duration    // how long a sign-in lasts (default 12 h)
	Now        func() time.Time // the clock (default time.Now)
	// Account and Address limit failed sign-ins per account and per client address (defaults:
	// an account slows down after 3 failures and locks for 15 minutes at 10; an address, which
	// many users may share behind one NAT, after 10 and at 50).
	Account, Address *Limiter
	// TokenCacheTTL, when over zero, is how long the principal of an API token is remembered
	// instead of being read again for each request (at most MaxTokenCacheTTL). It is also the
	// bound on how long a token revoked, an account disabled or a grant changed by another
	// process (the command line, another server) may still work here. Zero reads it each time.
	TokenCacheTTL time.Duration
}

// Service signs people in and out and turns a request's credential into a Principal.
type Service struct {
	store   Store
	ttl     time.Duration
	now     func() time.Time
	account *Limiter
	address *Limiter
	tokens  *tokenCache // nil: no cache
}

// New makes the service.
func New(st Store, opt Options) *Service {
	if opt.SessionTTL <= 0 {
		opt.SessionTTL = 12 * time.Hour
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Account == nil {
		opt.Account = NewLimiter(3, 10, 15*time.Minute, opt.Now)
	}
	if opt.Address == nil {
		opt.Address = NewLimiter(10, 50, 15*time.Minute, opt.Now)
	}
	s := &Service{store: st, ttl: opt.SessionTTL, now: opt.Now, account: opt.Account, address: opt.Address}
	if opt.TokenCacheTTL > 0 {
		s.tokens = &tokenCache{ttl: min(opt.TokenCacheTTL, MaxTokenCacheTTL)}
	}
	return s
}

// Session is a new sign-in: the cookie's secret (stored only hashed), the CSRF token that writes
// authenticated by that cookie must send, and who signed in.
type Session struct {
	Secret    string
	CSRF      string
	Expires   time.Time
	TTL       time.Duration // Expires less the sign-in time, for the cookie's Max-Age
	Principal *Principal
}

// sessionPrefix marks session secrets, as tokenPrefix marks API tokens.
const sessionPrefix = "gls_"

// SignIn checks username and password from address and opens a session. Failures are counted per
// account and per address (Limiter); the error never tells whether the username exists.
func (s *Service) SignIn(ctx context.Context, username, password, address string) (*Session, error) {
	username = strings.ToLower(strings.TrimSpace(username))
	if err := s.address.Allow("addr:"+address, "this address"); err != nil {
		return nil, err
	}
	if err := s.account.Allow("acct:"+username, "account "+username); err != nil {
		return nil, err
	}
	a, err := s.store.AccountByUsername(ctx, username)
	if err != nil && gridline.ErrorCode(err) != gridline.ENotFound {
		return nil, err
	}
	hash := dummyHash
	if a != nil {
		hash = a.PasswordHash
	}
	ok := VerifyPassword(hash, password) && a != nil
	if !ok || a.DisabledAt != nil {
		s.address.Fail("addr:" + address)
		s.account.Fail("acct:" + username)
		if ok {
			return nil, gridline.Errorf(gridline.EUnauthorized, "account %s is disabled: ask an administrator", username)
		}
		return nil, gridline.Errorf(gridline.EUnauthorized, "the username or the password is wrong")
	}
	s.address.Succeed("addr:" + address)
	s.account.Succeed("acct:" + username)
	secret, err := randomSecret(sessionPrefix)
	if err != nil {
		return nil, err
	}
	expires := s.now().Add(s.ttl)
	id, err := s.store.CreateSession(ctx, a.ID, secret, address, expires)
	if err != nil {
		return nil, err
	}
	grants, err := s.store.GrantsOf(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	p := NewPrincipal(a.ID, a.Username, a.PersonID, grants, AllPermissions)
	p.SessionID = id
	return &Session{Secret: secret, CSRF: CSRFToken(secret), Expires: expires, TTL: s.ttl, Principal: p}, nil
}

// FromSession is the principal of a session cookie's secret.
func (s *Service) FromSession(ctx context.Context, secret string) (*Principal, error) {
	if !strings.HasPrefix(secret, sessionPrefix) || len(secret) > 100 {
		return nil, gridline.Errorf(gridline.EUnauthorized, "the session cookie is not a gridline session: sign in again")
	}
	id, a, err := s.store.SessionAccount(ctx, secret, s.now())
	if err != nil {
		return nil, err
	}
	grants, err := s.store.GrantsOf(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	p := NewPrincipal(a.ID, a.Username, a.PersonID, grants, AllPermissions)
	p.SessionID = id
	return p, nil
}

// FromToken is the principal of an API token: its account's grants, less AccountsManage unless
// it is an admin token. A token carries at most its account's permissions.
func (s *Service) FromToken(ctx context.Context, token string) (*Principal, error) {
	var now time.Time
	var gen uint64
	if s.tokens != nil {
		now = s.now()
		var p *Principal
		var ok bool
		if p, ok, gen = s.tokens.get(token, now); ok {
			return p, nil
		}
	}
	var id int64
	var admin bool
	var a *Account
	var grants []Grant
	var err error
	if tg, ok := s.store.(TokenGrantsStore); ok {
		id, admin, a, grants, err = tg.TokenAccountGrants(ctx, token)
	} else if id, admin, a, err = s.store.TokenAccount(ctx, token); err == nil {
		grants, err = s.store.GrantsOf(ctx, a.ID)
	}
	if err != nil {
		return nil, err
	}
	mask := AllPermissions
	if !admin {
		mask &^= AccountsManage
	}
	p := NewPrincipal(a.ID, a.Username, a.PersonID, grants, mask)
	p.TokenID = id
	if s.tokens != nil {
		s.tokens.put(token, p, now, gen)
	}
	return p, nil
}

// SignOut ends p's session.
func (s *Service) SignOut(ctx context.Context, p *Principal) error {
	if p == nil || p.SessionID == 0 {
		return gridline.Errorf(gridline.EInvalid, "not signed in with a session: there is nothing to sign out of")
	}
	return s.store.EndSession(ctx, p.SessionID)
}

// CSRFToken is the token a write authenticated by the session cookie secret must send in the
// X-CSRF-Token header. It is derived from the secret, so it needs no storage, and a page of
// another site, which cannot read the cookie, cannot compute it.
func CSRFToken(secret string) string {
	h := sha256.Sum256([]byte("gridline csrf\x00" + secret))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// CheckCSRF reports whether token is secret's CSRF token, in constant time.
func CheckCSRF(secret, token string) bool {
	return subtle.ConstantTimeCompare([]byte(CSRFToken(secret)), []byte(token)) == 1
}

func randomSecret(prefix string) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// ParseScope reads a scope as the command line and the API write it: all, grid:ID or
// department:CODE. A grid given by code is resolved by the caller (gridRef is the text after
// "grid:").
func ParseScope(s string) (sc Scope, gridRef string, err error) {
	kind, arg, _ := strings.Cut(s, ":")
	switch ScopeKind(kind) {
	case ScopeAll:
		if arg == "" {
			return Scope{Kind: ScopeAll}, "", nil
		}
	case ScopeGrid:
		if arg != "" {
			return Scope{Kind: ScopeGrid}, arg, nil
		}
	case ScopeDepartment:
		if arg != "" {
			return Scope{Kind: ScopeDepartment, Department: arg}, "", nil
		}
	}
	return Scope{}, "", gridline.Errorf(gridline.EInvalid, "scope %q: write all, grid:ID (or grid:CODE) or department:CODE", s).With("field", "scope")
}

// NewAccount is an account to create: for an existing person of the roster (PersonID), or for a
// new person who holds no post (Name, Phone).
type NewAccount struct {
	Username     string `json:"username"`
	Password     string `json:"password,omitempty"`
	PasswordHash string `json:"-"`
	PersonID     int64  `json:"person_id,omitempty"`
	Name         string `json:"name,omitempty"`
	Phone        string `json:"phone,omitempty"`
}

// Admin is what managing accounts needs from the database beyond Store (store.DB implements it).
type Admin interface {
	CreateAccount(ctx context.Context, n NewAccount) (*Account, error)
	SetPassword(ctx context.Context, username, passwordHash string) error
	CreateFirstAdmin(ctx context.Context, username, name, passwordHash string) (bool, error)
}

// CreateAccount checks the username and the password rules, hashes the password and creates the
// account (and its person, when n names none).
func CreateAccount(ctx context.Context, st Admin, n NewAccount) (*Account, error) {
	n.Username = strings.ToLower(strings.TrimSpace(n.Username))
	if err := ValidateUsername(n.Username); err != nil {
		return nil, err
	}
	if err := CheckPassword(n.Username, n.Password); err != nil {
		return nil, err
	}
	hash, err := HashPassword(n.Password)
	if err != nil {
		return nil, err
	}
	n.Password, n.PasswordHash = "", hash
	return st.CreateAccount(ctx, n)
}

// SetPassword checks the password rules and replaces username's password; its sessions end.
func SetPassword(ctx context.Context, st Admin, username, password string) error {
	if err := CheckPassword(username, password); err != nil {
		return err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	return st.SetPassword(ctx, username, hash)
}

// EnsureAdmin creates the first administrator, "admin" with a random password, when the database
// has no account, and returns the password (empty when accounts exist).
func EnsureAdmin(ctx context.Context, st Admin) (string, error) {
	password, err := randomSecret("")
	if err != nil {
		return "", err
	}
	password = password[:20]
	hash, err := HashPassword(password)
	if err != nil {
		return "", err
	}
	created, err := st.CreateFirstAdmin(ctx, "admin", "Administrator 管理员", hash)
	if err != nil || !created {
		return "", err
	}
	return password, nil
}
