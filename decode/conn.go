package decode

import (
	"errors"
	"fmt"
	"slices"

	"tlspcap/capture"
)

const (
	maxPlaintext   = 1 << 14
	maxCiphertext  = maxPlaintext + 2048 // RFC 5246 §6.2.3
	maxKeptMessage = MaxKeptMessage      // larger handshake messages keep type and length only
	maxSmallBody   = 64                  // CCS and alert bodies kept for reading; a longer alert record (33+ alerts) shows as one encrypted alert
	sniffLen       = 64                  // bytes looked at to name a non-TLS protocol
	resyncWindow   = 1 << 16             // bytes held while looking for a record header
	resyncGiveUp   = 1 << 18             // bytes skipped before giving up on a direction
)

type dirMode uint8

const (
	modeStart   dirMode = iota // nothing decided yet: TLS, SSLv2 hello or something else
	modeRecords                // reading records
	modeResync                 // looking for a plausible record header
	modeStopped                // not decoding this direction any more
)

// Conn decodes both directions of one TCP connection.
//
// A Record is emitted once its last byte arrived (or, truncated, at a gap or
// at End); the handshake messages, alerts and ChangeCipherSpec completed in
// it follow it, so a message spanning records comes after the last of them.
// Events carry the directions exactly as capture handed them over; when the
// capture guessed the client wrong, Swapped reports it and the consumer maps
// directions. Bytes that are not TLS are reported once per direction as
// NotTLS, after 64 bytes, at a gap or at End, so that the report does not
// depend on how the bytes were segmented. A Conn is not safe for concurrent use.
type Conn struct {
	emit func(Event)
	// d is made on a direction's first byte (dirOf): a connection that
	// only sent a ClientHello holds one.
	d     [2]*dirState
	ended bool    // End was called: both directions are over
	queue []Event // events completed inside the record being finished

	tls13     bool   // a ServerHello selected TLS 1.3
	hrr       bool   // a HelloRetryRequest was seen
	version   uint16 // negotiated version from the ServerHello, 0 before
	suite     uint16 // negotiated cipher suite, 0 before
	nullSuite bool   // the suite encrypts nothing: records after CCS are plaintext + MAC
	nullMAC   int    // the MAC length of that suite
	v2hello   bool   // a direction opened with an SSLv2-compatible ClientHello
	sawHello  bool
	swapped   bool

	kd *keyState // decryption with a key log; nil without one

	// Blocks the connection's events are cut from (alloc.go): a short
	// connection's records, messages and frame lists take a few
	// allocations instead of one each.
	frames []int
	recs   []Record
	msgs   []Handshake
	types  []uint8
	// blocks counts the bytes of those blocks and of the messages
	// parsed, for Footprint.
	blocks int
	// queueBuf is queue's first backing array.
	queueBuf [8]Event
}

// ccsState says what a ChangeCipherSpec did to a TLS 1.2 direction.
type ccsState uint8

const (
	ccsNone  ccsState = iota // no CCS (or only middlebox-compatibility ones)
	ccsDoubt                 // a CCS before any ServerHello: the next handshake record decides
	ccsOn                    // records are protected by the negotiated keys
)

type dirState struct {
	dir   capture.Dir
	mode  dirMode
	ended bool
	off   int64 // stream offset of the next byte the record reader consumes
	pend  pending
	rs    *resyncState // made by startResync: few directions ever need one
	first bool         // no record read yet: an SSLv2 hello is allowed

	hdr  [5]byte
	hdrN int
	hdrW Where

	heldBuf   [4]Event // held's first backing array
	rec       *Record  // record whose body is being read; nil between records
	need      int      // body bytes of rec still to come
	small     []byte   // body of a CCS, alert or SSLv2 hello record
	keepSmall bool
	hsFeed    bool     // rec's body goes to the handshake reassembler
	ccs       ccsState // TLS 1.2: whether a ChangeCipherSpec turned protection on
	finSeen   bool     // the first encrypted handshake record after CCS was reported
	// deferHS: rec is a handshake record after a ChangeCipherSpec whose
	// body is kept in body and judged at its end (encrypted, a NULL-cipher
	// plaintext, or a plaintext handshake the CCS did not protect).
	deferHS bool
	// body is rec's body when deferHS or decrypt (never both) keep it.
	body pending
	// SSLv2: v2maybe on the direction that opened with an SSLv2 hello
	// (a later header with the high bit set is an SSLv2 record), v2 once
	// the direction reads SSLv2 records, v2enc once they are encrypted,
	// v2hello while rec is the SSLv2-compatible ClientHello.
	v2maybe, v2, v2enc, v2hello bool

	lastFrame capture.Frame
	held      []Event // events completed inside rec, emitted after it

	// Decryption (decrypt.go): cipher protects this direction's records
	// now, next takes over at its ChangeCipherSpec (TLS 1.2) or after its
	// Finished (TLS 1.3); decrypt says rec's body is kept in body for it.
	cipher, next *recordCipher
	decrypt      bool
	plain        bool // the handshake reassembler is fed decrypted bytes

	hs hsState
}

// hsState reassembles handshake messages from the handshake records of one direction.
type hsState struct {
	hdr     [4]byte
	hdrN    int
	w       Where
	msg     *Handshake // header read, body in progress
	need    int
	keep    bool
	lost    bool // bytes of msg are missing from the capture
	broken  bool // message boundaries lost until the end of the current record
	buf     []byte
	records int
	lastRec *Record
	hdrRec  *Record // record in which the header being read started
}

