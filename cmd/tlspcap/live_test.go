package main

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// syncBuffer is a bytes.Buffer safe to read while a command writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// verdicts is the outcome and error finding IDs of each connection, from
// a JSON report, keyed by server address.
func verdicts(t *testing.T, conns []jsonConn) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, c := range conns {
		var ids []string
		for _, f := range c.Findings {
			if f.Severity == "error" {
				ids = append(ids, f.ID)
			}
		}
		sort.Strings(ids)
		m[c.Server] += fmt.Sprintf("[%s %s]", c.Outcome, strings.Join(ids, ","))
	}
	return m
}

type jsonConn struct {
	Stream   int    `json:"tcp_stream"`
	Server   string `json:"server"`
	Outcome  string `json:"outcome"`
	Findings []struct {
		ID       string `json:"id"`
		Severity string `json:"severity"`
	} `json:"findings"`
}

func TestLiveUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"live"}, "live needs -i IFACE or -r -"},
		{[]string{"live", "-i", "lo", "-r", "-"}, "live needs -i IFACE or -r -"},
		{[]string{"live", "-i", "tlspcap-none0"}, `no network interface "tlspcap-none0"`},
		{[]string{"live", "-i", "lo", "port", "99999"}, "not a port number"},
		{[]string{"live", "-i", "lo", "--format", "html"}, "use text or json"},
		{[]string{"live", "-r", "capture.pcap"}, "tlspcap analyze capture.pcap"},
	} {
		code, _, errs := tlspcap(t, c.args...)
		if code != exitUsage || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, errs, c.want)
		}
	}
}

