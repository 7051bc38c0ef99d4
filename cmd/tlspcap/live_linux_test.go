package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"golang.org/x/sys/unix"
)

func nobody() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
}

// TestLivePermission: without CAP_NET_RAW the error names the capability
// and the setcap command.
func TestLivePermission(t *testing.T) {
	if os.Geteuid() != 0 {
		// Unprivileged already: try it directly.
		code, _, errs := tlspcap(t, "live", "-i", "lo", "--duration", "1s")
		if code != exitUsage || !strings.Contains(errs, "CAP_NET_RAW") || !strings.Contains(errs, "setcap cap_net_raw,cap_net_admin+eip") {
			t.Errorf("exit %d, stderr %q", code, errs)
		}
		return
	}
	// As root, run a copy of the test binary as nobody.
	dir, err := os.MkdirTemp("", "tlspcap-perm")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	self, _ := os.ReadFile(os.Args[0])
	bin := filepath.Join(dir, "tlspcap.test")
	if err := os.WriteFile(bin, self, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestLiveHelperMain$")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TLSPCAP_MAIN_ARGS=live\n-i\nlo\n--duration\n1s")
	cmd.SysProcAttr = nobody()
	out, _ := cmd.CombinedOutput()
	if cmd.ProcessState == nil {
		t.Skipf("cannot run as nobody here: %s", out)
	}
	if code := cmd.ProcessState.ExitCode(); code != exitUsage || !strings.Contains(string(out), "CAP_NET_RAW") ||
		!strings.Contains(string(out), "setcap cap_net_raw,cap_net_admin+eip $(which tlspcap)") {
		t.Errorf("exit %d: %s", code, out)
	}
}

// startTcpdump runs tcpdump -i iface -w file filter until the returned
// function stops it (once it says it is listening).
func startTcpdump(t *testing.T, iface, file string, filter ...string) func() {
	t.Helper()
	td := exec.Command("tcpdump", append([]string{"-i", iface, "-U", "-w", file}, filter...)...)
	tdErr, _ := td.StderrPipe()
	if err := td.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(tdErr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening on") {
				close(ready)
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		td.Process.Kill()
		t.Fatal("tcpdump did not start listening")
	}
	return func() {
		td.Process.Signal(os.Interrupt)
		td.Wait()
	}
}

// countPackets is the number of packets in a pcap or pcapng file (read by
// gopacket), and how many of them match keep.
func countPackets(t *testing.T, path string, keep func(gopacket.Packet) bool) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var src gopacket.PacketDataSource
	if r, err := pcapgo.NewNgReader(bytes.NewReader(b), pcapgo.DefaultNgReaderOptions); err == nil {
		src = r
	} else if r, err := pcapgo.NewReader(bytes.NewReader(b)); err == nil {
		src = r
	} else {
		t.Fatalf("%s: %v", path, err)
	}
	n := 0
	for {
		data, _, err := src.ReadPacketData()
		if err != nil {
			break
		}
		if keep(gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.NoCopy)) {
			n++
		}
	}
	return n
}

// TestLiveLoopback: live -i lo and tcpdump -i lo, side by side over the
// same connection on loopback, write the same number of packets (AF_PACKET
// hands each one over twice there, outgoing and incoming), with a filter
// and without one.
func TestLiveLoopback(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("live capture test needs root (AF_PACKET): skipped")
	}
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Skip("tcpdump not installed: skipped")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	dir := t.TempDir()
	filter := fmt.Sprintf("tcp port %d", port)
	theirs := filepath.Join(dir, "tcpdump.pcap")
	stopTcpdump := startTcpdump(t, "lo", theirs, filter)
	ours, oursAll := filepath.Join(dir, "live.pcapng"), filepath.Join(dir, "live-all.pcapng")
	var wg sync.WaitGroup
	codes := make([]int, 2)
	errs := make([]syncBuffer, 2)
	for i, args := range [][]string{
		{"live", "-i", "lo", "--duration", "4s", "--write", ours, "--no-progress", "tcp", "port", fmt.Sprint(port)},
		{"live", "-i", "lo", "--duration", "4s", "--write", oursAll, "--no-progress"},
	} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = run(args, strings.NewReader(""), io.Discard, &errs[i])
		}()
	}
	time.Sleep(700 * time.Millisecond) // the sockets are open
	for range 3 {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 5000)
		for range 4 {
			c.Write(buf)
			io.ReadFull(c, buf)
		}
		c.Close()
	}
	time.Sleep(500 * time.Millisecond)
	wg.Wait()
	stopTcpdump()
	for i := range codes {
		if codes[i] != exitOK {
			t.Errorf("live %d: exit %d: %s", i, codes[i], errs[i].String())
		}
	}
	ofPort := func(p gopacket.Packet) bool {
		tcp, ok := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
		return ok && (int(tcp.SrcPort) == port || int(tcp.DstPort) == port)
	}
	want := countPackets(t, theirs, ofPort)
	if want < 20 {
		t.Fatalf("tcpdump wrote %d packets of port %d", want, port)
	}
	if got := countPackets(t, ours, ofPort); got != want {
		t.Errorf("live -i lo '%s' wrote %d packets, tcpdump %d", filter, got, want)
	}
	if got := countPackets(t, oursAll, ofPort); got != want {
		t.Errorf("live -i lo (no filter) wrote %d packets of port %d, tcpdump %d", got, port, want)
	}
	t.Logf("%d packets, as tcpdump", want)
}

