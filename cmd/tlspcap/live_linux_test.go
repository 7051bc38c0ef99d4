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
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
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

// loopbackPort counts the packets of a capture file (pcap or pcapng, read
// by gopacket's readers, not ours) to or from TCP port.
func loopbackPort(t *testing.T, path string, port int) int {
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
		p := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.NoCopy)
		if tcp, ok := p.Layer(layers.LayerTypeTCP).(*layers.TCP); ok && (int(tcp.SrcPort) == port || int(tcp.DstPort) == port) {
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
	td := exec.Command("tcpdump", "-i", "lo", "-U", "-w", theirs, filter)
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
	td.Process.Signal(os.Interrupt)
	td.Wait()
	for i := range codes {
		if codes[i] != exitOK {
			t.Errorf("live %d: exit %d: %s", i, codes[i], errs[i].String())
		}
	}
	want := loopbackPort(t, theirs, port)
	if want < 20 {
		t.Fatalf("tcpdump wrote %d packets of port %d", want, port)
	}
	if got := loopbackPort(t, ours, port); got != want {
		t.Errorf("live -i lo '%s' wrote %d packets, tcpdump %d", filter, got, want)
	}
	if got := loopbackPort(t, oursAll, port); got != want {
		t.Errorf("live -i lo (no filter) wrote %d packets of port %d, tcpdump %d", got, port, want)
	}
	t.Logf("%d packets, as tcpdump", want)
}
