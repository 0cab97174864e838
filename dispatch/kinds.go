package dispatch

import "gridline.dev/gridline/accounts"

// Kind is what an event does. Each transition kind is allowed from some states, to the roles
// that own it (Transitions).
type Kind string

const (
	KindReport           Kind = "report"            // the case arrives (first event)
	KindFile             Kind = "file"              // 立案
	KindVoid             Kind = "void"              // 作废
	KindMerge            Kind = "merge"             // merged into the open case it duplicates
	KindDispatch         Kind = "dispatch"          // 派遣 (again from dispatched: 改派)
	KindSign             Kind = "sign"              // 签收
	KindReturn           Kind = "return"            // 退回: not ours, with a reason
	KindHandle           Kind = "handle"            // 处置 done on site
	KindReportBack       Kind = "report_back"       // 反馈 with evidence
	KindVerify           Kind = "verify"            // 核查 passed
	KindRework           Kind = "rework"            // 返工: verification failed, back to the party
	KindClose            Kind = "close"             // 结案
	KindEvaluate         Kind = "evaluate"          // 评价
	KindRequestExtension Kind = "request_extension" // 延期 asked
	KindApproveExtension Kind = "approve_extension" // 延期 granted: the handling deadline moves
	KindRejectExtension  Kind = "reject_extension"
	KindPostpone         Kind = "postpone"    // 缓办/挂账: the clock stops
	KindResume           Kind = "resume"      // back from postponed: the clock runs again
	KindCoHandle         Kind = "co_handle"   // 协办 departments added to the lead
	KindSelfHandle       Kind = "self_handle" // 自处置: filed and closed at once by the grid worker, with evidence
	KindSupervise        Kind = "supervise"   // 督办 notice
	KindEscalate         Kind = "escalate"    // written by the escalation sweeper (system)
	KindNeighbour        Kind = "near_boundary_notice"
)

// Owner is who may make a transition: the permission, and on what it is checked.
type Owner int

const (
	OwnerGrid     Owner = iota // the permission on the case's grid chain
	OwnerParty                 // the case's party: its department (CanDepartment) or its grid chain
	OwnerReporter              // the permission on the grid chain (grid worker who reported it)
)

// Transition is one allowed kind: from which states, to which state (empty: stays), by whom.
type Transition struct {
	Kind  Kind
	From  []State
	To    State // "" keeps the state (extensions, co-handling, supervision); resume goes back
	Perms []accounts.Permission
	Owner Owner
	// NeedsReason: a reason is required (return, void, rework, postpone, extension, supervise).
	NeedsReason bool
}

var active = []State{Dispatched, SignedFor, Handled}

// Transitions is the state machine: every transition kind a client may post.
var Transitions = map[Kind]Transition{
	KindFile:             {KindFile, []State{Reported}, Filed, []accounts.Permission{accounts.CasesDispatch}, OwnerGrid, false},
	KindVoid:             {KindVoid, []State{Reported}, Voided, []accounts.Permission{accounts.CasesDispatch}, OwnerGrid, true},
	KindMerge:            {KindMerge, []State{Reported, Filed, Returned}, Merged, []accounts.Permission{accounts.CasesDispatch}, OwnerGrid, false},
	KindDispatch:         {KindDispatch, []State{Filed, Returned, Dispatched}, Dispatched, []accounts.Permission{accounts.CasesDispatch}, OwnerGrid, false},
	KindSign:             {KindSign, []State{Dispatched}, SignedFor, []accounts.Permission{accounts.CasesHandle}, OwnerParty, false},
	KindReturn:           {KindReturn, []State{Dispatched, SignedFor}, Returned, []accounts.Permission{accounts.CasesHandle}, OwnerParty, true},
	KindHandle:           {KindHandle, []State{SignedFor}, Handled, []accounts.Permission{accounts.CasesHandle}, OwnerParty, false},
	KindReportBack:       {KindReportBack, []State{SignedFor, Handled}, ReportedBack, []accounts.Permission{accounts.CasesHandle}, OwnerParty, false},
	KindVerify:           {KindVerify, []State{ReportedBack}, Verified, []accounts.Permission{accounts.CasesReport, accounts.CasesDispatch}, OwnerGrid, false},
	KindRework:           {KindRework, []State{ReportedBack, Verified}, SignedFor, []accounts.Permission{accounts.CasesReport, accounts.CasesDispatch}, OwnerGrid, true},
	KindClose:            {KindClose, []State{Verified}, Closed, []accounts.Permission{accounts.CasesDispatch}, OwnerGrid, false},
	KindEvaluate:         {KindEvaluate, []State{Closed}, Evaluated, []accounts.Permission{accounts.CasesSupervise, accounts.CasesDispatch}, OwnerGrid, false},
	KindRequestExtension: {KindRequestExtension, active, "", []accounts.Permission{accounts.CasesHandle}, OwnerParty, true},
	KindApproveExtension: {KindApproveExtension, active, "", []accounts.Permission{accounts.CasesDispatch, accounts.CasesSupervise}, OwnerGrid, false},
	KindRejectExtension:  {KindRejectExtension, active, "", []accounts.Permission{accounts.CasesDispatch, accounts.CasesSupervise}, OwnerGrid, true},
	KindPostpone:         {KindPostpone, active, Postponed, []accounts.Permission{accounts.CasesDispatch, accounts.CasesSupervise}, OwnerGrid, true},
	KindResume:           {KindResume, []State{Postponed}, "", []accounts.Permission{accounts.CasesDispatch, accounts.CasesSupervise}, OwnerGrid, false},
	KindCoHandle:         {KindCoHandle, []State{Filed, Returned, Dispatched, SignedFor, Handled}, "", []accounts.Permission{accounts.CasesDispatch}, OwnerGrid, false},
	KindSelfHandle:       {KindSelfHandle, []State{Reported}, Closed, []accounts.Permission{accounts.CasesReport}, OwnerReporter, false},
	KindSupervise:        {KindSupervise, []State{Filed, Dispatched, SignedFor, Returned, Handled, ReportedBack, Verified, Postponed}, "", []accounts.Permission{accounts.CasesSupervise}, OwnerGrid, true},
}
