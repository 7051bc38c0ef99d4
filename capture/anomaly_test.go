package capture

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// pcapAt writes packets with the given capture times.
func pcapAt(t *testing.T, times []time.Duration, pkts ...[]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	for i, p := range pkts {
		ci := gopacket.CaptureInfo{Timestamp: t0.Add(times[i]), CaptureLength: len(p), Length: len(p)}
		if err := w.WritePacket(ci, p); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// withIPID returns a copy of an Ethernet/IPv4 packet with another IP ID.
func withIPID(p []byte, id uint16) []byte {
	q := append([]byte(nil), p...)
	binary.BigEndian.PutUint16(q[14+4:], id)
	return q
}

func TestCaptureAnomalies(t *testing.T) {
	ms := time.Millisecond
	c := newConv4()
	syn := c.pkt(true, 0, tSYN, 64240, "")
	synack := c.pkt(false, 0, tSYN|tACK, 65160, "")
	data := c.pkt(true, 0, tACK|tPSH, 502, "hello")
	seg := tcpSeg(cliPort, srvPort, 1001, 5001, tACK|tPSH, 502, "0123456789abcdef0123456789abcdef")
	frag := func(off int, body []byte, more bool) []byte {
		return ether(cliMAC, srvMAC, 0x0800, ipv4(cliIP, srvIP, 6, 77, off, more, body))
	}
	zeros := make([]byte, 16)
	tests := []struct {
		name     string
		times    []time.Duration
		pkts     [][]byte
		problems []string // each problem's Detail starts with one of these, in order
		want     Stats    // the counts compared
	}{
		{
			name:  "copy within microseconds",
			times: []time.Duration{0, 10 * ms, 10*ms + 20*time.Microsecond, 20 * ms},
			pkts:  [][]byte{syn, synack, synack, data},
			problems: []string{
				"frame 3: the same packet as frame 2 (identical IP header, IP ID 0x0001, identical payload, 20µs apart)",
			},
			want: Stats{Frames: 4, TCPPackets: 3, Duplicates: 1},
		},
		{
			// The same bytes a retransmission timer later, or at once with
			// a new IP ID: a retransmission, analysed.
			name:  "retransmissions are not copies",
			times: []time.Duration{0, 10 * ms, 20 * ms, 220 * ms, 220*ms + 5*time.Microsecond},
			pkts:  [][]byte{syn, synack, data, data, withIPID(data, 2)},
			want:  Stats{Frames: 5, TCPPackets: 5},
		},
		{
			name:  "time going backwards",
			times: []time.Duration{time.Second, 10 * ms, 20 * ms, 1500 * ms},
			pkts:  [][]byte{syn, synack, data, withIPID(data, 9)},
			problems: []string{
				"frame 2: timestamp 12:00:00.010000 is 990ms earlier than that of frame 1",
			},
			want: Stats{Frames: 4, TCPPackets: 4, TimeBackwards: 1},
		},
		{
			// The second fragment (offset 8) overwrites bytes 8-23 of the
			// first with zeros; the first received bytes are kept.
			name:  "overlapping fragments",
			times: []time.Duration{0, 10 * ms, 20 * ms, 30 * ms, 40 * ms},
			pkts:  [][]byte{syn, synack, frag(0, seg[:24], true), frag(8, zeros, true), frag(24, seg[24:], false)},
			problems: []string{
				"frame 4: IPv4 fragment (ID 0x004d) overlaps frame 3 at payload bytes 8-23 with different content (teardrop-style): the bytes of frame 3, received first, were kept",
			},
			want: Stats{Frames: 5, TCPPackets: 3, FragmentConflicts: 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, st := readBytes(t, pcapAt(t, tc.times, tc.pkts...), Options{})
			if len(h.problems) != len(tc.problems) {
				t.Fatalf("problems %+v, want %q", h.problems, tc.problems)
			}
			for i, p := range h.problems {
				if !strings.HasPrefix(p.Detail, tc.problems[i]) {
					t.Errorf("problem %d: %q, want it to start with %q", i, p.Detail, tc.problems[i])
				}
			}
			got := Stats{Frames: st.Frames, TCPPackets: st.TCPPackets, Duplicates: st.Duplicates, TimeBackwards: st.TimeBackwards, FragmentConflicts: st.FragmentConflicts}
			if got != tc.want {
				t.Errorf("stats %+v, want %+v", got, tc.want)
			}
			if tc.name == "overlapping fragments" {
				var payload []string
				for _, l := range h.lines {
					if strings.Contains(l, " data ") {
						payload = append(payload, l)
					}
				}
				if want := `0 data client "0123456789abcdef0123456789abcdef" f5:0+32`; len(payload) != 1 || payload[0] != want {
					t.Errorf("payload %q, want %q", payload, want)
				}
			}
		})
	}
}

// Beyond anomalyDetail of a kind, one line at the end gives the total.
func TestAnomalySummary(t *testing.T) {
	c := newConv4()
	pkts := [][]byte{c.pkt(true, 0, tSYN, 64240, ""), c.pkt(false, 0, tSYN|tACK, 65160, "")}
	var times []time.Duration
	for i := range 8 {
		p := withIPID(c.pkt(true, 5*i, tACK|tPSH, 502, "abcde"), uint16(i+10))
		pkts = append(pkts, p, p)
	}
	for i := range pkts {
		times = append(times, time.Duration(i/2)*10*time.Millisecond)
	}
	h, st := readBytes(t, pcapAt(t, times, pkts...), Options{})
	if st.Duplicates != 8 {
		t.Errorf("%d duplicates, want 8", st.Duplicates)
	}
	var got []int
	for _, p := range h.problems {
		got = append(got, p.Frame)
	}
	if len(h.problems) != anomalyDetail+1 || h.problems[anomalyDetail].Detail != "8 packets captured twice (ignored) in all; the first 5 are listed above" {
		t.Errorf("problems %+v", h.problems)
	}
	if want := []int{4, 6, 8, 10, 12, 0}; !equalInts(got, want) {
		t.Errorf("problem frames %v, want %v", got, want)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
