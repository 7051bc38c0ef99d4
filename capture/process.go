package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"
	"unsafe"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/reassembly"
)

// processor turns packet records into connection events.
type processor struct {
	h     Handler
	dgram DatagramHandler // h, when it takes UDP payloads
	o     Options
	stats Stats

	dec    decoded
	tcp    layers.TCP
	synTCP layers.TCP // a held SYN being replayed
	// allReassembly gives every segment to gopacket reassembly instead
	// (inorder.go): tests compare the two.
	allReassembly bool
	holding       []*conv // connections holding bytes out of order
	buf           []byte  // a delivery of held bytes is gathered here
	rnd           uint32
	defrag        defragmenter
	anom          anomalies
	// assembling is set while reassembly takes a packet: a gap it reports
	// then is the MaxBufferedPerDir bound, not the flush timeout.
	assembling bool
	probeWork  int64 // offsets asked of reassembly for spans (spans.go)

	asm  *reassembly.Assembler
	pool *reassembly.StreamPool

	convs      map[convKey]*conv
	lastConv   *conv             // convs' entry for the latest key looked up (or nil): packets come in bursts
	lru        convList          // live connections, least recently active first
	closing    []*conv           // closed connections waiting for their linger time
	refused    []*conv           // the same, reset before they were established (refusedLinger)
	tombs      map[convKey]*tomb // ended connections kept for stream numbering
	tombOrder  []*tomb
	tombHead   int
	live       int
	nextStream int
	// connBytes is what the open connections hold (Options.MaxMemory):
	// ConnBytes each and their handlers' footprints.
	connBytes int64

	now       time.Time // latest packet time seen
	nextFlush time.Time
	// idleTC is the close time of the latest flush of reassembly, the
	// flushes'th (inorder.go judges in-order connections by them).
	idleTC  time.Time
	flushes uint32

	problems     [numProblemKinds]int
	unknownLinks map[uint32]bool
	// undefinedIfaces: pcapng interface ids named by packets but not described.
	undefinedIfaces map[int]bool

	slab  []pktCtx
	spans []Span
	// spare is a context reassembly no longer holds: the next packet
	// takes it.
	spare *pktCtx
}

func newProcessor(h Handler, o Options) *processor {
	p := &processor{h: h, o: o, convs: make(map[convKey]*conv), tombs: make(map[convKey]*tomb)}
	p.dgram, _ = h.(DatagramHandler)
	p.stats.MaxConns, p.stats.MaxBufferedPerDir, p.stats.MaxMemory = o.MaxConns, o.MaxBufferedPerDir, o.MaxMemory
	p.stats.MaxHeldSegments = max(o.MaxBufferedPerDir/32, 1024)
	p.pool = reassembly.NewStreamPool(streamFactory{p})
	p.asm = reassembly.NewAssembler(p.pool)
	pages := 2 * o.MaxBufferedPerDir / 1900
	if pages < 2 {
		pages = 2
	}
	p.asm.MaxBufferedPagesPerConnection = pages
	return p
}

func (p *processor) problem(pr Problem) {
	k := min(int(pr.Kind), len(p.problems)-1)
	p.problems[k]++
	switch {
	case p.problems[k] <= p.o.MaxProblems:
		p.h.Problem(pr)
	case p.problems[k] == p.o.MaxProblems+1 && pr.Kind != ProblemLimit:
		// Not Placed: the sentence quotes pr's, it does not start with
		// its place.
		p.h.Problem(Problem{Kind: ProblemLimit, Frame: pr.Frame, Offset: pr.Offset,
			Detail: fmt.Sprintf("more than %d problems of this kind (%s): the rest are not reported", p.o.MaxProblems, pr.Detail)})
	}
}

func (p *processor) corrupt(f Frame, off int64, format string, args ...any) {
	p.stats.Undecodable++
	p.problem(Problem{Kind: ProblemCorruptPacket, Placed: true, Frame: f.Number, Offset: off,
		Detail: fmt.Sprintf("frame %d: ", f.Number) + fmt.Sprintf(format, args...)})
}

func (p *processor) packet(rec record) {
	p.stats.Frames++
	p.stats.Bytes += int64(len(rec.data))
	f := Frame{Number: p.stats.Frames, Time: rec.ts}
	if !rec.ts.IsZero() {
		if p.stats.Start.IsZero() || rec.ts.Before(p.stats.Start) {
			p.stats.Start = rec.ts
		}
		if rec.ts.After(p.stats.End) {
			p.stats.End = rec.ts
		}
		if rec.ts.After(p.now) {
			p.now = rec.ts
		}
	}
	p.checkTime(f)
	p.countLinkType(rec.linkType)
	p.decodePacket(rec, f)
	p.tick()
}

// countLinkType counts a frame of link type lt: captures have one or a
// few.
func (p *processor) countLinkType(lt uint32) {
	ls := &p.stats.LinkTypes
	for i := range ls {
		switch {
		case ls[i].Frames == 0:
			var unknown errUnknownLink
			_, err := decodeLink(lt, nil, &decoded{})
			ls[i] = LinkTypeCount{lt, 1, !errors.As(err, &unknown)}
			return
		case ls[i].LinkType == lt:
			ls[i].Frames++
			return
		}
	}
	p.stats.OtherLinkTypes++
}

