package decode

import (
	"unsafe"

	"tlspcap/capture"
)

// A connection's events are cut from blocks it allocates as it goes: a
// short TLS connection (a dozen records and messages, two dozen frame
// lists) then costs a few allocations instead of one per event. Every
// piece has its own capacity, so an append past it moves the piece and
// never writes over a neighbour. A block lives as long as any piece of it
// is referenced; the consumer keeps a connection's events together anyway.

const (
	frameBlock = 64 // frame numbers per block
	// The first block is small: a connection that sends one ClientHello
	// and no more (a flood, a scan, an unanswered device: many of them
	// open at once) holds a frame list or two.
	firstFrameBlock = 8
	typeBlock       = 32 // handshake types per block
	typeRoom        = 4  // handshake types per record before it grows alone
)

// frameRoom returns an empty frame list with room for n frames.
func (c *Conn) frameRoom(n int) []int {
	if cap(c.frames)-len(c.frames) < n {
		if n > frameBlock/4 {
			return make([]int, 0, n)
		}
		size := frameBlock
		if c.frames == nil && n <= firstFrameBlock {
			size = firstFrameBlock
		}
		c.frames = make([]int, 0, size)
		c.blocks += size * int(unsafe.Sizeof(0))
	}
	l := len(c.frames)
	c.frames = c.frames[:l+n]
	return c.frames[l : l : l+n]
}

// cloneFrames copies a frame list (nil stays nil, as slices.Clone).
func (c *Conn) cloneFrames(fs []int) []int {
	if len(fs) == 0 {
		return fs[:0:0]
	}
	return append(c.frameRoom(len(fs)), fs...)
}

// typeRoom returns an empty HandshakeTypes list with room for a few types.
func (c *Conn) typeRoom() []uint8 {
	if cap(c.types)-len(c.types) < typeRoom {
		c.types = make([]uint8, 0, typeBlock)
		c.blocks += typeBlock
	}
	l := len(c.types)
	c.types = c.types[:l+typeRoom]
	return c.types[l : l : l+typeRoom]
}

// newRecord returns a zero Record of the connection. The first block holds
// 1 (a ClientHello alone), the next 4, then 8 each: a connection that
// sends little holds little, and a short one wastes few.
func (c *Conn) newRecord() *Record {
	if len(c.recs) == cap(c.recs) {
		c.recs = make([]Record, 0, blockSize(cap(c.recs)))
		c.blocks += cap(c.recs) * int(unsafe.Sizeof(Record{}))
	}
	c.recs = c.recs[:len(c.recs)+1]
	return &c.recs[len(c.recs)-1]
}

// newHandshake returns a zero Handshake of the connection, as newRecord.
func (c *Conn) newHandshake() *Handshake {
	if len(c.msgs) == cap(c.msgs) {
		c.msgs = make([]Handshake, 0, blockSize(cap(c.msgs)))
		c.blocks += cap(c.msgs) * int(unsafe.Sizeof(Handshake{}))
	}
	c.msgs = c.msgs[:len(c.msgs)+1]
	return &c.msgs[len(c.msgs)-1]
}

// blockSize is the size of the block of records or messages after one of
// size prev (0 for the first): 1, 4, then 8.
func blockSize(prev int) int {
	if prev == 0 {
		return 1
	}
	return min(4*prev, 8)
}

// Footprint estimates the bytes of memory the decoder holds for its
// connection: itself, the directions begun, the blocks its events were cut
// from and the messages parsed (which the consumer keeps), and the bytes
// it buffers now (a record or message being read, bytes being sniffed).
// It is what a connection costs while open, for bounding many of them.
func (c *Conn) Footprint() int {
	n := int(unsafe.Sizeof(*c)) + c.blocks
	for _, d := range c.d {
		if d == nil {
			continue
		}
		n += int(unsafe.Sizeof(*d)) + cap(d.small) + cap(d.hs.buf) +
			d.pend.footprint() + d.body.footprint()
		if d.rs != nil {
			n += int(unsafe.Sizeof(*d.rs))
		}
	}
	return n
}

func (p *pending) footprint() int {
	return cap(p.buf) + cap(p.spans)*int(unsafe.Sizeof(capture.Span{}))
}
