package main

import (
	"math"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// memoryBudget is the soft memory limit an analysis runs under (unless
// GOMEMLIMIT says otherwise). The collector's default lets a heap whose
// live part is L grow to 2L between collections: for a SYN flood's
// 65,536 open connections and the index of a million verdicts (about 160
// MiB live) that is 400 MiB of RSS. Under this limit the collector runs
// before the heap reaches it; ordinary captures hold far less and never
// notice.
const memoryBudget = 256 << 20

// followLive: when the live heap passes 3/4 of the limit (a capture that
// really holds that much), the limit moves up to 1.5× the live heap, so
// the collector never has to run flat out to stay under it.
const followEvery = 100 * time.Millisecond

// withMemoryBudget sets the limit for the duration of an analysis and
// returns what restores the previous one.
func withMemoryBudget() (restore func()) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	prev := debug.SetMemoryLimit(memoryBudget)
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		limit := int64(memoryBudget)
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		t := time.NewTicker(followEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			metrics.Read(sample)
			if sample[0].Value.Kind() != metrics.KindUint64 {
				return // not measurable on this runtime: keep the limit
			}
			live := sample[0].Value.Uint64()
			if live > math.MaxInt64/2 {
				continue
			}
			if int64(live) > limit/4*3 {
				limit = int64(live) / 2 * 3
				debug.SetMemoryLimit(limit)
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
		debug.SetMemoryLimit(prev)
	}
}
