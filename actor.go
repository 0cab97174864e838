package gridline

import "context"

// Actor is who makes a change, and from where: what the audit log records next to the change, in
// the same transaction. api/ puts it in the request's context once the request is authenticated;
// the store reads it inside each writing transaction. No actor in the context is the system: the
// demo loader, a migration, the command line run by the operator.
type Actor struct {
	AccountID int64  // 0: the system
	Username  string // the account's name at the time, kept in the log even if the account is renamed
	TokenID   int64  // the API token the request carried, or 0
	SessionID int64  // the sign-in session the request carried, or 0
	Address   string // the client's address
	RequestID string // the request's id, as in the server's log and the X-Request-Id header
	// Reach says where the actor holds a permission, by the permission's name (accounts.Permission):
	// everywhere, or within the grid subtrees rooted at roots. Nil for the system, which reaches
	// everywhere. The store calls it inside a writing transaction to check the rows the write
	// touches, so that a request cannot reach outside its scope through a parent, a child or a
	// code change.
	Reach func(permission string) (everywhere bool, roots []int64)
}

// Reaches reports whether a may use permission everywhere, and otherwise the subtrees where it may.
func (a *Actor) Reaches(permission string) (everywhere bool, roots []int64) {
	if a == nil || a.Reach == nil {
		return true, nil
	}
	return a.Reach(permission)
}

type actorKey struct{}

// WithActor returns ctx carrying a.
func WithActor(ctx context.Context, a *Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom is the actor ctx carries, or nil (the system).
func ActorFrom(ctx context.Context) *Actor {
	a, _ := ctx.Value(actorKey{}).(*Actor)
	return a
}
