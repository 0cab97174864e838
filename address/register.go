package address

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"gridline.dev/gridline"
)

// Source is the store as the register reads it.
type Source interface {
	// Addresses returns every register row (every date) and the aliases.
	Addresses(ctx context.Context) ([]gridline.Address, []Alias, error)
}

// Register holds the matcher over the current register and builds a new one when the register
// changes, as resolve.Resolver does for grids.
type Register struct {
	src     Source
	cur     atomic.Pointer[Matcher]
	mu      sync.Mutex
	changed chan struct{}
}

// NewRegister makes a register over src; until the first Refresh it matches nothing.
func NewRegister(src Source) *Register {
	r := &Register{src: src, changed: make(chan struct{}, 1)}
	r.cur.Store(NewMatcher(nil, nil))
	return r
}

// Matcher is the current matcher (never nil).
func (r *Register) Matcher() *Matcher { return r.cur.Load() }

// Refresh reads the register and swaps in a new matcher.
func (r *Register) Refresh(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	rows, aliases, err := r.src.Addresses(ctx)
	if err != nil {
		return fmt.Errorf("refresh address register: %w", err)
	}
	r.cur.Store(NewMatcher(rows, aliases))
	return nil
}

// Changed asks Run for a refresh; a burst of changes becomes one.
func (r *Register) Changed() {
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// Run refreshes after every Changed until ctx ends; a failed refresh keeps the previous matcher.
func (r *Register) Run(ctx context.Context, onError func(error)) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.changed:
			if err := r.Refresh(ctx); err != nil && ctx.Err() == nil && onError != nil {
				onError(err)
			}
		}
	}
}
