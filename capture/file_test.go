package capture

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

func handshake() [][]byte {
	c := newConv4()
	return [][]byte{
		c.pkt(true, 0, tSYN, 64240, ""),
		c.pkt(false, 0, tSYN|tACK, 65160, ""),
		c.pkt(true, 0, tACK|tPSH, 502, "hello"),
		c.pkt(false, 0, tACK|tPSH, 502, "world"),
	}
}

var handshakeLines = []string{
	"conn 0 192.168.1.50:51000>93.184.216.34:443 syn=true guessed=false first=1",
	"0 SYN client f1",
	"0 SYN-ACK server f2",
	`0 data client "hello" f3:0+5`,
	`0 data server "world" f4:0+5`,
	"0 " + endCaptureDone,
}

// rawPcap writes a pcap file by hand: any byte order, µs or ns.
func rawPcap(order binary.AppendByteOrder, nano bool, link uint32, pkts ...[]byte) []byte {
	var b []byte
	magic := uint32(pcapMagicMicro)
	if nano {
		magic = pcapMagicNano
	}
	b = order.AppendUint32(b, magic)
	b = order.AppendUint16(b, 2)
	b = order.AppendUint16(b, 4)
	b = order.AppendUint32(b, 0)
	b = order.AppendUint32(b, 0)
	b = order.AppendUint32(b, 262144)
	b = order.AppendUint32(b, link)
	for i, p := range pkts {
		ts := t0.Add(time.Duration(i)*time.Second + 123456789)
		b = order.AppendUint32(b, uint32(ts.Unix()))
		if nano {
			b = order.AppendUint32(b, uint32(ts.Nanosecond()))
		} else {
			b = order.AppendUint32(b, uint32(ts.Nanosecond()/1000))
		}
		b = order.AppendUint32(b, uint32(len(p)))
		b = order.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
	}
	return b
}

type timeRec struct {
	logHandler
	times []time.Time
}

func (r *timeRec) Conn(c *Conn) ConnHandler { return r }
func (r *timeRec) TCP(ev TCPEvent)          { r.times = append(r.times, ev.Frame.Time) }
func (r *timeRec) Payload(p Payload) {
	for _, s := range p.Spans {
		r.times = append(r.times, s.Time)
	}
}
func (r *timeRec) End(EndReason) {}

func TestPcapVariants(t *testing.T) {
	for _, tc := range []struct {
		name  string
		order binary.AppendByteOrder
		nano  bool
		want  time.Duration
	}{
		{"le-micro", binary.LittleEndian, false, 123456000},
		{"be-micro", binary.BigEndian, false, 123456000},
		{"le-nano", binary.LittleEndian, true, 123456789},
		{"be-nano", binary.BigEndian, true, 123456789},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &timeRec{}
			if _, err := Read(bytes.NewReader(rawPcap(tc.order, tc.nano, 1, handshake()...)), "x", r, Options{}); err != nil {
				t.Fatal(err)
			}
			if len(r.times) != 4 {
				t.Fatalf("times %v", r.times)
			}
			for i, got := range r.times {
				if want := t0.Add(time.Duration(i)*time.Second + tc.want); !got.Equal(want) {
					t.Errorf("event %d at %v, want %v", i, got, want)
				}
			}
		})
	}
}