type resyncState struct {
	why     string
	at      int64 // stream offset where the trouble began
	scan    int   // next position of pend.buf to look at
	skipped int64
}

// NewConn returns a decoder that passes every event to emit.
func NewConn(emit func(Event)) *Conn {
	c := &Conn{emit: emit}
	c.queue = c.queueBuf[:0]
	return c
}

// dirOf returns the state of direction dir, made on first use.
func (c *Conn) dirOf(dir capture.Dir) *dirState {
	d := c.d[dir&1]
	if d == nil {
		d = &dirState{dir: dir & 1, first: true}
		d.held = d.heldBuf[:0]
		d.ended = c.ended
		c.d[dir&1] = d
	}
	return d
}

// Swapped reports whether the first ClientHello came FromServer, that is the
// capture guessed the client wrong. Events keep the directions as handed
// over; the consumer swaps them when this is true.
func (c *Conn) Swapped() bool { return c.swapped }

// Payload hands over in-order bytes of one direction. data is only read
// during the call; spans say which frame carried which bytes of data.
func (c *Conn) Payload(dir capture.Dir, data []byte, spans []capture.Span) {
	if dir > capture.FromServer || len(data) == 0 || c.ended {
		return
	}
	d := c.dirOf(dir)
	if d.ended {
		return
	}
	f := feeder{spans: spans}
	c.feed(d, data, &f, 0)
	c.flush()
}

// Gap says that missing bytes of one direction are not in the capture.
func (c *Conn) Gap(dir capture.Dir, missing int) {
	if dir > capture.FromServer || missing <= 0 || c.ended {
		return
	}
	d := c.dirOf(dir)
	if d.ended {
		return
	}
	why := fmt.Sprintf("%d bytes missing from the capture", missing)
	if d.mode == modeStart {
		if len(d.pend.buf) == 0 {
			d.first = false
			at := d.off
			d.off += int64(missing)
			c.startResync(d, why+" at the start of the stream", at)
			c.flush()
			return
		}
		if c.classify(d) == startNotTLS {
			c.notTLS(d)
		} else {
			c.toRecords(d)
		}
	}
	switch d.mode {
	case modeStopped:
		d.off += int64(missing)
	case modeResync:
		d.rs.skipped += int64(len(d.pend.buf))
		d.pend.reset(d.pend.base + int64(len(d.pend.buf)) + int64(missing))
		d.rs.scan = 0
	case modeRecords:
		if d.rec != nil && missing < d.need {
			d.need -= missing
			d.off += int64(missing)
			d.rec.Truncated = true
			d.keepSmall, d.small = false, d.small[:0]
			if d.hsFeed {
				c.hsSkip(d, missing)
			}
			break
		}
		at := d.off
		if d.rec != nil {
			d.rec.Truncated = true
			if d.hsFeed {
				c.hsSkip(d, d.need)
			}
			rest := missing - d.need
			at += int64(d.need)
			d.off += int64(missing)
			d.keepSmall, d.small = false, d.small[:0]
			c.finishRecord(d)
			if rest == 0 {
				break // the gap ended exactly at a record boundary
			}
		} else {
			if d.hdrN > 0 {
				at = d.hdrW.Offset
			}
			d.hdrN = 0
			d.off += int64(missing)
		}
		c.startResync(d, why, at)
	}
	c.flush()
}

// End says the stream is over in both directions: partial records are
// reported as truncated, buffered bytes are decided.
func (c *Conn) End() {
	c.ended = true
	for _, d := range c.d {
		if d != nil {
			c.endDir(d)
		}
	}
	c.flush()
}

func (c *Conn) endDir(d *dirState) {
	if d.ended {
		return
	}
	switch d.mode {
	case modeStart:
		if len(d.pend.buf) == 0 {
			break
		}
		if c.classify(d) == startNotTLS {
			c.notTLS(d)
		} else {
			c.toRecords(d)
		}
	}
	for d.mode == modeResync {
		if p, st := findRecordStart(d.pend.buf, d.rs.scan, true); st == scanFound {
			c.resyncAt(d, p)
		} else {
			c.resyncGiveUp(d, "the stream ended")
		}
	}
	if d.mode == modeRecords {
		if d.rec != nil {
			d.rec.Truncated = true
			c.finishRecord(d)
		} else if d.hdrN > 0 {
			c.queue = append(c.queue, &DecodeError{Where: d.hdrW, Kind: DecodeTruncated,
				Detail: fmt.Sprintf("the stream ends inside a record header (%d of 5 bytes)", d.hdrN)})
			d.hdrN = 0
		}
		c.hsEnd(d)
	}
	d.ended = true
}

func (c *Conn) flush() {
	for i, ev := range c.queue {
		c.emit(ev)
		c.queue[i] = nil
	}
	c.queue = c.queue[:0]
}

// encrypted reports whether records of d are protected by negotiated keys.
func (c *Conn) encrypted(d *dirState) bool { return d.ccs != ccsNone || c.tls13 }

// feed runs data[i:] through the direction's state machine.
func (c *Conn) feed(d *dirState, data []byte, f *feeder, i int) {
	for i < len(data) {
		switch d.mode {
		case modeStopped:
			d.off += int64(len(data) - i)
			return
		case modeStart:
			i = c.sniff(d, data, f, i)
		case modeResync:
			i = c.resyncAdd(d, data, f, i)
		case modeRecords:
			if d.rec == nil {
				i = c.readHeader(d, data, f, i)
			} else {
				i = c.readBody(d, data, f, i)
			}
		}
	}
}

