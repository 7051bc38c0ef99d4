// Package corpus finds the public capture corpus (../shared/pcaps beside the
// repository) that tests read in place, never copied into the project.
package corpus

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Pcaps returns the corpus directory: $TLSPCAP_SHARED (the shared dir or
// its pcaps subdir), else shared/pcaps beside the repository root. Without
// it the test is skipped, saying what is skipped.
func Pcaps(t testing.TB, what string) string {
	t.Helper()
	var cands []string
	if env := os.Getenv("TLSPCAP_SHARED"); env != "" {
		cands = append(cands, filepath.Join(env, "pcaps"), env)
	}
	if dir, err := os.Getwd(); err == nil {
		for ; dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				cands = append(cands, filepath.Join(dir, "..", "shared", "pcaps"))
				break
			}
		}
	}
	for _, c := range cands {
		if _, err := os.Stat(filepath.Join(c, "MANIFEST.tsv")); err == nil {
			return c
		}
	}
	t.Skipf("…/shared/pcaps not found (set TLSPCAP_SHARED): %s skipped", what)
	return ""
}

// Entry is one row of MANIFEST.tsv, its columns by header name.
type Entry struct {
	Path    string
	Packets int // tshark's frame count
	Row     map[string]string
}

// Captures returns the corpus's captures in MANIFEST order. Rows whose
// packets column is "-" are companion files listed beside a capture (test
// scripts, keys, baselines), not captures, and are left out.
func Captures(t testing.TB, dir string) []Entry {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	var header []string
	var out []Entry
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if header == nil {
			header = f
			continue
		}
		row := make(map[string]string, len(header))
		for i, h := range header {
			if i < len(f) {
				row[h] = f[i]
			}
		}
		if row["packets"] == "-" {
			continue
		}
		n, _ := strconv.Atoi(row["packets"])
		out = append(out, Entry{Path: row["path"], Packets: n, Row: row})
	}
	return out
}
