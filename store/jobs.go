package store

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"gridline.dev/gridline"
)

// ownerLockClass is the first key of the session advisory lock (ownerLockClass, owner) a process
// holds for as long as it runs jobs or stages tables: whatever an owner without its lock left
// behind belongs to a process that is gone. Locks end with the session, so a kill -9 releases
// them at once, and several servers on one database see each other's.
const ownerLockClass = 7411002

// liveOwnerLocks finds the owner locks held in this database (pg_locks covers the whole cluster).
const liveOwnerLocks = `SELECT objid::bigint FROM pg_locks
	WHERE locktype = 'advisory' AND classid = ` + "7411002" + ` AND objsubid = 2 AND granted
	  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`

// Owner is this process's claim on what it creates: jobs, staging tables, temporary files. It
// holds its advisory lock on a connection of its own, outside the pool.
type Owner struct {
	ID   int64
	mu   sync.Mutex
	conn *pgx.Conn
	cfg  *pgx.ConnConfig
}

// ClaimOwner picks an owner id no live process holds and takes its lock.
func (db *DB) ClaimOwner(ctx context.Context) (*Owner, error) {
	o := &Owner{cfg: db.pool.Config().ConnConfig.Copy()}
	for range 10 {
		var b [4]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		o.ID = int64(binary.BigEndian.Uint32(b[:])&0x7fffffff) + 1
		ok, err := o.lock(ctx)
		if err != nil {
			return nil, err
		}
		if ok {
			return o, nil
		}
	}
	return nil, errors.New("store: could not claim an owner id")
}

// lock connects and takes the owner lock; false when another session holds it.
func (o *Owner) lock(ctx context.Context) (bool, error) {
	if o.conn != nil {
		o.conn.Close(ctx) //nolint:errcheck // a dead connection
		o.conn = nil
	}
	conn, err := pgx.ConnectConfig(ctx, o.cfg)
	if err != nil {
		return false, classify(err)
	}
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1, $2::int)`, ownerLockClass, o.ID).Scan(&ok); err != nil {
		conn.Close(ctx) //nolint:errcheck // failing anyway
		return false, classify(err)
	}
	if !ok {
		conn.Close(ctx) //nolint:errcheck // not ours
		return false, nil
	}
	o.conn = conn
	return true, nil
}

// Keep checks that the lock's connection is alive and, when it was lost (a database restart),
// takes the lock again. While it is lost, other processes may mark this owner's jobs interrupted
// and drop its staging tables: its connections were lost too, so that work had failed anyway.
func (o *Owner) Keep(ctx context.Context) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.conn != nil && o.conn.Ping(ctx) == nil {
		return nil
	}
	ok, err := o.lock(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("store: owner id %d was taken by another process while the database was away", o.ID)
	}
	return nil
}

// Close releases the lock.
func (o *Owner) Close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.conn != nil {
		o.conn.Close(context.Background()) //nolint:errcheck // closing releases the lock either way
		o.conn = nil
	}
}

// LiveOwners are the owner ids whose process holds its lock.
func (db *DB) LiveOwners(ctx context.Context) (map[int64]bool, error) {
	rows, err := db.pool.Query(ctx, liveOwnerLocks)
	if err != nil {
		return nil, classify(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, classify(err)
	}
	live := map[int64]bool{}
	for _, id := range ids {
		live[id] = true
	}
	return live, nil
}

// Job states.
const (
	JobQueued    = "queued"
	JobRunning   = "running"
	JobDone      = "done"
	JobFailed    = "failed"
	JobCancelled = "cancelled"
)

// Job is a row of the jobs table.
type Job struct {
	ID, Kind, State string
	Owner           int64
	Stage           string
	Read, Checked   int64 // features read from the file, checked by the rules
	Written, Bytes  int64 // features written; bytes uploaded or exported
	Report          json.RawMessage
	Error           *gridline.Error
	FilePath        string // an export's file, while it is kept
	FileName        string
	ContentType     string
	CancelRequested bool
	Created         time.Time
	Started         time.Time // zero until it starts
	Finished        time.Time // zero until it ends
	Updated         time.Time
}

const jobColumns = `id, kind, state, owner, stage, features_read, features_checked, features_written, bytes,
	report, error, coalesce(file_path, ''), coalesce(file_name, ''), coalesce(content_type, ''), cancel_requested,
	created_at, started_at, finished_at, updated_at`

func scanJob(row pgx.Row) (*Job, error) {
	var j Job
	var errJSON []byte
	var started, finished *time.Time
	if err := row.Scan(&j.ID, &j.Kind, &j.State, &j.Owner, &j.Stage, &j.Read, &j.Checked, &j.Written, &j.Bytes,
		&j.Report, &errJSON, &j.FilePath, &j.FileName, &j.ContentType, &j.CancelRequested,
		&j.Created, &started, &finished, &j.Updated); err != nil {
		return nil, err
	}
	if started != nil {
		j.Started = *started
	}
	if finished != nil {
		j.Finished = *finished
	}
	if errJSON != nil {
		j.Error = &gridline.Error{}
		if err := json.Unmarshal(errJSON, j.Error); err != nil {
			return nil, err
		}
	}
	return &j, nil
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// CreateJob stores a new job.
func (db *DB) CreateJob(ctx context.Context, j *Job) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO jobs (id, kind, state, owner, stage, bytes, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`, j.ID, j.Kind, j.State, j.Owner, j.Stage, j.Bytes, j.Created)
	return classify(err)
}

