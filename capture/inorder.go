package capture

import (
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/reassembly"
)

// Reassembly. Most segments of most connections start exactly at the
// next byte expected: their payload is handed on where it lies, without
// a copy. A segment ahead of that byte is held (held.go) until the bytes
// before it come, the flush timeout passes (Options.FlushAfter: the
// missing bytes are reported as a Gap), or more than
// Options.MaxBufferedPerDir bytes wait. Where copies overlap, the first
// captured is delivered (as Wireshark does); a later copy with other
// bytes is reported (OverlapConflict).
//
// Events, payload and spans follow what gopacket reassembly gives for the
// same segments (TestInOrderMatchesReassembly reads every test capture
// both ways), except where it is wrong: it lets a later copy of held
// bytes replace the first, and its list of held pages, walked for every
// segment, made reordered streams cost O(n²).

// inOrderState is the reassembly state of a connection: 40 bytes, what
// is held out of order apart (a conv stays within 512 bytes).
type inOrderState struct {
	open bool // a segment was given
	gone bool // reassembly is done: later segments go nowhere
	// first is the side of the first segment given, flushed second.
	first  uint8
	opened uint32 // processor.flushes when the first segment was given
	last   int64  // time (Unix ns) of the latest segment given: the connection's last activity
	half   [2]inOrderHalf
	ooo    *outOfOrder // nil until a segment comes ahead of the next byte
}

type inOrderHalf struct {
	started bool   // next is set
	closed  bool   // a FIN or RST at next ended this direction
	next    uint32 // the sequence number of the next byte expected
}

// outOfOrder is what a connection holds for later.
type outOfOrder struct {
	// heldAt is the connection's index in processor.holding plus one
	// (0: nothing held).
	heldAt int
	half   [2]oooHalf
}

type oooHalf struct {
	abs  int64    // the stream offset of next (held runs are keyed by offset)
	held *heldSet // bytes ahead of next (nil: none)
	// finAt is where a FIN seen ahead of next ends the direction.
	finSet bool
	finAt  uint32
}

// reorder returns side's out-of-order state, made on first use.
func (o *inOrderState) reorder(side int) *oooHalf {
	if o.ooo == nil {
		o.ooo = new(outOfOrder)
	}
	return &o.ooo.half[side]
}

// held returns side's held bytes (nil: none).
func (o *inOrderState) held(side int) *heldSet {
	if o.ooo == nil {
		return nil
	}
	return o.ooo.half[side].held
}

// offset returns the stream offset of sequence number seq from side.
func (o *inOrderState) offset(side int, seq uint32) int64 {
	return o.reorder(side).abs + int64(seq-o.half[side].next) // ahead of next (or at it): a forward distance
}

// advance moves side's next byte to seq.
func (o *inOrderState) advance(side int, seq uint32) {
	h := &o.half[side]
	if o.ooo != nil {
		o.ooo.half[side].abs += int64(seq - h.next)
	}
	h.next = seq
}

// inOrder takes one segment (seq already in the space reassembly follows).
func (p *processor) inOrder(c *conv, side int, t *layers.TCP, f Frame, have int) {
	o := &c.fast
	if p.reassemblyDone(c); o.gone {
		return
	}
	if at := f.Time.UnixNano(); !o.open {
		o.open, o.first, o.opened, o.last = true, uint8(side), p.flushes, at
	} else if o.last < at {
		o.last = at
	}
	h := &o.half[side]
	seq := t.Seq
	if h.closed || (t.SYN && h.started) {
		return
	}
	b := t.Payload
	if !h.started {
		h.started = true
		if t.SYN {
			seq++
		}
		h.next = seq
	}
	diff := reassembly.Sequence(h.next).Difference(reassembly.Sequence(seq))
	switch {
	case diff > 0:
		// Ahead of next: a RST there is dropped (RFC 5961), a FIN is
		// remembered until the bytes before it come.
		if t.RST {
			return
		}
		if t.FIN {
			// Of FINs at different places, the one lowest in sequence
			// ends the direction: nothing can follow a stream's end.
			at := seq + uint32(len(b))
			if x := o.reorder(side); !x.finSet || reassembly.Sequence(at).Difference(reassembly.Sequence(x.finAt)) > 0 {
				x.finSet, x.finAt = true, at
			}
		}
		if len(b) > 0 {
			p.hold(c, side, o.offset(side, seq), b, f)
		}
		return
	case t.RST && diff < 0:
		return // out of window
	case t.FIN && reassembly.Sequence(h.next).Difference(reassembly.Sequence(seq).Add(len(b))) < 0:
		return // a FIN before the data delivered
	case diff < 0:
		// Bytes already delivered are trimmed off.
		b = b[min(-diff, len(b)):]
	}
	end := t.FIN || t.RST
	if len(b) > 0 {
		// A FIN or RST still lets held bytes that follow on be
		// delivered: they are in the capture (sent before the end the
		// flag marks, as fuzzed and middlebox-mangled captures show), as
		// gopacket's reassembly does.
		p.deliver(c, side, b, f, true)
	}
	if t.FIN {
		o.advance(side, h.next+1)
	}
	if end {
		p.closeHalf(c, side)
	}
}

