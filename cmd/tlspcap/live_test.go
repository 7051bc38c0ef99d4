package main

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"debug/elf"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"tlspcap/capture"
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
		Frames   []int  `json:"frames"`
	} `json:"findings"`
}

// allFindings lists every finding with its frames, per server, in
// connection order.
func allFindings(conns []jsonConn) map[string]string {
	m := map[string]string{}
	for _, c := range conns {
		m[c.Server] += fmt.Sprintf("[%s", c.Outcome)
		for _, f := range c.Findings {
			m[c.Server] += fmt.Sprintf(" %s@%v", f.ID, f.Frames)
		}
		m[c.Server] += "]"
	}
	return m
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

// TestLiveHelpFormats: live --help lists exactly the formats live
// accepts (each one runs over a stream), and --client, which live cannot
// apply, is neither listed nor accepted.
func TestLiveHelpFormats(t *testing.T) {
	_, help, _ := tlspcap(t, "live", "--help")
	m := regexp.MustCompile(`--format string +output format: ([a-z, ]+?) \(default text\)`).FindStringSubmatch(help)
	if m == nil {
		t.Fatalf("no --format line in live --help:\n%s", help)
	}
	listed := strings.FieldsFunc(strings.ReplaceAll(m[1], " or ", ","), func(r rune) bool { return r == ',' || r == ' ' })
	b, err := os.ReadFile("../../testdata/pcaps/healthy-tls12-mbedtls36.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"text", "markdown", "json", "html"} {
		var out, errb bytes.Buffer
		code := run([]string{"live", "-r", "-", "--format", f}, bytes.NewReader(b), &out, &errb)
		if accepted := code != exitUsage; accepted != slices.Contains(listed, f) {
			t.Errorf("--format %s: listed %v, exit %d (%s)", f, slices.Contains(listed, f), code, strings.TrimSpace(errb.String()))
		}
	}
	if strings.Contains(help, "--client") {
		t.Errorf("live --help lists --client")
	}
	if code, _, errs := tlspcap(t, "live", "-r", "-", "--client", "ja3=x"); code != exitUsage || !strings.Contains(errs, "analyze --client") {
		t.Errorf("live --client: exit %d, %q", code, errs)
	}
}

// TestLiveStreamDamagedGzip: live -r - on a gzip stream whose checksum
// fails prints the summary of what came before, then the error (exit 2).
func TestLiveStreamDamagedGzip(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(malformedDir, "gzip-checksum-error.pcap.gz"))
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := run([]string{"live", "-r", "-", "--format", "json"}, bytes.NewReader(b), &out, &errb)
	want := "tlspcap: stdin: gzip: damaged data (invalid checksum) found at compressed byte 12064, uncompressed byte 12039"
	if code != exitUsage || !strings.HasPrefix(errb.String(), want) {
		t.Errorf("exit %d, stderr %q; want 2 and %q", code, errb.String(), want)
	}
	live := parseLiveJSON(t, out.String())
	if live.summary == nil || live.summary.Capture.Frames != 12 || len(live.summary.Connections) != 1 {
		t.Errorf("summary %+v, want connection A's 12 frames", live.summary)
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

// Live capture on a veth pair into a network namespace made here: Go
// servers in the namespace, the device's side played by Go clients that
// behave on the wire as mbedTLS with a 4096-byte input buffer (espConn).

// A /24 of its own per test process: two runs at once (two checkouts)
// would otherwise put the same host address on two veths and reach each
// other's servers.
// The server process in the namespace is told its parent's subnet.
var (
	nsSubnet   = cmp.Or(os.Getenv("TLSPCAP_TEST_SUBNET"), fmt.Sprintf("10.%d.%d", 200+os.Getpid()%50, os.Getpid()/50%250))
	nsServerIP = nsSubnet + ".1"
	nsHostIP   = nsSubnet + ".2"
)

// The namespace's servers, one port per way to end.
const (
	portHealthy   = "443" // a handshake, then 312 KB of data
	portReset     = "444" // RST after the ClientHello
	portUntrusted = "445" // a chain from a CA the device does not trust
	portBigRecord = "446" // a Certificate record over 4096 bytes
	portSlowReset = "447" // RST 1.5 s after the ClientHello
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
	ns := fmt.Sprintf("tlspcaplive-%d", id)
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

// issue makes a certificate for device.test (and nsServerIP, and extra
// names to make it big) signed by parent (self-signed CA when nil).
func issue(t *testing.T, cn string, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, ca bool, extraNames int) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	if ca {
		tmpl.IsCA, tmpl.BasicConstraintsValid, tmpl.KeyUsage = true, true, x509.KeyUsageCertSign
	} else {
		tmpl.DNSNames, tmpl.IPAddresses = []string{"device.test"}, []net.IP{net.ParseIP(nsServerIP)}
		for i := 0; i < extraNames; i++ {
			tmpl.DNSNames = append(tmpl.DNSNames, fmt.Sprintf("host-%03d.device.test", i))
		}
		tmpl.KeyUsage, tmpl.ExtKeyUsage = x509.KeyUsageDigitalSignature, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert, key
}

func writeChain(t *testing.T, dir, name string, key *ecdsa.PrivateKey, certs ...*x509.Certificate) {
	t.Helper()
	var pemb []byte
	for _, c := range certs {
		pemb = append(pemb, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	if os.WriteFile(filepath.Join(dir, name+".pem"), pemb, 0o644) != nil ||
		os.WriteFile(filepath.Join(dir, name+".key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600) != nil {
		t.Fatal("cannot write certificates")
	}
}

// writeCerts makes the test CA (the one the device trusts: ca.pem) and the
// servers' chains: server (by the CA), untrusted (by another CA) and big
// (by the CA, a leaf with 250 names: a Certificate message over 4096
// bytes). It returns the CA file.
func writeCerts(t *testing.T, dir string) string {
	t.Helper()
	ca, caKey := issue(t, "tlspcap test CA", nil, nil, true, 0)
	other, otherKey := issue(t, "tlspcap other CA", nil, nil, true, 0)
	leaf, leafKey := issue(t, "device.test", ca, caKey, false, 0)
	writeChain(t, dir, "server", leafKey, leaf, ca)
	unt, untKey := issue(t, "device.test", other, otherKey, false, 0)
	writeChain(t, dir, "untrusted", untKey, unt, other)
	bigLeaf, bigKey := issue(t, "device.test", ca, caKey, false, 250)
	writeChain(t, dir, "big", bigKey, bigLeaf, ca)
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	return caFile
}

// TestLiveHelperServer is the server run inside the namespace (by
// TestLiveNamespace); it does nothing in a normal test run.
func TestLiveHelperServer(t *testing.T) {
	dir := os.Getenv("TLSPCAP_LIVE_SERVER")
	if dir == "" {
		t.Skip("helper for TestLiveNamespace")
	}
	tlsListen := func(port, chain string, serve func(c *tls.Conn)) {
		cert, err := tls.LoadX509KeyPair(filepath.Join(dir, chain+".pem"), filepath.Join(dir, chain+".key"))
		if err != nil {
			t.Fatal(err)
		}
		l, err := tls.Listen("tcp", nsServerIP+":"+port, &tls.Config{Certificates: []tls.Certificate{cert}})
		if err != nil {
			t.Fatal(err)
		}
		go acceptAll(l, func(c net.Conn) {
			defer c.Close()
			serve(c.(*tls.Conn))
		})
	}
	resetListen := func(port string, after time.Duration) {
		l, err := net.Listen("tcp", nsServerIP+":"+port)
		if err != nil {
			t.Fatal(err)
		}
		go acceptAll(l, func(c net.Conn) {
			buf := make([]byte, 4096)
			c.Read(buf) // the ClientHello
			time.Sleep(after)
			c.(*net.TCPConn).SetLinger(0)
			c.Close() // RST
		})
	}
	tlsListen(portHealthy, "server", func(c *tls.Conn) {
		// Enough data for segments far beyond the MTU (GRO on veth), in
		// records that fit the device's 4096-byte buffer.
		data := bytes.Repeat([]byte("tlspcap live test payload\n"), 12000)
		for len(data) > 0 {
			n := min(4000, len(data))
			if _, err := c.Write(data[:n]); err != nil {
				return
			}
			data = data[n:]
		}
	})
	tlsListen(portUntrusted, "untrusted", func(c *tls.Conn) { c.Handshake() })
	tlsListen(portBigRecord, "big", func(c *tls.Conn) { c.Handshake() })
	resetListen(portReset, 0)
	resetListen(portSlowReset, 1500*time.Millisecond)
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin) // until the test closes stdin
}

// acceptAll serves each connection of l in its own goroutine.
func acceptAll(l net.Listener, serve func(net.Conn)) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go serve(c)
	}
}

// espConn is the device's end of a connection, as an mbedTLS client with
// CONFIG_MBEDTLS_SSL_IN_CONTENT_LEN = limit behaves on the wire: a record
// longer than its input buffer ends the handshake without an alert
// (-0x7100), and an untrusted chain is answered with alert unknown_ca (48)
// where Go's client says bad_certificate (42).
type espConn struct {
	net.Conn
	limit int
	hdr   []byte // a record header read in part
	left  int    // bytes of the current record still to come
}

func (c *espConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	for b := p[:n]; len(b) > 0; {
		if c.left > 0 {
			k := min(c.left, len(b))
			c.left, b = c.left-k, b[k:]
			continue
		}
		k := min(5-len(c.hdr), len(b))
		c.hdr, b = append(c.hdr, b[:k]...), b[k:]
		if len(c.hdr) == 5 {
			c.left, c.hdr = int(c.hdr[3])<<8|int(c.hdr[4]), c.hdr[:0]
			if c.left > c.limit {
				return 0, fmt.Errorf("a record of %d bytes does not fit the %d-byte input buffer", c.left, c.limit)
			}
		}
	}
	return n, err
}

func (c *espConn) Write(p []byte) (int, error) {
	if len(p) == 7 && p[0] == 21 && p[3] == 0 && p[4] == 2 && p[5] == 2 && p[6] == 42 {
		q := append([]byte(nil), p...)
		q[6] = 48
		return c.Conn.Write(q)
	}
	return c.Conn.Write(p)
}

// espDial connects to the namespace's server on port as the device: TLS 1.2,
// trusting the CA in caFile, with a 4096-byte input buffer. It returns
// the bytes read after the handshake, or the handshake's error.
func espDial(t *testing.T, port, caFile string) (int64, error) {
	t.Helper()
	pool := x509.NewCertPool()
	caPEM, _ := os.ReadFile(caFile)
	pool.AppendCertsFromPEM(caPEM)
	raw, err := net.DialTimeout("tcp", nsServerIP+":"+port, 5*time.Second)
	if err != nil {
		return 0, err
	}
	raw.SetDeadline(time.Now().Add(10 * time.Second))
	c := tls.Client(&espConn{Conn: raw, limit: 4096}, &tls.Config{RootCAs: pool, ServerName: "device.test", MaxVersion: tls.VersionTLS12})
	defer c.Close()
	if err := c.Handshake(); err != nil {
		return 0, err
	}
	return io.Copy(io.Discard, c)
}

// startNamespaceServer runs TestLiveHelperServer in the namespace.
func startNamespaceServer(t *testing.T, dir string) {
	srv := exec.Command("ip", "netns", "exec", os.Getenv("TLSPCAP_TEST_NS"), os.Args[0], "-test.run=^TestLiveHelperServer$", "-test.v")
	srv.Env = append(os.Environ(), "TLSPCAP_LIVE_SERVER="+dir, "TLSPCAP_TEST_SUBNET="+nsSubnet)
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
}

// liveJSON is live --format json's output: the connections as they were
// decided, then the summary.
type liveJSON struct {
	conns   []jsonConn
	summary *struct {
		Capture struct {
			Frames int `json:"frames"`
		} `json:"capture"`
		Connections []jsonConn `json:"connections"`
	}
	kernelPackets, kernelDrops *int64
	files                      []string
}

func parseLiveJSON(t *testing.T, out string) liveJSON {
	t.Helper()
	var l liveJSON
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var v struct {
			Connection    *jsonConn       `json:"connection"`
			Summary       json.RawMessage `json:"summary"`
			KernelPackets *int64          `json:"kernel_packets"`
			KernelDrops   *int64          `json:"kernel_drops"`
			Files         []string        `json:"files"`
		}
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("not JSON lines: %v\n%s", err, line)
		}
		if v.Connection != nil {
			l.conns = append(l.conns, *v.Connection)
		}
		if v.Summary != nil {
			if err := json.Unmarshal(v.Summary, &l.summary); err != nil {
				t.Fatal(err)
			}
			l.kernelPackets, l.kernelDrops, l.files = v.KernelPackets, v.KernelDrops, v.Files
		}
	}
	return l
}

// goLive runs tlspcap live with args in the background: its stdout,
// stderr, and its exit code when it ends.
func goLive(args ...string) (out, errb *syncBuffer, done chan int) {
	out, errb, done = &syncBuffer{}, &syncBuffer{}, make(chan int, 1)
	go func() {
		done <- run(append([]string{"live"}, args...), strings.NewReader(""), out, errb)
	}()
	return out, errb, done
}

// TestLiveInterfaceGone: the veth live captures on is deleted mid-run:
// live ends at once with the summary of what it read, a complete pcapng
// holding every packet read, and an error saying what happened (exit 2).
func TestLiveInterfaceGone(t *testing.T) {
	host := makeNamespace(t)
	dir := t.TempDir()
	caFile := writeCerts(t, dir)
	startNamespaceServer(t, dir)

	pcap := filepath.Join(dir, "gone.pcapng")
	out, errb, done := goLive("-i", host, "--duration", "60s", "--write", pcap, "--ca", caFile, "--in-content-len", "4096",
		"--format", "json", "tcp", "and", "(port", portHealthy, "or", "port", portReset+")")
	time.Sleep(500 * time.Millisecond) // the socket is open
	if n, err := espDial(t, portHealthy, caFile); err != nil || n != 312000 {
		t.Errorf("healthy connection: read %d bytes, %v", n, err)
	}
	if _, err := espDial(t, portReset, caFile); err == nil {
		t.Errorf("port %s: the handshake succeeded", portReset)
	}
	time.Sleep(300 * time.Millisecond)
	sh(t, "ip", "link", "del", host)
	var code int
	select {
	case code = <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("live still running 10 s after %s was deleted:\n%s", host, errb.String())
	}
	if code != exitUsage {
		t.Errorf("exit %d, want 2", code)
	}
	m := regexp.MustCompile(`tlspcap: interface ` + host + ` went away at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC: (\d+) packets read; the capture written so far is complete \(` + regexp.QuoteMeta(pcap) + `\)\n$`).FindStringSubmatch(errb.String())
	if m == nil {
		t.Fatalf("stderr %q", errb.String())
	}
	live := parseLiveJSON(t, out.String())
	if live.summary == nil {
		t.Fatalf("no summary:\n%s", out.String())
	}
	want := map[string]string{
		nsServerIP + ":" + portHealthy: "[ok ]",
		nsServerIP + ":" + portReset:   "[failed server-reset]",
	}
	if g := verdicts(t, live.summary.Connections); fmt.Sprint(g) != fmt.Sprint(want) {
		t.Errorf("summary: %v, want %v", g, want)
	}
	if m[1] != fmt.Sprint(live.summary.Capture.Frames) {
		t.Errorf("message says %s packets, the summary %d frames", m[1], live.summary.Capture.Frames)
	}
	// The file is complete: gopacket's reader takes every packet read.
	f, err := os.Open(pcap)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ng, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		if _, _, err := ng.ReadPacketData(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("%s after %d packets: %v", pcap, n, err)
		}
		n++
	}
	if n != live.summary.Capture.Frames || n < 20 {
		t.Errorf("%s holds %d packets, live read %d", pcap, n, live.summary.Capture.Frames)
	}
}

