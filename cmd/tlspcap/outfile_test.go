package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// copyTo copies a bundled file into dir and returns its path and bytes.
func copyTo(t *testing.T, dir, src, name string) (string, []byte) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p, b
}

// No output flag may name an input, by its path, a symbolic link or a
// hard link: the command refuses before writing anything.
func TestOutputIsNeverAnInput(t *testing.T) {
	dir := t.TempDir()
	const pcaps = "../../testdata/pcaps/"
	capPath, capBytes := copyTo(t, dir, pcaps+"chain-incomplete.pcapng", "c.pcapng")
	keys, keyBytes := copyTo(t, dir, pcaps+"browser-chain-incomplete-tls13.keys", "k.keys")
	ca, caBytes := copyTo(t, dir, pcaps+"ca-cross-root-a.pem", "ca.pem")
	pem, pemBytes := copyTo(t, dir, pcaps+"browser-viewer-leaf-path.pem", "browser.pem")
	link := filepath.Join(dir, "link.pcapng")
	if err := os.Symlink("c.pcapng", link); err != nil {
		t.Fatal(err)
	}
	hard := filepath.Join(dir, "hard.pcapng")
	if err := os.Link(capPath, hard); err != nil {
		t.Fatal(err)
	}
	keyLink := filepath.Join(dir, "keys-link")
	if err := os.Symlink(keys, keyLink); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		args   []string
		victim string
		want   []byte
		msg    string
	}{
		{"analyze -o capture", []string{"analyze", "-o", capPath, capPath}, capPath, capBytes, "-o " + capPath + ": that is the input file (the capture)"},
		{"analyze -o symlink to capture", []string{"analyze", "-o", link, capPath}, capPath, capBytes, "-o " + link + ": that is the input file (the capture) " + capPath},
		{"analyze -o hard link of capture", []string{"analyze", "--format", "json", "-o", hard, capPath}, capPath, capBytes, "-o " + hard + ": that is the input file (the capture) " + capPath},
		{"analyze capture by symlink, -o capture", []string{"analyze", "-o", capPath, link}, capPath, capBytes, "that is the input file (the capture) " + link},
		{"records -o capture", []string{"records", "-o", hard, capPath}, capPath, capBytes, "that is the input file (the capture)"},
		{"certs -o capture", []string{"certs", "-o", link, capPath}, capPath, capBytes, "that is the input file (the capture)"},
		{"-o key log", []string{"analyze", "--keylog", keys, "-o", keys, capPath}, keys, keyBytes, "-o " + keys + ": that is the input file given as --keylog"},
		{"-o link to key log", []string{"records", "--keylog", keys, "-o", keyLink, capPath}, keys, keyBytes, "given as --keylog " + keys},
		{"-o CA file", []string{"analyze", "--ca", ca, "-o", ca, capPath}, ca, caBytes, "that is the input file given as --ca"},
		{"-o browser chain", []string{"analyze", "--browser-chain", pem, "-o", pem, capPath}, pem, pemBytes, "that is the input file given as --browser-chain"},
		{"-o browser key log", []string{"analyze", "--browser-chain", pem, "--browser-keylog", keys, "--format", "html", "-o", keyLink, capPath}, keys, keyBytes, "given as --browser-keylog " + keys},
		{"--export-failing key log", []string{"analyze", "--keylog", keyLink, "--export-failing", keys, capPath}, keys, keyBytes, "--export-failing " + keys + ": that is the input file given as --keylog " + keyLink},
		{"--export-failing hard link of capture", []string{"analyze", "--export-failing", hard, capPath}, capPath, capBytes, "that is the input file (the capture)"},
		{"--export-failing CA file", []string{"analyze", "--ca", ca, "--export-failing", ca, capPath}, ca, caBytes, "that is the input file given as --ca"},
	} {
		code, out, errs := tlspcap(t, c.args...)
		if code != exitUsage || !strings.Contains(errs, c.msg) || out != "" {
			t.Errorf("%s: exit %d, stderr %q, want 2 and %q", c.name, code, errs, c.msg)
		}
		if got, err := os.ReadFile(c.victim); err != nil || !bytes.Equal(got, c.want) {
			t.Fatalf("%s: %s changed (%d bytes, %v)", c.name, c.victim, len(got), err)
		}
	}
	// -o and --export-failing into one file: the report and the capture
	// would overwrite each other.
	both := filepath.Join(dir, "out")
	code, _, errs := tlspcap(t, "analyze", "-o", both, "--export-failing", both, capPath)
	if code != exitUsage || !strings.Contains(errs, "--export-failing "+both+": -o writes there too") {
		t.Errorf("-o = --export-failing: exit %d, %q", code, errs)
	}
	noTempFiles(t, dir)
}

