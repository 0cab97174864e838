// Package open311 is gridline's Open311 GeoReport v2 interface (http://wiki.open311.org/GeoReport_v2):
// the service list from the case catalogue, service definitions, service requests as cases, and
// the wire formats (XML, which the specification requires, and JSON by its Spark convention). It
// parses and checks what clients send, turns cases into service requests, and encodes answers
// and errors in Open311's own shapes; the cases themselves come and go through the Cases
// interface it declares (implemented over dispatch's intake and the store, wired in cmd).
//
// Where the specification leaves a question open (open311/open311.github.io issues #6, #23, #32):
// jurisdiction_id is accepted on every call and must name this jurisdiction when given; every
// response field is present, empty when there is nothing to say (null in JSON for numbers and
// times); service definitions use the attributes container.
package open311

import (
	"context"
	"time"

	"gridline.dev/gridline/accounts"
)

// Specification is the GeoReport v2 specification's URL, as discovery names it.
const Specification = "http://wiki.open311.org/GeoReport_v2"

// Category is a case category as the catalogue has it.
type Category struct {
	Code        string // the catalogue's code (4-digit legacy or 5-digit GB/T 47678.5)
	Name        string
	Class       string // the class's name: the service's group
	Description string
	Keywords    []string
}

// Report is a service request to be filed as a case through the same intake as POST /v1/cases.
type Report struct {
	ServiceCode   string
	Lon, Lat      *float64 // WGS84; nil when the client gave only an address
	AddressString string
	AddressID     string
	Description   string
	Urgency       string // "" (the catalogue's default), normal or urgent
	Email         string
	Phone         string
	FirstName     string
	LastName      string
	DeviceID      string
	AccountID     string
	MediaURL      string
	Attributes    map[string][]string
}

// Case is a case as a service request shows it.
type Case struct {
	ID          string // the service_request_id
	ServiceCode string
	ServiceName string
	Description string
	State       string // the case's state in the loop (closed, voided, evaluated ... are Open311's closed)
	StatusNotes string // the reason of its latest event, if any
	Agency      string // the party it is with
	ReportedAt  time.Time
	UpdatedAt   time.Time
	ExpectedAt  *time.Time // the current step's due time, if one runs
	Address     string
	Lon, Lat    *float64
	MediaURL    string
}

// Query selects service requests (GET requests).
type Query struct {
	IDs      []string // overrides every other argument
	Codes    []string
	From, To time.Time // requested_datetime in [From, To]
	Status   []string  // open, closed
	Limit    int
	// Sources are the case sources shown (PublicSources: what the public reported).
	Sources []string
}

// PublicSources are the case sources Open311 shows: reports that came from the public, through
// Open311 or otherwise. Cases staff found (patrol, camera, a superior's assignment) and hotline
// calls stay in /v1/cases, behind cases.read.
var PublicSources = []string{"open311", "public"}

// Cases is what Open311 needs of the case engine.
type Cases interface {
	// Categories is the catalogue, in its order.
	Categories(ctx context.Context) ([]Category, error)
	// File files r as a case with source open311, reported by who (the api_key's account; the
	// audit actor is in ctx), and returns its service_request_id.
	File(ctx context.Context, who *accounts.Principal, r Report) (string, error)
	// Find is the cases q selects, newest first, at most q.Limit.
	Find(ctx context.Context, q Query) ([]Case, error)
}

// closedStates are the case states Open311 calls closed.
var closedStates = map[string]bool{"closed": true, "voided": true, "evaluated": true, "merged": true}

// Status is Open311's status of a case in state: open or closed.
func Status(state string) string {
	if closedStates[state] {
		return "closed"
	}
	return "open"
}

// ClosedStates lists the case states that Open311's status=closed selects.
func ClosedStates() []string { return []string{"closed", "evaluated", "merged", "voided"} }
