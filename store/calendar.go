package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"gridline.dev/gridline"
	"gridline.dev/gridline/worktime"
)

// calendarLock serialises the seeding of the working calendar by servers starting together.
const calendarLock = 7411020

// SeedCalendar loads the official days of each year from..to that has none in the table yet,
// from official (worktime.Official): idempotent, so every `serve` and `migrate` runs it. It says
// which years it loaded. A year official has nothing for stays missing (worktime warns).
func (db *DB) SeedCalendar(ctx context.Context, from, to int, official func(year int) []worktime.Day) (loaded []int, err error) {
	err = db.tx(ctx, func(tx pgx.Tx) error {
		loaded = nil
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, calendarLock); err != nil {
			return err
		}
		var have []int32
		if err := tx.QueryRow(ctx, `SELECT coalesce(array_agg(DISTINCT year), '{}') FROM work_calendar WHERE source <> 'patch'`).Scan(&have); err != nil {
			return err
		}
		done := map[int]bool{}
		for _, y := range have {
			done[int(y)] = true
		}
		for y := from; y <= to; y++ {
			if done[y] {
				continue
			}
			days := official(y)
			if len(days) == 0 {
				continue
			}
			rows := make([][]any, len(days))
			for i, d := range days {
				day, err := time.Parse(time.DateOnly, d.Date)
				if err != nil {
					return err
				}
				rows[i] = []any{day, d.Source, string(d.Kind), d.Name, d.Year}
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"work_calendar"}, []string{"day", "source", "kind", "name", "year"}, pgx.CopyFromRows(rows)); err != nil {
				return err
			}
			loaded = append(loaded, y)
		}
		return nil
	})
	return loaded, err
}

const calendarColumns = `to_char(day, 'YYYY-MM-DD'), kind, name, source, year`

func scanDays(rows pgx.Rows) ([]worktime.Day, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (worktime.Day, error) {
		var d worktime.Day
		var kind string
		err := r.Scan(&d.Date, &kind, &d.Name, &d.Source, &d.Year)
		d.Kind = worktime.DayKind(kind)
		return d, err
	})
}

// CalendarDays are every row of the working calendar, official and patches.
func (db *DB) CalendarDays(ctx context.Context) ([]worktime.Day, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+calendarColumns+` FROM work_calendar ORDER BY day, source = 'patch'`)
	if err != nil {
		return nil, classify(err)
	}
	days, err := scanDays(rows)
	return days, classify(err)
}

// CalendarYear are the rows of the working calendar in year, official and patches.
func (db *DB) CalendarYear(ctx context.Context, year int) ([]worktime.Day, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+calendarColumns+` FROM work_calendar WHERE year = $1 ORDER BY day, source = 'patch'`, year)
	if err != nil {
		return nil, classify(err)
	}
	days, err := scanDays(rows)
	return days, classify(err)
}

// PatchCalendar sets the local patches of days (their Source is "patch"; one wins over the
// official row of its day) and removes the patches of the dates in remove, in one transaction,
// audited.
func (db *DB) PatchCalendar(ctx context.Context, days []worktime.Day, remove []string) error {
	return db.tx(ctx, func(tx pgx.Tx) error {
		var before []worktime.Day
		dates := append([]string{}, remove...)
		for _, d := range days {
			dates = append(dates, d.Date)
		}
		rows, err := tx.Query(ctx, `SELECT `+calendarColumns+` FROM work_calendar WHERE source = 'patch' AND day = ANY($1::date[]) ORDER BY day FOR UPDATE`, dates)
		if err != nil {
			return err
		}
		if before, err = scanDays(rows); err != nil {
			return err
		}
		for _, date := range remove {
			tag, err := tx.Exec(ctx, `DELETE FROM work_calendar WHERE source = 'patch' AND day = $1::date`, date)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				return gridline.Errorf(gridline.ENotFound, "%s has no local patch to remove (GET /v1/calendar/days?year= lists them)", date).With("field", "remove")
			}
		}
		for _, d := range days {
			if _, err := tx.Exec(ctx, `
				INSERT INTO work_calendar (day, source, kind, name, year) VALUES ($1::date, 'patch', $2, $3, extract(year FROM $1::date))
				ON CONFLICT (day, source) DO UPDATE SET kind = EXCLUDED.kind, name = EXCLUDED.name, changed_at = now()`,
				d.Date, string(d.Kind), d.Name); err != nil {
				return err
			}
		}
		return appendAudit(ctx, tx, audit{Action: "calendar.patch", TargetKind: "calendar_day",
			Before: map[string]any{"patches": before}, After: map[string]any{"patches": days, "removed": remove}})
	})
}

// WorkingHours are the working hours, by the day they start from.
func (db *DB) WorkingHours(ctx context.Context) ([]worktime.Schedule, error) {
	rows, err := db.pool.Query(ctx, `SELECT from_md, spans FROM working_hours ORDER BY from_md`)
	if err != nil {
		return nil, classify(err)
	}
	hs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (worktime.Schedule, error) {
		var s worktime.Schedule
		var spans []byte
		if err := r.Scan(&s.From, &spans); err != nil {
			return s, err
		}
		return s, json.Unmarshal(spans, &s.Spans)
	})
	return hs, classify(err)
}

