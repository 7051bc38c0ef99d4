package decode

// A pure SSLv2 session: the server answered an SSLv2-compatible ClientHello
// with an SSLv2 SERVER-HELLO (or ERROR). Both directions then carry SSLv2
// records: a 2-byte header (high bit set, 15-bit length) or a 3-byte one
// (14-bit length, padding count). They are reported as records only.

// SSLv2 message types that matter here.
const (
	v2Error           uint8 = 0
	v2ClientMasterKey uint8 = 2
	v2ServerHello     uint8 = 4
)

// classify decides whether a direction's first bytes are TLS; it also
// recognises the SSLv2 answer to an SSLv2 hello, and then switches the
// direction (and the hello's sender) to SSLv2 records.
func (c *Conn) classify(d *dirState) startClass {
	b := d.pend.buf
	if c.v2hello && len(b) > 0 && b[0]&0x80 != 0 {
		switch v2Reply(b) {
		case startWait:
			return startWait
		case startTLS:
			d.v2, d.first = true, false
			// The hello's sender reads SSLv2 from its next record on
			// (one whose header is under way stays as it started).
			if o := c.dirOf(1 - d.dir); o.v2maybe && o.hdrN == 0 {
				o.v2 = true
			}
			return startTLS
		}
	}
	return classifyStart(b)
}

// v2Reply tells whether b starts an SSLv2 SERVER-HELLO or ERROR message.
func v2Reply(b []byte) startClass {
	if len(b) < 5 {
		return startWait
	}
	length := int(b[0]&0x7f)<<8 | int(b[1])
	switch b[2] {
	case v2Error:
		if length == 3 {
			return startTLS
		}
	case v2ServerHello:
		if len(b) < 7 {
			return startWait
		}
		if length >= 11 && b[3] <= 1 && b[5] == 0 && b[6] == 2 {
			return startTLS
		}
	}
	return startNotTLS
}

// v2Header starts an SSLv2 record from its hl-byte header.
func (c *Conn) v2Header(d *dirState, hl int) {
	h := &d.hdr
	length := int(h[0]&0x7f)<<8 | int(h[1])
	if hl == 3 {
		length = int(h[0]&0x3f)<<8 | int(h[1])
	}
	rec := c.newRecord()
	*rec = Record{Where: d.hdrW, ContentType: ContentHandshake, Version: 0x0002, Length: length, SSLv2: true}
	if d.v2enc {
		rec.ContentType, rec.Encrypted = ContentApplicationData, true
	} else {
		d.keepSmall = true
	}
	d.rec, d.need = rec, length
	if length == 0 {
		c.finishRecord(d)
	}
}

// v2Finish completes an SSLv2 record (not the hello): a plaintext one
// names its message; CLIENT-MASTER-KEY, or the SERVER-HELLO, turns
// encryption on for the sender, and a SERVER-HELLO that resumes a session
// for the client too.
func (c *Conn) v2Finish(d *dirState, rec *Record) {
	if rec.Encrypted || len(d.small) == 0 {
		return
	}
	t := d.small[0]
	rec.HandshakeTypes = []uint8{t}
	switch {
	case d.v2maybe && t == v2ClientMasterKey:
		d.v2enc = true
	case !d.v2maybe && t == v2ServerHello:
		d.v2enc = true
		if len(d.small) > 1 && d.small[1] != 0 {
			c.dirOf(1 - d.dir).v2enc = true
		}
	}
}
