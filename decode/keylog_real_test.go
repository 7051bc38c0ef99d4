package decode

import (
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"tlspcap/capture"
)

// The captures in testdata/keylog were made by real programs with their
// key logs (testdata/keylog/make.sh): what they sent is known, so the
// decrypted application data is compared byte for byte.

// plainConn is what one connection of a capture revealed.
type plainConn struct {
	data       [2][]string // decrypted application data records, per direction
	records    int         // decrypted records
	protected  int         // records marked Encrypted
	handshakes []string    // decrypted handshake messages, "C:Finished"
	alerts     []string
	errors     []string
	kd         *keyState
}

// plainCollector is decryptCollector (its key log, the secrets blocks)
// with one plainConn per connection.
type plainCollector struct {
	decryptCollector
	conns []*plainConn
}

func (h *plainCollector) Conn(*capture.Conn) capture.ConnHandler {
	pc := &plainConn{}
	h.conns = append(h.conns, pc)
	dec := NewConn(pc.event)
	dec.SetKeyLog(h.keys)
	dec.kd.plaintext = func(dir capture.Dir, p []byte) { pc.data[dir] = append(pc.data[dir], string(p)) }
	pc.kd = dec.kd
	return &decryptConn{dec: dec}
}

func (pc *plainConn) event(ev Event) {
	switch e := ev.(type) {
	case *Record:
		if e.Encrypted {
			pc.protected++
		}
		if e.Decrypted {
			pc.records++
		}
	case *Handshake:
		if e.Decrypted {
			pc.handshakes = append(pc.handshakes, dirLetter(e.Dir)+":"+HandshakeTypeName(e.Type))
		}
	case *Alert:
		if e.Decrypted {
			pc.alerts = append(pc.alerts, dirLetter(e.Dir)+":"+AlertName(e.Description))
		}
	case *DecodeError:
		pc.errors = append(pc.errors, e.Detail)
	}
}

// joined is the direction's decrypted application data as one string
// (records of zero length, TLS 1.0's empty fragments, add nothing).
func (pc *plainConn) joined(dir capture.Dir) string { return strings.Join(pc.data[dir], "") }

func (pc *plainConn) String() string {
	return fmt.Sprintf("decrypted %d of %d protected records; handshakes %v; alerts %v; errors %q; client data %q; server data %q",
		pc.records, pc.protected, pc.handshakes, pc.alerts, pc.errors, pc.data[capture.FromClient], pc.data[capture.FromServer])
}

// readPlain reads a capture of testdata/keylog with the key logs given
// (file names in testdata/keylog).
func readPlain(t *testing.T, pcap string, keylogs ...string) []*plainConn {
	t.Helper()
	h := &plainCollector{decryptCollector: decryptCollector{keys: NewKeyLog()}}
	for _, k := range keylogs {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "keylog", k))
		if err != nil {
			t.Fatal(err)
		}
		if h.keys.Add(b) == 0 {
			t.Fatalf("%s: no secrets", k)
		}
	}
	if _, err := capture.ReadFile(filepath.Join("..", "testdata", "keylog", pcap), h, capture.Options{}); err != nil {
		t.Fatal(err)
	}
	return h.conns
}

// reversed is what openssl s_server -rev answers to a line: the line
// without its end (CR LF or LF) reversed, then LF.
func reversed(line string) string {
	r := []byte(strings.TrimRight(line, "\r\n"))
	slices.Reverse(r)
	return string(r) + "\n"
}