func (p *processor) decodePacket(rec record, f Frame) {
	if rec.undefined {
		p.undefinedInterface(rec, f)
		return
	}
	d := &p.dec
	ipb, err := decodeLink(rec.linkType, rec.data, d)
	if err != nil {
		var ul errUnknownLink
		switch {
		case errors.Is(err, errNotIP):
			p.stats.NonIPPackets++
		case errors.As(err, &ul):
			p.stats.Undecodable++
			if p.unknownLinks == nil {
				p.unknownLinks = make(map[uint32]bool)
			}
			if !p.unknownLinks[rec.linkType] {
				p.unknownLinks[rec.linkType] = true
				p.problem(Problem{Kind: ProblemUnknownLinkType, Placed: true, Frame: f.Number, Offset: rec.offset,
					Detail: fmt.Sprintf("frame %d: link type %d is not supported: its packets are not analysed", f.Number, rec.linkType)})
			}
		case len(rec.data) < rec.wireLen:
			p.stats.Undecodable++
			p.snaplen(f, rec, "the link header")
		default:
			p.corrupt(f, rec.offset, "%v", err)
		}
		return
	}
	if p.duplicate(ipb, f) {
		return
	}
	p.decodeNet(ipb, f, rec, 0)
}

// decodeNet decodes an IP packet and what it carries, following tunnels
// (IP in IP, GRE, VXLAN, Geneve, GTP-U) to the innermost packet.
func (p *processor) decodeNet(ipb []byte, f Frame, rec record, depth int) {
	d := &p.dec
	res, cut, err := decodeIP(ipb, d)
	if err != nil {
		if depth > 0 {
			return
		}
		if cut || len(rec.data) < rec.wireLen {
			p.stats.Undecodable++
			p.snaplen(f, rec, "the IP header")
		} else {
			p.corrupt(f, rec.offset, "%v", err)
		}
		return
	}
	if res == ipOther {
		return
	}
	if cut && len(rec.data) >= rec.wireLen {
		// Nothing was cut by the capture: the IP header claims more than
		// the link layer carries. As Wireshark does, the packet holds
		// what is there.
		p.problem(Problem{Kind: ProblemCorruptPacket, Placed: true, Frame: f.Number, Offset: rec.offset,
			Detail: fmt.Sprintf("frame %d: the IP header announces %d transport bytes, the link layer carries %d: read as %d", f.Number, d.l4Len, len(d.l4), len(d.l4))})
		d.l4Len = len(d.l4)
		cut = false
	}
	if cut {
		p.snaplen(f, rec, "the IP payload")
	}
	if res == ipFragment {
		if cut || ipb[0]>>4 != 4 {
			return
		}
		ihl := int(ipb[0]&0x0f) * 4
		whole, ok := p.defrag.add(ipb[:ihl+len(d.l4)], rec.ts, f.Number)
		p.fragOverlap(f)
		if !ok {
			return
		}
		if res, _, err = decodeIP(whole, d); err != nil || res != ipOK {
			return
		}
	}
	if depth < 4 {
		if inner, ok := tunnelPayload(d); ok {
			p.decodeNet(inner, f, rec, depth+1)
			return
		}
	}
	switch d.proto {
	case protoTCP:
		p.onTCP(f, rec)
	case protoUDP:
		p.stats.UDPPackets++
		p.onUDP(f, rec)
	case protoICMP, protoICMPv6:
		p.stats.ICMPPackets++
		p.onICMP(f, rec)
	}
}

func (p *processor) snaplen(f Frame, rec record, what string) {
	p.problem(Problem{Kind: ProblemSnaplenCut, Placed: true, Frame: f.Number, Offset: rec.offset,
		Detail: fmt.Sprintf("frame %d: captured %d of %d bytes (snaplen): %s is incomplete", f.Number, len(rec.data), rec.wireLen, what)})
}

// Connections.

type convKey struct {
	a, b netip.AddrPort // a < b
}

func makeKey(src, dst netip.AddrPort) (convKey, int) {
	if src.Compare(dst) <= 0 {
		return convKey{src, dst}, 0
	}
	return convKey{dst, src}, 1
}

func (k convKey) side(s int) netip.AddrPort {
	if s == 0 {
		return k.a
	}
	return k.b
}

// halfState is what we track of one direction (the packets one side sends).
type halfState struct {
	started bool   // seen a segment occupying sequence space
	hiEnd   uint32 // highest sequence end seen
	holes   []seqRange
	lost    bool // a hole could not be recorded: holes is incomplete
	cut     bool // a segment's payload was cut short by the capture

	dataEnd   uint32 // highest end of payload bytes seen
	delivered uint32 // highest end of payload bytes delivered
	hasData   bool

	winScale int8 // -1 unknown/none (int8 keeps a conv within 512 bytes)
	fin      bool

	// SYNs this side sent: the first ISN, and the last one that differed
	// (a SYN-ACK retried with a new ISN). When the side's first segment
	// without SYN (settled) follows alt instead of isn, its sequence
	// numbers are shifted into isn's space (shifted, shift) so
	// reassembly, which started from isn, takes its bytes.
	synSeen, altSeen, settled, shifted bool
	isn, alt, shift                    uint32
}

