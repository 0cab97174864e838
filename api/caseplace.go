package api

import (
	"net/http"

	"gridline.dev/gridline"
	"gridline.dev/gridline/dispatch"
	"gridline.dev/gridline/geo"
	"gridline.dev/gridline/resolve"
)

// casePlace sets rep's place from req: the point sent (in req.CRS) converted to WGS84, or, when
// neither lon nor lat was sent, the address, which the engine places through the address register
// (dispatch/place.go). A point and an address together: the point wins, the address is text.
func (s *Server) casePlace(r *http.Request, req *caseRequest, rep *dispatch.Report) error {
	if req.Lon == nil && req.Lat == nil {
		if req.CRS != "" {
			return gridline.Errorf(gridline.EInvalid, "crs %q was sent without lon and lat: send the point with its crs, or an address alone", gridline.Excerpt(req.CRS)).With("field", "crs")
		}
		rep.ByAddress = true
		return nil
	}
	if req.Lon == nil || req.Lat == nil {
		missing := "lat"
		if req.Lon == nil {
			missing = "lon"
		}
		return gridline.Errorf(gridline.EInvalidCoord, "%s is missing: send lon and lat together, or neither and an address", missing).With("field", missing)
	}
	crs, err := geo.ParseCRS(req.CRS)
	if err != nil {
		return gridline.Errorf(gridline.EInvalidCRS, "%v", err).With("field", "crs")
	}
	if e := resolve.CheckCoordinate(*req.Lon, *req.Lat, crs); e != nil {
		return e
	}
	p, err := s.toWGS84(r.Context(), crs, *req.Lon, *req.Lat)
	if err != nil {
		return err
	}
	rep.Lon, rep.Lat = p[0], p[1]
	return nil
}
