package capture

import (
	"bytes"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// Tight limits make flushes, the buffer bound and idle ends happen
// within small captures too.
var inOrderOptions = []Options{{}, {MaxBufferedPerDir: 4096, FlushAfter: time.Second, IdleTimeout: 3 * time.Second, Linger: 500 * time.Millisecond}}

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
		sameAsReassembly(t, "fuzz", data, Options{MaxConns: 8, MaxBufferedPerDir: 4096, FlushAfter: time.Second, IdleTimeout: 3 * time.Second, Linger: 500 * time.Millisecond})
	})
}
