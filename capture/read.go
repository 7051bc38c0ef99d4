package capture

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Options bounds the resources a read may use. The zero value gives
// defaults suited to multi-GB captures.
type Options struct {
	// MaxConns is the number of TCP connections tracked at once; the
	// least recently active one is ended (EndEvicted) beyond it.
	// Default 65,536, as many as a small router's connection tracking
	// table (Linux nf_conntrack_max on 1 GiB of RAM): about 1.5 KB each
	// while open, so a SYN flood's open connections stay under 100 MiB.
	// Connections quiet for IdleTimeout are ended anyway.
	MaxConns int
	// MaxMemory bounds the memory the open connections hold, in bytes:
	// the capture's state of each (measured, ConnBytes) and what its
	// handler says it holds (Footprinter). Beyond it the least recently
	// active one is ended (EndEvicted), as beyond MaxConns. 0: no bound
	// but MaxConns.
	MaxMemory int64
	// MaxBufferedPerDir is how many out-of-order bytes are buffered per
	// connection direction while waiting for a missing segment; beyond
	// it the missing bytes are reported as a Gap. Default 4 MiB.
	MaxBufferedPerDir int
	// FlushAfter is how long (in capture time) reassembly waits for a
	// missing segment before reporting a Gap. Default 30 s.
	FlushAfter time.Duration
	// IdleTimeout ends a connection (EndIdle) that has seen no packet for
	// this long in capture time. Default 10 min.
	IdleTimeout time.Duration
	// Linger is how long (in capture time) a closed connection stays open
	// for late packets (the RST after a FIN, a last ACK) before End.
	// Default 2 s.
	Linger time.Duration
	// MaxClosed is how many ended connections are remembered so late
	// packets (and port reuse) get Wireshark's tcp.stream numbers.
	// Default 16,384 (about 250 bytes each): minutes of a busy network,
	// hours of a device's; a later packet of an older one starts a new
	// tcp.stream where Wireshark would reuse the old number.
	MaxClosed int
	// MaxProblems caps the problems reported per kind; one ProblemLimit
	// says when more were dropped. Default 1000.
	MaxProblems int
}

func (o Options) withDefaults() Options {
	if o.MaxConns <= 0 {
		o.MaxConns = 65_536
	}
	if o.MaxBufferedPerDir <= 0 {
		o.MaxBufferedPerDir = 4 << 20
	}
	if o.FlushAfter <= 0 {
		o.FlushAfter = 30 * time.Second
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 10 * time.Minute
	}
	if o.Linger <= 0 {
		o.Linger = 2 * time.Second
	}
	if o.MaxClosed <= 0 {
		o.MaxClosed = 16_384
	}
	if o.MaxProblems <= 0 {
		o.MaxProblems = 1000
	}
	return o
}

// SecretsHandler may be implemented by a Handler to receive the pcapng
// Decryption Secrets Blocks of a capture, as they stream past (before the
// packets that follow them). secretsType is SecretsTLSKeyLog for an NSS
// key log.
type SecretsHandler interface {
	Secrets(secretsType uint32, data []byte)
}

// SecretsTLSKeyLog is the DSB secrets type of NSS key log text ("TLSK").
const SecretsTLSKeyLog = 0x544c534b

// ReadFile reads the capture at path ("-" for standard input).
func ReadFile(path string, h Handler, o Options) (Stats, error) {
	if path == "-" {
		return Read(os.Stdin, "-", h, o)
	}
	f, err := os.Open(path)
	if err != nil {
		return Stats{}, err
	}
	defer f.Close()
	return Read(f, path, h, o)
}

// Read reads a pcap or pcapng capture (optionally gzip or zstd compressed)
// from r, packet by packet as it arrives, and reports what it holds to h.
// name is used in error messages. Trouble inside the capture (a cut-off
// file, corrupt packets) is reported to h.Problem and reading returns
// normally; an error means the input is not a capture at all or could not
// be read.
func Read(r io.Reader, name string, h Handler, o Options) (Stats, error) {
	o = o.withDefaults()
	src, done, err := openSource(r, name, nil)
	if err != nil {
		return Stats{}, err
	}
	defer done()
	p := newProcessor(h, o)
	if ng, ok := innerSource(src).(*ngSource); ok {
		if sh, ok := h.(SecretsHandler); ok {
			ng.secrets = sh
		}
		if dh, ok := h.(DropsHandler); ok {
			ng.drops = dropsReader(p, dh)
		}
	}
	if err := p.readAll(src); err != nil {
		return p.stats, fmt.Errorf("%s: %w", name, err)
	}
	return p.stats, nil
}

