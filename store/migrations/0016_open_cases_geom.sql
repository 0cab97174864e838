-- 0016: the duplicate search of every intake (store.duplicatesQuery) looks for open cases near the
-- new one. A gist index of the open cases only: it stays the size of the open workload, however
-- many cases the district has closed, and the search reads the few open cases around the point
-- instead of ANDing the whole-table gist index with every case of the category in the last 24 h
-- (measured on 34,582 cases: 1.7 ms → 0.27 ms per search at a busy spot).
CREATE INDEX cases_open_geom_idx ON cases USING gist (geom)
    WHERE duplicate_of IS NULL AND state NOT IN ('voided', 'merged', 'closed', 'evaluated');