// seqSpace maps the sequence number of a segment this side sent into the
// space reassembly follows, switching to the retried ISN when the first
// segment after the handshake shows the peer accepted that one.
func (h *halfState) seqSpace(syn bool, seq uint32) uint32 {
	if syn {
		switch {
		case !h.synSeen:
			h.synSeen, h.isn = true, seq
		case seq != h.isn && !h.settled:
			h.altSeen, h.alt = true, seq
		}
		if h.shifted && (seq == h.isn || seq == h.alt) {
			return h.isn
		}
		return seq
	}
	if !h.settled {
		h.settled = true
		if h.altSeen && seq == h.alt+1 {
			h.shifted, h.shift = true, h.isn-h.alt
		}
	}
	if h.shifted {
		return seq + h.shift
	}
	return seq
}

// wsBase is Wireshark's base sequence number of one side: a SYN with
// another sequence number starts a new tcp.stream on the same 4-tuple.
type wsBase struct {
	set bool
	seq uint32
}

// tomb is what stays of an ended connection: enough to number streams.
type tomb struct {
	key    convKey
	stream int
	gen    uint8
	base   [2]wsBase
	seen   [2]bool   // hiEnd is known
	hiEnd  [2]uint32 // highest sequence end seen per side

}

// reused reports whether a SYN (without ACK) with sequence number seq from
// side starts a new tcp.stream, as Wireshark decides it.
func reused(base *[2]wsBase, side int, syn, ack bool, seq uint32) bool {
	return syn && !ack && base[side].set && base[side].seq != seq
}

// find returns the connection a packet belongs to, creating it when the
// packet starts a new tcp.stream; base is that stream's base sequence
// numbers. c is nil when the packet belongs to a connection already ended.
func (p *processor) find(key convKey, side int, f Frame, syn, ack bool, seq uint32, macs, revive bool) (c *conv, base *[2]wsBase) {
	if c = p.lastConv; c == nil || c.key != key {
		c = p.convs[key]
		p.lastConv = c
	}
	if c != nil {
		if !reused(&c.base, side, syn, ack, seq) {
			return c, &c.base
		}
	} else if tb := p.tombs[key]; tb != nil {
		if !reused(&tb.base, side, syn, ack, seq) {
			if !revive || (!syn && tb.seen[side] && seqLT(seq, tb.hiEnd[side])) {
				return nil, &tb.base
			}
			// The connection goes on after it was ended (a SYN retried
			// after a RST, data long after a FIN): same tcp.stream, told
			// as a new Conn.
			delete(p.tombs, key)
			c = p.newConvStream(key, side, f, syn, ack, macs, tb.stream, tb.gen+1)
			c.base = tb.base
			return c, &c.base
		}
		delete(p.tombs, key)
	}
	c = p.newConv(key, side, f, syn, ack, macs)
	return c, &c.base
}

type seqRange struct{ s, e uint32 }

func seqLT(a, b uint32) bool { return int32(a-b) < 0 }

const maxHoles = 32

// track records the segment [s, e) and reports whether it carries any
// sequence space already seen.
func (h *halfState) track(s, e uint32) bool {
	if !h.started {
		h.started = true
		h.hiEnd = e
		return false
	}
	if !seqLT(s, h.hiEnd) {
		if s != h.hiEnd {
			if len(h.holes) < maxHoles {
				h.holes = append(h.holes, seqRange{h.hiEnd, s})
			} else {
				h.lost = true
			}
		}
		h.hiEnd = e
		return false
	}
	// Is all of [s, min(e, hiEnd)) inside holes?
	top := e
	if seqLT(h.hiEnd, e) {
		top = h.hiEnd
	}
	seen := false
	pos := s
	for pos != top && seqLT(pos, top) {
		in := false
		for _, r := range h.holes {
			if !seqLT(pos, r.s) && seqLT(pos, r.e) {
				pos = r.e
				in = true
				break
			}
		}
		if !in {
			seen = true
			break
		}
	}
	// Remove [s, e) from the holes. A hole split in two makes one more:
	// they are gathered apart, not over the holes not yet read.
	var buf [maxHoles + 1]seqRange
	out := buf[:0]
	for _, r := range h.holes {
		switch {
		case !seqLT(r.s, e) || !seqLT(s, r.e): // disjoint
			out = append(out, r)
		default:
			if seqLT(r.s, s) {
				out = append(out, seqRange{r.s, s})
			}
			if seqLT(e, r.e) {
				out = append(out, seqRange{e, r.e})
			}
		}
	}
	if len(out) > maxHoles {
		out, h.lost = out[:maxHoles], true
	}
	h.holes = append(h.holes[:0], out...)
	if seqLT(h.hiEnd, e) {
		h.hiEnd = e
	}
	return seen
}

// covered reports whether every byte of [s, e) was seen before, so the
// segment carries nothing reassembly does not already hold.
func (h *halfState) covered(s, e uint32) bool {
	if !h.started || h.lost || h.cut || seqLT(h.hiEnd, e) || !seqLT(s, e) {
		return false
	}
	for _, r := range h.holes {
		if seqLT(s, r.e) && seqLT(r.s, e) {
			return false
		}
	}
	return true
}