// hold keeps bytes ahead of next, then enforces the buffer bound.
func (p *processor) hold(c *conv, side int, off int64, b []byte, f Frame) {
	o := &c.fast
	x := o.reorder(side)
	if x.held == nil {
		x.held = &heldSet{}
		if o.ooo.heldAt == 0 {
			p.holding = append(p.holding, c)
			o.ooo.heldAt = len(p.holding)
		}
	}
	p.holdCompared(c, side, off, b, f)
	for x.held != nil && (x.held.bytes > p.o.MaxBufferedPerDir || x.held.runs > p.maxRuns()) {
		p.skipGap(c, side, true)
	}
}

// holdCompared holds b (from offset off) where no bytes are held, and
// reports where it differs from those held.
func (p *processor) holdCompared(c *conv, side int, off int64, b []byte, f Frame) {
	if differ, _ := c.fast.held(side).add(off, b, f, p.rand); differ > 0 {
		c.h.TCP(TCPEvent{Kind: OverlapConflict, Dir: c.dir(side), Frame: f, Differ: differ})
	}
}

// compareHeld reports where b, a copy of bytes already captured (from
// sequence number seq), differs from the held first copy.
func (p *processor) compareHeld(c *conv, side int, seq uint32, b []byte, f Frame) {
	o := &c.fast
	hs := o.held(side)
	if hs == nil {
		return
	}
	s := o.offset(side, seq)
	differ := 0
	for _, r := range hs.overlapping(s, s+int64(len(b))) {
		differ += r.differ(s, b)
	}
	if differ > 0 {
		c.h.TCP(TCPEvent{Kind: OverlapConflict, Dir: c.dir(side), Frame: f, Differ: differ})
	}
}

// maxRuns is Stats.MaxHeldSegments: each run held costs about 100 bytes
// besides its payload.
func (p *processor) maxRuns() int { return p.stats.MaxHeldSegments }

// deliver hands the bytes b at next (from frame f) to the connection,
// held bytes among them taking their place (the first copy wins), and
// with more set, the held bytes that follow on.
func (p *processor) deliver(c *conv, side int, b []byte, f Frame, more bool) {
	o := &c.fast
	hs := o.held(side)
	p.spans = p.spans[:0]
	if hs == nil {
		p.spans = append(p.spans, Span{Frame: f, Len: len(b)})
		p.hand(c, side, b, uint32(len(b)))
		return
	}
	abs := o.ooo.half[side].abs
	end := abs + int64(len(b))
	if hs.first().start < end {
		p.holdCompared(c, side, abs, b, f)
		b = nil
	} else {
		p.spans = append(p.spans, Span{Frame: f, Len: len(b)})
	}
	if more {
		end = noLimit
	}
	p.deliverHeld(c, side, b, end)
}

const noLimit = 1<<63 - 1

// deliverHeld hands b (its span in p.spans) and the held runs that follow
// on from next+len(b) (those before offset upto, at least) to the
// connection.
func (p *processor) deliverHeld(c *conv, side int, b []byte, upto int64) {
	o := &c.fast
	hs := o.held(side)
	at := o.ooo.half[side].abs + int64(len(b))
	data := b
	copied := false
	for r := hs.first(); r != nil && r.start == at && r.start < upto; r = hs.first() {
		if !copied {
			data = append(p.buf[:0], b...)
			copied = true
		}
		if n := len(p.spans); n > 0 && p.spans[n-1].Number == r.frame.Number {
			p.spans[n-1].Len += len(r.data)
		} else {
			p.spans = append(p.spans, Span{Frame: r.frame, Off: len(data), Len: len(r.data)})
		}
		data = append(data, r.data...)
		at = r.end()
		hs.popFirst()
	}
	if copied {
		p.buf = data[:0]
	}
	if hs != nil && hs.root == nil {
		p.dropHeld(c, side)
	}
	if len(data) > 0 {
		p.hand(c, side, data, uint32(len(data)))
	}
}