// readAll analyses every record of src, then finishes. A damaged
// compressed stream is returned (a *DecompressError) after the packets
// before it were analysed.
func (p *processor) readAll(src recordSource) (fatal error) {
	for {
		rec, err := src.next()
		if err != nil {
			if err == io.EOF {
				break
			}
			var te *truncatedError
			var ce *corruptError
			var de *DecompressError
			switch {
			case errors.As(err, &de):
				fatal = de
			case errors.As(err, &te):
				p.problem(Problem{Kind: ProblemTruncatedFile, Placed: true, Offset: te.offset,
					Detail: fmt.Sprintf("the capture ends inside a %s at byte %d: packets up to there were analysed", te.what, te.offset)})
			case errors.As(err, &ce):
				p.problem(Problem{Kind: ProblemCorruptPacket, Placed: true, Offset: ce.offset,
					Detail: fmt.Sprintf("%s at byte %d: reading stopped there, packets before it were analysed", ce.msg, ce.offset)})
			default:
				p.problem(Problem{Kind: ProblemTruncatedFile, Placed: true, Offset: src.offset(),
					Detail: fmt.Sprintf("reading stopped at byte %d: %v; packets before it were analysed", src.offset(), err)})
			}
			break
		}
		p.packet(rec)
	}
	p.finish()
	return fatal
}

// openSource sniffs r's format (gzip or zstd around pcap or pcapng) and
// returns its record reader. tap, when not nil, wraps the decompressed
// bytes before they are read (the export copies blocks from it); done
// releases the decompressor.
func openSource(r io.Reader, name string, tap func(io.Reader) io.Reader) (src recordSource, done func(), err error) {
	done = func() {}
	br := bufio.NewReaderSize(r, 256<<10)
	magic, err := br.Peek(4)
	if len(magic) == 0 && err != nil {
		if err == io.EOF {
			return nil, done, fmt.Errorf("%s: empty file, not a pcap or pcapng capture", name)
		}
		return nil, done, fmt.Errorf("%s: %w", name, err)
	}
	var plain io.Reader = br
	var z *decompressed
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		cr := &countingReader{r: br}
		zr, err := gzip.NewReader(cr)
		if err != nil {
			return nil, done, fmt.Errorf("%s: gzip: %w", name, err)
		}
		z = &decompressed{format: "gzip", r: zr, in: cr}
		plain, done = z, func() { zr.Close() }
	case len(magic) == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd:
		cr := &countingReader{r: br}
		zr, err := zstd.NewReader(cr, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, done, fmt.Errorf("%s: zstd: %w", name, err)
		}
		z = &decompressed{format: "zstd", r: zr, in: cr}
		plain, done = z, zr.Close
	}
	if tap != nil {
		plain = tap(plain)
	}
	if plain != io.Reader(br) {
		br = bufio.NewReaderSize(plain, 256<<10)
	}
	magic, err = br.Peek(4)
	if len(magic) < 4 {
		if z != nil && z.err != nil && !errors.Is(z.err.Err, io.ErrUnexpectedEOF) {
			return nil, done, fmt.Errorf("%s: %w", name, z.err)
		}
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			return nil, done, fmt.Errorf("%s: %w", name, err)
		}
		if len(magic) == 0 {
			return nil, done, fmt.Errorf("%s: empty file, not a pcap or pcapng capture", name)
		}
		return nil, done, fmt.Errorf("%s: not a pcap or pcapng file (starts with % x)", name, magic)
	}
	src, known, err := sourceFor(br, magic)
	if !known {
		return nil, done, fmt.Errorf("%s: not a pcap or pcapng file (starts with % x)", name, magic)
	}
	if err != nil {
		return nil, done, fmt.Errorf("%s: %w", name, err)
	}
	if z != nil {
		src = &decompressedSource{recordSource: src, z: z}
	}
	return src, done, nil
}

// DecompressError says the compressed data of a capture is damaged (a
// checksum mismatch, an invalid deflate block): the bytes decompressed
// before it are in doubt from the last good point on, and nothing after it
// can be read. Read returns it with the statistics of what was read.
type DecompressError struct {
	Format string // "gzip" or "zstd"
	// Compressed and Uncompressed are the byte offsets in the file and
	// in the decompressed data at which the damage was found.
	Compressed, Uncompressed int64
	Err                      error
}

func (e *DecompressError) Error() string {
	return fmt.Sprintf("%s: damaged data (%s) found at compressed byte %d, uncompressed byte %d: the report covers the packets read before it; copy the file again from its source, or see how much is recoverable with %s -dc",
		e.Format, strings.TrimPrefix(e.Err.Error(), e.Format+": "), e.Compressed, e.Uncompressed, e.Format)
}

func (e *DecompressError) Unwrap() error { return e.Err }

// countingReader counts the compressed bytes the decompressor takes. It
// is a ByteReader, so the decompressor reads through it without a buffer
// of its own and the count is where the decompressor is.
type countingReader struct {
	r *bufio.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countingReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}

