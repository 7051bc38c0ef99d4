package capture

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"golang.org/x/net/bpf"
)

// morePackets follow filterPackets (indices 10...): VLAN-tagged frames
// (priority bits set), QinQ, another MAC address, ports for ranges.
var morePackets = []testPacket{
	{name: "vlan 100 v4 tcp 10.0.0.1:40000>192.168.1.5:443", vlan: []uint16{100}, proto: "tcp", src: "10.0.0.1", dst: "192.168.1.5", sport: 40000, dport: 443},
	{name: "vlan 200 v6 udp 53", vlan: []uint16{200}, v6: true, proto: "udp", src: "fe80::1", dst: "2001:db8::1", sport: 53, dport: 33333},
	{name: "802.1ad 300 + 802.1Q 100 v4 tcp :8883", vlan: []uint16{300, 100}, tpid: 0x88a8, proto: "tcp", src: "10.1.2.3", dst: "172.16.0.9", sport: 51000, dport: 8883},
	{name: "vlan 100 arp 10.0.0.1 who-has 10.0.0.254", vlan: []uint16{100}, arp: true, src: "10.0.0.1", dst: "10.0.0.254"},
	{name: "from 24:0a:c4:01:02:03 v4 tcp :8883", srcMAC: "24:0a:c4:01:02:03", proto: "tcp", src: "192.168.4.20", dst: "203.0.113.10", sport: 50001, dport: 8883},
	{name: "v4 tcp 10.0.0.1:2000>192.168.1.5:1000", proto: "tcp", src: "10.0.0.1", dst: "192.168.1.5", sport: 2000, dport: 1000},
	{name: "vlan 100 v4 tcp with IP options :443", vlan: []uint16{100}, proto: "tcp", src: "10.1.2.3", dst: "172.16.0.9", sport: 51000, dport: 443, ipv4Opts: true},
}

var moreFilterCases = []filterCase{
	{"ether host 24:0a:c4:01:02:03", []int{14}},
	{"ether src 24:0a:c4:01:02:03", []int{14}},
	{"ether dst 24:0a:c4:01:02:03", nil},
	{"ether dst host 02:00:00:00:00:02 and udp", []int{3, 4, 8}},
	{"ether src 02-00-00-00-00-01 and not ip", []int{7, 8, 9, 10, 11, 12, 13, 16}},
	{"ether host 24:0a:c4:01:02:03 and tcp port 8883", []int{14}},
	{"portrange 400-500", []int{0, 1, 4, 7}},
	{"tcp dst portrange 1000-2000", []int{15}},
	{"src portrange 1500-2500", []int{15}},
	{"udp portrange 50-60", []int{3, 8}},
	{"portrange 2000-1000", []int{15}},
	{"net 10.0.0.0 mask 255.0.0.0", []int{0, 1, 2, 3, 4, 5, 6, 9, 15}},
	{"net 192.168", []int{0, 1, 5, 6, 14, 15}},
	{"src net 172.16.0.0 mask 255.240.0.0", []int{4}},
	{"dst net 203.0.113", []int{14}},
	{"vlan", []int{10, 11, 12, 13, 16}},
	{"vlan 100", []int{10, 13, 16}},
	{"vlan 300 and vlan 100", []int{12}},
	{"vlan and vlan 100", []int{12}},
	{"vlan and tcp port 443", []int{10, 16}},
	{"vlan 100 and host 10.0.0.1", []int{10, 13}},
	{"vlan 200 or udp port 53", []int{11}}, // udp port 53 read past a tag, as tcpdump
	// As tcpdump: vlan moves what follows even under not, so port 443 is
	// read 4 bytes on, where untagged packets have no port.
	{"not vlan and port 443", nil},
	{"vlan and ip6", []int{11}},
}

func allTestPackets(t *testing.T) ([]testPacket, [][]byte) {
	pkts := append(append([]testPacket(nil), filterPackets...), morePackets...)
	bs := make([][]byte, len(pkts))
	for i, tp := range pkts {
		bs[i] = tp.bytes(t)
	}
	return pkts, bs
}

// TestCompileFilterKeywords: ether, portrange, net masks and partial
// networks, vlan, on the expected packets and on tcpdump's program.
func TestCompileFilterKeywords(t *testing.T) {
	pkts, bs := allTestPackets(t)
	haveTcpdump := false
	if _, err := exec.LookPath("tcpdump"); err == nil {
		_, err := tcpdumpProgram(t, "tcp")
		haveTcpdump = err == nil
	}
	for _, c := range moreFilterCases {
		ours, err := AssembleFilter(c.expr)
		if err != nil {
			t.Errorf("%q: %v", c.expr, err)
			continue
		}
		var theirs []bpf.RawInstruction
		if haveTcpdump {
			if theirs, err = tcpdumpProgram(t, c.expr); err != nil {
				t.Errorf("tcpdump rejects %q: %v", c.expr, err)
			}
		}
		want := map[int]bool{}
		for _, i := range c.match {
			want[i] = true
		}
		for i, p := range bs {
			got := runFilter(t, ours, p)
			if got != want[i] {
				t.Errorf("%q on %s: match %v, want %v", c.expr, pkts[i].name, got, want[i])
			}
			if theirs != nil && runFilter(t, theirs, p) != got {
				t.Errorf("%q on %s: ours %v, tcpdump %v", c.expr, pkts[i].name, got, !got)
			}
		}
	}
}

