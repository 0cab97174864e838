package dispatch

import (
	"fmt"
	"strings"
	"time"

	"gridline.dev/gridline"
	"gridline.dev/gridline/address"
)

// Addresses is the standard address register as intake reads it: its current matcher (the one
// GET /v1/resolve?address= uses; *address.Register implements it).
type Addresses interface {
	Matcher() *address.Matcher
}

// MaxAddressBytes is the longest address intake matches (as GET /v1/resolve?address=).
const MaxAddressBytes = 1024

// Placement is how a case's place was found when the report gave an address and no point: kept
// in the routing provenance ("place"), so that anyone can see which register row the case was
// routed by and how sure the match was.
type Placement struct {
	By         string            `json:"by"`   // "address"
	Text       string            `json:"text"` // the address as reported
	Label      string            `json:"label"`
	RegisterID int64             `json:"register_id,omitempty"` // the register row (0: a door interpolated along its road)
	Precision  address.Precision `json:"precision"`
	Confidence float64           `json:"confidence"`
	Threshold  float64           `json:"threshold"`
	Point      [2]float64        `json:"point"` // the row's point, WGS84
	Differs    []string          `json:"differs,omitempty"`
}

// Candidate is a place an address may be, as a refusal lists it.
type Candidate struct {
	Label      string            `json:"label"`
	RegisterID int64             `json:"register_id,omitempty"`
	Precision  address.Precision `json:"precision"`
	Confidence float64           `json:"confidence"`
	Lon        float64           `json:"lon"`
	Lat        float64           `json:"lat"`
}

func candidateOf(m *address.Match) Candidate {
	return Candidate{Label: m.Label, RegisterID: m.ID, Precision: m.Precision, Confidence: m.Confidence, Lon: m.Lon, Lat: m.Lat}
}

// placeReport finds the point of a report that gave an address and no point (ByAddress) in the
// address register as it stood on day, and sets r's point to it. Nil when r has a point. An
// address is placed only when the matcher resolves it to a door, building, unit or room at or
// above address.Threshold and no other place fits nearly as well; anything else is refused with
// the candidates found (a rule_violation, 422) and what to send instead.
func (e *Engine) placeReport(r *Report, day time.Time) (*Placement, error) {
	if !r.ByAddress {
		return nil, nil
	}
	const instead = "send lon and lat (any crs the resolver takes), or a fuller address (road and door number, building, unit)"
	text := strings.TrimSpace(r.Address)
	if text == "" {
		return nil, gridline.Errorf(gridline.EInvalidCoord, "the case has no place: send lon and lat, or an address the standard address register holds").With("field", "lon")
	}
	if e.opt.Addresses == nil {
		return nil, gridline.Errorf(gridline.ERule, "this server has no address register to place an address by: send lon and lat").With("field", "address")
	}
	if len(text) > MaxAddressBytes {
		return nil, gridline.Errorf(gridline.EInvalid, "the address is %d bytes long; an address placed by the register is at most %d bytes: send the address alone, or lon and lat", len(text), MaxAddressBytes).With("field", "address")
	}
	res := e.opt.Addresses.Matcher().Resolve(text, day)
	if !res.Resolved {
		why := "not found in the standard address register (" + res.Reason + ")"
		return nil, gridline.Errorf(gridline.ERule, "address %q cannot be placed: %s; %s", gridline.Excerpt(text), why, instead).
			With("field", "address").With("reason", "not_found").With("why", why).With("candidates", []Candidate{})
	}
	m := res.Best
	cands := []Candidate{candidateOf(m)}
	for i := range res.Alternatives {
		cands = append(cands, candidateOf(&res.Alternatives[i]))
	}
	refuse := func(reason, format string, args ...any) error {
		why := fmt.Sprintf(format, args...)
		return gridline.Errorf(gridline.ERule, "address %q cannot be placed: %s; %s", gridline.Excerpt(text), why, instead).
			With("field", "address").With("reason", reason).With("why", why).With("candidates", cands)
	}
	switch PlaceRefusal(res) {
	case "ambiguous":
		labels := make([]string, len(cands))
		for i, c := range cands {
			labels[i] = c.Label
		}
		return nil, refuse("ambiguous", "%d places in the register fit it nearly as well (%s)", len(cands), gridline.Excerpt(strings.Join(labels, "; ")))
	case "too_coarse":
		return nil, refuse("too_coarse", "the register places it only down to the %s (%s), not to a door or building, so its grid is not known", m.Precision, m.Label)
	case "low_confidence":
		return nil, refuse("low_confidence", "the best match, %s (%s), has confidence %.2f, under the %.2f routing needs (%s)", m.Label, m.Precision, m.Confidence, address.Threshold,
			strings.Join(m.Differs, "; "))
	}
	r.Lon, r.Lat = m.Lon, m.Lat
	return &Placement{By: "address", Text: text, Label: m.Label, RegisterID: m.ID, Precision: m.Precision, Confidence: m.Confidence,
		Threshold: address.Threshold, Point: [2]float64{m.Lon, m.Lat}, Differs: m.Differs}, nil
}

// PlaceRefusal is why intake does not place a case by the address match res: "" (it does),
// not_found, ambiguous, too_coarse (coarser than a door: its basic grid is not known) or
// low_confidence (under address.Threshold).
func PlaceRefusal(res *address.Result) string {
	switch {
	case !res.Resolved || res.Best == nil:
		return "not_found"
	case res.Ambiguous:
		return "ambiguous"
	case res.Best.Precision.Level() != gridline.LevelMicro:
		return "too_coarse"
	case res.Best.Confidence < address.Threshold:
		return "low_confidence"
	}
	return ""
}

// placed records p in rt: the placement, and a first step in words.
func placed(rt *Routing, p *Placement) {
	if p == nil {
		return
	}
	rt.Place = p
	step := fmt.Sprintf("placed by address: %q matched register row %d, %s (%s, confidence %.2f)", p.Text, p.RegisterID, p.Label, p.Precision, p.Confidence)
	if p.RegisterID == 0 {
		step = fmt.Sprintf("placed by address: %q matched %s (%s, confidence %.2f)", p.Text, p.Label, p.Precision, p.Confidence)
	}
	rt.Steps = append([]string{step}, rt.Steps...)
}
