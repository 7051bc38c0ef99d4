// Package pcapbuild writes small synthetic captures for tests: TCP
// connections with correct sequence numbers, DNS over UDP, in pcap format.
// It exists for cases no real program produces on request (a record cut by
// the capture, a gap, a zero window at a given moment).
package pcapbuild

import (
	"bytes"
	"net"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Capture accumulates packets; Bytes returns the pcap file.
type Capture struct {
	buf   bytes.Buffer
	w     *pcapgo.Writer
	t     time.Time
	Step  time.Duration // time between packets (default 1 ms)
	count int
}

// New starts a pcap with Ethernet link type at a fixed time.
func New() *Capture {
	c := &Capture{t: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC), Step: time.Millisecond}
	c.w = pcapgo.NewWriter(&c.buf)
	if err := c.w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		panic(err)
	}
	return c
}

// Frames is the number of packets written so far (the last frame number).
func (c *Capture) Frames() int { return c.count }

// Bytes returns the pcap file.
func (c *Capture) Bytes() []byte { return c.buf.Bytes() }

// Wait advances the clock.
func (c *Capture) Wait(d time.Duration) { c.t = c.t.Add(d) }

var (
	macA = net.HardwareAddr{0x24, 0x0a, 0xc4, 0x01, 0x02, 0x03} // an Espressif OUI
	macB = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}
)

func (c *Capture) write(ls ...gopacket.SerializableLayer) int {
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		panic(err)
	}
	c.t = c.t.Add(c.Step)
	data := buf.Bytes()
	if err := c.w.WritePacket(gopacket.CaptureInfo{Timestamp: c.t, CaptureLength: len(data), Length: len(data)}, data); err != nil {
		panic(err)
	}
	c.count++
	return c.count
}

func ipLayers(src, dst netip.Addr, proto layers.IPProtocol) (*layers.Ethernet, *layers.IPv4) {
	eth := &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: proto, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
	return eth, ip
}

// TCPConn is one connection between Client and Server.
type TCPConn struct {
	c              *Capture
	Client, Server netip.AddrPort
	seq            [2]uint32
	Window         [2]uint16
	// ClientMAC and ServerMAC are the Ethernet addresses (default: an
	// Espressif client, a locally administered server address).
	ClientMAC, ServerMAC net.HardwareAddr
}

// Dir: 0 client→server, 1 server→client.
const (
	C2S = 0
	S2C = 1
)

// Conn starts a connection (no packets yet).
func (c *Capture) Conn(client, server string) *TCPConn {
	return &TCPConn{c: c, Client: netip.MustParseAddrPort(client), Server: netip.MustParseAddrPort(server),
		seq: [2]uint32{1000, 5000}, Window: [2]uint16{64240, 65160}, ClientMAC: macA, ServerMAC: macB}
}

func (t *TCPConn) packet(dir int, flags func(*layers.TCP), payload []byte) int {
	src, dst := t.Client, t.Server
	if dir == S2C {
		src, dst = dst, src
	}
	eth, ip := ipLayers(src.Addr(), dst.Addr(), layers.IPProtocolTCP)
	eth.SrcMAC, eth.DstMAC = t.ClientMAC, t.ServerMAC
	if dir == S2C {
		eth.SrcMAC, eth.DstMAC = eth.DstMAC, eth.SrcMAC
	}
	tcp := &layers.TCP{SrcPort: layers.TCPPort(src.Port()), DstPort: layers.TCPPort(dst.Port()),
		Seq: t.seq[dir], Ack: t.seq[1-dir], ACK: true, Window: t.Window[dir]}
	flags(tcp)
	if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
		panic(err)
	}
	n := t.c.write(eth, ip, tcp, gopacket.Payload(payload))
	t.seq[dir] += uint32(len(payload))
	if tcp.SYN || tcp.FIN {
		t.seq[dir]++
	}
	return n
}

// Handshake writes SYN, SYN-ACK, ACK and returns the SYN's frame.
func (t *TCPConn) Handshake() int {
	n := t.SYN()
	t.SYNACK()
	t.packet(C2S, func(*layers.TCP) {}, nil)
	return n
}

// SYN writes a SYN from the client.
func (t *TCPConn) SYN() int {
	return t.packet(C2S, func(p *layers.TCP) { p.SYN, p.ACK, p.Ack = true, false, 0 }, nil)
}