// SetWorkingHours replaces the working hours (checked by worktime.CheckHours), audited.
func (db *DB) SetWorkingHours(ctx context.Context, hours []worktime.Schedule) error {
	if err := worktime.CheckHours(hours); err != nil {
		return err
	}
	return db.tx(ctx, func(tx pgx.Tx) error {
		before, err := hoursIn(ctx, tx)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM working_hours`); err != nil {
			return err
		}
		for _, s := range hours {
			if _, err := tx.Exec(ctx, `INSERT INTO working_hours (from_md, spans) VALUES ($1, $2)`, s.From, s.Spans); err != nil {
				return err
			}
		}
		return appendAudit(ctx, tx, audit{Action: "calendar.hours", TargetKind: "working_hours", Before: before, After: hours})
	})
}

func hoursIn(ctx context.Context, tx pgx.Tx) (json.RawMessage, error) {
	var b json.RawMessage
	err := tx.QueryRow(ctx, `SELECT coalesce(jsonb_agg(jsonb_build_object('from', from_md, 'spans', spans) ORDER BY from_md), '[]') FROM working_hours`).Scan(&b)
	return b, err
}

// TimeLimits are the time limits of the case loop's steps.
func (db *DB) TimeLimits(ctx context.Context) (worktime.Rules, error) {
	rows, err := db.pool.Query(ctx, `SELECT standard, code, urgency, step, amount, unit FROM time_limits ORDER BY step, code, urgency`)
	if err != nil {
		return nil, classify(err)
	}
	rs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (worktime.Rule, error) {
		var x worktime.Rule
		var unit string
		err := r.Scan(&x.Standard, &x.Code, &x.Urgency, &x.Step, &x.Limit.Amount, &unit)
		x.Limit.Unit = worktime.Unit(unit)
		return x, err
	})
	return rs, classify(err)
}

// ReplaceTimeLimits replaces every time limit with rules (parsed by worktime.ParseLimitsCSV), in
// one transaction, audited with the counts before and after.
func (db *DB) ReplaceTimeLimits(ctx context.Context, rules worktime.Rules) error {
	return db.tx(ctx, func(tx pgx.Tx) error {
		var before int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM time_limits`).Scan(&before); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM time_limits`); err != nil {
			return err
		}
		rows := make([][]any, len(rules))
		for i, r := range rules {
			rows[i] = []any{r.Standard, r.Code, r.Urgency, r.Step, r.Limit.Amount, string(r.Limit.Unit)}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"time_limits"}, []string{"standard", "code", "urgency", "step", "amount", "unit"}, pgx.CopyFromRows(rows)); err != nil {
			return err
		}
		return appendAudit(ctx, tx, audit{Action: "time_limits.import", TargetKind: "time_limit",
			Before: map[string]any{"rules": before}, After: map[string]any{"rules": len(rules)}})
	})
}

// HasTimeLimits says whether any time limit is stored (the demo loads its set when none is).
func (db *DB) HasTimeLimits(ctx context.Context) (bool, error) {
	var ok bool
	err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM time_limits)`).Scan(&ok)
	return ok, classify(err)
}

// WorktimeVersion changes whenever the calendar, the working hours or the time limits do.
func (db *DB) WorktimeVersion(ctx context.Context) (int64, error) {
	var v int64
	err := db.pool.QueryRow(ctx, `SELECT version FROM worktime_version`).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	return v, classify(err)
}

// CategoryStandards maps each category code of the catalogue to its standard, for the time-limit
// rules that name a standard.
func (db *DB) CategoryStandards(ctx context.Context) (map[string]string, error) {
	rows, err := db.pool.Query(ctx, `SELECT code, standard FROM case_categories`)
	if err != nil {
		return nil, classify(err)
	}
	m := map[string]string{}
	var code, std string
	_, err = pgx.ForEachRow(rows, []any{&code, &std}, func() error {
		m[code] = std
		return nil
	})
	return m, classify(err)
}

// OpenStepClocks are the clocks of the open, running steps with a limit, by id from after on, up
// to limit of them (worktime.Service.Recompute).
func (db *DB) OpenStepClocks(ctx context.Context, after int64, limit int) ([]worktime.OpenStep, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, clock::text FROM case_steps
		WHERE ended_at IS NULL AND paused_at IS NULL AND limit_amount IS NOT NULL AND id > $1 ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, classify(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (worktime.OpenStep, error) {
		var c worktime.OpenStep
		if err := r.Scan(&c.ID, &c.Stored); err != nil {
			return c, err
		}
		return c, json.Unmarshal([]byte(c.Stored), &c.Clock)
	})
	return out, classify(err)
}

// SetStepDeadlines writes the recomputed warning and due times of steps, each only if the step is
// still open and running with the clock it was computed from (a transition that changed it since
// wrote its own). It says how many it changed.
func (db *DB) SetStepDeadlines(ctx context.Context, steps []worktime.OpenStep, deadlines []worktime.Deadline) (int, error) {
	n := 0
	err := db.tx(ctx, func(tx pgx.Tx) error {
		n = 0
		b := &pgx.Batch{}
		for i, s := range steps {
			b.Queue(`UPDATE case_steps SET warn_at = $2, due_at = $3
				WHERE id = $1 AND ended_at IS NULL AND paused_at IS NULL AND clock = $4::jsonb AND (warn_at, due_at) IS DISTINCT FROM ($2, $3)`,
				s.ID, deadlines[i].Warn, deadlines[i].Due, s.Stored)
		}
		br := tx.SendBatch(ctx, b)
		for range steps {
			tag, err := br.Exec()
			if err != nil {
				br.Close()
				return err
			}
			n += int(tag.RowsAffected())
		}
		return br.Close()
	})
	return n, err
}
