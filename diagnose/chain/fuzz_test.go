package chain

import (
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"

	"tlspcap/capture"
	"tlspcap/decode"
)

// fuzzChain reads a TLS 1.2 certificate_list (3-byte lengths) and picks
// from the certificates that parse by the order bytes (each a 1-based
// index; 0 skips), so the fuzzer reorders, repeats and drops them as well
// as mutating their DER.
func fuzzChain(list, order []byte) (certs []*x509.Certificate, raw [][]byte) {
	s := cryptobyte.String(list)
	var all []*x509.Certificate
	var allRaw [][]byte
	for !s.Empty() {
		var der cryptobyte.String
		if !s.ReadUint24LengthPrefixed(&der) {
			break
		}
		if c, err := x509.ParseCertificate(der); err == nil {
			all, allRaw = append(all, c), append(allRaw, der)
		}
	}
	if len(order) == 0 || len(all) == 0 {
		return all, allRaw
	}
	for _, o := range order[:min(len(order), 16)] {
		if o == 0 {
			continue
		}
		i := int(o-1) % len(all)
		certs, raw = append(certs, all[i]), append(raw, allRaw[i])
	}
	return certs, raw
}

// FuzzAnalyze builds verification paths over fuzzed chains: whatever the
// certificates and their order, Analyze answers without panicking, every
// problem names a certificate of the chain (or -1) and the sizes add up.
func FuzzAnalyze(f *testing.F) {
	f.Add([]byte{0, 0, 5, 0x30, 3, 2, 1, 1}, []byte{1}, "example.com")
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, list, order []byte, host string) {
		certs, raw := fuzzChain(list, order)
		res := Analyze(Input{Certs: certs, Raw: raw, ServerName: host, Time: at})
		for _, p := range res.Problems {
			if p.ID == "" || p.Cert < -1 || p.Cert >= len(certs) {
				t.Fatalf("problem %q about certificate %d of %d", p.ID, p.Cert, len(certs))
			}
		}
		for _, u := range res.Unused {
			if u < 0 || u >= len(certs) {
				t.Fatalf("unused certificate %d of %d", u, len(certs))
			}
		}
		total := 0
		for _, r := range raw {
			total += len(r)
		}
		if len(certs) > 0 && res.TotalBytes != total {
			t.Fatalf("TotalBytes %d, DER %d", res.TotalBytes, total)
		}
		if len(certs) > 0 && len(res.Certs) != len(certs) {
			t.Fatalf("%d certificates described of %d", len(res.Certs), len(certs))
		}
	})
}

// TestWriteFuzzSeeds writes the FuzzAnalyze seeds, the chains the servers
// of the committed captures sent, when TLSPCAP_WRITE_SEEDS is set:
// TLSPCAP_WRITE_SEEDS=1 go test ./diagnose/chain -run TestWriteFuzzSeeds
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("TLSPCAP_WRITE_SEEDS") == "" {
		t.Skip("set TLSPCAP_WRITE_SEEDS=1 to rewrite testdata/fuzz/FuzzAnalyze")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzAnalyze")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		pcap, host string
		order      []byte
	}{
		{"chain-incomplete", "localhost", nil},
		{"chain-untrusted", "localhost", nil},
		{"certificate-expired", "localhost", nil},
		{"hostname-mismatch", "wrong.example", nil},
		{"self-signed", "localhost", nil},
		{"weak-certificate-mbedtls36", "localhost", nil},
		{"healthy-tls12-mbedtls36", "localhost", []byte{2, 1, 2}},
	} {
		chains := serverChains(t, filepath.Join("..", "..", "testdata", "pcaps", c.pcap+".pcapng"))
		if len(chains) == 0 {
			t.Fatalf("%s: no certificate chain", c.pcap)
		}
		var b cryptobyte.Builder
		for _, der := range chains[0] {
			b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(der) })
		}
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n[]byte(%q)\nstring(%q)\n", b.BytesOrPanic(), c.order, c.host)
		if err := os.WriteFile(filepath.Join(dir, "seed-"+c.pcap), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// serverChains returns the DER of every Certificate message in a capture.
func serverChains(t *testing.T, path string) [][][]byte {
	h := &certCollector{}
	if _, err := capture.ReadFile(path, h, capture.Options{}); err != nil {
		t.Fatal(err)
	}
	return h.chains
}

type certCollector struct{ chains [][][]byte }

func (h *certCollector) Conn(*capture.Conn) capture.ConnHandler {
	cc := &certConn{h: h}
	cc.dec = decode.NewConn(cc.event)
	return cc
}
func (*certCollector) DNS(*capture.DNSMessage) {}
func (*certCollector) Problem(capture.Problem) {}

type certConn struct {
	h   *certCollector
	dec *decode.Conn
}

func (c *certConn) event(ev decode.Event) {
	hs, ok := ev.(*decode.Handshake)
	if !ok {
		return
	}
	if m, ok := hs.Body.(*decode.Certificate); ok {
		var chain [][]byte
		for _, e := range m.Entries {
			chain = append(chain, e.Raw)
		}
		c.h.chains = append(c.h.chains, chain)
	}
}
func (c *certConn) TCP(ev capture.TCPEvent) {
	if ev.Kind == capture.Gap {
		c.dec.Gap(ev.Dir, ev.Missing)
	}
}
func (c *certConn) Payload(p capture.Payload) { c.dec.Payload(p.Dir, p.Data, p.Spans) }
func (c *certConn) End(capture.EndReason)     { c.dec.End() }

// FuzzNameEqual: nameEqual answers as the full attribute-by-attribute
// comparison. (It once had a shortcut on the names' lengths, which this
// target disproved: an empty RDN set adds bytes but no attribute.)
func FuzzNameEqual(f *testing.F) {
	f.Add([]byte{0x30, 0x0e, 0x31, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x04, 0x03, 0x13, 0x03, 'a', 'b', 'c'},
		[]byte{0x30, 0x0e, 0x31, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x03, 'A', 'B', 'c'})
	f.Add([]byte{0x30, 0x0e, 0x31, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x04, 0x03, 0x13, 0x03, 'a', 'b', 'c', 0},
		[]byte{0x30, 0x0e, 0x31, 0x0c, 0x30, 0x0a, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x03, 'A', 'B', 'c'})
	f.Fuzz(func(t *testing.T, a, b []byte) {
		want := string(a) == string(b)
		if x, ok1 := parseDN(a); !want && ok1 {
			if y, ok2 := parseDN(b); ok2 && len(x) == len(y) {
				want = true
				for i := range x {
					if x[i].oid != y[i].oid || x[i].merged != y[i].merged || !stringEqual(x[i], y[i]) {
						want = false
					}
				}
			}
		}
		if got := nameEqual(a, b); got != want {
			t.Fatalf("nameEqual %v, the full comparison %v", got, want)
		}
	})
}
