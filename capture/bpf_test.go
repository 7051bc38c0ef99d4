package capture

import (
	"encoding/binary"
	"net"
	"net/netip"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// testPacket builds an Ethernet frame for the filter tests.
type testPacket struct {
	name     string
	v6       bool
	arp      bool
	proto    string // tcp, udp, icmp
	src, dst string
	sport    uint16
	dport    uint16
	frag     bool // IPv4: a non-first fragment
	ipv4Opts bool // IPv4 header with options (24 bytes)
	// vlan are 802.1Q tags, outer first (the outer one with TPID tpid,
	// 0x8100 unless set; the inner ones 0x8100), with priority 5 to check
	// the VLAN ID is masked.
	vlan   []uint16
	tpid   uint16
	srcMAC string // default 02:00:00:00:00:01
}

func (tp testPacket) bytes(t *testing.T) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}}
	if tp.srcMAC != "" {
		eth.SrcMAC, _ = net.ParseMAC(tp.srcMAC)
	}
	var ls []gopacket.SerializableLayer
	var nl gopacket.NetworkLayer
	switch {
	case tp.arp:
		eth.EthernetType = layers.EthernetTypeARP
		ls = append(ls, eth, &layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4,
			HwAddressSize: 6, ProtAddressSize: 4, Operation: 1,
			SourceHwAddress: eth.SrcMAC, SourceProtAddress: net.ParseIP(tp.src).To4(),
			DstHwAddress: make([]byte, 6), DstProtAddress: net.ParseIP(tp.dst).To4()})
	case tp.v6:
		eth.EthernetType = layers.EthernetTypeIPv6
		ip := &layers.IPv6{Version: 6, HopLimit: 64, SrcIP: net.ParseIP(tp.src), DstIP: net.ParseIP(tp.dst)}
		nl = ip
		ls = append(ls, eth, ip)
	default:
		eth.EthernetType = layers.EthernetTypeIPv4
		ip := &layers.IPv4{Version: 4, TTL: 64, SrcIP: net.ParseIP(tp.src).To4(), DstIP: net.ParseIP(tp.dst).To4()}
		if tp.frag {
			ip.FragOffset = 100
		}
		if tp.ipv4Opts {
			ip.Options = []layers.IPv4Option{{OptionType: 1}, {OptionType: 1}, {OptionType: 1}, {OptionType: 0}}
		}
		nl = ip
		ls = append(ls, eth, ip)
	}
	if !tp.arp {
		var proto layers.IPProtocol
		switch tp.proto {
		case "tcp":
			proto = layers.IPProtocolTCP
			tcp := &layers.TCP{SrcPort: layers.TCPPort(tp.sport), DstPort: layers.TCPPort(tp.dport), SYN: true, Window: 1000}
			tcp.SetNetworkLayerForChecksum(nl)
			ls = append(ls, tcp)
		case "udp":
			proto = layers.IPProtocolUDP
			udp := &layers.UDP{SrcPort: layers.UDPPort(tp.sport), DstPort: layers.UDPPort(tp.dport)}
			udp.SetNetworkLayerForChecksum(nl)
			ls = append(ls, udp, gopacket.Payload([]byte("x")))
		case "icmp":
			proto = layers.IPProtocolICMPv4
			ls = append(ls, &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0)}, gopacket.Payload([]byte("ping")))
		}
		switch ip := nl.(type) {
		case *layers.IPv4:
			ip.Protocol = proto
		case *layers.IPv6:
			ip.NextHeader = proto
		}
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatalf("%s: %v", tp.name, err)
	}
	b := buf.Bytes()
	if len(tp.vlan) > 0 {
		var tags []byte
		for i, id := range tp.vlan {
			tpid := uint16(0x8100)
			if i == 0 && tp.tpid != 0 {
				tpid = tp.tpid
			}
			tags = binary.BigEndian.AppendUint16(tags, tpid)
			tags = binary.BigEndian.AppendUint16(tags, 5<<13|id)
		}
		b = append(append(append([]byte(nil), b[:12]...), tags...), b[12:]...)
	}
	for len(b) < 60 {
		b = append(b, 0)
	}
	return b
}