// sniff collects the first bytes of a direction until they show TLS or not.
func (c *Conn) sniff(d *dirState, data []byte, f *feeder, i int) int {
	if len(d.pend.buf) == 0 {
		// Bytes that show TLS at once are read where they are, not
		// collected first (an SSLv2 reply is left to classify).
		if data[i]&0x80 == 0 && classifyStart(data[i:min(len(data), i+sniffLen)]) == startTLS {
			d.mode = modeRecords
			return i
		}
		d.pend.base = d.off
	}
	n := min(len(data)-i, sniffLen-len(d.pend.buf))
	d.pend.add(data, f, i, i+n)
	i += n
	switch c.classify(d) {
	case startTLS:
		c.toRecords(d)
	case startNotTLS:
		if len(d.pend.buf) >= sniffLen {
			c.notTLS(d)
		}
	}
	return i
}

// toRecords switches to record reading and replays the sniffed bytes.
func (c *Conn) toRecords(d *dirState) {
	d.mode = modeRecords
	buf, spans := d.pend.take()
	d.off = d.pend.base
	f := feeder{spans: spans}
	c.feed(d, buf, &f, 0)
}

func (c *Conn) notTLS(d *dirState) {
	buf := d.pend.buf
	w := Where{Dir: d.dir, Offset: d.pend.base}
	f := feeder{spans: d.pend.spans}
	f.addTo(&w, 0, len(buf))
	c.queue = append(c.queue, &NotTLS{Where: w, Protocol: detectProtocol(buf), Prefix: slices.Clone(buf[:min(len(buf), sniffLen)])})
	d.off = d.pend.base + int64(len(buf))
	d.pend.reset(d.off)
	d.mode = modeStopped
}

func (c *Conn) readHeader(d *dirState, data []byte, f *feeder, i int) int {
	if d.hdrN == 0 {
		d.hdrW = Where{Dir: d.dir, Offset: d.off, Frames: c.frameRoom(2)}
		if d.v2maybe && data[i]&0x80 != 0 {
			d.v2 = true // the SSLv2 hello's sender goes on in SSLv2
		}
	}
	want := 5
	if d.v2 {
		// SSLv2 headers: 2 bytes (high bit set) or 3 (with padding).
		b0 := data[i]
		if d.hdrN > 0 {
			b0 = d.hdr[0]
		}
		want = 3 - int(b0>>7)
	}
	n := min(want-d.hdrN, len(data)-i)
	copy(d.hdr[d.hdrN:], data[i:i+n])
	d.lastFrame = f.addTo(&d.hdrW, i, i+n)
	d.hdrN += n
	d.off += int64(n)
	i += n
	if d.hdrN < want {
		return i
	}
	d.hdrN = 0
	h := &d.hdr
	d.small = d.small[:0]
	d.keepSmall, d.hsFeed, d.deferHS, d.decrypt = false, false, false, false
	if d.v2 {
		c.v2Header(d, want)
		return i
	}
	if d.first && looksSSLv2(h[:]) {
		d.first = false
		c.v2hello, d.v2maybe, d.v2hello = true, true, true
		length := int(h[0]&0x7f)<<8 | int(h[1])
		d.rec = c.newRecord()
		*d.rec = Record{Where: d.hdrW, ContentType: ContentHandshake, Version: uint16(h[3])<<8 | uint16(h[4]),
			Length: length, Received: 3, SSLv2: true}
		d.small = append(d.small, h[2:5]...)
		d.keepSmall = true
		d.need = length - 3
		if d.need == 0 {
			c.finishRecord(d)
		}
		return i
	}
	typ, ver, length := h[0], uint16(h[1])<<8|uint16(h[2]), int(h[3])<<8|int(h[4])
	if typ < ContentChangeCipherSpec || typ > ContentHeartbeat || h[1] != 3 {
		at := d.hdrW.Offset
		c.startResync(d, fmt.Sprintf("implausible record header % x", h[:]), at)
		// Look again from the second byte of the bad header.
		d.pend.reset(at + 1)
		d.pend.addRaw(h[1:], d.lastFrame)
		return i
	}
	d.first = false
	rec := c.newRecord()
	*rec = Record{Where: d.hdrW, ContentType: typ, Version: ver, Length: length}
	if length > 2048 {
		// Room for the frames of a long record: one per ~1 KB segment.
		rec.Frames = append(c.frameRoom(len(rec.Frames)+length/1024+1), rec.Frames...)
	}
	enc := c.encrypted(d)
	switch typ {
	case ContentApplicationData:
		rec.Encrypted = true
	case ContentHandshake:
		rec.Encrypted = enc
		d.hsFeed = !enc
		if enc && !c.tls13 {
			// Judged at its end: see judgeDeferred.
			d.deferHS = true
			d.body.reset(d.off)
		}
	case ContentAlert:
		rec.Encrypted = enc
		d.keepSmall = length <= maxSmallBody
	case ContentChangeCipherSpec:
		d.keepSmall = length <= maxSmallBody
	case ContentHeartbeat:
		rec.Encrypted = enc
	}
	if d.cipher != nil && (typ == ContentApplicationData || !c.tls13 && typ != ContentChangeCipherSpec) {
		d.decrypt, d.hsFeed, d.deferHS, d.keepSmall = true, false, false, false
		d.body.reset(d.off)
	}
	d.rec, d.need = rec, length
	if length == 0 {
		c.finishRecord(d)
	}
	return i
}