// noTempFiles fails when a temporary file of atomicFile was left in dir.
func noTempFiles(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tlspcap-") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

// A run that fails while the report is being written leaves the older
// report as it was: certs writes the PEM files (--out) in the middle of
// rendering, and --out naming a regular file fails there.
func TestFailedReportKeepsOlderFile(t *testing.T) {
	dir := t.TempDir()
	report := filepath.Join(dir, "report.txt")
	old := []byte("the report of yesterday\n")
	if err := os.WriteFile(report, old, 0o600); err != nil {
		t.Fatal(err)
	}
	notDir := filepath.Join(dir, "not-a-dir")
	os.WriteFile(notDir, nil, 0o644)
	code, _, errs := tlspcap(t, "certs", "-o", report, "--out", notDir, "../../testdata/pcaps/chain-incomplete.pcapng")
	if code != exitUsage || !strings.Contains(errs, "--out") {
		t.Fatalf("certs --out FILE: exit %d, %q", code, errs)
	}
	if got, _ := os.ReadFile(report); !bytes.Equal(got, old) {
		t.Errorf("failed run replaced the older report with %q", got)
	}
	noTempFiles(t, dir)

	// The same run that succeeds replaces it whole and keeps its mode.
	code, _, errs = tlspcap(t, "certs", "-o", report, "../../testdata/pcaps/chain-incomplete.pcapng")
	if code != exitOK {
		t.Fatalf("certs -o: exit %d, %q", code, errs)
	}
	got, _ := os.ReadFile(report)
	fi, _ := os.Stat(report)
	if bytes.Contains(got, old) || !bytes.Contains(got, []byte("stream 0")) || fi.Mode().Perm() != 0o600 {
		t.Errorf("report after a good run (mode %v):\n%s", fi.Mode().Perm(), got)
	}
	noTempFiles(t, dir)
}

func TestAtomicFile(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "r.html")
	os.WriteFile(target, []byte("old"), 0o640)
	link := filepath.Join(dir, "link.html")
	os.Symlink("r.html", link)

	// Written halfway, then dropped: the old file stays.
	a, err := createAtomic(link)
	if err != nil {
		t.Fatal(err)
	}
	a.Write([]byte("half a rep"))
	if got, _ := os.ReadFile(target); string(got) != "old" {
		t.Errorf("while writing, the target reads %q", got)
	}
	a.Abort()
	a.Abort()
	if got, _ := os.ReadFile(target); string(got) != "old" {
		t.Errorf("after Abort the target reads %q", got)
	}
	noTempFiles(t, dir)

	// Committed through the link: the file it points to is replaced, the
	// link stays a link, the mode stays.
	a, err = createAtomic(link)
	if err != nil {
		t.Fatal(err)
	}
	a.Write([]byte("new"))
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	a.Abort() // after Commit: nothing
	if got, _ := os.ReadFile(target); string(got) != "new" {
		t.Errorf("after Commit the target reads %q", got)
	}
	if fi, _ := os.Lstat(link); fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the symbolic link was replaced by a file")
	}
	if fi, _ := os.Stat(target); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", fi.Mode().Perm())
	}
	noTempFiles(t, dir)

	// A device is written in place, never renamed over.
	a, err = createAtomic(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	a.Write([]byte("x"))
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(os.DevNull); err != nil || fi.Mode()&os.ModeDevice == 0 {
		t.Fatalf("%s is no longer a device: %v %v", os.DevNull, fi.Mode(), err)
	}

	// A directory that does not exist: an error naming it.
	if _, err := createAtomic(filepath.Join(dir, "no", "r.txt")); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "no")) || !errors.Is(err, os.ErrNotExist) && !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing directory: %v", err)
	}
}

