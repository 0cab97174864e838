package store

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"gridline.dev/gridline"
	"gridline.dev/gridline/dispatch"
)

// The intake writer (issue #15, "Speed"): group commit of new cases. CreateCase puts its case on
// a queue; a writer takes whatever is waiting (up to IntakeBatch cases, without waiting for more)
// and writes it as one pipeline ended by one Sync: one implicit transaction, one round trip, one
// commit (one WAL flush when the commit is durable). Each caller is answered after that commit.
//
// A failing case fails only itself: when PostgreSQL refuses the batch (an error it reports, so
// the implicit transaction is rolled back and nothing of it is stored), each case of the batch is
// written again alone, in a transaction of its own, and gets its own answer (the 409 of a clashing
// external_id, as a lone intake gets it). When the connection fails, the batch's outcome may be
// unknown (its commit may have happened): it is not written again, every member is answered with
// the error, as a lone intake cut off at its commit is.

// DefaultIntakeBatch is the most cases one intake transaction holds when Options does not say.
const DefaultIntakeBatch = 64

// intakeWriters is how many batches are written at once: while one commits, the next gathers.
const intakeWriters = 2

// intakeTimeout bounds the writing of one batch (its callers may have gone).
const intakeTimeout = 30 * time.Second

type intakeReq struct {
	ctx  context.Context
	nc   *dispatch.NewCase
	done chan error
}

type intakeQueue struct {
	max   int
	reqs  chan *intakeReq
	start sync.Once
	// mu guards closed: a request is queued only while the writers run, so that each queued
	// request is answered (the writers drain the queue when the store closes).
	mu     sync.RWMutex
	closed bool
	quit   chan struct{}
	wg     sync.WaitGroup
}

func newIntakeQueue(max int) *intakeQueue {
	return &intakeQueue{max: max, reqs: make(chan *intakeReq, 4*max), quit: make(chan struct{})}
}

// create queues nc and waits for the commit that holds it.
func (q *intakeQueue) create(ctx context.Context, db *DB, nc *dispatch.NewCase) error {
	q.start.Do(func() {
		for i := 0; i < intakeWriters; i++ {
			q.wg.Add(1)
			go q.writer(db)
		}
	})
	r := &intakeReq{ctx: ctx, nc: nc, done: make(chan error, 1)}
	q.mu.RLock()
	if q.closed {
		q.mu.RUnlock()
		return gridline.Errorf(gridline.EUnavailable, "the database is closed: the server is shutting down")
	}
	select {
	case q.reqs <- r:
		q.mu.RUnlock()
	case <-ctx.Done():
		q.mu.RUnlock()
		return ctx.Err()
	}
	// Once queued, the request is answered: written, refused, or failed with its batch.
	return <-r.done
}

// close stops the writers once they have answered every queued request.
func (q *intakeQueue) close() {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.closed = true
	close(q.quit)
	q.mu.Unlock()
	q.wg.Wait()
}

func (q *intakeQueue) writer(db *DB) {
	defer q.wg.Done()
	batch := make([]*intakeReq, 0, q.max)
	for {
		batch = batch[:0]
		select {
		case r := <-q.reqs:
			batch = append(batch, r)
		case <-q.quit:
			// No request is queued after quit: answer what is left, then stop.
			for {
				select {
				case r := <-q.reqs:
					r.done <- gridline.Errorf(gridline.EUnavailable, "the database is closed: the server is shutting down")
				default:
					return
				}
			}
		}
	gather:
		for len(batch) < q.max {
			select {
			case r := <-q.reqs:
				batch = append(batch, r)
			default:
				break gather
			}
		}
		db.writeIntake(batch)
	}
}

// writeIntake writes batch in one transaction and answers each request.
func (db *DB) writeIntake(batch []*intakeReq) {
	live := batch[:0:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- err // its caller gave up before it was written: nothing of it is stored
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), intakeTimeout)
	defer cancel()
	if len(live) == 1 {
		live[0].done <- createCase(ctx, db.pool, live[0].nc)
		return
	}
	b := &pgx.Batch{}
	queued := live[:0:0]
	for _, r := range live {
		if err := queueCase(b, r.nc); err != nil {
			r.done <- err
			continue
		}
		queued = append(queued, r)
	}
	err := db.pool.SendBatch(ctx, b).Close()
	if err == nil {
		for _, r := range queued {
			caseWritten(r.nc)
			r.done <- nil
		}
		return
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) && !pgconn.SafeToRetry(err) {
		// The connection failed: the batch may or may not have committed. Writing its cases
		// again could store them twice; each caller is told, as a lone intake would be.
		for _, r := range queued {
			r.done <- classify(err)
		}
		return
	}
	// PostgreSQL refused the batch and rolled it back (or it was never sent): each case alone,
	// for its own answer.
	for _, r := range queued {
		r.done <- createCase(ctx, db.pool, r.nc)
	}
}
