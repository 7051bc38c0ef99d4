package capture

import (
	"sort"

	"github.com/gopacket/gopacket/reassembly"
)

// Attributing delivered bytes to frames. Reassembly hands over a run of
// chunks (one per packet, possibly trimmed where packets overlap) and
// answers "which packet holds offset i" by walking its chunks from the
// start. Asking that for every chunk made one delivery of k buffered
// out-of-order segments cost O(k²) (a flush of 20,000 one-byte segments:
// seconds). pending keeps, per direction, the packets reassembly holds out
// of order, sorted by sequence number, so the chunks after the first are
// read off in one pass; reassembly is asked only at the start and end of
// a delivery, and for every chunk only when packets overlapped.

// pending lists one direction's out-of-order packets, by sequence number.
type pending struct {
	list []*pktCtx // list[head:] sorted by seq
	head int
	// irregular is set when a held packet overlapped another: reassembly
	// may have trimmed chunks, so spans are found chunk by chunk.
	irregular bool
}

// add records a packet reassembly is about to hold out of order.
func (q *pending) add(x *pktCtx) {
	l := q.list[q.head:]
	i := sort.Search(len(l), func(i int) bool { return !seqLT(l[i].seq, x.seq) })
	if i > 0 && seqLT(x.seq, l[i-1].seq+uint32(l[i-1].n)) || i < len(l) && seqLT(l[i].seq, x.seq+uint32(x.n)) {
		q.irregular = true
	}
	q.list = append(q.list, nil)
	copy(q.list[q.head+i+1:], q.list[q.head+i:])
	q.list[q.head+i] = x
}

// done drops the packets that start before end, the sequence number
// after the last byte delivered: they were delivered, or trimmed away.
func (q *pending) done(end uint32) {
	for q.head < len(q.list) && seqLT(q.list[q.head].seq, end) {
		q.list[q.head] = nil
		q.head++
	}
	switch {
	case q.head == len(q.list):
		q.list, q.head, q.irregular = q.list[:0], 0, false
	case q.head > 64 && q.head*2 > len(q.list):
		n := copy(q.list, q.list[q.head:])
		clear(q.list[n:])
		q.list, q.head = q.list[:n], 0
	}
}

// queue is called for every packet reassembly takes (from Accept): one
// whose payload starts after the next expected byte will be held.
func (s *rstream) queue(ac reassembly.AssemblerContext, next reassembly.Sequence) {
	x, ok := ac.(*pktCtx)
	if !ok || x.n == 0 || next < 0 || next.Difference(reassembly.Sequence(x.seq)) <= 0 {
		return
	}
	s.pend[x.side].add(x)
}

// at is ctxAt, counting the offsets asked (each walks that far).
func (s *rstream) at(sg reassembly.ScatterGather, off int) *pktCtx {
	s.p.probeWork += int64(off) + 1
	return ctxAt(sg, off)
}

// spansOf returns the spans of a delivery of n bytes from side, and the
// packet of its last byte.
func (s *rstream) spansOf(sg reassembly.ScatterGather, n, side int) ([]Span, *pktCtx) {
	q := &s.pend[side]
	spans := s.p.spans[:0]
	spans, off, last := s.probeSpans(sg, spans, 0, n, 1)
	if off < n && !q.irregular && last != nil {
		mark, moff, mlast := len(spans), off, last
		want := last.seq + uint32(last.n)
		q.done(want)
		h0 := q.head
		for off < n && q.head < len(q.list) && q.list[q.head].seq == want {
			x := q.list[q.head]
			l := min(x.n, n-off)
			spans = append(spans, Span{Frame: x.frame, Off: off, Len: l})
			off += l
			want = x.seq + uint32(x.n)
			last = x
			q.head++
		}
		if off == n && s.at(sg, n-1) == last {
			for i := h0; i < q.head; i++ {
				q.list[i].got += spans[mark+i-h0].Len
			}
		} else {
			// Chunks were trimmed after all: ask reassembly for each.
			spans, off, last, q.head = spans[:mark], moff, mlast, h0
			q.irregular = true
		}
	}
	if off < n {
		spans, _, last = s.probeSpans(sg, spans, off, n, n)
	}
	if last != nil {
		q.done(last.seq + uint32(last.n))
	}
	s.p.spans = spans // reused: Payload's spans are valid only during the call
	return spans, last
}

// probeSpans finds up to max spans from off by asking reassembly which
// packet holds which offset, and counts the bytes each packet delivered.
func (s *rstream) probeSpans(sg reassembly.ScatterGather, spans []Span, off, n, max int) ([]Span, int, *pktCtx) {
	var last *pktCtx
	for ; off < n && max > 0; max-- {
		x := s.at(sg, off)
		end := n
		// Usually the chunk is the whole packet payload: check that guess
		// before searching.
		if x != nil && x.n > 0 && off+x.n < n && s.at(sg, off+x.n-1) == x && s.at(sg, off+x.n) != x {
			end = off + x.n
		} else if s.at(sg, n-1) != x {
			lo, hi := off+1, n
			for lo < hi {
				mid := int(uint(lo+hi) >> 1)
				if s.at(sg, mid) == x {
					lo = mid + 1
				} else {
					hi = mid
				}
			}
			end = lo
		}
		sp := Span{Off: off, Len: end - off}
		if x != nil {
			sp.Frame = x.frame
			x.got += end - off
			last = x
		}
		spans = append(spans, sp)
		off = end
	}
	return spans, off, last
}
