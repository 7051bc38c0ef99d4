// Command floor is the speed floor for tlspcap analyze: it only walks a pcap
// with gopacket's DecodingLayerParser (Ethernet/IPv4/TCP) and feeds TCP into
// gopacket reassembly with a no-op stream. Used by bench/compare.sh.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/gopacket/gopacket/reassembly"
)

type stream struct{ n *int64 }

func (s stream) Accept(*layers.TCP, gopacket.CaptureInfo, reassembly.TCPFlowDirection, reassembly.Sequence, *bool, reassembly.AssemblerContext) bool {
	return true
}
func (s stream) ReassembledSG(sg reassembly.ScatterGather, _ reassembly.AssemblerContext) {
	l, _ := sg.Lengths()
	*s.n += int64(l)
}
func (s stream) ReassemblyComplete(reassembly.AssemblerContext) bool { return true }

type factory struct {
	n       int64
	streams int
}

func (f *factory) New(_, _ gopacket.Flow, _ *layers.TCP, _ reassembly.AssemblerContext) reassembly.Stream {
	f.streams++
	return stream{&f.n}
}

type actx struct{ ci gopacket.CaptureInfo }

func (c *actx) GetCaptureInfo() gopacket.CaptureInfo { return c.ci }

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: floor FILE.pcap")
		os.Exit(2)
	}
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(2)
	}
	r, err := pcapgo.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(2)
	}
	var (
		eth layers.Ethernet
		ip4 layers.IPv4
		tcp layers.TCP
	)
	p := gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &eth, &ip4, &tcp)
	p.IgnoreUnsupported = true
	decoded := make([]gopacket.LayerType, 0, 4)
	fac := &factory{}
	asm := reassembly.NewAssembler(reassembly.NewStreamPool(fac))
	c := &actx{}
	var pkts int64
	var last time.Time
	for {
		data, ci, err := r.ZeroCopyReadPacketData()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "floor:", err)
			os.Exit(1)
		}
		pkts++
		_ = p.DecodeLayers(data, &decoded)
		isTCP := false
		for _, t := range decoded {
			if t == layers.LayerTypeTCP {
				isTCP = true
			}
		}
		if isTCP {
			c.ci = ci
			asm.AssembleWithContext(ip4.NetworkFlow(), &tcp, c)
		}
		if ci.Timestamp.Sub(last) > time.Minute {
			if !last.IsZero() {
				asm.FlushCloseOlderThan(ci.Timestamp.Add(-2 * time.Minute))
			}
			last = ci.Timestamp
		}
	}
	asm.FlushAll()
	fmt.Fprintf(os.Stderr, "floor: %d packets, %d TCP streams, %d reassembled bytes\n", pkts, fac.streams, fac.n)
}
