package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"gridline.dev/gridline"
	"gridline.dev/gridline/demo"
	"gridline.dev/gridline/dispatch"
	"gridline.dev/gridline/importers"
	"gridline.dev/gridline/store"
)

// casesEngine makes the incident engine (issue #15) from the environment:
// GRIDLINE_CASE_DUPLICATE_METRES (50), GRIDLINE_CASE_DUPLICATE_HOURS (24) and
// GRIDLINE_CASE_MAX_PHOTO_BYTES (5 MiB). deadlines is the working-time calendar's
// (package worktime: serve passes its worktime.Service).
func casesEngine(db *store.DB, ix dispatch.Index, deadlines dispatch.Deadlines, clock gridline.Clock, loc *time.Location, getenv func(string) string, addrs dispatch.Addresses) (*dispatch.Engine, error) {
	opt := dispatch.Options{Location: loc, Addresses: addrs}
	if v := getenv("GRIDLINE_CASE_DUPLICATE_METRES"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 10000 {
			return nil, fmt.Errorf("GRIDLINE_CASE_DUPLICATE_METRES %q: give metres, 0..10000 (0 offers no duplicates)", v)
		}
		opt.DuplicateMetres = f
		if f == 0 {
			opt.DuplicateMetres = -1
		}
	}
	if v := getenv("GRIDLINE_CASE_DUPLICATE_HOURS"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 || f > 24*366 {
			return nil, fmt.Errorf("GRIDLINE_CASE_DUPLICATE_HOURS %q: give hours, over 0 and up to a year", v)
		}
		opt.DuplicateWindow = time.Duration(f * float64(time.Hour))
	}
	if v := getenv("GRIDLINE_CASE_MAX_PHOTO_BYTES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1024 || n > 64<<20 {
			return nil, fmt.Errorf("GRIDLINE_CASE_MAX_PHOTO_BYTES %q: give bytes, 1024..%d", v, 64<<20)
		}
		opt.MaxAttachment = n
	}
	return dispatch.New(db, ix, deadlines, clock, opt), nil
}

// loadCaseListsIfEmpty loads the demo catalogue, departments and responsibility list when the
// catalogue is empty (the demo district's case lists).
func loadCaseListsIfEmpty(ctx context.Context, db *store.DB, stdout io.Writer) error {
	cats, err := db.Categories(ctx)
	if err != nil || len(cats) > 0 {
		return err
	}
	for _, l := range []struct {
		what string
		data []byte
	}{{"categories", demo.CaseCategories}, {"departments", demo.Departments}, {"rules", demo.ResponsibilityRules}} {
		rep, err := importers.ImportCaseList(ctx, db, l.what, l.data, "")
		if err != nil {
			return fmt.Errorf("demo %s: %w", l.what, err)
		}
		if len(rep.Problems) > 0 {
			return fmt.Errorf("demo %s: %s", l.what, rep.Problems[0])
		}
	}
	fmt.Fprintln(stdout, "demo: case catalogue, departments and responsibility list loaded")
	return nil
}

// useAttachmentsDir stores case photos in dir (--attachments-dir, else GRIDLINE_ATTACHMENTS_DIR)
// when one is given; PostgreSQL otherwise.
func useAttachmentsDir(db *store.DB, dir string, getenv func(string) string) error {
	if dir == "" {
		dir = getenv("GRIDLINE_ATTACHMENTS_DIR")
	}
	if err := db.UseAttachmentsDir(dir); err != nil {
		return fmt.Errorf("--attachments-dir: %w", err)
	}
	return nil
}
