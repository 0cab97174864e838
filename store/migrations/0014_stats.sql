-- 0014: the figures districts are judged by (统计考核, issue #16). Package stats defines the
-- figures; store/stats.go counts them in SQL over cases, case_events and case_steps.

-- The points (积分) rule table: each row a counted figure of a statistics row (stats.CountNames)
-- and the points each one earns (negative: costs). Changed through PUT /v1/stats/points-rules,
-- audited.
CREATE TABLE points_rules (
    code       text PRIMARY KEY CHECK (code ~ '^[a-z_]{1,40}$'),
    name       text NOT NULL DEFAULT '',
    points     numeric(8, 2) NOT NULL,
    ord        int NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO points_rules (code, name, points, ord) VALUES
    ('patrol_valid', '有效上报', 1, 1),
    ('self_handled', '自处置', 2, 2),
    ('closed_on_time', '按期结案', 1, 3),
    ('overdue', '超期', -2, 4),
    ('returned', '退回', -1, 5),
    ('reworked', '返工', -2, 6),
    ('missed', '漏报', -1, 7);

-- A category whose matters a grid worker on patrol can see (a pothole, rubbish, a stall): a
-- filed public or hotline report of it with no patrol report nearby before counts as missed
-- (漏报). Night noise or a closed-door dispute are not: set false for those.
ALTER TABLE case_categories ADD COLUMN patrol_findable boolean NOT NULL DEFAULT true;

-- The candidate cases of a period: open ones and those closed since shortly before it.
CREATE INDEX cases_closed_idx ON cases (closed_at);
-- The missed-report check: patrol reports of a category in the 24 h before a public report.
CREATE INDEX cases_patrol_category_time_idx ON cases (category_code, reported_at) WHERE source = 'patrol';
-- Steps that ended in the period.
CREATE INDEX case_steps_ended_idx ON case_steps (ended_at) WHERE ended_at IS NOT NULL;
