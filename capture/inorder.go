package capture

import (
	"encoding/binary"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/reassembly"
)

// The in-order path. Most segments of most connections start exactly at
// the next byte expected: gopacket reassembly then only hands their
// payload on, yet costs a third of the reading time (flow keys, a map
// lookup, the scatter-gather walk for spans). inOrder does what
// reassembly would do with such a connection, step by step as
// AssembleWithContext does it, and gives a connection to reassembly
// (toReassembly) at its first segment that reassembly would hold back;
// from then on reassembly has it for good. Every event, payload and span
// is the one reassembly would give: TestInOrderMatchesReassembly reads
// every test capture both ways.

// inOrderState is what reassembly would hold of a connection none of
// whose segments it had to keep for later.
type inOrderState struct {
	slow bool // reassembly has the connection
	open bool // reassembly would have it: a segment was given
	gone bool // reassembly would have ended it: later segments go nowhere
	// first is the side of the first segment given: reassembly's
	// client-to-server half, which it flushes second.
	first  uint8
	opened uint32    // processor.flushes when the first segment was given
	last   time.Time // latest time of a segment given (reassembly's lastSeen)
	half   [2]inOrderHalf
}

type inOrderHalf struct {
	started bool   // next is set
	closed  bool   // a FIN or RST at next ended this direction
	next    uint32 // reassembly's nextSeq
}

// inOrder takes one segment (seq already in the space reassembly follows)
// as reassembly would, and reports false, having done nothing, when
// reassembly would hold it for missing bytes.
func (p *processor) inOrder(c *conv, side int, t *layers.TCP, f Frame, have int) bool {
	o := &c.fast
	if p.reassemblyDone(c); o.gone {
		return true
	}
	if !o.open {
		o.open, o.first, o.opened, o.last = true, uint8(side), p.flushes, f.Time
	} else if o.last.Before(f.Time) {
		o.last = f.Time
	}
	h := &o.half[side]
	seq := t.Seq
	var diff int
	if h.started {
		diff = reassembly.Sequence(h.next).Difference(reassembly.Sequence(seq))
		if diff > 0 && have > 0 {
			return false
		}
	}
	if h.closed || (t.SYN && h.started) {
		return true
	}
	b := t.Payload
	switch {
	case !h.started:
		h.started = true
		if t.SYN {
			seq++
		}
		h.next = seq
	case diff > 0:
		// Nothing to keep: a RST there is dropped, a bare ACK has no
		// bytes; a FIN is remembered by reassembly until the bytes come.
		return !t.FIN || t.RST
	case t.RST && diff < 0:
		return true // out of window
	case t.FIN && reassembly.Sequence(h.next).Difference(reassembly.Sequence(seq).Add(have)) < 0:
		return true // a FIN before the data delivered
	case diff < 0:
		// Bytes already delivered are trimmed off.
		b = b[min(-diff, len(b)):]
		seq = h.next
	}
	end := t.FIN || t.RST
	if len(b) == 0 && !end && !t.SYN {
		return true
	}
	if len(b) > 0 {
		p.deliverInOrder(c, side, t, f, b, have)
	}
	h.next = seq + uint32(len(b))
	if t.FIN {
		h.next++
	}
	if end {
		h.closed = true
		if o.half[1-side].closed {
			o.gone = true
			c.reasmDone = true
		}
	}
	return true
}

// deliverInOrder hands b, the new bytes of the segment t (have bytes of
// payload), to the connection, as rstream.ReassembledSG does with one
// packet.
func (p *processor) deliverInOrder(c *conv, side int, t *layers.TCP, f Frame, b []byte, have int) {
	hs := &c.half[side]
	start := t.Seq
	if t.SYN {
		start++
	}
	if e := start + uint32(have); seqLT(hs.delivered, e) {
		hs.delivered = e
	}
	p.spans = append(p.spans[:0], Span{Frame: f, Len: len(b)})
	c.h.Payload(Payload{Dir: c.dir(side), Data: b, Spans: p.spans})
}

// toReassembly gives c to gopacket reassembly, which starts where the
// in-order path left off: for each direction a SYN at the byte before the
// next one expected, and a FIN when the direction was ended. Neither
// carries bytes, so the connection's handler sees nothing of them.
func (p *processor) toReassembly(c *conv) {
	o := &c.fast
	o.slow = true
	f := Frame{Time: o.last}
	for _, side := range [2]int{int(o.first), 1 - int(o.first)} {
		h := &o.half[side]
		if !h.started {
			continue
		}
		p.assembleBare(c, side, h.next-1, 0x02, f) // SYN
		if h.closed {
			p.assembleBare(c, side, h.next, 0x01, f) // FIN
		}
	}
}

// assembleBare gives reassembly a segment without payload from side.
func (p *processor) assembleBare(c *conv, side int, seq uint32, flags byte, f Frame) {
	var hdr [20]byte
	binary.BigEndian.PutUint16(hdr[0:2], c.key.side(side).Port())
	binary.BigEndian.PutUint16(hdr[2:4], c.key.side(1-side).Port())
	binary.BigEndian.PutUint32(hdr[4:8], seq)
	hdr[12] = 5 << 4
	hdr[13] = flags
	t := &p.bare
	if err := t.DecodeFromBytes(hdr[:], gopacket.NilDecodeFeedback); err != nil {
		return // cannot happen: a 20-byte header without options
	}
	p.assemble(c, side, t, f, 0, 0, 0)
}

// reassemblyDone reports whether reassembly is done with c: it completed
// it, or (for an in-order connection) it would have. A flush of
// reassembly ends a connection that got no segment since its close time;
// rather than visit every connection at each flush, the in-order one is
// judged here, by the latest flush after it opened (close times only
// grow), whenever its state is read.
func (p *processor) reassemblyDone(c *conv) bool {
	o := &c.fast
	if !o.slow && o.open && !o.gone && o.opened != p.flushes && o.last.Before(p.idleTC) {
		o.gone, c.reasmDone = true, true
	}
	return c.reasmDone
}
