package capture

import (
	"bytes"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/gopacket/gopacket/layers"
)

const (
	endClosed      = "end 0"
	endCaptureDone = "end 2"
)

func TestTCPEvents(t *testing.T) {
	c := newConv4()
	c.cliOpts = []byte{1, 3, 3, 7} // NOP, window scale 7
	c.srvOpts = []byte{1, 3, 3, 2} // NOP, window scale 2
	pkts := [][]byte{
		c.pkt(true, 0, tSYN, 64240, ""),           // 1
		c.pkt(false, 0, tSYN|tACK, 65160, ""),     // 2
		c.pkt(true, 0, tACK, 502, ""),             // 3
		c.pkt(true, 0, tACK|tPSH, 502, "hello"),   // 4
		c.pkt(false, 0, tACK|tPSH, 509, "world!"), // 5
		c.pkt(true, 8, tACK|tPSH, 502, "ccc"),     // 6 out of order
		c.pkt(true, 5, tACK|tPSH, 502, "bbb"),     // 7 fills the hole
		c.pkt(true, 5, tACK|tPSH, 502, "bbb"),     // 8 retransmission
		c.pkt(false, 4, tACK|tPSH, 509, "!!more"), // 9 overlaps "!!" already seen
		c.pkt(false, 12, tACK, 0, ""),             // 10 zero window
		c.pkt(true, 10, tACK, 502, ""),            // 11 keep-alive (seq = next-1)
		c.pkt(true, 11, tACK|tFIN, 502, ""),       // 12
		c.pkt(false, 12, tACK|tFIN, 509, ""),      // 13
		c.pkt(true, 12, tRST, 0, ""),              // 14 RST after FIN, before End
	}
	h, st := readBytes(t, pcapOf(t, layers.LinkTypeEthernet, pkts...), Options{})
	checkLines(t, h.lines, []string{
		"conn 0 192.168.1.50:51000>93.184.216.34:443 syn=true guessed=false first=1",
		"0 SYN client f1",
		"0 SYN-ACK server f2",
		`0 data client "hello" f4:0+5`,
		`0 data server "world!" f5:0+6`,
		`0 data client "bbbccc" f7:0+3 f6:3+3`,
		"0 retransmission client f8",
		"0 retransmission server f9",
		`0 data server "more" f9:0+4`,
		"0 zero-window server f10 win=0",
		"0 keep-alive client f11",
		"0 FIN client f12",
		"0 FIN server f13",
		"0 RST client f14",
		"0 " + endClosed,
	})
	if st.Frames != 14 || st.TCPConns != 1 || st.Undecodable != 0 {
		t.Errorf("stats %+v", st)
	}
	if got := h.conns[0].ClientMAC.String(); got != "24:0a:c4:01:02:03" {
		t.Errorf("client MAC %s", got)
	}
}

func TestWindowScaled(t *testing.T) {
	c := newConv4()
	c.cliOpts = []byte{1, 3, 3, 7} // NOP, window scale 7
	c.srvOpts = []byte{1, 3, 3, 2} // NOP, window scale 2
	rec := &windowRec{}
	if _, err := Read(bytes.NewReader(pcapOf(t, layers.LinkTypeEthernet,
		c.pkt(true, 0, tSYN, 64240, ""),
		c.pkt(false, 0, tSYN|tACK, 65160, ""),
		c.pkt(false, 0, tACK|tPSH, 100, "x"),
		c.pkt(false, 0, tACK|tPSH, 100, "x"), // retransmission: carries the scaled window
	)), "w", rec, Options{}); err != nil {
		t.Fatal(err)
	}
	if want := []int{64240, 65160, 400}; fmt.Sprint(rec.wins) != fmt.Sprint(want) {
		t.Errorf("windows %v, want %v", rec.wins, want)
	}
}

type windowRec struct {
	logHandler
	wins []int
}