// TestLiveNamespace captures, on the host's end of the veth pair, a
// healthy connection and three failing ones (server RST, untrusted chain,
// a record too big for a 4096-byte buffer), into pcapng files rotated at
// 64 KiB: each verdict must be printed as its connection ends, the files
// must each be valid, and analyze over them in order must agree.
func TestLiveNamespace(t *testing.T) {
	host := makeNamespace(t)
	dir := t.TempDir()
	caFile := writeCerts(t, dir)
	startNamespaceServer(t, dir)

	pcap := filepath.Join(dir, "f.pcapng")
	filter := "tcp and (port 443 or port 444 or port 445 or port 446)"
	var out, errb syncBuffer
	done := make(chan int)
	go func() {
		done <- run(append([]string{"live", "-i", host, "--duration", "15s", "--write", pcap, "--rotate", "64KiB",
			"--ca", caFile, "--in-content-len", "4096", "--format", "json"}, strings.Fields(filter)...), strings.NewReader(""), &out, &errb)
	}()
	time.Sleep(500 * time.Millisecond) // the socket is open

	if n, err := espDial(t, portHealthy, caFile); err != nil || n != 312000 {
		t.Errorf("healthy connection: read %d bytes, %v", n, err)
	}
	for _, port := range []string{portReset, portUntrusted, portBigRecord} {
		if _, err := espDial(t, port, caFile); err == nil {
			t.Errorf("port %s: the handshake succeeded", port)
		} else {
			t.Logf("port %s: the client says: %v", port, err)
		}
	}
	// Traffic the filter must keep out: a ping does not show.
	exec.Command("ping", "-c", "1", "-W", "1", nsServerIP).Run()

	want := map[string]string{
		nsServerIP + ":" + portHealthy:   "[ok ]",
		nsServerIP + ":" + portReset:     "[failed server-reset]",
		nsServerIP + ":" + portUntrusted: "[failed chain-untrusted]",
		nsServerIP + ":" + portBigRecord: "[failed record-exceeds-device-buffer]",
	}
	// Every verdict comes while the capture is still running (15 s: room
	// for a slow machine).
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(out.String(), `"connection"`) < len(want) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	select {
	case <-done:
		t.Fatalf("live ended before --duration:\n%s\n%s", out.String(), errb.String())
	default:
	}
	if g := verdicts(t, parseLiveJSON(t, out.String()).conns); fmt.Sprint(g) != fmt.Sprint(want) {
		t.Errorf("verdicts streamed while capturing: %v, want %v", g, want)
	}
	var code int
	select {
	case code = <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("live did not stop after --duration:\n%s\n%s", out.String(), errb.String())
	}
	if code != exitFailed {
		t.Errorf("exit %d, want 1; stderr %s", code, errb.String())
	}
	live := parseLiveJSON(t, out.String())
	if live.summary == nil {
		t.Fatalf("no summary:\n%s", out.String())
	}
	if g := verdicts(t, live.summary.Connections); fmt.Sprint(g) != fmt.Sprint(want) {
		t.Errorf("summary: %v, want %v", g, want)
	}
	if live.kernelPackets == nil || live.kernelDrops == nil || *live.kernelPackets < int64(live.summary.Capture.Frames) {
		t.Errorf("kernel counters %v %v for %d frames", live.kernelPackets, live.kernelDrops, live.summary.Capture.Frames)
	} else {
		t.Logf("kernel: %d packets, %d dropped; %d frames", *live.kernelPackets, *live.kernelDrops, live.summary.Capture.Frames)
	}

	// The rotated files: named in order, each a complete capture of at
	// most 64 KiB (or one packet), together every frame once.
	if len(live.files) < 3 {
		t.Fatalf("files %v: want the 312 KB transfer rotated over several 64 KiB files", live.files)
	}
	all, counts, total := readRotated(t, pcap, live.files, func(f string, b []byte) int {
		return checkPcapngFile(t, f, b, host, filter)
	})
	t.Logf("%d files, %d packets", len(live.files), total)
	checkWireshark(t, live.files, counts, all)
	if total != live.summary.Capture.Frames {
		t.Errorf("the files hold %d packets, live saw %d frames", total, live.summary.Capture.Frames)
	}

	// analyze over the files in order (cat F F-1 F-2 ... | tlspcap
	// analyze -) agrees, frame for frame.
	var aout, aerr bytes.Buffer
	run([]string{"analyze", "--format", "json", "--ca", caFile, "--in-content-len", "4096", "-"}, bytes.NewReader(all), &aout, &aerr)
	var rep struct {
		Capture struct {
			Frames int `json:"frames"`
		} `json:"capture"`
		Connections []jsonConn `json:"connections"`
	}
	if err := json.Unmarshal(aout.Bytes(), &rep); err != nil {
		t.Fatalf("analyze on the files: %v %s", err, aerr.String())
	}
	if g := verdicts(t, rep.Connections); fmt.Sprint(g) != fmt.Sprint(want) || rep.Capture.Frames != total {
		t.Errorf("analyze on the files: %v over %d frames, want %v over %d", g, rep.Capture.Frames, want, total)
	}
	for i, c := range rep.Connections {
		if i < len(live.summary.Connections) && fmt.Sprint(c.Findings) != fmt.Sprint(live.summary.Connections[i].Findings) {
			t.Errorf("stream %d: analyze %v, live %v", c.Stream, c.Findings, live.summary.Connections[i].Findings)
		}
	}
	// The same bytes streamed through live -r - give the same verdicts.
	var jout, jerr bytes.Buffer
	run([]string{"live", "-r", "-", "--format", "json", "--ca", caFile, "--in-content-len", "4096"}, bytes.NewReader(all), &jout, &jerr)
	if g := verdicts(t, parseLiveJSON(t, jout.String()).conns); fmt.Sprint(g) != fmt.Sprint(want) {
		t.Errorf("live -r - on the files: %v, want %v", g, want)
	}
}

