// Package accounts is who may do what where: accounts and their passwords, sign-in sessions, API
// tokens, roles and the grants of a role on a scope, and the permission check every request goes
// through. It knows nothing of HTTP or SQL: it declares the few store methods it needs (Store).
package accounts

import (
	"fmt"
	"slices"
	"strings"

	"gridline.dev/gridline"
)

// Permission is one thing a request may do. A role is a named set of them (roles below); the
// names are what docs/api.md lists and what gridline.Actor.Reach is asked about.
type Permission uint32

const (
	PeopleRead     Permission = 1 << iota // see staff's names and phone numbers in full
	GridsExport                           // download grids as files (GET /v1/exports)
	GridsWrite                            // change grids: imports of grids and division lists, later drafts
	StaffWrite                            // change who holds which post: staff list imports
	DraftsReview                          // approve or reject a planner's draft (the editing issue)
	CasesRead                             // see cases (the dispatch issue)
	CasesReport                           // report a case, sign for one in one's grid
	CasesDispatch                         // accept and dispatch cases
	CasesHandle                           // work and report back on a dispatched case
	CasesSupervise                        // chase overdue cases, approve extensions
	AuditRead                             // read the audit log (GET /v1/audit)
	AccountsManage                        // accounts, grants and API tokens
)

var permissionNames = []struct {
	p    Permission
	name string
}{
	{PeopleRead, "people.read"}, {GridsExport, "grids.export"}, {GridsWrite, "grids.write"},
	{StaffWrite, "staff.write"}, {DraftsReview, "drafts.review"}, {CasesRead, "cases.read"},
	{CasesReport, "cases.report"}, {CasesDispatch, "cases.dispatch"}, {CasesHandle, "cases.handle"},
	{CasesSupervise, "cases.supervise"}, {AuditRead, "audit.read"}, {AccountsManage, "accounts.manage"},
}

// String is the permission's name, or the names of a set joined by commas.
func (p Permission) String() string {
	var names []string
	for _, pn := range permissionNames {
		if p&pn.p != 0 {
			names = append(names, pn.name)
		}
	}
	return strings.Join(names, ",")
}

// Names lists the permissions of a set by name.
func (p Permission) Names() []string {
	names := []string{}
	for _, pn := range permissionNames {
		if p&pn.p != 0 {
			names = append(names, pn.name)
		}
	}
	return names
}

// ParsePermission is the permission named name.
func ParsePermission(name string) (Permission, bool) {
	for _, pn := range permissionNames {
		if pn.name == name {
			return pn.p, true
		}
	}
	return 0, false
}

// Role is a permission role: a named set of permissions granted on a scope. It is not a staff
// post (gridline.Post): a grid worker's post says what they do in the grid; their role says what
// they may do in gridline.
type Role string

const (
	Viewer            Role = "viewer"
	Planner           Role = "planner"
	Reviewer          Role = "reviewer"
	Dispatcher        Role = "dispatcher"
	DepartmentHandler Role = "department_handler"
	GridWorker        Role = "grid_worker"
	Supervisor        Role = "supervisor"
	Administrator     Role = "administrator"
)

const viewing = PeopleRead | GridsExport

// roles is the one table from role to permissions (docs/api.md prints it).
var roles = map[Role]Permission{
	Viewer:            viewing,
	Planner:           viewing | GridsWrite,
	Reviewer:          viewing | DraftsReview,
	Dispatcher:        viewing | CasesRead | CasesDispatch,
	DepartmentHandler: CasesRead | CasesHandle,
	GridWorker:        viewing | CasesRead | CasesReport | CasesHandle,
	Supervisor:        viewing | StaffWrite | CasesRead | CasesSupervise | AuditRead,
	Administrator:     ^Permission(0),
}

// Roles lists the roles in the order docs and help print them.
func Roles() []Role {
	return []Role{Viewer, Planner, Reviewer, Dispatcher, DepartmentHandler, GridWorker, Supervisor, Administrator}
}

