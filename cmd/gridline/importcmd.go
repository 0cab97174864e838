package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/coverage"
	"gridline.dev/gridline/importers"
	"gridline.dev/gridline/store"
)

// printAdminToken makes the first admin API token when the database has none and prints it: it
// is stored hashed and never shown again.
func printAdminToken(ctx context.Context, db *store.DB, stdout io.Writer) error {
	password, err := accounts.EnsureAdmin(ctx, db)
	if err != nil {
		return fmt.Errorf("create the first administrator: %w", err)
	}
	if password != "" {
		fmt.Fprintf(stdout, "administrator account created (the password is shown once; change it with gridline user passwd admin):\n  sign in on the map as admin with password %s\n", password)
	}
	tok, err := db.EnsureAdminToken(ctx)
	if err != nil {
		return fmt.Errorf("create the admin API token: %w", err)
	}
	if tok != "" {
		fmt.Fprintf(stdout, "admin API token (shown once; changing data needs it as Authorization: Bearer <token>):\n  %s\n", tok)
	}
	return nil
}

// fieldFlags collects --field attr=column.
type fieldFlags map[string]string

func (f fieldFlags) String() string { return fmt.Sprint(map[string]string(f)) }
func (f fieldFlags) Set(v string) error {
	k, col, ok := strings.Cut(v, "=")
	if !ok || k == "" || col == "" {
		return fmt.Errorf("--field %q: write attribute=column, e.g. code=WGBM", v)
	}
	f[k] = col
	return nil
}

