package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

const committed = "../../testdata/malformed"

// The committed captures are exactly what the generator writes: after a
// change here, run go run ./internal/malformed -out testdata/malformed.
func TestCommittedCapturesUpToDate(t *testing.T) {
	files := Generate()
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(committed, name))
		if err != nil {
			t.Errorf("%s: %v (regenerate with go run ./internal/malformed -out testdata/malformed)", name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: committed file differs from the generator's output (%d vs %d bytes); regenerate", name, len(got), len(want))
		}
	}
	entries, err := os.ReadDir(committed)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if _, ok := files[e.Name()]; !ok {
			t.Errorf("%s: in %s but not written by the generator", e.Name(), committed)
		}
	}
}

func TestDeterministic(t *testing.T) {
	a, b := Generate(), Generate()
	for name := range a {
		if !bytes.Equal(a[name], b[name]) {
			t.Errorf("%s: two runs differ", name)
		}
	}
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	if err := write(dir); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != len(Generate()) {
		t.Fatalf("%d files written, want %d", len(entries), len(Generate()))
	}
}

// Sanity of the building blocks the captures rely on.
func TestIPv4OptionsFrame(t *testing.T) {
	a, _ := twoConns()
	f := withIPv4Options(a[3].data)
	ip := f[ethLen:]
	if ihl := int(ip[0]&0x0f) * 4; ihl != 28 {
		t.Fatalf("IHL %d", ihl)
	}
	if ipChecksum(ip[:28]) != 0 {
		t.Fatal("bad IPv4 header checksum")
	}
	if total := int(ip[2])<<8 | int(ip[3]); total != len(ip) {
		t.Fatalf("total length %d, frame carries %d", total, len(ip))
	}
}
