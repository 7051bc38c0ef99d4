package decode

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"tlspcap/capture"
)

// decrypted sums up what a key log revealed in one capture.
type decrypted struct {
	records    int            // records with Decrypted set
	protected  int            // records marked Encrypted (decrypted or not)
	handshakes map[string]int // "S:Certificate" -> count, decrypted messages only
	alerts     []string       // decrypted alerts, "C:fatal bad_certificate"
	errors     []string       // DecodeError details
	kinds      []DecodeErrorKind
	inner      map[uint8]int // decrypted records per inner content type
	appData    []string      // decrypted application data: direction and plaintext length
}

type decryptCollector struct {
	keys *KeyLog
	sum  decrypted
}

type decryptConn struct{ dec *Conn }

func (h *decryptCollector) Conn(c *capture.Conn) capture.ConnHandler {
	dc := &decryptConn{}
	dc.dec = NewConn(h.event)
	dc.dec.SetKeyLog(h.keys)
	return dc
}
func (h *decryptCollector) DNS(*capture.DNSMessage) {}
func (h *decryptCollector) Problem(capture.Problem) {}
func (h *decryptCollector) Secrets(typ uint32, data []byte) {
	if typ == capture.SecretsTLSKeyLog {
		h.keys.Add(data)
	}
}

func (h *decryptCollector) event(ev Event) {
	s := &h.sum
	switch e := ev.(type) {
	case *Record:
		if e.Encrypted {
			s.protected++
		}
		if e.Decrypted {
			s.records++
			s.inner[e.InnerType]++
			if e.InnerType == ContentApplicationData {
				s.appData = append(s.appData, fmt.Sprintf("%s:%d", dirLetter(e.Dir), e.PlaintextLen))
			}
		}
	case *Handshake:
		if e.Decrypted {
			s.handshakes[dirLetter(e.Dir)+":"+HandshakeTypeName(e.Type)]++
		}
	case *Alert:
		if e.Decrypted {
			s.alerts = append(s.alerts, fmt.Sprintf("%s:%s", dirLetter(e.Dir), AlertName(e.Description)))
		}
	case *DecodeError:
		s.errors = append(s.errors, e.Detail)
		s.kinds = append(s.kinds, e.Kind)
	}
}

func (dc *decryptConn) TCP(ev capture.TCPEvent) {
	if ev.Kind == capture.Gap {
		dc.dec.Gap(ev.Dir, ev.Missing)
	}
}
func (dc *decryptConn) Payload(p capture.Payload) { dc.dec.Payload(p.Dir, p.Data, p.Spans) }
func (dc *decryptConn) End(capture.EndReason)     { dc.dec.End() }

// decryptCapture reads a capture with the key log files given.
func decryptCapture(t *testing.T, path string, keylogs ...string) decrypted {
	t.Helper()
	h := &decryptCollector{keys: NewKeyLog(), sum: decrypted{handshakes: map[string]int{}, inner: map[uint8]int{}}}
	for _, k := range keylogs {
		b, err := os.ReadFile(k)
		if err != nil {
			t.Fatal(err)
		}
		h.keys.Add(b)
	}
	if _, err := capture.ReadFile(path, h, capture.Options{}); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return h.sum
}

func (s decrypted) handshakeList() string {
	var hs []string
	for k, v := range s.handshakes {
		hs = append(hs, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(hs)
	return strings.Join(hs, " ")
}

func (s decrypted) String() string {
	return fmt.Sprintf("decrypted %d of %d protected records, inner %v; handshakes %s; alerts %v; errors %q",
		s.records, s.protected, s.inner, s.handshakeList(), s.alerts, s.errors)
}

// snetCases reads snet's tests.conf: capture file name -> key log file
// name and the decrypted record count its decryptor expects.
func snetCases(t *testing.T, dir string) map[string]struct {
	keylog string
	want   int
} {
	b, err := os.ReadFile(filepath.Join(dir, "tests.conf"))
	if err != nil {
		t.Skipf("snet/tests.conf: %v", err)
	}
	out := map[string]struct {
		keylog string
		want   int
	}{}
	var pcap, keylog string
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "pcap":
			pcap = filepath.Base(v)
		case "keylog":
			keylog = filepath.Base(v)
		case "decrypted_records_count":
			var n int
			fmt.Sscan(v, &n)
			out[pcap] = struct {
				keylog string
				want   int
			}{keylog, n}
		}
	}
	return out
}

