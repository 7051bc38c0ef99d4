package capture

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/klauspost/compress/gzip"
)

// Live capture sizes: frames up to 64 KiB and more (GRO and veth hand the
// socket segments far larger than the MTU) are never cut.
const (
	liveFrameSize = 128 << 10
	liveBlockSize = 1 << 20
	liveNumBlocks = 16
	// LiveSnaplen is the snap length recorded for a live capture.
	LiveSnaplen = liveBlockSize - 4096
)

// LiveConfig describes a live capture (CaptureInterface) or a streamed
// one (ReadStream).
type LiveConfig struct {
	// Interface to capture on (CaptureInterface).
	Interface string
	// Filter in tcpdump's syntax (see CompileFilter), applied in the kernel.
	Filter string
	// Write, when set, receives every packet as pcapng.
	Write io.Writer
	// Application names the writer in the pcapng section header
	// ("tlspcap 1.2.3").
	Application string
	// Stop ends the capture when closed; everything is flushed then.
	Stop <-chan struct{}
	// TickEvery is how often time advances while no packet arrives, so
	// closed and idle connections are decided. Default 250 ms.
	TickEvery time.Duration
}

// LiveStats is what a live or streamed capture saw.
type LiveStats struct {
	Stats
	// KernelPackets and KernelDrops are the kernel's PACKET_STATISTICS
	// (live capture only): packets that passed the filter, and those
	// dropped because the ring was full.
	KernelPackets, KernelDrops uint64
	// Written is the number of packets written to LiveConfig.Write.
	Written int
}

// PermissionError says the capture needs privileges the process lacks.
type PermissionError struct {
	Interface string
	Err       error
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("capturing on %s needs CAP_NET_RAW (and CAP_NET_ADMIN for promiscuous mode): %v; run as root, or grant them once with: sudo setcap cap_net_raw,cap_net_admin+eip $(which tlspcap)", e.Interface, e.Err)
}

func (e *PermissionError) Unwrap() error { return e.Err }

// NoInterfaceError says the interface does not exist.
type NoInterfaceError struct {
	Interface string
	Have      []string
}

func (e *NoInterfaceError) Error() string {
	return fmt.Sprintf("no network interface %q here (interfaces: %s)", e.Interface, strings.Join(e.Have, ", "))
}

// CheckInterface reports a NoInterfaceError when the interface does not exist.
func CheckInterface(name string) error {
	_, err := lookupInterface(name)
	return err
}

func lookupInterface(name string) (*net.Interface, error) {
	ifc, err := net.InterfaceByName(name)
	if err != nil {
		var have []string
		if all, err := net.Interfaces(); err == nil {
			for _, i := range all {
				have = append(have, i.Name)
			}
		}
		return nil, &NoInterfaceError{Interface: name, Have: have}
	}
	return ifc, nil
}

// interfaceLinkType is what AF_PACKET delivers on an interface: Ethernet
// headers, or bare IP packets on tunnels and other interfaces without a
// hardware address.
func interfaceLinkType(ifc *net.Interface) layers.LinkType {
	if len(ifc.HardwareAddr) == 0 && ifc.Flags&net.FlagLoopback == 0 {
		return layers.LinkTypeRaw
	}
	return layers.LinkTypeEthernet
}

// ReadStream reads a pcap or pcapng stream (as tcpdump -U -w - writes it)
// packet by packet as it arrives, like CaptureInterface: connections are
// decided while the stream is open, and cfg.Stop ends the reading early.
func ReadStream(r io.Reader, name string, cfg LiveConfig, h Handler, o Options) (LiveStats, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if m, _ := br.Peek(2); len(m) == 2 && m[0] == 0x1f && m[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return LiveStats{}, fmt.Errorf("%s: gzip: %w", name, err)
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 64<<10)
	}
	magic, err := br.Peek(4)
	if len(magic) < 4 {
		if err == nil || err == io.EOF {
			return LiveStats{}, fmt.Errorf("%s: empty stream, not a pcap or pcapng capture", name)
		}
		return LiveStats{}, fmt.Errorf("%s: %w", name, err)
	}
	src, known, err := sourceFor(br, magic)
	if !known {
		return LiveStats{}, fmt.Errorf("%s: not a pcap or pcapng stream (starts with % x)", name, magic)
	}
	if err != nil {
		return LiveStats{}, fmt.Errorf("%s: %w", name, err)
	}
	type item struct {
		rec  record
		prob *Problem
	}
	// The reader goroutine only reads; everything else happens here. When
	// Stop ends the capture while it waits for input, it is left behind.
	ch := make(chan item, 1024)
	go func() {
		defer close(ch)
		for {
			rec, err := src.next()
			if err != nil {
				if err != io.EOF {
					ch <- item{prob: &Problem{Kind: ProblemTruncatedFile, Offset: src.offset(),
						Detail: fmt.Sprintf("the stream stopped at byte %d: %v; packets before it were analysed", src.offset(), err)}}
				}
				return
			}
			rec.data = append([]byte(nil), rec.data...)
			ch <- item{rec: rec}
		}
	}()
	s := newLiveSink(cfg, h, o)
	s.start = time.Now()
	s.name = name
	tick := time.NewTicker(s.every)
	defer tick.Stop()
	var st LiveStats
