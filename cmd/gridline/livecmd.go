package main

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"gridline.dev/gridline"
	"gridline.dev/gridline/address"
	"gridline.dev/gridline/api"
	"gridline.dev/gridline/backlog"
	"gridline.dev/gridline/dispatch"
	"gridline.dev/gridline/live"
	"gridline.dev/gridline/open311"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/webhooks"
)

// startLive starts what carries case changes outside: the hub of the live stream, fed by
// LISTEN gridline_cases, and the webhook sender, woken by the same notifications (and polling,
// so that deliveries made while it was away and retries come due). Both stop with ctx; the hub
// then closes every stream, so that the server's shutdown does not wait for them.
//
// intake is the case engine's intake (*dispatch.Engine); nil until serve builds one, and then
// /open311/v2 answers 503 but for discovery.
func startLive(ctx context.Context, db *store.DB, clock gridline.Clock, log *slog.Logger, getenv func(string) string, intake open311.Intake) (api.StreamOptions, api.Open311Options) {
	hub := live.New(db, live.Options{})
	sender := webhooks.NewSender(db, clock, webhooks.Options{})
	go hub.Run(ctx, func(err error) { log.Warn("live stream: reading case changes failed; retrying", "err", err) })
	go sender.Run(ctx, func(err error) { log.Warn("webhooks: claiming deliveries failed; retrying", "err", err) })
	go db.ListenCases(ctx, func(payload string) {
		hub.Notify(payload)
		sender.Wake()
	}, func(err error) {
		if err != nil {
			log.Warn("live stream: lost the database connection; reconnecting", "err", err)
		}
	})
	jurisdiction := strings.TrimSpace(getenv("GRIDLINE_OPEN311_JURISDICTION"))
	if jurisdiction == "" {
		jurisdiction = "gridline"
	}
	return api.StreamOptions{Hub: hub}, api.Open311Options{Jurisdiction: jurisdiction, Contact: getenv("GRIDLINE_OPEN311_CONTACT"), Cases: open311Cases(db, intake)}
}

// open311Cases is the case engine as Open311 sees it: dispatch's intake and the store.
func open311Cases(db *store.DB, intake open311.Intake) open311.Cases {
	if intake == nil {
		return nil
	}
	return open311.NewEngine(intake, db)
}

// backlogIntake is the intake `gridline cases import` files through: the dispatch engine's
// routing over a freshly built index. It starts no steps, so it needs no deadlines.
func backlogIntake(ctx context.Context, db *store.DB, clock gridline.Clock, loc *time.Location) (backlog.Intake, error) {
	res := resolve.NewIncremental(db, clock, loc)
	if err := res.Refresh(ctx); err != nil {
		return nil, err
	}
	// Rows with an address and no point are placed by the address register, as POST /v1/cases does.
	register := address.NewRegister(db)
	if err := register.Refresh(ctx); err != nil {
		return nil, err
	}
	return dispatch.Backlog{Engine: dispatch.New(db, res, nil, clock, dispatch.Options{Location: loc, Addresses: register}), Store: db}, nil
}