// TestDecryptSnet checks the decrypted record counts snet's tests.conf
// expects, for the captures and key logs stored here.
func TestDecryptSnet(t *testing.T) {
	dir := filepath.Join(sharedDir(t), "snet")
	cases := snetCases(t, dir)
	// Versions and suites this decoder does not decrypt: the key is found
	// and the connection says why nothing was decrypted.
	unsupported := map[string]string{"ssl3_0.pcap": "SSL 3.0"}
	names := make([]string, 0, len(cases))
	for n := range cases {
		names = append(names, n)
	}
	sort.Strings(names)
	tested := 0
	for _, name := range names {
		c := cases[name]
		pcap, keylog := filepath.Join(dir, name), filepath.Join(dir, c.keylog)
		if _, err := os.Stat(pcap); err != nil {
			continue
		}
		if _, err := os.Stat(keylog); err != nil {
			continue
		}
		t.Run(name, func(t *testing.T) {
			s := decryptCapture(t, pcap, keylog)
			t.Logf("%s", s)
			if why, ok := unsupported[name]; ok {
				if s.records != 0 || len(s.errors) != 1 || !strings.Contains(s.errors[0], "not supported") || !strings.Contains(s.errors[0], why) {
					t.Errorf("unsupported %s: want no decryption and one 'not supported' error, got %s", why, s)
				}
				if !slices.Equal(s.kinds, []DecodeErrorKind{DecodeKeyLog}) {
					t.Errorf("unsupported %s: error kinds %v, want the key log's", why, s.kinds)
				}
				return
			}
			if s.records != c.want {
				t.Errorf("decrypted %d records, tests.conf expects %d (%s)", s.records, c.want, s)
			}
			// Under TLS1_ECDHE-RSA-NULL-SHA nothing is encrypted: the
			// records after ChangeCipherSpec are read as they are (0
			// decrypted, as tests.conf expects) and the key is not missed.
			if len(s.errors) != 0 || c.want > 0 && s.records != s.protected {
				t.Errorf("want every protected record decrypted and no errors: %s", s)
			}
		})
		tested++
	}
	if tested < 10 {
		t.Errorf("only %d snet captures found", tested)
	}
}