// TestCompileFilterUnsupported: a tcpdump keyword the compiler does not
// know is named, with what it knows, and never looked up as a host name.
func TestCompileFilterUnsupported(t *testing.T) {
	saved := resolveHost
	resolveHost = func(name string) ([]netip.Addr, error) {
		t.Errorf("%q looked up as a host name", name)
		return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
	}
	defer func() { resolveHost = saved }()
	for _, c := range []struct{ expr, want string }{
		{"gateway router", `filter "gateway router": "gateway" is not supported; supported: host, net (ADDR/LEN, ADDR mask MASK), port, portrange N-M, src/dst, ether host/src/dst MAC, vlan [ID]`},
		{"tcp and broadcast", `"broadcast" is not supported; supported: host,`},
		{"less 100", `"less" is not supported`},
		{"ether proto 0x0800", `"proto" is not supported`},
		{"ip6 and icmp6", `"icmp6" is not supported`},
		{"tcp[13] & 2 != 0", `filter "tcp[13] & 2 != 0": byte-offset expressions (tcp[13] & 2 != 0) are not supported; supported: host,`},
		{"ip[8] < 5", `byte-offset expressions`},
		{"host aa:bb:cc:dd:ee:ff", `"aa:bb:cc:dd:ee:ff" is a MAC address: use ether host aa:bb:cc:dd:ee:ff`},
		{"ether host aa:bb", `ether host "aa:bb": give a MAC address (aa:bb:cc:dd:ee:ff)`},
		{"ether net 10.0.0.0/8", `ether net: give ether host MAC, ether src MAC or ether dst MAC`},
		{"ether", `ether: give ether host MAC`},
		{"vlan 5000", `vlan "5000": give a VLAN ID from 0 to 4095`},
		{"portrange 10-x", `portrange "10-x": give two ports`},
		{"net 10.0.0.1 mask 255.0.0.0", `net 10.0.0.1 mask 255.0.0.0: non-network bits set`},
		{"net 10.0.0.0 mask", `net 10.0.0.0 mask: give the mask`},
		{"net 2001:db8:: mask ffff::", `give an IPv4 network and mask`},
	} {
		_, err := CompileFilter(c.expr)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want %q", c.expr, err, c.want)
		}
	}
}

// longFilters are long expressions (a few lists of ports and hosts an AP
// filter grows into), compared with tcpdump for their length and their
// matches.
var longFilters = []string{
	"port 1 or port 2 or port 3 or port 4 or port 5 or port 6 or port 7 or port 8 or port 9 or port 10",
	"port 443 or port 8883 or port 80 or port 53 or port 123 or port 1883 or port 8443 or port 5353 or port 67 or port 68",
	"tcp and (port 443 or port 8883 or port 8443 or port 1883 or port 80) and not net 10.0.0.0/8",
	"host 10.0.0.1 or host 10.0.0.2 or host 10.0.0.3 or host 192.168.1.5 or host 172.16.0.9 or host 2001:db8::1 or host 8.8.8.8 or host 192.168.4.20",
	"(tcp port 443 or tcp port 8883) and (host 192.168.1.5 or host 203.0.113.10 or net 172.16.0.0/12)",
	"ether host 24:0a:c4:01:02:03 or ether host 02:00:00:00:00:01 or ether host 02:00:00:00:00:02 or ether host 30:ae:a4:00:00:01",
	"portrange 1-100 or portrange 400-500 or portrange 8000-9000 or port 1883 or udp port 53",
	"vlan and (port 443 or port 8883 or port 80 or port 53 or port 123)",
	"port 1 or port 2 or port 3 or port 4 or port 5 or port 6 or port 7 or port 8 or port 9 or port 10 or port 11 or port 12 or port 13 or port 14 or port 15 or port 16 or port 17 or port 18 or port 19 or port 20",
	// Past 255 instructions: jumps through unconditional ones.
	joinN(150, "port %d", " or "),
	"tcp and (" + joinN(100, "host 10.0.0.%d", " or ") + ")",
}

// joinN joins format applied to 1..n.
func joinN(n int, format, sep string) string {
	var parts []string
	for i := 1; i <= n; i++ {
		parts = append(parts, fmt.Sprintf(format, i))
	}
	return strings.Join(parts, sep)
}

