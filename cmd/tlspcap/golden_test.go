package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current output")

// goldenCaptures: a healthy connection, a record too big for the device,
// an incomplete chain, a server reset, a DNS failure.
var goldenCaptures = []string{
	"healthy-tls12-mbedtls36",
	"big-chain-4096-mbedtls36",
	"chain-incomplete",
	"server-reset-after-hello",
	"dns-nxdomain",
}

var goldenExt = map[string]string{"text": "txt", "markdown": "md", "json": "json", "html": "html"}

// TestGolden renders every format of the golden captures (and a redacted
// one) and compares byte for byte with testdata/golden; go test
// ./cmd/tlspcap -run Golden -update rewrites the files. The capture path
// is relative and output goes to a buffer (no colour, no terminal width),
// so the files are the same on every machine.
func TestGolden(t *testing.T) {
	type run struct {
		name, capture string
		extra         []string
	}
	var runs []run
	for _, c := range goldenCaptures {
		runs = append(runs, run{c, c, nil})
	}
	runs = append(runs, run{"chain-incomplete.redacted", "chain-incomplete", []string{"--redact"}})
	for _, r := range runs {
		for _, format := range []string{"text", "markdown", "json", "html"} {
			t.Run(r.name+"/"+format, func(t *testing.T) {
				in := "../../testdata/pcaps/" + r.capture + ".pcapng"
				args := append([]string{"analyze", "--no-progress", "--format", format}, sidecarArgs(t, r.capture)...)
				args = append(append(args, r.extra...), in)
				got := goldenRun(t, args)
				if again := goldenRun(t, args); !bytes.Equal(got, again) {
					t.Fatal("two runs give different output")
				}
				path := filepath.Join("../../testdata/golden", r.name+"."+goldenExt[format])
				if *update {
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, got, 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test ./cmd/tlspcap -run Golden -update)", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("output differs from %s (if the change is intended: go test ./cmd/tlspcap -run Golden -update)\n%s", path, firstDiff(string(want), string(got)))
				}
			})
		}
	}
}

func goldenRun(t *testing.T, args []string) []byte {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(args, nil, &out, &errb); code == exitUsage {
		t.Fatalf("tlspcap %s: exit %d: %s", strings.Join(args, " "), code, errb.String())
	}
	wd, _ := os.Getwd()
	for _, bad := range []string{"\x1b[", filepath.Dir(filepath.Dir(wd)), os.TempDir()} {
		if bytes.Contains(out.Bytes(), []byte(bad)) {
			t.Errorf("output contains %q: colour or an absolute path", bad)
		}
	}
	return out.Bytes()
}

// firstDiff shows the first line that differs.
func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\n want %s\n  got %s", i+1, a, b)
		}
	}
	return ""
}