type conv struct {
	key        convKey
	gen        uint8 // how many times this tcp.stream was ended and went on
	fed        bool  // reassembly has seen the connection
	clientSide uint8
	// cost is what the handler said it holds (Footprinter), counted in
	// processor.connBytes.
	cost int32
	base [2]wsBase
	conn Conn
	h    ConnHandler
	half [2]halfState

	stream    *rstream
	held      *[2]heldSYN // SYNs not yet given to reassembly, per side
	fast      inOrderState
	reasmDone bool
	rst       bool
	closed    bool
	queued    bool // in the closing queue
	// established: a SYN-ACK or payload was seen (a RST before is a
	// refusal, answered by the same SYN again at times).
	established bool
	ended       bool
	lastSeen    time.Time

	prev, next *conv // lru
}

func (c *conv) dir(side int) Dir {
	if side == int(c.clientSide) {
		return FromClient
	}
	return FromServer
}

func (c *conv) pending() bool {
	for i := range c.half {
		h := &c.half[i]
		if h.hasData && seqLT(h.delivered, h.dataEnd) {
			return true
		}
	}
	return false
}

type convList struct{ head, tail *conv }

// touch marks c as the most recently active connection.
func (p *processor) touch(c *conv) {
	c.lastSeen = p.now
	if p.lru.tail != c { // a burst of one connection's packets moves nothing
		p.lru.remove(c)
		p.lru.pushBack(c)
	}
}

func (l *convList) pushBack(c *conv) {
	c.prev, c.next = l.tail, nil
	if l.tail != nil {
		l.tail.next = c
	} else {
		l.head = c
	}
	l.tail = c
}

func (l *convList) remove(c *conv) {
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		l.head = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	} else {
		l.tail = c.prev
	}
	c.prev, c.next = nil, nil
}

type nopConnHandler struct{}

func (nopConnHandler) TCP(TCPEvent)    {}
func (nopConnHandler) Payload(Payload) {}
func (nopConnHandler) End(EndReason)   {}

func (p *processor) onTCP(f Frame, rec record) {
	d := &p.dec
	t := &p.tcp
	if err := t.DecodeFromBytes(d.l4, gopacket.NilDecodeFeedback); err != nil {
		if len(d.l4) < d.l4Len {
			p.stats.Undecodable++ // header cut by snaplen, already reported
			return
		}
		p.corrupt(f, rec.offset, "TCP: %v", err)
		return
	}
	p.stats.TCPPackets++
	hdr := int(t.DataOffset) * 4
	plen := d.l4Len - hdr
	if plen < 0 {
		p.corrupt(f, rec.offset, "TCP header length %d beyond the IP payload of %d bytes", hdr, d.l4Len)
		return
	}
	have := len(t.Payload)
	if have > plen {
		have = plen
		t.Payload = t.Payload[:plen]
	}
	if paddingPayload(t, have, plen) {
		// Ethernet padding the IP length wrongly counts as TCP payload
		// (nDPI's "TCP ACK payload" heuristic): the peers ignore it, and
		// taken as bytes it would stand in the way of the segment that
		// really carries them.
		plen, have = 0, 0
		t.Payload = nil
	}
	src := netip.AddrPortFrom(d.src, uint16(t.SrcPort))
	dst := netip.AddrPortFrom(d.dst, uint16(t.DstPort))
	key, side := makeKey(src, dst)
	c, base := p.find(key, side, f, t.SYN, t.ACK, t.Seq, true, t.SYN || plen > 0)
	// Wireshark's base sequence numbers decide when a SYN starts a new stream.
	if !base[side].set {
		base[side] = wsBase{true, t.Seq}
		if !t.SYN {
			base[side].seq = t.Seq - 1
		}
	}
	if !base[1-side].set && t.ACK {
		base[1-side] = wsBase{true, t.Ack - 1}
	}
	if c == nil || c.ended {
		return
	}
	p.touch(c)
	if t.SYN && !t.ACK && c.rst && c.closed && !c.established && side == int(c.clientSide) {
		p.reopen(c)
	}

	hs := &c.half[side]
	dir := c.dir(side)
	t.Seq = hs.seqSpace(t.SYN, t.Seq)
	if t.SYN {
		hs.winScale = -1
		for _, opt := range t.Options {
			if opt.OptionType == layers.TCPOptionKindWindowScale && len(opt.OptionData) >= 1 {
				hs.winScale = int8(min(opt.OptionData[0], 14))
			}
		}
	}
	win := int(t.Window)
	if !t.SYN && hs.winScale >= 0 && c.half[1-side].winScale >= 0 {
		win <<= hs.winScale
	}
	ev := TCPEvent{Dir: dir, Frame: f, Window: win}
	emit := func(k TCPEventKind) {
		ev.Kind = k
		c.h.TCP(ev)
	}
	if t.SYN {
		if t.ACK {
			c.established = true
			emit(SYNACK)
		} else {
			emit(SYN)
		}
	}
	// A copy of bytes already seen is kept from reassembly (it is no news
	// of the connection); where the first copy is still held, the two are
	// compared.
	dup, finOnly := false, false
	if !t.RST {
		seglen := uint32(plen)
		if t.SYN {
			seglen++
		}
		if t.FIN {
			seglen++
		}
		switch {
		case plen <= 1 && !t.SYN && !t.FIN && hs.started && t.Seq == hs.hiEnd-1:
			emit(KeepAlive)
		case seglen > 0:
			dup = have > 0 && have == plen && !t.SYN && hs.covered(t.Seq, t.Seq+uint32(plen))

			finOnly = dup && t.FIN && !hs.covered(t.Seq, t.Seq+seglen)
			if have < plen {
				hs.cut = true
			}
			if hs.track(t.Seq, t.Seq+seglen) {
				emit(Retransmission)
			}
		}
		if t.Window == 0 && !t.SYN && !t.FIN {
			emit(ZeroWindow)
		}
	}
	if dup && !p.allReassembly {
		p.compareHeld(c, side, t.Seq, t.Payload[:have], f)
	}
	if finOnly {
		// Only the FIN is new: reassembly gets it alone.
		t.Seq += uint32(have)
		t.Payload, have, dup = nil, 0, false
	}
	if have > 0 {
		start := t.Seq
		if t.SYN {
			start++
		}
		end := start + uint32(have)
		if !hs.hasData {
			hs.hasData = true
			hs.dataEnd = end
			hs.delivered = start
		} else if seqLT(hs.dataEnd, end) {
			hs.dataEnd = end
		}
	}

	if dup {
		p.closeState(c, side, t, emit)
		return
	}
	if !c.fed {
		if t.SYN && have == 0 && !t.FIN && !t.RST {
			if c.held == nil {
				p.connBytes += heldBytes
			}
			c.holdSYN(side, d.l4, f, len(rec.data), rec.wireLen)
			p.closeState(c, side, t, emit)
			return
		}
		p.replaySYNs(c)
		if c.ended {
			return
		}
	}
	p.assemble(c, side, t, f, len(rec.data), rec.wireLen, have)
	if c.ended { // evicted while assembling
		return
	}
	if have > 0 && p.o.MaxMemory > 0 {
		p.account(c)
		p.bound(c, f)
	}
	p.closeState(c, side, t, emit)
}