func (c *Conn) readBody(d *dirState, data []byte, f *feeder, i int) int {
	n := min(d.need, len(data)-i)
	chunk := data[i : i+n]
	d.lastFrame = f.addTo(&d.rec.Where, i, i+n)
	if d.keepSmall {
		d.small = append(d.small, chunk...)
	}
	if d.hsFeed {
		c.hsData(d, chunk, f, i, d.off)
	} else if d.deferHS {
		d.body.add(data, f, i, i+n)
	} else if d.decrypt {
		d.body.add(data, f, i, i+n)
	}
	d.rec.Received += n
	d.need -= n
	d.off += int64(n)
	i += n
	if d.need == 0 {
		c.finishRecord(d)
	}
	return i
}

// finishRecord emits the record, then the events completed inside it.
func (c *Conn) finishRecord(d *dirState) {
	rec := d.rec
	if d.deferHS {
		d.deferHS = false
		if !rec.Truncated {
			c.judgeDeferred(d, rec)
		}
	}
	var afterBuf [4]Event
	after := afterBuf[:0]
	if d.decrypt {
		d.decrypt = false
		if !rec.Truncated {
			after = c.decryptRecord(d, rec)
		}
	}
	d.rec, d.need = nil, 0
	switch {
	case rec.Decrypted:
	case rec.SSLv2 && !d.v2hello:
		c.v2Finish(d, rec)
	case rec.SSLv2:
		d.v2hello = false
		rec.HandshakeTypes = []uint8{TypeClientHello}
		hs := c.newHandshake()
		*hs = Handshake{Where: rec.Where, Type: TypeClientHello, Length: rec.Length, Records: 1}
		hs.Frames = c.cloneFrames(rec.Frames)
		if rec.Truncated {
			hs.Truncated = true
			hs.ParseErr = fmt.Errorf("SSLv2 ClientHello: capture has %d of %d bytes", rec.Received, rec.Length)
		} else if ch, err := ParseSSLv2ClientHello(d.small); err != nil {
			hs.ParseErr = err
		} else {
			hs.Body = ch
			c.sawClientHello(d)
		}
		after = append(after, hs)
	case rec.ContentType == ContentChangeCipherSpec:
		if rec.Received > 0 {
			after = append(after, &ChangeCipherSpec{Where: rec.Where})
			// In TLS 1.3 (and before a HelloRetryRequest's second
			// ClientHello) CCS is middlebox compatibility only. Before
			// any ServerHello it may be too (a HelloRetryRequest not in
			// the capture), or the ServerHello is missing: the next
			// handshake record decides.
			switch {
			case c.tls13 || c.hrr || d.ccs == ccsOn && d.next == nil:
			case c.version != 0:
				d.ccs = ccsOn
				d.cipher, d.next = d.next.orNil(), nil
			default:
				d.ccs = ccsDoubt
			}
		}
	case rec.ContentType == ContentAlert:
		// A 2-byte alert is readable even after keys are on: an encrypted
		// one carries a MAC or tag.
		if rec.Encrypted && rec.Length == 2 && len(d.small) == 2 && (d.small[0] == AlertWarning || d.small[0] == AlertFatal) {
			rec.Encrypted = false
		}
		// Under a NULL-encryption suite: the alert, then the MAC.
		if rec.Encrypted && c.nullSuite && d.ccs == ccsOn && !c.tls13 && rec.Length == 2+c.nullMAC &&
			len(d.small) == rec.Length && (d.small[0] == AlertWarning || d.small[0] == AlertFatal) {
			rec.Encrypted, rec.MAC = false, uint8(c.nullMAC)
			d.small = d.small[:2]
		}
		// A "plaintext" alert record that is not a run of alerts (odd
		// or long length, unknown level) is protected after all: a CCS
		// the capture lacks or did not read.
		if !rec.Encrypted && !rec.Truncated && rec.Length > 0 && !alertRun(d.small, rec.Length-int(rec.MAC)) {
			rec.Encrypted = true
		}
		if rec.Encrypted {
			if rec.Received > 0 {
				after = append(after, &Alert{Where: rec.Where, Encrypted: true})
			}
		} else if d.keepSmall {
			for j := 0; j+2 <= len(d.small); j += 2 {
				after = append(after, &Alert{Where: rec.Where, Level: d.small[j], Description: d.small[j+1]})
			}
		}
	case rec.ContentType == ContentHandshake && rec.Encrypted:
		if d.ccs == ccsOn && !c.tls13 && !d.finSeen {
			d.finSeen = true
			hs := c.newHandshake()
			*hs = Handshake{Where: rec.Where, Type: TypeFinished, Length: rec.Length, Records: 1, Encrypted: true}
			hs.Frames = c.cloneFrames(rec.Frames)
			after = append(after, hs)
		}
	case rec.ContentType == ContentHandshake:
		if d.hs.broken {
			d.hs.broken = false
			d.hs.msg, d.hs.hdrN = nil, 0
		}
	}
	d.hsFeed, d.keepSmall = false, false
	// Events of this record follow it, with their own copy of its frames.
	for _, ev := range after {
		switch e := ev.(type) {
		case *Alert:
			e.Frames = c.cloneFrames(e.Frames)
		case *ChangeCipherSpec:
			e.Frames = c.cloneFrames(e.Frames)
		}
	}
	c.queue = append(c.queue, rec)
	c.queue = append(c.queue, d.held...)
	clear(d.held)
	d.held = d.held[:0]
	c.queue = append(c.queue, after...)
}

