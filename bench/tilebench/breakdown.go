package main

import (
	"fmt"
	"io"
	"net/http"
	"sort"

	"github.com/paulmach/orb/encoding/mvt/vectortile"
	"github.com/paulmach/orb/maptile"
)

// breakdown prints where each engine's tile bytes go at zoom z, summed over the tile list: feature
// geometry (commands and vertices), ids, tags (per property key, with that key's values in the
// layer's value table), and the rest of the layers (names, keys, versions, framing).
func breakdown(c *http.Client, engines []engine, tiles []maptile.Tile, z maptile.Zoom) error {
	fmt.Printf("\nBytes at z%d over %d tiles, by part (sum; uncompressed):\n\n", z, len(tiles))
	fmt.Println("| engine | total | features | geometry | vertices | ids | tags | values | other | per property (tags + values) |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	for _, e := range engines {
		var total, feats, geom, verts, ids, tags, vals, other int
		perKey := map[string]int{}
		for _, t := range tiles {
			resp, err := c.Get(e.url(t))
			if err != nil {
				return err
			}
			data, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				return err
			}
			total += len(data)
			var tile vectortile.Tile
			if err := tile.Unmarshal(data); err != nil {
				return fmt.Errorf("%s: %w", e.url(t), err)
			}
			for _, l := range tile.Layers {
				layerRest := l.Size()
				for _, v := range l.Values {
					layerRest -= v.Size() + 1 + sizeVarint(v.Size())
				}
				valueKey := map[int]string{}
				for _, f := range l.Features {
					feats++
					fs := f.Size()
					layerRest -= fs + 1 + sizeVarint(fs)
					g := vectortile.Tile_Feature{Geometry: f.Geometry, Type: f.Type}
					geom += g.Size()
					verts += countVertices(f.Geometry)
					if f.Id != nil {
						ids += (&vectortile.Tile_Feature{Id: f.Id}).Size()
					}
					tg := (&vectortile.Tile_Feature{Tags: f.Tags}).Size()
					tags += tg
					for i := 0; i+1 < len(f.Tags); i += 2 {
						k := l.Keys[f.Tags[i]]
						perKey[k] += sizeVarint(int(f.Tags[i])) + sizeVarint(int(f.Tags[i+1]))
						valueKey[int(f.Tags[i+1])] = k
					}
				}
				for i, v := range l.Values {
					n := v.Size() + 1 + sizeVarint(v.Size())
					vals += n
					perKey[valueKey[i]] += n
				}
				other += layerRest + 1 + sizeVarint(l.Size())
			}
		}
		keys := make([]string, 0, len(perKey))
		for k := range perKey {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return perKey[keys[i]] > perKey[keys[j]] })
		s := ""
		for _, k := range keys {
			s += fmt.Sprintf("%s %d, ", k, perKey[k])
		}
		fmt.Printf("| %s | %d | %d | %d | %d | %d | %d | %d | %d | %s |\n", e.name, total, feats, geom, verts, ids, tags, vals, other, s)
	}
	return nil
}

func sizeVarint(v int) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// countVertices counts the points of an MVT geometry command stream.
func countVertices(g []uint32) int {
	n := 0
	for i := 0; i < len(g); {
		cmd, count := g[i]&7, int(g[i]>>3)
		i++
		if cmd == 7 {
			continue
		}
		n += count
		i += 2 * count
	}
	return n
}
