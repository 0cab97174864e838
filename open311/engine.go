package open311

import (
	"context"
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
	if r.Lon == nil || r.Lat == nil {
		return "", gridline.Errorf(gridline.EInvalid, "lat and long are required by this jurisdiction: cases are routed by their point, and address_string or address_id alone cannot be placed yet")
	}
	name := strings.TrimSpace(r.LastName + r.FirstName) // Chinese order: family name first
	in, err := e.intake.Report(ctx, who, dispatch.Report{Source: dispatch.SourceOpen311, CategoryCode: r.ServiceCode,
		Urgency: dispatch.Urgency(r.Urgency), Description: r.Description, Address: r.AddressString, Lon: *r.Lon, Lat: *r.Lat,
		Reporter: dispatch.Reporter{Name: name, Phone: r.Phone, Email: r.Email}, Trusted: true})
	if err != nil {
		return "", err
	}
	return in.Case.Number, nil
}

// Find is the cases q selects.
func (e *Engine) Find(ctx context.Context, q Query) ([]Case, error) {
	return e.store.Open311Requests(ctx, q)
}
