package sidecar

import (
	"context"
	"time"
)

// volumeLoop has the checker in force evaluate its contracts' volume rules
// every VolumeTick, and logs the windows that were too quiet.
func (s *Sidecar) volumeLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.VolumeTick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, v := range s.Checker().Volume(s.cfg.Checker.Now()) {
			s.log.Warn("contract volume too low", "contract", v.Contract, "reason", v.Reason)
		}
	}
}