func (w *windowRec) Conn(c *Conn) ConnHandler { return w }
func (w *windowRec) TCP(ev TCPEvent)          { w.wins = append(w.wins, ev.Window) }
func (w *windowRec) Payload(Payload)          {}
func (w *windowRec) End(EndReason)            {}

func TestGapReported(t *testing.T) {
	c := newConv4()
	h, _ := readBytes(t, pcapOf(t, layers.LinkTypeEthernet,
		c.pkt(true, 0, tSYN, 64240, ""),
		c.pkt(false, 0, tSYN|tACK, 65160, ""),
		c.pkt(true, 0, tACK|tPSH, 502, "aaa"),
		c.pkt(true, 6, tACK|tPSH, 502, "ccc"), // "bbb" never captured
		c.pkt(true, 9, tACK|tPSH, 502, "ddd"),
	), Options{})
	checkLines(t, h.lines, []string{
		"conn 0 192.168.1.50:51000>93.184.216.34:443 syn=true guessed=false first=1",
		"0 SYN client f1",
		"0 SYN-ACK server f2",
		`0 data client "aaa" f3:0+3`,
		"0 gap client f4 missing=3",
		`0 data client "cccddd" f4:0+3 f5:3+3`,
		"0 " + endCaptureDone,
	})
}

func TestMidStreamGuessesClient(t *testing.T) {
	c := newConv4()
	h, _ := readBytes(t, pcapOf(t, layers.LinkTypeEthernet,
		c.pkt(false, 0, tACK|tPSH, 509, "from server"),
		c.pkt(true, 0, tACK|tPSH, 502, "from client"),
	), Options{})
	checkLines(t, h.lines, []string{
		"conn 0 192.168.1.50:51000>93.184.216.34:443 syn=false guessed=true first=1",
		`0 data server "from server" f1:0+11`,
		`0 data client "from client" f2:0+11`,
		"0 " + endCaptureDone,
	})
}

func TestPortReuseNewStream(t *testing.T) {
	a := newConv4()
	b := newConv4()
	b.cliSeq, b.srvSeq = 90000, 70000
	h, st := readBytes(t, pcapOf(t, layers.LinkTypeEthernet,
		a.pkt(true, 0, tSYN, 64240, ""),         // 1 stream 0
		a.pkt(true, 0, tSYN, 64240, ""),         // 2 retransmitted SYN: same stream
		a.pkt(false, 0, tSYN|tACK, 65160, ""),   // 3
		a.pkt(true, 0, tACK|tFIN, 502, ""),      // 4
		a.pkt(false, 0, tACK|tFIN, 509, ""),     // 5
		b.pkt(true, 0, tSYN, 64240, ""),         // 6 new ISN: stream 1
		b.pkt(false, 0, tSYN|tACK, 65160, ""),   // 7
		b.pkt(true, 0, tACK|tPSH, 502, "again"), // 8
	), Options{})
	checkLines(t, h.lines, []string{
		"conn 0 192.168.1.50:51000>93.184.216.34:443 syn=true guessed=false first=1",
		"0 SYN client f1",
		"0 SYN client f2",
		"0 retransmission client f2",
		"0 SYN-ACK server f3",
		"0 FIN client f4",
		"0 FIN server f5",
		"conn 1 192.168.1.50:51000>93.184.216.34:443 syn=true guessed=false first=6",
		"1 SYN client f6",
		"1 SYN-ACK server f7",
		`1 data client "again" f8:0+5`,
		"0 " + endClosed,
		"1 " + endCaptureDone,
	})
	if st.TCPConns != 2 {
		t.Errorf("TCPConns = %d", st.TCPConns)
	}
}

