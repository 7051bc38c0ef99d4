package diagnose

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"tlspcap/capture"
	"tlspcap/decode"
	"tlspcap/diagnose/catalog"
)

// decide builds the verdict for one connection: the model, then the rules.
func (a *Analyzer) decide(c *conn) *Connection {
	r := &Connection{
		Stream:     c.info.Stream,
		Client:     c.info.Client.String(),
		Server:     c.info.Server.String(),
		Start:      jsonTime(c.info.First.Time),
		FirstFrame: c.info.First.Number,
		Device:     "client",
	}
	if c.swap {
		r.Client, r.Server = r.Server, r.Client
	}
	last := c.tcp.lastFrame[0]
	if c.tcp.lastFrame[1].Number > last.Number {
		last = c.tcp.lastFrame[1]
	}
	r.LastFrame = last.Number
	if !last.Time.IsZero() && !r.Start.IsZero() {
		r.Duration = last.Time.Sub(r.Start).Seconds()
	}
	if srv, _ := c.deviceEnd(a.opts); a.opts.DeviceRole == "server" || srv {
		r.Device = "server"
	}
	t := &c.tls
	if ch, ok := clientHello(c); ok {
		r.SNI = ch.ServerName
		_, r.JA3 = decode.JA3(ch)
		r.JA4 = decode.JA4(ch, 't')
	}
	ch, _ := clientHello(c)
	mac := c.info.ClientMAC
	if c.swap {
		mac = c.info.ServerMAC
	}
	guess := identifyClient(ch, mac)
	r.ClientLabel, r.ClientEvidence = guess.label, guess.evidence
	a.useProfile(r, guess)
	if sh, ok := serverHello(c); ok {
		v := sh.Version
		if sh.SelectedVersion != 0 {
			v = sh.SelectedVersion
		}
		r.Version = decode.VersionName(v)
		r.CipherSuite = decode.CipherSuiteName(sh.CipherSuite)
		r.ALPN = sh.ALPN
		_, r.JA3S = decode.JA3S(sh)
		r.JA4S = decode.JA4S(sh, 't')
	}
	r.Stage = c.stage()
	r.Ending = c.ending(a.opts, a.ctx.captureEnd)
	r.Certificates = a.ctx.certificates(t.certificate[c.fromServer()])
	if len(r.Certificates) > 0 {
		for _, bc := range a.ctx.browserChainFor(r.SNI, c.serverAddr()) {
			r.BrowserCertificates = append(r.BrowserCertificates, a.ctx.certRow(bc))
		}
	}
	if a.opts.KeepRecords {
		r.Records = c.recordRows()
	}
	r.Findings = a.ctx.run(c, r)
	a.noteInputs(c, r)
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	r.Outcome = outcome(c, r)
	// Healthy connections are the bulk of a long capture: keep only their
	// verdict, and spend nothing on a timeline nobody will see.
	if a.opts.KeepRecords || (a.opts.KeepTimeline && (r.Outcome != OutcomeOK || a.opts.AllTimelines)) {
		r.Timeline = c.timeline()
	}
	return r
}

func (c *conn) serverAddr() netip.Addr {
	if c.swap {
		return c.info.Client.Addr()
	}
	return c.info.Server.Addr()
}

func clientHello(c *conn) (*decode.ClientHello, bool) {
	if c.tls.clientHello == nil {
		return nil, false
	}
	ch, ok := c.tls.clientHello.Body.(*decode.ClientHello)
	return ch, ok
}

func serverHello(c *conn) (*decode.ServerHello, bool) {
	if c.tls.serverHello == nil {
		return nil, false
	}
	sh, ok := c.tls.serverHello.Body.(*decode.ServerHello)
	return sh, ok
}

// tls13 reports whether the server selected TLS 1.3.
func (c *conn) tls13() bool {
	sh, ok := serverHello(c)
	return ok && (decode.IsTLS13(sh.SelectedVersion) || decode.IsTLS13(sh.Version))
}

// stage is how far the handshake got: the last of the stages below, tested
// in ascending order, whose evidence is there.
func (c *conn) stage() Stage {
	t := &c.tls
	s := Stage("")
	up := func(n Stage) { s = n }
	if c.tcp.syn != nil || c.tcp.synAck != nil || c.tcp.firstPayload[0].Number > 0 || c.tcp.firstPayload[1].Number > 0 {
		up(StageTCPConnect)
	}
	if t.clientHello != nil {
		up(StageClientHello)
	}
	if t.serverHello != nil {
		up(StageServerHello)
	}
	srv := c.fromServer()
	if t.certificate[srv] != nil {
		up(StageServerCertificate)
	}
	if t.serverDone != nil {
		up(StageServerDone)
	}
	if t.clientKX != nil {
		up(StageClientKeyExchange)
	}
	if c.established() {
		up(StageEstablished)
		if t.appData[0] > 0 && t.appData[1] > 0 {
			up(StageApplicationData)
		}
	}
	return s
}

