package diagnose

import (
	"fmt"

	"tlspcap/capture"
	"tlspcap/decode"
)

// problemLine is one line of the report's list of problems with the
// capture and its decoding, kept in the order they came.
type problemLine interface{ line() string }

// captureProblem is a problem the capture layer reported.
type captureProblem capture.Problem

func (p captureProblem) line() string {
	switch {
	case p.Placed:
		return p.Detail
	case p.Frame > 0:
		return fmt.Sprintf("frame %d: %s", p.Frame, p.Detail)
	case p.Offset >= 0:
		return fmt.Sprintf("offset %d: %s", p.Offset, p.Detail)
	}
	return p.Detail
}

// decodeProblem is a decoding problem of one connection that is about
// the user's inputs rather than the connection, so the report lists it
// with the capture's problems.
type decodeProblem struct {
	stream int
	frame  int // the error's first frame, 0 when it has none
	err    *decode.DecodeError
}

func (p decodeProblem) line() string {
	s := fmt.Sprintf("tcp.stream %d: %s", p.stream, p.err.Detail)
	if p.frame > 0 {
		s = fmt.Sprintf("frame %d: %s", p.frame, s)
	}
	return s
}

// listedDecodeProblem says whether the report's problem list shows e of
// tcp.stream stream. A key log that does not fit the connection is said
// there, not left to silence; the other kinds are the connection's own
// evidence.
func listedDecodeProblem(stream int, e *decode.DecodeError) (decodeProblem, bool) {
	if e.Kind != decode.DecodeKeyLog {
		return decodeProblem{}, false
	}
	p := decodeProblem{stream: stream, err: e}
	if len(e.Frames) > 0 {
		p.frame = e.Frames[0]
	}
	return p, true
}
