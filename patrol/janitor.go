package patrol

import (
	"context"
	"log/slog"
	"time"
)

// RunPruner deletes the positions older than the retention now and then every interval until ctx
// is done, as jobs.Janitor sweeps leftovers: storage stays bounded by Options.Retention days.
func (s *Service) RunPruner(ctx context.Context, interval time.Duration, log *slog.Logger) {
	prune := func() {
		n, err := s.Prune(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("pruning old positions failed", "err", err)
		case n > 0:
			log.Info("pruned old positions", "rows", n, "retention_days", s.opt.Retention)
		}
	}
	prune()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			prune()
		}
	}
}
