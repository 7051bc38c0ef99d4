// Package synth writes large, realistic synthetic packet captures for the
// speed and memory benchmarks: replays of real crypto/tls handshakes in many
// TCP connections, failing connections, DNS and noise.
package synth

import (
	"bufio"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Servers is the default server population: different chains, key types
// and versions. Weight says how often each one is visited.
var Servers = []struct {
	Spec   ServerSpec
	Weight int
}{
	{ServerSpec{Name: "Example Cloud", Hosts: []string{"api.example.com"}, KeyType: "ecdsa", Inters: 1, MaxVer: tls.VersionTLS13}, 30},
	{ServerSpec{Name: "Example Cloud", Hosts: []string{"api.example.com"}, KeyType: "ecdsa", Inters: 1, MaxVer: tls.VersionTLS13, ClientMax: tls.VersionTLS12,
		Suites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384}}, 15},
	{ServerSpec{Name: "IoT Hub", Hosts: []string{"mqtt.iot.example.net"}, KeyType: "rsa", Inters: 1, MaxVer: tls.VersionTLS12,
		Suites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384}}, 20},
	{ServerSpec{Name: "Firmware CDN", Hosts: []string{"ota.example.org"}, KeyType: "rsa", Inters: 3, SANs: 60, MaxVer: tls.VersionTLS12}, 10},
	{ServerSpec{Name: "Firmware CDN", Hosts: []string{"ota.example.org"}, KeyType: "rsa", Inters: 3, SANs: 60, MaxVer: tls.VersionTLS13}, 10},
	{ServerSpec{Name: "Lab Gateway", Hosts: []string{"gw.lab.local"}, KeyType: "ecdsa", SelfSign: true, MaxVer: tls.VersionTLS12}, 8},
	{ServerSpec{Name: "Telemetry", Hosts: []string{"t.metrics.example.io"}, KeyType: "ecdsa", Inters: 2, MaxVer: tls.VersionTLS13}, 7},
}

// Options for Generate.
type Options struct {
	Size   int64 // stop after about this many bytes of capture
	Seed   uint64
	Active int // connections open at once (default 64)
	// Handshakes makes only short, successful TLS connections (full
	// handshake, one small request and response): the handshake-heavy case.
	Handshakes bool
	Verbose    io.Writer
}

// Stats of a generated capture.
type Stats struct {
	Bytes, Packets                                 int64
	TLS, Failed, DNS, NoiseTCP, NoiseUDP, OOO, Rtx int
	Transcripts                                    int
}

// Prepare runs the real handshakes once per server (in Servers order).
func Prepare(now time.Time) ([]*Transcript, error) {
	var ts []*Transcript
	chains := map[string]tls.Certificate{}
	for _, s := range Servers {
		key := s.Spec.Name + s.Spec.Hosts[0]
		cert, ok := chains[key]
		if !ok {
			var err error
			if cert, err = s.Spec.Chain(now); err != nil {
				return nil, err
			}
			chains[key] = cert
		}
		t, err := Record(s.Spec.Name, cert, s.Spec)
		if err != nil {
			return nil, fmt.Errorf("handshake with %s: %w", s.Spec.Hosts[0], err)
		}
		ts = append(ts, t)
	}
	return ts, nil
}

// Generate writes a pcap of about o.Size bytes to w, replaying the
// transcripts. Packets are written as they are made: memory stays bounded by
// the open connections.
func Generate(w io.Writer, ts []*Transcript, start time.Time, o Options) (Stats, error) {
	if o.Active == 0 {
		o.Active = 64
	}
	cw := &countWriter{w: bufio.NewWriterSize(w, 1<<20)}
	pw := pcapgo.NewWriter(cw)
	if err := pw.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		return Stats{}, err
	}
	g := &gen{rng: rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15)), ts: ts, now: start, pw: pw, short: o.Handshakes}
	g.blob = appBlob(g.rng)
	total := 0
	for _, s := range Servers {
		total += s.Weight
	}
	g.weights = total
	active := make([]*conn, 0, o.Active)
	done := false
	for {
		for !done && len(active) < o.Active {
			active = append(active, g.newConn())
		}
		if len(active) == 0 {
			break
		}
		// the ready connections; if none, jump the clock
		var ready []*conn
		next := active[0].readyAt
		for _, c := range active {
			if !c.readyAt.After(g.now) {
				ready = append(ready, c)
			}
			if c.readyAt.Before(next) {
				next = c.readyAt
			}
		}
		if len(ready) == 0 {
			g.now = next
			continue
		}
		c := ready[g.rng.IntN(len(ready))]
		p, ok, wait := c.next(g)
		if wait {
			continue
		}
		if ok {
			if err := g.write(c, p); err != nil {
				return g.st, err
			}
			g.now = g.now.Add(time.Duration(2+g.rng.IntN(18)) * time.Microsecond)
		}
		if !ok || c.finished() {
			for i, a := range active {
				if a == c {
					active[i] = active[len(active)-1]
					active = active[:len(active)-1]
					break
				}
			}
		}
		if cw.n >= o.Size {
			done = true
		}
	}
	if err := cw.w.Flush(); err != nil {
		return g.st, err
	}
	g.st.Bytes = cw.n
	g.st.Transcripts = len(ts)
	return g.st, nil
}

