package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// TestKeylogFlag: --keylog (repeatable) decrypts the TLS 1.3 handshake of
// The Illustrated TLS 1.3 Connection, so its server certificate is listed.
func TestKeylogFlag(t *testing.T) {
	dir := sharedPcaps(t)
	pcap := filepath.Join(dir, "illustrated-tls13", "capture.pcap")
	runCmd := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := run(args, strings.NewReader(""), &out, &errb)
		return code, out.String(), errb.String()
	}
	_, out, _ := runCmd("certs", "--no-progress", pcap)
	if strings.Contains(out, "CN=example.ulfheim.net") {
		t.Fatalf("certificate listed without keys:\n%s", out)
	}
	code, out, errs := runCmd("certs", "--no-progress",
		"--keylog", filepath.Join(dir, "illustrated-tls12", "keylog.txt"),
		"--keylog", filepath.Join(dir, "illustrated-tls13", "keylog.txt"), pcap)
	if code != 0 || !strings.Contains(out, "CN=example.ulfheim.net") {
		t.Errorf("exit %d, stderr %q; certificate not listed with keys:\n%s", code, errs, out)
	}
	code, out, _ = runCmd("analyze", "--no-progress", "--keylog", filepath.Join(dir, "illustrated-tls13", "keylog.txt"), pcap)
	if code != 0 || strings.Contains(out, "tls13-handshake-encrypted") || !strings.Contains(out, "application-data") {
		t.Errorf("analyze with keys: exit %d\n%s", code, out)
	}
	if code, _, errs := runCmd("records", "--keylog", filepath.Join(t.TempDir(), "missing.txt"), pcap); code != exitUsage || !strings.Contains(errs, "--keylog") {
		t.Errorf("missing key log: exit %d, stderr %q", code, errs)
	}
}
