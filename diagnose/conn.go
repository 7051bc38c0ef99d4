package diagnose

import (
	"time"

	"tlspcap/capture"
	"tlspcap/decode"
)

// maxKeptRecords bounds the records a connection keeps for rules and the
// `records` listing; counters keep counting past it.
const maxKeptRecords = 4096

// tcpFacts are what the capture layer said about one connection.
type tcpFacts struct {
	syn, synAck     *capture.TCPEvent
	synRetries      int
	fin, rst        [2]*capture.TCPEvent // first FIN / RST per direction
	zeroWindow      [2]*capture.TCPEvent
	gaps            []capture.TCPEvent
	retransmissions [2]int
	lastFrame       [2]capture.Frame // last packet per direction (TCP events or payload)
	firstPayload    [2]capture.Frame
	payloadBytes    [2]int64
	lastPayload     [2]capture.Frame
	cutFrames       []int // this connection's packets the capture cut short
	end             capture.EndReason
	ended           bool
}

// tlsFacts are what the TLS decoder said.
type tlsFacts struct {
	records      []*decode.Record
	recordCount  [2]int
	largest      [2]*decode.Record // largest record per direction
	handshakes   []*decode.Handshake
	alerts       []*decode.Alert
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
	e := ev
	switch ev.Kind {
	case capture.SYN:
		if c.tcp.syn == nil {
			c.tcp.syn = &e
		} else {
			c.tcp.synRetries++
		}
	case capture.SYNACK:
		if c.tcp.synAck == nil {
			c.tcp.synAck = &e
		}
	case capture.FIN:
		if c.tcp.fin[ev.Dir] == nil {
			c.tcp.fin[ev.Dir] = &e
		}
	case capture.RST:
		if c.tcp.rst[ev.Dir] == nil {
			c.tcp.rst[ev.Dir] = &e
		}
	case capture.ZeroWindow:
		if c.tcp.zeroWindow[ev.Dir] == nil {
			c.tcp.zeroWindow[ev.Dir] = &e
		}
	case capture.Retransmission:
		c.tcp.retransmissions[ev.Dir]++
	case capture.Gap:
		if len(c.tcp.gaps) < 64 {
			c.tcp.gaps = append(c.tcp.gaps, e)
		}
		c.decoder().Gap(ev.Dir, ev.Missing)
	}
}

// Payload implements capture.ConnHandler.
func (c *conn) Payload(p capture.Payload) {
	if len(p.Spans) > 0 {
		if c.tcp.firstPayload[p.Dir].Number == 0 {
			c.tcp.firstPayload[p.Dir] = p.Spans[0].Frame
		}
		last := p.Spans[len(p.Spans)-1].Frame
		c.tcp.lastPayload[p.Dir] = last
		c.seen(p.Dir, last)
	}
	// Only captures with snap-length problems pay for this lookup.
	for _, sp := range p.Spans {
		if len(c.an.snaplenFrames) == 0 {
			break
		}
		if c.an.snaplenFrames[sp.Frame.Number] && len(c.tcp.cutFrames) < 64 {
			c.tcp.cutFrames = append(c.tcp.cutFrames, sp.Frame.Number)
		}
	}
	c.tcp.payloadBytes[p.Dir] += int64(len(p.Data))
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

// End implements capture.ConnHandler.
func (c *conn) End(reason capture.EndReason) {
	if c.tcp.ended {
		return
	}
	c.tcp.ended = true
	c.tcp.end = reason
	if c.dec != nil { // a fresh decoder has nothing to end
		c.dec.End()
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
			// Room for a whole short connection's records at once.
			t.records = make([]*decode.Record, 0, 16)
		}
		if len(t.records) < maxKeptRecords {
			t.records = append(t.records, e)
		}
	case *decode.Handshake:
		if t.handshakes == nil {
			t.handshakes = make([]*decode.Handshake, 0, 16)
		}
		if len(t.handshakes) < maxKeptRecords {
			t.handshakes = append(t.handshakes, e)
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
		if len(t.alerts) < 64 {
			t.alerts = append(t.alerts, e)
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
		if len(t.decodeErrors) < 16 {
			t.decodeErrors = append(t.decodeErrors, e)
		}
	}
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