// Permissions is the role's set of permissions (none for an unknown role).
func (r Role) Permissions() Permission { return roles[r] }

// Validate says whether r is a role.
func (r Role) Validate() error {
	if _, ok := roles[r]; !ok {
		return gridline.Errorf(gridline.EInvalid, "role %q is not one of %s", r, joinRoles()).With("field", "role")
	}
	return nil
}

func joinRoles() string {
	var s []string
	for _, r := range Roles() {
		s = append(s, string(r))
	}
	return strings.Join(s, ", ")
}

// ScopeKind is what a scope covers.
type ScopeKind string

const (
	ScopeAll        ScopeKind = "all"        // every grid and every department
	ScopeGrid       ScopeKind = "grid"       // a grid and everything under it
	ScopeDepartment ScopeKind = "department" // one department's cases
)

// Scope is where a grant applies: everything, one grid subtree (a district, a subdistrict, a
// community or a single grid, named by the grid's identity so that a code change does not move
// it), or one department.
type Scope struct {
	Kind       ScopeKind `json:"kind"`
	Grid       int64     `json:"grid,omitempty"`
	Department string    `json:"department,omitempty"`
}

func (s Scope) String() string {
	switch s.Kind {
	case ScopeGrid:
		return fmt.Sprintf("grid:%d", s.Grid)
	case ScopeDepartment:
		return "department:" + s.Department
	}
	return string(s.Kind)
}

// Grant is a role on a scope, held by an account.
type Grant struct {
	ID        int64 `json:"id"`
	AccountID int64 `json:"account_id"`
	Role      Role  `json:"role"`
	Scope     Scope `json:"scope"`
}

// Validate checks the grant's role and that the scope suits it: an administrator's scope is
// everything (administering accounts has no subtree), a department handler's a department, every
// other role's a grid subtree or everything.
func (g Grant) Validate() error {
	if err := g.Role.Validate(); err != nil {
		return err
	}
	switch g.Scope.Kind {
	case ScopeAll:
		if g.Role == DepartmentHandler {
			return gridline.Errorf(gridline.EInvalid, "a department_handler is granted on one department: give the scope as department:CODE").With("field", "scope")
		}
	case ScopeGrid:
		if g.Scope.Grid <= 0 {
			return gridline.Errorf(gridline.EInvalid, "a grid scope names a grid: grid:ID or grid:CODE").With("field", "scope")
		}
		if g.Role == Administrator || g.Role == DepartmentHandler {
			return gridline.Errorf(gridline.EInvalid, "%s is not granted on a grid: an administrator's scope is all, a department_handler's a department", g.Role).With("field", "scope")
		}
	case ScopeDepartment:
		if g.Scope.Department == "" {
			return gridline.Errorf(gridline.EInvalid, "a department scope names a department: department:CODE").With("field", "scope")
		}
		if g.Role != DepartmentHandler && g.Role != Viewer {
			return gridline.Errorf(gridline.EInvalid, "%s is granted on grids, not on a department (only department_handler and viewer are)", g.Role).With("field", "scope")
		}
	default:
		return gridline.Errorf(gridline.EInvalid, "scope kind %q is not all, grid or department", g.Scope.Kind).With("field", "scope")
	}
	return nil
}

// Principal is an authenticated caller: an account with its grants, reached through a session
// or an API token. A nil *Principal is an anonymous caller and may do nothing that needs a grant.
type Principal struct {
	AccountID int64
	Username  string
	PersonID  int64
	SessionID int64 // the session the request carried, or 0
	TokenID   int64 // the API token the request carried, or 0
	Grants    []Grant
	// mask removes permissions the credential does not carry: a token that is not an admin token
	// carries its account's permissions except AccountsManage.
	mask Permission
}

// NewPrincipal makes a principal from an account's grants; mask limits what the credential carries
// (AllPermissions for a session).
func NewPrincipal(accountID int64, username string, personID int64, grants []Grant, mask Permission) *Principal {
	return &Principal{AccountID: accountID, Username: username, PersonID: personID, Grants: grants, mask: mask}
}

