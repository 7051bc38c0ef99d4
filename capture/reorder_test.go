package capture

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
)

// Reassembly against a model. A model of what a reassembler must deliver
// from the segments of one direction, in the order captured: every byte
// that is in the capture, in order, each from the first segment captured
// that holds it; a gap exactly where bytes are absent (before the last
// byte present); a conflict for each later copy of a byte held (not yet
// delivered) that differs from the first.

// seg is one segment of the server's bytes: [off, off+len(data)) of the
// stream (off -1: a keep-alive below the first byte).
type seg struct {
	off  int
	data []byte
	fin  bool
}

// modelOut is what the model expects of one direction.
type modelOut struct {
	tokens   []string // "data <hex>" and "gap N", runs merged
	frames   []int    // per byte delivered: the index of the segment that brought it
	conflict int      // bytes of later copies differing from the held first copy
}

func model(segs []seg) modelOut {
	n := 0
	for _, s := range segs {
		n = max(n, s.off+len(s.data))
	}
	have := make([]bool, n)
	val := make([]byte, n)
	from := make([]int, n)
	next, finAt, closed := 0, -1, false
	var out modelOut
	for i, s := range segs {
		if closed {
			continue
		}
		for j, b := range s.data {
			k := s.off + j
			if k < next {
				continue // delivered: not compared
			}
			if have[k] {
				if val[k] != b {
					out.conflict++
				}
				continue
			}
			have[k], val[k], from[k] = true, b, i
		}
		if s.fin && s.off+len(s.data) >= next {
			finAt = s.off + len(s.data)
		}
		for next < n && have[next] {
			next++
		}
		if finAt >= 0 && next == finAt {
			closed = true
		}
	}
	var data []byte
	gap := 0
	flush := func() {
		if len(data) > 0 {
			out.tokens = append(out.tokens, fmt.Sprintf("data %x", data))
			data = nil
		}
	}
	for k := 0; k < n; k++ {
		if !have[k] {
			gap++
			continue
		}
		if gap > 0 {
			flush()
			out.tokens = append(out.tokens, fmt.Sprintf("gap %d", gap))
			gap = 0
		}
		data = append(data, val[k])
		out.frames = append(out.frames, from[k])
	}
	flush()
	return out
}

// tokenConn records one connection's server direction as model tokens.
type tokenConn struct {
	nullHandler
	data     []byte
	tokens   []string
	frames   []int // frame number per byte delivered
	conflict int
	events   []string
}

func (c *tokenConn) flush() {
	if len(c.data) > 0 {
		c.tokens = append(c.tokens, fmt.Sprintf("data %x", c.data))
		c.data = nil
	}
}

func (c *tokenConn) TCP(ev TCPEvent) {
	if ev.Dir != FromServer {
		return
	}
	switch ev.Kind {
	case Gap:
		c.flush()
		c.tokens = append(c.tokens, fmt.Sprintf("gap %d", ev.Missing))
	case OverlapConflict:
		c.conflict += ev.Differ
	}
	c.events = append(c.events, fmt.Sprintf("%s f%d", ev.Kind, ev.Frame.Number))
}

func (c *tokenConn) Payload(p Payload) {
	if p.Dir != FromServer {
		return
	}
	c.data = append(c.data, p.Data...)
	for _, s := range p.Spans {
		for range s.Len {
			c.frames = append(c.frames, s.Number)
		}
	}
}

type tokenHandler struct {
	nullHandler
	conns []*tokenConn
}

func (h *tokenHandler) Conn(*Conn) ConnHandler {
	c := &tokenConn{}
	h.conns = append(h.conns, c)
	return c
}

// segCase is one connection: the server's segments in capture order.
type segCase struct {
	isn  uint32 // the server's ISN
	segs []seg
}

// build writes the cases as one capture, one connection each (client
// ports from 20000), and returns it with the frame number of each
// segment.
func build(t testing.TB, cases []segCase) ([]byte, [][]int) {
	var pkts [][]byte
	frames := make([][]int, len(cases))
	for i, sc := range cases {
		c := newConv4()
		c.cport = uint16(20000 + i)
		c.srvSeq = sc.isn
		pkts = append(pkts, c.pkt(true, 0, tSYN, 64240, ""), c.pkt(false, 0, tSYN|tACK, 65160, ""), c.pkt(true, 0, tACK, 502, ""))
		for _, s := range sc.segs {
			// PSH: a few zero bytes on a bare ACK would be taken for
			// Ethernet padding (paddingPayload).
			fl := uint8(tACK | tPSH)
			if s.fin {
				fl |= tFIN
			}
			pk := c.pkt(false, s.off, fl, 509, string(s.data))
			// Each its own IP ID: a copy is a retransmission, not the
			// same packet captured twice.
			binary.BigEndian.PutUint16(pk[14+4:], uint16(len(pkts)))
			pkts = append(pkts, pk)
			frames[i] = append(frames[i], len(pkts))
		}
	}
	return pcapOf(t, layers.LinkTypeEthernet, pkts...), frames
}