// TestDecryptPublic checks the other public captures with key logs: what
// each reveals, message by message.
func TestDecryptPublic(t *testing.T) {
	dir := sharedDir(t)
	tls13Full := "C:Finished=1 S:Certificate=1 S:CertificateVerify=1 S:EncryptedExtensions=1 S:Finished=1 S:NewSessionTicket=2"
	tls12Fin := "C:Finished=1 S:Finished=1"
	for _, c := range []struct {
		pcap, keylog string
		records      int
		handshakes   string
		alerts       string
		errors       int
		appData      string // "" means not checked
	}{
		// The Illustrated TLS 1.3 Connection: the server's Certificate is
		// read, and the "ping"/"pong" application data records.
		{"illustrated-tls13/capture.pcap", "illustrated-tls13/keylog.txt", 9, tls13Full, "", 0, "C:4 S:4"},
		{"illustrated-tls12/capture.pcap", "illustrated-tls12/keylog.txt", 5, tls12Fin, "C:close_notify", 0, "C:4 S:4"},
		{"hotplace/tls13/tls13_TLS_AES_128_GCM_SHA256.pcapng", "hotplace/tls13/sslkeylog", 10, tls13Full, "C:close_notify S:close_notify", 0, ""},
		{"hotplace/tls13/tls13_TLS_AES_256_GCM_SHA384.pcapng", "hotplace/tls13/sslkeylog", 10, tls13Full, "C:close_notify S:close_notify", 0, ""},
		{"hotplace/tls13/tls13_TLS_CHACHA20_POLY1305_SHA256.pcapng", "hotplace/tls13/sslkeylog", 10, tls13Full, "C:close_notify S:close_notify", 0, ""},
		{"hotplace/tls13/tls13_TLS_AES_128_CCM_SHA256.pcapng", "hotplace/tls13/sslkeylog", 10, tls13Full, "C:close_notify S:close_notify", 0, ""},
		{"hotplace/tls13/tls13_TLS_AES_128_CCM_SHA256_X25519MLKEM768.pcapng", "hotplace/tls13/sslkeylog", 10, tls13Full, "C:close_notify S:close_notify", 0, ""},
		{"hotplace/tls12/tls12_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256.pcapng", "hotplace/tls12/sslkeylog", 5, tls12Fin, "C:close_notify S:close_notify", 0, ""},
		{"hotplace/tls12/tls12_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384.pcapng", "hotplace/tls12/sslkeylog", 5, tls12Fin, "C:close_notify S:close_notify", 0, ""},
		{"hotplace/tls12/tls12_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256.pcapng", "hotplace/tls12/sslkeylog", 5, tls12Fin, "C:close_notify S:close_notify", 0, ""},
		{"hotplace/tls12/tls12etm_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256.pcapng", "hotplace/tls12/sslkeylog", 5, tls12Fin, "C:close_notify S:close_notify", 0, ""},
		{"hotplace/tls12/tls12etm_TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384.pcapng", "hotplace/tls12/sslkeylog", 5, tls12Fin, "C:close_notify S:close_notify", 0, ""},
		{"hotplace/tls12/tls12mte_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256.pcapng", "hotplace/tls12/sslkeylog", 5, tls12Fin, "C:close_notify S:close_notify", 0, ""},
		// The client asks to renegotiate; the server refuses with a
		// warning alert, read only after decryption.
		{"hotplace/tls12/tls12no_renogotiation.pcapng", "hotplace/tls12/sslkeylog", 6, "C:ClientHello=1 " + tls12Fin, "S:no_renegotiation C:handshake_failure", 0, ""},
		// Renegotiated: the second handshake is read under the first
		// session's keys; the key log lacks the second session's secret,
		// which is reported once.
		{"hotplace/tls12/tls12renogotiation.pcapng", "hotplace/tls12/sslkeylog", 10,
			"C:ClientHello=1 C:ClientKeyExchange=1 C:Finished=1 S:Certificate=1 S:Finished=1 S:NewSessionTicket=1 S:ServerHello=1 S:ServerHelloDone=1 S:ServerKeyExchange=1", "", 1, ""},
		{"hotplace/http/http1.pcapng", "hotplace/http/sslkeylog", 34,
			"C:Finished=1 S:Certificate=2 S:CertificateVerify=2 S:EncryptedExtensions=2 S:Finished=2 S:NewSessionTicket=2", "C:certificate_unknown", 0, ""},
		{"hotplace/linux/ubuntu20.pcap", "hotplace/linux/sslkeylog", 13,
			"C:Finished=2 S:Certificate=1 S:CertificateVerify=1 S:EncryptedExtensions=1 S:Finished=2 S:NewSessionTicket=2", "C:close_notify C:close_notify", 0, ""},
	} {
		t.Run(c.pcap, func(t *testing.T) {
			s := decryptCapture(t, filepath.Join(dir, c.pcap), filepath.Join(dir, c.keylog))
			t.Logf("%s", s)
			if s.records != c.records {
				t.Errorf("decrypted %d records, want %d", s.records, c.records)
			}
			if got := s.handshakeList(); got != c.handshakes {
				t.Errorf("decrypted handshakes\n got %s\nwant %s", got, c.handshakes)
			}
			if got := strings.Join(s.alerts, " "); got != c.alerts {
				t.Errorf("decrypted alerts %q, want %q", got, c.alerts)
			}
			if got := strings.Join(s.appData, " "); c.appData != "" && got != c.appData {
				t.Errorf("decrypted application data %q, want %q (\"ping\", \"pong\")", got, c.appData)
			}
			if len(s.errors) != c.errors {
				t.Errorf("%d decode errors, want %d: %q", len(s.errors), c.errors, s.errors)
			}
			for _, k := range s.kinds {
				if k != DecodeKeyLog {
					t.Errorf("decode error kind %v, want DecodeKeyLog: %q", k, s.errors)
				}
			}
			// Without the key log nothing changes.
			if n := decryptCapture(t, filepath.Join(dir, c.pcap)); n.records != 0 || len(n.handshakes) != 0 || len(n.errors) != 0 {
				t.Errorf("without keys: %s", n)
			}
		})
	}
}

