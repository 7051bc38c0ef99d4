package capture

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// quietHandler consumes everything and checks the invariants a consumer
// relies on.
type quietHandler struct {
	t     testing.TB
	ended map[int]bool
}

func (q *quietHandler) Conn(c *Conn) ConnHandler {
	if q.ended == nil {
		q.ended = map[int]bool{}
	}
	return &quietConn{q: q, c: c}
}
func (q *quietHandler) DNS(*DNSMessage) {}
func (q *quietHandler) Problem(Problem) {}

type quietConn struct {
	q    *quietHandler
	c    *Conn
	done bool
}

func (c *quietConn) TCP(TCPEvent) {
	if c.done {
		c.q.t.Fatalf("event after End on stream %d", c.c.Stream)
	}
}
func (c *quietConn) Payload(p Payload) {
	if c.done {
		c.q.t.Fatalf("payload after End on stream %d", c.c.Stream)
	}
	n := 0
	for _, s := range p.Spans {
		if s.Off != n || s.Len <= 0 {
			c.q.t.Fatalf("bad spans %+v", p.Spans)
		}
		n += s.Len
	}
	if n != len(p.Data) {
		c.q.t.Fatalf("spans cover %d of %d bytes", n, len(p.Data))
	}
}
func (c *quietConn) End(EndReason) {
	if c.done {
		c.q.t.Fatalf("End twice on stream %d", c.c.Stream)
	}
	c.done = true
}

// fuzzSeeds are small synthetic captures covering the decoders.
func fuzzSeeds(t testing.TB) map[string][]byte {
	c := newConv4()
	c.cliOpts = []byte{1, 3, 3, 7}
	pk := [][]byte{
		c.pkt(true, 0, tSYN, 64240, ""),
		c.pkt(false, 0, tSYN|tACK, 65160, ""),
		c.pkt(true, 3, tACK|tPSH, 502, "def"),
		c.pkt(true, 0, tACK|tPSH, 502, "abc"),
		c.pkt(false, 0, tACK, 0, ""),
		c.pkt(true, 6, tACK|tFIN, 502, ""),
		c.pkt(false, 0, tRST, 0, ""),
	}
	seg := tcpSeg(cliPort, srvPort, 1, 1, tACK|tPSH, 100, "fragment me please")
	dnsq := []byte{0, 53, 0, 53, 0, 29, 0, 0, 1, 2, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0, 0, 1, 0, 1}
	return map[string][]byte{
		"tcp-pcap": pcapOf(t, layers.LinkTypeEthernet, pk...),
		"frag-vlan-pcap": pcapOf(t, layers.LinkTypeEthernet,
			ether(cliMAC, srvMAC, 0x0800, ipv4(cliIP, srvIP, 6, 5, 0, true, seg[:16]), 0x8100),
			ether(cliMAC, srvMAC, 0x0800, ipv4(cliIP, srvIP, 6, 5, 16, false, seg[16:]), 0x8100)),
		"dns-raw-pcap": pcapOf(t, layers.LinkTypeRaw, ipv4(cliIP, srvIP, 17, 1, 0, false, dnsq)),
		"pcapng-dsb": ngFile(ngIDBlock(1, 6), ngIDBlock(101, 9), ngDSBlock(SecretsTLSKeyLog, "CLIENT_RANDOM 00 11\n"),
			ngEPBlock(0, 1, pk[0], "c"), ngEPBlock(1, 2, ipv4(cliIP, srvIP, 6, 1, 0, false, seg), "")),
	}
}

func FuzzRead(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		Read(bytes.NewReader(data), "fuzz", &quietHandler{t: t}, Options{MaxConns: 8, MaxBufferedPerDir: 8192})
	})
}

// FuzzPacket decodes one link-layer frame (given twice, so the second
// copy exercises retransmission paths) under a chosen link type.
func FuzzPacket(f *testing.F) {
	c := newConv4()
	f.Add(uint16(1), c.pkt(true, 0, tSYN, 64240, ""))
	f.Add(uint16(1), ether(cliMAC, srvMAC, 0x86dd, ipv6(cliIP6, srvIP6, 6, tcpSeg(1, 2, 3, 4, tACK, 5, "x"))))
	f.Add(uint16(101), ipv4(cliIP, srvIP, 17, 1, 0, false, []byte{0, 53, 0, 53, 0, 8, 0, 0}))
	f.Add(uint16(101), ipv4(srvIP, cliIP, 1, 1, 0, false, append([]byte{3, 3, 0, 0, 0, 0, 0, 0}, c.pkt(true, 0, tSYN, 1, "")[14:]...)))
	f.Add(uint16(276), append([]byte{8, 0, 0, 0, 0, 0, 0, 2, 0, 1, 4, 6, 1, 2, 3, 4, 5, 6, 0, 0}, ipv4(cliIP, srvIP, 6, 1, 0, false, tcpSeg(1, 2, 3, 4, tACK, 5, "y"))...))
	f.Add(uint16(0), append([]byte{2, 0, 0, 0}, ipv4(cliIP, srvIP, 47, 1, 0, false, append([]byte{0, 0, 8, 0}, ipv4(cliIP, srvIP, 6, 1, 0, false, tcpSeg(1, 2, 3, 4, tACK, 5, "z"))...))...))
	f.Fuzz(func(t *testing.T, link uint16, pkt []byte) {
		Read(bytes.NewReader(pcapOf(t, layers.LinkType(link), pkt, pkt)), "fuzz", &quietHandler{t: t}, Options{})
	})
}

