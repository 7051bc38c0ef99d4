package capture

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// spanRun reads a capture with a processor of its own and returns the
// events and the offsets asked of reassembly to find spans.
func spanRun(t *testing.T, data []byte, o Options) ([]string, int64) {
	t.Helper()
	src, done, err := openSource(bytes.NewReader(data), "test.pcap", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	h := &logHandler{}
	p := newProcessor(h, o.withDefaults())
	for {
		rec, err := src.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		p.packet(rec)
	}
	p.finish()
	return h.lines, p.probeWork
}

// A delivery of k buffered segments (k one-byte segments after a missing
// first byte, then that byte) costs work in proportion to k. Asking
// reassembly for each chunk asked 600,090,002 offsets for k = 20,000 (33 s
// on a busy 2-core machine); the pending list asks at most 3 per segment.
func TestSpansOfManyHeldSegments(t *testing.T) {
	o := Options{MaxBufferedPerDir: 64 << 20, FlushAfter: time.Hour, IdleTimeout: 2 * time.Hour}
	for _, tc := range []struct {
		name    string
		k       int
		reverse bool
		maxWork int64
	}{
		{"in order after the hole", 20000, false, 3 * 20001},
		{"reverse order", 500, true, 3 * 501},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newConv4()
			pk := [][]byte{c.pkt(true, 0, tSYN, 64240, ""), c.pkt(false, 0, tSYN|tACK, 65160, "")}
			var want []string
			for i := 1; i <= tc.k; i++ {
				seq := i
				if tc.reverse {
					seq = tc.k + 1 - i
				}
				pk = append(pk, c.pkt(true, seq, tACK, 502, string(rune('a'+seq%26))))
			}
			pk = append(pk, c.pkt(true, 0, tACK, 502, "@"))
			lines, work := spanRun(t, pcapOf(t, layers.LinkTypeEthernet, pk...), o)
			var payload []string
			for _, l := range lines {
				if len(l) > 7 && l[:7] == "0 data " {
					payload = append(payload, l)
				}
			}
			if len(payload) != 1 {
				t.Fatalf("%d payloads, want 1: %q", len(payload), payload)
			}
			// Byte 0 from the last frame, byte i from the frame that carried it.
			want = append(want, fmt.Sprintf("f%d:0+1", tc.k+3))
			for seq := 1; seq <= tc.k; seq++ {
				frame := seq + 2
				if tc.reverse {
					frame = tc.k + 3 - seq
				}
				want = append(want, fmt.Sprintf("f%d:%d+1", frame, seq))
			}
			wantSpans := fmt.Sprint(want)
			got := payload[0][bytes.LastIndexByte([]byte(payload[0]), '"')+2:]
			if fmt.Sprint(splitSpaces(got)) != wantSpans {
				t.Errorf("spans differ: got %.200s..., want %.200s...", got, wantSpans)
			}
			if work > tc.maxWork {
				t.Errorf("%d offsets asked of reassembly for %d segments, want at most %d", work, tc.k+1, tc.maxWork)
			}
		})
	}
}

func splitSpaces(s string) []string {
	var out []string
	for _, f := range bytes.Fields([]byte(s)) {
		out = append(out, string(f))
	}
	return out
}
