package diagnose_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"slices"
	"strings"
	"testing"
	"time"

	"tlspcap/capture"
	"tlspcap/diagnose"
	"tlspcap/internal/pcapbuild"
)

// keyedCapture runs a real handshake whose client does not trust the
// server's chain (no root), and returns the capture and the client's key log.
func keyedCapture(t *testing.T, version uint16) ([]byte, []byte) {
	t.Helper()
	ch := pcapbuild.NewChain("device.test", 0)
	var kl bytes.Buffer
	cc := &tls.Config{ServerName: "device.test", RootCAs: x509.NewCertPool(), MinVersion: version, MaxVersion: version, KeyLogWriter: &kl,
		Time: func() time.Time { return time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC) }}
	sc := &tls.Config{Certificates: []tls.Certificate{ch.TLSCertificate(true)}, MinVersion: version, MaxVersion: version}
	ws, cerr, _ := pcapbuild.Exchange(cc, sc)
	if cerr == nil {
		t.Fatal("the client accepted an untrusted chain")
	}
	c := pcapbuild.New()
	c.Replay(client, server, ws)
	return c.Bytes(), kl.Bytes()
}

func errorIDs(fs []diagnose.Finding) []string {
	var ids []string
	for _, f := range fs {
		if f.Severity == diagnose.SeverityError {
			ids = append(ids, string(f.ID))
		}
	}
	return ids
}

// TestDecryptedTLS13Diagnosis: without keys a TLS 1.3 client's rejection
// of the certificate is only "tls13-handshake-encrypted"; with its key log
// the alert and the server's chain are read, and the root cause is the one
// the TLS 1.2 twin gives in the clear.
func TestDecryptedTLS13Diagnosis(t *testing.T) {
	pcap13, kl := keyedCapture(t, tls.VersionTLS13)
	pcap12, _ := keyedCapture(t, tls.VersionTLS12)

	blind := analyse(t, pcap13, diagnose.Options{}).Connections[0]
	if ids := errorIDs(blind.Findings); !slices.Contains(ids, "tls13-handshake-encrypted") || len(blind.Certificates) != 0 {
		t.Fatalf("without keys: errors %v, %d certificates", ids, len(blind.Certificates))
	}
	twin := analyse(t, pcap12, diagnose.Options{}).Connections[0]
	seen := analyse(t, pcap13, diagnose.Options{KeyLog: kl}).Connections[0]
	ids, twinIDs := errorIDs(seen.Findings), errorIDs(twin.Findings)
	t.Logf("TLS 1.3 with keys: %v; TLS 1.2 twin: %v", idsOf(seen.Findings), idsOf(twin.Findings))
	if slices.Contains(ids, "tls13-handshake-encrypted") {
		t.Errorf("tls13-handshake-encrypted with a matching key log: %v", ids)
	}
	if len(ids) == 0 || len(twinIDs) == 0 || ids[0] != twinIDs[0] {
		t.Errorf("root cause with keys %v, TLS 1.2 twin %v", ids, twinIDs)
	}
	if seen.Outcome != twin.Outcome {
		t.Errorf("outcome %s, twin %s", seen.Outcome, twin.Outcome)
	}
	text := ""
	for _, f := range seen.Findings {
		text += f.Title + " " + f.Explanation + "\n"
	}
	if !strings.Contains(text, "bad_certificate") && !strings.Contains(text, "bad certificate") {
		t.Errorf("the decrypted alert is not named:\n%s", text)
	}
	if len(seen.Certificates) == 0 {
		t.Error("the decrypted server chain is not in the report")
	}

	// The same keys from a pcapng Decryption Secrets Block would be added
	// through Secrets; a key log of another session changes nothing.
	_, other := keyedCapture(t, tls.VersionTLS13)
	again := analyse(t, pcap13, diagnose.Options{KeyLog: other}).Connections[0]
	if ids := errorIDs(again.Findings); !slices.Contains(ids, "tls13-handshake-encrypted") {
		t.Errorf("with another session's keys: %v", ids)
	}
}

// TestAnalyzerSecrets: keys delivered as a capture's secrets block work as
// Options.KeyLog does.
func TestAnalyzerSecrets(t *testing.T) {
	pcap13, kl := keyedCapture(t, tls.VersionTLS13)
	a, err := diagnose.NewAnalyzer(diagnose.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a.Secrets(capture.SecretsTLSKeyLog, kl)
	st := readInto(t, a, pcap13)
	conn := a.Report("test.pcap", st).Connections[0]
	if ids := errorIDs(conn.Findings); slices.Contains(ids, "tls13-handshake-encrypted") || len(conn.Certificates) == 0 {
		t.Errorf("keys from Secrets not used: %v, %d certificates", ids, len(conn.Certificates))
	}
}

func readInto(t *testing.T, a *diagnose.Analyzer, pcap []byte) capture.Stats {
	t.Helper()
	st, err := capture.Read(bytes.NewReader(pcap), "test.pcap", a, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestWrongKeyLogReported: a key log whose secrets for the connection do
// not decrypt it is said in the report, once, naming the connection; the
// diagnosis is the one without keys.
func TestWrongKeyLogReported(t *testing.T) {
	pcap13, kl := keyedCapture(t, tls.VersionTLS13)
	var bad []byte
	for _, line := range strings.SplitAfter(string(kl), "\n") {
		if strings.HasPrefix(line, "SERVER_HANDSHAKE_TRAFFIC_SECRET ") || strings.HasPrefix(line, "CLIENT_HANDSHAKE_TRAFFIC_SECRET ") {
			b := []byte(strings.TrimRight(line, "\n"))
			b[len(b)-1] = "01"[(b[len(b)-1]-'0'+1)%2] // the secret's last hex digit
			line = string(b) + "\n"
		}
		bad = append(bad, line...)
	}
	a, err := diagnose.NewAnalyzer(diagnose.Options{KeyLog: bad})
	if err != nil {
		t.Fatal(err)
	}
	rep := a.Report("test.pcap", readInto(t, a, pcap13))
	var mismatch []string
	for _, p := range rep.Capture.Problems {
		if strings.Contains(p, "tcp.stream 0: the key log has secrets for this connection, but they do not match") {
			mismatch = append(mismatch, p)
		}
	}
	if len(mismatch) != 1 {
		t.Errorf("want one key mismatch problem, got %q", rep.Capture.Problems)
	}
	if ids := errorIDs(rep.Connections[0].Findings); !slices.Contains(ids, "tls13-handshake-encrypted") || len(rep.Connections[0].Certificates) != 0 {
		t.Errorf("with a wrong key: %v, %d certificates", ids, len(rep.Connections[0].Certificates))
	}
	// The right key log: no problem.
	a, _ = diagnose.NewAnalyzer(diagnose.Options{KeyLog: kl})
	if rep := a.Report("test.pcap", readInto(t, a, pcap13)); len(rep.Capture.Problems) != 0 {
		t.Errorf("right key log: problems %q", rep.Capture.Problems)
	}
}
