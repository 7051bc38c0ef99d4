package capture

import (
	"fmt"
	"strconv"
)

// bufferBound reports a gap forced by Options.MaxBufferedPerDir: bytes
// that were still awaited are skipped so the out-of-order bytes behind them
// can be delivered, and the user learns the bound, not only the gap.
// runs says the count of held runs (segments) forced it, not their bytes.
func (p *processor) bufferBound(c *conv, gap TCPEvent, runs bool) {
	p.stats.BufferLimited++
	what := fmt.Sprintf("more than %d bytes", p.o.MaxBufferedPerDir)
	if runs {
		p.stats.SegmentLimited++
		what = fmt.Sprintf("more than %d segments", p.maxRuns())
	}
	p.problem(Problem{Kind: ProblemBufferLimit, Placed: true, Frame: gap.Frame.Number, Offset: -1,
		Detail: fmt.Sprintf("frame %d: tcp.stream %d (%s side) had %s waiting for %d missing bytes: they are reported as missing now; raise --max-buffered to wait longer",
			gap.Frame.Number, c.conn.Stream, gap.Dir, what, gap.Missing)})
}

// FormatSize says a number of bytes as the size flags take it: 128MiB,
// 4KiB, 1500B.
func FormatSize(n int64) string {
	for _, u := range []struct {
		name  string
		shift uint
	}{{"GiB", 30}, {"MiB", 20}, {"KiB", 10}} {
		if n >= 1<<u.shift && n%(1<<u.shift) == 0 {
			return strconv.FormatInt(n>>u.shift, 10) + u.name
		}
	}
	if n >= 10<<20 {
		return strconv.FormatInt(n>>20, 10) + "MiB"
	}
	return strconv.FormatInt(n, 10) + "B"
}
