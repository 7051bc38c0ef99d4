package main

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// fuzzDeadline bounds one input's analysis in every format. The inputs are
// a few KB: taking longer means a loop that does not end.
const fuzzDeadline = 20 * time.Second

// FuzzAnalyze feeds arbitrary bytes through the whole analyze pipeline
// (reader, decoding, reassembly, TLS, diagnosis) and every report format:
// a report always comes, or an error, and no byte of either hides text or
// acts on a terminal.
// The seed corpus in testdata/fuzz/FuzzAnalyze holds small captures of
// testdata/pcaps and testdata/malformed.
func FuzzAnalyze(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		// The fuzzing engine has no per-input timeout: a hang would stall a
		// worker silently. Crash instead, with every goroutine's stack, so
		// the input is saved.
		watchdog := time.AfterFunc(fuzzDeadline, func() {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			panic(fmt.Sprintf("analyze of a %d-byte input still running after %v\n%s", len(data), fuzzDeadline, buf))
		})
		defer watchdog.Stop()
		for _, format := range []string{"text", "markdown", "json", "html", "json --redact"} {
			var out, errb bytes.Buffer
			args := append([]string{"analyze", "--no-progress", "--format"}, strings.Fields(format)...)
			code := run(append(args, "-"), bytes.NewReader(data), &out, &errb)
			checkNothingHidden(t, format, out.Bytes())
			checkNothingHidden(t, format+" (stderr)", errb.Bytes())
			switch code {
			case exitOK, exitFailed:
				if out.Len() == 0 {
					t.Fatalf("%s: exit %d without a report", format, code)
				}
			case exitUsage:
				if errb.Len() == 0 {
					t.Fatalf("%s: exit 2 without an error message", format)
				}
			default:
				t.Fatalf("%s: exit %d", format, code)
			}
		}
	})
}