// established: both sides finished the handshake as far as the wire shows.
// TLS 1.2: both sent ChangeCipherSpec + an encrypted Finished. TLS 1.3: the
// client sent encrypted handshake/application records after the server's
// flight and no alert ended it; best evidence without keys is application
// data from both sides.
func (c *conn) established() bool {
	t := &c.tls
	if t.serverHello == nil {
		return false
	}
	if c.fatalAlert() != nil {
		return false
	}
	if c.tls13() {
		return c.tls13ClientFinished()
	}
	return t.ccs[0] != nil && t.ccs[1] != nil && t.firstEncrypted[0] != nil && t.firstEncrypted[1] != nil
}

// tls13ClientFinished: without keys, a TLS 1.3 client's first encrypted
// record after the server's flight is its Finished or an encrypted alert. It
// is a Finished when the exchange goes on: the client sends more, or the
// server answers (NewSessionTicket, data). A client that sends one short
// record and closes is the alert case.
func (c *conn) tls13ClientFinished() bool {
	cl, sv := c.fromClient(), c.fromServer()
	var firstEnc *decode.Record
	n := 0
	serverAfter := false
	for _, r := range c.tls.records {
		if !r.Encrypted {
			continue
		}
		if r.Dir == cl {
			if firstEnc == nil {
				firstEnc = r
			}
			n++
		} else if r.Dir == sv && firstEnc != nil && r.Offset >= 0 && len(r.Frames) > 0 && len(firstEnc.Frames) > 0 && r.Frames[0] > firstEnc.Frames[0] {
			serverAfter = true
		}
	}
	if firstEnc == nil {
		return false
	}
	if n > 1 || serverAfter {
		return true
	}
	// One record only: an encrypted alert is 2 bytes + type + tag = 19 bytes,
	// 32 with mbedTLS's padding to 16; a Finished is at least 32 + 1 + 16 = 49.
	return firstEnc.Length >= 45
}

// tls13LateRejection returns the server's only encrypted record after the
// client's Finished when it is alert-sized and the server then closed: a
// TLS 1.3 server checks the client's certificate only after the client's
// Finished, so a rejection (certificate_required, bad_certificate,
// unknown_ca) arrives when the client already considers the handshake done.
// Without keys that record is the only trace of the failure; nil otherwise.
func (c *conn) tls13LateRejection() *decode.Record {
	cl, sv := c.fromClient(), c.fromServer()
	var firstEnc, only, clientBefore *decode.Record
	n := 0
	for _, r := range c.tls.records {
		if !r.Encrypted || r.Decrypted || len(r.Frames) == 0 {
			continue
		}
		if r.Dir == cl {
			if firstEnc == nil {
				firstEnc = r
			}
			if only == nil {
				clientBefore = r
			}
		}
		if r.Dir == sv && firstEnc != nil && r.Frames[0] > firstEnc.Frames[0] {
			only = r
			n++
		}
	}
	// Sizes as in tls13ClientFinished: under 45 bytes is an alert. A client
	// whose last record was itself alert-sized sent close_notify, and the
	// server's record is its close_notify in reply: a normal close.
	if n != 1 || only.Length >= 45 || clientBefore.Length < 45 {
		return nil
	}
	if cc := c.closeOf(cl); cc != nil && cc.Frame.Number < only.Frames[0] {
		return nil // the client closed first
	}
	cls := c.closeOf(sv)
	if cls == nil || cls.Frame.Number < only.Frames[0] {
		return nil
	}
	return only
}

// fatalAlert is the first readable fatal alert (or first alert at all if
// none is known to be fatal).
func (c *conn) fatalAlert() *decode.Alert {
	for _, al := range c.tls.alerts {
		if !al.Encrypted && al.Level == decode.AlertFatal {
			return al
		}
	}
	return nil
}

