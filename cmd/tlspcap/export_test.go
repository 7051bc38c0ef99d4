package main

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"tlspcap/capture"
	"tlspcap/diagnose"
	"tlspcap/internal/pcapbuild"
)

// analyzeJSON runs analyze --format json with args and decodes the report.
func analyzeJSON(t *testing.T, args ...string) (*diagnose.Report, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(append([]string{"analyze", "--format", "json", "--no-progress"}, args...), nil, &out, &errb)
	// An export with nothing failing holds no packet: analyze says it
	// analysed nothing (exit 2), in the report too.
	if code == exitUsage && !strings.Contains(out.String(), `"nothing_analysed"`) {
		t.Fatalf("tlspcap analyze %s: exit %d: %s", strings.Join(args, " "), code, errb.String())
	}
	var rep diagnose.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("bad JSON: %v", err)
	}
	return &rep, errb.String()
}

// sidecarArgs returns a scenario's analyze flags, paths made relative to here.
func sidecarArgs(t *testing.T, name string) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("../../testdata/pcaps", name+".expect.json"))
	if err != nil {
		t.Skipf("scenario %s not available: %v", name, err)
	}
	var s sidecar
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	return repoArgs(s.Args)
}

// findingKey is what must survive the export: id, severity, device error
// codes, and the frames, renumbered.
func findingKey(f diagnose.Finding, renum func(int) int) string {
	var frames, codes []string
	for _, n := range f.Frames {
		frames = append(frames, fmt.Sprint(renum(n)))
	}
	for _, e := range f.DeviceErrors {
		codes = append(codes, e.Code)
	}
	return fmt.Sprintf("%s/%s frames [%s] errors [%s]", f.ID, f.Severity, strings.Join(frames, " "), strings.Join(codes, " "))
}

// checkRoundTrip exports the failing connections of the capture, analyses
// the export with the same flags and compares: the same failing
// connections with the same findings, device errors and times, at the
// renumbered frames; nothing else.
func checkRoundTrip(t *testing.T, in string, args []string) (orig, back *diagnose.Report, kept []int) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "failing.pcapng")
	orig, stderr := analyzeJSON(t, append(append([]string{}, args...), "--export-failing", out, in)...)
	if !strings.Contains(stderr, "wrote ") {
		t.Fatalf("no export summary on stderr: %q", stderr)
	}
	// The exported frames, as the export's frame numbers map them.
	kept = exportedFrames(t, in, out)
	renum := func(n int) int {
		if n == 0 { // no frame (a connection that never ended)
			return 0
		}
		i := slices.Index(kept, n)
		if i < 0 {
			t.Errorf("frame %d is cited by a finding but not in the export", n)
		}
		return i + 1
	}
	back, _ = analyzeJSON(t, append(append([]string{}, args...), out)...)
	var want, got []string
	for _, c := range orig.Connections {
		if !c.Failed() {
			continue
		}
		s := fmt.Sprintf("%s→%s %s first %d ends %s/%s frame %d at %s start %s:", c.Client, c.Server, c.Outcome, renum(c.FirstFrame),
			c.Ending.By, c.Ending.How, renum(c.Ending.Frame), c.Ending.Time.Format(time.RFC3339Nano), c.Start.Format(time.RFC3339Nano))
		for _, f := range c.Findings {
			if f.Severity != diagnose.SeverityInfo {
				s += " " + findingKey(f, renum)
			}
		}
		want = append(want, s)
	}
	for _, c := range back.Connections {
		s := fmt.Sprintf("%s→%s %s first %d ends %s/%s frame %d at %s start %s:", c.Client, c.Server, c.Outcome, c.FirstFrame,
			c.Ending.By, c.Ending.How, c.Ending.Frame, c.Ending.Time.Format(time.RFC3339Nano), c.Start.Format(time.RFC3339Nano))
		for _, f := range c.Findings {
			if f.Severity != diagnose.SeverityInfo {
				s += " " + findingKey(f, func(n int) int { return n })
			}
		}
		got = append(got, s)
	}
	for _, f := range orig.Findings {
		if f.Severity == diagnose.SeverityError {
			want = append(want, "capture: "+findingKey(f, renum))
		}
	}
	for _, f := range back.Findings {
		if f.Severity == diagnose.SeverityError {
			got = append(got, "capture: "+findingKey(f, func(n int) int { return n }))
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("export of %s analyses differently:\n got %q\nwant %q", in, got, want)
	}
	if back.Capture.Frames != len(kept) {
		t.Errorf("export holds %d frames, the export said %d", back.Capture.Frames, len(kept))
	}
	return orig, back, kept
}

// exportedFrames matches each packet of the export with the input's by
// timestamp and bytes, which a copy keeps: the original frame numbers of
// the export's packets, in order.
func exportedFrames(t *testing.T, in, out string) []int {
	t.Helper()
	a, b := packetsOf(t, in), packetsOf(t, out)
	var kept []int
	j := 0
	for _, p := range b {
		for j < len(a) && (a[j].ts != p.ts || a[j].sum != p.sum) {
			j++
		}
		if j == len(a) {
			t.Fatalf("export packet at %s is not in the input (in order)", p.ts)
		}
		kept = append(kept, j+1)
		j++
	}
	return kept
}

type pkt struct {
	ts  time.Time
	sum string
}

