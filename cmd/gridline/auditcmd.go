package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"gridline.dev/gridline"
	"gridline.dev/gridline/coverage"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store"
)

// exitError carries the exit status a command asks for (audit: 1 findings, 2 could not run).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// exitCode is the status run's error asks for: 1 unless it says otherwise.
func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

// newAuditor builds the coverage auditor over the resolver's index: the server's and the audit
// command's.
func newAuditor(res *resolve.Resolver, db *store.DB) *coverage.Auditor {
	return coverage.New(func() coverage.Index {
		if ix := res.Index(); ix != nil {
			return ix
		}
		return nil // not a typed nil: the auditor answers "not built yet"
	}, db).WithHouseholds(db)
}

// importAuditRules are the coverage rules an import's dry run reports: the geometry of the
// families it touches and their codes and names. Staffing and workload are left out: a file of
// boundaries brings no staff, and its households may come later.
var importAuditRules = []string{coverage.RuleGap, coverage.RuleOverlap, coverage.RuleSliver, coverage.RuleOutsideParent,
	coverage.RuleInvalidGeometry, coverage.RuleCodePrefix, coverage.RuleCodeFormat, coverage.RuleDuplicateName}

// importAudit is the importers' coverage hook: the audit of the families a dry run touches, as
// they would be on its date. When last is not nil it is set to the report, for the command line's
// text output.
func importAudit(a *coverage.Auditor, last **coverage.Report) func(ctx context.Context, grids []gridline.Grid, at time.Time) (any, error) {
	return func(ctx context.Context, grids []gridline.Grid, at time.Time) (any, error) {
		rep, err := a.AuditGrids(ctx, grids, coverage.Request{At: at, Rules: importAuditRules})
		if err != nil {
			return nil, err
		}
		if last != nil {
			*last = rep
		}
		return rep.Body(), nil
	}
}

// errFindings is the error of an audit that found what --fail-on names.
var errFindings = errors.New("audit: findings in --fail-on")

// auditCmd is `gridline audit`: the coverage audit of GET /v1/coverage, for a nightly job. Exit
// status 0: no finding in --fail-on; 1: findings in --fail-on; 2: the audit could not run.
func auditCmd(ctx context.Context, args []string, getenv func(string) string, clock gridline.Clock, stdout io.Writer) error {
	err := audit(ctx, args, getenv, clock, stdout)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errFindings):
		return &exitError{code: 1, err: err}
	case errors.Is(err, flag.ErrHelp):
		return nil
	}
	return &exitError{code: 2, err: err}
}

func audit(ctx context.Context, args []string, getenv func(string) string, clock gridline.Clock, stdout io.Writer) error {
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	fs.SetOutput(stdout)
	scope := fs.String("scope", "", "the code of the grid whose subtree is audited (default: everything)")
	at := fs.String("at", "", "the date, YYYY-MM-DD (default today)")
	format := fs.String("format", "json", "json (summary and findings), geojson (findings) or csv (findings)")
	failOn := fs.String("fail-on", "error", "exit 1 when a finding matches: rules (gap,overlap,...), groups (geometry, hierarchy, staffing) or severities (error, warning)")
	rules := fs.String("rules", "", "the rules to run, comma-separated (default all)")
	layers := fs.String("layers", "", "the layers whose children must cover their parent (default: comprehensive and every thematic layer)")
	minArea := fs.Float64("min-area", 0, "m² under which a gap, overlap or part outside is noise (default 1)")
	sliver := fs.Float64("sliver-width", 0, "m: narrower gaps and overlaps are slivers (default 2)")
	out := fs.String("o", "", "write the report to this file instead of standard output")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("audit: unexpected argument %q", fs.Arg(0))
	}
	req := coverage.Request{Scope: *scope, Options: coverage.Options{MinAreaM2: *minArea, SliverWidthM: *sliver}}
	var err error
	if req.Rules, err = coverage.ParseRules(*rules); err != nil {
		return err
	}
	if req.Layers, err = coverage.ParseLayers(*layers); err != nil {
		return err
	}
	fail, err := coverage.ParseFailOn(*failOn)
	if err != nil {
		return err
	}
	write := map[string]func(*coverage.Report, io.Writer) error{
		"json": (*coverage.Report).WriteJSON, "geojson": (*coverage.Report).WriteGeoJSON, "csv": (*coverage.Report).WriteCSV,
	}[*format]
	if write == nil {
		return fmt.Errorf("--format %q: use json, geojson or csv", *format)
	}
	loc, err := location(getenv)
	if err != nil {
		return err
	}
	req.At = gridline.Today(clock, loc)
	if *at != "" {
		if req.At, err = gridline.ParseDate("--at", *at); err != nil {
			return err
		}
	}
	db, err := openDB(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	res := resolve.NewIncremental(db, clock, loc)
	if err := res.Refresh(ctx); err != nil {
		return err
	}
	rep, err := newAuditor(res, db).Audit(ctx, req)
	if err != nil {
		return err
	}
	w := stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriter(w)
	if err := write(rep, bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if *out != "" {
		if err := w.(*os.File).Close(); err != nil {
			return err
		}
	}
	if rep.Fails(fail) {
		return fmt.Errorf("%w: %d findings (%v)", errFindings, rep.Summary.Findings, rep.Summary.BySeverity)
	}
	return nil
}
