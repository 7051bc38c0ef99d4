package capture

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
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
	// DefaultRingBytes is the kernel ring of a live capture unless
	// LiveConfig.RingBytes says otherwise.
	DefaultRingBytes = 16 << 20
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
	// WriteFile, when set, receives every packet as pcapng.
	WriteFile string
	// Rotate, with WriteFile, is the most bytes one file holds: the packet
	// that would take a file past it starts the next file, named by
	// RotatedName. Each file is a complete pcapng on its own. 0: one file.
	Rotate int64
	// Application names the writer in the pcapng section header
	// ("tlspcap 1.2.3").
	Application string
	// RingBytes is the size of the kernel ring (CaptureInterface); 0 means
	// DefaultRingBytes. A bigger ring rides out longer bursts.
	RingBytes int
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
	// (live capture only): packets that passed the filter (the dropped
	// ones included), and those dropped because the ring was full.
	KernelPackets, KernelDrops uint64
	// Written is the number of packets written to the WriteFile files.
	Written int
	// Files are the pcapng files written, in order.
	Files []string
}

// KernelDrops is one reading of the kernel's drop counter during a live
// capture, handed to a DropsHandler in order with the packets: Dropped
// packets were lost (the ring was full) since the previous reading.
type KernelDrops struct {
	// Frame is the last frame handed over before the reading; its Time is
	// the reading's (on the packets' clock).
	Frame Frame
	// Dropped since the previous reading; Total since the capture started.
	Dropped, Total uint64
}

// DropsHandler may be implemented by a Handler to learn that the kernel
// dropped packets during a live capture: the connections open at that
// moment may miss some of theirs.
type DropsHandler interface {
	KernelDrops(d KernelDrops)
}