// TestCompileFilterLong: ten ports and more compile, within a few
// instructions of tcpdump's program, and both agree on every test packet.
func TestCompileFilterLong(t *testing.T) {
	if _, err := tcpdumpProgram(t, "tcp"); err != nil {
		t.Skipf("tcpdump -dd does not run here: %v", err)
	}
	pkts, bs := allTestPackets(t)
	for _, expr := range longFilters {
		ours, err := AssembleFilter(expr)
		if err != nil {
			t.Errorf("%q: %v", expr, err)
			continue
		}
		theirs, err := tcpdumpProgram(t, expr)
		if err != nil {
			t.Fatalf("tcpdump: %q: %v", expr, err)
		}
		t.Logf("%d instructions, tcpdump %d: %.200s", len(ours), len(theirs), expr)
		if len(ours) > len(theirs)+3 {
			t.Errorf("%q: %d instructions, tcpdump %d", expr, len(ours), len(theirs))
		}
		for i, p := range bs {
			if a, b := runFilter(t, ours, p), runFilter(t, theirs, p); a != b {
				t.Errorf("%q on %s: ours %v, tcpdump %v", expr, pkts[i].name, a, b)
			}
		}
	}
}

// realPackets collects Ethernet packets from the bundled captures and the
// public corpus (when present) into one pcap file, with the test packets.
func realPackets(t *testing.T, dir string) (string, [][]byte) {
	t.Helper()
	_, all := allTestPackets(t)
	files, _ := filepath.Glob("../testdata/pcaps/*.pcap*")
	shared, _ := filepath.Glob("../../shared/pcaps/*/*.pcap*")
	deeper, _ := filepath.Glob("../../shared/pcaps/*/*/*.pcap*")
	files = append(append(files, shared...), deeper...)
	for _, f := range files {
		if len(all) > 30000 || strings.HasSuffix(f, ".gz") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var src interface {
			ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
		}
		if r, err := pcapgo.NewNgReader(bytes.NewReader(b), pcapgo.DefaultNgReaderOptions); err == nil {
			if r.LinkType() != layers.LinkTypeEthernet {
				continue
			}
			src = r
		} else if r, err := pcapgo.NewReader(bytes.NewReader(b)); err == nil {
			if r.LinkType() != layers.LinkTypeEthernet {
				continue
			}
			src = r
		} else {
			continue
		}
		for n := 0; n < 1000; n++ {
			data, ci, err := src.ReadPacketData()
			if err != nil {
				break
			}
			if ci.CaptureLength == ci.Length && len(data) >= 14 {
				all = append(all, append([]byte(nil), data...))
			}
		}
	}
	path := filepath.Join(dir, "real.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := pcapgo.NewWriter(f)
	w.WriteFileHeader(262144, layers.LinkTypeEthernet)
	for _, p := range all {
		w.WritePacket(gopacket.CaptureInfo{CaptureLength: len(p), Length: len(p)}, p)
	}
	f.Close()
	return path, all
}

// TestCompileFilterRealPackets runs tcpdump itself (-r, the filter, -w)
// and our program over the same packets: real captures (bundled, and the
// public corpus when present) and the test packets. Both keep the same
// packets, for every expression of the tests.
func TestCompileFilterRealPackets(t *testing.T) {
	if _, err := tcpdumpProgram(t, "tcp"); err != nil {
		t.Skipf("tcpdump does not run here: %v", err)
	}
	dir := t.TempDir()
	path, pkts := realPackets(t, dir)
	t.Logf("%d packets", len(pkts))
	var exprs []string
	for _, c := range append(append([]filterCase(nil), filterCases...), moreFilterCases...) {
		exprs = append(exprs, c.expr)
	}
	exprs = append(exprs, longFilters...)
	// The MAC address of a real packet, so ether host matches something
	// other than the test packets.
	if len(pkts) > len(filterPackets)+len(morePackets) {
		mac := net.HardwareAddr(pkts[len(filterPackets)+len(morePackets)][6:12])
		exprs = append(exprs, "ether src "+mac.String(), "ether host "+mac.String()+" and tcp", "not ether dst "+mac.String())
	}
	for _, expr := range exprs {
		out := filepath.Join(dir, "out.pcap")
		if b, err := exec.Command("tcpdump", "-r", path, "-w", out, expr).CombinedOutput(); err != nil {
			t.Fatalf("tcpdump -r %s %q: %v\n%s", path, expr, err, b)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		r, err := pcapgo.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		var kept [][]byte
		for {
			data, _, err := r.ReadPacketData()
			if err != nil {
				break
			}
			kept = append(kept, data)
		}
		prog, err := CompileFilter(expr)
		if err != nil {
			t.Errorf("%q: %v", expr, err)
			continue
		}
		vm, err := bpf.NewVM(prog)
		if err != nil {
			t.Fatalf("%q: %v", expr, err)
		}
		n, mismatch := 0, -1
		for i, p := range pkts {
			if k, err := vm.Run(p); err != nil || k == 0 {
				continue
			}
			if n >= len(kept) || !bytes.Equal(kept[n], p) {
				mismatch = i
				break
			}
			n++
		}
		if mismatch >= 0 || n != len(kept) {
			t.Errorf("%q: tcpdump keeps %d packets, we keep %d up to packet %d where we differ", expr, len(kept), n, mismatch)
		}
	}
}

// Benchmark-like check of the optimiser: printed for the commit message.
func ExampleCompileFilter() {
	prog, _ := CompileFilter("port 1 or port 2 or port 3 or port 4 or port 5 or port 6 or port 7 or port 8 or port 9 or port 10")
	fmt.Println(len(prog))
	// Output: 51
}

// evalTree is what a parsed filter means, test by test, on a packet long
// enough for every load (the optimised program must agree with it).
func evalTree(n *fnode, pkt []byte) bool {
	switch n.op {
	case "and":
		return evalTree(n.a, pkt) && evalTree(n.b, pkt)
	case "or":
		return evalTree(n.a, pkt) || evalTree(n.b, pkt)
	case "not":
		return !evalTree(n.a, pkt)
	}
	if n.t.constant != 0 {
		return n.t.constant > 0
	}
	ld := n.t.ld
	off := int(ld.off)
	if ld.kind == ldInd {
		off += 4 * int(pkt[ld.xoff]&0xf)
	}
	var v uint32
	for i := 0; i < ld.size; i++ {
		v = v<<8 | uint32(pkt[off+i])
	}
	if ld.mask != 0 {
		v &= ld.mask
	}
	switch n.t.op {
	case cmpSet:
		return v&n.t.k != 0
	case cmpGE:
		return v >= n.t.k
	case cmpGT:
		return v > n.t.k
	}
	return v == n.t.k
}

// checkOptimised compiles expr and runs the program and the parsed tests
// over the test packets, padded so that no load falls off the end.
func checkOptimised(t *testing.T, expr string, pkts [][]byte) {
	tree, kernel, err := parseFilter(expr)
	if err != nil || tree == nil {
		return
	}
	prog, err := genProgram(tree)
	if err != nil {
		return // too long: an error, not a wrong program
	}
	if _, err := bpf.Assemble(prog); err != nil {
		t.Fatalf("%q: %v", expr, err)
	}
	kprog, err := genProgram(kernel)
	if err == nil {
		if _, err := bpf.Assemble(kprog); err != nil {
			t.Fatalf("%q (kernel): %v", expr, err)
		}
	}
	vm, err := bpf.NewVM(prog)
	if err != nil {
		t.Fatalf("%q: %v", expr, err)
	}
	for i, p := range pkts {
		n, err := vm.Run(p)
		if err != nil {
			t.Fatalf("%q: %v", expr, err)
		}
		if (n > 0) != evalTree(tree, p) {
			t.Fatalf("%q on packet %d: program %v, tests %v\n%v", expr, i, n > 0, !(n > 0), prog)
		}
	}
}

func paddedTestPackets(t *testing.T) [][]byte {
	_, bs := allTestPackets(t)
	for i := range bs {
		bs[i] = append(bs[i], make([]byte, 4096)...)
	}
	return bs
}

// TestCompileFilterOptimised: for every expression of the tests, the
// optimised program matches what its tests say, packet by packet.
func TestCompileFilterOptimised(t *testing.T) {
	defer fakeResolver(map[string][]string{"dual.test": {"10.0.0.1", "2001:db8::1"}})()
	bs := paddedTestPackets(t)
	for _, c := range append(append([]filterCase(nil), filterCases...), moreFilterCases...) {
		checkOptimised(t, c.expr, bs)
	}
	for _, e := range longFilters {
		checkOptimised(t, e, bs)
	}
}

// FuzzCompileFilter: any expression compiles to an error or to a program
// that assembles and agrees with its tests on every test packet.
func FuzzCompileFilter(f *testing.F) {
	for _, c := range append(append([]filterCase(nil), filterCases...), moreFilterCases...) {
		f.Add(c.expr)
	}
	for _, e := range longFilters {
		f.Add(e)
	}
	var bs [][]byte
	f.Fuzz(func(t *testing.T, expr string) {
		if bs == nil {
			bs = paddedTestPackets(t)
		}
		saved := resolveHost
		resolveHost = func(name string) ([]netip.Addr, error) {
			return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
		}
		defer func() { resolveHost = saved }()
		checkOptimised(t, expr, bs)
	})
}
