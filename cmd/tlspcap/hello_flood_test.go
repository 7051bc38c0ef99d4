package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
)

// Resource bound: connections that opened (SYN, SYN-ACK, ACK) and sent a
// ClientHello, then nothing more (a scanner, a flood, a server that never
// answers), all open at once. Each one holds a TLS decoder, reassembly
// state and a ClientHello, far more than a half-open SYN: the memory
// budget (--max-memory, by default derived from the machine) bounds how
// many are open, the rest are decided early and still reported. The
// capture is generated on the fly into the child's standard input.
// TLSPCAP_HELLO_FLOOD_CONNS and TLSPCAP_HELLO_FLOOD_MAX_RSS_MIB set
// another count and bound, TLSPCAP_HELLO_FLOOD_FLAGS more flags
// (--max-memory 4GiB keeps every connection open);
// TLSPCAP_HELLO_FLOOD_HEAP writes the child's heap profile (go tool
// pprof) when the capture has been read, before any verdict.
const (
	helloFloodConns     = 500_000
	helloFloodMaxRSSMiB = 286 // 300 MB
	helloFloodChildEnv  = "TLSPCAP_HELLO_FLOOD_CHILD"
)

func TestHelloFloodMemory(t *testing.T) {
	if args := os.Getenv(helloFloodChildEnv); args != "" {
		helloFloodChild(strings.Fields(args))
		return
	}
	skipMemoryTest(t, "analyses 500,000 connections that sent a ClientHello")
	// Beside TestSYNFloodMemory (the two children's peaks are their
	// own): on two cores the package's tests take about as long as
	// before this one.
	t.Parallel()
	n := envInt("TLSPCAP_HELLO_FLOOD_CONNS", helloFloodConns)
	jsonPath := filepath.Join(t.TempDir(), "hello-flood.json")
	start := time.Now()
	var exit, conns, limits, limitFrame, hwmKB int
	feed := func(w io.Writer) error { return writeHelloFlood(w, n) }
	runMemoryChild(t, "TestHelloFloodMemory", helloFloodChildEnv+"="+jsonPath, feed,
		"hello: exit=%d conns=%d limits=%d frame=%d vmhwm_kb=%d", &exit, &conns, &limits, &limitFrame, &hwmKB)
	t.Logf("%d ClientHello-only connections in %v: exit %d, %d reported, tlspcap-limit at frame %d, peak RSS %d MiB (%d bytes per connection)",
		n, time.Since(start).Round(time.Millisecond), exit, conns, limitFrame, hwmKB>>10, hwmKB<<10/n)
	if exit != exitOK && exit != exitFailed {
		t.Errorf("exit %d", exit)
	}
	if conns != n {
		t.Errorf("%d connections reported, want %d", conns, n)
	}
	if limits != 1 {
		t.Errorf("%d tlspcap-limit findings saying connections were ended early, want 1", limits)
	}
	if bound := envInt("TLSPCAP_HELLO_FLOOD_MAX_RSS_MIB", helloFloodMaxRSSMiB); hwmKB>>10 > bound {
		t.Errorf("peak RSS %d MiB, bound %d MiB", hwmKB>>10, bound)
	}
}

// helloFloodChild analyses standard input into the JSON file args[0] and
// prints what the parent checks: the connections listed, the tlspcap-limit
// finding on connections ended early (its frame) and the peak RSS.
func helloFloodChild(args []string) {
	jsonPath := args[0]
	var in io.Reader = os.Stdin
	if prof := os.Getenv("TLSPCAP_HELLO_FLOOD_HEAP"); prof != "" {
		runtime.MemProfileRate = 512
		in = &profileAtEOF{r: os.Stdin, path: prof}
	}
	flags := append(strings.Fields(os.Getenv("TLSPCAP_HELLO_FLOOD_FLAGS")), "--no-progress", "--format", "json", "-o", jsonPath, "-")
	code := run(append([]string{"analyze"}, flags...), in, io.Discard, os.Stderr)
	hwm := vmHWM()
	conns, limits, frame := -1, 0, 0
	if f, err := os.Open(jsonPath); err == nil {
		conns = 0
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		limit, at := false, 0
		for sc.Scan() {
			l := sc.Bytes()
			switch {
			case bytes.HasPrefix(l, []byte(`      "tcp_stream": `)):
				conns++
			case bytes.HasPrefix(l, []byte(`      "id": "tlspcap-limit"`)):
				limit, at = true, 0
			case limit && at == 0 && bytes.HasPrefix(l, []byte(`        `)):
				fmt.Sscan(string(l), &at)
			case limit && bytes.HasPrefix(l, []byte(`      "title": `)):
				if bytes.Contains(l, []byte("ended early")) {
					limits++
					frame = at
				}
				limit = false
			}
		}
		f.Close()
	}
	fmt.Printf("hello: exit=%d conns=%d limits=%d frame=%d vmhwm_kb=%d\n", code, conns, limits, frame, hwm)
}