type countWriter struct {
	w *bufio.Writer
	n int64
}

func (c *countWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

const (
	fFIN = 0x01
	fSYN = 0x02
	fRST = 0x04
	fPSH = 0x08
	fACK = 0x10
)

type kind int

const (
	kTCP kind = iota
	kUDP
	kDNS // UDP to/from the DNS server
)

type step struct {
	kind       kind
	fromServer bool
	data       []byte
	flags      uint8
	delay      time.Duration // before this step
	again      bool          // retransmission of the previous data of this side
}

type pkt struct {
	kind       kind
	fromServer bool
	flags      uint8
	seq, ack   uint32
	data       []byte
	win        uint16
}

type conn struct {
	cli, srv, dns [4]byte
	cmac, smac    [6]byte
	cport, sport  uint16
	isn           [2]uint32
	sent          [2]uint32 // relative sequence numbers (next to send)
	steps         []step
	si, off       int
	queue         []pkt
	readyAt       time.Time
	rtt           time.Duration
	ooo, rtx      int // segment index to reorder / retransmit (-1 none)
	seg           int // data segments sent so far
	unacked       [2]int
}

func (c *conn) finished() bool { return c.si >= len(c.steps) && len(c.queue) == 0 }

func side(server bool) int {
	if server {
		return 1
	}
	return 0
}

const mss = 1448

// next returns the next packet of the connection.
func (c *conn) next(g *gen) (p pkt, ok, wait bool) {
	for len(c.queue) == 0 {
		if c.si >= len(c.steps) {
			return pkt{}, false, false
		}
		st := &c.steps[c.si]
		if c.off == 0 && st.delay > 0 {
			d := st.delay
			st.delay = 0
			c.readyAt = g.now.Add(d)
			if c.readyAt.After(g.now) {
				return pkt{}, false, true // not ready yet: nothing sent
			}
		}
		s := side(st.fromServer)
		switch {
		case st.kind != kTCP:
			c.queue = append(c.queue, pkt{kind: st.kind, fromServer: st.fromServer, data: st.data})
			c.si++
		case len(st.data) == 0:
			p := pkt{fromServer: st.fromServer, flags: st.flags, seq: c.sent[s], ack: c.sent[1-s], win: 64240}
			if st.flags&fACK == 0 {
				p.ack = 0
			}
			if st.flags&(fSYN|fFIN) != 0 {
				c.sent[s]++
			}
			c.queue = append(c.queue, p)
			c.si++
		default:
			base := c.sent[s]
			if st.again {
				base -= uint32(len(st.data))
			}
			end := min(c.off+mss, len(st.data))
			p := pkt{fromServer: st.fromServer, flags: fACK, seq: base + uint32(c.off), ack: c.sent[1-s], data: st.data[c.off:end], win: 64240}
			if end == len(st.data) {
				p.flags |= fPSH
			}
			c.off = end
			idx := c.seg
			c.seg++
			switch {
			case idx == c.ooo && end < len(st.data):
				// send the next segment first
				end2 := min(c.off+mss, len(st.data))
				q := p
				q.seq, q.data, q.flags = base+uint32(c.off), st.data[c.off:end2], fACK
				if end2 == len(st.data) {
					q.flags |= fPSH
				}
				c.off = end2
				c.seg++
				c.queue = append(c.queue, q, p)
			case idx == c.rtx:
				c.queue = append(c.queue, p, p)
			default:
				c.queue = append(c.queue, p)
			}
			c.unacked[s] += 1
			if c.off == len(st.data) {
				if !st.again {
					c.sent[s] += uint32(len(st.data))
				}
				c.off = 0
				c.si++
				// the receiver acknowledges
				c.queue = append(c.queue, pkt{fromServer: !st.fromServer, flags: fACK, seq: c.sent[1-s], ack: c.sent[s], win: 64240})
				c.unacked[s] = 0
			} else if c.unacked[s] >= 2 {
				c.queue = append(c.queue, pkt{fromServer: !st.fromServer, flags: fACK, seq: c.sent[1-s], ack: base + uint32(c.off), win: 64240})
				c.unacked[s] = 0
			}
		}
	}
	p = c.queue[0]
	c.queue = c.queue[1:]
	if len(c.queue) == 0 {
		c.queue = nil
	}
	return p, true, false
}

type gen struct {
	rng     *rand.Rand
	ts      []*Transcript
	blob    *blob
	now     time.Time
	pw      *pcapgo.Writer
	buf     []byte
	st      Stats
	weights int
	host    uint32
	dnsID   uint16
	short   bool
}

// blob is shared application data: TLS records of type 23 with random
// bodies; a connection's stream is a prefix ending at a record boundary.
type blob struct {
	data   []byte
	bounds []int
}

func appBlob(r *rand.Rand) *blob {
	b := &blob{}
	add := func(n int) {
		b.data = append(b.data, 23, 3, 3, byte(n>>8), byte(n))
		for i := 0; i < n; i += 8 {
			var x [8]byte
			binary.LittleEndian.PutUint64(x[:], r.Uint64())
			b.data = append(b.data, x[:min(8, n-i)]...)
		}
		b.bounds = append(b.bounds, len(b.data))
	}
	add(317 + 17)
	add(2048 + 17)
	for len(b.data) < 4<<20 {
		add(16384 + 17)
	}
	return b
}

func (b *blob) prefix(n int) []byte {
	for _, e := range b.bounds {
		if e >= n {
			return b.data[:e]
		}
	}
	return b.data
}

func (g *gen) addr(net byte) [4]byte {
	g.host++
	return [4]byte{10, net, byte(g.host >> 8), byte(g.host)}
}

func (g *gen) pickTranscript() *Transcript {
	n := g.rng.IntN(g.weights)
	for i, s := range Servers {
		if n < s.Weight {
			return g.ts[i]
		}
		n -= s.Weight
	}
	return g.ts[0]
}

func (g *gen) newConn() *conn {
	r := g.rng
	c := &conn{
		cli: [4]byte{192, 168, byte(1 + r.IntN(4)), byte(2 + r.IntN(250))},
		dns: [4]byte{192, 168, 1, 1}, cport: uint16(32768 + r.IntN(28000)), sport: 443,
		isn: [2]uint32{r.Uint32(), r.Uint32()}, rtt: time.Duration(5+r.IntN(120)) * time.Millisecond,
		ooo: -1, rtx: -1, readyAt: g.now,
	}
	c.cmac = [6]byte{0x24, 0x0a, 0xc4, byte(c.cli[2]), byte(c.cli[3]), 1} // Espressif OUI
	c.smac = [6]byte{0x00, 0x1b, 0x21, 0, 0, 1}
	hs := func() {
		c.steps = append(c.steps,
			step{flags: fSYN},
			step{fromServer: true, flags: fSYN | fACK, delay: c.rtt / 2},
			step{flags: fACK, delay: c.rtt / 2})
	}
	x := r.IntN(1000)
	if g.short {
		x = 1000
	}
	switch {
	case x < 40: // non-TLS TCP noise
		g.st.NoiseTCP++
		c.srv, c.sport = g.addr(20), []uint16{80, 22, 1883, 8080}[r.IntN(4)]
		hs()
		req := []byte(fmt.Sprintf("GET /index-%d.html HTTP/1.1\r\nHost: 10.20.0.1\r\n\r\n", r.IntN(1000)))
		body := g.blob.prefix(1000 + r.IntN(30000))
		c.steps = append(c.steps, step{data: req}, step{fromServer: true, data: body, delay: c.rtt},
			step{flags: fFIN | fACK}, step{fromServer: true, flags: fFIN | fACK, delay: c.rtt / 2}, step{flags: fACK, delay: c.rtt / 2})
		return c
	case x < 80: // UDP noise
		g.st.NoiseUDP++
		c.srv, c.cport, c.sport = g.addr(30), uint16(1024+r.IntN(60000)), []uint16{123, 5353, 1900, 9999}[r.IntN(4)]
		for i := 0; i < 1+r.IntN(6); i++ {
			c.steps = append(c.steps, step{kind: kUDP, data: g.blob.data[1000 : 1048+r.IntN(400)]},
				step{kind: kUDP, fromServer: true, data: g.blob.data[5000 : 5048+r.IntN(1000)], delay: c.rtt})
		}
		return c
	}
	t := g.pickTranscript()
	c.srv = [4]byte{203, 0, 113, byte(1 + g.rng.IntN(3))}
	if t.ServerName == "gw.lab.local" {
		c.srv = [4]byte{192, 168, 1, 10}
	}
	if r.IntN(4) == 0 && !g.short {
		g.st.DNS++
		nx := r.IntN(10) == 0
		name := t.ServerName
		if nx {
			name = "api.exmaple.com"
		}
		q, a := g.dnsPair(name, c.srv, nx)
		c.steps = append(c.steps, step{kind: kDNS, data: q}, step{kind: kDNS, fromServer: true, data: a, delay: 2 * time.Millisecond})
		if nx {
			return c
		}
	}
	hs()
	ch := t.Chunks[0].Data
	fl := t.Chunks[1].Data
	fin := func(first bool) {
		a, b := false, true
		if !first {
			a, b = true, false
		}
		c.steps = append(c.steps, step{fromServer: a, flags: fFIN | fACK}, step{fromServer: b, flags: fFIN | fACK, delay: c.rtt / 2}, step{fromServer: a, flags: fACK, delay: c.rtt / 2})
	}
	c.steps = append(c.steps, step{data: ch})
	x = r.IntN(100)
	if g.short {
		x = 100
	}
	switch {
	case x < 2: // RST after ClientHello
		g.st.Failed++
		c.steps = append(c.steps, step{fromServer: true, flags: fRST | fACK, delay: c.rtt})
	case x < 4: // silent server: the client retransmits, then gives up
		g.st.Failed++
		c.steps = append(c.steps, step{data: ch, again: true, delay: time.Second}, step{data: ch, again: true, delay: 2 * time.Second},
			step{flags: fFIN | fACK, delay: 7 * time.Second}, step{flags: fRST | fACK, delay: 10 * time.Second})
	case x < 6 && len(fl) > mss && t.Version == tls.VersionTLS12: // record bigger than the device's buffer
		g.st.Failed++
		c.steps = append(c.steps, step{fromServer: true, data: fl[:mss], delay: c.rtt},
			step{flags: fFIN | fACK}, step{flags: fRST | fACK, delay: 4 * time.Millisecond})
		c.sent[1] += uint32(len(fl) - mss) // the rest was in flight
	case x < 8: // alert from the client (bad certificate)
		g.st.Failed++
		c.steps = append(c.steps, step{fromServer: true, data: fl, delay: c.rtt}, step{data: []byte{21, 3, 3, 0, 2, 2, 48}, delay: time.Millisecond})
		fin(true)
	case x < 10: // plaintext HTTP answer
		g.st.Failed++
		c.steps = append(c.steps, step{fromServer: true, data: []byte("HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"), delay: c.rtt},
			step{fromServer: true, flags: fFIN | fACK}, step{flags: fRST | fACK, delay: time.Millisecond})
	default:
		g.st.TLS++
		for _, ck := range t.Chunks[1 : len(t.Chunks)-1] {
			c.steps = append(c.steps, step{fromServer: ck.FromServer, data: ck.Data, delay: c.rtt / 2})
		}
		var n int
		switch y := r.IntN(100); {
		case y < 95:
			n = 2000 + r.IntN(40000)
		case y < 99:
			n = 100000 + r.IntN(400000)
		default:
			n = 1000000 + r.IntN(1500000)
		}
		if !g.short {
			c.steps = append(c.steps, step{data: g.blob.data[:g.blob.bounds[0]], delay: c.rtt / 2},
				step{fromServer: true, data: g.blob.prefix(n), delay: c.rtt})
		}
		last := t.Chunks[len(t.Chunks)-1]
		c.steps = append(c.steps, step{fromServer: last.FromServer, data: last.Data, delay: c.rtt / 2})
		fin(true)
		if r.IntN(30) == 0 && !g.short {
			c.ooo = 2 + r.IntN(4)
			g.st.OOO++
		}
		if r.IntN(30) == 0 && !g.short {
			c.rtx = 1 + r.IntN(5)
			g.st.Rtx++
		}
	}
	return c
}

func (g *gen) dnsPair(name string, ip [4]byte, nx bool) (q, a []byte) {
	g.dnsID++
	d := &layers.DNS{ID: g.dnsID, RD: true, Questions: []layers.DNSQuestion{{Name: []byte(name), Type: layers.DNSTypeA, Class: layers.DNSClassIN}}}
	buf := gopacket.NewSerializeBuffer()
	gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, d)
	q = append([]byte(nil), buf.Bytes()...)
	d.QR, d.RA = true, true
	if nx {
		d.ResponseCode = layers.DNSResponseCodeNXDomain
	} else {
		d.Answers = []layers.DNSResourceRecord{{Name: []byte(name), Type: layers.DNSTypeA, Class: layers.DNSClassIN, TTL: 300, IP: ip[:]}}
	}
	buf = gopacket.NewSerializeBuffer()
	gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true}, d)
	a = append([]byte(nil), buf.Bytes()...)
	return q, a
}

