package dispatch

import (
	"context"
	"time"
)

// DuplicateSearch is the duplicate search of a new case (the open cases of its category within
// Metres of its point reported since Since), handed to the store to run in the transaction that
// writes the case: one round trip for both, not two (issue #15, "Speed").
type DuplicateSearch struct {
	Metres float64
	Since  time.Time
	Limit  int
}

// DuplicateWriter is a Store that runs NewCase.FindDuplicates in the case's own write (store.DB
// does): it fills NewCase.Duplicates, and when it finds any, adds the "possible_duplicate" flag
// to the case and the duplicates to its routing, as the engine does with Store.Duplicates. Since
// the search runs in the writing transaction, a case sees the cases written before it in the same
// group commit.
type DuplicateWriter interface {
	WritesDuplicates() bool
}

const maxDuplicates = 5

// duplicates searches for the open cases a report may duplicate: at once through
// Store.Duplicates (filling rt and c), or, when the store can, as a search for the write to run
// (the returned search goes on the NewCase).
func (e *Engine) duplicates(ctx context.Context, r *Report, c *Case, rt *Routing, now time.Time) (*DuplicateSearch, error) {
	if rt.Outside || e.opt.DuplicateMetres <= 0 || r.SelfHandled {
		return nil, nil
	}
	search := &DuplicateSearch{Metres: e.opt.DuplicateMetres, Since: now.Add(-e.opt.DuplicateWindow), Limit: maxDuplicates}
	if dw, ok := e.store.(DuplicateWriter); ok && dw.WritesDuplicates() {
		return search, nil
	}
	dups, err := e.store.Duplicates(ctx, c.CategoryCode, c.Lon, c.Lat, search.Metres, search.Since, search.Limit)
	if err != nil {
		return nil, err
	}
	rt.Duplicates = dups
	if len(dups) > 0 {
		c.Flags = append(c.Flags, "possible_duplicate")
	}
	return nil, nil
}
