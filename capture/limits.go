package capture

import "fmt"

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
	p.problem(Problem{Kind: ProblemBufferLimit, Frame: gap.Frame.Number, Offset: -1,
		Detail: fmt.Sprintf("frame %d: tcp.stream %d (%s side) had %s waiting for %d missing bytes: they are reported as missing now; raise --max-buffered to wait longer",
			gap.Frame.Number, c.conn.Stream, gap.Dir, what, gap.Missing)})
}
