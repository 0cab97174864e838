-- 0010: working time (the working calendar, working hours, time limits) and escalation (the ladder,
-- the notifications it sends). Package worktime computes deadlines from these tables; nothing is
-- computed from a holiday library at request time.

-- The working calendar: the days that are not what their weekday says. The official schedule is
-- seeded by store.SeedCalendar (from github.com/6tail/lunar-go, source 'lunar-go vX.Y.Z') for the
-- years missing; an administrator's patch (source 'patch') wins over the official row of its day.
CREATE TABLE work_calendar (
    day        date NOT NULL,
    source     text NOT NULL CHECK (source <> ''),
    kind       text NOT NULL CHECK (kind IN ('holiday', 'makeup_workday')),
    name       text NOT NULL DEFAULT '',
    year       integer NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (day, source),
    CHECK (year = extract(year FROM day))
);
CREATE UNIQUE INDEX work_calendar_patch_key ON work_calendar (day) WHERE source = 'patch';
CREATE UNIQUE INDEX work_calendar_official_key ON work_calendar (day) WHERE source <> 'patch';

-- Working hours: each row the spans of the days from from_md (MM-DD) until the next row's.
CREATE TABLE working_hours (
    from_md text PRIMARY KEY CHECK (from_md ~ '^[01][0-9]-[0-3][0-9]$'),
    spans   jsonb NOT NULL -- ["09:00-12:00", "13:30-17:30"]
);
INSERT INTO working_hours VALUES ('01-01', '["09:00-12:00", "13:30-17:30"]');

-- Time limits of the steps of the case loop (worktime.Rule): code empty is the default, else a
-- category's code or a class's code prefix; urgency empty is any.
CREATE TABLE time_limits (
    id       bigserial PRIMARY KEY,
    standard text NOT NULL DEFAULT '',
    code     text NOT NULL DEFAULT '',
    urgency  text NOT NULL DEFAULT '',
    step     text NOT NULL CHECK (step <> ''),
    amount   integer NOT NULL CHECK (amount > 0),
    unit     text NOT NULL CHECK (unit IN ('natural_minute', 'working_hour', 'working_day', 'natural_day')),
    UNIQUE (code, urgency, step)
);

-- worktime_version changes with every statement that changes the calendar, the hours or the
-- limits: each server's worktime.Service reloads when it sees a new number.
CREATE TABLE worktime_version (
    one     boolean PRIMARY KEY DEFAULT true CHECK (one),
    version bigint NOT NULL DEFAULT 1
);
INSERT INTO worktime_version DEFAULT VALUES;
CREATE FUNCTION gridline_worktime_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE worktime_version SET version = version + 1;
    RETURN NULL;
END $$;
CREATE TRIGGER work_calendar_bump AFTER INSERT OR UPDATE OR DELETE ON work_calendar
    FOR EACH STATEMENT EXECUTE FUNCTION gridline_worktime_bump();
CREATE TRIGGER working_hours_bump AFTER INSERT OR UPDATE OR DELETE ON working_hours
    FOR EACH STATEMENT EXECUTE FUNCTION gridline_worktime_bump();
CREATE TRIGGER time_limits_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON time_limits
    FOR EACH STATEMENT EXECUTE FUNCTION gridline_worktime_bump();
-- a rule may name a catalogue standard: the Service keeps each category's (migration 0009)
CREATE TRIGGER case_categories_worktime_bump AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON case_categories
    FOR EACH STATEMENT EXECUTE FUNCTION gridline_worktime_bump();

-- The escalation ladder: rung n is done to an open step whose escalation_level is n-1 once its
-- light is yellow (warn_at passed) or red (due_at passed) and overdue_minutes more have gone by.
-- target: handler (whoever holds the step), chain1/chain2 (the nearest held post above the
-- case's grid, then the next one above that: vacant levels are skipped, 属地兜底), supervisor
-- (accounts with the supervisor role whose scope covers the grid).
CREATE TABLE escalation_ladder (
    rung            integer PRIMARY KEY CHECK (rung > 0),
    light           text NOT NULL CHECK (light IN ('yellow', 'red')),
    overdue_minutes integer NOT NULL DEFAULT 0 CHECK (overdue_minutes >= 0),
    target          text NOT NULL CHECK (target IN ('handler', 'chain1', 'chain2', 'supervisor')),
    action          text NOT NULL CHECK (action IN ('notify', 'supervise'))
);
INSERT INTO escalation_ladder VALUES
    (1, 'yellow', 0, 'handler', 'notify'),
    (2, 'red', 0, 'chain1', 'notify'),
    (3, 'red', 240, 'chain2', 'notify'),
    (4, 'red', 1440, 'supervisor', 'supervise');

-- Notifications (escalations now; later other kinds): each for a person (person_id) or for a
-- department's handlers (department); grid_id and post say which post a person was told as.
-- step_id + rung are unique: a rung is done to a step once, whatever the number of servers.
CREATE TABLE notifications (
    id         bigserial PRIMARY KEY,
    person_id  bigint REFERENCES people (id),
    department text,
    grid_id    bigint,
    post       text NOT NULL DEFAULT '',
    case_id    bigint,
    step_id    bigint,
    rung       integer,
    kind       text NOT NULL CHECK (kind ~ '^[a-z_]+$'),
    message    text NOT NULL,
    created_at timestamptz NOT NULL,
    read_at    timestamptz,
    CHECK (person_id IS NOT NULL OR department IS NOT NULL)
);
CREATE INDEX notifications_person_idx ON notifications (person_id, id) WHERE person_id IS NOT NULL;
CREATE INDEX notifications_department_idx ON notifications (department, id) WHERE department IS NOT NULL;
CREATE INDEX notifications_step_idx ON notifications (step_id, rung);

-- What the sweeper did, one row per step and rung: the primary key makes a second doing of the
-- same rung fail instead of notifying twice (the row lock and the escalation_level check come
-- first; this is the last guard).
CREATE TABLE escalations (
    step_id    bigint NOT NULL,
    rung       integer NOT NULL,
    case_id    bigint NOT NULL,
    target     text NOT NULL,
    action     text NOT NULL,
    recipients integer NOT NULL,
    done_at    timestamptz NOT NULL,
    PRIMARY KEY (step_id, rung)
);