// helloFloodClientHello is a ClientHello shaped like an ESP-IDF 5
// (mbedTLS 3.x) device's: TLS 1.2, its cipher suites, server name,
// groups, point formats, signature algorithms, encrypt-then-MAC,
// extended master secret. The random differs per connection (i).
func helloFloodClientHello(i int) []byte {
	var b cryptobyte.Builder
	b.AddUint8(22)
	b.AddUint16(0x0303)
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint8(1)
		b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
			b.AddUint16(0x0303)
			var random [32]byte
			binary.BigEndian.PutUint64(random[:], uint64(i)*0x9e3779b97f4a7c15)
			b.AddBytes(random[:])
			b.AddUint8(0) // no session id
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				for _, s := range []uint16{0xc02c, 0xc030, 0xc02b, 0xc02f, 0xc0ad, 0xc0ac, 0xc024, 0xc028, 0xc023, 0xc027, 0xc00a, 0xc014, 0xc009, 0xc013, 0x009d, 0x009c, 0x003d, 0x003c, 0x0035, 0x002f, 0x00ff} {
					b.AddUint16(s)
				}
			})
			b.AddUint8(1)
			b.AddUint8(0) // null compression
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				ext := func(typ uint16, body func(*cryptobyte.Builder)) {
					b.AddUint16(typ)
					b.AddUint16LengthPrefixed(body)
				}
				ext(0, func(b *cryptobyte.Builder) {
					b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
						b.AddUint8(0)
						b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte("mqtt.example.com")) })
					})
				})
				ext(10, func(b *cryptobyte.Builder) {
					b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
						for _, g := range []uint16{0x1d, 0x17, 0x18, 0x19, 0x1e} {
							b.AddUint16(g)
						}
					})
				})
				ext(11, func(b *cryptobyte.Builder) { b.AddUint8(1); b.AddUint8(0) })
				ext(13, func(b *cryptobyte.Builder) {
					b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
						for _, s := range []uint16{0x0603, 0x0601, 0x0503, 0x0501, 0x0403, 0x0401, 0x0303, 0x0301, 0x0804, 0x0805, 0x0806} {
							b.AddUint16(s)
						}
					})
				})
				ext(22, func(*cryptobyte.Builder) {})
				ext(23, func(*cryptobyte.Builder) {})
			})
		})
	})
	return b.BytesOrPanic()
}

// writeHelloFlood writes a pcap of n connections, each from its own
// address and port to one server, 1 µs between packets: SYN, SYN-ACK,
// ACK, then the client's ClientHello, and nothing after.
func writeHelloFlood(w io.Writer, n int) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	// pcap file header: microsecond timestamps, Ethernet.
	hdr := []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0}
	if _, err := bw.Write(hdr); err != nil {
		return err
	}
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC).UnixMicro()
	const server = 0xcb00710a
	var (
		pkt   [14 + 20 + 20 + 512]byte
		frame int64
	)
	put := func(client uint32, cport uint16, fromClient bool, flags byte, seq, ack uint32, payload []byte) error {
		b := pkt[:14+20+20+len(payload)]
		src, dst := client, uint32(server)
		sp, dp := cport, uint16(443)
		if !fromClient {
			src, dst, sp, dp = dst, src, dp, sp
		}
		putIPv4TCP(b, fromClient, src, dst, sp, dp, seq, ack, flags, 64240)
		copy(b[54:], payload)
		frame++
		return writePcapRecord(bw, t0+frame-1, b)
	}
	const syn, ack, psh = 0x02, 0x10, 0x08
	for i := range n {
		client := uint32(0x0a000001) + uint32(i/50000)<<16
		cport := uint16(10000 + i%50000)
		cseq, sseq := uint32(i)*7919, uint32(i)*104729+1
		hello := helloFloodClientHello(i)
		for _, err := range []error{
			put(client, cport, true, syn, cseq, 0, nil),
			put(client, cport, false, syn|ack, sseq, cseq+1, nil),
			put(client, cport, true, ack, cseq+1, sseq+1, nil),
			put(client, cport, true, ack|psh, cseq+1, sseq+1, hello),
		} {
			if err != nil {
				return err
			}
		}
	}
	return bw.Flush()
}

// profileAtEOF writes the heap profile when the capture has been read
// whole: every connection still open, none decided yet.
type profileAtEOF struct {
	r    io.Reader
	path string
	done bool
}

func (p *profileAtEOF) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if err == io.EOF && !p.done {
		p.done = true
		runtime.GC()
		if f, ferr := os.Create(p.path); ferr == nil {
			pprof.Lookup("heap").WriteTo(f, 0)
			f.Close()
		}
	}
	return n, err
}

// putIPv4TCP fills b (Ethernet, IPv4, TCP without options, then
// len(b)-54 payload bytes) with the headers of one segment; the MAC
// addresses say the direction.
func putIPv4TCP(b []byte, fromClient bool, src, dst uint32, sp, dp uint16, seq, ack uint32, flags byte, window uint16) {
	copy(b[0:12], []byte{2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1})
	if !fromClient {
		copy(b[0:12], []byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2})
	}
	b[12], b[13] = 0x08, 0x00
	ip := b[14:34]
	clear(ip)
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(len(b)-14))
	ip[8], ip[9] = 64, 6
	binary.BigEndian.PutUint32(ip[12:], src)
	binary.BigEndian.PutUint32(ip[16:], dst)
	tcp := b[34:54]
	clear(tcp)
	binary.BigEndian.PutUint16(tcp[0:], sp)
	binary.BigEndian.PutUint16(tcp[2:], dp)
	binary.BigEndian.PutUint32(tcp[4:], seq)
	binary.BigEndian.PutUint32(tcp[8:], ack)
	tcp[12], tcp[13] = 5<<4, flags
	binary.BigEndian.PutUint16(tcp[14:], window)
}

// writePcapRecord writes packet b, captured whole at ts (µs since the
// epoch), as a pcap record.
func writePcapRecord(w io.Writer, ts int64, b []byte) error {
	var rec [16]byte
	binary.LittleEndian.PutUint32(rec[0:], uint32(ts/1e6))
	binary.LittleEndian.PutUint32(rec[4:], uint32(ts%1e6))
	binary.LittleEndian.PutUint32(rec[8:], uint32(len(b)))
	binary.LittleEndian.PutUint32(rec[12:], uint32(len(b)))
	if _, err := w.Write(rec[:]); err != nil {
		return err
	}
	_, err := w.Write(b)
	return err
}