// injectFrames sends Ethernet frames out of iface in network namespace
// ns (an AF_PACKET socket made there), so they arrive on the other end
// of the veth pair as received packets: the kernel moves a VLAN tag out
// of the data into the packet's metadata on the way in.
func injectFrames(t *testing.T, ns, iface string, frames [][]byte) {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	defer self.Close()
	target, err := os.Open("/var/run/netns/" + ns)
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		t.Fatalf("setns %s: %v", ns, err)
	}
	defer unix.Setns(int(self.Fd()), unix.CLONE_NEWNET)
	ifc, err := net.InterfaceByName(iface)
	if err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	addr := &unix.SockaddrLinklayer{Ifindex: ifc.Index, Halen: 6}
	for _, f := range frames {
		if err := unix.Sendto(fd, f, 0, addr); err != nil {
			t.Fatalf("sending a frame on %s: %v", iface, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// vlanFrame is an ICMP echo (or a UDP datagram) from src to dst, tagged
// with the VLAN IDs given (outer first; none: untagged).
func vlanFrame(t *testing.T, src, dst net.IP, udp bool, vlans ...uint16) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, EthernetType: layers.EthernetTypeIPv4}
	ls := []gopacket.SerializableLayer{eth}
	if len(vlans) > 0 {
		eth.EthernetType = layers.EthernetTypeDot1Q
		for i, id := range vlans {
			next := layers.EthernetTypeDot1Q
			if i == len(vlans)-1 {
				next = layers.EthernetTypeIPv4
			}
			ls = append(ls, &layers.Dot1Q{Priority: 3, VLANIdentifier: id, Type: next})
		}
	}
	ip := &layers.IPv4{Version: 4, TTL: 64, SrcIP: src, DstIP: dst, Protocol: layers.IPProtocolICMPv4}
	ls = append(ls, ip)
	if udp {
		ip.Protocol = layers.IPProtocolUDP
		u := &layers.UDP{SrcPort: 5000, DstPort: 5001}
		u.SetNetworkLayerForChecksum(ip)
		ls = append(ls, u)
	} else {
		ls = append(ls, &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(8, 0)})
	}
	ls = append(ls, gopacket.Payload("tlspcap vlan test"))
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestLiveVLAN: tagged frames arrive on the veth (the kernel keeps the
// tag apart from the data). live and tcpdump capture side by side with
// vlan filters, and with filters on what the tagged frames carry, and
// keep the same packets.
func TestLiveVLAN(t *testing.T) {
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Skip("tcpdump not installed: skipped")
	}
	host := makeNamespace(t)
	ns := os.Getenv("TLSPCAP_TEST_NS")
	peer := strings.TrimSuffix(host, "h") + "n"
	a, b := net.ParseIP("172.31.0.1").To4(), net.ParseIP("172.31.0.2").To4()
	var frames [][]byte
	for range 5 {
		frames = append(frames, vlanFrame(t, a, b, false, 100))
	}
	for range 3 {
		frames = append(frames, vlanFrame(t, a, b, true, 200))
	}
	for range 2 {
		frames = append(frames, vlanFrame(t, a, b, false, 300, 100)) // QinQ: 100 inside 300
	}
	for range 4 {
		frames = append(frames, vlanFrame(t, b, a, false))
	}

	dir := t.TempDir()
	filters := []struct {
		expr string
		n    int // packets kept (by tcpdump as by live)
	}{
		{"vlan 100 and icmp", 5},
		{"vlan 200", 3},
		{"vlan and udp", 3},
		{"vlan 300 and vlan 100 and icmp", 2},
		{"vlan and host 172.31.0.1", 8},
		// Without vlan the tests read the data, where the kernel took the
		// outer tag out: the frames tagged 100 match (as in tcpdump).
		{"icmp and host 172.31.0.1", 9},
		{"not vlan and icmp", -1},
		{"vlan or icmp", -1},
	}
	var stops []func()
	for i, f := range filters {
		stops = append(stops, startTcpdump(t, host, filepath.Join(dir, fmt.Sprintf("tcpdump-%d.pcap", i)), f.expr))
	}
	var wg sync.WaitGroup
	codes := make([]int, len(filters))
	errs := make([]syncBuffer, len(filters))
	for i, f := range filters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			args := append([]string{"live", "-i", host, "--duration", "5s", "--no-progress", "--write", filepath.Join(dir, fmt.Sprintf("live-%d.pcapng", i))}, strings.Fields(f.expr)...)
			codes[i] = run(args, strings.NewReader(""), io.Discard, &errs[i])
		}()
	}
	time.Sleep(2 * time.Second) // the sockets are open, even on a busy machine
	injectFrames(t, ns, peer, frames)
	wg.Wait()
	for _, stop := range stops {
		stop()
	}
	ours := func(p gopacket.Packet) bool { return bytes.Contains(p.Data(), []byte("tlspcap vlan test")) }
	for i, f := range filters {
		if codes[i] != exitOK {
			t.Errorf("live %q: exit %d: %s", f.expr, codes[i], errs[i].String())
		}
		want := countPackets(t, filepath.Join(dir, fmt.Sprintf("tcpdump-%d.pcap", i)), ours)
		got := countPackets(t, filepath.Join(dir, fmt.Sprintf("live-%d.pcapng", i)), ours)
		t.Logf("%q: live %d packets, tcpdump %d", f.expr, got, want)
		if got != want || (f.n >= 0 && got != f.n) {
			t.Errorf("%q: live wrote %d packets, tcpdump %d, want %d", f.expr, got, want, f.n)
		}
	}
}
