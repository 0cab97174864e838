package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"

	"gridline.dev/gridline"
	"gridline.dev/gridline/backlog"
	"gridline.dev/gridline/geo"
	"gridline.dev/gridline/store"
)

// casesImportCmd is `gridline cases import [--dry-run] [--crs C] [--json] FILE`: a backlog of
// cases from CSV or XLSX, all or nothing, through the case engine's intake.
func casesImportCmd(ctx context.Context, args []string, getenv func(string) string, clock gridline.Clock, stdout io.Writer) error {
	fs := flag.NewFlagSet("cases import", flag.ContinueOnError)
	fs.SetOutput(stdout)
	dryRun := fs.Bool("dry-run", false, "check every row and report, file nothing")
	crsName := fs.String("crs", "wgs84", "the coordinate system of rows without a crs column: wgs84, cgcs2000, gcj02, bd09 or EPSG:n")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("cases import: give one file, a .csv (UTF-8) or .xlsx, whose first row names the columns category, lon, lat, crs, address, description, reported_at, state (docs/api.md)")
	}
	crs, err := geo.ParseCRS(*crsName)
	if err != nil {
		return fmt.Errorf("--crs: %w", err)
	}
	loc, err := location(getenv)
	if err != nil {
		return err
	}
	recs, rep, err := backlog.ReadFile(fs.Arg(0), backlog.Options{CRS: crs, Location: loc, Now: clock.Now()})
	if err == nil {
		if *dryRun {
			err = backlog.Import(ctx, nil, recs, rep, true)
		} else {
			var db *store.DB
			if db, err = openDB(ctx, getenv); err != nil {
				return err
			}
			defer db.Close()
			ctx = cliActor(ctx)
			intake, ierr := backlogIntake(ctx, db, clock, loc)
			if ierr != nil {
				return ierr
			}
			err = backlog.Import(ctx, intake, recs, rep, false)
		}
	}
	if rep != nil {
		printBacklogReport(stdout, rep, *asJSON)
	}
	return err
}

func printBacklogReport(w io.Writer, rep *backlog.Report, asJSON bool) {
	if asJSON {
		b, _ := json.MarshalIndent(rep, "", "  ")
		fmt.Fprintln(w, string(b))
		return
	}
	verb := "imported"
	if rep.DryRun {
		verb = "would import"
	}
	switch {
	case len(rep.Problems) > 0:
		fmt.Fprintf(w, "%s: %d rows, %d problems, nothing imported\n", rep.File, rep.Rows, len(rep.Problems))
		for _, p := range rep.Problems {
			field := ""
			if p.Field != "" {
				field = " " + p.Field + ":"
			}
			fmt.Fprintf(w, "  line %d:%s %s\n", p.Line, field, p.Message)
		}
	default:
		n := rep.Imported
		if rep.DryRun {
			n = rep.Rows
		}
		fmt.Fprintf(w, "%s: %d rows, %s %d cases", rep.File, rep.Rows, verb, n)
		states := slices.Sorted(maps.Keys(rep.ByState))
		for _, st := range states {
			fmt.Fprintf(w, ", %s %d", st, rep.ByState[st])
		}
		fmt.Fprintln(w)
	}
}