// feedTraceKeys is feedTrace with a key log.
func feedTraceKeys(trace []segment, keys *KeyLog, cut func(n int) []int) []Event {
	var evs []Event
	c := NewConn(func(e Event) { evs = append(evs, e) })
	c.SetKeyLog(keys)
	feedInto(c, trace, cut)
	c.End()
	return evs
}

// runKeyed runs a real handshake and returns its trace and key log.
func runKeyed(t *testing.T, ccfg, scfg *tls.Config) ([]segment, []byte) {
	t.Helper()
	var kl bytes.Buffer
	ccfg.KeyLogWriter = &kl
	trace := runTLS(t, ccfg, scfg)
	if kl.Len() == 0 {
		t.Fatal("no key log written")
	}
	return trace, kl.Bytes()
}

// TestDecryptRejectedCertificate: a TLS 1.3 client that does not trust the
// server's certificate. Without keys the handshake is opaque; with the
// client's key log the server's Certificate and the client's alert are read.
func TestDecryptRejectedCertificate(t *testing.T) {
	trace, kl := runKeyed(t, &tls.Config{RootCAs: x509.NewCertPool()}, &tls.Config{})
	keys := NewKeyLog()
	if n := keys.Add(kl); n != 2 { // the client stopped before the traffic secrets
		t.Errorf("key log lines taken: %d, want 2 (%s)", n, kl)
	}
	plain := feedTraceKeys(trace, nil, cutWhole)
	for _, ev := range plain {
		if h, ok := ev.(*Handshake); ok && h.Type == TypeCertificate {
			t.Errorf("Certificate seen without keys: %s", describe(h))
		}
	}
	evs := feedTraceKeys(trace, keys, cutWhole)
	var cert *Certificate
	var alerts []string
	var types []string
	for _, ev := range evs {
		switch e := ev.(type) {
		case *Handshake:
			if e.Decrypted {
				types = append(types, dirLetter(e.Dir)+":"+HandshakeTypeName(e.Type))
			}
			if c, ok := e.Body.(*Certificate); ok && e.Decrypted {
				cert = c
			}
		case *Alert:
			if e.Decrypted {
				alerts = append(alerts, fmt.Sprintf("%s:%d:%s", dirLetter(e.Dir), e.Level, AlertName(e.Description)))
			}
		case *DecodeError:
			t.Errorf("decode error: %s", e.Detail)
		}
	}
	if got, want := strings.Join(types, " "), "S:EncryptedExtensions S:Certificate S:CertificateVerify S:Finished"; got != want {
		t.Errorf("decrypted handshakes %q, want %q", got, want)
	}
	if cert == nil || len(cert.Entries) != 1 || cert.Entries[0].Cert == nil || cert.Entries[0].Cert.Subject.CommonName == "" {
		t.Errorf("decrypted Certificate not parsed: %+v", cert)
	} else {
		t.Logf("server certificate: %s", cert.Entries[0].Cert.Subject)
	}
	if got, want := strings.Join(alerts, " "), "C:2:bad_certificate"; got != want {
		t.Errorf("decrypted alerts %q, want %q", got, want)
	}
	// Same events however the bytes are segmented.
	eventsEqual(t, "byte at a time", evs, feedTraceKeys(trace, keys, cutBytes))
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 10 {
		eventsEqual(t, fmt.Sprintf("random split %d", i), evs, feedTraceKeys(trace, keys, cutRandom(r)))
	}
}

