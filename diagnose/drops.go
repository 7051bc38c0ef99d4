package diagnose

import "tlspcap/capture"

// dropsSeen is what the kernel dropped while one connection was open.
type dropsSeen struct {
	dropped uint64
	// first and last are the readings' frames: packets were lost before
	// each of them.
	first, last capture.Frame
}

// KernelDrops implements capture.DropsHandler: every connection open at a
// reading of the kernel's drop counter may have lost packets, so its
// verdict (if it failed) carries capture-kernel-drops.
func (a *Analyzer) KernelDrops(d capture.KernelDrops) {
	if d.Dropped == 0 {
		return
	}
	// The rules read the drops of the connections being decided: decide
	// on this goroutine from here on.
	a.drain()
	if a.drops == nil {
		a.drops = map[int]dropsSeen{}
	}
	// Keep the map to the open connections: decided ones are done with it.
	for s := range a.drops {
		if _, open := a.open[s]; !open {
			delete(a.drops, s)
		}
	}
	for s := range a.open {
		ds, ok := a.drops[s]
		if !ok {
			ds.first = d.Frame
		}
		ds.dropped += d.Dropped
		ds.last = d.Frame
		a.drops[s] = ds
	}
}
