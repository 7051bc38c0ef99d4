// Package corpus finds the public capture corpus (../shared/pcaps beside the
// repository) that tests read in place, never copied into the project.
package corpus

import (
	"os"
	"path/filepath"
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
