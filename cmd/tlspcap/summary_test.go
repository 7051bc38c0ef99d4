package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSummaryOneCount: every format closes with the same count, a
// capture-level error has its own line, and the exit code follows it.
func TestSummaryOneCount(t *testing.T) {
	const nx = "../../testdata/pcaps/dns-nxdomain.pcapng"
	const line = "and 1 capture-level error: DNS: device.test does not exist (NXDOMAIN)."
	for _, format := range []string{"text", "markdown", "html", "json"} {
		code, out, errs := tlspcap(t, "analyze", "--format", format, nx)
		if code != exitFailed {
			t.Errorf("%s: exit %d: %s", format, code, errs)
		}
		if format == "json" {
			var rep struct {
				Summary struct {
					Connections, Failed int
					CaptureErrors       []string `json:"capture_errors"`
				} `json:"summary"`
			}
			if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Summary.Failed != 0 ||
				len(rep.Summary.CaptureErrors) != 1 || rep.Summary.CaptureErrors[0] != "DNS: device.test does not exist (NXDOMAIN)" {
				t.Errorf("json summary %+v (%v)", rep.Summary, err)
			}
			continue
		}
		if !strings.Contains(out, line) {
			t.Errorf("%s: no line %q in\n%s", format, line, out)
		}
	}
}

// TestReverseLookupNotAnError: a PTR lookup's NXDOMAIN is info: the
// summary and the exit code agree that nothing failed.
func TestReverseLookupNotAnError(t *testing.T) {
	f := filepath.Join(sharedPcaps(t), "pcapplusplus/many_interfaces-1.pcapng")
	code, out, _ := tlspcap(t, "analyze", "--all", f)
	if code != exitOK || !strings.HasSuffix(out, "\n0 of 2 connections failed.\n") ||
		!strings.Contains(out, "INFO dns-nxdomain  [DNS: no PTR record for 255.1.168.192.in-addr.arpa (NXDOMAIN)] frames 12") {
		t.Errorf("exit %d\n%s", code, out)
	}
}

// TestNothingToAnalyse: a selection that matches nothing, and a capture
// without TCP, say what the capture has and exit 2.
func TestNothingToAnalyse(t *testing.T) {
	const healthy = "../../testdata/pcaps/healthy-tls12-mbedtls36.pcapng"
	headerOnly := filepath.Join(t.TempDir(), "empty.pcapng")
	b, err := os.ReadFile(healthy)
	if err != nil {
		t.Fatal(err)
	}
	// The section header block alone: its length is at bytes 4-7 (little-endian here).
	shb := int(b[4]) | int(b[5])<<8 | int(b[6])<<16 | int(b[7])<<24
	os.WriteFile(headerOnly, b[:shb], 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--client", "ja4=t13d1516h2_8daaf6152771_e5627efa2ab1", healthy},
			"Nothing matched --client ja4=t13d1516h2_8daaf6152771_e5627efa2ab1: the capture has 1 TCP connection; clients seen: 127.0.0.1 (1 connection); ja4 values seen: t12d990700_faffc54d2b3b_4387b539a301."},
		{[]string{"--device", "10.9.9.9", healthy},
			"Nothing matched --device 10.9.9.9: the capture has 1 TCP connection; clients seen: 127.0.0.1 (1 connection)."},
		{[]string{headerOnly},
			"No TLS connection analysed: the capture holds no TCP connection (tlspcap analyses TLS over TCP); its frames: none (the file holds only its header)."},
	} {
		for _, format := range []string{"text", "markdown", "html", "json"} {
			code, out, errs := tlspcap(t, append([]string{"analyze", "--format", format}, tc.args...)...)
			want := tc.want
			if format == "markdown" {
				want = strings.ReplaceAll(want, "_", `\_`)
			}
			if code != exitUsage || !strings.Contains(errs, tc.want) {
				t.Errorf("%s %v: exit %d, stderr %q", format, tc.args, code, errs)
			}
			if format != "json" && !strings.Contains(out, want) {
				t.Errorf("%s %v: report lacks %q:\n%s", format, tc.args, want, out)
			}
			if format == "json" && !strings.Contains(out, `"nothing_analysed"`) {
				t.Errorf("json %v: no nothing_analysed:\n%s", tc.args, out)
			}
		}
	}
}

// TestNoTCPPublic: DTLS and 802.11 captures say what they hold.
func TestNoTCPPublic(t *testing.T) {
	dir := sharedPcaps(t)
	for f, want := range map[string]string{
		"zeek/tls/dtls1_2.pcap": "its frames: 16 of link type 1 (Ethernet); 16 UDP (16 DTLS, first in frame 1, which tlspcap does not analyse).",
		"aircrack-ng/wpa.cap":   "its frames: 13 of link type 119 (802.11 with Prism header), which tlspcap does not decode.",
	} {
		code, out, _ := tlspcap(t, "analyze", filepath.Join(dir, f))
		if code != exitUsage || !strings.Contains(out, want) {
			t.Errorf("%s: exit %d, want %q in\n%s", f, code, want, out)
		}
	}
}

// TestEndingTimeCaptureEnded: a connection still open when the capture
// ended has the capture's end as its ending time (tshark: frame 5 of
// no-syn-ack.pcapng at 1795767459.089913), not the zero time.
func TestEndingTimeCaptureEnded(t *testing.T) {
	code, out, errs := tlspcap(t, "analyze", "--format", "json", "../../testdata/pcaps/no-syn-ack.pcapng")
	var rep struct {
		Connections []struct {
			Ending struct {
				How  string
				Time string
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || len(rep.Connections) != 1 {
		t.Fatalf("exit %d %v: %s", code, err, errs)
	}
	if e := rep.Connections[0].Ending; e.How != "capture-ended" || e.Time != "2026-11-27T08:17:39.089913Z" {
		t.Errorf("ending %+v", e)
	}
	if strings.Contains(out, "0001-01-01") {
		t.Errorf("a zero time in the report")
	}
}

// TestNothingMatchedRedacted: the clients seen are redacted like every
// other address, on stdout and stderr.
func TestNothingMatchedRedacted(t *testing.T) {
	code, out, errs := tlspcap(t, "analyze", "--redact", "--device", "10.9.9.9", "../../testdata/pcaps/healthy-tls12-mbedtls36.pcapng")
	if code != exitUsage || !strings.Contains(out, "Nothing matched --device ") || strings.Contains(out+errs, "127.0.0.1") || strings.Contains(out+errs, "10.9.9.9") {
		t.Errorf("exit %d, stderr %q\n%s", code, errs, out)
	}
}