// assemble hands one segment to reassembly, with the context that lets
// every reassembled byte name its frame; the in-order path takes it first
// when it can.
func (p *processor) assemble(c *conv, side int, t *layers.TCP, f Frame, caplen, wirelen, have int) {
	if !p.allReassembly {
		p.inOrder(c, side, t, f, have)
		return
	}
	ctx := p.newCtx()
	ctx.ci = gopacket.CaptureInfo{Timestamp: f.Time, CaptureLength: caplen, Length: wirelen}
	ctx.anc[0] = ctx
	ctx.ci.AncillaryData = ctx.anc[:]
	ctx.frame = f
	ctx.conv = c
	ctx.side = uint8(side)
	ctx.seq = t.Seq
	if t.SYN {
		ctx.seq++
	}
	ctx.n = have
	var a, b [6]byte
	binary.BigEndian.PutUint32(a[:], uint32(c.conn.Stream))
	binary.BigEndian.PutUint32(b[:], uint32(c.conn.Stream))
	a[4], b[4] = c.gen, c.gen
	a[5], b[5] = byte(side), byte(1-side)
	p.assembling = true
	p.asm.AssembleWithContext(gopacket.NewFlow(layers.EndpointMAC, a[:], b[:]), t, ctx)
	p.assembling = false
	// Reassembly keeps a packet's context only in the pages holding its
	// bytes not yet delivered (a packet without payload gets no page, and
	// the stream never asks to keep delivered bytes): once all of them
	// were delivered, the context is free.
	if ctx.got == have {
		p.spare = ctx
	}
}

// heldSYN is a SYN or SYN-ACK without payload that reassembly has not
// seen yet. Reassembly state costs about 0.7 KB per connection; holding
// the handshake back until a later packet of the connection arrives keeps
// connections that never get further (SYN floods, unanswered or refused
// SYNs) out of it.
type heldSYN struct {
	hdr             [20]byte // the TCP header without options
	frame           Frame
	caplen, wirelen int
}

// holdSYN keeps side's first SYN for replaySYNs. Later SYNs of the side
// would be dropped by reassembly (the half already has its start).
func (c *conv) holdSYN(side int, tcp []byte, f Frame, caplen, wirelen int) {
	if c.held == nil {
		c.held = new([2]heldSYN)
	}
	h := &c.held[side]
	if h.frame.Number != 0 {
		return
	}
	copy(h.hdr[:], tcp)
	h.hdr[12] = 5 << 4 // data offset: no options
	h.frame, h.caplen, h.wirelen = f, caplen, wirelen
}

// replaySYNs gives reassembly the SYNs held back, in frame order, before
// the first other packet of the connection: it then sees the same
// sequence of packets as if nothing had been held.
func (p *processor) replaySYNs(c *conv) {
	c.fed = true
	held := c.held
	c.held = nil
	if held == nil {
		return
	}
	p.connBytes -= heldBytes
	first := 0
	if held[1].frame.Number != 0 && (held[0].frame.Number == 0 || held[1].frame.Number < held[0].frame.Number) {
		first = 1
	}
	for _, side := range [2]int{first, 1 - first} {
		h := &held[side]
		if h.frame.Number == 0 || c.ended {
			continue
		}
		t := &p.synTCP
		if err := t.DecodeFromBytes(h.hdr[:], gopacket.NilDecodeFeedback); err != nil {
			continue // cannot happen: the header decoded once already
		}
		p.assemble(c, side, t, h.frame, h.caplen, h.wirelen, 0)
	}
}