// decompressed is the decompressor's output, counted, with the first error
// it gave (a damaged stream, or the end of a cut-off one).
type decompressed struct {
	format string
	r      io.Reader
	in     *countingReader
	out    int64
	err    *DecompressError
}

func (d *decompressed) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	d.out += int64(n)
	if err != nil && err != io.EOF && d.err == nil {
		d.err = &DecompressError{Format: d.format, Compressed: d.in.n, Uncompressed: d.out, Err: err}
	}
	return n, err
}

// damaged tells whether the compressed data is damaged: a cut-off stream
// is not (the capture is truncated), anything else the decompressor
// refuses is. The rest of the stream is read to find damage the
// decompressed bytes did not show yet (a checksum is checked at the end).
func (d *decompressed) damaged() *DecompressError {
	if d.err == nil {
		io.Copy(io.Discard, d)
	}
	if d.err == nil || errors.Is(d.err.Err, io.ErrUnexpectedEOF) {
		return nil
	}
	return d.err
}

// decompressedSource reads records from decompressed data: when reading
// stops early, the decompressor is asked whether the data was damaged,
// which then explains the stop (bad data decompressed without complaint
// reads as garbage records until the checksum at the end).
type decompressedSource struct {
	recordSource
	z *decompressed
}

func (s *decompressedSource) next() (record, error) {
	rec, err := s.recordSource.next()
	if err != nil && err != io.EOF {
		if de := s.z.damaged(); de != nil {
			return record{}, de
		}
	}
	return rec, err
}

// innerSource is the record reader under a decompressor.
func innerSource(src recordSource) recordSource {
	if d, ok := src.(*decompressedSource); ok {
		return d.recordSource
	}
	return src
}

// record is one packet record of a capture file.
type record struct {
	data     []byte // valid until the next call to next
	wireLen  int
	ts       time.Time
	linkType uint32
	offset   int64 // byte offset of the record in the (decompressed) file
	// undefined is set for a pcapng packet naming an interface the
	// section has not described (iface of ifaces): it has no link type.
	undefined     bool
	iface, ifaces int
}

type recordSource interface {
	next() (record, error)
	offset() int64
}

type truncatedError struct {
	what   string
	offset int64
}

func (e *truncatedError) Error() string {
	return fmt.Sprintf("capture ends inside a %s at byte %d", e.what, e.offset)
}

type corruptError struct {
	msg    string
	offset int64
}

func (e *corruptError) Error() string { return fmt.Sprintf("%s at byte %d", e.msg, e.offset) }

// maxRecord bounds a packet record or pcapng block: larger ones are corrupt.
const maxRecord = 64 << 20

func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n, n+n/4)
	}
	return b[:n]
}

// sourceFor opens the record reader the first four bytes call for; known is
// false when they are neither pcap nor pcapng.
func sourceFor(br *bufio.Reader, magic []byte) (src recordSource, known bool, err error) {
	switch {
	case isPcapMagic(magic):
		src, err = newPcapSource(br)
	case magic[0] == 0x0a && magic[1] == 0x0d && magic[2] == 0x0d && magic[3] == 0x0a:
		src, err = newNgSource(br)
	default:
		return nil, false, nil
	}
	return src, true, err
}

// dropsReader turns the kernel drop counters a live capture wrote into its
// pcapng (interface statistics blocks between the packets) into the
// KernelDrops events live gave, at the same frames.
func dropsReader(p *processor, dh DropsHandler) func(iface uint32, ts time.Time, dropped uint64) {
	last := map[uint32]uint64{}
	return func(iface uint32, ts time.Time, dropped uint64) {
		prev := last[iface]
		if dropped <= prev {
			return
		}
		last[iface] = dropped
		dh.KernelDrops(KernelDrops{Frame: Frame{Number: p.stats.Frames, Time: ts}, Dropped: dropped - prev, Total: dropped})
	}
}

// undefinedInterface reports a pcapng packet naming an interface its
// section does not describe, once per interface: without the description
// its link type and time are unknown, so it is not analysed.
func (p *processor) undefinedInterface(rec record, f Frame) {
	p.stats.Undecodable++
	if p.undefinedIfaces == nil {
		p.undefinedIfaces = make(map[int]bool)
	}
	if p.undefinedIfaces[rec.iface] {
		return
	}
	p.undefinedIfaces[rec.iface] = true
	blocks := "interface description blocks"
	if rec.ifaces == 1 {
		blocks = "interface description block"
	}
	p.problem(Problem{Kind: ProblemCorruptPacket, Placed: true, Frame: f.Number, Offset: rec.offset,
		Detail: fmt.Sprintf("frame %d: interface %d is not defined (the file has %d %s): its packets are not analysed", f.Number, rec.iface, rec.ifaces, blocks)})
}