func TestIPv4Fragments(t *testing.T) {
	c := newConv4()
	seg := tcpSeg(cliPort, srvPort, c.cliSeq+1, c.srvSeq+1, tACK|tPSH, 502, "fragmented payload!!")
	f1 := ipv4(cliIP, srvIP, 6, 77, 0, true, seg[:24])
	f2 := ipv4(cliIP, srvIP, 6, 77, 24, false, seg[24:])
	h, _ := readBytes(t, pcapOf(t, layers.LinkTypeEthernet,
		c.pkt(true, 0, tSYN, 64240, ""),
		c.pkt(false, 0, tSYN|tACK, 65160, ""),
		ether(cliMAC, srvMAC, 0x0800, f2), // last fragment first
		ether(cliMAC, srvMAC, 0x0800, f1),
	), Options{})
	checkLines(t, h.lines, []string{
		"conn 0 192.168.1.50:51000>93.184.216.34:443 syn=true guessed=false first=1",
		"0 SYN client f1",
		"0 SYN-ACK server f2",
		`0 data client "fragmented payload!!" f4:0+20`,
		"0 " + endCaptureDone,
	})
}

// TestLinkTypes reads the same TCP packet under every supported link layer.
func TestLinkTypes(t *testing.T) {
	seg := tcpSeg(cliPort, srvPort, 1, 1, tACK|tPSH, 100, "hi")
	ip4 := ipv4(cliIP, srvIP, 6, 1, 0, false, seg)
	ip6 := ipv6(netip.MustParseAddr("2001:db8::50"), netip.MustParseAddr("2001:db8::1"), 6, seg)
	sll := func(proto uint16, ip []byte) []byte {
		b := []byte{0, 4, 0, 1, 0, 6}
		b = append(b, cliMAC...)
		b = append(b, 0, 0)
		b = append(b, byte(proto>>8), byte(proto))
		return append(b, ip...)
	}
	sll2 := func(proto uint16, ip []byte) []byte {
		b := []byte{byte(proto >> 8), byte(proto), 0, 0, 0, 0, 0, 2, 0, 1, 4, 6}
		b = append(b, cliMAC...)
		b = append(b, 0, 0)
		return append(b, ip...)
	}
	le := func(v uint32, ip []byte) []byte {
		return append([]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)}, ip...)
	}
	be := func(v uint32, ip []byte) []byte {
		return append([]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}, ip...)
	}
	pppoe := append([]byte{0x11, 0, 0, 1, 0, byte(len(ip4) + 2), 0, 0x21}, ip4...)
	tests := []struct {
		name string
		link layers.LinkType
		pkt  []byte
		mac  bool
	}{
		{"ethernet", layers.LinkTypeEthernet, ether(cliMAC, srvMAC, 0x0800, ip4), true},
		{"ethernet ipv6", layers.LinkTypeEthernet, ether(cliMAC, srvMAC, 0x86dd, ip6), true},
		{"802.1Q", layers.LinkTypeEthernet, ether(cliMAC, srvMAC, 0x0800, ip4, 0x8100), true},
		{"QinQ", layers.LinkTypeEthernet, ether(cliMAC, srvMAC, 0x0800, ip4, 0x88a8, 0x8100), true},
		{"PPPoE", layers.LinkTypeEthernet, ether(cliMAC, srvMAC, 0x8864, pppoe), true},
		{"SLL", layers.LinkTypeLinuxSLL, sll(0x0800, ip4), true},
		{"SLL2", layers.LinkType(276), sll2(0x86dd, ip6), true},
		{"raw 101", layers.LinkTypeRaw, ip4, false},
		{"raw 101 ipv6", layers.LinkTypeRaw, ip6, false},
		{"ipv4 228", layers.LinkType(228), ip4, false},
		{"ipv6 229", layers.LinkType(229), ip6, false},
		{"null", layers.LinkTypeNull, le(2, ip4), false},
		{"null ipv6 big-endian", layers.LinkTypeNull, be(30, ip6), false},
		{"loop", layers.LinkTypeLoop, be(2, ip4), false},
		{"ip in ip", layers.LinkTypeRaw, ipv4(srvIP, cliIP, 4, 9, 0, false, ip4), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, st := readBytes(t, pcapOf(t, tc.link, tc.pkt), Options{})
			if st.TCPConns != 1 || len(h.conns) != 1 || st.Undecodable != 0 {
				t.Fatalf("stats %+v lines %v", st, h.lines)
			}
			if h.lines[1] != `0 data client "hi" f1:0+2` {
				t.Errorf("got %v", h.lines)
			}
			if tc.mac && h.conns[0].ClientMAC.String() != "24:0a:c4:01:02:03" {
				t.Errorf("client MAC %v", h.conns[0].ClientMAC)
			}
		})
	}
}