// TestDecryptWrongKey: a key log line for the right session with a wrong
// secret is reported once, and the records stay as they were.
func TestDecryptWrongKey(t *testing.T) {
	trace, kl := runKeyed(t, &tls.Config{RootCAs: x509.NewCertPool()}, &tls.Config{})
	var bad []byte
	for _, line := range strings.SplitAfter(string(kl), "\n") {
		if strings.HasPrefix(line, "SERVER_HANDSHAKE_TRAFFIC_SECRET ") {
			b := []byte(line)
			i := len(b) - 3
			b[i] = "01"[(b[i]-'0'+1)%2] // change one hex digit of the secret
			line = string(b)
		}
		bad = append(bad, line...)
	}
	keys := NewKeyLog()
	keys.Add(bad)
	evs := feedTraceKeys(trace, keys, cutWhole)
	var errs []string
	for _, ev := range evs {
		switch e := ev.(type) {
		case *DecodeError:
			errs = append(errs, e.Detail)
		case *Record:
			if e.Decrypted && e.Dir == capture.FromServer {
				t.Errorf("server record decrypted with a wrong key: %s", describe(e))
			}
		}
	}
	if len(errs) != 1 || !strings.Contains(errs[0], "does not decrypt") {
		t.Errorf("want one 'does not decrypt' error, got %q", errs)
	}
	// The client's keys are right: its alert is read.
	var alerts []string
	for _, ev := range evs {
		if a, ok := ev.(*Alert); ok && a.Decrypted {
			alerts = append(alerts, AlertName(a.Description))
		}
	}
	if len(alerts) != 1 || alerts[0] != "bad_certificate" {
		t.Errorf("client alerts %q", alerts)
	}
}

// TestDecryptTLS12Loopback: TLS 1.2 GCM, ChaCha20 and CBC sessions of Go's
// crypto/tls decrypt, Finished and close_notify included, and so do TLS 1.0
// and 1.1 with AES-CBC and 3DES-CBC (Go splits TLS 1.0 records 1/n-1, "p"
// then "ing", so the chained IV is crossed within one write); the
// application data is the "ping" and "pong" sent.
func TestDecryptTLS12Loopback(t *testing.T) {
	type tc struct {
		version uint16
		suite   uint16
	}
	var cases []tc
	for _, s := range []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256} {
		cases = append(cases, tc{tls.VersionTLS12, s})
	}
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
		for _, s := range []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, tls.TLS_RSA_WITH_AES_256_CBC_SHA, tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA} {
			cases = append(cases, tc{v, s})
		}
	}
	for _, c := range cases {
		t.Run(VersionName(c.version)+" "+tls.CipherSuiteName(c.suite), func(t *testing.T) {
			cfg := func() *tls.Config {
				return &tls.Config{MinVersion: c.version, MaxVersion: c.version, CipherSuites: []uint16{c.suite}}
			}
			trace, kl := runKeyed(t, cfg(), cfg())
			keys := NewKeyLog()
			keys.Add(kl)
			var data [2]string
			var evs []Event
			dec := NewConn(func(e Event) { evs = append(evs, e) })
			dec.SetKeyLog(keys)
			dec.kd.plaintext = func(dir capture.Dir, p []byte) { data[dir] += string(p) }
			feedInto(dec, trace, cutWhole)
			dec.End()
			var types, alerts []string
			recs, prot := 0, 0
			for _, ev := range evs {
				switch e := ev.(type) {
				case *Record:
					if e.Encrypted {
						prot++
					}
					if e.Decrypted {
						recs++
					}
				case *Handshake:
					if e.Decrypted {
						types = append(types, dirLetter(e.Dir)+":"+HandshakeTypeName(e.Type))
					}
				case *Alert:
					if e.Decrypted {
						alerts = append(alerts, dirLetter(e.Dir)+":"+AlertName(e.Description))
					}
				case *DecodeError:
					t.Errorf("decode error: %s", e.Detail)
				}
			}
			if got := strings.Join(types, " "); got != "C:Finished S:Finished" && got != "C:Finished S:NewSessionTicket S:Finished" {
				t.Errorf("decrypted handshakes %q", got)
			}
			if recs != prot || recs < 6 {
				t.Errorf("decrypted %d of %d protected records", recs, prot)
			}
			if len(alerts) == 0 || alerts[0] != "C:close_notify" {
				t.Errorf("decrypted alerts %q", alerts)
			}
			if data[capture.FromClient] != "ping" || data[capture.FromServer] != "pong" {
				t.Errorf("application data: client %q, server %q", data[capture.FromClient], data[capture.FromServer])
			}
			eventsEqual(t, "byte at a time", evs, feedTraceKeys(trace, keys, cutBytes))
		})
	}
}

