package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func ngOpts(opts ...[]byte) []byte {
	var b []byte
	for _, o := range opts {
		b = append(b, o...)
	}
	return append(b, 0, 0, 0, 0)
}

// blocks splits a little-endian pcapng file into its blocks.
func blocks(t *testing.T, b []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 12 {
			t.Fatalf("%d stray bytes", len(b))
		}
		n := binary.LittleEndian.Uint32(b[4:8])
		if n < 12 || int(n) > len(b) || binary.LittleEndian.Uint32(b[n-4:n]) != n {
			t.Fatalf("bad block length %d", n)
		}
		out = append(out, b[:n])
		b = b[n:]
	}
	return out
}

func writeTemp(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestExportPcapngKeepsBlocks: interfaces (names, resolutions, link
// types), comments and secrets are copied byte for byte, statistics are
// dropped, the section length becomes unknown.
func TestExportPcapngKeepsBlocks(t *testing.T) {
	le := binary.LittleEndian
	shb := make([]byte, 16)
	le.PutUint32(shb[0:4], 0x1a2b3c4d)
	le.PutUint16(shb[4:6], 1)
	le.PutUint64(shb[8:16], 4242) // a section length the export must not keep
	idb := func(link uint16, snap uint32, opts []byte) []byte {
		b := make([]byte, 8)
		le.PutUint16(b[0:2], link)
		le.PutUint32(b[4:8], snap)
		return append(b, opts...)
	}
	blkSHB := ngBlock(ngSHB, append(shb, ngOpts(ngOption(le, 4, []byte("capture host")))...))
	blkIDB0 := ngBlock(ngIDB, idb(1, 262144, ngOpts(ngOption(le, 2, []byte("br-lan")))))
	blkIDB1 := ngBlock(ngIDB, idb(101, 1500, ngOpts(ngOption(le, 2, []byte("wlan0")), ngOption(le, 9, []byte{9}))))
	blkDSB := ngDSBlock(SecretsTLSKeyLog, "CLIENT_RANDOM 00 11\n")
	pkt := func(iface uint32, ts uint64, data string, comment string) []byte {
		return ngEPBlock(iface, ts, []byte(data), comment)
	}
	p1 := pkt(0, 1_700_000_000_123456, "first", "")
	p2 := pkt(1, 1_700_000_000_123456789, "second, nanoseconds", "the server resets here")
	p3 := pkt(0, 1_700_000_001_000000, "third", "")
	isb := ngBlock(0x00000005, make([]byte, 12))
	p4 := pkt(1, 1_700_000_002_000000001, "fourth", "last")
	in := slices.Concat(blkSHB, blkIDB0, blkIDB1, p1, blkDSB, p2, p3, isb, p4)
	path := writeTemp(t, "in.pcapng", in)

	var out bytes.Buffer
	res, err := Export(path, &out, ExportSelection{Frames: []int{2, 4}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Frames, []int{2, 4}) || res.Read != 4 {
		t.Errorf("frames %v of %d, want [2 4] of 4", res.Frames, res.Read)
	}
	got := blocks(t, out.Bytes())
	wantSHB := slices.Clone(blkSHB)
	copy(wantSHB[16:24], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	want := [][]byte{wantSHB, blkIDB0, blkIDB1, blkDSB, p2, p4}
	if len(got) != len(want) {
		t.Fatalf("%d blocks, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("block %d differs:\n got % x\nwant % x", i, got[i], want[i])
		}
	}
	// The export reads back with the same times.
	var times []time.Time
	if err := Packets(writeTemp(t, "out.pcapng", out.Bytes()), func(ts time.Time, _ uint32, _ []byte, _ int) { times = append(times, ts) }); err != nil {
		t.Fatal(err)
	}
	wantTimes := []time.Time{time.Unix(1_700_000_000, 123456789).UTC(), time.Unix(1_700_000_002, 1).UTC()}
	if !slices.EqualFunc(times, wantTimes, time.Time.Equal) {
		t.Errorf("times %v, want %v", times, wantTimes)
	}
}

// pcapHeader builds a pcap file header (version 2.4).
func pcapHeader(order binary.ByteOrder, magic, snaplen, link uint32) []byte {
	hdr := make([]byte, 24)
	order.PutUint32(hdr[0:4], magic)
	order.PutUint16(hdr[4:6], 2)
	order.PutUint16(hdr[6:8], 4)
	order.PutUint32(hdr[16:20], snaplen)
	order.PutUint32(hdr[20:24], link)
	return hdr
}

// TestExportPcapToPcapng: a pcap (nanosecond, big-endian) becomes pcapng
// with its link type, snap length and resolution.
func TestExportPcapToPcapng(t *testing.T) {
	be := binary.BigEndian
	hdr := pcapHeader(be, pcapMagicNano, 96, 113) // Linux SLL
	rec := func(sec, nsec uint32, data string) []byte {
		h := make([]byte, 16)
		be.PutUint32(h[0:4], sec)
		be.PutUint32(h[4:8], nsec)
		be.PutUint32(h[8:12], uint32(len(data)))
		be.PutUint32(h[12:16], uint32(len(data)+1000))
		return append(h, data...)
	}
	in := slices.Concat(hdr, rec(1_700_000_000, 999_999_999, "one"), rec(1_700_000_001, 5, "two"), rec(1_700_000_002, 7, "three"))
	path := writeTemp(t, "in.pcap", in)
	var out bytes.Buffer
	res, err := Export(path, &out, ExportSelection{Frames: []int{1, 3}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Frames, []int{1, 3}) {
		t.Errorf("frames %v", res.Frames)
	}
	got := blocks(t, out.Bytes())
	if len(got) != 4 || binary.LittleEndian.Uint32(got[0][0:4]) != ngSHB || binary.LittleEndian.Uint32(got[1][0:4]) != ngIDB {
		t.Fatalf("want SHB, IDB, 2 EPBs; got %d blocks", len(got))
	}
	idb := got[1]
	if link, snap := binary.LittleEndian.Uint16(idb[8:10]), binary.LittleEndian.Uint32(idb[12:16]); link != 113 || snap != 96 {
		t.Errorf("interface: link type %d snaplen %d, want 113 96", link, snap)
	}
	if !bytes.Contains(idb[16:], []byte{9, 0, 1, 0, 9}) {
		t.Errorf("no if_tsresol 9 in % x", idb)
	}
	type p struct {
		ts   time.Time
		data string
		wire int
		link uint32
	}
	var ps []p
	if err := Packets(writeTemp(t, "out.pcapng", out.Bytes()), func(ts time.Time, link uint32, d []byte, wire int) {
		ps = append(ps, p{ts, string(d), wire, link})
	}); err != nil {
		t.Fatal(err)
	}
	want := []p{{time.Unix(1_700_000_000, 999_999_999).UTC(), "one", 1003, 113}, {time.Unix(1_700_000_002, 7).UTC(), "three", 1005, 113}}
	if !slices.Equal(ps, want) {
		t.Errorf("packets %v, want %v", ps, want)
	}
	// The same capture gzipped exports the same bytes.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(in)
	zw.Close()
	var outGz bytes.Buffer
	if res, err := Export(writeTemp(t, "in.pcap.gz", gz.Bytes()), &outGz, ExportSelection{Frames: []int{1, 3}}); err != nil || !slices.Equal(res.Frames, []int{1, 3}) {
		t.Errorf("gzipped: frames %v, %v", res.Frames, err)
	}
	if !bytes.Equal(outGz.Bytes(), out.Bytes()) {
		t.Errorf("gzipped: %d bytes exported, %d from the plain file", outGz.Len(), out.Len())
	}
}

// TestExportCutFile: a file cut inside a packet is exported up to the cut.
func TestExportCutFile(t *testing.T) {
	le := binary.LittleEndian
	hdr := pcapHeader(le, pcapMagicMicro, 65535, 1)
	rec := make([]byte, 16)
	le.PutUint32(rec[8:12], 4)
	le.PutUint32(rec[12:16], 4)
	in := slices.Concat(hdr, rec, []byte("abcd"), rec, []byte("ab"))
	var out bytes.Buffer
	res, err := Export(writeTemp(t, "cut.pcap", in), &out, ExportSelection{Frames: []int{1, 2}})
	if err != nil || !slices.Equal(res.Frames, []int{1}) || res.Read != 1 {
		t.Fatalf("frames %v of %d, err %v; want [1] of 1", res.Frames, res.Read, err)
	}
	if _, err := Export(writeTemp(t, "junk", []byte("<!DOCTYPE html>")), &out, ExportSelection{}); err == nil {
		t.Error("not a capture: no error")
	}
}

// FuzzExport: any input exports without panicking, and what it writes
// reads back as exactly the packets it says it kept.
func FuzzExport(f *testing.F) {
	le := binary.LittleEndian
	rec := make([]byte, 16)
	le.PutUint32(rec[8:12], 4)
	le.PutUint32(rec[12:16], 4)
	f.Add(slices.Concat(pcapHeader(le, pcapMagicMicro, 65535, 1), rec, []byte("abcd")))
	f.Add(ngFile(ngIDBlock(1, 6), ngDSBlock(SecretsTLSKeyLog, "x"), ngEPBlock(0, 1, []byte("abcd"), "c"), ngEPBlock(0, 2, []byte("efgh"), "")))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, in []byte) {
		path := filepath.Join(dir, "in")
		if err := os.WriteFile(path, in, 0o644); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		res, err := Export(path, &out, ExportSelection{Frames: []int{1, 3}})
		if err != nil {
			return
		}
		n := 0
		back := filepath.Join(dir, "out")
		if err := os.WriteFile(back, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := Packets(back, func(time.Time, uint32, []byte, int) { n++ }); err != nil {
			t.Fatalf("the export does not read back: %v", err)
		}
		if n != len(res.Frames) {
			t.Fatalf("export says %d packets, reads back %d", len(res.Frames), n)
		}
	})
}
