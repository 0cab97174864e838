package accounts_test

import (
	"strings"
	"testing"
	"time"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
)

func grid(role accounts.Role, id int64) accounts.Grant {
	return accounts.Grant{Role: role, Scope: accounts.Scope{Kind: accounts.ScopeGrid, Grid: id}}
}

// The chains below are of the fixture district: district 1 > subdistrict 2 > community 4 > grid 7.
var (
	chainGrid7      = []int64{7, 4, 2, 1}
	chainCommunity4 = []int64{4, 2, 1}
	chainSub2       = []int64{2, 1}
	chainCommunity5 = []int64{5, 2, 1}
)

func TestCan(t *testing.T) {
	planner := accounts.NewPrincipal(1, "p", 0, []accounts.Grant{grid(accounts.Planner, 4)}, accounts.AllPermissions)
	admin := accounts.NewPrincipal(2, "a", 0, []accounts.Grant{{Role: accounts.Administrator, Scope: accounts.Scope{Kind: accounts.ScopeAll}}}, accounts.AllPermissions)
	adminToken := accounts.NewPrincipal(2, "a", 0, admin.Grants, accounts.AllPermissions&^accounts.AccountsManage)
	handler := accounts.NewPrincipal(3, "h", 0, []accounts.Grant{{Role: accounts.DepartmentHandler, Scope: accounts.Scope{Kind: accounts.ScopeDepartment, Department: "城管"}}}, accounts.AllPermissions)
	var anonymous *accounts.Principal
	cases := []struct {
		name  string
		p     *accounts.Principal
		perm  accounts.Permission
		chain []int64
		want  bool
	}{
		{"planner, a grid under the scope", planner, accounts.GridsWrite, chainGrid7, true},
		{"planner, the scope itself", planner, accounts.GridsWrite, chainCommunity4, true},
		{"planner, the parent", planner, accounts.GridsWrite, chainSub2, false},
		{"planner, a sibling", planner, accounts.GridsWrite, chainCommunity5, false},
		{"planner, everything", planner, accounts.GridsWrite, nil, false},
		{"planner, a permission the role lacks", planner, accounts.AuditRead, chainGrid7, false},
		{"administrator, anywhere", admin, accounts.AccountsManage, nil, true},
		{"a token without accounts.manage", adminToken, accounts.AccountsManage, nil, false},
		{"the same token, another permission", adminToken, accounts.GridsWrite, chainGrid7, true},
		{"department handler on a grid", handler, accounts.CasesHandle, chainGrid7, false},
		{"anonymous", anonymous, accounts.PeopleRead, chainGrid7, false},
	}
	for _, c := range cases {
		if got := c.p.Can(c.perm, c.chain); got != c.want {
			t.Errorf("%s: Can = %v, want %v", c.name, got, c.want)
		}
	}
	if !handler.CanDepartment(accounts.CasesHandle, "城管") || handler.CanDepartment(accounts.CasesHandle, "住建") {
		t.Error("department handler: wrong department answer")
	}
	if every, roots := planner.Reach(accounts.GridsWrite); every || len(roots) != 1 || roots[0] != 4 {
		t.Errorf("planner's reach: %v %v", every, roots)
	}
	a := planner.Actor("192.0.2.1", "r1")
	if every, roots := a.Reaches("grids.write"); every || len(roots) != 1 {
		t.Errorf("actor's reach: %v %v", every, roots)
	}
	if every, _ := anonymous.Actor("", "").Reaches("grids.write"); every {
		t.Error("an anonymous actor reaches everywhere")
	}
}

func TestGrantValidate(t *testing.T) {
	bad := []accounts.Grant{
		{Role: "chief", Scope: accounts.Scope{Kind: accounts.ScopeAll}},
		grid(accounts.Administrator, 4),
		{Role: accounts.DepartmentHandler, Scope: accounts.Scope{Kind: accounts.ScopeAll}},
		{Role: accounts.Planner, Scope: accounts.Scope{Kind: accounts.ScopeDepartment, Department: "x"}},
		{Role: accounts.Planner, Scope: accounts.Scope{Kind: accounts.ScopeGrid}},
	}
	for _, g := range bad {
		if err := g.Validate(); gridline.ErrorCode(err) != gridline.EInvalid {
			t.Errorf("%s on %s: %v, want invalid", g.Role, g.Scope, err)
		}
	}
	if err := grid(accounts.Planner, 4).Validate(); err != nil {
		t.Error(err)
	}
}

