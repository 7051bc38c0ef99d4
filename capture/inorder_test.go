package capture

import (
	"bytes"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"tlspcap/testdata/gen/bigcap/synth"
)

// digestHandler logs what a read reports, payload bytes as a checksum.
type digestHandler struct{ logHandler }

func (h *digestHandler) Conn(c *Conn) ConnHandler {
	h.logHandler.Conn(c)
	return &digestConn{logConn{h: &h.logHandler, id: c.Stream}}
}

type digestConn struct{ logConn }

func (c *digestConn) Payload(p Payload) {
	var sp strings.Builder
	total := 0
	for _, s := range p.Spans {
		fmt.Fprintf(&sp, " f%d:%d+%d", s.Number, s.Off, s.Len)
		total += s.Len
	}
	c.h.logf("%d data %s %d %08x cover=%v%s", c.id, p.Dir, len(p.Data), crc32.ChecksumIEEE(p.Data), total == len(p.Data), sp.String())
}

// readLog reads data with or without the in-order path.
func readLog(t testing.TB, data []byte, o Options, all bool) ([]string, Stats) {
	t.Helper()
	src, done, err := openSource(bytes.NewReader(data), "test", nil)
	if err != nil {
		return []string{err.Error()}, Stats{}
	}
	defer done()
	h := &digestHandler{}
	p := newProcessor(h, o.withDefaults())
	p.allReassembly = all
	p.readAll(src)
	return h.lines, p.stats
}

// sameAsReassembly fails t when reading data with the in-order path
// reports anything other than reading it with reassembly alone. Each
// connection's events are compared in order; between connections, the
// order of what the final flush delivers is reassembly's map order.
func sameAsReassembly(t testing.TB, name string, data []byte, o Options) {
	t.Helper()
	got, gst := readLog(t, data, o, false)
	want, wst := readLog(t, data, o, true)
	// Conflicting copies are reported by our reassembly only: gopacket's
	// keeps the first copy too, silently.
	got = slices.DeleteFunc(got, func(l string) bool { return strings.Contains(l, " overlap-conflict ") })
	g, w := byStream(got), byStream(want)
	for k := range w {
		if _, ok := g[k]; !ok {
			g[k] = nil
		}
	}
	for k := range g {
		gl, wl := g[k], w[k]
		for i := range max(len(gl), len(wl)) {
			a, b := "(none)", "(none)"
			if i < len(gl) {
				a = gl[i]
			}
			if i < len(wl) {
				b = wl[i]
			}
			if a != b {
				t.Fatalf("%s: event %d of %q differs:\nin-order path: %s\nreassembly:    %s", name, i, k, a, b)
			}
		}
	}
	if gst != wst {
		t.Fatalf("%s: stats differ:\nin-order path: %+v\nreassembly:    %+v", name, gst, wst)
	}
}

// byStream groups log lines by the connection they are about ("" for
// new connections and problems).
func byStream(lines []string) map[string][]string {
	m := map[string][]string{}
	for _, l := range lines {
		k, _, _ := strings.Cut(l, " ")
		if k == "conn" || k == "problem" {
			k = ""
		}
		m[k] = append(m[k], l)
	}
	return m
}

// Tight limits make flushes and idle ends happen within small captures
// too. The buffer bound is not compared: reassembly counts it in pages
// (about 1,900 bytes each, whatever the segment's size), we in bytes
// (TestBufferBoundCountsBytes).
var inOrderOptions = []Options{{}, {FlushAfter: time.Second, IdleTimeout: 3 * time.Second, Linger: 500 * time.Millisecond}}

func TestInOrderMatchesReassembly(t *testing.T) {
	var files []string
	for _, pat := range []string{"../testdata/pcaps/*.pcap*", "../testdata/malformed/*"} {
		m, _ := filepath.Glob(pat)
		files = append(files, m...)
	}
	sameFilesAsReassembly(t, files)
	for name, data := range fuzzSeeds(t) {
		sameAsReassembly(t, name, data, Options{})
	}
}

func TestInOrderMatchesReassemblyPublic(t *testing.T) {
	dir := sharedPcaps(t)
	var files []string
	for _, p := range manifest(t, dir) {
		files = append(files, filepath.Join(dir, p))
	}
	sameFilesAsReassembly(t, files)
}

func sameFilesAsReassembly(t *testing.T, files []string) {
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range inOrderOptions {
			sameAsReassembly(t, f, data, o)
		}
	}
}

// The synthetic mix has reordered and retransmitted segments in a few
// percent of its connections, mid-stream.
func TestInOrderMatchesReassemblySynthetic(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a capture")
	}
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ts, err := synth.Prepare(start)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := synth.Generate(&buf, ts, start, synth.Options{Size: 8 << 20, Seed: 3}); err != nil {
		t.Fatal(err)
	}
	for _, o := range inOrderOptions {
		sameAsReassembly(t, "synthetic", buf.Bytes(), o)
	}
}

func FuzzInOrder(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sameAsReassembly(t, "fuzz", data, Options{MaxConns: 8, FlushAfter: time.Second, IdleTimeout: 3 * time.Second, Linger: 500 * time.Millisecond})
	})
}

// FuzzInOrderSegments reads one connection built from the input, four
// bytes a segment: side and flags, sequence number relative to the
// sender's ISN, payload length, time since the segment before.
func FuzzInOrderSegments(f *testing.F) {
	f.Add([]byte{0x02, 0, 0, 0, 0x13, 0, 0, 0, 0x10, 0, 5, 0, 0x10, 10, 5, 1, 0x10, 5, 5, 0, 0x11, 15, 0, 2, 0x13, 3, 4, 3})
	f.Add([]byte{0x10, 0, 8, 0, 0x10, 16, 8, 0, 0x11, 0, 3, 0, 0x10, 8, 8, 0, 0x18, 3, 0, 0, 0x14, 24, 0, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		c := newConv4()
		var buf bytes.Buffer
		w := pcapgo.NewWriter(&buf)
		if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
			t.Fatal(err)
		}
		ts := t0
		for i := 0; i+4 <= len(data) && i < 400; i += 4 {
			b := data[i : i+4]
			flags := b[0] >> 1 & (tFIN | tSYN | tRST)
			if b[0]&0x10 != 0 {
				flags |= tACK
			}
			payload := strings.Repeat(string(rune('a'+i/4%26)), int(b[2]&31))
			p := c.pkt(b[0]&1 == 0, int(int8(b[1])), flags, 100, payload)
			ts = ts.Add([]time.Duration{time.Millisecond, 10 * time.Millisecond, 2 * time.Second, 5 * time.Second}[b[3]&3])
			if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(p), Length: len(p)}, p); err != nil {
				t.Fatal(err)
			}
		}
		sameAsReassembly(t, "segments", buf.Bytes(), inOrderOptions[1])
	})
}