var filterPackets = []testPacket{
	{name: "v4 tcp 10.0.0.1:40000>192.168.1.5:443", proto: "tcp", src: "10.0.0.1", dst: "192.168.1.5", sport: 40000, dport: 443},
	{name: "v4 tcp 192.168.1.5:443>10.0.0.1:40000", proto: "tcp", src: "192.168.1.5", dst: "10.0.0.1", sport: 443, dport: 40000},
	{name: "v4 tcp with IP options :8883", proto: "tcp", src: "10.1.2.3", dst: "172.16.0.9", sport: 51000, dport: 8883, ipv4Opts: true},
	{name: "v4 udp dns", proto: "udp", src: "10.0.0.1", dst: "8.8.8.8", sport: 5353, dport: 53},
	{name: "v4 udp 443 (quic)", proto: "udp", src: "172.16.0.9", dst: "10.0.0.1", sport: 443, dport: 60000},
	{name: "v4 fragment tcp", proto: "tcp", src: "10.0.0.1", dst: "192.168.1.5", sport: 443, dport: 443, frag: true},
	{name: "v4 icmp", proto: "icmp", src: "192.168.1.5", dst: "10.0.0.1"},
	{name: "v6 tcp 443", v6: true, proto: "tcp", src: "2001:db8::1", dst: "2001:db8:1::5", sport: 40000, dport: 443},
	{name: "v6 udp 53", v6: true, proto: "udp", src: "fe80::1", dst: "2001:db8::1", sport: 53, dport: 33333},
	{name: "arp 10.0.0.1 who-has 10.0.0.254", arp: true, src: "10.0.0.1", dst: "10.0.0.254"},
}

// filterCase is an expression with the packets (by index into
// filterPackets) it must match.
type filterCase struct {
	expr  string
	match []int
}

var filterCases = []filterCase{
	{"tcp", []int{0, 1, 2, 5, 7}},
	{"udp", []int{3, 4, 8}},
	{"ip", []int{0, 1, 2, 3, 4, 5, 6}},
	{"ip6", []int{7, 8}},
	{"arp", []int{9}},
	{"icmp", []int{6}},
	{"port 443", []int{0, 1, 4, 7}},
	{"tcp port 443", []int{0, 1, 7}},
	{"udp port 53", []int{3, 8}},
	{"port https", []int{0, 1, 4, 7}},
	{"src port 443", []int{1, 4}},
	{"dst port 443", []int{0, 7}},
	{"tcp dst port 8883", []int{2}},
	{"host 10.0.0.1", []int{0, 1, 3, 4, 5, 6, 9}},
	{"src host 10.0.0.1", []int{0, 3, 5, 9}},
	{"dst host 10.0.0.1", []int{1, 4, 6}},
	{"ip host 10.0.0.1", []int{0, 1, 3, 4, 5, 6}},
	{"host 2001:db8::1", []int{7, 8}},
	{"net 192.168.0.0/16", []int{0, 1, 5, 6}},
	{"net 10.0.0.0/8", []int{0, 1, 2, 3, 4, 5, 6, 9}},
	{"src net 172.16.0.0/12", []int{4}},
	{"net 2001:db8::/32", []int{7, 8}},
	{"net 2001:db8:1::/48", []int{7}},
	{"host 10.0.0.1 and port 443", []int{0, 1, 4}},
	{"host 10.0.0.1 and tcp port 443", []int{0, 1}},
	{"tcp or udp and port 53", []int{3, 8}},
	{"tcp or (udp and port 53)", []int{0, 1, 2, 3, 5, 7, 8}},
	{"not tcp", []int{3, 4, 6, 8, 9}},
	{"! port 443 && ip", []int{2, 3, 5, 6}},
	{"tcp and not (port 443 or port 8883)", []int{5}},
	{"host 10.0.0.1 or 10.1.2.3", []int{0, 1, 2, 3, 4, 5, 6, 9}},
	{"port 53 or 443", []int{0, 1, 3, 4, 7, 8}},
	{"(host 8.8.8.8 || host 172.16.0.9) && udp", []int{3, 4}},
	{"not not arp", []int{9}},
	{"ip6 and tcp", []int{7}},
}

func runFilter(t *testing.T, raw []bpf.RawInstruction, pkt []byte) bool {
	t.Helper()
	ins, ok := bpf.Disassemble(raw)
	if !ok {
		t.Fatalf("program does not disassemble: %v", raw)
	}
	vm, err := bpf.NewVM(ins)
	if err != nil {
		t.Fatalf("vm: %v", err)
	}
	n, err := vm.Run(pkt)
	if err != nil {
		t.Fatalf("vm run: %v", err)
	}
	return n > 0
}

