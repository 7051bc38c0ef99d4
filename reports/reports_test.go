package reports

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"tlspcap/diagnose"
	"tlspcap/internal/wiretext"
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

func TestCutLongValues(t *testing.T) {
	long := strings.Repeat("a", 65536)
	if got, want := nameSafe(long), strings.Repeat("a", maxWord)+"… (65536 characters)"; got != want {
		t.Errorf("nameSafe(64 KB) = %q…", got[:40])
	}
	if got := nameSafe("evil\u202Emoc.elgoog"); got != `evil\u202Emoc.elgoog` {
		t.Errorf("nameSafe = %q", got)
	}
	// Prose keeps its words; only a word past maxWord is cut.
	prose := `The server sent "` + long + `" (certificate #1).`
	if got, want := termSafe(prose), `The server sent "`+strings.Repeat("a", maxWord-1)+`… (65538 characters) (certificate #1).`; got != want {
		t.Errorf("termSafe(prose) = %q", got)
	}
	spaced := strings.Repeat("word ", 2000)
	if got := termSafe(spaced); len([]rune(got)) != maxShown+len([]rune("… (10000 characters)")) || !strings.HasSuffix(got, "… (10000 characters)") {
		t.Errorf("termSafe(10000 characters of words) = …%q", got[len(got)-40:])
	}
	if got := mdEscape(nameSafe(long)); strings.Count(got, "characters)") != 1 {
		t.Errorf("a name cut twice: …%q", got[len(got)-60:])
	}
}

// TestJSONEscapesHidden: every JSON writer escapes what a reader cannot
// see, as \u escapes that decode to the same string.
func TestJSONEscapesHidden(t *testing.T) {
	in := "evil\u202Emoc.elgoog\u200B\u009b\x7f\U000E0041 é"
	var b bytes.Buffer
	if err := writeJSONLine(&b, map[string]string{"sni": in}); err != nil {
		t.Fatal(err)
	}
	if want := `{"sni":"evil\u202emoc.elgoog\u200b\u009b\u007f\udb40\udc41 é"}` + "\n"; b.String() != want {
		t.Errorf("got %s want %s", b.String(), want)
	}
	var back map[string]string
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || back["sni"] != in {
		t.Errorf("round trip %q, %v", back["sni"], err)
	}
}

// FuzzJSONString: whatever a wire string holds, the JSON decodes to it
// (bytes that are not UTF-8 as U+FFFD) and shows nothing hidden.
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{"evil\u202Emoc.elgoog", "\x1b[2J\u009b31m", "bad\xff\xc3", "\U000E0041\u2028", "ok"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var b bytes.Buffer
		if err := writeJSONLine(&b, []string{s}); err != nil {
			t.Fatal(err)
		}
		var back []string
		if err := json.Unmarshal(b.Bytes(), &back); err != nil || len(back) != 1 || back[0] != string([]rune(s)) {
			t.Fatalf("%q: JSON %s decodes to %q (%v)", s, b.Bytes(), back, err)
		}
		if out := strings.TrimSuffix(b.String(), "\n"); wiretext.Suspicious(out) {
			t.Fatalf("%q: JSON %q shows a hidden character", s, out)
		}
	})
}
