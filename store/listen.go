package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// ChangesChannel is the channel the triggers notify on after every change to grids or staff.
const ChangesChannel = "gridline_changes"

// Listen calls onChange with the table's name ("grids", "people", "assignments") after every
// committed change to it, in this or any other process, until ctx ends. onChange must not block:
// it is called once per notification. When the connection is lost it reconnects with backoff and
// calls onChange("") once after reconnecting, since changes may have been missed meanwhile.
// onState, when not nil, is told of every connection: nil once the listener is connected, and the
// error each time the connection is lost or cannot be made, so that the caller can log it.
func (db *DB) Listen(ctx context.Context, onChange func(table string), onState func(err error)) {
	db.listen(ctx, ChangesChannel, onChange, onState)
}

// listen is Listen on channel.
func (db *DB) listen(ctx context.Context, channel string, onChange func(payload string), onState func(err error)) {
	backoff := 100 * time.Millisecond
	first := true
	for ctx.Err() == nil {
		err := db.listenOnce(ctx, channel, func() {
			backoff = 100 * time.Millisecond
			if onState != nil {
				onState(nil)
			}
			if !first {
				onChange("")
			}
			first = false
		}, onChange)
		if ctx.Err() != nil {
			return
		}
		if onState != nil {
			onState(fmt.Errorf("listen on %s: %w", channel, err))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		if backoff < 5*time.Second {
			backoff *= 2
		}
	}
}

func (db *DB) listenOnce(ctx context.Context, channel string, connected func(), onChange func(string)) error {
	conn, err := pgx.Connect(ctx, db.url)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+channel); err != nil {
		return err
	}
	connected()
	for {
		// A cancelled wait closes a pgx connection, so there is no draining here: the callee
		// coalesces bursts (see resolve.Resolver.Changed).
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		onChange(n.Payload)
	}
}
