package capture

import (
	"bytes"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"regexp"
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
	compareWithReassembly(t, name, data, o, false)
}

// sameBytesAsReassembly is sameAsReassembly without the frames each
// delivered byte is credited to: where equal copies of bytes overlap, ours
// credits the first copy (TestReassemblyMatchesModel asserts it),
// gopacket's sometimes a later one. The fuzz targets, which make such
// overlaps at every turn, compare bytes, gaps and events.
func sameBytesAsReassembly(t testing.TB, name string, data []byte, o Options) {
	t.Helper()
	compareWithReassembly(t, name, data, o, true)
}

// upToEnd keeps each connection's log lines before its first FIN or RST
// event.
func upToEnd(lines []string) []string {
	ended := map[string]bool{}
	return slices.DeleteFunc(lines, func(l string) bool {
		k, rest, _ := strings.Cut(l, " ")
		if strings.HasPrefix(rest, "FIN ") || strings.HasPrefix(rest, "RST ") {
			ended[k] = true
		}
		return ended[k] && k != "conn" && k != "problem"
	})
}

var spanToken = regexp.MustCompile(` f\d+:\d+\+\d+`)

func compareWithReassembly(t testing.TB, name string, data []byte, o Options, bytesOnly bool) {
	t.Helper()
	got, gst := readLog(t, data, o, false)
	want, wst := readLog(t, data, o, true)
	if bytesOnly {
		for _, l := range [][]string{got, want} {
			for i := range l {
				l[i] = spanToken.ReplaceAllString(l[i], "")
			}
		}
		// Past a connection's first FIN or RST the fuzzers make FINs at
		// several places and data beyond them, where the two policies
		// part (ours: the FIN lowest in sequence ends the direction, held
		// bytes that follow on are delivered); real captures are compared
		// whole (TestInOrderMatchesReassembly*).
		got, want = upToEnd(got), upToEnd(want)
	}
	// The frame a gap is credited to is that of the first copy of the
	// bytes after it (first copy wins, as TestReassemblyMatchesModel
	// asserts); gopacket credits a later copy of the same bytes.
	got, want = gapFramesOut(got), gapFramesOut(want)
	g, w := byStream(got), byStream(want)
	for k := range w {
		if _, ok := g[k]; !ok {
			g[k] = nil
		}
	}
	for k := range g {
		gl, wl := g[k], w[k]
		// Conflicting copies are reported by our reassembly only, and from
		// there on the two policies deliver different bytes (ours the
		// first copy, gopacket's sometimes a later one): a stream is
		// compared up to its first conflict.
		if c := slices.IndexFunc(gl, func(l string) bool { return strings.Contains(l, " overlap-conflict ") }); c >= 0 {
			gl, wl = gl[:c], wl[:min(c, len(wl))]
		}
		// A SYN after the stream's first event may start the connection
		// over (sent again after a RST: Wireshark's one tcp.stream,
		// TestRefusedSYNSentAgain); gopacket knows no such restart, so the
		// comparison stops there.
		if c := min(laterSYN(gl), laterSYN(wl)); c < math.MaxInt {
			gl, wl = gl[:min(c, len(gl))], wl[:min(c, len(wl))]
		}
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

// laterSYN is the index of the first SYN event after the first event of
// a connection's log; with none, more than any index (so min picks the
// other log's).
func laterSYN(l []string) int {
	for i := 1; i < len(l); i++ {
		if strings.Contains(l[i], " SYN ") {
			return i
		}
	}
	return math.MaxInt
}

var gapFrame = regexp.MustCompile(`^(\S+ gap \S+) f\d+ `)

func gapFramesOut(lines []string) []string {
	for i, l := range lines {
		lines[i] = gapFrame.ReplaceAllString(l, "$1 ")
	}
	return lines
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
		sameBytesAsReassembly(t, "fuzz", data, Options{MaxConns: 8, FlushAfter: time.Second, IdleTimeout: 3 * time.Second, Linger: 500 * time.Millisecond})
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
		sameBytesAsReassembly(t, "segments", buf.Bytes(), inOrderOptions[1])
	})
}