// put queues an event of d: after the record being read, if any.
func (c *Conn) put(d *dirState, ev Event) {
	if d.rec != nil {
		d.held = append(d.held, ev)
		return
	}
	c.queue = append(c.queue, ev)
}

func (c *Conn) sawClientHello(d *dirState) {
	if !c.sawHello {
		c.sawHello = true
		c.swapped = d.dir == capture.FromServer
	}
}

// ---- handshake reassembly ----

// hsData takes handshake record body bytes chunk, which are data[pos:] of
// the feeder's payload and start at stream offset off.
func (c *Conn) hsData(d *dirState, chunk []byte, f *feeder, pos int, off int64) {
	h := &d.hs
	for len(chunk) > 0 && !h.broken {
		if h.msg == nil {
			if h.hdrN == 0 {
				h.w = Where{Dir: d.dir, Offset: off, Frames: c.frameRoom(2)}
				h.records, h.lastRec, h.hdrRec = 0, nil, d.rec
			}
			n := min(4-h.hdrN, len(chunk))
			copy(h.hdr[h.hdrN:], chunk[:n])
			f.addTo(&h.w, pos, pos+n)
			h.countRecord(d.rec)
			h.hdrN += n
			chunk, pos, off = chunk[n:], pos+n, off+int64(n)
			if h.hdrN < 4 {
				continue
			}
			h.hdrN = 0
			length := int(h.hdr[1])<<16 | int(h.hdr[2])<<8 | int(h.hdr[3])
			if h.hdrRec == d.rec {
				if h.w.Offset == d.rec.Offset+5 && d.rec.Length >= 16 && (!knownHandshakeType(h.hdr[0]) || length > maxKeptMessage) {
					// The record's first message makes no sense: the
					// record is not plaintext handshake (as tshark
					// judges, short records excepted).
					d.rec.Encrypted, d.rec.HandshakeTypes = true, d.rec.HandshakeTypes[:0]
					d.hsFeed = false
					h.msg, h.lastRec, h.hdrRec = nil, nil, nil
					return
				}
				if knownHandshakeType(h.hdr[0]) {
					if d.rec.HandshakeTypes == nil {
						d.rec.HandshakeTypes = c.typeRoom()
					}
					d.rec.HandshakeTypes = append(d.rec.HandshakeTypes, h.hdr[0])
				}
			}
			h.hdrRec = nil
			h.msg = c.newHandshake()
			*h.msg = Handshake{Where: h.w, Type: h.hdr[0], Length: length}
			h.need, h.lost = length, false
			h.keep = parsedType(h.hdr[0]) && length <= maxKeptMessage
			h.buf = h.buf[:0]
			if h.keep && length > cap(h.buf) && length > len(chunk) {
				// The message goes on past this chunk: room for it at
				// once, up to one full record (what arrives beyond grows
				// it), so a bogus length claims no more.
				h.buf = make([]byte, 0, min(length, maxPlaintext))
			}
			if h.need == 0 {
				c.hsComplete(d, nil)
			}
			continue
		}
		n := min(h.need, len(chunk))
		var body []byte
		if h.keep {
			if len(h.buf) == 0 && n == h.need {
				body = chunk[:n] // the whole body is here: parsed in place
			} else {
				h.buf = append(h.buf, chunk[:n]...)
				body = h.buf
			}
		}
		f.addTo(&h.msg.Where, pos, pos+n)
		h.countRecord(d.rec)
		h.need -= n
		chunk, pos, off = chunk[n:], pos+n, off+int64(n)
		if h.need == 0 {
			c.hsComplete(d, body)
		}
	}
}

func (h *hsState) countRecord(rec *Record) {
	if h.lastRec != rec {
		h.records++
		h.lastRec = rec
	}
}

// parsedType reports whether messages of type t are parsed into a Body.
func parsedType(t uint8) bool {
	switch t {
	case TypeClientHello, TypeServerHello, TypeCertificate, TypeCertificateRequest,
		TypeServerKeyExchange, TypeNewSessionTicket:
		return true
	}
	return false
}

var errMessageGap = errors.New("bytes of this message are missing from the capture")

// hsComplete ends the message in progress; body is its body when kept
// (in h.buf, or in the caller's bytes: the parsers copy what they keep).
func (c *Conn) hsComplete(d *dirState, body []byte) {
	h := &d.hs
	m := h.msg
	h.msg = nil
	m.Records = h.records
	switch {
	case h.lost:
		m.Truncated, m.ParseErr = true, errMessageGap
	case !h.keep && parsedType(m.Type):
		m.ParseErr = &LimitError{Type: m.Type, Length: m.Length, Limit: maxKeptMessage}
	case h.keep:
		c.parseMessage(d, m, body)
	}
	if cap(h.buf) > 4<<10 {
		// Do not hold a large message's buffer for the connection's
		// life: a Certificate's (the large one) comes once, and many
		// connections may stay open long after their handshake.
		h.buf = nil
	}
	if d.plain {
		m.Decrypted = true
		c.decryptedMessage(d, m)
	}
	c.put(d, m)
}

