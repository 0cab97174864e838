package open311

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"gridline.dev/gridline"
	"gridline.dev/gridline/accounts"
	"gridline.dev/gridline/dispatch"
)

// Intake is dispatch's intake, as *dispatch.Engine offers it.
type Intake interface {
	Report(ctx context.Context, who *accounts.Principal, r dispatch.Report) (*dispatch.Intake, error)
}

// Store is what Open311 reads (store.DB implements it).
type Store interface {
	Categories(ctx context.Context) ([]dispatch.Category, error)
	Open311Requests(ctx context.Context, q Query) ([]Case, error)
}

// Engine is Cases over dispatch's intake and the store.
type Engine struct {
	intake Intake
	store  Store
}

// NewEngine makes the case engine Open311 files and reads through.
func NewEngine(in Intake, st Store) *Engine { return &Engine{intake: in, store: st} }

// Categories is the active incident categories of the catalogue.
func (e *Engine) Categories(ctx context.Context) ([]Category, error) {
	cats, err := e.store.Categories(ctx)
	if err != nil {
		return nil, err
	}
	out := []Category{}
	for _, c := range cats {
		if !c.Active {
			continue
		}
		class := c.ClassName
		if class == "" {
			class = c.ClassCode
		}
		out = append(out, Category{Code: c.Code, Name: c.Name, Class: class,
			Description: class + " / " + c.Name + " (" + c.Standard + " " + c.Code + ")"})
	}
	return out, nil
}

// File files r through the intake with source open311, as who (the api_key's account), without
// asking who for cases.report at the place: the key is the integration's credential.
func (e *Engine) File(ctx context.Context, who *accounts.Principal, r Report) (string, error) {
	name := strings.TrimSpace(r.LastName + r.FirstName) // Chinese order: family name first
	rep := dispatch.Report{Source: dispatch.SourceOpen311, CategoryCode: r.ServiceCode,
		Urgency: dispatch.Urgency(r.Urgency), Description: r.Description, Address: r.AddressString,
		Reporter: dispatch.Reporter{Name: name, Phone: r.Phone, Email: r.Email}, Trusted: true}
	if r.Lon != nil && r.Lat != nil {
		rep.Lon, rep.Lat = *r.Lon, *r.Lat // the point wins; address_string is kept as text
	} else if r.AddressString != "" {
		rep.ByAddress = true // placed by the address register, as POST /v1/cases
	} else {
		return "", &Errors{Status: 400, List: []Error{{Code: 400, Description: "address_id alone cannot be placed by this jurisdiction: send address_string (the address as written) or lat and long (WGS84)"}}}
	}
	in, err := e.intake.Report(ctx, who, rep)
	if err != nil {
		return "", placeError(err)
	}
	return in.Case.Number, nil
}

// Find is the cases q selects.
func (e *Engine) Find(ctx context.Context, q Query) ([]Case, error) {
	return e.store.Open311Requests(ctx, q)
}

// placeError is an address_string the register cannot place, in Open311's terms (400, the
// candidates named in the description); any other error as it is.
func placeError(err error) error {
	var ge *gridline.Error
	if !errors.As(err, &ge) || ge.Details["field"] != "address" || ge.Details["why"] == nil {
		return err
	}
	return &Errors{Status: 400, List: []Error{{Code: 400, Description: fmt.Sprintf("address_string cannot be placed: %v; send lat and long (WGS84), or a fuller address_string (road and door number, building, unit)", ge.Details["why"])}}}
}
