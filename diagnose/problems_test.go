package diagnose

import (
	"testing"

	"tlspcap/capture"
	"tlspcap/decode"
)

// TestDecodeProblemLines: which decode errors the report lists with the
// capture's problems is decided by their kind, not their words.
func TestDecodeProblemLines(t *testing.T) {
	where := decode.Where{Dir: capture.FromServer, Offset: 310, Frames: []int{7, 8}}
	for _, c := range []struct {
		err  decode.DecodeError
		want string // "" when not listed
	}{
		{decode.DecodeError{Where: where, Kind: decode.DecodeKeyLog, Detail: "the key log has secrets for this connection, but they do not match"},
			"frame 7: tcp.stream 3: the key log has secrets for this connection, but they do not match"},
		// Worded otherwise, still the key log's.
		{decode.DecodeError{Where: where, Kind: decode.DecodeKeyLog, Detail: "cannot use the key log's master secret: bad key"},
			"frame 7: tcp.stream 3: cannot use the key log's master secret: bad key"},
		{decode.DecodeError{Where: decode.Where{Offset: 0}, Kind: decode.DecodeKeyLog, Detail: "x"}, "tcp.stream 3: x"},
		// The connection's own decoding trouble is evidence for the rules,
		// even when its words begin like the key log's.
		{decode.DecodeError{Where: where, Kind: decode.DecodeTruncated, Detail: "the key log"}, ""},
		{decode.DecodeError{Where: where, Kind: decode.DecodeResynced, Detail: "the key log"}, ""},
		{decode.DecodeError{Where: where, Kind: decode.DecodeStopped, Detail: "the key log"}, ""},
		{decode.DecodeError{Where: where, Kind: decode.DecodeMalformed, Detail: "the key log"}, ""},
	} {
		p, ok := listedDecodeProblem(3, &c.err)
		got := ""
		if ok {
			got = p.line()
		}
		if got != c.want {
			t.Errorf("kind %v %q: line %q, want %q", c.err.Kind, c.err.Detail, got, c.want)
		}
	}
}

// TestCaptureProblemLines: a capture problem's line names its place
// unless its sentence already does, as the capture layer says.
func TestCaptureProblemLines(t *testing.T) {
	for _, c := range []struct {
		p    capture.Problem
		want string
	}{
		{capture.Problem{Frame: 4, Offset: 900, Detail: "frame 4: link type 7 is not supported", Placed: true}, "frame 4: link type 7 is not supported"},
		{capture.Problem{Offset: 900, Detail: "the capture ends inside a packet at byte 900", Placed: true}, "the capture ends inside a packet at byte 900"},
		{capture.Problem{Frame: 4, Offset: 900, Detail: "more than 1000 problems of this kind (frame 4: x)"}, "frame 4: more than 1000 problems of this kind (frame 4: x)"},
		{capture.Problem{Offset: 900, Detail: "more than 1000 problems"}, "offset 900: more than 1000 problems"},
		{capture.Problem{Offset: -1, Detail: "12 duplicates in all"}, "12 duplicates in all"},
		// Words alone do not place it.
		{capture.Problem{Frame: 4, Offset: -1, Detail: "frame was cut"}, "frame 4: frame was cut"},
	} {
		if got := captureProblem(c.p).line(); got != c.want {
			t.Errorf("%+v: line %q, want %q", c.p, got, c.want)
		}
	}
}