// readRotated reads the files of a capture written with --rotate 64KiB:
// each must have its predicted name and, unless it holds one packet, at
// most 64 KiB; packets counts each one's packets. It returns the files
// concatenated, the counts and their total.
func readRotated(t *testing.T, pcap string, files []string, packets func(name string, b []byte) int) (all []byte, counts []int, total int) {
	t.Helper()
	for i, f := range files {
		if want := capture.RotatedName(pcap, i); f != want {
			t.Errorf("file %d is %s, want %s", i, f, want)
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		n := packets(f, b)
		if len(b) > 64<<10 && n > 1 {
			t.Errorf("%s: %d bytes, %d packets: over --rotate 64KiB", f, len(b), n)
		}
		counts = append(counts, n)
		total += n
		all = append(all, b...)
	}
	return all, counts, total
}

// checkWireshark reads the files with Wireshark's tools when installed:
// capinfos reads each file alone to the same packet count, tshark reads
// them concatenated (one multi-section pcapng) to the total.
func checkWireshark(t *testing.T, files []string, counts []int, all []byte) {
	t.Helper()
	if _, err := exec.LookPath("capinfos"); err != nil {
		t.Log("capinfos not installed: the files were checked with our reader and gopacket's only")
	} else {
		out, err := exec.Command("capinfos", append([]string{"-M", "-t", "-c"}, files...)...).Output()
		var got []int
		for _, l := range strings.Split(string(out), "\n") {
			var n int
			if _, err := fmt.Sscanf(l, "Number of packets: %d", &n); err == nil {
				got = append(got, n)
			}
		}
		if err != nil || fmt.Sprint(got) != fmt.Sprint(counts) || strings.Count(string(out), "pcapng") < len(files) {
			t.Errorf("capinfos: %v: packets %v, want %v\n%s", err, got, counts, out)
		}
	}
	if _, err := exec.LookPath("tshark"); err != nil {
		return
	}
	cmd := exec.Command("tshark", "-r", "-", "-T", "fields", "-e", "frame.number")
	cmd.Stdin = bytes.NewReader(all)
	out, err := cmd.Output()
	total := 0
	for _, n := range counts {
		total += n
	}
	if lines := strings.Fields(string(out)); err != nil || len(lines) != total {
		t.Errorf("tshark over the files in order: %v, %d frames, want %d", err, len(lines), total)
	}
}

// checkPcapngFile checks one written file: it reads alone, names the tool,
// the interface and the filter, holds only TCP of the test's ports and
// cuts no frame. It returns the number of packets.
func checkPcapngFile(t *testing.T, name string, b []byte, iface, filter string) int {
	t.Helper()
	for _, s := range []string{"tlspcap " + version, iface, filter} {
		if !bytes.Contains(b, []byte(s)) {
			t.Errorf("%s has no %q", name, s)
		}
	}
	r, err := pcapgo.NewNgReader(bytes.NewReader(b), pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	n, biggest := 0, 0
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Errorf("%s: packet %d: %v", name, n+1, err)
			break
		}
		n++
		pkt := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.NoCopy)
		if tcp, ok := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP); !ok {
			t.Errorf("%s: the filter let through a packet that is not TCP: %v", name, pkt)
		} else if p := min(tcp.SrcPort, tcp.DstPort); p < 443 || p > 446 {
			t.Errorf("%s: the filter let through TCP port %d", name, p)
		}
		if ci.CaptureLength != ci.Length {
			t.Errorf("%s: frame cut: %d of %d bytes", name, ci.CaptureLength, ci.Length)
		}
		biggest = max(biggest, ci.Length)
	}
	t.Logf("%s: %d bytes, %d packets, largest frame %d bytes", filepath.Base(name), len(b), n, biggest)
	return n
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

