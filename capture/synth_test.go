package capture

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Packet builders for synthetic captures.

var (
	cliIP  = netip.MustParseAddr("192.168.1.50")
	srvIP  = netip.MustParseAddr("93.184.216.34")
	cliMAC = []byte{0x24, 0x0a, 0xc4, 1, 2, 3} // an Espressif prefix
	srvMAC = []byte{0x02, 0, 0, 0, 0, 1}
)

const (
	cliPort = 51000
	srvPort = 443
	tFIN    = 0x01
	tSYN    = 0x02
	tRST    = 0x04
	tPSH    = 0x08
	tACK    = 0x10
)

func tcpSeg(sport, dport uint16, seq, ack uint32, flags uint8, win uint16, payload string, opts ...byte) []byte {
	hl := 20 + (len(opts)+3)/4*4
	b := make([]byte, hl+len(payload))
	binary.BigEndian.PutUint16(b[0:], sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	binary.BigEndian.PutUint32(b[4:], seq)
	binary.BigEndian.PutUint32(b[8:], ack)
	b[12] = byte(hl/4) << 4
	b[13] = flags
	binary.BigEndian.PutUint16(b[14:], win)
	copy(b[20:], opts)
	copy(b[hl:], payload)
	return b
}

func ipv4(src, dst netip.Addr, proto uint8, id uint16, fragOff int, more bool, payload []byte) []byte {
	b := make([]byte, 20+len(payload))
	b[0] = 0x45
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	binary.BigEndian.PutUint16(b[4:], id)
	fl := uint16(fragOff / 8)
	if more {
		fl |= 0x2000
	}
	binary.BigEndian.PutUint16(b[6:], fl)
	b[8] = 64
	b[9] = proto
	s, d := src.As4(), dst.As4()
	copy(b[12:], s[:])
	copy(b[16:], d[:])
	copy(b[20:], payload)
	return b
}

func ipv6(src, dst netip.Addr, proto uint8, payload []byte) []byte {
	b := make([]byte, 40+len(payload))
	b[0] = 0x60
	binary.BigEndian.PutUint16(b[4:], uint16(len(payload)))
	b[6] = proto
	b[7] = 64
	s, d := src.As16(), dst.As16()
	copy(b[8:], s[:])
	copy(b[24:], d[:])
	copy(b[40:], payload)
	return b
}

func ether(src, dst []byte, typ uint16, payload []byte, vlans ...uint16) []byte {
	var b []byte
	b = append(b, dst...)
	b = append(b, src...)
	for _, v := range vlans {
		b = binary.BigEndian.AppendUint16(b, v) // TPID
		b = binary.BigEndian.AppendUint16(b, 100)
	}
	b = binary.BigEndian.AppendUint16(b, typ)
	return append(b, payload...)
}

// conv4 builds Ethernet/IPv4/TCP packets of one client-server connection.
type conv4 struct {
	cli, srv         netip.Addr
	cport, sport     uint16
	cliSeq, srvSeq   uint32
	cliMAC, srvMAC   []byte
	rawIP            bool
	cliOpts, srvOpts []byte
}

func newConv4() *conv4 {
	return &conv4{cli: cliIP, srv: srvIP, cport: cliPort, sport: srvPort, cliSeq: 1000, srvSeq: 5000, cliMAC: cliMAC, srvMAC: srvMAC}
}

// pkt returns one packet; relSeq is relative to the ISN+1 of the sender.
func (c *conv4) pkt(fromCli bool, relSeq int, flags uint8, win uint16, data string) []byte {
	var seg []byte
	if fromCli {
		seg = tcpSeg(c.cport, c.sport, c.cliSeq+1+uint32(relSeq), c.srvSeq+1, flags, win, data)
		if flags&tSYN != 0 {
			seg = tcpSeg(c.cport, c.sport, c.cliSeq, 0, flags, win, data, c.cliOpts...)
		}
		ip := ipv4(c.cli, c.srv, 6, 1, 0, false, seg)
		if c.rawIP {
			return ip
		}
		return ether(c.cliMAC, c.srvMAC, 0x0800, ip)
	}
	seg = tcpSeg(c.sport, c.cport, c.srvSeq+1+uint32(relSeq), c.cliSeq+1, flags, win, data)
	if flags&tSYN != 0 {
		seg = tcpSeg(c.sport, c.cport, c.srvSeq, c.cliSeq+1, flags, win, data, c.srvOpts...)
	}
	ip := ipv4(c.srv, c.cli, 6, 1, 0, false, seg)
	if c.rawIP {
		return ip
	}
	return ether(c.srvMAC, c.cliMAC, 0x0800, ip)
}

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// pcapOf writes packets as a pcap file, one every 10 ms.
func pcapOf(t testing.TB, link layers.LinkType, pkts ...[]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(65535, link); err != nil {
		t.Fatal(err)
	}
	for i, p := range pkts {
		ci := gopacket.CaptureInfo{Timestamp: t0.Add(time.Duration(i) * 10 * time.Millisecond), CaptureLength: len(p), Length: len(p)}
		if err := w.WritePacket(ci, p); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// logHandler records everything as lines of text, for exact comparison.
type logHandler struct {
	lines    []string
	conns    []*Conn
	dns      []*DNSMessage
	problems []Problem
	secrets  []string
	onPay    func()
}

func (h *logHandler) logf(format string, args ...any) {
	h.lines = append(h.lines, fmt.Sprintf(format, args...))
}

func (h *logHandler) Conn(c *Conn) ConnHandler {
	h.conns = append(h.conns, c)
	h.logf("conn %d %v>%v syn=%v guessed=%v first=%d", c.Stream, c.Client, c.Server, c.SawSYN, c.ClientGuessed, c.First.Number)
	return &logConn{h: h, id: c.Stream}
}

func (h *logHandler) DNS(m *DNSMessage) { h.dns = append(h.dns, m) }

func (h *logHandler) Problem(p Problem) {
	h.problems = append(h.problems, p)
	h.logf("problem %d frame=%d offset=%d", p.Kind, p.Frame, p.Offset)
}

func (h *logHandler) Secrets(typ uint32, data []byte) {
	h.secrets = append(h.secrets, fmt.Sprintf("%08x %s", typ, data))
}

type logConn struct {
	h  *logHandler
	id int
}

func (c *logConn) TCP(ev TCPEvent) {
	s := fmt.Sprintf("%d %s %s f%d", c.id, ev.Kind, ev.Dir, ev.Frame.Number)
	switch ev.Kind {
	case Gap:
		s += fmt.Sprintf(" missing=%d", ev.Missing)
	case ZeroWindow:
		s += fmt.Sprintf(" win=%d", ev.Window)
	case ICMPError:
		s += fmt.Sprintf(" icmp=%d/%d", ev.ICMPType, ev.ICMPCode)
	}
	c.h.logf("%s", s)
}

func (c *logConn) Payload(p Payload) {
	var sp []string
	total := 0
	for _, s := range p.Spans {
		sp = append(sp, fmt.Sprintf("f%d:%d+%d", s.Number, s.Off, s.Len))
		total += s.Len
	}
	if total != len(p.Data) {
		c.h.logf("BAD SPANS %v cover %d of %d bytes", sp, total, len(p.Data))
	}
	c.h.logf("%d data %s %q %s", c.id, p.Dir, p.Data, strings.Join(sp, " "))
	if c.h.onPay != nil {
		c.h.onPay()
	}
}

func (c *logConn) End(r EndReason) {
	c.h.logf("%d end %d", c.id, r)
}

func readBytes(t testing.TB, data []byte, o Options) (*logHandler, Stats) {
	t.Helper()
	h := &logHandler{}
	st, err := Read(bytes.NewReader(data), "test.pcap", h, o)
	if err != nil {
		t.Fatal(err)
	}
	return h, st
}

func checkLines(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events differ.\ngot:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}