// check reads the cases and compares each connection with the model.
func check(t *testing.T, cases []segCase, o Options) {
	t.Helper()
	capt, frames := build(t, cases)
	h := &tokenHandler{}
	if _, err := Read(bytes.NewReader(capt), "test.pcap", h, o); err != nil {
		t.Fatal(err)
	}
	if len(h.conns) != len(cases) {
		t.Fatalf("%d connections, want %d", len(h.conns), len(cases))
	}
	for i, sc := range cases {
		c := h.conns[i]
		c.flush()
		m := model(sc.segs)
		describe := func() string {
			var b strings.Builder
			fmt.Fprintf(&b, "ISN %d, segments in capture order (frame: offset+length):", sc.isn)
			for j, s := range sc.segs {
				fmt.Fprintf(&b, " f%d:%d+%d", frames[i][j], s.off, len(s.data))
				if s.fin {
					b.WriteString("F")
				}
			}
			return b.String()
		}
		if strings.Join(c.tokens, "\n") != strings.Join(m.tokens, "\n") {
			t.Fatalf("connection %d: delivered\n%.600s\nwant\n%.600s\n%s\nevents %v", i, strings.Join(c.tokens, "\n"), strings.Join(m.tokens, "\n"), describe(), c.events)
		}
		for k, j := range m.frames {
			if c.frames[k] != frames[i][j] {
				var at []string
				for j2, s := range sc.segs {
					if s.off <= k && k < s.off+len(s.data) {
						at = append(at, fmt.Sprintf("f%d:%d+%d", frames[i][j2], s.off, len(s.data)))
					}
				}
				t.Fatalf("connection %d: byte %d of the payload cited from frame %d, want %d (the first copy); segments holding it: %v\n%.3000s\nevents %v", i, k, c.frames[k], frames[i][j], at, describe(), c.events)
			}
		}
		if c.conflict != m.conflict {
			t.Fatalf("connection %d: %d conflicting bytes reported, want %d\n%s\nevents %v", i, c.conflict, m.conflict, describe(), c.events)
		}
	}
}

