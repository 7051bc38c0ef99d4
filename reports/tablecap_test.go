package reports

import (
	"bytes"
	"strings"
	"testing"

	"tlspcap/diagnose"
)

// A report with more connections than maxTableRows lists the first ones in
// the summary table of every human format and says how many are left out,
// by outcome; JSON lists them all.
func TestTableCap(t *testing.T) {
	const extra = 3
	r := &diagnose.Report{Schema: diagnose.Schema, Tool: "tlspcap", Profile: "esp32-idf5", Findings: []diagnose.Finding{}}
	for i := range maxTableRows + extra {
		c := &diagnose.Connection{Stream: i, Client: "10.0.0.1:1000", Server: "10.0.0.2:443", Outcome: diagnose.OutcomeOK, Stage: diagnose.StageApplicationData, Findings: []diagnose.Finding{}}
		if i >= maxTableRows+1 {
			c.Outcome = diagnose.OutcomeFailed
			c.Findings = []diagnose.Finding{{ID: "server-reset", Severity: diagnose.SeverityError, Frames: []int{i}, DeviceErrors: []diagnose.DeviceError{}}}
		}
		r.Connections = append(r.Connections, c)
	}
	r.Capture.Connections = len(r.Connections)
	const want = "3 more connections not listed in this table (the first 5000 are): 2 failed, 1 ok; --format json lists every connection."
	for _, f := range []Format{Text, Markdown, HTML} {
		var b bytes.Buffer
		if err := Write(&b, r, f, Options{}); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if !strings.Contains(out, want) {
			t.Errorf("%s: no line %q", f, want)
		}
		// The last listed row is stream 4999; 5000 appears only in detail.
		if strings.Contains(out, "| 5000 |") || strings.Contains(out, "│ 5000 ") || strings.Contains(out, `data-stream="5000"><td>`) {
			t.Errorf("%s: stream 5000 is in the table", f)
		}
		for _, s := range []string{"5001", "5002"} { // failed: still detailed
			if !strings.Contains(out, "tcp.stream "+s) {
				t.Errorf("%s: failed tcp.stream %s not detailed", f, s)
			}
		}
	}
	var b bytes.Buffer
	if err := Write(&b, r, JSON, Options{}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), `"tcp_stream"`); n != maxTableRows+extra {
		t.Errorf("JSON lists %d connections, want %d", n, maxTableRows+extra)
	}
}

// Past maxTableRows connections with errors, the HTML report details the
// first ones and says how many more there are (the text report details all).
func TestHTMLDetailsCap(t *testing.T) {
	r := &diagnose.Report{Schema: diagnose.Schema, Tool: "tlspcap", Profile: "esp32-idf5", Findings: []diagnose.Finding{}}
	for i := range maxTableRows + 3 {
		r.Connections = append(r.Connections, &diagnose.Connection{Stream: i, Client: "10.0.0.1:1000", Server: "10.0.0.2:443",
			Outcome: diagnose.OutcomeFailed, Stage: diagnose.StageClientHello,
			Findings: []diagnose.Finding{{ID: "server-reset", Severity: diagnose.SeverityError, Frames: []int{i + 1}, DeviceErrors: []diagnose.DeviceError{}}}})
	}
	var b bytes.Buffer
	if err := Write(&b, r, HTML, Options{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if n := strings.Count(out, `<section id="stream-`); n != maxTableRows {
		t.Errorf("%d connections detailed, want %d", n, maxTableRows)
	}
	if want := "3 more connection(s) with errors or warnings are not detailed here (the first 5000 are)"; !strings.Contains(out, want) {
		t.Errorf("no %q", want)
	}
}
