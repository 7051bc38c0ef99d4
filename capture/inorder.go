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

// inOrderState is the reassembly state of a connection.
type inOrderState struct {
	open bool // a segment was given
	gone bool // reassembly is done: later segments go nowhere
	// first is the side of the first segment given, flushed second.
	first  uint8
	opened uint32 // processor.flushes when the first segment was given
	// heldAt is the connection's index in processor.holding plus one
	// (0: nothing held).
	heldAt int
	last   Frame // latest segment given (its time: the connection's last activity)
	half   [2]inOrderHalf
}

type inOrderHalf struct {
	started bool   // next is set
	closed  bool   // a FIN or RST at next ended this direction
	next    uint32 // the sequence number of the next byte expected
	abs     int64  // its stream offset (held runs are keyed by offset)
	// finAt is where a FIN seen ahead of next ends the direction.
	finSet bool
	finAt  uint32
	held   *heldSet // bytes ahead of next (nil: none)
}

// offset returns the stream offset of sequence number seq.
func (h *inOrderHalf) offset(seq uint32) int64 {
	return h.abs + int64(int32(seq-h.next))
}

// advance moves next to seq.
func (h *inOrderHalf) advance(seq uint32) {
	h.abs += int64(int32(seq - h.next))
	h.next = seq
}

// inOrder takes one segment (seq already in the space reassembly follows).
func (p *processor) inOrder(c *conv, side int, t *layers.TCP, f Frame, have int) {
	o := &c.fast
	if p.reassemblyDone(c); o.gone {
		return
	}
	if !o.open {
		o.open, o.first, o.opened, o.last = true, uint8(side), p.flushes, f
	} else if o.last.Time.Before(f.Time) {
		o.last = f
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
			h.finSet, h.finAt = true, seq+uint32(len(b))
		}
		if len(b) > 0 {
			p.hold(c, side, h.offset(seq), b, f)
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
		p.deliver(c, side, b, f, !end)
	}
	if t.FIN {
		h.advance(h.next + 1)
	}
	if end {
		p.closeHalf(c, side)
	}
}

// hold keeps bytes ahead of next, then enforces the buffer bound.
func (p *processor) hold(c *conv, side int, off int64, b []byte, f Frame) {
	o := &c.fast
	h := &o.half[side]
	if h.held == nil {
		h.held = &heldSet{}
		if o.heldAt == 0 {
			p.holding = append(p.holding, c)
			o.heldAt = len(p.holding)
		}
	}
	p.holdCompared(c, side, off, b, f)
	for h.held != nil && (h.held.bytes > p.o.MaxBufferedPerDir || h.held.runs > p.maxRuns()) {
		p.skipGap(c, side, true)
	}
}

// holdCompared holds b (from offset off) where no bytes are held, and
// reports where it differs from those held.
func (p *processor) holdCompared(c *conv, side int, off int64, b []byte, f Frame) {
	if differ, _ := c.fast.half[side].held.add(off, b, f, p.rand); differ > 0 {
		c.h.TCP(TCPEvent{Kind: OverlapConflict, Dir: c.dir(side), Frame: f, Differ: differ})
	}
}

// compareHeld reports where b, a copy of bytes already captured (from
// sequence number seq), differs from the held first copy.
func (p *processor) compareHeld(c *conv, side int, seq uint32, b []byte, f Frame) {
	h := &c.fast.half[side]
	if h.held == nil {
		return
	}
	s := h.offset(seq)
	differ := 0
	for _, r := range h.held.overlapping(s, s+int64(len(b))) {
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
	h := &c.fast.half[side]
	hs := h.held
	p.spans = p.spans[:0]
	end := h.abs + int64(len(b))
	if hs != nil && hs.first().start < end {
		p.holdCompared(c, side, h.abs, b, f)
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
	h := &c.fast.half[side]
	hs := h.held
	at := h.abs + int64(len(b))
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
	h := &c.fast.half[side]
	h.advance(h.next + n)
	hs := &c.half[side]
	if seqLT(hs.delivered, h.next) {
		hs.delivered = h.next
	}
	c.h.Payload(Payload{Dir: c.dir(side), Data: data, Spans: p.spans})
	if h.finSet && h.next == h.finAt {
		p.closeHalf(c, side)
	}
}

// skipGap gives up on the bytes missing before the first held run: they
// are reported as a Gap, and what is held from there on is delivered.
// bound says the buffer bound forced it (not the flush timeout).
func (p *processor) skipGap(c *conv, side int, bound bool) {
	h := &c.fast.half[side]
	r := h.held.first()
	missing := int(r.start - h.abs)
	h.advance(h.next + uint32(missing))
	ev := TCPEvent{Kind: Gap, Dir: c.dir(side), Frame: r.frame, Missing: missing}
	c.h.TCP(ev)
	if bound {
		p.bufferBound(c, ev, h.held.runs > p.maxRuns())
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
	o := &c.fast
	o.half[side].held = nil
	if o.heldAt == 0 || o.half[1-side].held != nil {
		return
	}
	i := o.heldAt - 1
	last := p.holding[len(p.holding)-1]
	p.holding[i] = last
	last.fast.heldAt = i + 1
	p.holding[len(p.holding)-1] = nil
	p.holding = p.holding[:len(p.holding)-1]
	o.heldAt = 0
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
			h := &o.half[side]
			for h.held != nil && (all || h.held.oldest() < t) {
				p.skipGap(c, side, false)
			}
			if !h.closed && h.held == nil && (all || o.last.Time.UnixNano() < tc) {
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
	if o.open && !o.gone && o.heldAt == 0 && o.opened != p.flushes && o.last.Time.Before(p.idleTC) {
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