func (c *Conn) parseMessage(d *dirState, m *Handshake, body []byte) {
	// A parsed message holds about its bytes again, besides its struct:
	// a ClientHello of 150 bytes takes 590 (a heap profile's figure).
	c.blocks += 2*len(body) + 256
	var err error
	switch m.Type {
	case TypeClientHello:
		var ch *ClientHello
		if ch, err = ParseClientHello(body); err == nil {
			m.Body = ch
			c.sawClientHello(d)
			if c.kd != nil {
				c.clientHelloKeys(d, ch)
			}
		}
	case TypeServerHello:
		var sh *ServerHello
		if sh, err = ParseServerHello(body); err == nil {
			m.Body = sh
			if sh.HelloRetryRequest {
				c.hrr = true
				if c.kd != nil && c.kd.clientRandom != nil {
					c.endEarly()
				}
			} else {
				c.suite, c.version = sh.CipherSuite, sh.Version
				c.nullMAC, c.nullSuite = nullSuiteMAC(sh.CipherSuite)
				if sh.SelectedVersion != 0 {
					c.version = sh.SelectedVersion
				}
				c.tls13 = IsTLS13(c.version)
				if c.kd != nil {
					c.setupKeys(d, m, sh)
				}
			}
		}
	case TypeCertificate:
		var cert *Certificate
		if cert, err = ParseCertificate(body, d.plain && c.tls13); err == nil {
			m.Body = cert
		}
	case TypeCertificateRequest:
		v := c.version
		if (v == 0 || v > VersionTLS12) && !(d.plain && c.tls13) {
			v = VersionTLS12 // plaintext CertificateRequest is never TLS 1.3
		}
		var cr *CertificateRequest
		if cr, err = ParseCertificateRequest(body, v); err == nil {
			m.Body = cr
		}
	case TypeServerKeyExchange:
		var ske *ServerKeyExchange
		if ske, err = ParseServerKeyExchange(body, c.suite); err == nil {
			m.Body = ske
		}
	case TypeNewSessionTicket:
		var nst *NewSessionTicket
		if nst, err = ParseNewSessionTicket(body, d.plain && c.tls13); err == nil {
			m.Body = nst
		}
	}
	m.ParseErr = err
}

// hsSkip accounts for n handshake bytes missing from the capture.
func (c *Conn) hsSkip(d *dirState, n int) {
	h := &d.hs
	if h.broken || n <= 0 {
		return
	}
	if h.msg != nil && n <= h.need {
		h.need -= n
		h.lost, h.keep = true, false
		if h.need == 0 {
			c.hsComplete(d, nil)
		}
		return
	}
	c.hsAbandon(d, errMessageGap)
	h.broken = true
}

// hsAbandon reports the message in progress as truncated and forgets it.
func (c *Conn) hsAbandon(d *dirState, why error) {
	h := &d.hs
	if h.msg != nil {
		m := h.msg
		m.Records, m.Truncated, m.ParseErr = h.records, true, why
		c.put(d, m)
	} else if h.hdrN > 0 {
		c.put(d, &DecodeError{Where: h.w, Kind: DecodeTruncated,
			Detail: fmt.Sprintf("handshake message header cut after %d of 4 bytes", h.hdrN)})
	}
	h.msg, h.hdrN, h.broken, h.lost = nil, 0, false, false
}

func (c *Conn) hsEnd(d *dirState) {
	h := &d.hs
	if h.msg != nil {
		got := h.msg.Length - h.need
		c.hsAbandon(d, fmt.Errorf("%s: capture ends after %d of %d bytes", HandshakeTypeName(h.msg.Type), got, h.msg.Length))
		return
	}
	c.hsAbandon(d, nil)
}

// ---- resynchronisation ----

func (c *Conn) startResync(d *dirState, why string, at int64) {
	d.mode = modeResync
	d.rs = &resyncState{why: why, at: at}
	d.pend.reset(d.off)
	c.hsAbandon(d, errMessageGap)
	d.first = false
}

func (c *Conn) resyncAdd(d *dirState, data []byte, f *feeder, i int) int {
	for i < len(data) && d.mode == modeResync {
		n := min(len(data)-i, resyncWindow-len(d.pend.buf))
		d.pend.add(data, f, i, i+n)
		i += n
		p, st := findRecordStart(d.pend.buf, d.rs.scan, false)
		switch st {
		case scanFound:
			c.resyncAt(d, p)
		case scanWait:
			d.rs.scan = p
			if p > 0 {
				d.rs.skipped += int64(p)
				d.pend.drop(p)
				d.rs.scan = 0
			}
		case scanNone:
			d.rs.skipped += int64(p)
			d.pend.drop(p)
			d.rs.scan = 0
			if d.rs.skipped > resyncGiveUp {
				c.resyncGiveUp(d, fmt.Sprintf("%d bytes searched", d.rs.skipped))
			}
		}
	}
	return i
}

func (c *Conn) resyncAt(d *dirState, p int) {
	w := Where{Dir: d.dir, Offset: d.rs.at}
	wf := feeder{spans: d.pend.spans}
	wf.addTo(&w, p, p+5)
	c.queue = append(c.queue, &DecodeError{Where: w, Kind: DecodeResynced, Detail: fmt.Sprintf(
		"%s; resynchronised on a record header at stream offset %d after skipping %d bytes",
		d.rs.why, d.pend.base+int64(p), d.rs.skipped+int64(p))})
	d.pend.drop(p)
	d.off = d.pend.base
	buf, spans := d.pend.take()
	d.mode = modeRecords
	f := feeder{spans: spans}
	c.feed(d, buf, &f, 0)
}

func (c *Conn) resyncGiveUp(d *dirState, how string) {
	w := Where{Dir: d.dir, Offset: d.rs.at}
	c.queue = append(c.queue, &DecodeError{Where: w, Kind: DecodeStopped, Detail: fmt.Sprintf(
		"%s; no plausible record header found (%s): decoding of this direction stopped", d.rs.why, how)})
	d.off = d.pend.base + int64(len(d.pend.buf))
	d.pend.reset(d.off)
	d.mode = modeStopped
}

