package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"tlspcap/diagnose"
)

// sidecar is testdata/pcaps/NAME.expect.json: what real programs reported
// and what tlspcap must conclude (see testdata/gen/README.md).
type sidecar struct {
	Description string `json:"description"`
	Programs    []struct {
		Role    string `json:"role"`
		Cmd     string `json:"cmd"`
		Printed string `json:"printed"`
		Result  string `json:"result"`
	} `json:"programs"`
	Args   []string `json:"args"`
	Expect struct {
		Stream      int      `json:"stream"`
		Outcome     string   `json:"outcome"`
		Findings    []string `json:"findings"`
		DeviceError string   `json:"device_error"`
		Frames      []int    `json:"frames"`
		// ClientLabelNot must not appear in the connection's client_label.
		ClientLabelNot string `json:"client_label_not"`
		// Certificates: the server certificates tlspcap must list (TLS 1.3:
		// read from the handshake it decrypted with the capture's key log).
		Certificates int `json:"certificates"`
	} `json:"expect"`
}

// TestScenarios replays every ground-truth capture through the CLI and checks
// the root cause, its frame and the device's error against what the real
// programs did.
func TestScenarios(t *testing.T) {
	// TLSPCAP_PCAPS checks another directory of scenarios, e.g. a suite
	// just rebuilt with `go run ./testdata/gen/scenarios -out DIR`.
	dir := "../../testdata/pcaps"
	if d := os.Getenv("TLSPCAP_PCAPS"); d != "" {
		dir = d
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.expect.json"))
	if len(files) == 0 {
		t.Skipf("no %s/*.expect.json", dir)
	}
	sort.Strings(files)
	var causes, causesOK, codes, codesOK int
	for _, sc := range files {
		name := strings.TrimSuffix(filepath.Base(sc), ".expect.json")
		t.Run(name, func(t *testing.T) {
			s := readSidecar(t, sc)
			pcap := strings.TrimSuffix(sc, ".expect.json") + ".pcapng"
			if _, err := os.Stat(pcap); err != nil {
				pcap = strings.TrimSuffix(sc, ".expect.json") + ".pcap"
			}
			// Files the sidecar names next to the captures (CA files, key
			// logs) belong to the suite being checked.
			sargs := slices.Clone(s.Args)
			for i, a := range sargs {
				if rest, ok := strings.CutPrefix(a, "testdata/pcaps/"); ok {
					sargs[i] = filepath.Join(dir, rest)
				}
			}
			args := append([]string{"analyze", "--format", "json", "--no-progress"}, repoArgs(sargs)...)
			args = append(args, pcap)
			var out, errb bytes.Buffer
			code := run(args, nil, &out, &errb)
			if code == exitUsage {
				t.Fatalf("tlspcap %s: exit %d: %s", strings.Join(args, " "), code, errb.String())
			}
			var rep diagnose.Report
			if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
				t.Fatalf("bad JSON: %v", err)
			}
			// stream -1: a capture-level scenario (DNS); its outcome is the
			// capture's.
			findings, outcome := rep.Findings, ""
			if s.Expect.Stream < 0 {
				outcome = "ok"
				if rep.Failed() {
					outcome = "failed"
				}
			}
			for _, c := range rep.Connections {
				if c.Stream == s.Expect.Stream {
					findings = append(c.Findings, rep.Findings...)
					outcome = string(c.Outcome)
					if no := s.Expect.ClientLabelNot; no != "" && strings.Contains(c.ClientLabel, no) {
						t.Errorf("stream %d client_label = %q, must not say %s", c.Stream, c.ClientLabel, no)
					}
					if n := s.Expect.Certificates; n > 0 && len(c.Certificates) != n {
						t.Errorf("stream %d: %d server certificates, want %d (TLS 1.3: decrypted with the capture's key log)", c.Stream, len(c.Certificates), n)
					}
				}
			}
			if s.Expect.Outcome != "" && outcome != s.Expect.Outcome {
				t.Errorf("stream %d outcome = %q, want %q", s.Expect.Stream, outcome, s.Expect.Outcome)
			}
			// The root cause of a failure is tlspcap's first error finding; on
			// a connection that did not fail (a warning, a capture problem) it
			// is the first finding the sidecar lists.
			failed := s.Expect.Outcome == "failed" || s.Expect.Outcome == "not-tls" || s.Expect.Outcome == ""
			got := map[string]diagnose.Finding{}
			var rootCause *diagnose.Finding
			for i, f := range findings {
				if _, ok := got[string(f.ID)]; !ok {
					got[string(f.ID)] = f
				}
				if rootCause != nil {
					continue
				}
				if (failed && f.Severity == diagnose.SeverityError) || (!failed && len(s.Expect.Findings) > 0 && string(f.ID) == s.Expect.Findings[0]) {
					rootCause = &findings[i]
				}
			}
			for _, id := range s.Expect.Findings {
				if _, ok := got[id]; !ok {
					t.Errorf("finding %s missing; got %s", id, ids(findings))
				}
			}
			if len(s.Expect.Findings) == 0 {
				if rootCause = firstError(findings); rootCause != nil {
					t.Errorf("healthy scenario has error finding %s: %s", rootCause.ID, rootCause.Explanation)
				}
				return
			}
			causes++
			ok := rootCause != nil && string(rootCause.ID) == s.Expect.Findings[0]
			if !ok {
				t.Errorf("root cause = %v, want %s (findings %s)", idOf(rootCause), s.Expect.Findings[0], ids(findings))
			} else if len(s.Expect.Frames) > 0 && (len(rootCause.Frames) == 0 || rootCause.Frames[0] != s.Expect.Frames[0]) {
				t.Errorf("%s frames = %v, want first %d", rootCause.ID, rootCause.Frames, s.Expect.Frames[0])
				ok = false
			}
			if ok {
				causesOK++
			}
			if s.Expect.DeviceError != "" {
				codes++
				if rootCause != nil && len(rootCause.DeviceErrors) > 0 && strings.EqualFold(rootCause.DeviceErrors[0].Code, s.Expect.DeviceError) {
					codesOK++
				} else {
					var got []string
					if rootCause != nil {
						for _, e := range rootCause.DeviceErrors {
							got = append(got, e.Code)
						}
					}
					t.Errorf("device error = %v, want %s first", got, s.Expect.DeviceError)
				}
			}
		})
	}
	summary := fmt.Sprintf("diagnosis: %d/%d root causes, %d/%d device errors", causesOK, causes, codesOK, codes)
	t.Log(summary)
	if p := os.Getenv("TLSPCAP_SUMMARY"); p != "" {
		os.WriteFile(p, []byte(summary+"\n"), 0o644)
	}
}

func ids(fs []diagnose.Finding) string {
	var s []string
	for _, f := range fs {
		s = append(s, string(f.ID)+"("+string(f.Severity)+")")
	}
	return "[" + strings.Join(s, " ") + "]"
}

func idOf(f *diagnose.Finding) string {
	if f == nil {
		return "none"
	}
	return string(f.ID)
}

func firstError(fs []diagnose.Finding) *diagnose.Finding {
	for i, f := range fs {
		if f.Severity == diagnose.SeverityError {
			return &fs[i]
		}
	}
	return nil
}

// repoArgs maps the files a sidecar names (relative to the repository
// root) to paths from this package's directory.
func repoArgs(args []string) []string {
	out := make([]string, 0, len(args))
	for _, a := range args {
		if strings.HasPrefix(a, "testdata/") {
			a = "../../" + a
		}
		out = append(out, a)
	}
	return out
}
