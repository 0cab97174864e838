package api

import (
	"context"
	"io"
	"log/slog"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/importers"
	"gridline.dev/gridline/jobs"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/store/storetest"
	"gridline.dev/gridline/tiles"
)

// wire builds a Server the way cmd/gridline does: the tile service over res, with the server's
// tile headers kept in its cache and brought up to date on every index swap, and the import
// engine on db (which may be nil for tests that import nothing). Logs are discarded.
func wire(db *store.DB, res *resolve.Resolver, log *slog.Logger, opt Options, topt tiles.Options, icfg importers.Config) *Server {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	topt.Annotate = AnnotateTile
	svc := tiles.NewService(res, topt)
	res.OnSwap(func() { svc.Tileset() })
	opt.Tiles = svc
	opt.Imports = importers.New(db, icfg)
	if opt.Accounts == nil {
		opt.Accounts = accounts.New(db, accounts.Options{})
	}
	// Tests wait for their jobs (unless they ask ?wait=0): an answer must not depend on how fast
	// the machine is.
	if opt.JobWait == 0 {
		opt.JobWait = MaxJobWait
	}
	if opt.Jobs == nil {
		opt.Jobs = jobs.New(db, gridline.SystemClock{}, log, jobs.Config{})
	}
	return NewServer(db, res, log, opt)
}

// fixtureStore serves the storetest fixture to a resolver without a database: every version as
// of one change, version ids equal to grid ids, staff without phone numbers.
type fixtureStore struct{}

func (fixtureStore) GridChanges(_ context.Context, known map[int64]int64) (map[int64]int64, []gridline.Grid, error) {
	d := storetest.Fixture()
	stamps := map[int64]int64{}
	var changed []gridline.Grid
	for _, g := range d.Grids {
		g.VersionID = g.ID
		stamps[g.VersionID] = 1
		if s, ok := known[g.VersionID]; !ok || s != 1 {
			changed = append(changed, g)
		}
	}
	return stamps, changed, nil
}

func (fixtureStore) AllStaff(context.Context) ([]gridline.Staff, error) {
	d := storetest.Fixture()
	names := map[int64]string{}
	for _, p := range d.People {
		names[p.ID] = p.Name
	}
	var staff []gridline.Staff
	for _, a := range d.Assignments {
		staff = append(staff, gridline.Staff{GridID: a.GridID, Post: a.Post, PersonID: a.PersonID, Name: names[a.PersonID], ValidFrom: a.ValidFrom})
	}
	return staff, nil
}
