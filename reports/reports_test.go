package reports

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"tlspcap/diagnose"
)

// hostileReport carries wire strings an attacker controls: terminal escapes,
// Markdown table breakers, HTML.
func hostileReport() *diagnose.Report {
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	return &diagnose.Report{
		Schema: diagnose.Schema, Tool: "tlspcap", Profile: "esp32-idf5",
		Capture: diagnose.CaptureInfo{File: "lab.pcapng", Frames: 12, Start: t0, End: t0.Add(time.Second)},
		Connections: []*diagnose.Connection{{
			Stream: 0, Client: "192.168.4.23:51000", Server: "203.0.113.10:443",
			SNI:     "evil\x1b[2J|<script>alert(1)</script>\n`x`",
			Outcome: diagnose.OutcomeFailed, Stage: diagnose.StageServerCertificate, Start: t0,
			Ending: diagnose.Ending{By: "client", How: "RST", Frame: 9, Time: t0},
			Findings: []diagnose.Finding{{
				ID: "record-exceeds-device-buffer", Severity: diagnose.SeverityError, Frames: []int{6},
				Title:           "Server record of 6338 bytes exceeds the device's 4096-byte input buffer",
				Explanation:     "Frame 6 starts a record of 6338 bytes; subject \x07CN=a|b\x1b]0;pwned\x07.",
				DeviceErrors:    []diagnose.DeviceError{{Code: "-0x7100", Name: "MBEDTLS_ERR_SSL_BAD_INPUT_DATA", Versions: "mbedTLS 2.28, 3.x"}},
				Fix:             "menuconfig: Component config → mbedTLS → TLS maximum incoming fragment length (CONFIG_MBEDTLS_SSL_IN_CONTENT_LEN) = 16384",
				WiresharkFilter: "tcp.stream eq 0 && frame.number >= 6",
			}},
			Timeline: []diagnose.Step{{Frame: 4, Time: t0, From: "client", What: "ClientHello (200 B)", Kind: "handshake"}},
		}},
		Findings: []diagnose.Finding{},
	}
}

func render(t *testing.T, f Format) string {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, hostileReport(), f, Options{Width: 100}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestTextHasNoControlCharacters(t *testing.T) {
	out := render(t, Text)
	for i, r := range out {
		if r < 0x20 && r != '\n' {
			t.Fatalf("control character %#x at %d in text output:\n%s", r, i, out)
		}
	}
	for _, want := range []string{"record-exceeds-device-buffer", "-0x7100 MBEDTLS_ERR_SSL_BAD_INPUT_DATA", "frames 6", `evil\x1b[2J`, "tcp.stream eq 0 && frame.number >= 6"} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
}

func TestMarkdownEscapesWireStrings(t *testing.T) {
	out := render(t, Markdown)
	if strings.Contains(out, "<script>") || strings.Contains(out, "\x1b") {
		t.Fatalf("markdown carries raw HTML or escapes:\n%s", out)
	}
	// Every table row keeps its column count: a '|' from the wire is escaped.
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "| 0 ") {
			cells := strings.Count(strings.ReplaceAll(line, `\|`, ""), "|")
			if cells != len(summaryHeader)+1 {
				t.Errorf("summary row has %d separators, want %d: %s", cells, len(summaryHeader)+1, line)
			}
		}
	}
	for _, want := range []string{"**ERROR** `record-exceeds-device-buffer`", "Device error: -0x7100 MBEDTLS\\_ERR\\_SSL\\_BAD\\_INPUT\\_DATA", "`tcp.stream eq 0 && frame.number >= 6`"} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}
}

func TestJSONRoundTrip(t *testing.T) {
	out := render(t, JSON)
	var back diagnose.Report
	if err := json.Unmarshal([]byte(out), &back); err != nil {
		t.Fatal(err)
	}
	c := back.Connections[0]
	if back.Schema != 1 || c.SNI != hostileReport().Connections[0].SNI || c.Findings[0].DeviceErrors[0].Code != "-0x7100" || c.Findings[0].Frames[0] != 6 {
		t.Fatalf("round trip lost data: %+v", c)
	}
	for _, key := range []string{`"tcp_stream"`, `"outcome"`, `"findings"`, `"device_errors"`, `"wireshark_filter"`, `"schema"`} {
		if !strings.Contains(out, key) {
			t.Errorf("JSON lacks %s", key)
		}
	}
}

func TestParseFormat(t *testing.T) {
	for _, f := range []string{"text", "markdown", "json"} {
		if _, err := ParseFormat(f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	if _, err := ParseFormat("xml"); err == nil {
		t.Error("xml accepted")
	}
}
