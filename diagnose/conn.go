package diagnose

import (
	"slices"
	"time"
	"unsafe"

	"tlspcap/capture"
	"tlspcap/decode"
)

// maxKeptRecords bounds the records a connection keeps for rules and the
// `records` listing; counters keep counting past it. Past it, a connection
// still keeps what the rules look for (see lateRecords), and a tlspcap-limit
// finding says how many records are not listed.
const maxKeptRecords = 4096

// Past maxKeptRecords: the last tailRecords records per direction are kept
// (how a long connection ended: the last record before a close, a
// truncated one), and at most maxLateRecords others the rules need.
const (
	tailRecords    = 8
	maxLateRecords = 256
)

// tcpFacts are what the capture layer said about one connection.
type tcpFacts struct {
	syn, synAck *capture.TCPEvent
	synRetries  int
	fin, rst    [2]*capture.TCPEvent // first FIN / RST per direction
	lastFrame   [2]capture.Frame     // last packet per direction (TCP events or payload)
	end         capture.EndReason
	ended       bool
	events      uint8 // events kept (keep), at most 7
	// *streamFacts (c.tcp.gaps, ...) comes with the first byte or
	// stream event (streamFacts): a SYN flood's half-open connections, a
	// large share of a flood's memory, go without it until decided.
	*streamFacts
}

// streamFacts are what the capture said about a connection's byte stream.
type streamFacts struct {
	zeroWindow      [2]*capture.TCPEvent
	gaps            []capture.TCPEvent // the first 64
	retransmissions [2]int
	firstPayload    [2]capture.Frame
	payloadBytes    [2]int64
	lastPayload     [2]capture.Frame
	cutFrames       []int // this connection's packets the capture cut short (the first 64)

	// Past the first 64 gaps: how many more and their bytes, [0] where
	// packets are missing, [1] in packets the snap length cut; cutCount
	// counts all the cut packets.
	moreGaps, moreGapBytes [2]int
	cutCount               int
	overlap                *overlapFacts // segments whose bytes differ from the copy captured first
}

// overlapFacts count, per direction, the segments that overlap bytes
// captured before with other bytes (capture.OverlapConflict).
type overlapFacts struct {
	segments, bytes [2]int
	frames          []int // the first 16
}

// stream returns the stream facts, made on first use.
func (t *tcpFacts) stream() *streamFacts {
	if t.streamFacts == nil {
		t.streamFacts = new(streamFacts)
	}
	return t.streamFacts
}

// tlsFacts are what the TLS decoder said.
type tlsFacts struct {
	records      []*decode.Record
	recordCount  [2]int
	largest      [2]*decode.Record // largest record per direction
	handshakes   []*decode.Handshake
	alerts       []*decode.Alert
	fatalKept    [2]bool // alerts holds a readable fatal alert of the direction
	ccs          [2]*decode.ChangeCipherSpec
	notTLS       [2]*decode.NotTLS
	decodeErrors []*decode.DecodeError
	appData      [2]int // encrypted application data records (not handshake)
	clientHello  *decode.Handshake
	serverHello  *decode.Handshake
	hrr          *decode.Handshake
	certificate  [2]*decode.Handshake
	certRequest  *decode.Handshake
	serverDone   *decode.Handshake
	clientKX     *decode.Handshake
	finished     [2]*decode.Handshake
	// firstEncrypted is the first encrypted record per direction (TLS 1.3
	// handshake flight, or TLS 1.2 Finished after CCS).
	firstEncrypted [2]*decode.Record
	// late comes past maxKeptRecords: most connections never get there.
	late *lateRecords
	// overBound are messages beyond a bound of decode (MaxKeptMessage,
	// MaxCertificates), the first maxOverBound of them; overBoundN counts all.
	overBound  []*decode.Handshake
	overBoundN int
}

type tlsState struct{ tls tlsFacts }

// conn is the per-connection model the rules read.
type conn struct {
	info capture.Conn
	tcp  tcpFacts
	// tlsState (c.tls) comes with the decoder, on the first payload byte:
	// half-open connections, a SYN flood, go without it until decided.
	*tlsState
	dec  *decode.Conn
	an   *Analyzer
	swap bool // the capture guessed the client wrong: the ClientHello came from "server"
}

