package jobs_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"gridline.dev/gridline"
	"gridline.dev/gridline/internal/fakeclock"
	"gridline.dev/gridline/jobs"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/store/storetest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestRunnerStates(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	owner, err := db.ClaimOwner(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	clock := fakeclock.New(time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC))
	r := jobs.New(db, clock, quiet, jobs.Config{Owner: owner.ID})
	defer r.Close()

	// Done, with its report and counters.
	h, err := r.Start(ctx, jobs.KindImport, 123, func(ctx context.Context, p *jobs.Progress) (any, *jobs.File, error) {
		p.Stage("check")
		p.SetRead(10)
		p.SetChecked(9)
		p.SetWritten(8)
		return map[string]int{"features": 10}, nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	<-h.Done()
	j, err := r.Get(ctx, h.Job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if j.State != store.JobDone || j.Read != 10 || j.Checked != 9 || j.Written != 8 || j.Bytes != 123 || string(j.Report) != `{"features": 10}` || !j.Finished.Equal(clock.Now()) {
		t.Fatalf("%+v", j)
	}

	// Failed: a user's error is kept as it is, a bug becomes "internal error".
	for _, tc := range []struct {
		err  error
		code string
	}{
		{gridline.Errorf(gridline.EInvalid, "bad file"), gridline.EInvalid},
		{errors.New("secret path /tmp/x"), gridline.EInternal},
	} {
		h, err := r.Start(ctx, jobs.KindImport, 0, func(context.Context, *jobs.Progress) (any, *jobs.File, error) { return nil, nil, tc.err })
		if err != nil {
			t.Fatal(err)
		}
		<-h.Done()
		j, _ := r.Get(ctx, h.Job.ID)
		if j.State != store.JobFailed || j.Error == nil || j.Error.Code != tc.code || (tc.code == gridline.EInternal && j.Error.Message != "internal error") {
			t.Fatalf("%+v %+v", j, j.Error)
		}
	}

	// Cancelled: the work sees its context end, and the job says so.
	started := make(chan struct{})
	h, err = r.Start(ctx, jobs.KindExport, 0, func(ctx context.Context, p *jobs.Progress) (any, *jobs.File, error) {
		close(started)
		<-ctx.Done()
		return nil, nil, ctx.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	<-started
	j, err = r.Cancel(ctx, h.Job.ID)
	if err != nil || j.State != store.JobCancelled {
		t.Fatalf("%v %+v", err, j)
	}
}

// A cancellation asked of another server reaches the one running the job at its next progress
// update.
func TestCancelFromAnotherServer(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	owner, err := db.ClaimOwner(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	clock := gridline.SystemClock{}
	running := jobs.New(db, clock, quiet, jobs.Config{Owner: owner.ID, Flush: 10 * time.Millisecond})
	defer running.Close()
	other := jobs.New(db, clock, quiet, jobs.Config{Owner: owner.ID + 1})
	defer other.Close()
	started := make(chan struct{})
	h, err := running.Start(ctx, jobs.KindImport, 0, func(ctx context.Context, p *jobs.Progress) (any, *jobs.File, error) {
		close(started)
		<-ctx.Done()
		return nil, nil, ctx.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	<-started
	if _, err := other.Cancel(ctx, h.Job.ID); err != nil {
		t.Fatal(err)
	}
	<-h.Done()
	if j, _ := other.Get(ctx, h.Job.ID); j.State != store.JobCancelled {
		t.Fatalf("%+v", j)
	}
}

// What a process killed with -9 leaves (a running job, staging tables, temporary files) is
// cleaned up by the next sweep; what a live process owns is kept, even by another process's sweep.
func TestJanitor(t *testing.T) {
	db := storetest.New(t)
	ctx := context.Background()
	raw := storetest.Raw(t, db)
	live, err := db.ClaimOwner(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	dead, err := db.ClaimOwner(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sweeper, err := db.ClaimOwner(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sweeper.Close()
	clock := fakeclock.New(time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC))
	base := t.TempDir()
	instance, err := db.InstanceID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Another database's process on the same machine: its lock is not in this database's
	// pg_locks, and its files are not this janitor's to judge.
	otherDB := jobs.OwnTempDir(base, "another-database", dead.ID)
	if err := os.MkdirAll(otherDB, 0o700); err != nil {
		t.Fatal(err)
	}
	var jobIDs []string
	tables := map[string]bool{} // name -> kept
	for _, o := range []*store.Owner{live, dead} {
		j := &store.Job{ID: "job" + strconv.FormatInt(o.ID, 10), Kind: "import", State: store.JobRunning, Owner: o.ID, Created: clock.Now(), Updated: clock.Now()}
		if err := db.CreateJob(ctx, j); err != nil {
			t.Fatal(err)
		}
		jobIDs = append(jobIDs, j.ID)
		for _, kind := range []string{"import", "export"} {
			name := store.StagingName(kind, o.ID, "0123abcd")
			if _, err := raw.Exec(ctx, `CREATE UNLOGGED TABLE staging.`+name+` (ogc_fid int)`); err != nil {
				t.Fatal(err)
			}
			tables[name] = o == live
		}
		dir := jobs.OwnTempDir(base, instance, o.ID)
		if err := os.MkdirAll(filepath.Join(dir, "gridline-upload-1"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "gridline-upload-1", "big.geojson"), []byte("{}"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// A table of a gridline from before owners is a leftover too.
	if _, err := raw.Exec(ctx, `CREATE UNLOGGED TABLE staging.import_0123456789abcdef (ogc_fid int)`); err != nil {
		t.Fatal(err)
	}
	tables["import_0123456789abcdef"] = false
	dead.Close() // as kill -9 would: its session ends, and its lock with it

	jn := jobs.NewJanitor(db, clock, quiet, sweeper.ID, base, instance, time.Hour)
	if err := jn.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	left, err := db.StagingTables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, n := range left {
		have[n] = true
	}
	for name, kept := range tables {
		if have[name] != kept {
			t.Errorf("staging.%s: present %v, want %v", name, have[name], kept)
		}
	}
	if _, err := os.Stat(jobs.OwnTempDir(base, instance, live.ID)); err != nil {
		t.Errorf("the live owner's files: %v", err)
	}
	if _, err := os.Stat(otherDB); err != nil {
		t.Errorf("another database's files: %v", err)
	}
	if _, err := os.Stat(jobs.OwnTempDir(base, instance, dead.ID)); !os.IsNotExist(err) {
		t.Errorf("the dead owner's files are still there: %v", err)
	}
	// An old job that ended is forgotten.
	old := &store.Job{ID: "old", Kind: "export", State: store.JobDone, Owner: live.ID, Created: clock.Now().Add(-60 * 24 * time.Hour), Finished: clock.Now().Add(-40 * 24 * time.Hour)}
	old.Updated = old.Created
	if err := db.CreateJob(ctx, old); err != nil {
		t.Fatal(err)
	}
	if err := db.FinishJob(ctx, old); err != nil {
		t.Fatal(err)
	}
	if err := jn.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetJob(ctx, "old"); gridline.ErrorCode(err) != gridline.ENotFound {
		t.Errorf("a job that ended 40 days ago: %v", err)
	}
	for i, want := range []string{store.JobRunning, store.JobFailed} {
		j, err := db.GetJob(ctx, jobIDs[i])
		if err != nil {
			t.Fatal(err)
		}
		if j.State != want || (want == store.JobFailed && (j.Error == nil || j.Error.Message[:11] != "interrupted")) {
			t.Errorf("job %s: %s %+v, want %s", j.ID, j.State, j.Error, want)
		}
	}
}
