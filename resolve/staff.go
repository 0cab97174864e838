package resolve

import "gridline.dev/gridline"

// StaffOf lists every assignment held on grid identity id, in all periods, as the index was built
// with them. The slice is the index's own: callers must not modify it. Tiles use it to tell
// whether a grid's staffing changed between two indexes.
func (ix *GridIndex) StaffOf(id int64) []gridline.Staff { return ix.staff[id] }
