package tiles

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"hash/fnv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gridline.dev/gridline"
	"gridline.dev/gridline/geo"
	"gridline.dev/gridline/resolve"
)

// Indexer gives the current resolution index; *resolve.Resolver is one.
type Indexer interface {
	Index() *resolve.GridIndex
}

// Options configure a Service.
type Options struct {
	// CacheBytes bounds the tile cache (default 64 MiB; negative disables it).
	CacheBytes int64
	// MaxFeatures is the feature count above which a tile is simplified more coarsely (default 20000).
	MaxFeatures int
	// MaxLayers is the most layers one tile request may name (default 12).
	MaxLayers int
	// Annotate, when set, is called once for every tile generated; its result is kept with the
	// tile in the cache as Entry.Meta. It must not keep or change the entry.
	Annotate func(Entry) any
}

// Service serves tiles of the resolver's current index through the cache. Whenever the resolver
// has swapped in a new index (after a change in any process, delivered by LISTEN/NOTIFY), the
// next call compares the two and drops exactly the cached tiles the change touches.
type Service struct {
	idx   Indexer
	opt   Options
	cache *Cache

	mu  sync.Mutex // serialises source swaps
	src atomic.Pointer[Tileset]

	gzips sync.Pool // *gzip.Writer: a new one allocates about a megabyte of compressor state

	swaps, fullPurges atomic.Uint64
}

// NewService makes a Service over idx.
func NewService(idx Indexer, opt Options) *Service {
	if opt.CacheBytes == 0 {
		opt.CacheBytes = 64 << 20
	}
	if opt.CacheBytes < 0 {
		opt.CacheBytes = 0
	}
	if opt.MaxFeatures <= 0 {
		opt.MaxFeatures = 20000
	}
	if opt.MaxLayers <= 0 {
		opt.MaxLayers = 12
	}
	return &Service{idx: idx, opt: opt, cache: NewCache(opt.CacheBytes)}
}

// MaxLayers is the most layers one tile request may name.
func (s *Service) MaxLayers() int { return s.opt.MaxLayers }

// Cache is the service's tile cache.
func (s *Service) Cache() *Cache { return s.cache }