// closeState records the FIN or RST a segment carries.
func (p *processor) closeState(c *conv, side int, t *layers.TCP, emit func(TCPEventKind)) {
	hs := &c.half[side]
	if t.FIN {
		hs.fin = true
		emit(FIN)
	}
	if t.RST {
		c.rst = true
		emit(RST)
	}
	if !c.closed && (c.rst || (c.half[0].fin && c.half[1].fin)) {
		c.closed = true
	}
	if c.closed && !c.queued {
		c.queued = true
		if c.rst && !c.established && !c.half[0].hasData && !c.half[1].hasData {
			p.refused = append(p.refused, c)
		} else {
			p.closing = append(p.closing, c)
		}
	}
}

// paddingPayload reports whether a segment's payload is zero padding: a
// few zero bytes (2 to 6; a single byte is a keep-alive probe) on a bare ACK or
// SYN-ACK (no PSH, FIN or RST).
func paddingPayload(t *layers.TCP, have, plen int) bool {
	if plen < 2 || plen > 6 || have != plen || !t.ACK || t.PSH || t.FIN || t.RST {
		return false
	}
	for _, b := range t.Payload[:have] {
		if b != 0 {
			return false
		}
	}
	return true
}

func (p *processor) newConv(key convKey, side int, f Frame, syn, ack, macs bool) *conv {
	p.nextStream++
	p.stats.TCPConns++
	return p.newConvStream(key, side, f, syn, ack, macs, p.nextStream-1, 0)
}

func (p *processor) newConvStream(key convKey, side int, f Frame, syn, ack, macs bool, stream int, gen uint8) *conv {
	c := &conv{key: key, gen: gen}
	c.half[0].winScale, c.half[1].winScale = -1, -1
	client := side
	switch {
	case syn && !ack:
		c.conn.SawSYN = true
	case syn && ack:
		client = 1 - side
		c.conn.SawSYN = true
	default:
		c.conn.ClientGuessed = true
		pa, pb := key.a.Port(), key.b.Port()
		switch {
		case pa > pb:
			client = 0
		case pb > pa:
			client = 1
		}
	}
	c.clientSide = uint8(client)
	c.conn.Stream = stream
	c.conn.Client = key.side(client)
	c.conn.Server = key.side(1 - client)
	c.conn.First = f
	if macs && p.dec.srcMAC != nil {
		mac := net.HardwareAddr(append([]byte(nil), p.dec.srcMAC...))
		if side == client {
			c.conn.ClientMAC = mac
		} else {
			c.conn.ServerMAC = mac
		}
	}
	if macs && p.dec.dstMAC != nil {
		mac := net.HardwareAddr(append([]byte(nil), p.dec.dstMAC...))
		if side == client {
			c.conn.ServerMAC = mac
		} else {
			c.conn.ClientMAC = mac
		}
	}
	p.convs[key] = c
	p.lastConv = c
	c.h = p.h.Conn(&c.conn)
	if c.h == nil {
		c.h = nopConnHandler{}
	}
	c.lastSeen = p.now
	p.lru.pushBack(c)
	p.live++
	p.connBytes += ConnBytes
	p.account(c)
	p.bound(c, f)
	return c
}

// ConnBytes is what the capture holds for one open connection: its state
// (about 510 bytes) and its entry in the connection table, measured with
// a heap profile of 65,536 open connections (683 bytes each). Reassembly
// of out-of-order bytes, bounded by MaxBufferedPerDir, is not counted.
const ConnBytes = 683

// heldBytes is what a connection's held SYNs take (holdSYN).
const heldBytes = int64(unsafe.Sizeof([2]heldSYN{}))

// account asks c's handler what it holds now (Footprinter).
func (p *processor) account(c *conv) {
	fp, ok := c.h.(Footprinter)
	if !ok {
		return
	}
	n := int32(min(fp.Footprint(), 1<<30))
	p.connBytes += int64(n - c.cost)
	c.cost = n
}

// bound ends the least recently active connections, never keep, while
// more are open than MaxConns or they hold more than MaxMemory.
func (p *processor) bound(keep *conv, f Frame) {
	for {
		count := p.live > p.o.MaxConns
		memory := !count && p.o.MaxMemory > 0 && p.connBytes > p.o.MaxMemory
		if !count && !memory {
			return
		}
		old := p.lru.head
		if old == keep {
			if old = old.next; old == nil {
				return
			}
		}
		p.stats.Evicted++
		detail := fmt.Sprintf("frame %d: more than %d connections open at once: tcp.stream %d was ended early", f.Number, p.o.MaxConns, old.conn.Stream)
		if memory {
			p.stats.EvictedMemory++
			detail = fmt.Sprintf("frame %d: the open connections held more than %s (--max-memory): tcp.stream %d was ended early", f.Number, FormatSize(p.o.MaxMemory), old.conn.Stream)
		}
		p.problem(Problem{Kind: ProblemConnLimit, Placed: true, Frame: f.Number, Offset: -1, Detail: detail})
		p.end(old, EndEvicted)
	}
}

