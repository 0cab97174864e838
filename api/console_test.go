package api

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"gridline.dev/gridline/store/storetest"
)

// GET /v1/cases/deadlines answers the earliest open warn and due times, only for the cases the
// caller may read.
func TestCaseDeadlines(t *testing.T) {
	a := newCasesAPI(t)
	var ids []int64
	for _, p := range [][2]float64{{113.603, 34.715}, {113.70, 34.70}} { // in grid 7; outside every grid
		code, body := a.json(t, "POST", "/v1/cases", a.dispatcher, map[string]any{"category_code": "0101", "lon": p[0], "lat": p[1]})
		if code != http.StatusCreated {
			t.Fatalf("intake: %d %v", code, body)
		}
		ids = append(ids, int64(body["case"].(map[string]any)["id"].(float64)))
	}
	// The engine here has no time limits: give the open steps due times, two per case, the
	// earlier of which must be answered.
	if _, err := storetest.Raw(t, a.db).Exec(context.Background(), `UPDATE case_steps SET
		warn_at = CASE WHEN step = 'file' THEN '2026-12-07T01:00:00Z'::timestamptz ELSE '2026-12-08T01:00:00Z' END,
		due_at  = CASE WHEN step = 'file' THEN '2026-12-07T02:00:00Z'::timestamptz ELSE '2026-12-08T02:00:00Z' END
		WHERE ended_at IS NULL`); err != nil {
		t.Fatal(err)
	}
	if _, err := storetest.Raw(t, a.db).Exec(context.Background(), `INSERT INTO case_steps (case_id, step, started_at, warn_at, due_at)
		SELECT id, 'dispatch', now(), '2026-12-09T00:00:00Z', '2026-12-09T01:00:00Z' FROM cases`); err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/v1/cases/deadlines?ids=%d,%d", ids[0], ids[1])
	code, body := a.do(t, "GET", path, a.dispatcher, "", nil)
	d, _ := body["deadlines"].(map[string]any)
	if code != http.StatusOK || len(d) != 2 {
		t.Fatalf("dispatcher: %d %v", code, body)
	}
	first := d[fmt.Sprint(ids[0])].(map[string]any)
	if first["due_at"] != "2026-12-07T02:00:00Z" || first["warn_at"] != "2026-12-07T01:00:00Z" {
		t.Fatalf("the earliest open step's times: %v", first)
	}
	// Grid 7's worker reads only the case in grid 7.
	code, body = a.do(t, "GET", path, a.worker7, "", nil)
	d, _ = body["deadlines"].(map[string]any)
	if code != http.StatusOK || len(d) != 1 || d[fmt.Sprint(ids[0])] == nil {
		t.Fatalf("worker7: %d %v", code, body)
	}
	for _, c := range []struct {
		path, token string
		code        int
	}{
		{"/v1/cases/deadlines?ids=1,x", a.dispatcher, http.StatusBadRequest},
		{"/v1/cases/deadlines?ids=0", a.dispatcher, http.StatusBadRequest},
		{path, "", http.StatusUnauthorized},
	} {
		if code, body := a.do(t, "GET", c.path, c.token, "", nil); code != c.code {
			t.Fatalf("GET %s: %d %v, want %d", c.path, code, body, c.code)
		}
	}
	if code, body := a.do(t, "GET", "/v1/cases/deadlines", a.dispatcher, "", nil); code != http.StatusOK || len(body["deadlines"].(map[string]any)) != 0 {
		t.Fatalf("no ids: %d %v", code, body)
	}
}