// pcapTimed writes packets at the given offsets from t0.
func pcapTimed(t testing.TB, at []time.Duration, pkts ...[]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	w.WriteFileHeader(65535, layers.LinkTypeEthernet)
	for i, p := range pkts {
		w.WritePacket(gopacket.CaptureInfo{Timestamp: t0.Add(at[i]), CaptureLength: len(p), Length: len(p)}, p)
	}
	return buf.Bytes()
}

func TestEndTiming(t *testing.T) {
	a := newConv4()
	b := newConv4()
	b.cport = 51001
	s := time.Second
	h, _ := readBytes(t, pcapTimed(t, []time.Duration{0, 1 * s, 1 * s, 5 * s, 20 * time.Minute},
		a.pkt(true, 0, tSYN, 64240, ""),
		a.pkt(true, 0, tACK|tFIN, 502, ""),
		a.pkt(false, 0, tACK|tFIN, 502, ""),
		b.pkt(true, 0, tACK|tPSH, 502, "idle"),
		a.pkt(true, 0, tSYN, 64240, ""), // same ISN: stream 0 again, told as a new Conn
	), Options{})
	checkLines(t, h.lines, []string{
		"conn 0 192.168.1.50:51000>93.184.216.34:443 syn=true guessed=false first=1",
		"0 SYN client f1",
		"0 FIN client f2",
		"0 FIN server f3",
		"conn 1 192.168.1.50:51001>93.184.216.34:443 syn=false guessed=true first=4",
		`1 data client "idle" f4:0+4`,
		"0 " + endClosed, // linger (2 s) over at frame 4
		"conn 0 192.168.1.50:51000>93.184.216.34:443 syn=true guessed=false first=5",
		"0 SYN client f5",
		"1 end 1", // idle for 20 min
		"0 " + endCaptureDone,
	})
}

func TestMaxConnsEvicts(t *testing.T) {
	a := newConv4()
	b := newConv4()
	b.cport = 51001
	h, _ := readBytes(t, pcapOf(t, layers.LinkTypeEthernet,
		a.pkt(true, 0, tACK|tPSH, 502, "a"),
		b.pkt(true, 0, tACK|tPSH, 502, "b"),
	), Options{MaxConns: 1})
	checkLines(t, h.lines, []string{
		"conn 0 192.168.1.50:51000>93.184.216.34:443 syn=false guessed=true first=1",
		`0 data client "a" f1:0+1`,
		"conn 1 192.168.1.50:51001>93.184.216.34:443 syn=false guessed=true first=2",
		"problem 8 frame=2 offset=-1",
		"0 end 3",
		`1 data client "b" f2:0+1`,
		"1 " + endCaptureDone,
	})
}

func TestDecoderLive(t *testing.T) {
	c := newConv4()
	h := &logHandler{}
	d := NewDecoder(h, Options{})
	d.Packet(1, c.pkt(true, 0, tSYN, 64240, ""), 54, t0)
	d.Packet(1, c.pkt(true, 0, tRST, 0, ""), 54, t0.Add(time.Millisecond))
	d.Tick(t0.Add(time.Minute))
	checkLines(t, h.lines, []string{
		"conn 0 192.168.1.50:51000>93.184.216.34:443 syn=true guessed=false first=1",
		"0 SYN client f1",
		"0 RST client f2",
		"0 " + endClosed,
	})
	if st := d.Close(); st.Frames != 2 || st.TCPConns != 1 {
		t.Errorf("stats %+v", st)
	}
}