type scanResult uint8

const (
	scanNone  scanResult = iota // no candidate: the returned position is where to go on
	scanWait                    // a candidate at the position needs more bytes
	scanFound                   // a record header confirmed by the one after it
)

// plausibleHeader is stricter than the record reader: it is used to find
// a record boundary in bytes of unknown position.
func plausibleHeader(h []byte) (int, bool) {
	typ, length := h[0], int(h[3])<<8|int(h[4])
	if typ < ContentChangeCipherSpec || typ > ContentApplicationData || h[1] != 3 || h[2] > 4 ||
		length == 0 || length > maxCiphertext {
		return 0, false
	}
	if typ == ContentChangeCipherSpec && length != 1 || typ == ContentAlert && length > 512 {
		return 0, false
	}
	return length, true
}

// findRecordStart looks for a record header from position from whose
// successor header is plausible too (or, at the end of the stream, lies
// beyond the bytes).
func findRecordStart(buf []byte, from int, final bool) (int, scanResult) {
	for p := from; p+5 <= len(buf); p++ {
		length, ok := plausibleHeader(buf[p : p+5])
		if !ok {
			continue
		}
		q := p + 5 + length
		if q+5 <= len(buf) {
			if _, ok := plausibleHeader(buf[q : q+5]); ok {
				return p, scanFound
			}
			continue
		}
		if final {
			if q >= len(buf) {
				return p, scanFound
			}
			continue
		}
		return p, scanWait
	}
	return max(from, len(buf)-4, 0), scanNone
}

// ---- start of a direction ----

type startClass uint8

const (
	startWait startClass = iota
	startTLS
	startNotTLS
)

// classifyStart decides whether a direction's first bytes are TLS.
func classifyStart(b []byte) startClass {
	if len(b) == 0 {
		return startWait
	}
	if b[0] >= ContentChangeCipherSpec && b[0] <= ContentHeartbeat {
		if len(b) >= 2 && b[1] != 3 || len(b) >= 3 && b[2] > 4 {
			return startNotTLS
		}
		if len(b) < 3 {
			return startWait
		}
		return startTLS
	}
	if b[0]&0x80 != 0 {
		if len(b) < 5 {
			return startWait
		}
		if looksSSLv2(b) {
			return startTLS
		}
	}
	return startNotTLS
}

// looksSSLv2 reports whether b starts an SSLv2-compatible ClientHello
// record (RFC 5246 Appendix E.2).
func looksSSLv2(b []byte) bool {
	if len(b) < 5 || b[0]&0x80 == 0 || b[2] != TypeClientHello {
		return false
	}
	length := int(b[0]&0x7f)<<8 | int(b[1])
	return length >= 9 && (b[3] == 3 && b[4] <= 4 || b[3] == 0 && b[4] == 2)
}

// ---- bytes and the frames that carried them ----

// feeder maps positions in one payload to the frames that carried them.
type feeder struct {
	spans []capture.Span
	si    int
}

// addTo adds to w the frames carrying [i, j) and returns the last of them.
// Calls must not go backwards in i.
func (f *feeder) addTo(w *Where, i, j int) capture.Frame {
	var last capture.Frame
	for f.si < len(f.spans) && f.spans[f.si].Off+f.spans[f.si].Len <= i {
		f.si++
	}
	for k := f.si; k < len(f.spans) && f.spans[k].Off < j; k++ {
		if f.spans[k].Len > 0 {
			addFrame(w, f.spans[k].Frame)
			last = f.spans[k].Frame
		}
	}
	return last
}

// addFrame adds a frame to w.Frames keeping them ascending and distinct;
// Time is that of the lowest frame.
func addFrame(w *Where, fr capture.Frame) {
	n := len(w.Frames)
	switch {
	case n == 0:
		w.Frames = append(w.Frames, fr.Number)
		w.Time = fr.Time
	case w.Frames[n-1] == fr.Number:
	case w.Frames[n-1] < fr.Number:
		w.Frames = append(w.Frames, fr.Number)
	default:
		k, found := slices.BinarySearch(w.Frames, fr.Number)
		if !found {
			w.Frames = slices.Insert(w.Frames, k, fr.Number)
			if k == 0 {
				w.Time = fr.Time
			}
		}
	}
}

// pending holds bytes not yet consumed, with the spans that carried them
// (Off relative to buf).
type pending struct {
	base  int64 // stream offset of buf[0]
	buf   []byte
	spans []capture.Span
}

// add appends data[i:j], carried by f's spans.
func (p *pending) add(data []byte, f *feeder, i, j int) {
	shift := len(p.buf) - i
	p.buf = append(p.buf, data[i:j]...)
	for f.si < len(f.spans) && f.spans[f.si].Off+f.spans[f.si].Len <= i {
		f.si++
	}
	for k := f.si; k < len(f.spans) && f.spans[k].Off < j; k++ {
		s := f.spans[k]
		lo, hi := max(s.Off, i), min(s.Off+s.Len, j)
		if hi > lo {
			p.spans = append(p.spans, capture.Span{Frame: s.Frame, Off: lo + shift, Len: hi - lo})
		}
	}
}

func (p *pending) addRaw(b []byte, fr capture.Frame) {
	p.spans = append(p.spans, capture.Span{Frame: fr, Off: len(p.buf), Len: len(b)})
	p.buf = append(p.buf, b...)
}