// RetransmitSYN writes the same SYN again.
func (t *TCPConn) RetransmitSYN() int {
	t.seq[C2S]--
	return t.SYN()
}

// SYNACK writes the server's SYN-ACK.
func (t *TCPConn) SYNACK() int { return t.packet(S2C, func(p *layers.TCP) { p.SYN = true }, nil) }

// Send writes payload in one segment.
func (t *TCPConn) Send(dir int, payload []byte) int {
	return t.packet(dir, func(p *layers.TCP) { p.PSH = len(payload) > 0 }, payload)
}

// SendSegments writes payload cut into segments of at most mss bytes and
// returns the first frame.
func (t *TCPConn) SendSegments(dir int, payload []byte, mss int) int {
	first := 0
	for len(payload) > 0 {
		n := min(mss, len(payload))
		f := t.Send(dir, payload[:n])
		if first == 0 {
			first = f
		}
		payload = payload[n:]
	}
	return first
}

// SendAt writes payload in one segment at off bytes past the sequence
// number dir had when mark was taken (Next), out of order or again; the
// next Send follows the highest byte sent.
func (t *TCPConn) SendAt(dir int, mark uint32, off int, payload []byte) int {
	next := t.seq[dir]
	t.seq[dir] = mark + uint32(off)
	n := t.Send(dir, payload)
	if int32(t.seq[dir]-next) < 0 {
		t.seq[dir] = next
	}
	return n
}

// Next returns the sequence number of dir's next byte.
func (t *TCPConn) Next(dir int) uint32 { return t.seq[dir] }

// Skip advances dir's sequence number as if n bytes were sent but not captured.
func (t *TCPConn) Skip(dir int, n int) { t.seq[dir] += uint32(n) }

// FIN writes a FIN from dir.
func (t *TCPConn) FIN(dir int) int { return t.packet(dir, func(p *layers.TCP) { p.FIN = true }, nil) }

// RST writes a RST from dir.
func (t *TCPConn) RST(dir int) int {
	return t.packet(dir, func(p *layers.TCP) { p.RST = true; p.ACK = dir == S2C }, nil)
}

// RSTToSYN writes the server's RST answering a SYN (connection refused).
func (t *TCPConn) RSTToSYN() int {
	return t.packet(S2C, func(p *layers.TCP) { p.RST, p.ACK, p.Seq = true, true, 0 }, nil)
}

// ZeroWindow writes an ACK from dir advertising a zero window.
func (t *TCPConn) ZeroWindow(dir int) int {
	return t.packet(dir, func(p *layers.TCP) { p.Window = 0 }, nil)
}

// DNS writes a DNS query or response for an A record over UDP and
// returns its frame.
func (c *Capture) DNS(client, server string, id uint16, name string, response bool, rcode layers.DNSResponseCode, answers ...netip.Addr) int {
	return c.DNSOfType(client, server, id, name, layers.DNSTypeA, response, rcode, answers...)
}

// DNSOfType is DNS for a question of type qtype (PTR, SRV, AAAA...); the
// answers are A records.
func (c *Capture) DNSOfType(client, server string, id uint16, name string, qtype layers.DNSType, response bool, rcode layers.DNSResponseCode, answers ...netip.Addr) int {
	cl, sv := netip.MustParseAddrPort(client), netip.MustParseAddrPort(server)
	src, dst := cl, sv
	if response {
		src, dst = sv, cl
	}
	eth, ip := ipLayers(src.Addr(), dst.Addr(), layers.IPProtocolUDP)
	udp := &layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
	if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
		panic(err)
	}
	d := &layers.DNS{ID: id, QR: response, OpCode: layers.DNSOpCodeQuery, RD: true, RA: response, ResponseCode: rcode,
		Questions: []layers.DNSQuestion{{Name: []byte(name), Type: qtype, Class: layers.DNSClassIN}}}
	for _, a := range answers {
		d.Answers = append(d.Answers, layers.DNSResourceRecord{Name: []byte(name), Type: layers.DNSTypeA, Class: layers.DNSClassIN, TTL: 60, IP: a.AsSlice()})
	}
	return c.write(eth, ip, udp, d)
}