// Tileset is the source for the resolver's current index, built (and the cache invalidated) on
// the first call after the index changed: the server calls it from the resolver's OnSwap hook, so
// requests normally find it ready; the check here keeps any other caller correct.
func (s *Service) Tileset() *Tileset {
	cur := s.idx.Index()
	if src := s.src.Load(); src != nil && src.ix == cur {
		return src
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.src.Load()
	if old != nil && old.ix == cur {
		return old
	}
	src := NewTileset(cur)
	// Publish the new source before invalidating: a request that read the old source and then
	// the new epoch is caught by the source check in Get; one that read the old epoch by Put.
	s.src.Store(src)
	s.swaps.Add(1)
	if boxes, ok := Changed(old, src); ok {
		s.cache.Invalidate(boxes)
	} else {
		s.fullPurges.Add(1)
		s.cache.Purge()
	}
	return src
}

// ParseLayers reads a comma-separated list of layer names, dropping repeats.
func (s *Service) ParseLayers(spec string) ([]string, error) {
	src := s.Tileset()
	parts := strings.Split(spec, ",")
	if len(parts) > s.opt.MaxLayers {
		return nil, gridline.Errorf(gridline.EInvalid, "%d layers asked for: at most %d may be combined in one tile", len(parts), s.opt.MaxLayers).With("field", "layers")
	}
	var out []string
	seen := map[string]bool{}
	for _, p := range parts {
		if _, ok := src.Layer(p); !ok {
			names := make([]string, 0, len(src.specs))
			for _, l := range src.specs {
				names = append(names, l.Name)
			}
			return nil, gridline.Errorf(gridline.EInvalid, "unknown layer %q: use one or more of %s, separated by commas", gridline.Excerpt(p), strings.Join(names, ", ")).With("field", "layers")
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out, nil
}

// key is the cache key of a tile of the layers spec (names joined by commas).
func key(spec string, z, x, y uint32, at time.Time, c geo.CRS, gz bool) Key {
	return Key{Layers: spec, Z: z, X: x, Y: y, At: at.Unix(), CRS: c.Name, Gzip: gz}
}

// Cached returns the cached tile of the layers spec (as the request named them, comma-separated)
// if there is one, without parsing or allocating: a spec that is not exactly how a tile was
// cached (unknown layers, repeats) is simply not found, and Get then says what is wrong.
func (s *Service) Cached(spec string, z, x, y uint32, at time.Time, c geo.CRS, gz bool) (Entry, bool) {
	s.Tileset() // an index swap invalidates first
	return s.cache.Get(key(spec, z, x, y, at, c, gz))
}

// Get returns the tile for req, from the cache or freshly cut; gzipped when gz is true and the
// tile is not empty (Entry.Gzip says which).
func (s *Service) Get(req Request, gz bool) (Entry, error) {
	src := s.Tileset()
	epoch := s.cache.Epoch()
	if s.src.Load() != src {
		epoch-- // a swap began after Tileset returned: the tile must not be cached
	}
	k := key(strings.Join(req.Layers, ","), req.Z, req.X, req.Y, req.At, req.CRS, gz)
	if e, ok := s.cache.Get(k); ok {
		return e, nil
	}
	t, err := src.Generate(req, s.opt.MaxFeatures)
	if err != nil {
		return Entry{}, err
	}
	e := Entry{Data: t.Data, Features: t.Features, Simplified: t.Simplified}
	if gz && len(t.Data) > 0 {
		if e.Data, err = s.gzip(t.Data); err != nil {
			return Entry{}, err
		}
		e.Gzip = true
	}
	h := fnv.New64a()
	h.Write(e.Data)
	e.ETag = fmt.Sprintf(`"%016x"`, h.Sum64())
	if s.opt.Annotate != nil {
		e.Meta = s.opt.Annotate(e)
	}
	s.cache.Put(k, e, t.Search, epoch)
	return e, nil
}

// gzip compresses data with a pooled writer.
func (s *Service) gzip(data []byte) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(len(data)/2 + 64)
	zw, _ := s.gzips.Get().(*gzip.Writer)
	if zw == nil {
		zw, _ = gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	} else {
		zw.Reset(&buf)
	}
	defer s.gzips.Put(zw)
	if _, err := zw.Write(data); err != nil {
		return nil, fmt.Errorf("gzip tile: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("gzip tile: %w", err)
	}
	return buf.Bytes(), nil
}

// VectorLayer describes a layer in TileJSON.
type VectorLayer struct {
	ID          string            `json:"id"`
	Description string            `json:"description,omitempty"`
	MinZoom     int               `json:"minzoom"`
	MaxZoom     int               `json:"maxzoom"`
	Fields      map[string]string `json:"fields"`
}

// TileJSON is a TileJSON 3.0.0 document.
type TileJSON struct {
	TileJSON     string        `json:"tilejson"`
	Name         string        `json:"name"`
	Description  string        `json:"description,omitempty"`
	Version      string        `json:"version"`
	Scheme       string        `json:"scheme"`
	Tiles        []string      `json:"tiles"`
	MinZoom      int           `json:"minzoom"`
	MaxZoom      int           `json:"maxzoom"`
	Bounds       []float64     `json:"bounds,omitempty"`
	Center       []float64     `json:"center,omitempty"`
	VectorLayers []VectorLayer `json:"vector_layers"`
}

// TileJSON describes the tiles of layers; tileURL is the URL template of their tiles. Bounds are
// those of the features valid on at, in the datum c.
func (s *Service) TileJSON(layers []string, tileURL string, at time.Time, c geo.CRS) TileJSON {
	src := s.Tileset()
	tj := TileJSON{TileJSON: "3.0.0", Name: "gridline " + strings.Join(layers, ","), Version: "1.0.0", Scheme: "xyz",
		Description: fmt.Sprintf("grids valid on %s, coordinates in %s", gridline.Date(at), c.Name),
		Tiles:       []string{tileURL}, MinZoom: MaxZoom, MaxZoom: 0, VectorLayers: []VectorLayer{}}
	for _, name := range layers {
		sp, _ := src.Layer(name)
		fields := polygonFields
		if name == LayerLabels {
			fields = labelFields()
		}
		tj.VectorLayers = append(tj.VectorLayers, VectorLayer{ID: sp.Name, Description: sp.Description, MinZoom: sp.MinZoom, MaxZoom: sp.MaxZoom, Fields: fields})
		tj.MinZoom = min(tj.MinZoom, sp.MinZoom)
		tj.MaxZoom = max(tj.MaxZoom, sp.MaxZoom)
	}
	if b, ok := src.Bounds(layers, at); ok {
		x0, y0 := c.FromWGS84(b.Min[0], b.Min[1])
		x1, y1 := c.FromWGS84(b.Max[0], b.Max[1])
		tj.Bounds = []float64{x0, y0, x1, y1}
		tj.Center = []float64{(x0 + x1) / 2, (y0 + y1) / 2, float64(min(MaxZoom, tj.MinZoom+3))}
	}
	return tj
}

// Stats are the service's counters for /healthz or logs.
type Stats struct {
	Cache      CacheStats `json:"cache"`
	Swaps      uint64     `json:"index_swaps"`
	FullPurges uint64     `json:"full_purges"`
}

// Stats reports the counters.
func (s *Service) Stats() Stats {
	return Stats{Cache: s.cache.Stats(), Swaps: s.swaps.Load(), FullPurges: s.fullPurges.Load()}
}