// --export-failing over an older file: replaced only when the export is
// whole (the old code removed the user's file when the export failed).
func TestExportFailingReplacesWhole(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "failing.pcapng")
	os.WriteFile(out, []byte("older export"), 0o644)
	code, _, errs := tlspcap(t, "analyze", "--export-failing", out, "--in-content-len", "4096", bigChain)
	if code != exitFailed {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if got, _ := os.ReadFile(out); len(got) < 4 || !bytes.Equal(got[:4], []byte{0x0a, 0x0d, 0x0d, 0x0a}) {
		t.Errorf("export is not a pcapng: % x", got[:min(len(got), 8)])
	}
	noTempFiles(t, dir)
}

// Interrupted (Ctrl-C) while a report is half written: the older report
// stays, the temporary file is removed, the exit code is 130 as a shell
// gives for SIGINT.
func TestAtomicFileInterrupted(t *testing.T) {
	dir := t.TempDir()
	report := filepath.Join(dir, "report.html")
	os.WriteFile(report, []byte("older report"), 0o644)
	cmd := exec.Command(os.Args[0], "-test.run=^TestAtomicHelperInterrupt$", "-test.count=1")
	cmd.Env = append(os.Environ(), "TLSPCAP_ATOMIC_HELPER="+report)
	out, _ := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Fatalf("exit %d, want 130\n%s", code, out)
	}
	if got, _ := os.ReadFile(report); string(got) != "older report" {
		t.Errorf("after the interrupt the report reads %q", got)
	}
	noTempFiles(t, dir)
}

// TestAtomicHelperInterrupt is the child of TestAtomicFileInterrupted: it
// writes half a report and interrupts itself.
func TestAtomicHelperInterrupt(t *testing.T) {
	path := os.Getenv("TLSPCAP_ATOMIC_HELPER")
	if path == "" {
		t.Skip("helper of TestAtomicFileInterrupted")
	}
	a, err := createAtomic(path)
	if err != nil {
		t.Fatal(err)
	}
	a.Write([]byte("<html>half a rep"))
	syscall.Kill(os.Getpid(), syscall.SIGINT)
	time.Sleep(10 * time.Second)
	t.Fatal("still running 10 s after SIGINT")
}

// A new report gets the mode os.Create would give it under the umask.
func TestAtomicFileNewMode(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	saved := umask
	umask = 0o077
	defer func() { umask = saved }()
	p := filepath.Join(t.TempDir(), "new.txt")
	if err := writeFileAtomic(p, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v under umask 077, want 0600", fi.Mode().Perm())
	}
}

// certs --out never writes a PEM file over an input that happens to bear
// its name.
func TestCertsOutSparesInputs(t *testing.T) {
	first := t.TempDir()
	const capture = "../../testdata/pcaps/chain-incomplete.pcapng"
	if code, _, errs := tlspcap(t, "certs", "--out", first, capture); code != exitOK {
		t.Fatalf("certs --out: exit %d, %s", code, errs)
	}
	pems, _ := filepath.Glob(filepath.Join(first, "stream-*.pem"))
	if len(pems) != 1 {
		t.Fatalf("PEM files: %q", pems)
	}
	dir := t.TempDir()
	in, want := copyTo(t, dir, capture, filepath.Base(pems[0]))
	code, _, errs := tlspcap(t, "certs", "--out", dir, in)
	if code != exitUsage || !strings.Contains(errs, "--out "+in+": that is the input file (the capture)") {
		t.Errorf("certs --out over its input: exit %d, %q", code, errs)
	}
	if got, _ := os.ReadFile(in); !bytes.Equal(got, want) {
		t.Errorf("the capture was overwritten")
	}
}