func TestCompileFilterVM(t *testing.T) { checkFilterCases(t, filterCases) }

// checkFilterCases runs each case's program over every test packet.
func checkFilterCases(t *testing.T, cases []filterCase) {
	t.Helper()
	pkts := make([][]byte, len(filterPackets))
	for i, tp := range filterPackets {
		pkts[i] = tp.bytes(t)
	}
	for _, c := range cases {
		raw, err := AssembleFilter(c.expr)
		if err != nil {
			t.Errorf("%q: %v", c.expr, err)
			continue
		}
		want := map[int]bool{}
		for _, i := range c.match {
			want[i] = true
		}
		for i, p := range pkts {
			if got := runFilter(t, raw, p); got != want[i] {
				t.Errorf("%q on %s: match %v, want %v", c.expr, filterPackets[i].name, got, want[i])
			}
		}
	}
}

var ddLine = regexp.MustCompile(`\{\s*0x([0-9a-f]+),\s*(\d+),\s*(\d+),\s*0x([0-9a-f]+)\s*\}`)

// tcpdumpProgram compiles expr with tcpdump -dd (Ethernet).
func tcpdumpProgram(t *testing.T, expr string) ([]bpf.RawInstruction, error) {
	out, err := exec.Command("tcpdump", "-y", "EN10MB", "-dd", expr).CombinedOutput()
	if err != nil {
		// Some tcpdump builds need an interface for -y: try without.
		out2, err2 := exec.Command("tcpdump", "-dd", expr).CombinedOutput()
		if err2 != nil {
			return nil, &exec.ExitError{Stderr: append(out, out2...)}
		}
		out = out2
	}
	var raw []bpf.RawInstruction
	for _, m := range ddLine.FindAllStringSubmatch(string(out), -1) {
		op, _ := strconv.ParseUint(m[1], 16, 16)
		jt, _ := strconv.ParseUint(m[2], 10, 8)
		jf, _ := strconv.ParseUint(m[3], 10, 8)
		k, _ := strconv.ParseUint(m[4], 16, 32)
		raw = append(raw, bpf.RawInstruction{Op: uint16(op), Jt: uint8(jt), Jf: uint8(jf), K: uint32(k)})
	}
	if len(raw) == 0 {
		return nil, &exec.ExitError{Stderr: out}
	}
	return raw, nil
}

// TestCompileFilterTcpdump runs our program and tcpdump's over every test
// packet: both must accept the expression and agree on each packet.
func TestCompileFilterTcpdump(t *testing.T) {
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Skip("tcpdump not installed: filters checked against the expected matches only")
	}
	if _, err := tcpdumpProgram(t, "tcp"); err != nil {
		t.Skipf("tcpdump -dd does not run here: %v", err)
	}
	pkts := make([][]byte, len(filterPackets))
	for i, tp := range filterPackets {
		pkts[i] = tp.bytes(t)
	}
	for _, c := range filterCases {
		// tcpdump does not take a bare "!" next to "&&" differently, so the
		// same text goes to both.
		theirs, err := tcpdumpProgram(t, c.expr)
		if err != nil {
			t.Errorf("tcpdump rejects %q: %v", c.expr, err)
			continue
		}
		ours, err := AssembleFilter(c.expr)
		if err != nil {
			t.Errorf("%q: %v", c.expr, err)
			continue
		}
		for i, p := range pkts {
			if a, b := runFilter(t, ours, p), runFilter(t, theirs, p); a != b {
				t.Errorf("%q on %s: ours %v, tcpdump %v", c.expr, filterPackets[i].name, a, b)
			}
		}
	}
}

func TestCompileFilterErrors(t *testing.T) {
	defer fakeResolver(nil)()
	for _, expr := range []string{
		"host", "port", "port 70000", "host example.invalid", "net 10.0.0.1/8", "(tcp", "tcp)",
		"tcp and", "and tcp", "udp host 10.0.0.1", "ip6 host 10.0.0.1", "ip port 80", "tcp &",
		"net example.invalid", "host 10.0.0.1 or example.invalid",
	} {
		if _, err := CompileFilter(expr); err == nil {
			t.Errorf("%q: accepted, want an error", expr)
		} else if !strings.Contains(err.Error(), "filter") {
			t.Errorf("%q: error %q does not name the filter", expr, err)
		}
	}
	if p, err := CompileFilter("  "); err != nil || p != nil {
		t.Errorf("empty filter: %v %v, want no program", p, err)
	}
}