// write encodes one Ethernet/IPv4/TCP or UDP frame by hand.
func (g *gen) write(c *conn, p pkt) error {
	src, dst := c.cli, c.srv
	smac, dmac := c.cmac, c.smac
	sport, dport := c.cport, c.sport
	if p.kind == kDNS {
		dst, dport = c.dns, 53
	}
	if p.fromServer {
		src, dst, sport, dport, smac, dmac = dst, src, dport, sport, dmac, smac
	}
	l4 := 20
	if p.kind != kTCP {
		l4 = 8
	}
	n := 14 + 20 + l4 + len(p.data)
	if cap(g.buf) < n {
		g.buf = make([]byte, n, 2048)
	}
	b := g.buf[:n]
	copy(b[0:6], dmac[:])
	copy(b[6:12], smac[:])
	b[12], b[13] = 0x08, 0x00
	ip := b[14:34]
	ip[0], ip[1] = 0x45, 0
	binary.BigEndian.PutUint16(ip[2:], uint16(20+l4+len(p.data)))
	binary.BigEndian.PutUint16(ip[4:], uint16(g.st.Packets))
	ip[6], ip[7] = 0x40, 0
	ip[8] = 64
	if p.fromServer {
		ip[8] = 52
	}
	ip[9] = 6
	if p.kind != kTCP {
		ip[9] = 17
	}
	ip[10], ip[11] = 0, 0
	copy(ip[12:16], src[:])
	copy(ip[16:20], dst[:])
	binary.BigEndian.PutUint16(ip[10:], ^fold(sum(ip, 0)))
	l := b[34 : 34+l4]
	binary.BigEndian.PutUint16(l[0:], sport)
	binary.BigEndian.PutUint16(l[2:], dport)
	copy(b[34+l4:], p.data)
	var proto uint32 = 6
	if p.kind == kTCP {
		s := side(p.fromServer)
		seq := c.isn[s] + p.seq
		ack := uint32(0)
		if p.flags&fACK != 0 {
			ack = c.isn[1-s] + p.ack
		}
		binary.BigEndian.PutUint32(l[4:], seq)
		binary.BigEndian.PutUint32(l[8:], ack)
		l[12], l[13] = 5<<4, p.flags
		binary.BigEndian.PutUint16(l[14:], p.win)
		l[16], l[17], l[18], l[19] = 0, 0, 0, 0
	} else {
		proto = 17
		binary.BigEndian.PutUint16(l[4:], uint16(8+len(p.data)))
		l[6], l[7] = 0, 0
	}
	// pseudo-header checksum
	ps := uint32(src[0])<<8 | uint32(src[1]) + uint32(src[2])<<8 | uint32(src[3]) +
		uint32(dst[0])<<8 | uint32(dst[1]) + uint32(dst[2])<<8 | uint32(dst[3]) + proto + uint32(l4+len(p.data))
	ck := ^fold(sum(b[34:], ps))
	if p.kind != kTCP && ck == 0 {
		ck = 0xffff
	}
	if p.kind == kTCP {
		binary.BigEndian.PutUint16(l[16:], ck)
	} else {
		binary.BigEndian.PutUint16(l[6:], ck)
	}
	g.st.Packets++
	return g.pw.WritePacket(gopacket.CaptureInfo{Timestamp: g.now, CaptureLength: n, Length: n}, b)
}

func sum(b []byte, s uint32) uint32 {
	acc := uint64(s)
	for len(b) >= 8 {
		acc += uint64(binary.BigEndian.Uint32(b)) + uint64(binary.BigEndian.Uint32(b[4:]))
		b = b[8:]
	}
	for len(b) >= 2 {
		acc += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		acc += uint64(b[0]) << 8
	}
	for acc>>16 != 0 {
		acc = acc&0xffff + acc>>16
	}
	return uint32(acc)
}

func fold(s uint32) uint16 {
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}