func TestPasswords(t *testing.T) {
	for _, c := range []struct{ user, pw, want string }{
		{"li", "short", "at least 10"},
		{"li", "password1234", "commonest"},
		{"li", "WOAINI1314", "commonest"},
		{"zhang.wei", "zhang.wei.2026!", "contains the username"},
		{"li", "三个不相干的词语组成", ""},
		{"li", "tea kettle on the balcony", ""},
	} {
		err := accounts.CheckPassword(c.user, c.pw)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%q: %v, want %q", c.pw, err, c.want)
		}
	}
	h, err := accounts.HashPassword("tea kettle on the balcony")
	if err != nil || !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q %v", h, err)
	}
	if !accounts.VerifyPassword(h, "tea kettle on the balcony") || accounts.VerifyPassword(h, "tea kettle on the balcony ") || accounts.VerifyPassword("garbage", "x") {
		t.Fatal("verify")
	}
}

func TestLimiter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := accounts.NewLimiter(2, 5, 10*time.Minute, func() time.Time { return now })
	for i := 0; i < 2; i++ {
		if err := l.Allow("k", "k"); err != nil {
			t.Fatalf("free attempt %d: %v", i, err)
		}
		l.Fail("k")
	}
	if err := l.Allow("k", "k"); gridline.ErrorCode(err) != gridline.ETooMany {
		t.Fatalf("after the free failures: %v", err)
	}
	now = now.Add(time.Second)
	if err := l.Allow("k", "k"); err != nil {
		t.Fatalf("after waiting 1 s: %v", err)
	}
	l.Fail("k")
	now = now.Add(time.Second)
	if err := l.Allow("k", "k"); err == nil {
		t.Fatal("the wait did not double")
	}
	now = now.Add(time.Second)
	l.Fail("k")
	now = now.Add(time.Hour) // the failures are forgotten after the lock time
	l.Fail("k")
	if err := l.Allow("k", "k"); err != nil {
		t.Fatalf("old failures counted: %v", err)
	}
	l.Succeed("k")
	if err := l.Allow("other", "other"); err != nil {
		t.Fatal(err)
	}
}

func TestCSRF(t *testing.T) {
	tok := accounts.CSRFToken("gls_abc")
	if !accounts.CheckCSRF("gls_abc", tok) || accounts.CheckCSRF("gls_abd", tok) || accounts.CheckCSRF("gls_abc", "") {
		t.Fatal("CheckCSRF")
	}
}

// BenchmarkCan is the permission check a request pays: a principal with three grants asked about
// a grid four levels deep (the grant that answers is the last one). It must stay under 5 µs.
func BenchmarkCan(b *testing.B) {
	p := accounts.NewPrincipal(1, "p", 0, []accounts.Grant{
		grid(accounts.Viewer, 9), grid(accounts.Supervisor, 6), grid(accounts.Planner, 4),
	}, accounts.AllPermissions)
	b.ReportAllocs()
	for b.Loop() {
		if !p.Can(accounts.GridsWrite, chainGrid7) {
			b.Fatal("refused")
		}
	}
}

// BenchmarkCanSomewhere is the request-level check of an import or the audit log.
func BenchmarkCanSomewhere(b *testing.B) {
	p := accounts.NewPrincipal(1, "p", 0, []accounts.Grant{
		grid(accounts.Viewer, 9), grid(accounts.Supervisor, 6), grid(accounts.Planner, 4),
	}, accounts.AllPermissions)
	b.ReportAllocs()
	for b.Loop() {
		if !p.CanSomewhere(accounts.GridsWrite) {
			b.Fatal("refused")
		}
	}
}
