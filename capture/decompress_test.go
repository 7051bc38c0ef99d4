package capture

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"testing"

	"github.com/gopacket/gopacket/layers"
	"github.com/klauspost/compress/zstd"
)

// TestReadDamagedCompressed: a byte changed in gzip (deflated) or zstd
// data is a *DecompressError with offsets within the file and the data,
// the packets before it analysed; a cut-off stream stays a truncated
// capture, not an error.
func TestReadDamagedCompressed(t *testing.T) {
	c := newConv4()
	var pkts [][]byte
	for i := range 3000 {
		pkts = append(pkts, c.pkt(true, i*100, tACK|tPSH, 1000, fmt.Sprintf("%0100d", i)))
	}
	plain := pcapOf(t, layers.LinkTypeEthernet, pkts...)
	compress := map[string]func([]byte) []byte{
		"gzip": func(b []byte) []byte {
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			zw.Write(b)
			zw.Close()
			return buf.Bytes()
		},
		"zstd": func(b []byte) []byte {
			zw, _ := zstd.NewWriter(nil)
			return zw.EncodeAll(b, nil)
		},
	}
	for format, z := range compress {
		packed := z(plain)
		bad := append([]byte(nil), packed...)
		bad[len(bad)*2/3] ^= 0x55 // past the first zstd block (128 KiB of data)
		st, err := Read(bytes.NewReader(bad), "x", &quietHandler{t: t}, Options{})
		var de *DecompressError
		if !errors.As(err, &de) {
			t.Errorf("%s: error %v, want a DecompressError", format, err)
			continue
		}
		if de.Format != format || de.Compressed <= 0 || de.Compressed > int64(len(bad)) || de.Uncompressed < 0 || de.Uncompressed > int64(len(plain)) {
			t.Errorf("%s: %+v for %d compressed, %d plain bytes", format, de, len(bad), len(plain))
		}
		if st.Frames >= len(pkts) {
			t.Errorf("%s: %d frames of %d read past the damage", format, st.Frames, len(pkts))
		}
		t.Logf("%s: %v; %d frames", format, err, st.Frames)

		cut := packed[:len(packed)*2/3]
		st, err = Read(bytes.NewReader(cut), "x", &quietHandler{t: t}, Options{})
		if err != nil || st.Frames == 0 {
			t.Errorf("%s cut off: %d frames, error %v; want the frames before the cut, no error", format, st.Frames, err)
		}
	}
}
