package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"tlspcap/capture"
	"tlspcap/diagnose"
	"tlspcap/internal/corpus"
)

// sharedPcaps finds the public capture corpus beside the repository.
func sharedPcaps(t *testing.T) string {
	return corpus.Pcaps(t, "public capture tests")
}

// TestPublicCaptures runs analyze over every public capture: it must never
// fail to read one, every format reports the same counts (and the
// Markdown's tables render as tables), and on the captures tshark shows as healthy (MANIFEST:
// TLS records, no alert, no RST in TLS streams) the error findings must be
// exactly those reviewed in testdata/public-errors.tsv.
func TestPublicCaptures(t *testing.T) {
	dir := sharedPcaps(t)
	reviewed := map[string]string{}
	if b, err := os.ReadFile("../../testdata/public-errors.tsv"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Split(l, "\t"); len(f) >= 3 && !strings.HasPrefix(l, "#") {
				reviewed[f[0]] = f[1]
			}
		}
	}
	healthy, clean := 0, 0
	var update []string
	for _, e := range corpus.Captures(t, dir) {
		row := e.Row
		path := row["path"]
		var out, errb bytes.Buffer
		code := run([]string{"analyze", "--format", "json", "--no-progress", filepath.Join(dir, path)}, nil, &out, &errb)
		var rep struct {
			diagnose.Report
			Summary diagnose.Summary `json:"summary"`
		}
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
			t.Errorf("%s: bad JSON: %v (exit %d: %s)", path, err, code, errb.String())
			continue
		}
		// Exit 2 only for a capture without TCP, which the report says.
		if nothing := rep.Summary.Nothing != nil && rep.Capture.Connections == 0; (code == exitUsage) != (nothing && rep.Summary.Verdict() == diagnose.VerdictNothing) {
			t.Errorf("%s: exit %d, nothing analysed %+v: %s", path, code, rep.Summary.Nothing, errb.String())
			continue
		}
		checkNothingLost(t, filepath.Join(dir, path), row["packets"], &rep.Report)
		checkFormatsAgree(t, path, out.Bytes(), &rep.Report, code)
		if row["alerts"] != "-" || row["rst_pkts_in_tls_streams"] != "0" || row["tls_records"] == "0" {
			continue
		}
		healthy++
		ids := map[string]bool{}
		for _, c := range rep.Connections {
			for _, fd := range c.Findings {
				if fd.Severity == diagnose.SeverityError {
					ids[string(fd.ID)] = true
				}
			}
		}
		for _, fd := range rep.Findings {
			if fd.Severity == diagnose.SeverityError {
				ids[string(fd.ID)] = true
			}
		}
		var got []string
		for id := range ids {
			got = append(got, id)
		}
		sort.Strings(got)
		g := strings.Join(got, ",")
		if g == "" {
			clean++
		}
		if g != reviewed[path] {
			t.Errorf("%s: error findings %q, reviewed %q (testdata/public-errors.tsv)", path, g, reviewed[path])
		}
		if g != "" {
			update = append(update, path+"\t"+g)
		}
	}
	t.Logf("public captures: %d healthy per tshark, %d without any error finding", healthy, clean)
	if os.Getenv("TLSPCAP_PRINT_PUBLIC_ERRORS") != "" {
		t.Log("\n" + strings.Join(update, "\n"))
	}
}

// streamSet records the tcp.stream of every connection the capture stage
// finds (capture's own tests hold those equal to tshark's).
type streamSet map[int]bool

func (s streamSet) Conn(c *capture.Conn) capture.ConnHandler { s[c.Stream] = true; return nil }
func (s streamSet) DNS(*capture.DNSMessage)                  {}
func (s streamSet) Problem(capture.Problem)                  {}

// checkNothingLost: every frame of the file is accounted for in the report
// (a TCP packet analysed, another packet, undecodable, or a duplicate), the
// frame count is tshark's (MANIFEST), and every TCP connection the capture
// holds is in the report.
func checkNothingLost(t *testing.T, file, tsharkPackets string, rep *diagnose.Report) {
	t.Helper()
	c := rep.Capture
	if sum := c.TCPPackets + c.OtherPackets + c.Undecodable + c.Duplicates; sum != c.Frames {
		t.Errorf("%s: %d frames, but %d TCP + %d other + %d undecodable + %d duplicates = %d", file, c.Frames, c.TCPPackets, c.OtherPackets, c.Undecodable, c.Duplicates, sum)
	}
	if n, err := strconv.Atoi(tsharkPackets); err == nil && n != c.Frames {
		t.Errorf("%s: %d frames, tshark counts %d", file, c.Frames, n)
	}
	want := streamSet{}
	if _, err := capture.ReadFile(file, want, capture.Options{}); err != nil && len(want) == 0 {
		return // an unreadable file: TestPublicCaptures reports the analyze error
	}
	got := map[int]bool{}
	for _, conn := range rep.Connections {
		got[conn.Stream] = true
	}
	// A stream can hold two connections (ports reused after a RST): both
	// are listed under the stream's number, as tshark numbers them.
	if len(got) != len(want) || c.Connections != len(rep.Connections) {
		t.Errorf("%s: the capture holds %d tcp.streams, the report lists %d (%d connections, tcp_connections %d)", file, len(want), len(got), len(rep.Connections), c.Connections)
		return
	}
	for s := range want {
		if !got[s] {
			t.Errorf("%s: tcp.stream %d is missing from the report", file, s)
		}
	}
}