// ending decides who ended the connection and how. An ending no packet
// shows has the time it was decided at: the capture's end (captureEnd,
// when known) for one still open then, else the connection's last packet.
func (c *conn) ending(o Options, captureEnd time.Time) Ending {
	// The earliest of the candidates; on a tie the first in this order
	// (alert, then per direction RST before FIN).
	var e Ending
	found, best := false, 0
	cand := func(frame int, by capture.Dir, how string, t time.Time) {
		if !found || frame < best {
			found, best = true, frame
			e = Ending{By: c.who(by), How: how, Frame: frame, Time: t}
		}
	}
	if al := c.fatalAlert(); al != nil {
		cand(al.Frames[0], al.Dir, "alert "+decode.AlertName(al.Description), al.Time)
	}
	for d := capture.Dir(0); d < 2; d++ {
		if ev := c.tcp.rst[d]; ev != nil {
			cand(ev.Frame.Number, d, "RST", ev.Frame.Time)
		}
		if ev := c.tcp.fin[d]; ev != nil {
			cand(ev.Frame.Number, d, "FIN", ev.Frame.Time)
		}
	}
	if !found {
		e = Ending{How: "capture-ended", Time: c.lastTime()}
		switch c.tcp.end {
		case capture.EndIdle:
			e.How = "idle"
		case capture.EndEvicted:
			// tlspcap stopped following it (--max-connections), not the peers.
			e.How = "connection-limit"
		default:
			if !captureEnd.IsZero() {
				e.Time = captureEnd
			}
		}
	}
	e.Time = jsonTime(e.Time)
	return e
}

// outcome turns findings and stage into the verdict.
func outcome(c *conn, r *Connection) Outcome {
	for _, f := range r.Findings {
		if f.ID == catalog.NotTLS {
			return OutcomeNotTLS
		}
	}
	if r.Failed() {
		return OutcomeFailed
	}
	if c.established() {
		return OutcomeOK
	}
	for _, f := range r.Findings {
		if strings.HasPrefix(string(f.ID), "capture-") && f.Severity == SeverityWarning {
			return OutcomeIncomplete // the capture cannot show how it ended
		}
	}
	if c.tls.clientHello == nil && c.tls.recordCount[0]+c.tls.recordCount[1] == 0 {
		// TCP without TLS on either side (and nothing wrong found).
		return OutcomeNotTLS
	}
	return OutcomeIncomplete
}

// timelineHead and timelineTail bound a connection's timeline.
const (
	timelineHead = 150
	timelineTail = 50
)

// timeline lists what happened, in frame order, for reports.
func (c *conn) timeline() []Step {
	var st []Step
	add := func(f capture.Frame, d capture.Dir, kind, what string, n int) {
		st = append(st, Step{Frame: f.Number, Time: jsonTime(f.Time), From: c.who(d), What: what, Kind: kind, Bytes: n})
	}
	if ev := c.tcp.syn; ev != nil {
		add(ev.Frame, ev.Dir, "tcp", "SYN", 0)
	}
	if ev := c.tcp.synAck; ev != nil {
		add(ev.Frame, ev.Dir, "tcp", "SYN-ACK", 0)
	}
	for d := capture.Dir(0); d < 2; d++ {
		if ev := c.tcp.fin[d]; ev != nil {
			add(ev.Frame, d, "tcp", "FIN", 0)
		}
		if ev := c.tcp.rst[d]; ev != nil {
			add(ev.Frame, d, "tcp", "RST", 0)
		}
		if ev := c.tcp.zeroWindow[d]; ev != nil {
			add(ev.Frame, d, "tcp", "zero window", 0)
		}
		if nt := c.tls.notTLS[d]; nt != nil {
			add(frameOf(nt.Where), d, "not-tls", "not TLS: "+nt.Protocol+" "+c.an.opts.Values.Wire(quoteBytes(nt.Prefix, 24)), 0)
		}
	}
	for _, g := range c.tcp.gaps {
		add(g.Frame, g.Dir, "gap", fmt.Sprintf("%d bytes missing from the capture", g.Missing), g.Missing)
	}
	for _, rec := range c.tls.records {
		what := recordWhat(c, rec)
		kind := "data"
		switch rec.ContentType {
		case decode.ContentHandshake:
			kind = "handshake"
		case decode.ContentAlert:
			kind = "alert"
		case decode.ContentChangeCipherSpec:
			kind = "ccs"
		}
		add(frameOf(rec.Where), rec.Dir, kind, what, rec.Length)
	}
	sort.SliceStable(st, func(i, j int) bool { return st[i].Frame < st[j].Frame })
	// A summary for the reports: a long connection shows how it began and
	// how it ended; the frame numbers show the jump, and `tlspcap records`
	// lists the records between.
	if len(st) > timelineHead+timelineTail {
		st = append(st[:timelineHead], st[len(st)-timelineTail:]...)
	}
	return st
}

