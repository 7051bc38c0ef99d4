package main

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func tlspcap(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

const bigChain = "../../testdata/pcaps/big-chain-4096-mbedtls36.pcapng"

func TestAnalyzeExitCodes(t *testing.T) {
	if code, out, _ := tlspcap(t, "analyze", "--in-content-len", "4096", bigChain); code != exitFailed || !strings.Contains(out, "record-exceeds-device-buffer") || !strings.Contains(out, "-0x7100") {
		t.Errorf("failing capture: exit %d\n%s", code, out)
	}
	if code, out, _ := tlspcap(t, "analyze", "../../testdata/pcaps/healthy-tls12-mbedtls36.pcapng"); code != exitOK {
		t.Errorf("healthy capture: exit %d\n%s", code, out)
	}
	notPcap := filepath.Join(t.TempDir(), "page.html")
	os.WriteFile(notPcap, []byte("<!DOCTYPE html>"), 0o644)
	code, _, errs := tlspcap(t, "analyze", notPcap)
	if code != exitUsage || !strings.Contains(errs, "tlspcap: "+notPcap+": not a pcap or pcapng file (starts with 3c 21 44 4f)") {
		t.Errorf("not a capture: exit %d, stderr %q", code, errs)
	}
	if code, _, errs := tlspcap(t, "analyze", "--profile", "esp64", bigChain); code != exitUsage || !strings.Contains(errs, "unknown profile") {
		t.Errorf("bad profile: exit %d, %q", code, errs)
	}
	if code, _, _ := tlspcap(t, "analyze"); code != exitUsage {
		t.Errorf("no file: exit %d", code)
	}
}

func TestAnalyzeStdin(t *testing.T) {
	b, err := os.ReadFile(bigChain)
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := run([]string{"analyze", "--format", "json", "--in-content-len", "4096", "-"}, bytes.NewReader(b), &out, &errb)
	if code != exitFailed || !strings.Contains(out.String(), `"record-exceeds-device-buffer"`) {
		t.Fatalf("stdin: exit %d %s\n%s", code, errb.String(), out.String())
	}
}

func TestRecordsJSON(t *testing.T) {
	code, out, errs := tlspcap(t, "records", "--format", "json", bigChain)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var doc struct {
		Schema      int `json:"schema"`
		Connections []struct {
			Stream  int `json:"tcp_stream"`
			Records []struct {
				Frames         []int   `json:"frames"`
				ContentType    int     `json:"content_type"`
				Length         int     `json:"length"`
				HandshakeTypes []uint8 `json:"handshake_types"`
				Truncated      bool    `json:"truncated"`
			} `json:"records"`
		} `json:"connections"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != 1 || len(doc.Connections) != 1 {
		t.Fatalf("%+v", doc)
	}
	// ClientHello, then the server's ServerHello and the 6 KB Certificate
	// record whose first segment is frame 6 (the rest never arrived).
	rs := doc.Connections[0].Records
	if len(rs) < 3 || rs[0].HandshakeTypes[0] != 1 || rs[1].HandshakeTypes[0] != 2 {
		t.Fatalf("records %+v", rs)
	}
	var cert *int
	for i, r := range rs {
		if r.Length > 4096 {
			cert = &rs[i].Frames[0]
			if !r.Truncated && len(r.HandshakeTypes) > 0 && r.HandshakeTypes[0] != 11 {
				t.Errorf("big record %+v is not a Certificate", r)
			}
		}
	}
	if cert == nil || *cert != 6 {
		t.Errorf("no record over 4096 bytes starting in frame 6: %+v", rs)
	}
}

func TestCertsOut(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := tlspcap(t, "certs", "--out", dir, "../../testdata/pcaps/chain-incomplete.pcapng")
	if code != exitOK || !strings.Contains(out, "CN=device.test") || !strings.Contains(out, "http://ca.test/inter.crt") {
		t.Fatalf("exit %d %s\n%s", code, errs, out)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "stream-0-*.pem"))
	if len(files) != 1 {
		t.Fatalf("PEM files %v", files)
	}
	b, _ := os.ReadFile(files[0])
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatal("no PEM block")
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil || c.Subject.CommonName != "device.test" {
		t.Fatalf("certificate %v %v", c, err)
	}
}

func TestExplain(t *testing.T) {
	code, out, _ := tlspcap(t, "explain", "-0x7200")
	if code != exitOK || !strings.Contains(out, "INVALID_RECORD") || !strings.Contains(out, "IN_CONTENT_LEN") {
		t.Errorf("explain -0x7200: exit %d\n%s", code, out)
	}
	if code, _, _ := tlspcap(t, "explain", "-0x1234"); code != exitUsage {
		t.Errorf("unknown code: exit %d", code)
	}
}

// TestClientLabels: the ClientHello shapes of the real clients in the ground
// truth are recognised, and other stacks are not taken for mbedTLS.
func TestClientLabels(t *testing.T) {
	for name, want := range map[string]string{
		"healthy-tls12-mbedtls228":     "mbedTLS 2.x (as in ESP-IDF v4.4, ESP8266_RTOS_SDK) (a guess)",
		"healthy-tls12-mbedtls36":      "mbedTLS 3.x offering TLS 1.2 only (the ESP-IDF v5 default) (a guess)",
		"healthy-tls13-mbedtls36":      "mbedTLS 3.x offering TLS 1.3 only (a guess)",
		"healthy-tls12-go-client":      "unknown",
		"healthy-tls13-go-client":      "unknown",
		"healthy-tls13-openssl-client": "unknown",
	} {
		_, out, errs := tlspcap(t, "analyze", "--format", "json", "../../testdata/pcaps/"+name+".pcapng")
		var rep struct {
			Connections []struct {
				ClientLabel string `json:"client_label"`
			} `json:"connections"`
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Connections) == 0 {
			t.Fatalf("%s: %v %s", name, err, errs)
		}
		if got := rep.Connections[0].ClientLabel; got != want {
			t.Errorf("%s: client_label %q, want %q", name, got, want)
		}
	}
}

// TestCAFlag: with the device's CA given (--ca), a chain issued by it is
// trusted; without it, the private CA is not in the bundle.
func TestCAFlag(t *testing.T) {
	const healthy = "../../testdata/pcaps/healthy-tls12-mbedtls36.pcapng"
	dir := t.TempDir()
	if code, _, errs := tlspcap(t, "certs", "--out", dir, healthy); code != exitOK {
		t.Fatalf("certs: %s", errs)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.pem"))
	if len(files) != 1 {
		t.Fatalf("PEM files %v", files)
	}
	// The intermediate the server sent stands in for the device's cacert_pem
	// (mbedTLS accepts an intermediate as trust anchor).
	b, _ := os.ReadFile(files[0])
	_, rest := pem.Decode(b)
	ca := filepath.Join(dir, "ca.pem")
	os.WriteFile(ca, rest, 0o644)
	ids := func(args ...string) string {
		_, out, errs := tlspcap(t, append([]string{"analyze", "--format", "json", "--all"}, args...)...)
		var rep struct {
			Connections []struct {
				Findings []struct{ ID string } `json:"findings"`
			} `json:"connections"`
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%v %s", err, errs)
		}
		var s []string
		for _, f := range rep.Connections[0].Findings {
			s = append(s, f.ID)
		}
		return strings.Join(s, ",")
	}
	if got := ids(healthy); !strings.Contains(got, "chain-untrusted") {
		t.Errorf("without --ca: findings %s, want chain-untrusted (private CA not in the bundle)", got)
	}
	if got := ids("--ca", ca, healthy); strings.Contains(got, "chain-untrusted") {
		t.Errorf("with --ca: findings %s, want no chain-untrusted", got)
	}
	if code, _, errs := tlspcap(t, "analyze", "--ca", filepath.Join(dir, "missing.pem"), healthy); code != exitUsage || !strings.Contains(errs, "--ca") {
		t.Errorf("missing --ca file: exit %d %q", code, errs)
	}
}

// TestClientFilter: --client keeps the connections of one fingerprint.
func TestClientFilter(t *testing.T) {
	const f = "../../testdata/pcaps/healthy-tls12-mbedtls36.pcapng"
	count := func(args ...string) (int, int) {
		code, out, _ := tlspcap(t, append([]string{"analyze", "--format", "json"}, append(args, f)...)...)
		var rep struct {
			Connections []struct{} `json:"connections"`
		}
		json.Unmarshal([]byte(out), &rep)
		return code, len(rep.Connections)
	}
	if code, n := count("--client", "ja4=t12d990700_faffc54d2b3b_4387b539a301"); code != exitOK || n != 1 {
		t.Errorf("matching JA4: exit %d, %d connections", code, n)
	}
	if code, n := count("--client", "ja4=t13d1516h2_8daaf6152771_e5627efa2ab1"); code != exitUsage || n != 0 {
		t.Errorf("other JA4: exit %d, %d connections", code, n)
	}
	if code, _ := count("--client", "md5=x"); code != exitUsage {
		t.Errorf("bad --client: exit %d", code)
	}
}

// TestOutputFile: -o writes the report to the file and nothing to stdout.
func TestOutputFile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "report.md")
	code, stdout, errs := tlspcap(t, "analyze", "--in-content-len", "4096", "--format", "markdown", "-o", out, bigChain)
	if code != exitFailed || stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, errs)
	}
	b, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(b), "**ERROR** `record-exceeds-device-buffer`") || !strings.Contains(string(b), "frames 6") {
		t.Fatalf("report file: %v\n%s", err, b)
	}
}