// UpdateJob writes a running job's state, stage and counters, and says whether someone asked,
// through any server, for it to be cancelled.
func (db *DB) UpdateJob(ctx context.Context, j *Job) (cancel bool, err error) {
	err = db.pool.QueryRow(ctx, `UPDATE jobs SET state = $2, stage = $3, features_read = $4, features_checked = $5,
		features_written = $6, bytes = $7, started_at = $8, updated_at = $9
		WHERE id = $1 AND state IN ('queued', 'running') RETURNING cancel_requested`,
		j.ID, j.State, j.Stage, j.Read, j.Checked, j.Written, j.Bytes, nullTime(j.Started), j.Updated).Scan(&cancel)
	if errors.Is(err, pgx.ErrNoRows) {
		// Marked interrupted by another process while this one had lost its lock: stop.
		return true, nil
	}
	return cancel, classify(err)
}

// FinishJob writes a job's end: its state, report or error, and file.
func (db *DB) FinishJob(ctx context.Context, j *Job) error {
	var errJSON []byte
	if j.Error != nil {
		var err error
		if errJSON, err = json.Marshal(j.Error); err != nil {
			return err
		}
	}
	var report []byte
	if len(j.Report) > 0 {
		report = j.Report
	}
	_, err := db.pool.Exec(ctx, `UPDATE jobs SET state = $2, stage = $3, features_read = $4, features_checked = $5,
		features_written = $6, bytes = $7, report = $8, error = $9, file_path = $10, file_name = $11, content_type = $12,
		started_at = $13, finished_at = $14, updated_at = $14
		WHERE id = $1`,
		j.ID, j.State, j.Stage, j.Read, j.Checked, j.Written, j.Bytes, report, errJSON,
		nullString(j.FilePath), nullString(j.FileName), nullString(j.ContentType), nullTime(j.Started), j.Finished)
	return classify(err)
}

