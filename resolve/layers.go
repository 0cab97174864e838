package resolve

import "gridline.dev/gridline"

// Layers lists the thematic layers present in the index, sorted by name: a batch written as CSV
// has a column for each. The slice is the index's own: callers must not modify it.
func (ix *GridIndex) Layers() []gridline.Layer { return ix.layers }
