package decode

import (
	"testing"

	"tlspcap/capture"
)

// BenchmarkApplicationData measures the record reader on bulk encrypted
// records handed over in 1460-byte segments.
func BenchmarkApplicationData(b *testing.B) {
	var stream []byte
	for len(stream) < 8<<20 {
		stream = append(stream, record(23, make([]byte, 16384+17))...)
	}
	const seg = 1460
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		c := NewConn(func(Event) {})
		n := 0
		for off := 0; off < len(stream); off += seg {
			end := min(off+seg, len(stream))
			n++
			c.Payload(capture.FromServer, stream[off:end], []capture.Span{{Frame: capture.Frame{Number: n}, Len: end - off}})
		}
		c.End()
	}
}
