package diagnose

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tlspcap/capture"
	"tlspcap/diagnose/device"
)

// TestHelloShapes: every shape names a known profile, and every capture its
// source names has a client whose ClientHello matches that shape, so the
// table's sources stay true when the ground truth is rebuilt.
func TestHelloShapes(t *testing.T) {
	for _, s := range helloShapes {
		if _, ok := device.ProfileByName(s.profile); !ok {
			t.Errorf("shape %v: unknown profile %q", s.order, s.profile)
		}
		_, list, ok := strings.Cut(s.source, "(")
		if !ok {
			t.Errorf("shape %v: source %q names no capture", s.order, s.source)
			continue
		}
		for _, name := range strings.Split(strings.TrimSuffix(list, ")"), ", ") {
			path := filepath.Join("..", "testdata", "pcaps", name+".pcapng")
			if _, err := os.Stat(path); err != nil {
				t.Errorf("shape %v: source capture %s: %v", s.order, name, err)
				continue
			}
			a, err := NewAnalyzer(Options{})
			if err != nil {
				t.Fatal(err)
			}
			st, err := capture.ReadFile(path, a, capture.Options{})
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, c := range a.Report(path, st).Connections {
				if c.ClientLabel == s.label+" (a guess)" {
					found = true
				}
			}
			if !found {
				t.Errorf("shape %v: no client of %s has it", s.order, name)
			}
		}
	}
}