func (c *conn) seen(dir capture.Dir, f capture.Frame) {
	if f.Number > c.tcp.lastFrame[dir].Number {
		c.tcp.lastFrame[dir] = f
	}
}

// TCP implements capture.ConnHandler.
func (c *conn) TCP(ev capture.TCPEvent) {
	c.seen(ev.Dir, ev.Frame)
	switch ev.Kind {
	case capture.SYN:
		if c.tcp.syn == nil {
			c.tcp.syn = c.tcp.keep(ev)
		} else {
			c.tcp.synRetries++
		}
		if c.tcp.synAck == nil && ev.Dir == capture.FromClient && (c.tcp.streamFacts == nil || c.tcp.payloadBytes == [2]int64{}) {
			// The same SYN again after a RST that refused the attempt,
			// nothing sent yet: the connection starts over (capture goes
			// on with it), the RST ended only the attempt before.
			c.tcp.rst = [2]*capture.TCPEvent{}
		}
	case capture.SYNACK:
		if c.tcp.synAck == nil {
			c.tcp.synAck = c.tcp.keep(ev)
		}
	case capture.FIN:
		if c.tcp.fin[ev.Dir] == nil {
			c.tcp.fin[ev.Dir] = c.tcp.keep(ev)
		}
	case capture.RST:
		if c.tcp.rst[ev.Dir] == nil {
			c.tcp.rst[ev.Dir] = c.tcp.keep(ev)
		}
	case capture.ZeroWindow:
		if s := c.tcp.stream(); s.zeroWindow[ev.Dir] == nil {
			s.zeroWindow[ev.Dir] = c.tcp.keep(ev)
		}
	case capture.Retransmission:
		c.tcp.stream().retransmissions[ev.Dir]++
	case capture.OverlapConflict:
		s := c.tcp.stream()
		if s.overlap == nil {
			s.overlap = new(overlapFacts)
		}
		o := s.overlap
		o.segments[ev.Dir]++
		o.bytes[ev.Dir] += ev.Differ
		if len(o.frames) < 16 {
			o.frames = append(o.frames, ev.Frame.Number)
		}
	case capture.Gap:
		if s := c.tcp.stream(); len(s.gaps) < 64 {
			s.gaps = append(s.gaps, ev)
		} else {
			k := 0
			if c.an.snaplenFrames[ev.Frame.Number] {
				k = 1
			}
			s.moreGaps[k]++
			s.moreGapBytes[k] += ev.Missing
		}
		c.decoder().Gap(ev.Dir, ev.Missing)
	}
}

// keep copies ev to the heap: only the events a connection keeps are
// allocated, not every retransmission. Footprint counts them.
func (t *tcpFacts) keep(ev capture.TCPEvent) *capture.TCPEvent {
	t.events++
	return &ev
}

// Payload implements capture.ConnHandler.
func (c *conn) Payload(p capture.Payload) {
	st := c.tcp.stream()
	if len(p.Spans) > 0 {
		if st.firstPayload[p.Dir].Number == 0 {
			st.firstPayload[p.Dir] = p.Spans[0].Frame
		}
		last := p.Spans[len(p.Spans)-1].Frame
		st.lastPayload[p.Dir] = last
		c.seen(p.Dir, last)
	}
	// Only captures with snap-length problems pay for this lookup.
	for _, sp := range p.Spans {
		if len(c.an.snaplenFrames) == 0 {
			break
		}
		if c.an.snaplenFrames[sp.Frame.Number] {
			if st.cutCount++; len(st.cutFrames) < 64 {
				st.cutFrames = append(st.cutFrames, sp.Frame.Number)
			}
		}
	}
	st.payloadBytes[p.Dir] += int64(len(p.Data))
	c.decoder().Payload(p.Dir, p.Data, p.Spans)
}

// decoder returns the connection's TLS decoder, made on first use: most of
// a connection's memory, which half-open connections never need.
func (c *conn) decoder() *decode.Conn {
	if c.dec == nil {
		c.dec = decode.NewConn(c.event)
		c.dec.SetKeyLog(c.an.keys)
		c.tlsState = new(tlsState)
	}
	return c.dec
}