// packetsOf lists a capture's packets: time, link type, bytes.
func packetsOf(t *testing.T, path string) []pkt {
	t.Helper()
	var ps []pkt
	err := capture.Packets(path, func(ts time.Time, linkType uint32, data []byte, wireLen int) {
		ps = append(ps, pkt{ts: ts, sum: fmt.Sprintf("%d/%d/%x", linkType, wireLen, data)})
	})
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// TestExportFailingScenarios round-trips every ground-truth capture that
// fails; the healthy ones export nothing.
func TestExportFailingScenarios(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/pcaps/*.expect.json")
	if len(files) == 0 {
		t.Skip("no testdata/pcaps/*.expect.json")
	}
	for _, sc := range files {
		name := strings.TrimSuffix(filepath.Base(sc), ".expect.json")
		t.Run(name, func(t *testing.T) {
			in := filepath.Join("../../testdata/pcaps", name+".pcapng")
			orig, back, kept := checkRoundTrip(t, in, sidecarArgs(t, name))
			if orig.Failed() != back.Failed() {
				t.Errorf("failed: original %v, export %v", orig.Failed(), back.Failed())
			}
			if orig.Failed() != (len(kept) > 0) {
				t.Errorf("failed %v, but %d packets exported", orig.Failed(), len(kept))
			}
		})
	}
}

// TestExportMixed builds a capture with healthy and failing connections
// interleaved, DNS for both, and checks the export holds exactly the
// failing ones' packets and their DNS.
func TestExportMixed(t *testing.T) {
	ok := pcapbuild.NewChain("ok.example", 0)
	broker := pcapbuild.NewChain("broker.example", 0)
	exch := func(ch *pcapbuild.Chain, name string) []pcapbuild.Write {
		cc := &tls.Config{ServerName: name, RootCAs: ch.Pool(), MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12,
			Time: func() time.Time { return time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC) }}
		sc := &tls.Config{Certificates: []tls.Certificate{ch.TLSCertificate(true)}, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12}
		ws, cerr, serr := pcapbuild.Exchange(cc, sc)
		if cerr != nil || serr != nil {
			t.Fatalf("exchange: client %v, server %v", cerr, serr)
		}
		return ws
	}
	wsOK, wsBroker := exch(ok, "ok.example"), exch(broker, "broker.example")

	c := pcapbuild.New()
	var want []int // frames the export must hold
	mark := func(from int) {
		for f := from; f <= c.Frames(); f++ {
			want = append(want, f)
		}
	}
	const dev, resolver = "192.168.4.23", "192.168.4.1:53"
	c.DNS(dev+":40000", resolver, 1, "ok.example", false, 0)
	c.DNS(dev+":40000", resolver, 1, "ok.example", true, 0, netip.MustParseAddr("203.0.113.20"))
	n := c.Frames() + 1
	c.DNS(dev+":40001", resolver, 2, "broker.example", false, 0)
	c.DNS(dev+":40001", resolver, 2, "broker.example", true, 0, netip.MustParseAddr("203.0.113.10"))
	mark(n)
	healthy := c.Conn(dev+":50000", "203.0.113.20:443")
	healthy.Handshake()
	healthy.SendSegments(wsOK[0].Dir, wsOK[0].Data, 1460)
	// The failing connection starts while the healthy one is under way:
	// the server resets it after the ClientHello.
	n = c.Frames() + 1
	failing := c.Conn(dev+":50001", "203.0.113.10:443")
	failing.Handshake()
	failing.Send(pcapbuild.C2S, wsBroker[0].Data)
	mark(n)
	for _, w := range wsOK[1:] {
		healthy.SendSegments(w.Dir, w.Data, 1460)
	}
	n = c.Frames() + 1
	failing.RST(pcapbuild.S2C)
	// And a refused connection to the broker's MQTT port.
	refused := c.Conn(dev+":50002", "203.0.113.10:8883")
	refused.SYN()
	refused.RSTToSYN()
	mark(n)
	healthy.FIN(pcapbuild.C2S)
	healthy.FIN(pcapbuild.S2C)
	c.DNS(dev+":40002", resolver, 3, "unrelated.example", false, layers.DNSResponseCodeNoErr)

	in := filepath.Join(t.TempDir(), "mixed.pcap")
	if err := os.WriteFile(in, c.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"--device", dev}
	orig, back, kept := checkRoundTrip(t, in, args)
	if !slices.Equal(kept, want) {
		t.Errorf("exported frames %v, want %v", kept, want)
	}
	var okConns int
	for _, c := range orig.Connections {
		if c.Outcome == diagnose.OutcomeOK {
			okConns++
		}
	}
	if okConns != 1 || len(orig.Connections) != 3 {
		t.Fatalf("the mixed capture should have 1 healthy of 3 connections: %d of %d", okConns, len(orig.Connections))
	}
	for _, c := range back.Connections {
		if strings.Contains(c.Server, "203.0.113.20") || c.SNI == "ok.example" {
			t.Errorf("healthy connection %s → %s in the export", c.Client, c.Server)
		}
	}
}

func TestExportFailingUsage(t *testing.T) {
	code, _, errs := tlspcap(t, "analyze", "--export-failing", filepath.Join(t.TempDir(), "x.pcapng"), "-")
	if code != exitUsage || !strings.Contains(errs, "--export-failing needs a capture file") {
		t.Errorf("stdin: exit %d, %q", code, errs)
	}
	code, _, errs = tlspcap(t, "analyze", "--export-failing", bigChain, bigChain)
	if code != exitUsage || !strings.Contains(errs, "that is the input file") {
		t.Errorf("export over the input: exit %d, %q", code, errs)
	}
	out := filepath.Join(t.TempDir(), "x.pcapng")
	code, _, errs = tlspcap(t, "analyze", "--redact", "--export-failing", out, "--in-content-len", "4096", bigChain)
	if code != exitFailed || !strings.Contains(errs, "--redact applies to the report only: "+out+" holds the original packets") {
		t.Errorf("--redact with --export-failing: exit %d, %q", code, errs)
	}
}