// importCmd is `gridline import [flags] FILE...`: the same engine as POST /v1/imports.
func importCmd(ctx context.Context, args []string, getenv func(string) string, clock gridline.Clock, stdout io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stdout)
	apply := fs.Bool("apply", false, "write the changes (without it: a dry run that reports what would change)")
	from := fs.String("from", "", "the date changes take effect, YYYY-MM-DD (default today)")
	crs := fs.String("crs", "", "coordinate system when the file does not say or says wrongly: EPSG:n, wgs84, cgcs2000, gcj02, bd09")
	encoding := fs.String("encoding", "", "attribute encoding of a Shapefile or CSV: utf-8 or gbk (default: detect)")
	format := fs.String("format", "", "file format when the extension does not say: "+strings.Join(importers.Formats, ", "))
	sourceLayer := fs.String("source-layer", "", "the layer to read from a file with several")
	level := fs.String("level", "", "the level of every feature without a level attribute")
	layer := fs.String("layer", "", "the layer of every feature without a layer attribute (default comprehensive)")
	kind := fs.String("kind", "", "the kind of special grids without a kind attribute")
	mapping := fs.String("mapping", "", "a JSON mapping file: {\"fields\": {\"code\": \"WGBM\", ...}, \"level\": \"grid\"}")
	repair := fs.Bool("repair", false, "repair invalid geometries (ST_MakeValid) and report them, instead of refusing them")
	retire := fs.Bool("retire", false, "retire the grids of the file's levels and layers that the file does not hold")
	tolerance := fs.Float64("tolerance", store.DefaultTolerance, "m² a child may stick out of its parent")
	asJSON := fs.Bool("json", false, "print the whole report as JSON")
	divisions := fs.Bool("divisions", false, "the file is a division list (CSV: code, name, level, parent_code) that names subdistricts and communities")
	roads := fs.Bool("roads", false, "the file is a road network (any GDAL format, OSM .osm/.pbf included) that replaces the roads routes are found on")
	staff := fs.Bool("staff", false, "the file is a staff list (CSV or XLSX: grid code, role, name, phone, valid_from, valid_to), not grids")
	fields := fieldFlags{}
	fs.Var(fields, "field", "attribute=column, e.g. --field code=WGBM (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("import: give the file (a .geojson, .shp with its .shx and .dbf, .zip, .gpkg, .kml, .kmz, .csv or .fgb)")
	}
	var opt importers.Options
	if *mapping != "" {
		b, err := os.ReadFile(*mapping)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		if opt.Mapping, err = importers.ParseMapping(b); err != nil {
			return fmt.Errorf("import: %s: %w", *mapping, err)
		}
	}
	if len(fields) > 0 && opt.Mapping.Fields == nil {
		opt.Mapping.Fields = map[string]string{}
	}
	for k, v := range fields {
		opt.Mapping.Fields[k] = v
	}
	if *level != "" {
		opt.Mapping.Level = gridline.Level(*level)
	}
	if *layer != "" {
		opt.Mapping.Layer = gridline.Layer(*layer)
	}
	if *kind != "" {
		opt.Mapping.Kind = *kind
	}
	loc, err := location(getenv)
	if err != nil {
		return err
	}
	opt.From = gridline.Today(clock, loc)
	if *from != "" {
		if opt.From, err = gridline.ParseDate("--from", *from); err != nil {
			return err
		}
	}
	opt.Apply, opt.CRS, opt.Encoding, opt.Format, opt.SourceLayer = *apply, *crs, *encoding, *format, *sourceLayer
	opt.Repair, opt.Retire, opt.Tolerance = *repair, *retire, *tolerance
	db, err := openDB(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	var audited *coverage.Report
	eng, _, _, release, err := ownedEngine(ctx, db, importers.Config{Audit: importAudit(coverage.New(nil, db), &audited)})
	if err != nil {
		return err
	}
	defer release()
	start := time.Now()
	if *roads {
		rep, err := eng.ImportRoads(ctx, fs.Args(), importers.RoadOptions{CRS: opt.CRS, SourceLayer: opt.SourceLayer, Encoding: opt.Encoding, Apply: opt.Apply})
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		return printJSON(stdout, rep)
	}
	if *divisions {
		if fs.NArg() != 1 {
			return errors.New("import --divisions: give one .csv file")
		}
		rep, err := eng.ImportDivisions(ctx, fs.Arg(0), importers.DivisionOptions{Encoding: opt.Encoding, From: opt.From, Apply: opt.Apply})
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		if err := printJSON(stdout, rep); err != nil {
			return err
		}
		return refused(rep.Valid, rep.ProblemCount)
	}
	if *staff {
		if fs.NArg() != 1 {
			return errors.New("import --staff: give one .csv or .xlsx file")
		}
		rep, err := eng.ImportStaff(ctx, fs.Arg(0), importers.StaffOptions{Encoding: opt.Encoding, From: opt.From, Apply: opt.Apply})
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		if *asJSON {
			if err := printJSON(stdout, rep); err != nil {
				return err
			}
		} else {
			mode := "dry run (nothing written; --apply to write)"
			if rep.Applied {
				mode = "applied"
			}
			fmt.Fprintf(stdout, "%s: %d lines, %s in %s: %d people added, %d assignments added, %d changed, %d unchanged\n", rep.File, rep.Rows, mode,
				time.Since(start).Round(time.Millisecond), rep.PeopleAdded, rep.Added, rep.Changed, rep.Unchanged)
			for _, p := range rep.Problems {
				fmt.Fprintf(stdout, "  problem: %s\n", p)
			}
		}
		return refused(rep.Valid, rep.ProblemCount)
	}
	// On a terminal, a progress line while it runs (importers.Progress).
	bar := startProgress(stdout, "import", "prepare", "stage", "check", "done")
	if bar != nil {
		opt.Progress = bar
	}
	rep, err := eng.Import(ctx, fs.Args(), opt)
	bar.Stop()
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	if *asJSON {
		if err := printJSON(stdout, rep); err != nil {
			return err
		}
	} else {
		printReport(stdout, rep, time.Since(start))
		printCoverage(stdout, audited)
	}
	return refused(rep.OK(), rep.ProblemCount)
}

// printCoverage says what the coverage audit of a dry run found in the families it touches.
func printCoverage(w io.Writer, rep *coverage.Report) {
	if rep == nil {
		return
	}
	if rep.Summary.Findings == 0 {
		fmt.Fprintf(w, "  coverage: the %d families this import touches stay whole (no gap, overlap, sliver or stray child; codes and names fine)\n", rep.Summary.Families)
		return
	}
	fmt.Fprintf(w, "  coverage: %d findings in the %d families this import touches (gridline audit after applying shows them on the map):\n", rep.Summary.Findings, rep.Summary.Families)
	for i, f := range rep.Findings {
		if i == 20 {
			fmt.Fprintf(w, "  ... and %d more (--json lists them)\n", rep.Summary.Findings-20)
			break
		}
		fmt.Fprintf(w, "  %s %s: %s\n", f.Severity, f.Rule, f.Message)
	}
}