// take hands over the bytes and spans; p is left empty with the same base.
func (p *pending) take() ([]byte, []capture.Span) {
	b, s := p.buf, p.spans
	p.buf, p.spans = nil, nil
	return b, s
}

func (p *pending) reset(base int64) {
	p.base = base
	p.buf = p.buf[:0]
	p.spans = p.spans[:0]
}

// drop forgets the first k bytes.
func (p *pending) drop(k int) {
	if k <= 0 {
		return
	}
	k = min(k, len(p.buf))
	n := copy(p.buf, p.buf[k:])
	p.buf = p.buf[:n]
	out := p.spans[:0]
	for _, s := range p.spans {
		end := s.Off + s.Len - k
		if end <= 0 {
			continue
		}
		off := max(s.Off-k, 0)
		out = append(out, capture.Span{Frame: s.Frame, Off: off, Len: end - off})
	}
	p.spans = out
	p.base += int64(k)
}

// ---- handshake records after a ChangeCipherSpec ----

// judgeDeferred decides what the handshake record rec of d, read after a
// ChangeCipherSpec with its body kept in d.body, was:
//   - under a NULL-encryption suite, plaintext handshake messages and a MAC;
//   - a complete ClientHello: plaintext, whatever the CCS state (a new
//     handshake after a HelloRetryRequest the capture missed);
//   - after a doubtful CCS (no ServerHello seen), plaintext when it goes on
//     a message in progress or its bytes are well-formed handshake
//     messages of known types;
//
// and otherwise encrypted, which confirms a doubtful CCS. Plaintext bodies
// are replayed through the handshake reassembler.
func (c *Conn) judgeDeferred(d *dirState, rec *Record) {
	body := d.body.buf
	cont := d.hs.msg != nil || d.hs.hdrN > 0
	n, mac := len(body), 0
	switch {
	case d.ccs == ccsOn && c.nullSuite:
		if n < c.nullMAC || !cont && !hsTiles(body[:n-c.nullMAC]) {
			return
		}
		mac = c.nullMAC
		n -= mac
	case !cont && isClientHelloBody(body):
		d.ccs, d.finSeen = ccsNone, false
	case d.ccs == ccsDoubt && (cont || hsTiles(body) && !zeroNonce(body) && body[1] == 0):
	default:
		if d.ccs == ccsDoubt {
			d.ccs = ccsOn
		}
		return
	}
	rec.Encrypted, rec.MAC = false, uint8(mac)
	d.hsFeed = true
	f := feeder{spans: d.body.spans}
	c.hsData(d, body[:n], &f, 0, d.body.base)
	d.hsFeed = false
}

// alertRun reports whether b, the whole body of an alert record of length
// n, is one or more alerts with valid levels.
func alertRun(b []byte, n int) bool {
	if len(b) != n || n%2 != 0 {
		return false
	}
	for j := 0; j < n; j += 2 {
		if b[j] != AlertWarning && b[j] != AlertFatal {
			return false
		}
	}
	return true
}

// hsTiles reports whether b holds handshake messages of known types, the
// last one possibly continuing past b.
func hsTiles(b []byte) bool {
	if len(b) < 4 {
		return false
	}
	for p := 0; p < len(b); {
		if len(b)-p < 4 || !knownHandshakeType(b[p]) {
			return false
		}
		p += 4 + (int(b[p+1])<<16 | int(b[p+2])<<8 | int(b[p+3]))
	}
	return true
}

// zeroNonce reports the 5 leading zero bytes of a TLS 1.2 AEAD record's
// explicit nonce (sequence number 0), which would otherwise read as two
// empty HelloRequests.
func zeroNonce(b []byte) bool {
	return len(b) >= 5 && b[0]|b[1]|b[2]|b[3]|b[4] == 0
}

// isClientHelloBody reports whether b is exactly one complete ClientHello
// message that parses.
func isClientHelloBody(b []byte) bool {
	if len(b) < 4+38 || b[0] != TypeClientHello || b[4] != 3 {
		return false
	}
	if 4+(int(b[1])<<16|int(b[2])<<8|int(b[3])) != len(b) {
		return false
	}
	_, err := ParseClientHello(b[4:])
	return err == nil
}

var knownHandshakeTypes = func() (k [256]bool) {
	for t := range handshakeTypeNames {
		k[t] = true
	}
	return k
}()

// knownHandshakeType reports whether t is a handshake type TLS defines.
func knownHandshakeType(t uint8) bool { return knownHandshakeTypes[t] }

// nullSuiteMAC returns the MAC length of a cipher suite that encrypts
// nothing (TLS_*_WITH_NULL_*), and whether the suite is one.
func nullSuiteMAC(suite uint16) (int, bool) {
	switch suite {
	case 0x0000: // TLS_NULL_WITH_NULL_NULL
		return 0, true
	case 0x0001: // TLS_RSA_WITH_NULL_MD5
		return 16, true
	case 0x0002, 0x002C, 0x002D, 0x002E, // RSA, PSK, DHE_PSK, RSA_PSK _WITH_NULL_SHA
		0xC001, 0xC006, 0xC00B, 0xC010, 0xC015, 0xC039: // ECDH(E)_*, ECDH_anon, ECDHE_PSK _WITH_NULL_SHA
		return 20, true
	case 0x003B, 0x00B0, 0x00B4, 0x00B8, 0xC03A: // *_WITH_NULL_SHA256
		return 32, true
	case 0x00B1, 0x00B5, 0x00B9, 0xC03B: // *_WITH_NULL_SHA384
		return 48, true
	}
	return 0, false
}