// RotatedName is the name of the n-th file of a rotated capture: n = 0 is
// path itself, then cap.pcapng, cap-1.pcapng, cap-2.pcapng, ...
func RotatedName(path string, n int) string {
	if n == 0 {
		return path
	}
	ext := filepath.Ext(path)
	return fmt.Sprintf("%s-%d%s", strings.TrimSuffix(path, ext), n, ext)
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

// InterfaceGoneError says the interface was deleted (or taken down) while
// packets were captured on it: the capture ended there, and what was read
// was analysed and written.
type InterfaceGoneError struct {
	Interface string
	At        time.Time
	Down      bool // still there, but down
	Packets   int  // the packets read before (frames)
	Files     []string
	Err       error
}

func (e *InterfaceGoneError) Error() string {
	what := "went away"
	if e.Down {
		what = "went down"
	}
	msg := fmt.Sprintf("interface %s %s at %s: %d packets read", e.Interface, what, e.At.UTC().Format("2006-01-02 15:04:05 UTC"), e.Packets)
	if len(e.Files) > 0 {
		msg += fmt.Sprintf("; the capture written so far is complete (%s)", strings.Join(e.Files, ", "))
	}
	return msg
}

func (e *InterfaceGoneError) Unwrap() error { return e.Err }

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
	var z *decompressed
	if m, _ := br.Peek(2); len(m) == 2 && m[0] == 0x1f && m[1] == 0x8b {
		cr := &countingReader{r: br}
		zr, err := gzip.NewReader(cr)
		if err != nil {
			return LiveStats{}, fmt.Errorf("%s: gzip: %w", name, err)
		}
		defer zr.Close()
		z = &decompressed{format: "gzip", r: zr, in: cr}
		br = bufio.NewReaderSize(z, 64<<10)
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
	s, err := newLiveSink(cfg, name, h, o)
	if err != nil {
		return LiveStats{}, err
	}
	type item struct {
		rec     record
		prob    *Problem
		secrets *secretsBlock
		damaged *DecompressError
	}
	// The reader goroutine only reads; everything else happens here. When
	// Stop ends the capture while it waits for input, it is left behind.
	ch := make(chan item, 1024)
	if ng, ok := src.(*ngSource); ok {
		// Decryption Secrets Blocks go in order with the packets: to the
		// handler (the key logs) and into the --write files.
		ng.secrets = secretsFunc(func(typ uint32, data []byte) {
			ch <- item{secrets: &secretsBlock{typ, append([]byte(nil), data...)}}
		})
	}
	go func() {
		defer close(ch)
		for {
			rec, err := src.next()
			if err != nil {
				// Damaged compressed data, as the decompressor found it (the
				// rest of a stream is not read to look further).
				if z != nil && z.err != nil && !errors.Is(z.err.Err, io.ErrUnexpectedEOF) {
					ch <- item{damaged: z.err}
					return
				}
				if err != io.EOF {
					ch <- item{prob: &Problem{Kind: ProblemTruncatedFile, Placed: true, Offset: src.offset(),
						Detail: fmt.Sprintf("the stream stopped at byte %d: %v; packets before it were analysed", src.offset(), err)}}
				}
				return
			}
			rec.data = append([]byte(nil), rec.data...)
			ch <- item{rec: rec}
		}
	}()
	tick := time.NewTicker(s.every)
	defer tick.Stop()
	var damaged error
loop:
	for {
		select {
		case it, ok := <-ch:
			if !ok {
				break loop
			}
			if it.damaged != nil {
				damaged = fmt.Errorf("%s: %w", name, it.damaged)
				break loop
			}
			if it.prob != nil {
				s.dec.p.problem(*it.prob)
				continue
			}
			if it.secrets != nil {
				s.secrets(it.secrets)
				continue
			}
			if it.rec.undefined {
				// No interface to write it under, nor a link type to decode.
				s.dec.p.packet(it.rec)
				continue
			}
			s.packet(it.rec.linkType, it.rec.data, it.rec.wireLen, it.rec.ts)
			s.maybeTick()
		case <-tick.C:
			s.maybeTick()
		case <-cfg.Stop:
			break loop
		}
	}
	st := s.finish()
	if damaged != nil {
		return st, damaged
	}
	return st, s.err
}

// liveSink feeds packets to a Decoder and the pcapng writer, keeps the
// clock moving between packets and passes on the kernel's drop counter.
type liveSink struct {
	cfg   LiveConfig
	h     Handler
	dec   *Decoder
	every time.Duration
	start time.Time
	out   *pcapngOut
	err   error

	lastTS, lastWall, lastTick, lastFlush time.Time

	// readKernel, when set, reads the kernel's cumulative packet and drop
	// counters (live capture).
	readKernel                 func() (packets, drops uint64, ok bool)
	kernelPackets, kernelDrops uint64
}

// newLiveSink starts a capture's sink; with cfg.WriteFile the first file
// is created now, so a path that cannot be written fails at once.
func newLiveSink(cfg LiveConfig, name string, h Handler, o Options) (*liveSink, error) {
	s := &liveSink{cfg: cfg, h: h, dec: NewDecoder(h, o), every: cfg.TickEvery, start: time.Now()}
	if s.every <= 0 {
		s.every = 250 * time.Millisecond
	}
	if cfg.WriteFile != "" {
		app := cfg.Application
		if app == "" {
			app = "tlspcap"
		}
		s.out = &pcapngOut{path: cfg.WriteFile, rotate: cfg.Rotate, app: app, name: name, filter: cfg.Filter, start: s.start}
		if err := s.out.create(); err != nil {
			return nil, fmt.Errorf("--write: %w", err)
		}
	}
	return s, nil
}

func (s *liveSink) stopped() bool {
	select {
	case <-s.cfg.Stop:
		return true
	default:
		return false
	}
}

func (s *liveSink) packet(linkType uint32, data []byte, wireLen int, ts time.Time) {
	if s.out != nil && s.err == nil {
		if err := s.out.write(linkType, data, wireLen, ts, s.kernelPackets, s.kernelDrops); err != nil {
			s.err = fmt.Errorf("--write %s: %w", s.out.current(), err)
		}
	}
	s.dec.Packet(linkType, data, wireLen, ts)
	s.lastTS, s.lastWall = ts, time.Now()
}

// secretsBlock is a pcapng Decryption Secrets Block read from a stream.
type secretsBlock struct {
	typ  uint32
	data []byte
}

// secretsFunc makes a function a SecretsHandler.
type secretsFunc func(typ uint32, data []byte)

func (f secretsFunc) Secrets(typ uint32, data []byte) { f(typ, data) }

// secrets hands a Decryption Secrets Block to the handler and to the
// --write file, so the keys stay with the packets they open.
func (s *liveSink) secrets(b *secretsBlock) {
	if sh, ok := s.h.(SecretsHandler); ok {
		sh.Secrets(b.typ, b.data)
	}
	if s.out != nil && s.err == nil {
		if err := s.out.writeSecrets(b); err != nil {
			s.err = fmt.Errorf("--write %s: %w", s.out.current(), err)
		}
	}
}

// clock is the packets' time now: the time of the last packet plus the
// wall time since it arrived (the packets' clock may be another
// machine's).
func (s *liveSink) clock(now time.Time) time.Time {
	if s.lastTS.IsZero() {
		return time.Time{}
	}
	return s.lastTS.Add(now.Sub(s.lastWall))
}

// maybeTick reads the drop counter, then advances the decoder's clock, so
// the connections open while packets were lost learn it before they are
// decided.
func (s *liveSink) maybeTick() {
	now := time.Now()
	if now.Sub(s.lastTick) < s.every {
		return
	}
	s.lastTick = now
	s.readDrops(now)
	if t := s.clock(now); !t.IsZero() {
		s.dec.Tick(t)
	}
	if s.out != nil && s.err == nil && now.Sub(s.lastFlush) >= time.Second {
		s.lastFlush = now
		if err := s.out.flush(); err != nil {
			s.err = fmt.Errorf("--write %s: %w", s.out.current(), err)
		}
	}
}

// readDrops reads the kernel's counters and reports new drops.
func (s *liveSink) readDrops(now time.Time) {
	if s.readKernel == nil {
		return
	}
	packets, drops, ok := s.readKernel()
	if !ok {
		return
	}
	s.kernelPackets = packets
	if drops <= s.kernelDrops {
		return
	}
	ev := KernelDrops{Frame: Frame{Number: s.dec.p.stats.Frames, Time: s.clock(now)}, Dropped: drops - s.kernelDrops, Total: drops}
	if ev.Frame.Time.IsZero() {
		ev.Frame.Time = now.UTC()
	}
	s.kernelDrops = drops
	if dh, ok := s.h.(DropsHandler); ok {
		dh.KernelDrops(ev)
	}
	// The reading goes into the file where it happened, between the same
	// packets, so analyze on the file sees the drops where live did.
	if s.out != nil && s.err == nil {
		if err := s.out.stats(packets, drops); err != nil {
			s.err = fmt.Errorf("--write %s: %w", s.out.current(), err)
		}
	}
}

// finish takes a last drop reading, ends every connection and completes
// the pcapng file.
func (s *liveSink) finish() LiveStats {
	s.readDrops(time.Now())
	st := LiveStats{Stats: s.dec.Close(), KernelPackets: s.kernelPackets, KernelDrops: s.kernelDrops}
	if s.out != nil {
		if err := s.out.close(s.kernelPackets, s.kernelDrops); err != nil && s.err == nil {
			s.err = fmt.Errorf("--write %s: %w", s.out.current(), err)
		}
		st.Written, st.Files = s.out.written, s.out.files
	}
	return st
}

// pcapngOut writes a live capture to one pcapng file, or to a series of
// them when rotated. Every file starts with its own section header (the
// application, the OS, the interface and filter in a comment) and
// interface descriptions, so each one opens on its own.
type pcapngOut struct {
	path   string
	rotate int64
	app    string
	name   string
	filter string
	start  time.Time

	f       *os.File
	cw      countWriter
	ng      *pcapgo.NgWriter
	links   []uint32 // link type of each interface id of the current file
	pending int64    // bytes handed to ng since the last flush
	packets int      // packets in the current file
	written int
	files   []string
	secrets []*secretsBlock // waiting for the current file's section header
}

// writeSecrets adds a Decryption Secrets Block to the current file, after
// its section header (held until the header is written).
func (o *pcapngOut) writeSecrets(b *secretsBlock) error {
	o.secrets = append(o.secrets, b)
	if o.ng == nil {
		return nil
	}
	return o.flushSecrets()
}

func (o *pcapngOut) flushSecrets() error {
	if err := o.flush(); err != nil {
		return err
	}
	for _, b := range o.secrets {
		pad := (4 - len(b.data)%4) % 4
		n := 20 + len(b.data) + pad
		blk := make([]byte, 0, n)
		blk = binary.LittleEndian.AppendUint32(blk, 0x0000000A) // the writer's byte order
		blk = binary.LittleEndian.AppendUint32(blk, uint32(n))
		blk = binary.LittleEndian.AppendUint32(blk, b.typ)
		blk = binary.LittleEndian.AppendUint32(blk, uint32(len(b.data)))
		blk = append(blk, b.data...)
		blk = append(blk, make([]byte, pad)...)
		blk = binary.LittleEndian.AppendUint32(blk, uint32(n))
		if _, err := o.cw.Write(blk); err != nil {
			return err
		}
	}
	o.secrets = nil
	return nil
}

// statsRoom is kept free at the end of a rotated file for the interface
// statistics block that completes it.
const statsRoom = 128

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func (o *pcapngOut) current() string { return o.files[len(o.files)-1] }

// create opens the next file; its header is written with the first packet
// (or at once by start, when the link type is known).
func (o *pcapngOut) create() error {
	name := RotatedName(o.path, len(o.files))
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	o.f, o.cw, o.ng, o.pending, o.packets = f, countWriter{w: f}, nil, 0, 0
	o.files = append(o.files, name)
	return nil
}

func (o *pcapngOut) intf(linkType uint32) pcapgo.NgInterface {
	return pcapgo.NgInterface{
		Name:       o.name,
		Filter:     o.filter,
		OS:         runtime.GOOS,
		LinkType:   layers.LinkType(linkType),
		SnapLength: LiveSnaplen,
	}
}

// interfaceID returns the pcapng interface of a link type, writing the
// section header with the first one.
func (o *pcapngOut) interfaceID(linkType uint32) (int, error) {
	if o.ng == nil {
		comment := "live capture on " + o.name
		if o.filter != "" {
			comment += " with filter: " + o.filter
		}
		if len(o.files) > 1 {
			comment += fmt.Sprintf(" (file %d, after %s)", len(o.files), filepath.Base(o.files[len(o.files)-2]))
		}
		ng, err := pcapgo.NewNgWriterInterface(&o.cw, o.intf(linkType), pcapgo.NgWriterOptions{
			SectionInfo: pcapgo.NgSectionInfo{Application: o.app, OS: runtime.GOOS + "/" + runtime.GOARCH, Comment: comment},
		})
		if err != nil {
			return 0, err
		}
		o.ng, o.links = ng, []uint32{linkType}
		return 0, o.flushSecrets()
	}
	for id, lt := range o.links {
		if lt == linkType {
			return id, nil
		}
	}
	id, err := o.ng.AddInterface(o.intf(linkType))
	if err != nil {
		return 0, err
	}
	o.links = append(o.links, linkType)
	return id, o.flush()
}

// startWith writes the header of the current file for these link types,
// so even a file without packets is a valid capture.
func (o *pcapngOut) startWith(links ...uint32) error {
	for _, lt := range links {
		if _, err := o.interfaceID(lt); err != nil {
			return err
		}
	}
	return nil
}

func (o *pcapngOut) flush() error {
	if o.ng == nil {
		return nil
	}
	o.pending = 0
	return o.ng.Flush()
}

// write adds one packet; when it would take a file holding packets past
// the rotation size, that file is completed and the packet starts the
// next one, so no packet is split or lost between files.
func (o *pcapngOut) write(linkType uint32, data []byte, wireLen int, ts time.Time, kernelPackets, kernelDrops uint64) error {
	block := int64(32 + (len(data)+3)&^3) // enhanced packet block, no options
	if o.rotate > 0 && o.packets > 0 && o.cw.n+o.pending+block+statsRoom > o.rotate {
		links := o.links
		if err := o.close(kernelPackets, kernelDrops); err != nil {
			return err
		}
		if err := o.create(); err != nil {
			return err
		}
		// The same interface ids in every file.
		if err := o.startWith(links...); err != nil {
			return err
		}
	}
	id, err := o.interfaceID(linkType)
	if err != nil {
		return err
	}
	ci := gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(data), Length: max(wireLen, len(data)), InterfaceIndex: id}
	if err := o.ng.WritePacket(ci, data); err != nil {
		return err
	}
	o.pending += block
	o.packets++
	o.written++
	return nil
}

// stats writes the kernel's counters now as an interface statistics block
// (isb_ifrecv, isb_ifdrop).
func (o *pcapngOut) stats(kernelPackets, kernelDrops uint64) error {
	if o.ng == nil || o.f == nil {
		return nil
	}
	now := time.Now()
	o.pending += statsRoom
	return o.ng.WriteInterfaceStats(0, pcapgo.NgInterfaceStatistics{
		LastUpdate: now, StartTime: o.start, EndTime: now,
		PacketsReceived: kernelPackets, PacketsDropped: kernelDrops,
	})
}

// close completes the current file: the kernel's counters so far in an
// interface statistics block (live capture), flushed and closed.
func (o *pcapngOut) close(kernelPackets, kernelDrops uint64) error {
	if o.f == nil {
		return nil
	}
	var err error
	if kernelPackets > 0 || kernelDrops > 0 {
		err = o.stats(kernelPackets, kernelDrops)
	}
	f := o.f
	o.f = nil
	if ferr := o.flush(); err == nil {
		err = ferr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
