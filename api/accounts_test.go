package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/importers"
	"gridline.dev/gridline/internal/testenv"
	"gridline.dev/gridline/resolve"
	"gridline.dev/gridline/store"
	"gridline.dev/gridline/store/storetest"
	"gridline.dev/gridline/tiles"
)

// fakeClock is a settable clock for the sign-in limiter and sessions.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// accountServer is the API over the fixture database with accounts on a fake clock.
func accountServer(t *testing.T) (*httptest.Server, *store.DB, *fakeClock) {
	t.Helper()
	db := storetest.New(t)
	if err := db.Load(context.Background(), storetest.Fixture(), store.DefaultTolerance); err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{now: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	res := resolve.NewIncremental(fixtureStore{}, gridline.SystemClock{}, shanghai(t))
	srv := wire(db, res, nil, Options{Accounts: accounts.New(db, accounts.Options{Now: clock.Now})}, tiles.Options{}, importers.Config{})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts, db, clock
}

// call sends a JSON request with an optional token and extra headers, through client (nil: the
// default), and returns the status and the decoded body.
func call(t *testing.T, client *http.Client, method, url, token string, body any, headers ...string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func counts(t *testing.T, db *store.DB) string {
	t.Helper()
	var g, a, l int
	err := storetest.Raw(t, db).QueryRow(context.Background(), `SELECT (SELECT count(*) FROM grids), (SELECT count(*) FROM assignments), (SELECT count(*) FROM audit_log)`).Scan(&g, &a, &l)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d grid versions, %d assignments, %d audit rows", g, a, l)
}

func uploadCSV(t *testing.T, url, token string, fields map[string]string, content string) (int, map[string]any) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	w, _ := mw.CreateFormFile("file", "list.csv")
	w.Write([]byte(content))
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, url, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// TestPermissionTable: each role, granted on community 410103001001 (or on everything, or on a
// department), tries each write on grids inside, at, above, beside and away from its scope,
// through HTTP. A refusal is 403 forbidden (401 without a token) and writes nothing, not even an
// audit row; an allowed write writes its change and one audit row.
func TestPermissionTable(t *testing.T) {
	testenv.NeedCommands(t, "gdal-bin", "ogr2ogr")
	ts, db, _ := accountServer(t)
	const community = 4 // 410103001001 淮北街社区, under subdistrict 2 (410103001)
	targets := []struct {
		name, code, level, parent string
		inside                    bool
	}{
		{"the scope itself", "410103001001", "community", "410103001", true},
		{"child", "410103001001002", "grid", "410103001001", true},
		{"parent", "410103001", "subdistrict", "410103", false},
		{"sibling", "410103001002", "community", "410103001", false},
		{"outside", "410103002001", "community", "410103002", false},
	}
	type subject struct {
		role  accounts.Role
		grant accounts.Grant
	}
	var subjects []subject
	for _, r := range []accounts.Role{accounts.Viewer, accounts.Planner, accounts.Reviewer, accounts.Dispatcher, accounts.GridWorker, accounts.Supervisor} {
		subjects = append(subjects, subject{r, storetest.Under(r, community)})
	}
	subjects = append(subjects,
		subject{accounts.Administrator, storetest.Everywhere(accounts.Administrator)},
		subject{accounts.DepartmentHandler, accounts.Grant{Role: accounts.DepartmentHandler, Scope: accounts.Scope{Kind: accounts.ScopeDepartment, Department: "城管"}}})
	actions := []struct {
		name string
		perm accounts.Permission
		what string
		list func(i int, code, level, parent string) string
	}{
		{"rename by division list", accounts.GridsWrite, "divisions", func(i int, code, level, parent string) string {
			return fmt.Sprintf("code,name,level,parent_code\n%s,改名%d,%s,%s\n", code, i, level, parent)
		}},
		{"post by staff list", accounts.StaffWrite, "staff", func(i int, code, level, parent string) string {
			return fmt.Sprintf("grid_code,role,name,phone,valid_from\n%s,full_time_worker,员工%d,138%08d,2025-01-01\n", code, i, i)
		}},
	}
	i := 0
	for si, sub := range subjects {
		token := storetest.Token(t, db, fmt.Sprintf("user%d", si), sub.grant)
		for _, act := range actions {
			for _, tg := range targets {
				i++
				name := fmt.Sprintf("%s/%s/%s", sub.role, act.name, tg.name)
				allowed := sub.role.Permissions()&act.perm != 0 && (tg.inside || sub.grant.Scope.Kind == accounts.ScopeAll)
				before := counts(t, db)
				from := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i).Format("2006-01-02")
				status, body := uploadCSV(t, ts.URL+"/v1/imports", token, map[string]string{"what": act.what, "apply": "true", "from": from},
					act.list(i, tg.code, tg.level, tg.parent))
				after := counts(t, db)
				if allowed {
					if status != 200 || body["applied"] != true {
						t.Errorf("%s: %d %v, want 200 applied", name, status, body)
					} else if after == before {
						t.Errorf("%s: allowed but nothing written (%s)", name, after)
					}
					continue
				}
				if status != 403 || errorCode(body) != "forbidden" {
					t.Errorf("%s: %d %v, want 403 forbidden", name, status, body)
				}
				if after != before {
					t.Errorf("%s: refused, yet %s became %s", name, before, after)
				}
			}
		}
	}
	// Anonymous: 401 for both.
	before := counts(t, db)
	if status, body := uploadCSV(t, ts.URL+"/v1/imports", "", map[string]string{"what": "staff", "apply": "true"}, "grid_code,role,name,phone,valid_from\n"); status != 401 || errorCode(body) != "unauthorized" {
		t.Errorf("anonymous: %d %v", status, body)
	}
	if after := counts(t, db); after != before {
		t.Errorf("anonymous: %s became %s", before, after)
	}
}

// signedIn is a browser: a client with a cookie jar, signed in as username.
func signIn(t *testing.T, base, username, password string) (*http.Client, int, map[string]any) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	status, body := call(t, c, http.MethodPost, base+"/v1/session", "", map[string]string{"username": username, "password": password})
	return c, status, body
}