// fakeResolver makes resolveHost answer from names (a name not in it does
// not resolve) until the returned function restores the real one.
func fakeResolver(names map[string][]string) func() {
	saved := resolveHost
	resolveHost = func(name string) ([]netip.Addr, error) {
		var out []netip.Addr
		for _, a := range names[name] {
			out = append(out, netip.MustParseAddr(a))
		}
		if len(out) == 0 {
			return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
		}
		return out, nil
	}
	return func() { resolveHost = saved }
}

// TestCompileFilterHostNames: a name stands for all its addresses, IPv4
// and IPv6 (a protocol qualifier keeps its family); a name that does not
// resolve is an error naming it.
func TestCompileFilterHostNames(t *testing.T) {
	defer fakeResolver(map[string][]string{
		"dual.test":   {"10.0.0.1", "2001:db8::1", "::ffff:10.0.0.1"},
		"v4only.test": {"192.168.1.5"},
	})()
	checkFilterCases(t, []filterCase{
		{"host dual.test", []int{0, 1, 3, 4, 5, 6, 7, 8, 9}},
		{"ip host dual.test", []int{0, 1, 3, 4, 5, 6}},
		{"ip6 host dual.test", []int{7, 8}},
		{"src host dual.test", []int{0, 3, 5, 7, 9}},
		{"dst host dual.test", []int{1, 4, 6, 8}},
		{"host v4only.test and tcp port 443", []int{0, 1}},
		{"host 172.16.0.9 or v4only.test", []int{0, 1, 2, 4, 5, 6}},
	})
	for _, c := range []struct{ expr, want string }{
		{"host nosuch.test", `filter "host nosuch.test": host "nosuch.test" does not resolve`},
		{"src host dual.test or nosuch.test", `host "nosuch.test" does not resolve`},
		{"ip6 host v4only.test", `host "v4only.test" has no IPv6 address`},
	} {
		if _, err := CompileFilter(c.expr); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.expr, err, c.want)
		}
	}
}

// TestCompileFilterHostNameTcpdump compiles names from /etc/hosts with the
// real resolver, here and in tcpdump, and runs both programs over packets
// to and from their addresses.
func TestCompileFilterHostNameTcpdump(t *testing.T) {
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Skip("tcpdump not installed: host names checked with a fake resolver only")
	}
	addrs, err := resolveHost("localhost")
	if err != nil || len(addrs) == 0 {
		t.Skipf("localhost does not resolve here (%v): skipped", err)
	}
	var pkts []testPacket
	for _, a := range addrs {
		a = a.Unmap()
		other := "10.0.0.1"
		if a.Is6() {
			other = "2001:db8::1"
		}
		pkts = append(pkts,
			testPacket{name: "tcp from " + a.String(), v6: a.Is6(), proto: "tcp", src: a.String(), dst: other, sport: 40000, dport: 443},
			testPacket{name: "udp to " + a.String(), v6: a.Is6(), proto: "udp", src: other, dst: a.String(), sport: 53, dport: 40000})
	}
	pkts = append(pkts, filterPackets...)
	bs := make([][]byte, len(pkts))
	for i, tp := range pkts {
		bs[i] = tp.bytes(t)
	}
	for _, expr := range []string{"host localhost", "src host localhost", "dst host localhost and udp", "tcp and not host localhost"} {
		theirs, err := tcpdumpProgram(t, expr)
		if err != nil {
			t.Skipf("tcpdump does not resolve localhost here: %v", err)
		}
		ours, err := AssembleFilter(expr)
		if err != nil {
			t.Fatalf("%q: %v", expr, err)
		}
		matched := 0
		for i, p := range bs {
			a, b := runFilter(t, ours, p), runFilter(t, theirs, p)
			if a != b {
				t.Errorf("%q on %s: ours %v, tcpdump %v", expr, pkts[i].name, a, b)
			}
			if a {
				matched++
			}
		}
		if matched == 0 {
			t.Errorf("%q matched no test packet", expr)
		}
	}
}
