package decode

// A connection's events are cut from blocks it allocates as it goes: a
// short TLS connection (a dozen records and messages, two dozen frame
// lists) then costs a few allocations instead of one per event. Every
// piece has its own capacity, so an append past it moves the piece and
// never writes over a neighbour. A block lives as long as any piece of it
// is referenced; the consumer keeps a connection's events together anyway.

const (
	frameBlock = 64 // frame numbers per block
	typeBlock  = 32 // handshake types per block
	typeRoom   = 4  // handshake types per record before it grows alone
)

// frameRoom returns an empty frame list with room for n frames.
func (c *Conn) frameRoom(n int) []int {
	if cap(c.frames)-len(c.frames) < n {
		if n > frameBlock/4 {
			return make([]int, 0, n)
		}
		c.frames = make([]int, 0, frameBlock)
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
	}
	l := len(c.types)
	c.types = c.types[:l+typeRoom]
	return c.types[l : l : l+typeRoom]
}

// newRecord returns a zero Record of the connection. The first block holds
// 4, the next 8 each: a connection that sends little holds little, and a
// short one wastes few.
func (c *Conn) newRecord() *Record {
	if len(c.recs) == cap(c.recs) {
		c.recs = make([]Record, 0, min(2*cap(c.recs)+4, 8))
	}
	c.recs = c.recs[:len(c.recs)+1]
	return &c.recs[len(c.recs)-1]
}

// newHandshake returns a zero Handshake of the connection, as newRecord.
func (c *Conn) newHandshake() *Handshake {
	if len(c.msgs) == cap(c.msgs) {
		c.msgs = make([]Handshake, 0, min(2*cap(c.msgs)+4, 8))
	}
	c.msgs = c.msgs[:len(c.msgs)+1]
	return &c.msgs[len(c.msgs)-1]
}
