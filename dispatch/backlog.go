package dispatch

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"gridline.dev/gridline"
	"gridline.dev/gridline/backlog"
)

// KindImport is the event that brings an imported case from reported to the state the backlog
// gives it.
const KindImport Kind = "import"

// BacklogStore writes a backlog in one transaction (store.DB implements it).
type BacklogStore interface {
	CreateCases(ctx context.Context, ncs []*NewCase) error
}

// Backlog files backlogs (`gridline cases import`) through the engine's routing.
type Backlog struct {
	Engine *Engine
	Store  BacklogStore
}

// FileBacklog implements backlog.Intake: every record is checked and routed as a case reported
// at its ReportedAt (its grid and party as of that day), brought to its State by one import
// event, and all are written in one transaction, or none. Imported cases carry no running steps:
// their deadlines were the old system's. A problem with one record is an error with its index.
func (b Backlog) FileBacklog(ctx context.Context, recs []backlog.Record) error {
	e := b.Engine
	t, err := e.Table(ctx)
	if err != nil {
		return err
	}
	ix := e.index.Index()
	if ix == nil {
		return gridline.Errorf(gridline.EUnavailable, "the grid index is still being built: try again in a few seconds")
	}
	actor := gridline.ActorFrom(ctx)
	var actorID int64
	actorName := "import"
	if actor != nil {
		actorID, actorName = actor.AccountID, actor.Username
	}
	ncs := make([]*NewCase, 0, len(recs))
	for i, rec := range recs {
		fail := func(err error) error {
			if ge, ok := err.(*gridline.Error); ok {
				if ge.Details["field"] == "category_code" {
					ge = ge.With("field", "category") // the file's column
				}
				return ge.With("index", i)
			}
			return err
		}
		byAddress := rec.Lon == nil || rec.Lat == nil
		if byAddress && strings.TrimSpace(rec.Address) == "" {
			return gridline.Errorf(gridline.EInvalid, "the case has no place: a case is routed by its point (cases.geom is required), so give lon and lat, or an address the standard address register holds").With("index", i).With("field", "lon")
		}
		if !byAddress && !rec.CRS.Local() {
			return gridline.Errorf(gridline.EInvalid, "crs %s: a backlog takes wgs84, cgcs2000, gcj02 or bd09; convert other systems first", rec.CRS.Name).With("index", i).With("field", "crs")
		}
		var lon, lat float64
		if !byAddress {
			lon, lat = rec.CRS.ToWGS84(*rec.Lon, *rec.Lat)
		}
		state := State(rec.State)
		if !state.Valid() {
			return gridline.Errorf(gridline.EInvalid, "state %q is not a state of the loop (reported, filed, voided, dispatched, signed_for, returned, handled, reported_back, verified, closed, evaluated, postponed)", gridline.Excerpt(rec.State)).With("index", i).With("field", "state")
		}
		if state == Merged {
			return gridline.Errorf(gridline.EInvalid, "state merged needs the case it was merged into, which a backlog cannot name: import it as voided or closed").With("index", i).With("field", "state")
		}
		r := Report{Source: Source(rec.Source), CategoryCode: rec.Category, Urgency: Urgency(rec.Urgency), Description: rec.Description,
			Address: rec.Address, Lon: lon, Lat: lat, ByAddress: byAddress}
		if r.Source == "" {
			r.Source = SourceAssignment
		}
		cat, err := r.validate(t)
		if err != nil {
			return fail(err)
		}
		at := rec.ReportedAt
		day := time.Date(at.In(e.opt.Location).Year(), at.In(e.opt.Location).Month(), at.In(e.opt.Location).Day(), 0, 0, 0, 0, time.UTC)
		place, err := e.placeReport(&r, day)
		if err != nil {
			return fail(err)
		}
		lon, lat = r.Lon, r.Lat
		rt := Route(ix, t, orb.Point{lon, lat}, day, cat, r.Urgency)
		rt.At = at
		placed(&rt, place)
		c := Case{Source: r.Source, CategoryCode: cat.Code, Urgency: r.Urgency, Description: r.Description, Address: r.Address,
			Lon: lon, Lat: lat, GridChain: []int64{}, State: state, Flags: []string{"imported"}, CoDepartments: []string{},
			ReportedAt: at, UpdatedAt: at, Version: 1}
		for _, g := range rt.Chain {
			c.GridChain = append(c.GridChain, g.ID)
		}
		if rt.Grid != nil {
			c.GridID, c.GridVersionID = rt.Grid.ID, rt.Grid.VersionID
		}
		if rt.Outside {
			c.Flags = append(c.Flags, "outside")
		}
		if rt.Fallback {
			c.Flags = append(c.Flags, "fallback")
		}
		if rt.Party.Kind != "" {
			p := rt.Party
			c.Party = &p
		}
		if !state.Open() {
			c.ClosedAt = &at
		}
		raw, err := json.Marshal(rt)
		if err != nil {
			return err
		}
		c.Routing = raw
		nc := &NewCase{Case: c, NumberDay: at.In(e.opt.Location).Format("20060102"), Events: []Event{{At: at, ActorAccount: actorID, ActorName: actorName,
			Kind: KindReport, To: Reported, Data: mustJSON(map[string]any{"source": r.Source, "party": c.Party, "imported": true, "line": rec.Line})}}}
		if state != Reported {
			nc.Events = append(nc.Events, Event{At: at, ActorAccount: actorID, ActorName: actorName, Kind: KindImport, From: Reported, To: state,
				Reason: "imported from a backlog"})
		}
		ncs = append(ncs, nc)
	}
	return b.Store.CreateCases(ctx, ncs)
}