func frameOf(w decode.Where) capture.Frame {
	n := 0
	if len(w.Frames) > 0 {
		n = w.Frames[0]
	}
	return capture.Frame{Number: n, Time: w.Time}
}

// recordWhat names a record the way a reader expects: "Certificate (5012 B)".
func recordWhat(c *conn, rec *decode.Record) string {
	var parts []string
	switch {
	case rec.ContentType == decode.ContentHandshake && !rec.Encrypted && len(rec.HandshakeTypes) > 0:
		for _, ht := range rec.HandshakeTypes {
			parts = append(parts, decode.HandshakeTypeName(ht))
		}
	case rec.ContentType == decode.ContentAlert:
		if al := c.alertAt(rec); al != nil && !al.Encrypted {
			parts = append(parts, fmt.Sprintf("Alert %s %s", levelName(al.Level), decode.AlertName(al.Description)))
		} else {
			parts = append(parts, "Alert (encrypted)")
		}
	case rec.Decrypted && len(rec.HandshakeTypes) > 0:
		for _, ht := range rec.HandshakeTypes {
			parts = append(parts, decode.HandshakeTypeName(ht))
		}
		parts[0] = "(decrypted) " + parts[0]
	case rec.Decrypted && rec.InnerType == decode.ContentAlert:
		if al := c.alertAt(rec); al != nil {
			parts = append(parts, fmt.Sprintf("(decrypted) Alert %s %s", levelName(al.Level), decode.AlertName(al.Description)))
		} else {
			parts = append(parts, "(decrypted) Alert")
		}
	case rec.ContentType == decode.ContentApplicationData:
		parts = append(parts, "Application Data")
	case rec.ContentType == decode.ContentHandshake && rec.Encrypted:
		parts = append(parts, "Encrypted Handshake")
	default:
		parts = append(parts, decode.ContentTypeName(rec.ContentType))
	}
	s := strings.Join(parts, ", ") + fmt.Sprintf(" (%d B)", rec.Length)
	if rec.Truncated {
		s += fmt.Sprintf(", truncated after %d B", rec.Received)
	}
	return s
}

func (c *conn) alertAt(rec *decode.Record) *decode.Alert {
	for _, al := range c.tls.alerts {
		if al.Dir == rec.Dir && al.Offset == rec.Offset {
			return al
		}
	}
	return nil
}

func levelName(l uint8) string {
	switch l {
	case decode.AlertWarning:
		return "warning"
	case decode.AlertFatal:
		return "fatal"
	}
	return fmt.Sprintf("level-%d", l)
}

func (c *conn) recordRows() []RecordRow {
	rows := make([]RecordRow, 0, len(c.tls.records))
	for _, rec := range c.tls.records {
		row := RecordRow{
			Frames: rec.Frames, Time: jsonTime(rec.Time), From: c.who(rec.Dir),
			ContentType: rec.ContentType, Type: decode.ContentTypeName(rec.ContentType),
			Version: decode.VersionName(rec.Version), Length: rec.Length,
			HandshakeTypes: rec.HandshakeTypes, Truncated: rec.Truncated, Encrypted: rec.Encrypted,
		}
		if row.HandshakeTypes == nil {
			row.HandshakeTypes = []uint8{}
		}
		for _, ht := range rec.HandshakeTypes {
			if rec.SSLv2 {
				row.Handshakes = append(row.Handshakes, decode.SSLv2MessageName(ht))
			} else {
				row.Handshakes = append(row.Handshakes, decode.HandshakeTypeName(ht))
			}
		}
		if rec.ContentType == decode.ContentAlert {
			if al := c.alertAt(rec); al != nil && !al.Encrypted {
				row.Note = levelName(al.Level) + " " + decode.AlertName(al.Description)
			}
		}
		if rec.Decrypted {
			row.Decrypted = true
			row.InnerType = decode.ContentTypeName(rec.InnerType)
			row.Note = "decrypted " + row.InnerType
		}
		if rec.SSLv2 {
			row.Note = "SSLv2 record"
			if len(rec.HandshakeTypes) == 1 && rec.HandshakeTypes[0] == decode.TypeClientHello {
				row.Note = "SSLv2-compatible ClientHello"
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// jsonTime drops timestamps JSON cannot carry (a corrupt capture can claim
// any year); the frame number still locates the event.
func jsonTime(t time.Time) time.Time {
	if y := t.Year(); y < 1 || y > 9999 {
		return time.Time{}
	}
	return t
}