// Footprint implements capture.Footprinter: what the connection holds while
// open, for the memory bound (--max-memory).
func (c *conn) Footprint() int {
	const ptr = int(unsafe.Sizeof(uintptr(0)))
	n := int(unsafe.Sizeof(*c)) + eventBytes*int(c.tcp.events)
	if c.tcp.streamFacts != nil {
		s := c.tcp.streamFacts
		n += int(unsafe.Sizeof(*s)) + cap(s.gaps)*int(unsafe.Sizeof(capture.TCPEvent{})) + cap(s.cutFrames)*ptr
	}
	if c.tlsState != nil {
		t := &c.tls
		n += int(unsafe.Sizeof(*c.tlsState)) + (cap(t.records)+cap(t.handshakes)+cap(t.alerts)+cap(t.decodeErrors))*ptr
	}
	if c.dec != nil {
		n += c.dec.Footprint()
	}
	return n
}

// eventBytes is the heap a kept TCP event takes (keep).
const eventBytes = int(unsafe.Sizeof(capture.TCPEvent{}))

// End implements capture.ConnHandler.
func (c *conn) End(reason capture.EndReason) {
	if c.tcp.ended {
		return
	}
	c.tcp.ended = true
	c.tcp.end = reason
	if c.dec != nil { // a fresh decoder has nothing to end
		c.dec.End()
		if c.tls.late != nil {
			c.tls.records = c.tls.late.join(c.tls.records)
		}
	}
	c.an.finish(c)
}

// event receives the decoder's output.
func (c *conn) event(ev decode.Event) {
	t := &c.tls
	switch e := ev.(type) {
	case *decode.Record:
		d := e.Dir
		t.recordCount[d]++
		if t.largest[d] == nil || e.Length > t.largest[d].Length {
			t.largest[d] = e
		}
		if (e.Encrypted || e.MAC > 0) && t.firstEncrypted[d] == nil {
			t.firstEncrypted[d] = e
		}
		if e.ContentType == decode.ContentApplicationData {
			t.appData[d]++
		}
		if t.records == nil {
			// Room for a short direction's records: a connection that
			// sent a ClientHello alone (many may be open) holds little.
			t.records = make([]*decode.Record, 0, 4)
		}
		if len(t.records) < maxKeptRecords {
			t.records = append(t.records, e)
		} else {
			if t.late == nil {
				t.late = newLateRecords(t.records)
			}
			t.late.add(e)
		}
		if t.late != nil {
			t.late.seen(e)
		}
	case *decode.Handshake:
		// 4096 handshake messages are far past any handshake: later ones
		// (tickets, renegotiations) are not what the rules look for.
		if t.handshakes == nil {
			t.handshakes = make([]*decode.Handshake, 0, 4)
		}
		if len(t.handshakes) < maxKeptRecords {
			t.handshakes = append(t.handshakes, e)
		}
		if overBound(e) {
			if t.overBoundN++; len(t.overBound) < maxOverBound {
				t.overBound = append(t.overBound, e)
			}
		}
		switch e.Type {
		case decode.TypeClientHello:
			if t.clientHello == nil {
				t.clientHello = e
				if e.Dir == capture.FromServer && c.info.ClientGuessed {
					c.swap = true
				}
			}
		case decode.TypeServerHello:
			if sh, ok := e.Body.(*decode.ServerHello); ok && sh.HelloRetryRequest {
				t.hrr = e
			} else if t.serverHello == nil {
				t.serverHello = e
			}
		case decode.TypeCertificate:
			if t.certificate[e.Dir] == nil {
				t.certificate[e.Dir] = e
			}
		case decode.TypeCertificateRequest:
			t.certRequest = e
		case decode.TypeServerHelloDone:
			t.serverDone = e
		case decode.TypeClientKeyExchange:
			t.clientKX = e
		case decode.TypeFinished:
			if t.finished[e.Dir] == nil {
				t.finished[e.Dir] = e
			}
		}
	case *decode.Alert:
		// Past 64 alerts, the first readable fatal one of a direction is
		// still kept: the rules name it.
		fatal := !e.Encrypted && e.Level == decode.AlertFatal
		if len(t.alerts) < 64 || fatal && !t.fatalKept[e.Dir&1] {
			t.alerts = append(t.alerts, e)
			t.fatalKept[e.Dir&1] = t.fatalKept[e.Dir&1] || fatal
		}
	case *decode.ChangeCipherSpec:
		if t.ccs[e.Dir] == nil {
			t.ccs[e.Dir] = e
		}
	case *decode.NotTLS:
		if t.notTLS[e.Dir] == nil {
			t.notTLS[e.Dir] = e
		}
	case *decode.DecodeError:
		// The rules read only the key log's note, which comes once, early.
		if len(t.decodeErrors) < 16 {
			t.decodeErrors = append(t.decodeErrors, e)
		}
	}
}