func TestSignInOutAndCSRF(t *testing.T) {
	ts, db, _ := accountServer(t)
	storetest.Account(t, db, "admin2", storetest.Everywhere(accounts.Administrator))
	c, status, body := signIn(t, ts.URL, "admin2", storetest.Password)
	if status != 200 || body["signed_in"] != true || body["csrf_token"] == "" {
		t.Fatalf("sign in: %d %v", status, body)
	}
	csrf := body["csrf_token"].(string)
	// The cookie is HttpOnly and SameSite=Strict.
	resp, err := http.Post(ts.URL+"/v1/session", "application/json", strings.NewReader(`{"username":"admin2","password":"`+storetest.Password+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	set := resp.Header.Get("Set-Cookie")
	if !strings.Contains(set, "HttpOnly") || !strings.Contains(set, "SameSite=Strict") || strings.Contains(set, "Secure") {
		t.Fatalf("cookie over plain HTTP: %s", set)
	}
	if status, body := call(t, c, http.MethodGet, ts.URL+"/v1/session", "", nil); status != 200 || body["username"] != "admin2" || body["csrf_token"] != csrf {
		t.Fatalf("session: %d %v", status, body)
	}
	// A write with the cookie but without the CSRF token is refused, and writes nothing.
	before := counts(t, db)
	newUser := map[string]string{"username": "zhang.wei", "password": "a long enough passphrase", "name": "张伟"}
	if status, body := call(t, c, http.MethodPost, ts.URL+"/v1/accounts", "", newUser); status != 403 || !strings.Contains(fmt.Sprint(body), "X-CSRF-Token") {
		t.Fatalf("write without CSRF token: %d %v", status, body)
	}
	if status, _ := call(t, c, http.MethodPost, ts.URL+"/v1/accounts", "", newUser, "X-CSRF-Token", "wrong"); status != 403 {
		t.Fatalf("write with a wrong CSRF token: %d", status)
	}
	if after := counts(t, db); after != before {
		t.Fatalf("refused writes wrote: %s -> %s", before, after)
	}
	if status, body := call(t, c, http.MethodPost, ts.URL+"/v1/accounts", "", newUser, "X-CSRF-Token", csrf); status != 201 || body["username"] != "zhang.wei" {
		t.Fatalf("write with the CSRF token: %d %v", status, body)
	}
	// The password rules.
	for _, pw := range []string{"short", "password1234", "zhang.wei-rocks-2026"} {
		if status, _ := call(t, c, http.MethodPost, ts.URL+"/v1/accounts/zhang.wei/password", "", map[string]string{"password": pw}, "X-CSRF-Token", csrf); status != 400 {
			t.Errorf("password %q: %d, want 400", pw, status)
		}
	}
	// Sign out: the session ends, and the cookie no longer authenticates.
	if status, _ := call(t, c, http.MethodDelete, ts.URL+"/v1/session", "", nil, "X-CSRF-Token", csrf); status != 200 {
		t.Fatalf("sign out: %d", status)
	}
	if status, body := call(t, c, http.MethodGet, ts.URL+"/v1/session", "", nil); status != 200 || body["signed_in"] != false {
		t.Fatalf("after sign-out: %d %v", status, body)
	}
	if status, _ := call(t, c, http.MethodGet, ts.URL+"/v1/accounts", "", nil); status != 401 {
		t.Fatalf("listing accounts after sign-out: %d, want 401", status)
	}
}

func TestLockout(t *testing.T) {
	ts, db, clock := accountServer(t)
	storetest.Account(t, db, "li.na", storetest.Everywhere(accounts.Viewer))
	// Three failures cost nothing; the fourth attempt must wait.
	for i := 0; i < 3; i++ {
		if _, status, _ := signIn(t, ts.URL, "li.na", "wrong password!"); status != 401 {
			t.Fatalf("failure %d: %d", i+1, status)
		}
	}
	if _, status, body := signIn(t, ts.URL, "li.na", storetest.Password); status != 429 || errorCode(body) != "too_many_attempts" {
		t.Fatalf("right password right after three failures: %d %v, want 429", status, body)
	}
	// Waiting lets one more attempt through; failing keeps doubling the wait, until the lock.
	for i := 0; i < 7; i++ {
		clock.Add(time.Hour / 4)
		if _, status, _ := signIn(t, ts.URL, "li.na", "wrong password!"); status != 401 {
			t.Fatalf("failure %d after waiting: %d", i+4, status)
		}
	}
	clock.Add(10 * time.Minute)
	if _, status, body := signIn(t, ts.URL, "li.na", storetest.Password); status != 429 || !strings.Contains(fmt.Sprint(body), "locked") {
		t.Fatalf("after ten failures: %d %v, want locked", status, body)
	}
	// Another account from the same address is not locked (the address allows more failures).
	storetest.Account(t, db, "wang.fang", storetest.Everywhere(accounts.Viewer))
	if _, status, _ := signIn(t, ts.URL, "wang.fang", storetest.Password); status != 200 {
		t.Fatalf("another account: %d", status)
	}
	// The lock runs out.
	clock.Add(16 * time.Minute)
	if _, status, body := signIn(t, ts.URL, "li.na", storetest.Password); status != 200 {
		t.Fatalf("after the lock: %d %v", status, body)
	}
}

func TestTokenRevocationAndDisabling(t *testing.T) {
	ts, db, _ := accountServer(t)
	ctx := context.Background()
	a := storetest.Account(t, db, "ops", storetest.Everywhere(accounts.Administrator))
	plain, err := db.CreateToken(ctx, a.ID, "script", false)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := db.CreateToken(ctx, a.ID, "admin script", true)
	if err != nil {
		t.Fatal(err)
	}
	// A token carries at most its account's permissions: accounts.manage only as an admin token.
	if status, body := call(t, nil, http.MethodGet, ts.URL+"/v1/accounts", plain, nil); status != 403 || errorCode(body) != "forbidden" {
		t.Fatalf("plain token listing accounts: %d %v, want 403", status, body)
	}
	if status, _ := call(t, nil, http.MethodGet, ts.URL+"/v1/audit", plain, nil); status != 200 {
		t.Fatalf("plain token reading the audit log: %d", status)
	}
	if status, _ := call(t, nil, http.MethodGet, ts.URL+"/v1/accounts", admin, nil); status != 200 {
		t.Fatalf("admin token listing accounts: %d", status)
	}
	// Revoked: refused from the next request on.
	toks, err := db.Tokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range toks {
		if tk.Name == "script" {
			if err := db.RevokeToken(ctx, tk.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	if status, _ := call(t, nil, http.MethodGet, ts.URL+"/v1/audit", plain, nil); status != 401 {
		t.Fatalf("revoked token: %d, want 401", status)
	}
	// A disabled account's tokens and sessions stop working. (Another administrator must remain.)
	storetest.Account(t, db, "boss", storetest.Everywhere(accounts.Administrator))
	c, status, body := signIn(t, ts.URL, "ops", storetest.Password)
	if status != 200 {
		t.Fatalf("sign in: %d %v", status, body)
	}
	if status, _ := call(t, nil, http.MethodPost, ts.URL+"/v1/accounts/ops/disable", admin, nil); status != 200 {
		t.Fatalf("disable: %d", status)
	}
	if status, _ := call(t, nil, http.MethodGet, ts.URL+"/v1/audit", admin, nil); status != 401 {
		t.Fatalf("a disabled account's token: %d, want 401", status)
	}
	if status, body := call(t, c, http.MethodGet, ts.URL+"/v1/session", "", nil); status != 200 || body["signed_in"] != false {
		t.Fatalf("a disabled account's session: %d %v", status, body)
	}
	if _, status, _ := signIn(t, ts.URL, "ops", storetest.Password); status != 401 {
		t.Fatalf("signing in to a disabled account: %d", status)
	}
	// The last administrator cannot be disabled.
	bossTok, _ := db.AccountByUsername(ctx, "boss")
	bt, _ := db.CreateToken(ctx, bossTok.ID, "boss", true)
	if status, body := call(t, nil, http.MethodPost, ts.URL+"/v1/accounts/boss/disable", bt, nil); status != 409 {
		t.Fatalf("disabling the last administrator: %d %v, want 409", status, body)
	}
}

// TestAuditEntries: every write through the API leaves a row naming who, from where and with
// which request id; a supervisor reads the rows of their scope only.
func TestAuditEntries(t *testing.T) {
	testenv.NeedCommands(t, "gdal-bin", "ogr2ogr")
	ts, db, _ := accountServer(t)
	ctx := context.Background()
	a := storetest.Account(t, db, "root", storetest.Everywhere(accounts.Administrator))
	tok, err := db.CreateToken(ctx, a.ID, "root", true)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		action string
		do     func() int
	}{
		{"account.create", func() int {
			s, _ := call(t, nil, http.MethodPost, ts.URL+"/v1/accounts", tok, map[string]any{"username": "sup", "password": "watching over the grids", "name": "监督员"}, "X-Request-Id", "req-account.create")
			return s
		}},
		{"grant.create", func() int {
			s, _ := call(t, nil, http.MethodPost, ts.URL+"/v1/grants", tok, map[string]any{"username": "sup", "role": "supervisor", "scope": "grid:410103001002"}, "X-Request-Id", "req-grant.create")
			return s
		}},
		{"account.password", func() int {
			s, _ := call(t, nil, http.MethodPost, ts.URL+"/v1/accounts/sup/password", tok, map[string]any{"password": "a new long passphrase"}, "X-Request-Id", "req-account.password")
			return s
		}},
		{"divisions.import", func() int {
			s, _ := uploadCSV(t, ts.URL+"/v1/imports", tok, map[string]string{"what": "divisions", "apply": "true", "from": "2025-06-01"}, "code,name,level,parent_code\n410103001002,兴华街新社区,community,410103001\n")
			return s
		}},
		{"staff.import", func() int {
			s, _ := uploadCSV(t, ts.URL+"/v1/imports", tok, map[string]string{"what": "staff", "apply": "true"}, "grid_code,role,name,phone,valid_from\n410103002001001,full_time_worker,赵六,13900000000,2025-01-01\n")
			return s
		}},
	}
	for _, st := range steps {
		if status := st.do(); status != 200 && status != 201 {
			t.Fatalf("%s: %d", st.action, status)
		}
	}
	status, body := call(t, nil, http.MethodGet, ts.URL+"/v1/audit?username=root&limit=50", tok, nil)
	if status != 200 {
		t.Fatalf("audit: %d %v", status, body)
	}
	entries := body["entries"].([]any)
	seen := map[string]map[string]any{}
	for _, e := range entries {
		m := e.(map[string]any)
		seen[m["action"].(string)] = m
	}
	for _, st := range steps {
		e := seen[st.action]
		if e == nil {
			t.Errorf("no audit row for %s (rows: %v)", st.action, entries)
			continue
		}
		if e["address"] != "127.0.0.1" || e["token_id"] == nil {
			t.Errorf("%s: row %v lacks who or where", st.action, e)
		}
		if strings.HasPrefix(st.action, "account") || strings.HasPrefix(st.action, "grant") {
			if e["request_id"] != "req-"+st.action {
				t.Errorf("%s: request id %v", st.action, e["request_id"])
			}
		}
	}
	if seen["staff.import"]["after"] == nil || !strings.Contains(fmt.Sprint(seen["staff.import"]["after"]), "赵六") {
		t.Errorf("staff import row without its after values: %v", seen["staff.import"])
	}
	// The supervisor of community 410103001002 sees its rename and its own grant, not the staff
	// post in the other subdistrict.
	c, status, body := signIn(t, ts.URL, "sup", "a new long passphrase")
	if status != 200 {
		t.Fatalf("sign in: %d %v", status, body)
	}
	status, body = call(t, c, http.MethodGet, ts.URL+"/v1/audit", "", nil)
	if status != 200 {
		t.Fatalf("supervisor's audit: %d %v", status, body)
	}
	got := map[string]bool{}
	for _, e := range body["entries"].([]any) {
		got[e.(map[string]any)["action"].(string)] = true
	}
	if !got["divisions.import"] || !got["grant.create"] || got["staff.import"] || got["account.create"] {
		t.Fatalf("supervisor sees %v", got)
	}
	if v, err := db.VerifyAudit(ctx); err != nil || v.BadID != 0 {
		t.Fatalf("verify: %+v %v", v, err)
	}
}