func printReport(w io.Writer, rep *importers.Report, took time.Duration) {
	mode := "dry run (nothing written; --apply to write)"
	if rep.Applied {
		mode = "applied"
	}
	fmt.Fprintf(w, "%s: %s, %d features, crs %s", rep.File, rep.Format, rep.Features, rep.CRS)
	if rep.Encoding != "" {
		fmt.Fprintf(w, ", encoding %s", rep.Encoding)
	}
	fmt.Fprintf(w, "\n%s from %s in %s: %d added, %d changed, %d retired, %d unchanged, %d repaired\n",
		mode, rep.From, took.Round(time.Millisecond), rep.Added, rep.Changed, rep.Retired, rep.Unchanged, rep.Repaired)
	if rep.ProblemCount > 0 {
		fmt.Fprintf(w, "%d problems in %d features, so nothing can be written; the counts above are what the other %d features would do\n",
			rep.ProblemCount, rep.FeaturesWithProblems, rep.Features-rep.FeaturesWithProblems)
	}
	show := func(title string, list []store.ImportChange, n int) {
		for i, c := range list {
			if i == 20 {
				fmt.Fprintf(w, "  ... and %d more %s\n", n-20, title)
				break
			}
			line := fmt.Sprintf("  %-8s %s %s (%s %s) %.0f m²", title, c.Code, c.Name, c.Layer, c.Level, c.AreaM2)
			if c.OldAreaM2 != nil {
				line += fmt.Sprintf(", was %.0f m²", *c.OldAreaM2)
			}
			if len(c.Fields) > 0 {
				line += ": " + strings.Join(c.Fields, ", ")
			}
			fmt.Fprintln(w, line)
		}
	}
	show("added", rep.Lists.Added, rep.Added)
	show("changed", rep.Lists.Changed, rep.Changed)
	show("retired", rep.Lists.Retired, rep.Retired)
	for i, p := range rep.Lists.Repaired {
		if i == 20 {
			break
		}
		fmt.Fprintf(w, "  repaired %s\n", p)
	}
	for _, x := range rep.Warnings {
		fmt.Fprintf(w, "  warning: %s\n", x)
	}
	for i, p := range rep.Problems {
		if i == 50 {
			fmt.Fprintf(w, "  ... and %d more problems (--json lists up to 1000)\n", rep.ProblemCount-50)
			break
		}
		fmt.Fprintf(w, "  problem: %s\n", p)
	}
}

// exportCmd is `gridline export --format F [-o FILE]`: the same engine as GET /v1/exports.
func exportCmd(ctx context.Context, args []string, getenv func(string) string, clock gridline.Clock, stdout io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stdout)
	format := fs.String("format", "geojson", "one of "+strings.Join(importers.ExportFormats, ", "))
	level := fs.String("level", "", "only this level (default every level)")
	layer := fs.String("layer", "", "only this layer (default every layer)")
	at := fs.String("at", "", "the boundaries valid on this date, YYYY-MM-DD (default today)")
	crs := fs.String("crs", "", "output coordinates: wgs84 (default), cgcs2000, gcj02, bd09 or EPSG:n")
	encoding := fs.String("encoding", "", "Shapefile attribute encoding: utf-8 (default) or gbk")
	out := fs.String("o", "", "the file to write (default: a name like grids-grid-2025-01-01.gpkg in the current directory)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	loc, err := location(getenv)
	if err != nil {
		return err
	}
	date := gridline.Today(clock, loc)
	if *at != "" {
		if date, err = gridline.ParseDate("--at", *at); err != nil {
			return err
		}
	}
	db, err := openDB(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	eng, _, _, release, err := ownedEngine(ctx, db, importers.Config{})
	if err != nil {
		return err
	}
	defer release()
	start := time.Now()
	xopt := importers.ExportOptions{Format: *format, Level: gridline.Level(*level),
		Layer: gridline.Layer(*layer), At: date, CRS: *crs, Encoding: *encoding}
	bar := startProgress(stdout, "export", "stage", "write")
	if bar != nil {
		xopt.Progress = bar
	}
	x, err := eng.Export(ctx, xopt)
	bar.Stop()
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer x.Close()
	dst := *out
	if dst == "" {
		dst = x.Name
	}
	if err := copyFile(x.Path, dst); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	fmt.Fprintf(stdout, "exported %d grids to %s in %s\n", x.Features, dst, time.Since(start).Round(time.Millisecond))
	return nil
}

func copyFile(src, dst string) error {
	r, err := os.Open(src)
	if err != nil {
		return err
	}
	defer r.Close()
	w, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, r); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// refused is the command's error when an import found problems (and so wrote nothing).
func refused(ok bool, problems int) error {
	if ok {
		return nil
	}
	return fmt.Errorf("import: %d problems; nothing was written", problems)
}
