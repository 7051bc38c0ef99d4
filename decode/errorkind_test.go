package decode

import (
	"errors"
	"slices"
	"testing"

	"tlspcap/capture"
)

// TestDecodeErrorKinds: each way a stream fails to decode raises a
// DecodeError of its own kind, at its offset and frames, that a later
// layer finds with errors.As.
func TestDecodeErrorKinds(t *testing.T) {
	span := func(n, l int) []capture.Span { return []capture.Span{{Frame: frame(n), Len: l}} }
	for _, c := range []struct {
		name   string
		feed   func(c *Conn)
		kind   DecodeErrorKind
		off    int64
		frames []int
	}{
		{"record header cut", func(c *Conn) {
			c.Payload(capture.FromServer, record(23, make([]byte, 40)), span(1, 45))
			c.Payload(capture.FromServer, []byte{23, 3}, span(2, 2))
		}, DecodeTruncated, 45, []int{2}},
		{"handshake header cut", func(c *Conn) {
			c.Payload(capture.FromServer, record(22, []byte{2, 0}), span(1, 7))
		}, DecodeTruncated, 5, []int{1}},
		{"resynchronised after a gap", func(c *Conn) {
			head := append(recordHeader(23, 100), make([]byte, 30)...)
			c.Payload(capture.FromServer, head, span(1, len(head)))
			c.Gap(capture.FromServer, 70+5+200+3)
			rest := append(make([]byte, 97), record(23, make([]byte, 60))...)
			c.Payload(capture.FromServer, rest, span(4, len(rest)))
		}, DecodeResynced, 105, []int{4}},
		{"no record header after a gap", func(c *Conn) {
			head := append(recordHeader(23, 100), make([]byte, 30)...)
			c.Payload(capture.FromServer, head, span(1, len(head)))
			c.Gap(capture.FromServer, 70+3)
			c.Payload(capture.FromServer, make([]byte, 40), span(3, 40))
		}, DecodeStopped, 105, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			dec, evs := collect()
			c.feed(dec)
			dec.End()
			var got []*DecodeError
			for _, ev := range *evs {
				var de *DecodeError
				if err, ok := ev.(error); ok && errors.As(err, &de) {
					got = append(got, de)
				}
			}
			if len(got) != 1 {
				t.Fatalf("want one decode error, got:\n%s", describeAll(*evs))
			}
			e := got[0]
			t.Log(e.Detail)
			if e.Kind != c.kind || e.Offset != c.off || !slices.Equal(e.Frames, c.frames) {
				t.Errorf("kind %v off %d frames %v, want kind %v off %d frames %v (%s)", e.Kind, e.Offset, e.Frames, c.kind, c.off, c.frames, e.Detail)
			}
		})
	}
}