func (p *processor) end(c *conv, r EndReason) {
	if c.ended {
		return
	}
	c.ended = true
	p.lru.remove(c)
	p.live--
	p.connBytes -= ConnBytes + int64(c.cost)
	c.cost = 0
	if c.held != nil {
		p.connBytes -= heldBytes
		c.held = nil
	}
	h := c.h
	c.h = nopConnHandler{}
	h.End(r)
	c.half[0].holes, c.half[1].holes = nil, nil
	p.dropHeld(c, 0)
	p.dropHeld(c, 1)
	// Keep what numbering needs of the ended connection, a bounded while.
	if p.convs[c.key] == c {
		delete(p.convs, c.key)
		if p.lastConv == c {
			p.lastConv = nil
		}
		tb := &tomb{key: c.key, stream: c.conn.Stream, gen: c.gen, base: c.base}
		for i := range c.half {
			tb.seen[i], tb.hiEnd[i] = c.half[i].started, c.half[i].hiEnd
		}
		p.tombs[c.key] = tb
		p.tombOrder = append(p.tombOrder, tb)
		for len(p.tombOrder)-p.tombHead > p.o.MaxClosed {
			old := p.tombOrder[p.tombHead]
			p.tombOrder[p.tombHead] = nil
			p.tombHead++
			if p.tombs[old.key] == old {
				delete(p.tombs, old.key)
			}
		}
		if p.tombHead > 1024 && p.tombHead*2 > len(p.tombOrder) {
			p.tombOrder = append(p.tombOrder[:0], p.tombOrder[p.tombHead:]...)
			p.tombHead = 0
		}
	}
}

// tick runs the time-driven duties: flushing reassembly, ending closed
// and idle connections.
func (p *processor) tick() {
	now := p.now
	if now.IsZero() {
		return
	}
	if p.nextFlush.IsZero() {
		p.nextFlush = now.Add(p.o.FlushAfter / 4)
	}
	if !now.Before(p.nextFlush) {
		p.idleTC = now.Add(-p.o.IdleTimeout)
		p.flushes++
		p.flushHeld(now.Add(-p.o.FlushAfter).UnixNano(), p.idleTC.UnixNano(), false)
		p.asm.FlushWithOptions(reassembly.FlushOptions{T: now.Add(-p.o.FlushAfter), TC: p.idleTC})
		p.nextFlush = now.Add(p.o.FlushAfter / 4)
	}
	p.closing = p.endClosed(p.closing, p.o.Linger)
	p.refused = p.endClosed(p.refused, max(p.o.Linger, refusedLinger))
	for c := p.lru.head; c != nil && now.Sub(c.lastSeen) > p.o.IdleTimeout; c = p.lru.head {
		p.end(c, EndIdle)
	}
}

// refusedLinger is how long a connection reset before it was
// established stays open: a client may send the same SYN again after the
// RST (Windows does, 3 s later; 13 s in suricata-verify
// tls-subjectaltname), which Wireshark numbers the same
// tcp.stream: one connection, not two with one number (reopen).
const refusedLinger = 30 * time.Second

// endClosed ends the connections of a closing queue whose linger time
// passed since their last packet, and returns the rest of the queue.
func (p *processor) endClosed(q []*conv, linger time.Duration) []*conv {
	for len(q) > 0 {
		c := q[0]
		if !c.ended && c.closed {
			idle := p.now.Sub(c.lastSeen)
			if idle < linger {
				break
			}
			if !p.reassemblyDone(c) && c.pending() && idle < linger+p.o.FlushAfter*3/2 {
				break
			}
			p.end(c, EndClosed)
		} else if !c.closed {
			c.queued = false // reopened
		}
		q[0] = nil
		q = q[1:]
	}
	return q
}

// reopen starts a refused connection over at the same SYN sent again:
// its directions, ended by the RST, take the new attempt's bytes.
func (p *processor) reopen(c *conv) {
	// What the attempt before held is in the capture: delivered (after
	// its gap), not dropped.
	for side := range 2 {
		for c.fast.held(side) != nil {
			p.skipGap(c, side, false)
		}
	}
	p.dropHeld(c, 0)
	p.dropHeld(c, 1)
	c.fast = inOrderState{}
	c.reasmDone, c.closed, c.rst = false, false, false
	c.half[0].fin, c.half[1].fin = false, false
	// A new flow for gopacket reassembly (allReassembly), as after an end.
	c.gen++
	c.stream = nil
}

func (p *processor) finish() {
	p.anomalySummary()
	p.flushHeld(0, 0, true)
	p.asm.FlushAll()
	for c := p.lru.head; c != nil; c = p.lru.head {
		if c.closed {
			p.end(c, EndClosed)
		} else {
			p.end(c, EndCaptureDone)
		}
	}
}

// Reassembly glue.

// pktCtx is the reassembly context of one TCP packet: it carries the frame
// so every reassembled byte can be attributed to the packet that brought it.
type pktCtx struct {
	ci    gopacket.CaptureInfo
	anc   [1]any
	frame Frame
	conv  *conv
	side  uint8
	seq   uint32 // sequence number of the first payload byte
	n     int    // payload bytes present
	got   int    // payload bytes delivered so far
}