loop:
	for {
		select {
		case it, ok := <-ch:
			if !ok {
				break loop
			}
			if it.prob != nil {
				s.dec.p.problem(*it.prob)
				continue
			}
			if err := s.packet(it.rec.linkType, it.rec.data, it.rec.wireLen, it.rec.ts); err != nil {
				s.finish()
				return st, err
			}
			s.maybeTick()
		case <-tick.C:
			s.maybeTick()
		case <-cfg.Stop:
			break loop
		}
	}
	st.Stats = s.finish()
	st.Written = s.written
	return st, s.err
}

// liveSink feeds packets to a Decoder and a pcapng writer, and keeps the
// clock moving between packets.
type liveSink struct {
	cfg   LiveConfig
	dec   *Decoder
	every time.Duration
	name  string
	start time.Time

	ng      *pcapgo.NgWriter
	ngIntf  map[uint32]int
	written int
	err     error

	lastTS, lastWall, lastTick, lastFlush time.Time

	kernelPackets, kernelDrops uint64
}

func newLiveSink(cfg LiveConfig, h Handler, o Options) *liveSink {
	s := &liveSink{cfg: cfg, dec: NewDecoder(h, o), every: cfg.TickEvery}
	if s.every <= 0 {
		s.every = 250 * time.Millisecond
	}
	return s
}

func (s *liveSink) stopped() bool {
	select {
	case <-s.cfg.Stop:
		return true
	default:
		return false
	}
}

func (s *liveSink) packet(linkType uint32, data []byte, wireLen int, ts time.Time) error {
	if s.cfg.Write != nil && s.err == nil {
		if err := s.write(linkType, data, wireLen, ts); err != nil {
			s.err = fmt.Errorf("--write: %w", err)
		}
	}
	s.dec.Packet(linkType, data, wireLen, ts)
	s.lastTS, s.lastWall = ts, time.Now()
	return nil
}

// maybeTick advances the decoder's clock: the time of the last packet plus
// the wall time since it arrived (the packets' clock may be another
// machine's).
func (s *liveSink) maybeTick() {
	now := time.Now()
	if now.Sub(s.lastTick) < s.every {
		return
	}
	s.lastTick = now
	if !s.lastTS.IsZero() {
		s.dec.Tick(s.lastTS.Add(now.Sub(s.lastWall)))
	}
	if s.ng != nil && now.Sub(s.lastFlush) >= time.Second {
		s.lastFlush = now
		if err := s.ng.Flush(); err != nil && s.err == nil {
			s.err = fmt.Errorf("--write: %w", err)
		}
	}
}

// interfaceID returns the pcapng interface of a link type, starting the
// file (section header with the application, interface with the filter)
// at the first call.
func (s *liveSink) interfaceID(linkType uint32) (int, error) {
	intf := pcapgo.NgInterface{
		Name:       s.name,
		Filter:     s.cfg.Filter,
		OS:         runtime.GOOS,
		LinkType:   layers.LinkType(linkType),
		SnapLength: LiveSnaplen,
	}
	if s.ng == nil {
		app := s.cfg.Application
		if app == "" {
			app = "tlspcap"
		}
		comment := "live capture on " + s.name
		if s.cfg.Filter != "" {
			comment += " with filter: " + s.cfg.Filter
		}
		ng, err := pcapgo.NewNgWriterInterface(s.cfg.Write, intf, pcapgo.NgWriterOptions{
			SectionInfo: pcapgo.NgSectionInfo{Application: app, OS: runtime.GOOS + "/" + runtime.GOARCH, Comment: comment},
		})
		if err != nil {
			return 0, err
		}
		s.ng = ng
		s.ngIntf = map[uint32]int{linkType: 0}
		return 0, nil
	}
	id, ok := s.ngIntf[linkType]
	if !ok {
		var err error
		if id, err = s.ng.AddInterface(intf); err != nil {
			return 0, err
		}
		s.ngIntf[linkType] = id
	}
	return id, nil
}

func (s *liveSink) write(linkType uint32, data []byte, wireLen int, ts time.Time) error {
	id, err := s.interfaceID(linkType)
	if err != nil {
		return err
	}
	ci := gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(data), Length: max(wireLen, len(data)), InterfaceIndex: id}
	if err := s.ng.WritePacket(ci, data); err != nil {
		return err
	}
	s.written++
	return nil
}

// finish ends every connection and completes the pcapng file.
func (s *liveSink) finish() Stats {
	st := s.dec.Close()
	if s.ng != nil {
		if s.kernelPackets > 0 || s.kernelDrops > 0 {
			if err := s.ng.WriteInterfaceStats(0, pcapgo.NgInterfaceStatistics{
				LastUpdate: time.Now(), StartTime: s.start, EndTime: time.Now(),
				PacketsReceived: s.kernelPackets, PacketsDropped: s.kernelDrops,
			}); err != nil && s.err == nil {
				s.err = fmt.Errorf("--write: %w", err)
			}
		}
		if err := s.ng.Flush(); err != nil && s.err == nil {
			s.err = fmt.Errorf("--write: %w", err)
		}
	}
	return st
}