func TestNotACapture(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"<!DOCTYPE html>", "capture.pcapng: not a pcap or pcapng file (starts with 3c 21 44 4f)"},
		{"ab", "capture.pcapng: not a pcap or pcapng file (starts with 61 62)"},
		{"", "capture.pcapng: empty file, not a pcap or pcapng capture"},
	} {
		_, err := Read(strings.NewReader(tc.in), "capture.pcapng", &logHandler{}, Options{})
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q: got error %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestTruncatedFile(t *testing.T) {
	full := pcapOf(t, layers.LinkTypeEthernet, handshake()...)
	lastLen := len(handshake()[3])
	lastOff := len(full) - lastLen - 16
	for _, cut := range []int{lastOff + 7, lastOff + 16 + 10} { // in the record header, in the packet
		h, st := readBytes(t, full[:cut], Options{})
		checkLines(t, h.lines, []string{
			handshakeLines[0], handshakeLines[1], handshakeLines[2], handshakeLines[3],
			"problem 0 frame=0 offset=" + itoa(lastOff),
			"0 " + endCaptureDone,
		})
		if st.Frames != 3 {
			t.Errorf("frames %d", st.Frames)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestSnaplenCut(t *testing.T) {
	c := newConv4()
	cut := c.pkt(true, 0, tACK|tPSH, 502, "0123456789")
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	w.WriteFileHeader(60, layers.LinkTypeEthernet)
	pk := [][]byte{c.pkt(true, 0, tSYN, 64240, ""), c.pkt(false, 0, tSYN|tACK, 65160, ""), cut, c.pkt(true, 10, tACK|tPSH, 502, "after")}
	for i, p := range pk {
		ci := gopacket.CaptureInfo{Timestamp: t0.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(p), Length: len(p)}
		if i == 2 {
			ci.CaptureLength = len(p) - 6 // 4 payload bytes captured
			p = p[:ci.CaptureLength]
		}
		w.WritePacket(ci, p)
	}
	h, st := readBytes(t, buf.Bytes(), Options{})
	checkLines(t, h.lines, []string{
		"conn 0 192.168.1.50:51000>93.184.216.34:443 syn=true guessed=false first=1",
		"0 SYN client f1",
		"0 SYN-ACK server f2",
		"problem 2 frame=3 offset=" + itoa(24+16*2+2*54),
		`0 data client "0123" f3:0+4`,
		"0 gap client f4 missing=6",
		`0 data client "after" f4:0+5`,
		"0 " + endCaptureDone,
	})
	if st.Undecodable != 0 {
		t.Errorf("undecodable %d", st.Undecodable)
	}
}

// ngBlock builds a little-endian pcapng block.
func ngBlock(typ uint32, body []byte) []byte {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	n := uint32(12 + len(body))
	b := binary.LittleEndian.AppendUint32(nil, typ)
	b = binary.LittleEndian.AppendUint32(b, n)
	b = append(b, body...)
	return binary.LittleEndian.AppendUint32(b, n)
}

func ngFile(parts ...[]byte) []byte {
	shb := []byte{0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	out := ngBlock(ngSHB, shb)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func ngIDBlock(link uint16, tsresol byte) []byte {
	b := binary.LittleEndian.AppendUint16(nil, link)
	b = append(b, 0, 0, 0, 0, 4, 0)             // reserved, snaplen 262144
	b = append(b, 9, 0, 1, 0, tsresol, 0, 0, 0) // if_tsresol
	b = append(b, 0, 0, 0, 0)                   // opt_endofopt
	return ngBlock(ngIDB, b)
}

func ngEPBlock(iface uint32, ts uint64, data []byte, comment string) []byte {
	b := binary.LittleEndian.AppendUint32(nil, iface)
	b = binary.LittleEndian.AppendUint32(b, uint32(ts>>32))
	b = binary.LittleEndian.AppendUint32(b, uint32(ts))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(data)))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(data)))
	b = append(b, data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	if comment != "" {
		b = binary.LittleEndian.AppendUint16(b, 1)
		b = binary.LittleEndian.AppendUint16(b, uint16(len(comment)))
		b = append(b, comment...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
		b = append(b, 0, 0, 0, 0)
	}
	return ngBlock(ngEPB, b)
}

func ngDSBlock(typ uint32, secret string) []byte {
	b := binary.LittleEndian.AppendUint32(nil, typ)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(secret)))
	return ngBlock(ngDSB, append(b, secret...))
}

func TestPcapngMixedLinkTypesAndSecrets(t *testing.T) {
	hs := handshake()
	raw := newConv4()
	raw.rawIP = true
	keylog := "CLIENT_RANDOM 00 11\n"
	file := ngFile(
		ngIDBlock(1, 6),   // Ethernet, µs
		ngIDBlock(101, 9), // raw IP, ns
		ngDSBlock(SecretsTLSKeyLog, keylog),
		ngEPBlock(0, uint64(t0.UnixMicro()), hs[0], "first packet"),
		ngEPBlock(1, uint64(t0.Add(time.Millisecond).UnixNano()), raw.pkt(false, 0, tSYN|tACK, 65160, ""), ""),
		ngBlock(0x00000bad, []byte("custom block, skipped")),
		ngEPBlock(0, uint64(t0.Add(2*time.Millisecond).UnixMicro()), hs[2], ""),
	)
	r := &timeRec{}
	st, err := Read(bytes.NewReader(file), "x.pcapng", r, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Frames != 3 || st.TCPConns != 1 || st.Undecodable != 0 {
		t.Errorf("stats %+v", st)
	}
	want := []time.Time{t0, t0.Add(time.Millisecond), t0.Add(2 * time.Millisecond)}
	if len(r.times) != 3 {
		t.Fatalf("times %v", r.times)
	}
	for i := range want {
		if !r.times[i].Equal(want[i]) {
			t.Errorf("time %d: %v want %v", i, r.times[i], want[i])
		}
	}
	if len(r.secrets) != 1 || r.secrets[0] != "544c534b "+keylog {
		t.Errorf("secrets %q", r.secrets)
	}
	// Cut inside the last block: a truncation problem at its offset.
	h := &logHandler{}
	if _, err := Read(bytes.NewReader(file[:len(file)-5]), "x.pcapng", h, Options{}); err != nil {
		t.Fatal(err)
	}
	lastBlock := len(file) - len(ngEPBlock(0, 0, hs[2], ""))
	if len(h.problems) != 1 || h.problems[0].Kind != ProblemTruncatedFile || h.problems[0].Offset != int64(lastBlock) {
		t.Errorf("problems %+v, want truncation at %d", h.problems, lastBlock)
	}
}

func TestCompressed(t *testing.T) {
	plain := pcapOf(t, layers.LinkTypeEthernet, handshake()...)
	var gz, zs bytes.Buffer
	gw := gzip.NewWriter(&gz)
	gw.Write(plain)
	gw.Close()
	zw, _ := zstd.NewWriter(&zs)
	zw.Write(plain)
	zw.Close()
	for name, data := range map[string][]byte{"gzip": gz.Bytes(), "zstd": zs.Bytes()} {
		h, _ := readBytes(t, data, Options{})
		if strings.Join(h.lines, "\n") != strings.Join(handshakeLines, "\n") {
			t.Errorf("%s: got %v", name, h.lines)
		}
	}
}

// slowReader hands out the capture in small pieces and blocks before the
// end until the handler has seen the first payload.
func TestStreamingPipe(t *testing.T) {
	data := pcapOf(t, layers.LinkTypeEthernet, handshake()...)
	pr, pw := io.Pipe()
	got := make(chan struct{})
	h := &logHandler{}
	once := false
	h.onPay = func() {
		if !once {
			once = true
			close(got)
		}
	}
	go func() {
		for i := 0; i < len(data); i += 7 {
			pw.Write(data[i:min(i+7, len(data))])
			time.Sleep(time.Millisecond)
		}
		// The writer keeps the stream open until the reader has acted.
		select {
		case <-got:
			pw.Close()
		case <-time.After(5 * time.Second):
			pw.CloseWithError(io.ErrNoProgress)
		}
	}()
	if _, err := Read(pr, "-", h, Options{}); err != nil {
		t.Fatal(err)
	}
	checkLines(t, h.lines, handshakeLines)
}

func TestDNS(t *testing.T) {
	q := []byte{0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0}
	name := []byte{3, 'a', 'p', 'i', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0}
	q = append(q, name...)
	q = append(q, 0, 1, 0, 1)
	resp := []byte{0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0}
	resp = append(resp, name...)
	resp = append(resp, 0, 1, 0, 1)
	// CNAME api.example.com -> edge.example.com (compressed), then A.
	resp = append(resp, 0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 7, 4, 'e', 'd', 'g', 'e', 0xc0, 16)
	resp = append(resp, 0xc0, byte(len(resp)-7), 0, 1, 0, 1, 0, 0, 1, 0, 0, 4, 93, 184, 216, 34)
	nx := []byte{0x55, 0x55, 0x81, 0x83, 0, 1, 0, 0, 0, 0, 0, 0}
	nx = append(nx, name...)
	nx = append(nx, 0, 28, 0, 1)
	bad := []byte{0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0xff}
	dns := netip.MustParseAddr("192.168.1.1")
	udp := func(sport, dport uint16, p []byte) []byte {
		b := binary.BigEndian.AppendUint16(nil, sport)
		b = binary.BigEndian.AppendUint16(b, dport)
		b = binary.BigEndian.AppendUint16(b, uint16(8+len(p)))
		b = append(b, 0, 0)
		return append(b, p...)
	}
	h, _ := readBytes(t, pcapOf(t, layers.LinkTypeRaw,
		ipv4(cliIP, dns, 17, 1, 0, false, udp(40000, 53, q)),
		ipv4(dns, cliIP, 17, 1, 0, false, udp(53, 40000, resp)),
		ipv4(dns, cliIP, 17, 1, 0, false, udp(53, 40000, nx)),
		ipv4(dns, cliIP, 17, 1, 0, false, udp(53, 40000, bad)),
	), Options{})
	if len(h.dns) != 3 {
		t.Fatalf("got %d DNS messages", len(h.dns))
	}
	got := fmt.Sprintf("%+v", *h.dns[1])
	want := "{Frame:{Number:2 Time:2026-03-01 12:00:00.01 +0000 UTC} Client:192.168.1.50:40000 Server:192.168.1.1:53 ID:4660 Response:true RCode:0 Questions:[{Name:api.example.com Type:1}] Answers:[{Name:api.example.com Type:5 TTL:60 Addr:invalid IP Alias:edge.example.com} {Name:edge.example.com Type:1 TTL:256 Addr:93.184.216.34 Alias:}]}"
	if got != want {
		t.Errorf("response:\n got %s\nwant %s", got, want)
	}
	if h.dns[0].Response || h.dns[0].Client.Port() != 40000 || h.dns[2].RCode != 3 {
		t.Errorf("query %+v nxdomain %+v", h.dns[0], h.dns[2])
	}
	if len(h.problems) != 1 || h.problems[0].Frame != 4 || h.problems[0].Kind != ProblemCorruptPacket {
		t.Errorf("problems %+v", h.problems)
	}
}

func TestICMPErrorForConnection(t *testing.T) {
	c := newConv4()
	syn := c.pkt(true, 0, tSYN, 64240, "")
	router := netip.MustParseAddr("10.0.0.1")
	icmp := append([]byte{3, 1, 0, 0, 0, 0, 0, 0}, syn[14:14+20+20]...)
	h, _ := readBytes(t, pcapOf(t, layers.LinkTypeEthernet,
		ether(srvMAC, cliMAC, 0x0800, ipv4(router, cliIP, 1, 1, 0, false, icmp)),
		syn,
	), Options{})
	checkLines(t, h.lines, []string{
		"conn 0 192.168.1.50:51000>93.184.216.34:443 syn=true guessed=false first=1",
		"0 icmp-error client f1 icmp=3/1",
		"0 SYN client f2",
		"0 " + endCaptureDone,
	})
}

// TestPublicGzip reads a public capture gzipped into a temporary directory
// and checks it gives the same connections as the original.
func TestPublicGzip(t *testing.T) {
	dir := sharedPcaps(t)
	src := filepath.Join(dir, "zeek", "tls", "tls-conn-with-extensions.trace")
	if _, err := os.Stat(src); err != nil {
		src = filepath.Join(dir, manifest(t, dir)[0])
	}
	plain, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	gzPath := filepath.Join(t.TempDir(), "c.pcap.gz")
	var gz bytes.Buffer
	gw := gzip.NewWriter(&gz)
	gw.Write(plain)
	gw.Close()
	os.WriteFile(gzPath, gz.Bytes(), 0o644)
	a, b := &logHandler{}, &logHandler{}
	sa, err := ReadFile(src, a, Options{})
	if err != nil {
		t.Fatal(err)
	}
	sb, err := ReadFile(gzPath, b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if sa != sb || strings.Join(a.lines, "\n") != strings.Join(b.lines, "\n") || sa.TCPConns == 0 {
		t.Errorf("gzip read differs: %+v vs %+v", sa, sb)
	}
}