// lateRecords keeps, past maxKeptRecords, the records rules look for: the
// first record that is larger than every record before it of its direction
// and class (so "the first record over N bytes" is found for any N), the
// first truncated record of each direction, and the last tailRecords of each
// direction (the last record before a close or an alert).
type lateRecords struct {
	largest [2][4]int // per direction and class (encrypted, application data): the largest length so far
	kept    []lateRecord
	tail    [2][]lateRecord // rings
	trunc   [2]bool
	tailN   [2]int
	n       int           // records past maxKeptRecords
	first   capture.Frame // where the first of them started
	dropped int           // of them, not kept (set by join)
}

type lateRecord struct {
	n int // arrival order past the bound
	r *decode.Record
}

func recordClass(r *decode.Record) int {
	c := 0
	if r.Encrypted {
		c = 2
	}
	if r.ContentType == decode.ContentApplicationData {
		c++
	}
	return c
}

// newLateRecords starts keeping records past the bound, after the kept
// records.
func newLateRecords(kept []*decode.Record) *lateRecords {
	l := new(lateRecords)
	for _, r := range kept {
		l.seen(r)
	}
	return l
}

// seen notes every record's length, before (newLateRecords) and past the
// bound.
func (l *lateRecords) seen(r *decode.Record) {
	m := &l.largest[r.Dir&1][recordClass(r)]
	*m = max(*m, r.Length)
}

// add takes a record past the bound (before seen notes it).
func (l *lateRecords) add(r *decode.Record) {
	if l.n++; l.n == 1 {
		l.first = frameOf(r.Where)
	}
	d := r.Dir & 1
	lr := lateRecord{l.n, r}
	if (r.Length > l.largest[d][recordClass(r)] || r.Truncated && !l.trunc[d]) && len(l.kept) < maxLateRecords {
		l.kept = append(l.kept, lr)
		l.trunc[d] = l.trunc[d] || r.Truncated
	}
	if l.tailN[d]++; len(l.tail[d]) < tailRecords {
		l.tail[d] = append(l.tail[d], lr)
	} else {
		l.tail[d][(l.tailN[d]-1)%tailRecords] = lr // the oldest
	}
}

// join appends the late records to the first ones, in arrival order.
func (l *lateRecords) join(records []*decode.Record) []*decode.Record {
	if l.n == 0 {
		return records
	}
	all := append(slices.Clone(l.kept), l.tail[0]...)
	all = append(all, l.tail[1]...)
	slices.SortFunc(all, func(a, b lateRecord) int { return a.n - b.n })
	l.dropped = l.n
	for i, lr := range all {
		if i == 0 || lr.n != all[i-1].n {
			records = append(records, lr.r)
			l.dropped--
		}
	}
	return records
}

// dirs maps a wire direction to the real one when the capture guessed the
// client wrong.
func (c *conn) dir(d capture.Dir) capture.Dir {
	if c.swap {
		return d.Reverse()
	}
	return d
}

// Client-side and server-side views, corrected for swap.
func (c *conn) fromClient() capture.Dir { return c.dir(capture.FromClient) }
func (c *conn) fromServer() capture.Dir { return c.dir(capture.FromServer) }

func (c *conn) who(d capture.Dir) string { return c.dir(d).String() }

// lastTime is the time of the last packet seen on the connection.
func (c *conn) lastTime() time.Time {
	a, b := c.tcp.lastFrame[0], c.tcp.lastFrame[1]
	if a.Time.After(b.Time) {
		return a.Time
	}
	return b.Time
}
