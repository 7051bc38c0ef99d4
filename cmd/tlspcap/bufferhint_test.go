package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"tlspcap/diagnose"
)

// TestBufferHintWithoutInContentLen: the ground-truth captures of a
// device with a 4096-byte input buffer, analysed without
// --in-content-len (the profile assumes the stock 16384), still give the
// error the real client printed first, and tell how to confirm it.
func TestBufferHintWithoutInContentLen(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/pcaps/*.expect.json")
	n := 0
	for _, sc := range files {
		s := readSidecar(t, sc)
		i := slices.Index(s.Args, "--in-content-len")
		if i < 0 || s.Args[i+1] != "4096" || len(s.Expect.Findings) == 0 || s.Expect.Findings[0] != "record-exceeds-device-buffer" {
			continue
		}
		var printed string
		for _, p := range s.Programs {
			if p.Role == "client" {
				printed = p.Result
			}
		}
		name := strings.TrimSuffix(filepath.Base(sc), ".expect.json")
		args := repoArgs(slices.Delete(slices.Clone(s.Args), i, i+2))
		rep, _ := analyzeJSON(t, append(args, filepath.Join("../../testdata/pcaps", name+".pcapng"))...)
		if len(rep.Connections) == 0 {
			t.Errorf("%s: no connection", name)
			continue
		}
		var root *diagnose.Finding
		for j, f := range rep.Connections[0].Findings {
			if f.Severity == diagnose.SeverityError {
				root = &rep.Connections[0].Findings[j]
				break
			}
		}
		n++
		if root == nil || len(root.DeviceErrors) == 0 || root.DeviceErrors[0].Code != printed {
			t.Errorf("%s without --in-content-len: root cause %+v, want the client's %s first", name, root, printed)
			continue
		}
		if root.ID != "mfl-not-acknowledged" && !strings.Contains(root.Fix, "rerun with `--in-content-len 4096`") {
			t.Errorf("%s: %s fix %q, want the rerun hint", name, root.ID, root.Fix)
		}
	}
	if n < 5 {
		t.Errorf("%d ground-truth captures checked, want the 5 of a 4096-byte buffer", n)
	}
}

// TestKeyLogOfAnotherRun: a TLS 1.3 capture whose certificate the device
// rejected (the alert readable, the chain encrypted) with the key log of
// another run: the report says the key log did not match, in the root
// cause and on the capture, instead of asking for one.
func TestKeyLogOfAnotherRun(t *testing.T) {
	b, err := os.ReadFile("../../testdata/pcaps/chain-untrusted-tls13.pcapng")
	if err != nil {
		t.Skip(err)
	}
	blind, _, err := stripSecrets(b)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "blind.pcapng")
	os.WriteFile(f, blind, 0o644)
	rep, _ := analyzeJSON(t, "--keylog", "../../testdata/pcaps/client-cert-rejected-tls13.keys", f)
	root := rep.Connections[0].Findings[0]
	if root.Severity != diagnose.SeverityError || !strings.Contains(root.Explanation, "the key log given holds no secrets for this connection (likely from another run)") {
		t.Errorf("root cause %s: %q", root.ID, root.Explanation)
	}
	if len(rep.Findings) == 0 || rep.Findings[len(rep.Findings)-1].ID != "key-log" ||
		rep.Findings[len(rep.Findings)-1].Title != "Key log: 1 client random, matched none of the 1 TLS connection" {
		t.Errorf("capture findings %+v", rep.Findings)
	}
}