// FuzzDNS parses one DNS message: a result or an error, never both, the
// header's counts honoured and every name within DNS's 255 bytes.
func FuzzDNS(f *testing.F) {
	f.Add([]byte{0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0, 0, 1, 0, 1})
	f.Add([]byte{0, 1, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 1, 'a', 0, 0, 1, 0, 1, 0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 9, 0, 2, 0xc0, 12})
	f.Fuzz(func(t *testing.T, msg []byte) {
		m, err := parseDNS(msg)
		if (m == nil) == (err == nil) {
			t.Fatalf("message %v and error %v", m, err)
		}
		if m == nil {
			return
		}
		qd, an := int(msg[4])<<8|int(msg[5]), int(msg[6])<<8|int(msg[7])
		if len(m.Questions) != qd || len(m.Answers) != an {
			t.Fatalf("%d questions and %d answers, the header says %d and %d", len(m.Questions), len(m.Answers), qd, an)
		}
		for _, q := range m.Questions {
			if len(q.Name) > 255 {
				t.Fatalf("name of %d bytes", len(q.Name))
			}
		}
		for _, a := range m.Answers {
			if len(a.Name) > 255 || len(a.Alias) > 255 {
				t.Fatalf("answer names of %d and %d bytes", len(a.Name), len(a.Alias))
			}
			if (a.Type == DNSTypeA || a.Type == DNSTypeAAAA) != a.Addr.IsValid() {
				t.Fatalf("type %d with address %v", a.Type, a.Addr)
			}
		}
	})
}

var (
	cliIP6 = netipMust("2001:db8::50")
	srvIP6 = netipMust("2001:db8::1")
)

// TestWriteFuzzSeeds writes the seed corpora under testdata/fuzz when
// TLSPCAP_WRITE_SEEDS is set; otherwise it checks that they decode.
func TestWriteFuzzSeeds(t *testing.T) {
	seeds := fuzzSeeds(t)
	if os.Getenv("TLSPCAP_WRITE_SEEDS") == "" {
		for name, s := range seeds {
			Read(bytes.NewReader(s), name, &quietHandler{t: t}, Options{})
		}
		return
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzRead")
	os.MkdirAll(dir, 0o755)
	for name, s := range seeds {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s)
		if err := os.WriteFile(filepath.Join(dir, "seed-"+name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dir = filepath.Join("testdata", "fuzz", "FuzzDNS")
	os.MkdirAll(dir, 0o755)
	for name, msg := range dnsSeeds(t) {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", msg)
		if err := os.WriteFile(filepath.Join(dir, "seed-"+name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dir = filepath.Join("testdata", "fuzz", "FuzzPacket")
	os.MkdirAll(dir, 0o755)
	c := newConv4()
	for name, p := range map[string]struct {
		link uint16
		pkt  []byte
	}{
		"ethernet-syn":  {1, c.pkt(true, 0, tSYN, 64240, "")},
		"raw-dns":       {101, ipv4(cliIP, srvIP, 17, 1, 0, false, []byte{0, 53, 0, 53, 0, 20, 0, 0, 1, 2, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12})},
		"ethernet-qinq": {1, ether(cliMAC, srvMAC, 0x0800, ipv4(cliIP, srvIP, 6, 1, 0, false, tcpSeg(1, 2, 3, 4, tACK, 5, "q")), 0x88a8, 0x8100)},
	} {
		body := fmt.Sprintf("go test fuzz v1\nuint16(%d)\n[]byte(%q)\n", p.link, p.pkt)
		if err := os.WriteFile(filepath.Join(dir, "seed-"+name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func netipMust(s string) netip.Addr { return netip.MustParseAddr(s) }

// dnsSeeds are the DNS messages (UDP payloads) of the committed DNS
// captures, by capture and frame.
func dnsSeeds(t *testing.T) map[string][]byte {
	out := map[string][]byte{}
	for _, name := range []string{"dns-nxdomain", "dns-servfail", "dns-no-response", "browser-sni"} {
		f, err := os.Open(filepath.Join("..", "testdata", "pcaps", name+".pcapng"))
		if err != nil {
			t.Fatal(err)
		}
		r, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; ; i++ {
			data, _, err := r.ReadPacketData()
			if err != nil {
				break
			}
			pkt := gopacket.NewPacket(data, r.LinkType(), gopacket.Default)
			if udp, ok := pkt.Layer(layers.LayerTypeUDP).(*layers.UDP); ok && (udp.SrcPort == 53 || udp.DstPort == 53) {
				out[fmt.Sprintf("%s-%d", name, i)] = append([]byte(nil), udp.Payload...)
			}
		}
		f.Close()
	}
	return out
}