// AllPermissions is every permission.
const AllPermissions = ^Permission(0)

// Can reports whether p holds perm on the grid whose chain is given: the grid's identity first,
// then its parent's, up to the district (the chain a resolver or the store knows). An empty chain
// asks about everything: only a grant on all answers yes. This is the check every request goes
// through: no allocation, a few comparisons per grant.
func (p *Principal) Can(perm Permission, chain []int64) bool {
	if p == nil || p.mask&perm != perm {
		return false
	}
	for i := range p.Grants {
		g := &p.Grants[i]
		if roles[g.Role]&perm != perm {
			continue
		}
		switch g.Scope.Kind {
		case ScopeAll:
			return true
		case ScopeGrid:
			for _, id := range chain {
				if id == g.Scope.Grid {
					return true
				}
			}
		}
	}
	return false
}

// CanDepartment reports whether p holds perm on department code's cases.
func (p *Principal) CanDepartment(perm Permission, code string) bool {
	if p == nil || p.mask&perm != perm {
		return false
	}
	for _, g := range p.Grants {
		if roles[g.Role]&perm == perm && (g.Scope.Kind == ScopeAll || g.Scope.Kind == ScopeDepartment && g.Scope.Department == code) {
			return true
		}
	}
	return false
}

// CanSomewhere reports whether p holds perm on any scope: the request-level check of a write whose
// rows are checked again in the writing transaction (an import), and of a listing filtered to the
// caller's scope (the audit log).
func (p *Principal) CanSomewhere(perm Permission) bool {
	if p == nil || p.mask&perm != perm {
		return false
	}
	for _, g := range p.Grants {
		if roles[g.Role]&perm == perm {
			return true
		}
	}
	return false
}

// Reach is where p holds perm: everywhere, or within the grid subtrees rooted at roots.
func (p *Principal) Reach(perm Permission) (everywhere bool, roots []int64) {
	if p == nil || p.mask&perm != perm {
		return false, nil
	}
	for _, g := range p.Grants {
		if roles[g.Role]&perm != perm {
			continue
		}
		switch g.Scope.Kind {
		case ScopeAll:
			return true, nil
		case ScopeGrid:
			if !slices.Contains(roots, g.Scope.Grid) {
				roots = append(roots, g.Scope.Grid)
			}
		}
	}
	return false, roots
}

// Permissions is every permission p holds somewhere.
func (p *Principal) Permissions() Permission {
	if p == nil {
		return 0
	}
	var all Permission
	for _, g := range p.Grants {
		all |= roles[g.Role]
	}
	return all & p.mask
}

// Actor is p as the audit log records it, from address with request id requestID. Its Reach
// answers the store's in-transaction scope checks from p's grants.
func (p *Principal) Actor(address, requestID string) *gridline.Actor {
	a := &gridline.Actor{Address: address, RequestID: requestID}
	if p == nil {
		// Anonymous: reaches nothing. (Anonymous requests are refused before they write; this
		// makes sure that a handler that forgot its check still writes nothing.)
		a.Reach = func(string) (bool, []int64) { return false, nil }
		return a
	}
	a.AccountID, a.Username, a.TokenID, a.SessionID = p.AccountID, p.Username, p.TokenID, p.SessionID
	a.Reach = func(name string) (bool, []int64) {
		perm, ok := ParsePermission(name)
		if !ok {
			return false, nil
		}
		return p.Reach(perm)
	}
	return a
}

// Forbidden is the error for a refused request: what was refused, and what would allow it.
func Forbidden(perm Permission, what string) error {
	var with []string
	for _, r := range Roles() {
		if roles[r]&perm == perm {
			with = append(with, string(r))
		}
	}
	return gridline.Errorf(gridline.EForbidden, "%s needs the permission %s, which your grants do not give here: ask an administrator for one of the roles %s on a scope that covers it",
		what, perm, strings.Join(with, ", ")).With("permission", perm.String()).With("roles", with)
}