func TestKeyLogParse(t *testing.T) {
	k := NewKeyLog()
	cr := strings.Repeat("ab", 32)
	n := k.Add([]byte("# comment\n\nCLIENT_RANDOM " + cr + " " + strings.Repeat("01", 48) + "\r\n" +
		"CLIENT_HANDSHAKE_TRAFFIC_SECRET " + cr + " " + strings.Repeat("02", 32) + "\n" +
		"SERVER_HANDSHAKE_TRAFFIC_SECRET " + cr + " " + strings.Repeat("03", 32) + "\n" +
		"CLIENT_TRAFFIC_SECRET_0 " + cr + " " + strings.Repeat("04", 32) + "\n" +
		"SERVER_TRAFFIC_SECRET_0 " + cr + " " + strings.Repeat("05", 32) + "\n" +
		"EXPORTER_SECRET " + cr + " " + strings.Repeat("06", 32) + "\n" +
		"CLIENT_RANDOM " + cr + " 0102\n" + // master secret of the wrong size
		"CLIENT_RANDOM zz" + cr[2:] + " " + strings.Repeat("01", 48) + "\n" +
		"UNKNOWN_LABEL " + cr + " 00\n" +
		"CLIENT_RANDOM " + strings.Repeat("cd", 32) + " " + strings.Repeat("07", 48))) // no final newline
	if n != 7 || k.Len() != 2 {
		t.Fatalf("took %d lines for %d sessions, want 7 for 2", n, k.Len())
	}
	raw, _ := hex.DecodeString(cr)
	s := k.Lookup(raw)
	if s == nil || s.MasterSecret[0] != 1 || s.ClientHandshake[0] != 2 || s.ServerHandshake[0] != 3 ||
		s.ClientTraffic0[0] != 4 || s.ServerTraffic0[0] != 5 || s.Exporter[0] != 6 {
		t.Errorf("lookup: %+v", s)
	}
	if k.Lookup(raw[:31]) != nil || k.Lookup(make([]byte, 32)) != nil {
		t.Error("lookup of an unknown random found something")
	}
	var nilLog *KeyLog
	if nilLog.Lookup(raw) != nil || nilLog.Len() != 0 {
		t.Error("nil key log")
	}
}

// TestHKDFExpandLabel checks the key schedule against RFC 8448 §3 (simple
// 1-RTT handshake): the server handshake traffic key and IV.
func TestHKDFExpandLabel(t *testing.T) {
	secret, _ := hex.DecodeString("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38")
	key := hkdfExpandLabel(sha256.New, secret, "key", nil, 16)
	iv := hkdfExpandLabel(sha256.New, secret, "iv", nil, 12)
	if hex.EncodeToString(key) != "3fce516009c21727d0f2e4e86ee403bc" || hex.EncodeToString(iv) != "5d313eb2671276ee13000b30" {
		t.Errorf("key %x iv %x", key, iv)
	}
}

// TestDecryptGoCases: every real handshake scenario of tlsgen_test.go,
// recorded again with the client's key log, decrypts completely (HRR,
// client certificates, a >16 KB chain, rejected certificates included).
func TestDecryptGoCases(t *testing.T) {
	for _, tc := range tlsCases {
		t.Run(tc.name, func(t *testing.T) {
			var kl bytes.Buffer
			ccfg := tc.ccfg()
			ccfg.KeyLogWriter = &kl
			trace := runTLS(t, ccfg, tc.scfg())
			keys := NewKeyLog()
			keys.Add(kl.Bytes()) // empty when the client gave up before its key exchange
			evs := feedTraceKeys(trace, keys, cutWhole)
			recs, prot := 0, 0
			for _, ev := range evs {
				switch e := ev.(type) {
				case *Record:
					if e.Encrypted {
						prot++
					}
					if e.Decrypted {
						recs++
					}
				case *DecodeError:
					t.Errorf("decode error: %s", e.Detail)
				}
			}
			if recs != prot {
				t.Errorf("decrypted %d of %d protected records\n%s", recs, prot, describeAll(evs))
			}
			eventsEqual(t, "byte at a time", evs, feedTraceKeys(trace, keys, cutBytes))
		})
	}
}
