// Command reordered writes a capture of one TCP connection whose server
// sends its bytes in many small segments out of order, for measuring the
// cost of reassembly (see BENCHMARKS.md):
//
//	go run ./testdata/gen/reordered -segments 60000 -size 10 -order shuffle -out /tmp/shuffled.pcap
//	tlspcap analyze --max-buffered 64MiB /tmp/shuffled.pcap
//
// The server's bytes are TLS application data records after a handshake
// replayed from a real crypto/tls exchange; the segments are captured
// shuffled (a fixed seed), in reverse order, or in order.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"tlspcap/internal/pcapbuild"
)

func main() {
	segments := flag.Int("segments", 60000, "server segments")
	size := flag.Int("size", 10, "bytes per segment")
	order := flag.String("order", "shuffle", "shuffle, reverse or inorder")
	out := flag.String("out", "", "the pcap file to write")
	flag.Parse()
	if *out == "" || *segments < 1 || *size < 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*segments, *size, *order, *out); err != nil {
		fmt.Fprintln(os.Stderr, "reordered:", err)
		os.Exit(1)
	}
}

func run(segments, size int, order, out string) error {
	ch := pcapbuild.NewChain("device.test", 0)
	srv := &tls.Config{Certificates: []tls.Certificate{ch.TLSCertificate(true)}}
	ws, cerr, serr := pcapbuild.Exchange(&tls.Config{ServerName: "device.test", RootCAs: ch.Pool(), MaxVersion: tls.VersionTLS12}, srv)
	if cerr != nil || serr != nil {
		return fmt.Errorf("handshake: %v, %v", cerr, serr)
	}
	c := pcapbuild.New()
	c.Step = 10 * time.Microsecond
	k := c.Conn("192.168.4.23:50000", "203.0.113.10:443")
	k.Handshake()
	for _, w := range ws {
		k.SendSegments(w.Dir, w.Data, 1460)
	}
	// Application data records filling the segments exactly.
	total := segments * size
	var data []byte
	for len(data) < total {
		n := total - len(data) - 5
		if n > 16384 {
			n = min(16384, n-6) // leave room for one more record
		}
		if n < 1 {
			return fmt.Errorf("%d bytes do not end in a whole record: choose another -segments or -size", total)
		}
		body := make([]byte, n)
		for i := range body {
			body[i] = byte(i * 7)
		}
		data = append(data, pcapbuild.Record(23, 0x0303, body)...)
	}
	idx := make([]int, segments)
	for i := range idx {
		idx[i] = i
	}
	switch order {
	case "shuffle":
		rand.New(rand.NewPCG(1, 2)).Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
	case "reverse":
		for i := range idx {
			idx[i] = segments - 1 - i
		}
	case "inorder":
	default:
		return fmt.Errorf("-order %q: shuffle, reverse or inorder", order)
	}
	mark := k.Next(pcapbuild.S2C)
	for _, i := range idx {
		k.SendAt(pcapbuild.S2C, mark, i*size, data[i*size:(i+1)*size])
	}
	k.FIN(pcapbuild.S2C)
	k.FIN(pcapbuild.C2S)
	return os.WriteFile(out, c.Bytes(), 0o644)
}
