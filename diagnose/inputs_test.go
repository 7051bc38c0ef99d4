package diagnose_test

import (
	"crypto/tls"
	"fmt"
	"strings"
	"testing"

	"tlspcap/diagnose"
	"tlspcap/internal/pcapbuild"
)

// captureFinding is the capture-level finding id, or nil.
func captureFinding(rep *diagnose.Report, id string) *diagnose.Finding {
	for i := range rep.Findings {
		if string(rep.Findings[i].ID) == id {
			return &rep.Findings[i]
		}
	}
	return nil
}

// TestKeyLogAccount: the report says how many key-log lines were read and
// how many TLS connections they matched; a key log of another run is a
// warning, and the encrypted handshake's advice says it did not match.
func TestKeyLogAccount(t *testing.T) {
	pcap, kl := keyedCapture(t, tls.VersionTLS13)
	_, otherRun := keyedCapture(t, tls.VersionTLS13)
	for _, tc := range []struct {
		name, keyLog string
		sev          diagnose.Severity
		title        string
		advice       string // the start of tls13-handshake-encrypted's fix, "" if none
	}{
		{"matching", string(kl), diagnose.SeverityInfo,
			fmt.Sprintf("Key log: %d lines, 1 client random, matched 1 of 1 TLS connection", strings.Count(string(kl), "\n")), ""},
		{"another run", string(otherRun), diagnose.SeverityWarning,
			"Key log: 1 client random, matched none of the 1 TLS connection",
			"The key log given holds no secrets for this connection's ClientHello: it is likely from another run"},
		{"no key-log line", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", diagnose.SeverityWarning,
			"Key log: no key-log line in the 3 lines read from --keylog", "Capture again with a key log"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := analyse(t, pcap, diagnose.Options{KeyLog: []byte(tc.keyLog)})
			f := captureFinding(rep, "key-log")
			if f == nil || f.Severity != tc.sev || f.Title != tc.title {
				t.Fatalf("key-log finding %+v, want %s %q", f, tc.sev, tc.title)
			}
			var enc *diagnose.Finding
			for i, cf := range rep.Connections[0].Findings {
				if cf.ID == "tls13-handshake-encrypted" {
					enc = &rep.Connections[0].Findings[i]
				}
			}
			if tc.advice == "" {
				if enc != nil {
					t.Errorf("tls13-handshake-encrypted with the matching key log")
				}
			} else if enc == nil || !strings.HasPrefix(enc.Fix, tc.advice) {
				t.Errorf("tls13-handshake-encrypted %+v, want the fix to start %q", enc, tc.advice)
			}
		})
	}
	// No key log, none in the capture: nothing to say.
	if f := captureFinding(analyse(t, pcap, diagnose.Options{}), "key-log"); f != nil {
		t.Errorf("key-log finding without a key log: %+v", f)
	}
}

// TestBrowserChainUnmatched: a browser's capture of another server is
// compared with no connection, and the report says so.
func TestBrowserChainUnmatched(t *testing.T) {
	chain := pcapbuild.NewChain("device.test", 0)
	dev := pcapbuild.New()
	dev.Replay(client, server, exchange(t, chain, tls.VersionTLS12, true))
	other := pcapbuild.NewChain("other.example", 0)
	br := pcapbuild.New()
	br.Replay("192.168.4.50:52000", "198.51.100.7:443", exchangeFor(t, other, "other.example", tls.VersionTLS12, true))

	rep := analyse(t, dev.Bytes(), diagnose.Options{BrowserChain: br.Bytes()})
	f := captureFinding(rep, "browser-chain")
	want := "The browser's capture holds chains for other.example, 198.51.100.7; none of the 1 connection that showed a certificate here has that server name (SNI) or server address."
	if f == nil || f.Severity != diagnose.SeverityWarning || f.Title != "Browser chain: matched no connection" || f.Explanation != want {
		t.Fatalf("browser-chain finding %+v\nwant %q", f, want)
	}
	rep = analyse(t, dev.Bytes(), diagnose.Options{BrowserChain: pemOf(chain.Leaf.Raw, chain.Intermediate.Raw)})
	if f := captureFinding(rep, "browser-chain"); f == nil || f.Severity != diagnose.SeverityInfo || f.Title != "Browser chain: compared on 1 of 1 connection with a server certificate" {
		t.Errorf("PEM browser chain: %+v", f)
	}
}