// GetJob reads a job.
func (db *DB) GetJob(ctx context.Context, id string) (*Job, error) {
	j, err := scanJob(db.pool.QueryRow(ctx, `SELECT `+jobColumns+` FROM jobs WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, gridline.Errorf(gridline.ENotFound, "no job %q", id)
	}
	return j, classify(err)
}

// RequestCancel asks for a job to stop; its owner sees the request at its next progress update.
// A job that has ended is left as it is.
func (db *DB) RequestCancel(ctx context.Context, id string, now time.Time) error {
	tag, err := db.pool.Exec(ctx, `UPDATE jobs SET cancel_requested = true, updated_at = $2
		WHERE id = $1 AND state IN ('queued', 'running')`, id, now)
	if err != nil {
		return classify(err)
	}
	if tag.RowsAffected() == 0 {
		_, err := db.GetJob(ctx, id)
		return err
	}
	return nil
}

// InterruptOrphanJobs marks failed every queued or running job whose owner holds no lock: the
// process running it is gone. The check and the update are one statement, so a server that has
// just started, and holds its lock, is never taken for dead.
func (db *DB) InterruptOrphanJobs(ctx context.Context, now time.Time) (int64, error) {
	msg, err := json.Marshal(gridline.Errorf(gridline.EInternal, "interrupted: the server running this job stopped before it finished; nothing it was doing was written, run it again"))
	if err != nil {
		return 0, err
	}
	tag, err := db.pool.Exec(ctx, `UPDATE jobs SET state = 'failed', error = $2, finished_at = $1, updated_at = $1, file_path = NULL
		WHERE state IN ('queued', 'running') AND owner NOT IN (`+liveOwnerLocks+`)`, now, msg)
	return tag.RowsAffected(), classify(err)
}

// ExpireJobFiles forgets the files of owner's jobs that finished before the given time and
// returns their paths, for the caller to remove.
func (db *DB) ExpireJobFiles(ctx context.Context, owner int64, before time.Time) ([]string, error) {
	rows, err := db.pool.Query(ctx, `UPDATE jobs SET file_path = NULL
		WHERE owner = $1 AND file_path IS NOT NULL AND finished_at < $2 RETURNING file_path`, owner, before)
	if err != nil {
		return nil, classify(err)
	}
	paths, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return paths, classify(err)
}

// ForgetJobFile records that a job's file was removed (it was sent, or expired).
func (db *DB) ForgetJobFile(ctx context.Context, id string) error {
	_, err := db.pool.Exec(ctx, `UPDATE jobs SET file_path = NULL WHERE id = $1`, id)
	return classify(err)
}

// StagingTables lists the tables in the staging schema.
func (db *DB) StagingTables(ctx context.Context) ([]string, error) {
	rows, err := db.pool.Query(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename`, StagingSchema)
	if err != nil {
		return nil, classify(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	return names, classify(err)
}

// StagingName names a new staging table of kind "import" or "export" for owner: the owner is in
// the name, so that a sweep can tell a live process's table from one left by a process that is gone.
func StagingName(kind string, owner int64, random string) string {
	return fmt.Sprintf("%s_o%d_%s", kind, owner, random)
}

// StagingOwner is the owner in a staging table's name; false for a name from before owners (or
// not a staging name at all).
func StagingOwner(name string) (int64, bool) {
	m := ownedStagingName.FindStringSubmatch(name)
	if m == nil {
		return 0, false
	}
	var id int64
	if _, err := fmt.Sscan(m[1], &id); err != nil {
		return 0, false
	}
	return id, true
}

var ownedStagingName = regexp.MustCompile(`^(?:import|export)_o([0-9]{1,10})_[a-z0-9]+$`)

// IsStagingName reports whether name is a table the importers make (and so may drop).
func IsStagingName(name string) bool { return stagingName.MatchString(name) }

// InstanceID is this database's random name (migration 0007).
func (db *DB) InstanceID(ctx context.Context) (string, error) {
	var id string
	err := db.pool.QueryRow(ctx, `SELECT id FROM instance`).Scan(&id)
	return id, classify(err)
}

// StagingRowsCopied is how many rows a COPY into staging table name has written so far (0 when
// none runs): the live count of an import's features read, from pg_stat_progress_copy.
func (db *DB) StagingRowsCopied(ctx context.Context, name string) (int64, error) {
	if _, err := stagingTable(name); err != nil {
		return 0, err
	}
	var n int64
	err := db.pool.QueryRow(ctx, `SELECT coalesce(sum(tuples_processed), 0)::bigint FROM pg_stat_progress_copy
		WHERE relid = to_regclass(format('%I.%I', $1::text, $2::text))`, StagingSchema, name).Scan(&n)
	return n, classify(err)
}

// DeleteJobsBefore forgets the jobs that ended before the given time.
func (db *DB) DeleteJobsBefore(ctx context.Context, before time.Time) (int64, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM jobs WHERE finished_at < $1 AND file_path IS NULL`, before)
	return tag.RowsAffected(), classify(err)
}