// realStreams returns the bytes each side sent in the test captures'
// connections: real TLS flights to cut up.
func realStreams(t *testing.T) [][]byte {
	var out [][]byte
	for _, f := range []string{"big-chain-4096-mbedtls36.pcapng", "chain-incomplete.pcapng", "certificate-expired-tls13.pcapng"} {
		data, err := os.ReadFile("../testdata/pcaps/" + f)
		if err != nil {
			t.Fatal(err)
		}
		h := &payloadRec{}
		if _, err := Read(bytes.NewReader(data), f, h, Options{}); err != nil {
			t.Fatal(err)
		}
		for _, b := range h.bytes {
			if len(b) > 100 {
				out = append(out, b)
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("no stream bytes in the test captures")
	}
	return out
}

type payloadRec struct {
	nullHandler
	bytes [][]byte
}

type payloadRecConn struct {
	nullHandler
	r  *payloadRec
	at [2]int
}

func (r *payloadRec) Conn(*Conn) ConnHandler {
	c := &payloadRecConn{r: r}
	c.at = [2]int{len(r.bytes), len(r.bytes) + 1}
	r.bytes = append(r.bytes, nil, nil)
	return c
}

func (c *payloadRecConn) Payload(p Payload) {
	c.r.bytes[c.at[p.Dir]] = append(c.r.bytes[c.at[p.Dir]], p.Data...)
}

// randomCase cuts a window of a real stream into segments and captures
// them in a random order, with segments lost, repeated, overlapped by
// copies with the same and with other bytes, and keep-alives; one case
// in three has its sequence numbers wrap around.
func randomCase(r *rand.Rand, streams [][]byte, conflicts bool) segCase {
	src := streams[r.IntN(len(streams))]
	n := 1 + r.IntN(min(len(src), 3000))
	at := r.IntN(len(src) - n + 1)
	data := src[at : at+n]
	var sc segCase
	sc.isn = r.Uint32()
	if r.IntN(3) == 0 {
		sc.isn = -uint32(r.IntN(n + 2)) // wraps within the stream
	}
	var orig []seg
	maxSeg := []int{1, 10, 80, 536, 1460}[r.IntN(5)]
	for off := 0; off < n; {
		l := min(1+r.IntN(maxSeg), n-off)
		orig = append(orig, seg{off: off, data: data[off : off+l]})
		off += l
	}
	if r.IntN(3) == 0 {
		orig[len(orig)-1].fin = true
	}
	var segs []seg
	lossy := r.IntN(4) == 0
	for _, s := range orig {
		if lossy && r.IntN(8) == 0 {
			continue
		}
		segs = append(segs, s)
	}
	extra := r.IntN(len(orig)/2 + 2)
	for range extra {
		switch r.IntN(4) {
		case 0: // retransmission
			segs = append(segs, orig[r.IntN(len(orig))])
		case 1, 2: // overlap, same or other bytes
			a := r.IntN(n)
			b := a + 1 + r.IntN(min(n-a, 2*maxSeg))
			cp := append([]byte(nil), data[a:b]...)
			if conflicts && r.IntN(2) == 0 {
				for k := range cp {
					if r.IntN(3) == 0 {
						cp[k] ^= byte(1 + r.IntN(255))
					}
				}
			}
			segs = append(segs, seg{off: a, data: cp})
		case 3: // keep-alive: placed below
			segs = append(segs, seg{off: -2})
		}
	}
	r.Shuffle(len(segs), func(i, j int) { segs[i], segs[j] = segs[j], segs[i] })
	// A keep-alive repeats the byte before the highest sequence number
	// seen so far (a zero byte, or none).
	hi := 0
	for i, s := range segs {
		if s.off == -2 {
			ka := seg{off: hi - 1}
			if r.IntN(2) == 0 {
				ka.data = []byte{0}
			}
			if ka.off < 0 {
				ka.off, ka.data = -1, nil
			}
			segs[i] = ka
			continue
		}
		hi = max(hi, s.off+len(s.data))
	}
	return sc.withSegs(segs)
}

func (sc segCase) withSegs(segs []seg) segCase {
	// The model knows no negative offsets: a keep-alive below the first
	// byte carries nothing to deliver.
	for i := range segs {
		if segs[i].off < 0 {
			segs[i].data = nil
			segs[i].off = 0
		}
	}
	sc.segs = segs
	return sc
}

// Ten thousand random segmentations of real streams: every byte in the
// capture is delivered, in order, from its first copy; a gap is reported
// exactly where bytes are absent; each later copy with other bytes where
// the first is held is reported.
func TestReassemblyMatchesModel(t *testing.T) {
	streams := realStreams(t)
	r := rand.New(rand.NewPCG(1, 2))
	total := 10000
	if testing.Short() {
		total = 1000
	}
	const batch = 200 // connections per capture
	o := Options{FlushAfter: time.Hour, IdleTimeout: 2 * time.Hour}
	for done := 0; done < total; done += batch {
		var cases []segCase
		for range batch {
			cases = append(cases, randomCase(r, streams, true))
		}
		check(t, cases, o)
	}
}

// Six 80-byte segments, all captured, in each of the 720 orders: the
// whole 480 bytes are delivered, without a gap. The 12 orders that
// leave three separate ranges held before the first is filled (3,5,1,0,
// 2,4 and others) lost a segment: a split range of the retransmission
// bookkeeping overwrote the next one.
func TestAllOrdersOfSixSegments(t *testing.T) {
	data := realStreams(t)[1][:480]
	var cases []segCase
	var perm func(p []int, used int)
	perm = func(p []int, used int) {
		if len(p) == 6 {
			var segs []seg
			for _, i := range p {
				segs = append(segs, seg{off: i * 80, data: data[i*80 : i*80+80]})
			}
			cases = append(cases, segCase{isn: 5000, segs: segs})
			return
		}
		for i := range 6 {
			if used&(1<<i) == 0 {
				perm(append(p, i), used|1<<i)
			}
		}
	}
	perm(nil, 0)
	if len(cases) != 720 {
		t.Fatalf("%d orders", len(cases))
	}
	capt, _ := build(t, cases)
	h := &tokenHandler{}
	if _, err := Read(bytes.NewReader(capt), "test.pcap", h, Options{}); err != nil {
		t.Fatal(err)
	}
	failed := 0
	for i, c := range h.conns {
		c.flush()
		if len(c.tokens) != 1 || c.tokens[0] != fmt.Sprintf("data %x", data) {
			failed++
			var order []int
			for _, s := range cases[i].segs {
				order = append(order, s.off/80)
			}
			t.Errorf("order %v: %d tokens delivered (%.80q...), events %v", order, len(c.tokens), c.tokens, c.events)
		}
	}
	if failed > 0 {
		t.Errorf("%d of 720 orders not delivered whole", failed)
	}
}

// --max-buffered counts bytes. 100-byte segments wait behind a missing
// first one with a 64 KiB bound: 300 of them (30,000 bytes) all wait and
// are delivered when it comes (the bound counted about 1,900 bytes a
// segment: 68 segments were "more than 65536 bytes"); of 1,000, the
// 656th makes 65,600 bytes waiting: the missing 100 are given up on there.
func TestBufferBoundCountsBytes(t *testing.T) {
	payload := strings.Repeat("abcdefghij", 10)
	for _, tc := range []struct {
		segs    int
		late    bool // the missing segment comes at the end
		problem string
		lines   []string
	}{
		{300, true, "", []string{"0 data server 30000"}},
		{1000, false, "frame 4: tcp.stream 0 (server side) had more than 65536 bytes waiting for 100 missing bytes: they are reported as missing now; raise --max-buffered to wait longer",
			[]string{"0 gap server f4 missing=100", "0 data server 65600", "0 data server 100"}},
	} {
		c := newConv4()
		pkts := [][]byte{c.pkt(true, 0, tSYN, 64240, ""), c.pkt(false, 0, tSYN|tACK, 65160, ""), c.pkt(true, 0, tACK, 502, "")}
		for i := 1; i < tc.segs; i++ {
			pkts = append(pkts, c.pkt(false, i*100, tACK|tPSH, 509, payload))
		}
		if tc.late {
			pkts = append(pkts, c.pkt(false, 0, tACK|tPSH, 509, payload))
		}
		h := &logHandler{}
		st, err := Read(bytes.NewReader(pcapOf(t, layers.LinkTypeEthernet, pkts...)), "test.pcap", h, Options{MaxBufferedPerDir: 64 << 10, FlushAfter: time.Hour, IdleTimeout: 2 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		total := 0
		for _, l := range h.lines {
			switch {
			case strings.HasPrefix(l, "0 data server "):
				n := len(l[strings.Index(l, `"`):strings.LastIndex(l, `"`)]) - 1
				total += n
				if len(lines) < 3 {
					lines = append(lines, fmt.Sprintf("0 data server %d", n))
				}
			case strings.HasPrefix(l, "0 gap"):
				lines = append(lines, l)
			}
		}
		var problems []string
		for _, p := range h.problems {
			problems = append(problems, p.Detail)
		}
		want := []string{}
		if tc.problem != "" {
			want = []string{tc.problem}
		}
		if fmt.Sprint(problems) != fmt.Sprint(want) || st.BufferLimited != len(want) {
			t.Errorf("%d segments: problems %q (%d buffer-limited), want %q", tc.segs, problems, st.BufferLimited, want)
		}
		if total != (tc.segs-1)*100+len(payload)*boolInt(tc.late) || fmt.Sprint(lines) != fmt.Sprint(tc.lines) {
			t.Errorf("%d segments: %d bytes delivered as %q, want %q", tc.segs, total, lines, tc.lines)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Random segmentations read by tshark too, with out-of-order reassembly
// on: the server's bytes tshark's Follow TCP Stream shows are the bytes
// delivered, for every connection. Follow shows nothing past the first
// bytes missing, so the bytes before the first gap are compared. Copies
// with other bytes are left out: Follow lets the segment at the next
// byte expected replace bytes held, where the first copy captured is
// delivered here.
func TestReassemblyMatchesTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark is not installed: the reassembly is not compared with Wireshark's")
	}
	streams := realStreams(t)
	r := rand.New(rand.NewPCG(3, 4))
	// Each Follow tap reads the whole file: 100 connections a run.
	var cases []segCase
	for range 100 {
		cases = append(cases, randomCase(r, streams, false))
	}
	capt, _ := build(t, cases)
	file := filepath.Join(t.TempDir(), "random-segments.pcap")
	if err := os.WriteFile(file, capt, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"-r", file, "-o", "tcp.reassemble_out_of_order:TRUE", "-q"}
	for i := range cases {
		args = append(args, "-z", fmt.Sprintf("follow,tcp,raw,%d", i))
	}
	out, err := exec.Command(tshark, args...).Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	want := tsharkFollow(t, out)
	h := &tokenHandler{}
	if _, err := Read(bytes.NewReader(capt), "test.pcap", h, Options{}); err != nil {
		t.Fatal(err)
	}
	for i, c := range h.conns {
		c.flush()
		got := ""
		for _, tok := range c.tokens {
			hex, ok := strings.CutPrefix(tok, "data ")
			if !ok {
				break // a gap
			}
			got += hex
		}
		if got != want[i] {
			var segs []string
			for _, sg := range cases[i].segs {
				segs = append(segs, fmt.Sprintf("%d+%d", sg.off, len(sg.data)))
			}
			k := 0
			for k < min(len(got), len(want[i])) && got[k] == want[i][k] {
				k++
			}
			t.Errorf("tcp.stream %d: delivered %d bytes, tshark follows %d, first difference at byte %d\n%v\n%.300v", i, len(got)/2, len(want[i])/2, k/2, segs, c.tokens)
		}
	}
}

// tsharkFollow parses tshark's "-z follow,tcp,raw,N" output: the hex of
// the second node's (the server's) bytes, per stream.
func tsharkFollow(t *testing.T, out []byte) map[int]string {
	m := map[int]string{}
	stream := -1
	for _, l := range strings.Split(string(out), "\n") {
		if s, ok := strings.CutPrefix(l, "Filter: tcp.stream eq "); ok {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil {
				t.Fatalf("tshark: %q", l)
			}
			stream = n
			m[n] = ""
			continue
		}
		if hex, ok := strings.CutPrefix(l, "\t"); ok && stream >= 0 {
			m[stream] += hex
		}
	}
	return m
}

// A SYN refused by a RST and sent again, the same SYN, 1 s or 3 s later
// (as Windows does; mercury capture2.pcap, suricata-verify
// tls-subjectaltname): one connection, Wireshark's one tcp.stream, and the
// new attempt's bytes delivered both ways.
func TestRefusedSYNSentAgain(t *testing.T) {
	for _, wait := range []time.Duration{time.Second, 3 * time.Second} {
		c := newConv4()
		pkts := [][]byte{
			c.pkt(true, 0, tSYN, 64240, ""),          // 1
			c.pkt(false, -1, tRST|tACK, 0, ""),       // 2 refused
			c.pkt(true, 0, tSYN, 64240, ""),          // 3 the same SYN again
			c.pkt(false, 0, tSYN|tACK, 65160, ""),    // 4
			c.pkt(true, 0, tACK|tPSH, 502, "hello"),  // 5
			c.pkt(false, 0, tACK|tPSH, 509, "world"), // 6
		}
		at := []time.Duration{0, 10 * time.Millisecond, wait, wait + 10*time.Millisecond, wait + 20*time.Millisecond, wait + 30*time.Millisecond}
		h, _ := readBytes(t, pcapTimed(t, at, pkts...), Options{})
		checkLines(t, h.lines, []string{
			"conn 0 192.168.1.50:51000>93.184.216.34:443 syn=true guessed=false first=1",
			"0 SYN client f1",
			"0 RST server f2",
			"0 SYN client f3",
			"0 retransmission client f3",
			"0 SYN-ACK server f4",
			`0 data client "hello" f5:0+5`,
			`0 data server "world" f6:0+5`,
			"0 " + endCaptureDone,
		})
	}
}

// Tiny segments are bounded by their count: one per 32 bytes of the
// bound, at least 1,024. The 1,025th one-byte segment behind a missing
// one (1,025 bytes, within the 4 KiB bound) gives up on the missing byte.
func TestBufferBoundCountsSegments(t *testing.T) {
	c := newConv4()
	pkts := [][]byte{c.pkt(true, 0, tSYN, 64240, ""), c.pkt(false, 0, tSYN|tACK, 65160, ""), c.pkt(true, 0, tACK, 502, "")}
	for i := 1; i <= 1100; i++ {
		pkts = append(pkts, c.pkt(false, i, tACK|tPSH, 509, "x"))
	}
	h := &logHandler{}
	st, err := Read(bytes.NewReader(pcapOf(t, layers.LinkTypeEthernet, pkts...)), "test.pcap", h, Options{MaxBufferedPerDir: 4096, FlushAfter: time.Hour, IdleTimeout: 2 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	const want = "frame 4: tcp.stream 0 (server side) had more than 1024 segments waiting for 1 missing bytes: they are reported as missing now; raise --max-buffered to wait longer"
	if len(h.problems) != 1 || h.problems[0].Detail != want || st.BufferLimited != 1 || st.SegmentLimited != 1 || st.MaxHeldSegments != 1024 {
		t.Errorf("problems %v, stats %+v; want %q", h.problems, st, want)
	}
}