// TestDecryptTLS10And11: openssl s_client and s_server with TLS 1.0
// (ECDHE-RSA-AES128-SHA: MD5 ⊕ SHA-1 PRF, IV chained across records,
// empty fragments before data) and TLS 1.1 (AES256-SHA: explicit IVs), and
// Debian's mbedTLS 2.28.3 ssl_client2 with TLS 1.0 and its own key log.
func TestDecryptTLS10And11(t *testing.T) {
	for _, c := range []struct {
		name, client, server string
	}{
		{"tls10-ecdhe-aes128-sha", "ping over TLS 1.0\n", reversed("ping over TLS 1.0\n")},
		{"tls11-aes256-sha", "ping over TLS 1.1\n", reversed("ping over TLS 1.1\n")},
		// ssl_client2 sends "GET /ping-from-mbedtls HTTP/1.0\r\nExtra-header: \r\n\r\n";
		// s_server -rev answers its first line.
		{"tls10-mbedtls228", "GET /ping-from-mbedtls HTTP/1.0\r\nExtra-header: \r\n\r\n", reversed("GET /ping-from-mbedtls HTTP/1.0\r\n")},
	} {
		t.Run(c.name, func(t *testing.T) {
			conns := readPlain(t, c.name+".pcapng", c.name+".keys")
			if len(conns) != 1 {
				t.Fatalf("%d connections", len(conns))
			}
			pc := conns[0]
			t.Logf("%s", pc)
			if pc.records == 0 || pc.records != pc.protected || len(pc.errors) != 0 {
				t.Errorf("want every protected record decrypted, no errors: %s", pc)
			}
			if got := strings.Join(pc.handshakes, " "); got != "C:Finished S:Finished" {
				t.Errorf("decrypted handshakes %q", got)
			}
			if got := pc.joined(capture.FromClient); got != c.client {
				t.Errorf("client sent %q, decrypted %q", c.client, got)
			}
			if got := pc.joined(capture.FromServer); !strings.HasPrefix(got, c.server) {
				t.Errorf("server sent %q first, decrypted %q", c.server, got)
			}
			// A key log with one bit of the master secret changed: the
			// first record does not decrypt, and the connection says so.
			kl, _ := os.ReadFile(filepath.Join("..", "testdata", "keylog", c.name+".keys"))
			bad := flipSecretBit(t, kl, "CLIENT_RANDOM ")
			keys := NewKeyLog()
			keys.Add(bad)
			h := &plainCollector{decryptCollector: decryptCollector{keys: keys}}
			if _, err := capture.ReadFile(filepath.Join("..", "testdata", "keylog", c.name+".pcapng"), h, capture.Options{}); err != nil {
				t.Fatal(err)
			}
			if w := h.conns[0]; w.records != 0 || len(w.errors) != 1 || !strings.Contains(w.errors[0], "does not decrypt") {
				t.Errorf("wrong master secret: %s", w)
			}
		})
	}
}

// flipSecretBit changes the last hex digit of the secret on the first
// line starting with label.
func flipSecretBit(t *testing.T, kl []byte, label string) []byte {
	t.Helper()
	lines := strings.SplitAfter(string(kl), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, label) {
			b := []byte(strings.TrimRight(l, "\r\n"))
			j := len(b) - 1
			if b[j] == '0' {
				b[j] = '1'
			} else {
				b[j] = '0'
			}
			lines[i] = string(b) + "\n"
			return []byte(strings.Join(lines, ""))
		}
	}
	t.Fatalf("no %s line", label)
	return nil
}

// TestPRF10 checks the TLS 1.0 PRF against OpenSSL's (openssl kdf
// -keylen 40 -kdfopt digest:MD5-SHA1 ... TLS1-PRF): an 11-byte secret,
// whose halves share a byte, and a 48-byte master secret with the key
// expansion label.
func TestPRF10(t *testing.T) {
	master, _ := hex.DecodeString("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f")
	for _, c := range []struct {
		secret []byte
		label  string
		seed   []byte
		want   string
	}{
		{[]byte("0123456789a"), "label", []byte("seed"), "c01a31f357bffed1831502d22d45d9afb4054cd4c412f6300a7a73949b92bcd833f48e1e53fddf44"},
		{master, "key expansion", []byte{0xaa, 0xbb, 0xcc, 0xdd}, "5db52e9da94124b1d65988f5d3b6505c4f21be63824b996fc927342fcb3f809d8be5442e6df330e2"},
	} {
		if got := hex.EncodeToString(prf10(c.secret, c.label, c.seed, 40)); got != c.want {
			t.Errorf("prf10(%x, %q) = %s, want %s", c.secret, c.label, got, c.want)
		}
	}
}