// hand gives data, the n bytes at next (p.spans says their frames), to
// the connection's handler and moves next past them.
func (p *processor) hand(c *conv, side int, data []byte, n uint32) {
	o := &c.fast
	h := &o.half[side]
	o.advance(side, h.next+n)
	hs := &c.half[side]
	if seqLT(hs.delivered, h.next) {
		hs.delivered = h.next
	}
	c.h.Payload(Payload{Dir: c.dir(side), Data: data, Spans: p.spans})
	if o.ooo != nil && o.ooo.half[side].finSet && h.next == o.ooo.half[side].finAt {
		p.closeHalf(c, side)
	}
}

// skipGap gives up on the bytes missing before the first held run: they
// are reported as a Gap, and what is held from there on is delivered.
// bound says the buffer bound forced it (not the flush timeout).
func (p *processor) skipGap(c *conv, side int, bound bool) {
	o := &c.fast
	x := &o.ooo.half[side]
	r := x.held.first()
	missing := int(r.start - x.abs)
	o.advance(side, o.half[side].next+uint32(missing))
	ev := TCPEvent{Kind: Gap, Dir: c.dir(side), Frame: r.frame, Missing: missing}
	c.h.TCP(ev)
	if bound {
		p.bufferBound(c, ev, x.held.runs > p.maxRuns())
	}
	p.spans = p.spans[:0]
	p.deliverHeld(c, side, nil, noLimit)
}

// closeHalf ends one direction: later segments of it are ignored, held
// bytes dropped; when both are ended, reassembly is done.
func (p *processor) closeHalf(c *conv, side int) {
	o := &c.fast
	o.half[side].closed = true
	p.dropHeld(c, side)
	if o.half[1-side].closed {
		o.gone = true
		c.reasmDone = true
	}
}

// dropHeld forgets side's held bytes, and the connection's place in
// processor.holding when the other side holds none either.
func (p *processor) dropHeld(c *conv, side int) {
	x := c.fast.ooo
	if x == nil {
		return
	}
	x.half[side].held = nil
	if x.heldAt == 0 || x.half[1-side].held != nil {
		return
	}
	i := x.heldAt - 1
	last := p.holding[len(p.holding)-1]
	p.holding[i] = last
	last.fast.ooo.heldAt = i + 1
	p.holding[len(p.holding)-1] = nil
	p.holding = p.holding[:len(p.holding)-1]
	x.heldAt = 0
}

// flushHeld delivers, for every connection holding bytes, what waited
// longer than the flush timeout (t) behind missing bytes, and ends
// reassembly of those left with nothing held and no segment since tc.
// all (the end of the capture) delivers everything and ends them all.
func (p *processor) flushHeld(t, tc int64, all bool) {
	for i := 0; i < len(p.holding); {
		c := p.holding[i]
		o := &c.fast
		for _, side := range [2]int{1 - int(o.first), int(o.first)} {
			for hs := o.held(side); hs != nil && (all || hs.oldest() < t); hs = o.held(side) {
				p.skipGap(c, side, false)
			}
			if !o.half[side].closed && o.held(side) == nil && (all || o.last < tc) {
				p.closeHalf(c, side)
			}
		}
		if i < len(p.holding) && p.holding[i] == c {
			i++
		}
	}
}

// reassemblyDone reports whether reassembly is done with c. A flush ends
// a connection that got no segment since its close time; rather than
// visit every connection at each flush, one holding no bytes is judged
// here, by the latest flush after it opened (close times only grow),
// whenever its state is read.
func (p *processor) reassemblyDone(c *conv) bool {
	o := &c.fast
	if o.open && !o.gone && (o.ooo == nil || o.ooo.heldAt == 0) && o.opened != p.flushes && o.last < p.idleTC.UnixNano() {
		o.gone, c.reasmDone = true, true
	}
	return c.reasmDone
}

// rand is a xorshift generator for the held runs' priorities.
func (p *processor) rand() uint32 {
	x := p.rnd
	if x == 0 {
		x = 2463534242
	}
	x ^= x << 13
	x ^= x >> 17
	x ^= x << 5
	p.rnd = x
	return x
}
