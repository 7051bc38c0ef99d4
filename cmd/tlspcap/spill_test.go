package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"tlspcap/diagnose"
	"tlspcap/internal/corpus"
)

// spillViews are the outputs compared with and without the temporary file
// of verdicts: every report format, --redact, and the listings.
var spillViews = [][]string{
	{"analyze", "--format", "json"},
	{"analyze", "--format", "text", "--all"},
	{"analyze", "--format", "markdown", "--all"},
	{"analyze", "--format", "html", "--all"},
	{"analyze", "--format", "json", "--redact"},
	{"analyze", "--format", "html", "--redact"},
	{"records", "--format", "json"},
	{"certs", "--format", "text"},
	{"records", "--format", "json", "--redact"},
	{"certs", "--format", "text", "--redact"},
}

// runSpilled runs args with diagnose.SpillAfter set to n.
func runSpilled(t *testing.T, n int, args []string) (int, string) {
	t.Helper()
	defer func(old int) { diagnose.SpillAfter = old }(diagnose.SpillAfter)
	diagnose.SpillAfter = n
	var out, errOut bytes.Buffer
	code := run(append([]string{args[0], "--no-progress"}, args[1:]...), strings.NewReader(""), &out, &errOut)
	return code, out.String() + errOut.String()
}

// TestSpilledReportsEqual: past diagnose.SpillAfter the verdicts go to a
// temporary file and are read back while rendering; every format must
// come out byte for byte as from memory, on every ground-truth capture
// (all verdicts spilled) and on public captures with many connections
// (spilled from the third on, so the hand-over is crossed too).
func TestSpilledReportsEqual(t *testing.T) {
	var caps []capt
	scs, _ := filepath.Glob("../../testdata/pcaps/*.expect.json")
	for _, sc := range scs {
		s := readSidecar(t, sc)
		caps = append(caps, capt{filepath.Base(sc), append(repoArgs(s.Args), strings.TrimSuffix(sc, ".expect.json")+".pcapng")})
	}
	if len(caps) == 0 {
		t.Fatal("no ground-truth captures in testdata/pcaps")
	}
	t.Run("ground-truth", func(t *testing.T) { compareSpilled(t, caps, 0) })
	t.Run("public", func(t *testing.T) {
		dir := corpus.Pcaps(t, "spilled reports of public captures with many connections")
		var pub []capt
		for _, p := range []string{"suricata-verify/base64-decode-5885/input.pcap", "mercury/surfshark.pcap", "arkime/arkime_synthetic.pcap"} {
			p = filepath.Join(dir, p)
			pub = append(pub, capt{p, []string{p}})
		}
		compareSpilled(t, pub, 2)
	})
}

type capt struct {
	name string
	args []string
}

// compareSpilled renders every view of each capture from memory and with
// verdicts spilled from the (spillAt+1)th on.
func compareSpilled(t *testing.T, caps []capt, spillAt int) {
	for _, c := range caps {
		for _, v := range spillViews {
			args := append(append([]string(nil), v...), c.args...)
			wantCode, want := runSpilled(t, 1<<30, args)
			gotCode, got := runSpilled(t, spillAt, args)
			if gotCode != wantCode || got != want {
				t.Errorf("%s %s: spilled output differs (exit %d, want %d):\n%s", c.name, strings.Join(v, " "), gotCode, wantCode, firstDiff(want, got))
			}
		}
	}
}
