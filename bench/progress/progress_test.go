// Package progress measures what the progress bar of tlspcap analyze costs:
// the capture is read through progressbar.Reader (as cmd/tlspcap does on a
// terminal) or directly, in 256 KiB reads as capture.Read's bufio does.
// Compare the two ns/op of one run: the bar's share is their difference.
package progress

import (
	"bufio"
	"io"
	"testing"

	"github.com/schollz/progressbar/v3"
)

const total = 256 << 20

// zeros is an endless source of bytes that costs next to nothing to read.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { return len(p), nil }

// drain reads total bytes in packet-sized pieces, as the pcap reader does.
func drain(b *testing.B, r io.Reader) {
	br := bufio.NewReaderSize(r, 256<<10)
	var pkt [1514]byte
	for n := 0; n < total; {
		k, err := io.ReadFull(br, pkt[:min(len(pkt), total-n)])
		if err != nil {
			b.Fatalf("read %d bytes: %v", n+k, err)
		}
		n += k
	}
}

func BenchmarkRead(b *testing.B) {
	b.SetBytes(total)
	for b.Loop() {
		drain(b, zeros{})
	}
}

// BenchmarkReadWithBar draws the bar as cmd/tlspcap configures it, to a
// writer that discards (a terminal costs the same calls, and at most 5
// redraws a second).
func BenchmarkReadWithBar(b *testing.B) {
	b.SetBytes(total)
	for b.Loop() {
		bar := progressbar.NewOptions64(total, progressbar.OptionSetWriter(io.Discard), progressbar.OptionShowBytes(true),
			progressbar.OptionSetDescription("reading"), progressbar.OptionClearOnFinish(), progressbar.OptionThrottle(200e6))
		pr := progressbar.NewReader(zeros{}, bar)
		drain(b, &pr)
		bar.Finish()
	}
}
