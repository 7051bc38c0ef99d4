package decode

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"tlspcap/capture"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func frame(n int) capture.Frame {
	return capture.Frame{Number: n, Time: t0.Add(time.Duration(n) * time.Millisecond)}
}

// collect returns a Conn and the events it emits.
func collect() (*Conn, *[]Event) {
	var evs []Event
	return NewConn(func(e Event) { evs = append(evs, e) }), &evs
}

// feedTrace hands a trace to a Conn: segment i is frame i+1; consecutive
// segments of one direction are joined and then cut where cut says (cut
// returns the piece lengths for n bytes). The bytes handed over are
// overwritten after each call, to catch a decoder that keeps them.
func feedTrace(trace []segment, cut func(n int) []int, end bool) ([]Event, *Conn) {
	c, evs := collect()
	feedInto(c, trace, cut)
	if end {
		c.End()
	}
	return *evs, c
}

// feedInto is feedTrace's work on a Conn the caller set up.
func feedInto(c *Conn, trace []segment, cut func(n int) []int) {
	for i := 0; i < len(trace); {
		j := i
		var data []byte
		var spans []capture.Span
		for j < len(trace) && trace[j].dir == trace[i].dir {
			spans = append(spans, capture.Span{Frame: frame(j + 1), Off: len(data), Len: len(trace[j].data)})
			data = append(data, trace[j].data...)
			j++
		}
		off := 0
		for _, n := range cut(len(data)) {
			piece := append([]byte(nil), data[off:off+n]...)
			var ps []capture.Span
			for _, s := range spans {
				lo, hi := max(s.Off, off), min(s.Off+s.Len, off+n)
				if hi > lo {
					ps = append(ps, capture.Span{Frame: s.Frame, Off: lo - off, Len: hi - lo})
				}
			}
			c.Payload(trace[i].dir, piece, ps)
			for k := range piece {
				piece[k] = 0xEE
			}
			off += n
		}
		i = j
	}
}

func cutWhole(n int) []int { return []int{n} }

func cutBytes(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = 1
	}
	return out
}

func cutRandom(r *rand.Rand) func(int) []int {
	return func(n int) []int {
		var out []int
		for n > 0 {
			k := min(n, 1+r.IntN(300))
			if r.IntN(4) == 0 {
				k = min(n, 1+r.IntN(6))
			}
			out = append(out, k)
			n -= k
		}
		return out
	}
}

// segmentCut hands over the bytes exactly as written (one Payload per segment).
func segmentTrace(trace []segment) ([]Event, *Conn) {
	c, evs := collect()
	for i, s := range trace {
		c.Payload(s.dir, s.data, []capture.Span{{Frame: frame(i + 1), Off: 0, Len: len(s.data)}})
	}
	c.End()
	return *evs, c
}

func dirLetter(d capture.Dir) string {
	if d == capture.FromClient {
		return "C"
	}
	return "S"
}

// describe renders an event on one line for test output.
func describe(ev Event) string {
	switch e := ev.(type) {
	case *Record:
		var hs []string
		for _, t := range e.HandshakeTypes {
			hs = append(hs, HandshakeTypeName(t))
		}
		return fmt.Sprintf("%s record %s len=%d rcv=%d trunc=%v enc=%v v2=%v hs=%v off=%d frames=%v",
			dirLetter(e.Dir), ContentTypeName(e.ContentType), e.Length, e.Received, e.Truncated, e.Encrypted, e.SSLv2, hs, e.Offset, e.Frames)
	case *Handshake:
		return fmt.Sprintf("%s handshake %s len=%d records=%d trunc=%v enc=%v body=%T err=%v off=%d frames=%v",
			dirLetter(e.Dir), HandshakeTypeName(e.Type), e.Length, e.Records, e.Truncated, e.Encrypted, e.Body, e.ParseErr, e.Offset, e.Frames)
	case *Alert:
		return fmt.Sprintf("%s alert %d %s enc=%v off=%d frames=%v", dirLetter(e.Dir), e.Level, AlertName(e.Description), e.Encrypted, e.Offset, e.Frames)
	case *ChangeCipherSpec:
		return fmt.Sprintf("%s ccs off=%d frames=%v", dirLetter(e.Dir), e.Offset, e.Frames)
	case *NotTLS:
		return fmt.Sprintf("%s not-tls %s %q off=%d frames=%v", dirLetter(e.Dir), e.Protocol, e.Prefix, e.Offset, e.Frames)
	case *DecodeError:
		return fmt.Sprintf("%s decode-error %q off=%d frames=%v", dirLetter(e.Dir), e.Detail, e.Offset, e.Frames)
	}
	return fmt.Sprintf("%T", ev)
}

func describeAll(evs []Event) string {
	var b strings.Builder
	for _, e := range evs {
		b.WriteString(describe(e))
		b.WriteByte('\n')
	}
	return b.String()
}

// shape renders events without sizes or frames: what a handshake looks like.
func shape(evs []Event) string {
	var parts []string
	for _, ev := range evs {
		switch e := ev.(type) {
		case *Record:
			s := dirLetter(e.Dir) + ":" + ContentTypeName(e.ContentType)
			if e.Encrypted {
				s += "(enc)"
			}
			parts = append(parts, s)
		case *Handshake:
			s := dirLetter(e.Dir) + ":" + HandshakeTypeName(e.Type)
			if e.Encrypted {
				s += "(enc)"
			}
			if sh, ok := e.Body.(*ServerHello); ok && sh.HelloRetryRequest {
				s += "(HRR)"
			}
			parts = append(parts, s)
		case *Alert:
			if e.Encrypted {
				parts = append(parts, dirLetter(e.Dir)+":alert(enc)")
			} else {
				parts = append(parts, dirLetter(e.Dir)+":alert("+AlertName(e.Description)+")")
			}
		case *ChangeCipherSpec:
			parts = append(parts, dirLetter(e.Dir)+":CCS")
		default:
			parts = append(parts, strings.Fields(describe(ev))[0]+":"+strings.Fields(describe(ev))[1])
		}
	}
	return strings.Join(parts, " ")
}

// naiveRecords splits a whole direction's bytes into records the simple way.
func naiveRecords(b []byte) (types []uint8, lengths []int) {
	for len(b) >= 5 {
		n := int(b[3])<<8 | int(b[4])
		types = append(types, b[0])
		lengths = append(lengths, n)
		if len(b) < 5+n {
			break
		}
		b = b[5+n:]
	}
	return
}

func eventsEqual(t *testing.T, what string, want, got []Event) {
	t.Helper()
	if !reflect.DeepEqual(want, got) {
		w, g := describeAll(want), describeAll(got)
		if w == g {
			t.Errorf("%s: events differ in a field describe does not show", what)
			return
		}
		t.Errorf("%s: events differ\nwant:\n%s\ngot:\n%s", what, w, g)
	}
}