// TestDecryptEarlyData: openssl s_client resumes a session with 0-RTT data
// ("early data line\n"), then sends "after the handshake\n".
//   - accepted: the early data, EndOfEarlyData and the rest decrypt, with
//     the client's key log and with the server's (both hold the
//     CLIENT_EARLY_TRAFFIC_SECRET);
//   - rejected (a new server process that cannot read the ticket): the
//     client's key log still opens the 0-RTT record; the server's key log
//     has no early secret, and the record is skipped by trial decryption as
//     the server skipped it, with no key problem reported.
func TestDecryptEarlyData(t *testing.T) {
	const early, later = "early data line\n", "after the handshake\n"
	for _, c := range []struct {
		pcap, keys string
		data       string // the client's decrypted application data, connection 2
		eoed       bool   // EndOfEarlyData decrypted
		skipped    int    // client records left encrypted
	}{
		{"tls13-early-accepted", "tls13-early-accepted.keys", early + later, true, 0},
		{"tls13-early-accepted", "tls13-early-accepted.server.keys", early + later, true, 0},
		{"tls13-early-rejected", "tls13-early-rejected.keys", early + later, false, 0},
		{"tls13-early-rejected", "tls13-early-rejected.server.keys", later, false, 1},
	} {
		t.Run(c.keys, func(t *testing.T) {
			conns := readPlain(t, c.pcap+".pcapng", c.keys)
			if len(conns) != 2 {
				t.Fatalf("%d connections", len(conns))
			}
			first, pc := conns[0], conns[1]
			t.Logf("connection 1: %s", first)
			t.Logf("connection 2: %s", pc)
			if first.joined(capture.FromClient) != "first connection\n" || len(first.errors) != 0 || first.records != first.protected {
				t.Errorf("first connection: %s", first)
			}
			if got := pc.joined(capture.FromClient); got != c.data {
				t.Errorf("client data %q, want %q", got, c.data)
			}
			if len(pc.errors) != 0 {
				t.Errorf("key problems reported: %q", pc.errors)
			}
			// In capture order the 0-RTT record comes before the
			// ServerHello: without early keys it is never tried.
			if pc.protected-pc.records != c.skipped || pc.kd.skippedEarly != 0 {
				t.Errorf("%d of %d protected records decrypted, %d skipped as early data; want %d left encrypted",
					pc.records, pc.protected, pc.kd.skippedEarly, c.skipped)
			}
			if got := slices.Contains(pc.handshakes, "C:EndOfEarlyData"); got != c.eoed {
				t.Errorf("EndOfEarlyData decrypted: %v, want %v (%v)", got, c.eoed, pc.handshakes)
			}
			if !slices.Contains(pc.handshakes, "S:EncryptedExtensions") || !slices.Contains(pc.handshakes, "C:Finished") {
				t.Errorf("handshake not decrypted: %v", pc.handshakes)
			}
		})
	}
	// The server's flight read before the client's 0-RTT record (as when
	// the capture point is nearer the server): the record meets the
	// handshake keys, does not open, and is skipped, not reported.
	t.Run("server first", func(t *testing.T) {
		pays := payloads(t, "tls13-early-rejected.pcapng")[1]
		keys := NewKeyLog()
		b, _ := os.ReadFile(filepath.Join("..", "testdata", "keylog", "tls13-early-rejected.server.keys"))
		keys.Add(b)
		pc := &plainConn{}
		dec := NewConn(pc.event)
		dec.SetKeyLog(keys)
		dec.kd.plaintext = func(dir capture.Dir, p []byte) { pc.data[dir] = append(pc.data[dir], string(p)) }
		// The ClientHello record, then the server's bytes, then the
		// client's rest.
		if pays[0].Dir != capture.FromClient || len(pays[0].Data) < 5 {
			t.Fatal("the connection does not start with the client's payload")
		}
		chLen := 5 + (int(pays[0].Data[3])<<8 | int(pays[0].Data[4]))
		ch, rest := splitPayload(pays[0], chLen)
		order := []capture.Payload{ch}
		for _, p := range pays[1:] {
			if p.Dir == capture.FromServer {
				order = append(order, p)
			}
		}
		if len(rest.Data) > 0 {
			order = append(order, rest)
		}
		for _, p := range pays[1:] {
			if p.Dir == capture.FromClient {
				order = append(order, p)
			}
		}
		for _, p := range order {
			dec.Payload(p.Dir, p.Data, p.Spans)
		}
		dec.End()
		t.Logf("%s", pc)
		if dec.kd.skippedEarly != 1 || len(pc.errors) != 0 || pc.joined(capture.FromClient) != later || pc.protected-pc.records != 1 {
			t.Errorf("skipped %d early records (want 1): %s", dec.kd.skippedEarly, pc)
		}
	})

	// Without the early secret and with a wrong handshake secret, the
	// server's records still report the wrong key.
	kl, err := os.ReadFile(filepath.Join("..", "testdata", "keylog", "tls13-early-accepted.server.keys"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.SplitAfter(string(kl), "\n") {
		if !strings.HasPrefix(l, "CLIENT_EARLY_TRAFFIC_SECRET ") {
			lines = append(lines, l)
		}
	}
	bad := flipSecretBit(t, []byte(strings.Join(lines, "")), "SERVER_HANDSHAKE_TRAFFIC_SECRET ")
	keys := NewKeyLog()
	keys.Add(bad)
	h := &plainCollector{decryptCollector: decryptCollector{keys: keys}}
	if _, err := capture.ReadFile(filepath.Join("..", "testdata", "keylog", "tls13-early-accepted.pcapng"), h, capture.Options{}); err != nil {
		t.Fatal(err)
	}
	if w := h.conns[0]; len(w.errors) != 1 || !strings.Contains(w.errors[0], "does not decrypt") {
		t.Errorf("wrong server handshake secret: %s", w)
	}
}

// payloads returns the payloads of each connection of a testdata/keylog
// capture, in capture order.
func payloads(t *testing.T, pcap string) [][]capture.Payload {
	t.Helper()
	h := &payloadCollector{}
	if _, err := capture.ReadFile(filepath.Join("..", "testdata", "keylog", pcap), h, capture.Options{}); err != nil {
		t.Fatal(err)
	}
	out := make([][]capture.Payload, len(h.conns))
	for i, c := range h.conns {
		out[i] = c.pays
	}
	return out
}

type payloadCollector struct{ conns []*payloadConn }
type payloadConn struct{ pays []capture.Payload }

func (h *payloadCollector) Conn(*capture.Conn) capture.ConnHandler {
	pc := &payloadConn{}
	h.conns = append(h.conns, pc)
	return pc
}
func (h *payloadCollector) DNS(*capture.DNSMessage) {}
func (h *payloadCollector) Problem(capture.Problem) {}
func (h *payloadCollector) Secrets(uint32, []byte)  {}
func (pc *payloadConn) TCP(capture.TCPEvent)        {}
func (pc *payloadConn) End(capture.EndReason)       {}
func (pc *payloadConn) Payload(p capture.Payload) {
	p.Data = slices.Clone(p.Data)
	p.Spans = slices.Clone(p.Spans)
	pc.pays = append(pc.pays, p)
}

// splitPayload cuts p after n bytes, its frame spans with it.
func splitPayload(p capture.Payload, n int) (a, b capture.Payload) {
	a = capture.Payload{Dir: p.Dir, Data: p.Data[:n]}
	b = capture.Payload{Dir: p.Dir, Data: p.Data[n:]}
	for _, s := range p.Spans {
		if lo, hi := s.Off, min(s.Off+s.Len, n); hi > lo {
			a.Spans = append(a.Spans, capture.Span{Frame: s.Frame, Off: lo, Len: hi - lo})
		}
		if lo, hi := max(s.Off, n), s.Off+s.Len; hi > lo {
			b.Spans = append(b.Spans, capture.Span{Frame: s.Frame, Off: lo - n, Len: hi - lo})
		}
	}
	return a, b
}

// TestDecryptPublicFinished: the public captures with key logs not covered
// by TestDecryptPublic decrypt without a key problem, and the Finished
// messages read equal the count MANIFEST.tsv records from tshark with the
// same keys ("tshark shows Finished xN with it", "tshark decrypts, Finished xN").
func TestDecryptPublicFinished(t *testing.T) {
	dir := sharedDir(t)
	manifest, err := os.ReadFile(filepath.Join(dir, "MANIFEST.tsv"))
	if err != nil {
		t.Skipf("MANIFEST.tsv: %v", err)
	}
	finished := map[string]int{}
	for _, line := range strings.Split(string(manifest), "\n") {
		path, rest, _ := strings.Cut(line, "\t")
		if m := reFinished.FindStringSubmatch(rest); m != nil {
			n, _ := strconv.Atoi(m[1])
			finished[path] = n
		}
	}
	for _, c := range []struct {
		pcap, keylog string
		all          bool // every protected record decrypts
	}{
		{"ssldump/tls1.2_aes256.pcap", "ssldump/log.txt", true},
		{"ssldump/tls1.3_aes128.pcap", "ssldump/log.txt", true},
		{"ssldump/tls1.3_aes256gcm.pcap", "ssldump/log.txt", true},
		{"ssldump/tls1.3_ccm.pcap", "ssldump/log.txt", true},
		{"ssldump/tls1.3_ccm8.pcap", "ssldump/log.txt", true},
		{"ssldump/tls1.3_chacha.pcap", "ssldump/log.txt", true},
		{"ssldump/tls1.3_curl_google.pcap", "ssldump/log.txt", true},
		{"ssldump/tls1.3_keyupdates_aes256.pcap", "ssldump/log.txt", true},
		{"ssldump/tls1.3_session_resumption.pcap", "ssldump/log.txt", true},
		// 21 connections; the key log covers the 16 whose Finished tshark reads.
		{"mercury/test_decrypt.pcap", "mercury/sslkeylogfile.log", false},
		{"scapy/tls_nss_example.pcap", "scapy/tls_nss_example.keys.txt", true},
		{"scapy/tls_tcp_frag_withnss.pcap.gz", "scapy/tls_tcp_frag_withnss.keylog.FROM-scapy-tls.uts.txt", true},
		{"zeek/tls/tls12-decryption.pcap", "zeek/tls/tls12-decryption.pcap.keylog.DERIVED-from-zeek-test.txt", true},
		{"zeek/tls/tls-1.2-stream-keylog.pcap", "zeek/tls/tls-1.2-stream-keylog.pcap.keylog.DERIVED-from-zeek-test.txt", true},
		{"hotplace/http/http2.pcapng", "hotplace/http/sslkeylog", true},
		{"hotplace/http/http2_trial.pcapng", "hotplace/http/sslkeylog", true},
		{"hotplace/http/curl_http1_tls12.pcapng", "hotplace/http/sslkeylog", true},
		{"hotplace/http/curl_http1_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256.pcapng", "hotplace/http/sslkeylog", true},
		{"illustrated-tls13/archive/capture.pcap", "illustrated-tls13/archive/keylog.txt", true},
		// Keys in the pcapng's Decryption Secrets Block.
		{"ja4/http2-with-cookies.pcapng", "", true},
	} {
		t.Run(c.pcap, func(t *testing.T) {
			want, ok := finished[c.pcap]
			if !ok {
				t.Fatalf("MANIFEST.tsv has no Finished count for %s", c.pcap)
			}
			var s decrypted
			if c.keylog == "" {
				s = decryptCapture(t, filepath.Join(dir, c.pcap))
			} else {
				s = decryptCapture(t, filepath.Join(dir, c.pcap), filepath.Join(dir, c.keylog))
			}
			t.Logf("%s", s)
			if got := s.handshakes["C:Finished"] + s.handshakes["S:Finished"]; got != want {
				t.Errorf("%d Finished decrypted, tshark reads %d", got, want)
			}
			if len(s.errors) != 0 || s.records == 0 || c.all && s.records != s.protected {
				t.Errorf("want every protected record decrypted and no errors: %s", s)
			}
		})
	}
}

var reFinished = regexp.MustCompile(`tshark (?:shows |decrypts,? )Finished x(\d+)`)
