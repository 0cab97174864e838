package main

import (
	"context"
	"fmt"
	"time"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/demo"
	"gridline.dev/gridline/dispatch"
	"gridline.dev/gridline/importers"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/worktime"
)

type noLimits struct{}

func (noLimits) Limit(string, string, string) (worktime.Limit, bool, error) {
	return worktime.Limit{}, false, nil
}
func (noLimits) Deadline(worktime.StepClock) worktime.Deadline { return worktime.Deadline{} }

// intake is a dispatch engine of its own on the database (the demo case lists loaded when the
// catalogue is empty): report(n) files a patrol case at a point of the district.
func intake(url string) (func(int) error, error) {
	ctx := context.Background()
	db, err := store.Open(ctx, url, store.Options{})
	if err != nil {
		return nil, err
	}
	actx := gridline.WithActor(ctx, &gridline.Actor{Username: "streambench", Reach: func(string) (bool, []int64) { return true, nil }})
	if cats, err := db.Categories(ctx); err != nil {
		return nil, err
	} else if len(cats) == 0 {
		for _, l := range []struct {
			what string
			data []byte
		}{{"categories", demo.CaseCategories}, {"departments", demo.Departments}, {"rules", demo.ResponsibilityRules}} {
			if rep, err := importers.ImportCaseList(actx, db, l.what, l.data, "utf-8"); err != nil || len(rep.Problems) > 0 {
				return nil, fmt.Errorf("load the demo %s: %v %v", l.what, err, rep)
			}
		}
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	res := resolve.NewIncremental(db, gridline.SystemClock{}, loc)
	if err := res.Refresh(ctx); err != nil {
		return nil, err
	}
	eng := dispatch.New(db, res, noLimits{}, gridline.SystemClock{}, dispatch.Options{Location: loc, DuplicateMetres: -1})
	who := accounts.NewPrincipal(0, "streambench", 0, []accounts.Grant{{Role: accounts.Administrator, Scope: accounts.Scope{Kind: accounts.ScopeAll}}}, accounts.AllPermissions)
	return func(n int) error {
		_, err := eng.Report(actx, who, dispatch.Report{Source: dispatch.SourcePatrol, CategoryCode: "0102",
			Description: fmt.Sprintf("streambench %d", n), Lon: 113.6524 + float64(n%50)*0.0004, Lat: 34.7426})
		return err
	}, nil
}