// TestLiveNamespaceDrops: with the smallest kernel ring (--buffer 128KiB)
// and parallel downloads while a failing connection waits for its RST,
// the kernel drops packets; the summary counts them and the failing
// connection open meanwhile carries capture-kernel-drops.
func TestLiveNamespaceDrops(t *testing.T) {
	host := makeNamespace(t)
	dir := t.TempDir()
	caFile := writeCerts(t, dir)
	startNamespaceServer(t, dir)

	written := filepath.Join(dir, "drops.pcapng")
	out, errb, done := goLive("-i", host, "--duration", "10s", "--buffer", "128KiB", "--ca", caFile, "--in-content-len", "4096",
		"--write", written, "--format", "json", "tcp", "and", "(port", "443", "or", "port", "447)")
	time.Sleep(500 * time.Millisecond) // the socket is open
	slow := make(chan error)
	go func() {
		_, err := espDial(t, portSlowReset, caFile)
		slow <- err
	}()
	time.Sleep(200 * time.Millisecond) // its ClientHello is out
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			espDial(t, portHealthy, caFile)
		}()
	}
	wg.Wait()
	if err := <-slow; err == nil {
		t.Errorf("handshake with the slowly resetting server succeeded")
	}
	code := <-done
	live := parseLiveJSON(t, out.String())
	if live.summary == nil || live.kernelDrops == nil {
		t.Fatalf("exit %d, no summary with kernel counters:\n%s\n%s", code, out.String(), errb.String())
	}
	t.Logf("kernel: %d packets, %d dropped; %d frames", *live.kernelPackets, *live.kernelDrops, live.summary.Capture.Frames)
	if got := int64(live.summary.Capture.Frames) + *live.kernelDrops; got != *live.kernelPackets {
		t.Errorf("%d frames + %d dropped = %d, kernel says %d packets", live.summary.Capture.Frames, *live.kernelDrops, got, *live.kernelPackets)
	}
	var slowConn *jsonConn
	for i, c := range live.summary.Connections {
		if c.Server == nsServerIP+":"+portSlowReset {
			slowConn = &live.summary.Connections[i]
		}
	}
	if slowConn == nil {
		t.Fatalf("no connection to port %s in %v", portSlowReset, verdicts(t, live.summary.Connections))
	}
	t.Logf("port %s: %v", portSlowReset, verdicts(t, []jsonConn{*slowConn}))
	has := false
	for _, f := range slowConn.Findings {
		has = has || f.ID == "capture-kernel-drops"
	}
	// The drop readings are in the written file between the same packets:
	// analyze on it gives live's findings, drops included, at the same frames.
	var aout, aerr bytes.Buffer
	run([]string{"analyze", "--format", "json", "--ca", caFile, "--in-content-len", "4096", written}, nil, &aout, &aerr)
	var rep struct {
		Connections []jsonConn `json:"connections"`
	}
	if err := json.Unmarshal(aout.Bytes(), &rep); err != nil {
		t.Fatalf("analyze %s: %v %s", written, err, aerr.String())
	}
	if a, l := allFindings(rep.Connections), allFindings(live.summary.Connections); fmt.Sprint(a) != fmt.Sprint(l) {
		t.Errorf("analyze on the written file:\n%v\nlive:\n%v", a, l)
	}
	switch {
	case *live.kernelDrops == 0:
		t.Skip("the kernel dropped nothing here, even with a 128 KiB ring: capture-kernel-drops not checked on a live capture")
	case slowConn.Outcome != "failed" || !has:
		t.Errorf("%d packets dropped while the connection to port %s was open: %s %v, want failed with capture-kernel-drops",
			*live.kernelDrops, portSlowReset, slowConn.Outcome, slowConn.Findings)
	}
}

