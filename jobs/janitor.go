package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gridline.dev/gridline"
	"gridline.dev/gridline/store"
)

// JanitorStore is what the janitor needs of the database.
type JanitorStore interface {
	InterruptOrphanJobs(ctx context.Context, now time.Time) (int64, error)
	LiveOwners(ctx context.Context) (map[int64]bool, error)
	StagingTables(ctx context.Context) ([]string, error)
	DropStaging(ctx context.Context, name string) error
	ExpireJobFiles(ctx context.Context, owner int64, before time.Time) ([]string, error)
	DeleteJobsBefore(ctx context.Context, before time.Time) (int64, error)
}

// JobHistory is how long a job that has ended stays to be looked at.
const JobHistory = 30 * 24 * time.Hour

// TempDirPrefix starts the name of the directory, under the system's temporary directory, that
// holds the temporary directories of one database's processes: gridline-<instance>/<owner>/.
// Uploads, unpacked files and exports all go in the owner's, so that the files of a process that
// is gone can be told from those of one that runs, by the processes of the same database.
const TempDirPrefix = "gridline-"

// InstanceTempDir is the directory of the processes of the database instance (store.InstanceID).
func InstanceTempDir(base, instance string) string {
	return filepath.Join(base, TempDirPrefix+instance)
}

// OwnTempDir is owner's temporary directory.
func OwnTempDir(base, instance string, owner int64) string {
	return filepath.Join(InstanceTempDir(base, instance), strconv.FormatInt(owner, 10))
}

// Janitor removes what processes that are gone left behind: it marks their jobs failed
// ("interrupted"), drops their staging tables, removes their temporary directories, and removes
// this process's export files once they expire.
type Janitor struct {
	st    JanitorStore
	clock gridline.Clock
	log   *slog.Logger
	owner int64
	sys   string        // the system's temporary directory
	dir   string        // the directory the owners' temporary directories are in (InstanceTempDir)
	keep  time.Duration // how long an export's file stays for download
	// strayAge is how old a temporary file of no owner (an older gridline's, or a multipart
	// upload Go's net/http spilled to disk) must be before it is taken for a leftover.
	strayAge time.Duration
}

// NewJanitor makes a janitor for owner's process: base is the system's temporary directory,
// instance the database's (store.InstanceID), keep how long an export's file is kept.
func NewJanitor(st JanitorStore, clock gridline.Clock, log *slog.Logger, owner int64, base, instance string, keep time.Duration) *Janitor {
	if keep <= 0 {
		keep = time.Hour
	}
	return &Janitor{st: st, clock: clock, log: log, owner: owner, sys: base, dir: InstanceTempDir(base, instance), keep: keep, strayAge: 6 * time.Hour}
}

// Sweep does one round; it goes on past a failure and returns the first.
func (jn *Janitor) Sweep(ctx context.Context) error {
	var first error
	note := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	now := jn.clock.Now()
	n, err := jn.st.InterruptOrphanJobs(ctx, now)
	note(err)
	if n > 0 {
		jn.log.Warn("jobs interrupted by a process that stopped were marked failed", "jobs", n)
	}
	live, err := jn.st.LiveOwners(ctx)
	if err != nil {
		return err
	}
	tables, err := jn.st.StagingTables(ctx)
	note(err)
	for _, t := range tables {
		if !store.IsStagingName(t) {
			continue
		}
		if owner, ok := store.StagingOwner(t); ok && live[owner] {
			continue
		}
		// Either its owner is gone, or it is from a gridline before owners, whose tables live
		// only as long as a request.
		if err := jn.st.DropStaging(ctx, t); err != nil {
			note(fmt.Errorf("drop staging.%s: %w", t, err))
			continue
		}
		jn.log.Info("dropped a staging table left behind", "table", t)
	}
	note(jn.sweepFiles(live, now))
	paths, err := jn.st.ExpireJobFiles(ctx, jn.owner, now.Add(-jn.keep))
	note(err)
	_, err = jn.st.DeleteJobsBefore(ctx, now.Add(-JobHistory))
	note(err)
	for _, p := range paths {
		note(RemoveExport(filepath.Join(jn.dir, strconv.FormatInt(jn.owner, 10)), p))
	}
	return first
}

// sweepFiles removes the temporary directories of this database's owners that are gone, and
// stray files of no owner once they are old.
func (jn *Janitor) sweepFiles(live map[int64]bool, now time.Time) error {
	var first error
	note := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	entries, err := os.ReadDir(jn.dir)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	for _, e := range entries {
		owner, err := strconv.ParseInt(e.Name(), 10, 64)
		if err != nil || !e.IsDir() || live[owner] {
			continue
		}
		path := filepath.Join(jn.dir, e.Name())
		note(os.RemoveAll(path))
		jn.log.Info("removed temporary files left behind", "dir", path)
	}
	// An older gridline's gridline-upload-*, gridline-import-*, gridline-export-*, and net/http's
	// multipart-* spills: no owner to ask, so only when nothing has touched them for a long time.
	entries, err = os.ReadDir(jn.sys)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		stray := strings.HasPrefix(name, "gridline-upload-") || strings.HasPrefix(name, "gridline-import-") ||
			strings.HasPrefix(name, "gridline-export-") || strings.HasPrefix(name, "multipart-")
		if !stray {
			continue
		}
		info, err := e.Info()
		if err != nil || now.Sub(info.ModTime()) < jn.strayAge {
			continue
		}
		note(os.RemoveAll(filepath.Join(jn.sys, name)))
	}
	return first
}

// RemoveExport removes an export's file and the directory it was written in, which must be a
// gridline-export-* directory inside own.
func RemoveExport(own, path string) error {
	dir := filepath.Dir(path)
	if filepath.Dir(dir) != filepath.Clean(own) || !strings.HasPrefix(filepath.Base(dir), "gridline-export-") {
		return fmt.Errorf("jobs: %s is not an export of this process", path)
	}
	return os.RemoveAll(dir)
}

// Run sweeps now and then every interval until ctx is done, keeping the owner's lock alive first.
func (jn *Janitor) Run(ctx context.Context, interval time.Duration, keepOwner func(context.Context) error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if keepOwner != nil {
			if err := keepOwner(ctx); err != nil {
				jn.log.Warn("could not keep this server's owner lock", "err", err)
				continue
			}
		}
		if err := jn.Sweep(ctx); err != nil && ctx.Err() == nil {
			jn.log.Warn("cleanup of leftovers failed", "err", err)
		}
	}
}
