package capture

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

type nullHandler struct{ bytes int }

func (n *nullHandler) Conn(*Conn) ConnHandler { return n }
func (n *nullHandler) DNS(*DNSMessage)        {}
func (n *nullHandler) Problem(Problem)        {}
func (n *nullHandler) TCP(TCPEvent)           {}
func (n *nullHandler) Payload(p Payload)      { n.bytes += len(p.Data) }
func (n *nullHandler) End(EndReason)          {}

// benchCapture builds conns TLS-like connections of 24 packets each,
// interleaved in groups as on a busy link.
func benchCapture(b *testing.B, conns int) []byte {
	data := strings.Repeat("x", 1400)
	var pkts [][]byte
	const group = 16
	for g := 0; g < conns; g += group {
		var cs []*conv4
		for i := g; i < g+group && i < conns; i++ {
			c := newConv4()
			c.cport = uint16(20000 + i%40000)
			c.cli = cliIP
			c.srv = netipMust("10.1.0.1").Next()
			c.cliSeq, c.srvSeq = uint32(i*7919), uint32(i*104729)
			cs = append(cs, c)
		}
		steps := []func(c *conv4) []byte{
			func(c *conv4) []byte { return c.pkt(true, 0, tSYN, 64240, "") },
			func(c *conv4) []byte { return c.pkt(false, 0, tSYN|tACK, 65160, "") },
			func(c *conv4) []byte { return c.pkt(true, 0, tACK, 502, "") },
			func(c *conv4) []byte { return c.pkt(true, 0, tACK|tPSH, 502, data[:300]) },
		}
		for k := 0; k < 16; k++ {
			k := k
			steps = append(steps, func(c *conv4) []byte { return c.pkt(false, k*1400, tACK, 502, data) })
		}
		steps = append(steps,
			func(c *conv4) []byte { return c.pkt(true, 300, tACK|tPSH, 502, data[:100]) },
			func(c *conv4) []byte { return c.pkt(false, 16*1400, tACK|tPSH, 502, data[:100]) },
			func(c *conv4) []byte { return c.pkt(true, 400, tACK|tFIN, 502, "") },
			func(c *conv4) []byte { return c.pkt(false, 16*1400+100, tACK|tFIN, 502, "") },
		)
		for _, st := range steps {
			for _, c := range cs {
				pkts = append(pkts, st(c))
			}
		}
	}
	return pcapOf(b, layers.LinkTypeEthernet, pkts...)
}

func BenchmarkRead(b *testing.B) {
	capt := benchCapture(b, 2000)
	b.SetBytes(int64(len(capt)))
	b.ReportAllocs()
	for b.Loop() {
		h := &nullHandler{}
		st, err := Read(bytes.NewReader(capt), "bench", h, Options{})
		if err != nil || st.TCPConns != 2000 || h.bytes != 2000*(400+16*1400+100) {
			b.Fatalf("stats %+v bytes %d err %v", st, h.bytes, err)
		}
	}
}

// BenchmarkPcapngBlocks compares our pcapng block reader (which sees
// Decryption Secrets Blocks) with gopacket's NgReader on the same file.
func BenchmarkPcapngBlocks(b *testing.B) {
	pc := benchCapture(b, 500)
	r, err := pcapgo.NewReader(bytes.NewReader(pc))
	if err != nil {
		b.Fatal(err)
	}
	var ng bytes.Buffer
	w, err := pcapgo.NewNgWriter(&ng, layers.LinkTypeEthernet)
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		w.WritePacket(ci, data)
		n++
	}
	w.Flush()
	file := ng.Bytes()
	b.Run("ours", func(b *testing.B) {
		b.SetBytes(int64(len(file)))
		for b.Loop() {
			s, _ := newNgSource(bufio.NewReaderSize(bytes.NewReader(file), 256<<10))
			k := 0
			for {
				if _, err := s.next(); err != nil {
					break
				}
				k++
			}
			if k != n {
				b.Fatalf("%d packets, want %d", k, n)
			}
		}
	})
	b.Run("gopacket", func(b *testing.B) {
		b.SetBytes(int64(len(file)))
		for b.Loop() {
			nr, err := pcapgo.NewNgReader(bytes.NewReader(file), pcapgo.NgReaderOptions{WantMixedLinkType: true})
			if err != nil {
				b.Fatal(err)
			}
			k := 0
			for {
				if _, _, err := nr.ZeroCopyReadPacketData(); err != nil {
					break
				}
				k++
			}
			if k != n {
				b.Fatalf("%d packets, want %d", k, n)
			}
		}
	})
}

// reorderedCapture builds one connection whose server sends n segments
// of size bytes in the given order of their indexes.
func reorderedCapture(b testing.TB, n, size int, order func([]int)) []byte {
	c := newConv4()
	pkts := [][]byte{c.pkt(true, 0, tSYN, 64240, ""), c.pkt(false, 0, tSYN|tACK, 65160, ""), c.pkt(true, 0, tACK, 502, "")}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	order(idx)
	payload := strings.Repeat("0123456789", (size+9)/10)[:size]
	for _, i := range idx {
		pkts = append(pkts, c.pkt(false, i*size, tACK|tPSH, 509, payload))
	}
	return pcapOf(b, layers.LinkTypeEthernet, pkts...)
}

// BenchmarkReordered reads one stream of 10-byte segments captured
// shuffled or in reverse order, all held until the first arrives, with a
// 64 MiB buffer bound (and the flush timeout past the capture's 10 ms a
// packet): the time per segment stays about the same as the segments
// double.
func BenchmarkReordered(b *testing.B) {
	orders := []struct {
		name  string
		order func([]int)
	}{
		{"shuffled", func(idx []int) {
			rand.New(rand.NewPCG(1, 2)).Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		}},
		{"reverse", func(idx []int) { slices.Reverse(idx) }},
	}
	for _, o := range orders {
		for _, n := range []int{15000, 30000, 60000, 120000} {
			b.Run(fmt.Sprintf("%s-%dk", o.name, n/1000), func(b *testing.B) {
				capt := reorderedCapture(b, n, 10, o.order)
				b.SetBytes(int64(n * 10))
				b.ReportAllocs()
				for b.Loop() {
					h := &nullHandler{}
					st, err := Read(bytes.NewReader(capt), "bench", h, Options{MaxBufferedPerDir: 64 << 20, FlushAfter: time.Hour, IdleTimeout: 2 * time.Hour})
					if err != nil || h.bytes != n*10 || st.BufferLimited != 0 {
						b.Fatalf("%d bytes, stats %+v, err %v", h.bytes, st, err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/segment")
			})
		}
	}
}