// TestLiveStream feeds a capture through a pipe that stays open: the
// verdict must come while the stream is still open, and the result must
// be analyze's.
func TestLiveStream(t *testing.T) {
	b, err := os.ReadFile(bigChain)
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	var out, errb syncBuffer
	done := make(chan int)
	go func() {
		done <- run([]string{"live", "-r", "-", "--in-content-len", "4096"}, pr, &out, &errb)
	}()
	if _, err := pw.Write(b); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "record-exceeds-device-buffer") {
		if time.Now().After(deadline) {
			pw.Close()
			t.Fatalf("no verdict while the stream was open:\n%s\n%s", out.String(), errb.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if strings.Contains(out.String(), "summary") {
		t.Errorf("summary before the stream ended:\n%s", out.String())
	}
	pw.Close()
	if code := <-done; code != exitFailed {
		t.Errorf("exit %d, want 1\n%s", code, errb.String())
	}
	if !strings.Contains(out.String(), "1 of 1 connections failed.") {
		t.Errorf("no summary:\n%s", out.String())
	}

	// JSON: one line per connection, then the summary, same as analyze.
	var jout, jerr bytes.Buffer
	code := run([]string{"live", "-r", "-", "--format", "json", "--in-content-len", "4096"}, bytes.NewReader(b), &jout, &jerr)
	if code != exitFailed {
		t.Fatalf("json: exit %d %s", code, jerr.String())
	}
	var live []jsonConn
	var summary struct {
		Connections []jsonConn `json:"connections"`
	}
	sc := bufio.NewScanner(&jout)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var line struct {
			Connection *jsonConn       `json:"connection"`
			Summary    json.RawMessage `json:"summary"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("not JSON lines: %v\n%s", err, sc.Text())
		}
		if line.Connection != nil {
			live = append(live, *line.Connection)
		}
		if line.Summary != nil {
			json.Unmarshal(line.Summary, &summary)
		}
	}
	var rep struct {
		Connections []jsonConn `json:"connections"`
	}
	_, aout, _ := tlspcap(t, "analyze", "--format", "json", "--in-content-len", "4096", bigChain)
	if err := json.Unmarshal([]byte(aout), &rep); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprint(verdicts(t, rep.Connections))
	if got := fmt.Sprint(verdicts(t, live)); got != want {
		t.Errorf("streamed verdicts %s, analyze %s", got, want)
	}
	if got := fmt.Sprint(verdicts(t, summary.Connections)); got != want {
		t.Errorf("summary verdicts %s, analyze %s", got, want)
	}
}

// Live capture on a veth pair into a network namespace made here: a Go TLS
// server in the namespace, a healthy handshake and one the server resets
// after the ClientHello.

const (
	nsServerIP = "10.213.7.1"
	nsHostIP   = "10.213.7.2"
)

func sh(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// makeNamespace creates namespace ns with one end of a veth pair
// (nsServerIP); the other end (nsHostIP) stays here. It returns that end.
func makeNamespace(t *testing.T) string {
	if os.Geteuid() != 0 {
		t.Skip("live capture test needs root (network namespaces, AF_PACKET): skipped")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("live capture test needs the ip command (iproute2): skipped")
	}
	id := os.Getpid() % 100000
	ns := fmt.Sprintf("tlspcap-test-%d", id)
	host, peer := fmt.Sprintf("tpv%dh", id), fmt.Sprintf("tpv%dn", id)
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Skipf("cannot create a network namespace here (%v: %s): skipped", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		exec.Command("ip", "link", "del", host).Run()
		exec.Command("ip", "netns", "del", ns).Run()
	})
	sh(t, "ip", "link", "add", host, "type", "veth", "peer", "name", peer)
	sh(t, "ip", "link", "set", peer, "netns", ns)
	sh(t, "ip", "addr", "add", nsHostIP+"/24", "dev", host)
	sh(t, "ip", "link", "set", host, "up")
	sh(t, "ip", "netns", "exec", ns, "ip", "addr", "add", nsServerIP+"/24", "dev", peer)
	sh(t, "ip", "netns", "exec", ns, "ip", "link", "set", peer, "up")
	sh(t, "ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
	t.Setenv("TLSPCAP_TEST_NS", ns)
	return host
}

// writeCerts makes a CA and a server certificate for device.test and
// nsServerIP; it returns the CA file, the server chain and key files.
func writeCerts(t *testing.T, dir string) (caFile, certFile, keyFile string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tlspcap test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "device.test"},
		DNSNames: []string{"device.test"}, IPAddresses: []net.IP{net.ParseIP(nsServerIP)},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	caFile, certFile, keyFile = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key")
	os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644)
	os.WriteFile(certFile, append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})...), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return
}

// TestLiveHelperServer is the server run inside the namespace (by
// TestLiveNamespace); it does nothing in a normal test run.
func TestLiveHelperServer(t *testing.T) {
	dir := os.Getenv("TLSPCAP_LIVE_SERVER")
	if dir == "" {
		t.Skip("helper for TestLiveNamespace")
	}
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key"))
	if err != nil {
		t.Fatal(err)
	}
	good, err := tls.Listen("tcp", nsServerIP+":443", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	reset, err := net.Listen("tcp", nsServerIP+":444")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := good.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				// Enough data for segments far beyond the MTU (GRO on veth).
				c.Write(bytes.Repeat([]byte("tlspcap live test payload\n"), 12000))
			}()
		}
	}()
	go func() {
		for {
			c, err := reset.Accept()
			if err != nil {
				return
			}
			go func() {
				buf := make([]byte, 4096)
				c.Read(buf) // the ClientHello
				c.(*net.TCPConn).SetLinger(0)
				c.Close() // RST
			}()
		}
	}()
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin) // until the test closes stdin
}

func TestLiveNamespace(t *testing.T) {
	host := makeNamespace(t)
	dir := t.TempDir()
	caFile, _, _ := writeCerts(t, dir)

	srv := exec.Command("ip", "netns", "exec", os.Getenv("TLSPCAP_TEST_NS"), os.Args[0], "-test.run=^TestLiveHelperServer$", "-test.v")
	srv.Env = append(os.Environ(), "TLSPCAP_LIVE_SERVER="+dir)
	stdin, _ := srv.StdinPipe()
	stdout, _ := srv.StdoutPipe()
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		srv.Process.Kill()
		srv.Wait()
	})
	ready := make(chan bool)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "ready" {
				ready <- true
			}
		}
		close(ready)
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatal("server in the namespace did not start")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("server in the namespace did not start")
	}

	pcap := filepath.Join(dir, "f.pcapng")
	var out, errb syncBuffer
	done := make(chan int)
	go func() {
		done <- run([]string{"live", "-i", host, "--duration", "3s", "--write", pcap, "--ca", caFile,
			"tcp", "and", "(port", "443", "or", "port", "444)"}, strings.NewReader(""), &out, &errb)
	}()
	time.Sleep(500 * time.Millisecond) // the socket is open

	pool := x509.NewCertPool()
	caPEM, _ := os.ReadFile(caFile)
	pool.AppendCertsFromPEM(caPEM)
	cfg := &tls.Config{RootCAs: pool, ServerName: "device.test", MaxVersion: tls.VersionTLS12}
	c, err := tls.Dial("tcp", nsServerIP+":443", cfg)
	if err != nil {
		t.Fatalf("healthy handshake: %v", err)
	}
	n, _ := io.Copy(io.Discard, c)
	c.Close()
	if n < 300000 {
		t.Errorf("read %d bytes from the server", n)
	}
	if _, err := tls.Dial("tcp", nsServerIP+":444", cfg); err == nil {
		t.Errorf("handshake with the resetting server succeeded")
	}
	// Traffic the filter must keep out: a ping does not show.
	exec.Command("ping", "-c", "1", "-W", "1", nsServerIP).Run()

	var code int
	select {
	case code = <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("live did not stop after --duration:\n%s\n%s", out.String(), errb.String())
	}
	text := out.String()
	t.Logf("live output:\n%s", text)
	if code != exitFailed {
		t.Errorf("exit %d, want 1; stderr %s", code, errb.String())
	}
	summaryAt := strings.Index(text, "summary:")
	healthy := "ok tcp.stream 0  " + nsHostIP
	if i := strings.Index(text, healthy); i < 0 || summaryAt < 0 || i > summaryAt || !strings.Contains(text[i:], nsServerIP+":443") {
		t.Errorf("no one-line verdict %q for the healthy connection before the summary", healthy)
	}
	if i := strings.Index(text, "server-reset"); i < 0 || i > summaryAt {
		t.Errorf("no server-reset block before the summary")
	}
	if !strings.Contains(text, "1 of 2 connections failed.") {
		t.Errorf("summary does not count 2 connections, 1 failed")
	}
	for _, bad := range []string{"snaplen", "ICMP", "capture-truncated-packets"} {
		if strings.Contains(text, bad) {
			t.Errorf("output mentions %q", bad)
		}
	}

	// analyze on the written file agrees, connection by connection.
	_, aout, aerr := tlspcap(t, "analyze", "--format", "json", "--ca", caFile, pcap)
	var rep struct {
		Connections []jsonConn `json:"connections"`
	}
	if err := json.Unmarshal([]byte(aout), &rep); err != nil {
		t.Fatalf("analyze %s: %v %s", pcap, err, aerr)
	}
	got := verdicts(t, rep.Connections)
	want := map[string]string{nsServerIP + ":443": "[ok ]", nsServerIP + ":444": "[failed server-reset]"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("analyze on the written file: %v, want %v", got, want)
	}
	// The same file streamed through live gives the same verdicts.
	fb, _ := os.ReadFile(pcap)
	var jout, jerr bytes.Buffer
	run([]string{"live", "-r", "-", "--format", "json", "--ca", caFile}, bytes.NewReader(fb), &jout, &jerr)
	var streamed []jsonConn
	for _, l := range strings.Split(strings.TrimSpace(jout.String()), "\n") {
		var line struct {
			Connection *jsonConn `json:"connection"`
		}
		json.Unmarshal([]byte(l), &line)
		if line.Connection != nil {
			streamed = append(streamed, *line.Connection)
		}
	}
	if g := verdicts(t, streamed); fmt.Sprint(g) != fmt.Sprint(want) {
		t.Errorf("live -r - on the written file: %v, want %v", g, want)
	}
	// No frame was cut, however large GRO made it.
	if fh, err := os.Open(pcap); err == nil {
		r, err := pcapgo.NewNgReader(fh, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			t.Fatal(err)
		}
		biggest := 0
		for {
			data, ci, err := r.ReadPacketData()
			if err != nil {
				break
			}
			pkt := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.NoCopy)
			if tcp, ok := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP); !ok {
				t.Errorf("the filter let through a packet that is not TCP: %v", pkt)
			} else if p := min(tcp.SrcPort, tcp.DstPort); p != 443 && p != 444 {
				t.Errorf("the filter let through TCP port %d", p)
			}
			if ci.CaptureLength != ci.Length {
				t.Errorf("frame cut: %d of %d bytes", ci.CaptureLength, ci.Length)
			}
			biggest = max(biggest, ci.Length)
		}
		fh.Close()
		t.Logf("largest frame captured: %d bytes", biggest)
	}
	// The section header names the tool, the interface block the filter.
	for _, s := range []string{"tlspcap " + version, host, "tcp and (port 443 or port 444)"} {
		if !bytes.Contains(fb, []byte(s)) {
			t.Errorf("pcapng has no %q", s)
		}
	}
}

// TestLiveHelperMain runs tlspcap itself (for tests that send it signals);
// it does nothing in a normal test run.
func TestLiveHelperMain(t *testing.T) {
	args := os.Getenv("TLSPCAP_MAIN_ARGS")
	if args == "" {
		t.Skip("helper for TestLiveSignal")
	}
	os.Exit(run(strings.Split(args, "\n"), os.Stdin, os.Stdout, os.Stderr))
}

// TestLiveSignal: SIGINT while the stream is still open flushes the
// verdicts, prints the summary, closes the pcapng cleanly and exits 1.
func TestLiveSignal(t *testing.T) {
	b, err := os.ReadFile(bigChain)
	if err != nil {
		t.Fatal(err)
	}
	pcap := filepath.Join(t.TempDir(), "sig.pcapng")
	cmd := exec.Command(os.Args[0], "-test.run=^TestLiveHelperMain$")
	cmd.Env = append(os.Environ(), "TLSPCAP_MAIN_ARGS="+strings.Join([]string{"live", "-r", "-", "--in-content-len", "4096", "--write", pcap}, "\n"))
	stdin, _ := cmd.StdinPipe()
	var out, errb syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	// The stream stays open: only the signal ends the capture.
	if _, err := stdin.Write(b); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for fi, err := os.Stat(pcap); err != nil || fi.Size() < int64(len(b))/2; fi, err = os.Stat(pcap) {
		if time.Now().After(deadline) {
			t.Fatalf("nothing written:\n%s", errb.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Signal(os.Interrupt)
	err = cmd.Wait()
	code := cmd.ProcessState.ExitCode()
	if code != exitFailed {
		t.Fatalf("exit %d (%v), want 1\n%s\n%s", code, err, out.String(), errb.String())
	}
	text := out.String()
	if !strings.Contains(text, "record-exceeds-device-buffer") || !strings.Contains(text, "1 of 1 connections failed.") {
		t.Errorf("verdict or summary missing after SIGINT:\n%s", text)
	}
	acode, aout, _ := tlspcap(t, "analyze", "--in-content-len", "4096", pcap)
	if acode != exitFailed || !strings.Contains(aout, "record-exceeds-device-buffer") || strings.Contains(aout, "capture ends inside") {
		t.Errorf("analyze on the file written until SIGINT: exit %d\n%s", acode, aout)
	}
}

// TestLiveStreamMatchesAnalyze: every ground-truth capture streamed
// through live -r - gives analyze's verdicts and capture findings.
func TestLiveStreamMatchesAnalyze(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/pcaps/*.pcapng")
	if len(files) == 0 {
		t.Skip("no captures in testdata/pcaps")
	}
	type report struct {
		Connections []jsonConn `json:"connections"`
		Findings    []struct {
			ID string `json:"id"`
		} `json:"findings"`
	}
	key := func(r report) string {
		s := fmt.Sprint(verdicts(t, r.Connections))
		for _, f := range r.Findings {
			s += " " + f.ID
		}
		return s
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		acode, aout, _ := tlspcap(t, "analyze", "--format", "json", f)
		var want report
		if err := json.Unmarshal([]byte(aout), &want); err != nil {
			t.Fatalf("%s: analyze: %v", f, err)
		}
		var out, errb bytes.Buffer
		lcode := run([]string{"live", "-r", "-", "--format", "json"}, bytes.NewReader(b), &out, &errb)
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		var got struct {
			Summary report `json:"summary"`
		}
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &got); err != nil {
			t.Fatalf("%s: live: %v\n%s", f, err, errb.String())
		}
		if len(lines)-1 != len(want.Connections) {
			t.Errorf("%s: %d connection lines, analyze has %d connections", filepath.Base(f), len(lines)-1, len(want.Connections))
		}
		if a, l := key(want), key(got.Summary); a != l || acode != lcode {
			t.Errorf("%s:\n analyze (exit %d) %s\n live    (exit %d) %s", filepath.Base(f), acode, a, lcode, l)
		}
	}
}

// TestLiveIdle: a connection that goes quiet (no FIN, no RST) is decided
// after --idle while the stream stays open.
func TestLiveIdle(t *testing.T) {
	f, err := os.Open("../../testdata/pcaps/healthy-tls12-mbedtls36.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ng, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	var out, errb syncBuffer
	done := make(chan int)
	go func() {
		done <- run([]string{"live", "-r", "-", "--idle", "1s", "--format", "json"}, pr, &out, &errb)
	}()
	w := pcapgo.NewWriter(pw)
	go func() {
		w.WriteFileHeader(65535, ng.LinkType())
		for i := 0; i < 10; i++ { // the handshake, not the close
			data, ci, err := ng.ReadPacketData()
			if err != nil {
				break
			}
			w.WritePacket(ci, data)
		}
	}()
	start := time.Now()
	for !strings.Contains(out.String(), `"connection"`) {
		if time.Since(start) > 10*time.Second {
			pw.Close()
			t.Fatalf("no verdict after --idle 1s:\n%s\n%s", out.String(), errb.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if el := time.Since(start); el < 900*time.Millisecond {
		t.Errorf("verdict after %v, before --idle 1s", el)
	}
	pw.Close()
	<-done
}
