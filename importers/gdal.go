package importers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"gridline.dev/gridline"
)

// gdalResult is what a GDAL tool said: its error and warning lines, deduplicated.
type gdalResult struct {
	errors   []string
	warnings []string
	stdout   string
}

var gdalLine = regexp.MustCompile(`^(ERROR|Warning) \d+: (.*)$`)

// runGDAL runs a GDAL command-line tool. A non-zero exit is an invalid_request error quoting
// GDAL's error lines, since it nearly always means the file could not be read.
func (e *Engine) runGDAL(ctx context.Context, tool string, args ...string) (*gdalResult, error) {
	return e.runGDALEnv(ctx, nil, tool, args...)
}

// runGDALEnv is runGDAL with more environment variables.
func (e *Engine) runGDALEnv(ctx context.Context, env []string, tool string, args ...string) (*gdalResult, error) {
	cmd := exec.CommandContext(ctx, tool, args...)
	// Cancelling (a job cancelled, a client gone) stops the tool and anything it started at once:
	// without this an abandoned export ran on for minutes.
	killGroup(cmd)
	var stderr, stdout bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdout = &stdout
	// GDAL must not ask anyone anything, nor read configuration meant for someone else's session.
	cmd.Env = append(append(cmd.Environ(), "GDAL_DISABLE_READDIR_ON_OPEN=EMPTY_DIR", "CPL_DEBUG=OFF", "PGAPPNAME=gridline-ogr2ogr"), env...)
	err := cmd.Run()
	res := parseGDAL(stderr.String())
	if err != nil {
		if ctx.Err() != nil {
			// Killed because the work was cancelled: not the file's fault.
			return res, ctx.Err()
		}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			msg := strings.Join(res.errors, "; ")
			if msg == "" {
				// No ERROR line: what else it said, but not its warnings, which are about
				// something else (an ignored creation option ...) and would take the blame.
				msg = withoutWarnings(stderr.String())
			}
			if msg == "" {
				msg = fmt.Sprintf("%s stopped (%v) without saying why", tool, ee)
			}
			return res, &gdalError{msg: msg}
		}
		return res, fmt.Errorf("run %s: %w (is GDAL installed? Debian: apt-get install gdal-bin)", tool, err)
	}
	res.stdout = stdout.String()
	return res, nil
}

// gdalError is a GDAL tool's failure, with its messages.
type gdalError struct{ msg string }

func (g *gdalError) Error() string { return "GDAL: " + g.msg }

func parseGDAL(stderr string) *gdalResult {
	res := &gdalResult{}
	seen := map[string]bool{}
	var last *[]string
	for _, line := range strings.Split(stderr, "\n") {
		line = strings.TrimRight(line, "\r")
		m := gdalLine.FindStringSubmatch(line)
		if m == nil {
			// GDAL wraps long messages onto following lines.
			if last != nil && len(*last) > 0 && strings.TrimSpace(line) != "" {
				(*last)[len(*last)-1] += " " + strings.TrimSpace(line)
			}
			continue
		}
		key := m[1] + m[2]
		if seen[key] {
			last = nil
			continue
		}
		seen[key] = true
		if m[1] == "ERROR" {
			res.errors = append(res.errors, m[2])
			last = &res.errors
		} else {
			res.warnings = append(res.warnings, m[2])
			last = &res.warnings
		}
	}
	return res
}

// invalidFile turns a GDAL failure on a user's file into an error the user can act on.
func invalidFile(name string, err error) error {
	var ge *gdalError
	if errors.As(err, &ge) {
		return gridline.Errorf(gridline.EInvalid, "GDAL cannot read %s: %s", name, gdalMessage(ge.msg)).With("file", name)
	}
	return err
}

// unreadableFile is the error of a file GDAL opened and yet wrote no layer of (it exited 0).
func unreadableFile(name string, res *gdalResult) error {
	return gridline.Errorf(gridline.EInvalid, "GDAL cannot read %s: %s", name, gdalMessage(strings.Join(res.errors, "; "))).With("file", name)
}

var (
	// gdalDrivers is the tail of GDAL's message for a file no driver opens: the list of every
	// driver it tried, which tells a user nothing.
	gdalDrivers = regexp.MustCompile(`(?s)(FAILURE:\s*)?Unable to open datasource.*$`)
	// gdalPath is a path on the server (a temporary directory): only its last element, the
	// file's own name, is the user's.
	gdalPath = regexp.MustCompile("(?:/[^\\s'\"`/:;,()]+)+/([^\\s'\"`/:;,()]+)")
)

// gdalMessage is what GDAL (or reading the file at all) said about a user's file in words fit
// for the user: paths on the server cut to the file's name, the list of drivers left out, and at
// most 500 bytes. What it said whole goes nowhere else: the file is the user's, and so is the
// mistake.
func gdalMessage(msg string) string {
	drivers := false
	if loc := gdalDrivers.FindStringIndex(msg); loc != nil {
		msg, drivers = msg[:loc[0]], true
	}
	msg = gdalPath.ReplaceAllString(msg, "$1")
	msg = strings.TrimSpace(strings.Trim(strings.TrimSpace(msg), ";"))
	// ogrinfo's "FAILURE:" heads the driver list, and a tool that stopped without an error line
	// (see run) said nothing about the file: neither tells the user anything.
	msg = strings.TrimSpace(strings.TrimPrefix(msg, "FAILURE:"))
	if strings.HasSuffix(msg, "without saying why") {
		msg = ""
	}
	switch {
	case msg == "" && drivers:
		return "it is not in a format GDAL reads"
	case msg == "":
		return "it is damaged, or not in the format its name says"
	}
	if len(msg) > 500 {
		cut := 500
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "…"
	}
	return msg
}

// pgConn turns a postgres:// URL into the keyword form GDAL's PostgreSQL driver reads reliably
// (it mangles some URIs with query parameters), with the password moved to the environment so
// that it does not show in the process list.
func pgConn(dbURL string) (conn string, env []string) {
	u, err := url.Parse(dbURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return dbURL, nil
	}
	quote := func(s string) string {
		return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
	}
	var parts []string
	if db := strings.TrimPrefix(u.Path, "/"); db != "" {
		parts = append(parts, "dbname="+quote(db))
	}
	if h := u.Hostname(); h != "" {
		parts = append(parts, "host="+quote(h))
	}
	if p := u.Port(); p != "" {
		parts = append(parts, "port="+quote(p))
	}
	if u.User != nil {
		parts = append(parts, "user="+quote(u.User.Username()))
		if pw, ok := u.User.Password(); ok {
			env = append(env, "PGPASSWORD="+pw)
		}
	}
	q := u.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts = append(parts, k+"="+quote(q.Get(k)))
	}
	return strings.Join(parts, " "), env
}

// withoutWarnings is a tool's stderr without GDAL's warning lines (and their continuations).
func withoutWarnings(stderr string) string {
	var keep []string
	inWarning := false
	for _, line := range strings.Split(stderr, "\n") {
		if m := gdalLine.FindStringSubmatch(strings.TrimRight(line, "\r")); m != nil {
			inWarning = m[1] == "Warning"
			if inWarning {
				continue
			}
		} else if inWarning && strings.TrimSpace(line) != "" && (strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t")) {
			continue
		} else {
			inWarning = false
		}
		if l := strings.TrimSpace(line); l != "" {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "; ")
}