// TestLiveRotateStream: ground-truth captures streamed one after another
// through live -r - with --write and --rotate 64KiB: the files are named
// in order, each complete on its own and within the size, and together
// hold every frame once; analyze over them in order gives live's report.
func TestLiveRotateStream(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/pcaps/*.pcapng")
	if len(files) < 10 {
		t.Skip("too few captures in testdata/pcaps")
	}
	var stream []byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		stream = append(stream, b...) // pcapng sections follow each other
	}
	pcap := filepath.Join(t.TempDir(), "cap.pcapng")
	var out, errb bytes.Buffer
	code := run([]string{"live", "-r", "-", "--format", "json", "--write", pcap, "--rotate", "64KiB"}, bytes.NewReader(stream), &out, &errb)
	live := parseLiveJSON(t, out.String())
	if live.summary == nil {
		t.Fatalf("exit %d, no summary: %s", code, errb.String())
	}
	if want := len(stream)/(64<<10) + 1; len(live.files) < want {
		t.Errorf("%d bytes in %d files, want at least %d", len(stream), len(live.files), want)
	}
	all, counts, total := readRotated(t, pcap, live.files, func(f string, b []byte) int {
		if !bytes.Contains(b, []byte("tlspcap "+version)) || !bytes.Contains(b, []byte("stdin")) {
			t.Errorf("%s: the section header does not name tlspcap %s and the interface", f, version)
		}
		// Each file alone is a capture analyze reads to its end (the
		// captures streamed have their own quirks: clock steps between
		// them, snap-length cuts, duplicates).
		var fo, fe bytes.Buffer
		run([]string{"analyze", "--format", "json", f}, nil, &fo, &fe)
		var rep struct {
			Capture struct {
				Frames int `json:"frames"`
			} `json:"capture"`
			Findings []struct {
				ID string `json:"id"`
			} `json:"findings"`
		}
		if err := json.Unmarshal(fo.Bytes(), &rep); err != nil || rep.Capture.Frames == 0 || strings.Contains(fmt.Sprint(rep.Findings), "capture-file-truncated") {
			t.Errorf("analyze %s: %v, %d frames, findings %v %s", f, err, rep.Capture.Frames, rep.Findings, fe.String())
		}
		return rep.Capture.Frames
	})
	if total != live.summary.Capture.Frames {
		t.Errorf("the files hold %d frames, live read %d", total, live.summary.Capture.Frames)
	}
	checkWireshark(t, live.files, counts, all)
	var aout, aerr bytes.Buffer
	acode := run([]string{"analyze", "--format", "json", "-"}, bytes.NewReader(all), &aout, &aerr)
	var rep struct {
		Capture struct {
			Frames int `json:"frames"`
		} `json:"capture"`
		Connections []jsonConn `json:"connections"`
	}
	if err := json.Unmarshal(aout.Bytes(), &rep); err != nil {
		t.Fatalf("analyze over the files: %v %s", err, aerr.String())
	}
	a, l := fmt.Sprint(verdicts(t, rep.Connections)), fmt.Sprint(verdicts(t, live.summary.Connections))
	if a != l || acode != code || rep.Capture.Frames != total {
		t.Errorf("analyze over the files (exit %d, %d frames): %s\nlive (exit %d): %s", acode, rep.Capture.Frames, a, code, l)
	}
	t.Logf("%d captures, %d bytes: %d files, %d frames, %d connections", len(files), len(stream), len(live.files), total, len(rep.Connections))
}

// TestReleaseBuildMipsle builds the binary an OpenWrt AP runs (make
// release's linux/mipsle: soft float, no cgo), live capture included, and
// checks it is a static little-endian MIPS executable. The first run
// compiles the standard library for mipsle: skipped with -short.
func TestReleaseBuildMipsle(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the linux/mipsle build is not checked")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("go not on PATH: the linux/mipsle build is not checked: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "tlspcap-linux-mipsle")
	cmd := exec.Command(gobin, "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=mipsle", "GOMIPS=softfloat")
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("GOOS=linux GOARCH=mipsle GOMIPS=softfloat go build: %v\n%s", err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != elf.EM_MIPS || f.Data != elf.ELFDATA2LSB || f.Class != elf.ELFCLASS32 {
		t.Errorf("%s: %v %v %v, want 32-bit little-endian MIPS", bin, f.Class, f.Data, f.Machine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("%s is not static: it has a %v program header", bin, p.Type)
		}
	}
	fi, _ := os.Stat(bin)
	t.Logf("linux/mipsle: %d bytes, built in %v", fi.Size(), time.Since(start).Round(time.Second))
}