func (c *pktCtx) GetCaptureInfo() gopacket.CaptureInfo { return c.ci }

func (p *processor) newCtx() *pktCtx {
	if c := p.spare; c != nil {
		p.spare = nil
		*c = pktCtx{}
		return c
	}
	if len(p.slab) == 0 {
		p.slab = make([]pktCtx, 256)
	}
	c := &p.slab[0]
	p.slab = p.slab[1:]
	return c
}

func ctxAt(sg reassembly.ScatterGather, off int) *pktCtx {
	ci := sg.CaptureInfo(off)
	if len(ci.AncillaryData) == 0 {
		return nil
	}
	c, _ := ci.AncillaryData[0].(*pktCtx)
	return c
}

type streamFactory struct{ p *processor }

func (f streamFactory) New(_, _ gopacket.Flow, _ *layers.TCP, ac reassembly.AssemblerContext) reassembly.Stream {
	ctx, ok := ac.(*pktCtx)
	if !ok || ctx.conv == nil || ctx.conv.ended || ctx.conv.stream != nil {
		return nil
	}
	s := &rstream{p: f.p, c: ctx.conv, firstSide: int(ctx.side)}
	ctx.conv.stream = s
	return s
}

type rstream struct {
	p         *processor
	c         *conv
	firstSide int
	pend      [2]pending // per side: packets held out of order (spans.go)
}

func (s *rstream) Accept(_ *layers.TCP, _ gopacket.CaptureInfo, _ reassembly.TCPFlowDirection, next reassembly.Sequence, start *bool, ac reassembly.AssemblerContext) bool {
	*start = true // connections already open when the capture started
	s.queue(ac, next)
	return true
}

func (s *rstream) ReassembledSG(sg reassembly.ScatterGather, _ reassembly.AssemblerContext) {
	c := s.c
	if c.ended {
		return
	}
	rdir, _, _, skip := sg.Info()
	side := s.firstSide
	if rdir == reassembly.TCPDirServerToClient {
		side = 1 - side
	}
	dir := c.dir(side)
	n, _ := sg.Lengths()
	if skip > 0 {
		ev := TCPEvent{Kind: Gap, Dir: dir, Missing: skip}
		if n > 0 {
			if x := ctxAt(sg, 0); x != nil {
				ev.Frame = x.frame
			}
		}
		c.h.TCP(ev)
		if s.p.assembling { // else the flush timeout: the bytes never came
			s.p.bufferBound(c, ev, false)
		}
	}
	if n == 0 {
		return
	}
	data := sg.Fetch(n)
	spans, last := s.spansOf(sg, n, side)
	if last != nil {
		hs := &c.half[side]
		if e := last.seq + uint32(last.n); seqLT(hs.delivered, e) {
			hs.delivered = e
		}
	}
	c.h.Payload(Payload{Dir: dir, Data: data, Spans: spans})
}

func (s *rstream) ReassemblyComplete(_ reassembly.AssemblerContext) bool {
	s.c.reasmDone = true
	return true
}

// onICMP reports ICMP errors about TCP packets to their connection (and,
// as Wireshark does, gives an unseen connection its tcp.stream there).
func (p *processor) onICMP(f Frame, rec record) {
	d := &p.dec
	b := d.l4
	if len(b) < 8 {
		return
	}
	typ, code := b[0], b[1]
	var inner []byte
	var src, dst netip.Addr
	if d.proto == protoICMP {
		switch typ {
		case 3, 4, 5, 11, 12:
		default:
			return
		}
		inner = b[8:]
		if len(inner) < 20 || inner[0]>>4 != 4 || inner[9] != protoTCP {
			return
		}
		ihl := int(inner[0]&0x0f) * 4
		if ihl < 20 || len(inner) < ihl {
			return
		}
		src = netip.AddrFrom4([4]byte(inner[12:16]))
		dst = netip.AddrFrom4([4]byte(inner[16:20]))
		inner = inner[ihl:]
	} else {
		if typ < 1 || typ > 4 {
			return
		}
		inner = b[8:]
		if len(inner) < 40 || inner[0]>>4 != 6 || inner[6] != protoTCP {
			return
		}
		src = netip.AddrFrom16([16]byte(inner[8:24]))
		dst = netip.AddrFrom16([16]byte(inner[24:40]))
		inner = inner[40:]
	}
	if len(inner) < 16 { // Wireshark needs the flags and window to get this far
		return
	}
	sp := netip.AddrPortFrom(src, binary.BigEndian.Uint16(inner[0:2]))
	dp := netip.AddrPortFrom(dst, binary.BigEndian.Uint16(inner[2:4]))
	seq := binary.BigEndian.Uint32(inner[4:8])
	flags := inner[13]
	syn, ack := flags&0x02 != 0, flags&0x10 != 0
	key, side := makeKey(sp, dp)
	c, _ := p.find(key, side, f, syn, ack, seq, false, false)
	if c == nil || c.ended {
		return
	}
	p.touch(c)
	c.h.TCP(TCPEvent{Kind: ICMPError, Dir: c.dir(side), Frame: f, ICMPType: typ, ICMPCode: code})
}
