package diagnose

import (
	"bufio"
	"encoding/gob"
	"fmt"
	"io"
	"iter"
	"os"
	"sort"
)

// SpillAfter is how many decided connections a report keeps in memory.
// Past it, every verdict goes to a temporary file (removed as soon as it is
// made, so nothing is left behind) and is read back one at a time while the
// report is rendered: a flood of a million connections then costs a small
// index entry each instead of a whole verdict (about 1.5 KB with its
// timeline), and memory does not grow with a long capture's connections.
// Writing and reading them back costs no measurable time (the 1 GiB
// benchmark capture: same CPU time, peak RSS 69 instead of 134 MiB).
// Tests lower it to render every capture from the file.
var SpillAfter = 1000

// verdicts keeps the decided connections, in the order they were decided.
type verdicts struct {
	mem   []*Connection
	spill *spillFile
	// noSpill: no temporary file could be made; not tried again.
	noSpill bool
}

func (v *verdicts) add(c *Connection) error {
	c.normalize()
	if v.spill == nil && (len(v.mem) < SpillAfter || v.noSpill) {
		v.mem = append(v.mem, c)
		return nil
	}
	if v.spill == nil {
		s, err := newSpillFile()
		if err != nil {
			// No temporary file: keep the verdicts in memory, as before.
			v.mem = append(v.mem, c)
			v.noSpill = true
			return err
		}
		v.spill = s
		for _, m := range v.mem {
			if err := s.add(m); err != nil {
				return err
			}
		}
		v.mem = nil
	}
	return v.spill.add(c)
}

// normalize makes the slices JSON writes as arrays non-nil, so a verdict
// read back from the spill file (gob keeps no difference between nil and
// empty) renders as the one kept in memory.
func (c *Connection) normalize() {
	if c.Findings == nil {
		c.Findings = []Finding{}
	}
	for i := range c.Findings {
		f := &c.Findings[i]
		if f.Frames == nil {
			f.Frames = []int{}
		}
		if f.DeviceErrors == nil {
			f.DeviceErrors = []DeviceError{}
		}
	}
	for i := range c.Records {
		r := &c.Records[i]
		if r.Frames == nil {
			r.Frames = []int{}
		}
		if r.HandshakeTypes == nil {
			r.HandshakeTypes = []uint8{}
		}
	}
}

// spillFile holds verdicts gob-encoded one after another. One encoder
// writes them all, so the type descriptions come once, at the start; any
// verdict is read back alone by a decoder that has read that start.
type spillFile struct {
	f     *os.File
	w     *bufio.Writer
	enc   *gob.Encoder
	cw    countingWriter
	types []byte // the type descriptions and a zero Connection
	index []spilled
	err   error // the first write or read error

	profiles   []profileKey
	profileIDs map[profileKey]uint16
}

// spilled is where one verdict is in the file, and what ordering, the
// exit code, the report's profile line and --client need without reading
// it back.
type spilled struct {
	off       int64
	n         uint32
	stream    uint32
	first     uint32 // first frame
	profile   uint16 // in spillFile.profiles
	espressif bool
	failed    bool
}

// profileKey is a verdict's profile line, interned: a capture has few.
type profileKey struct{ name, reason string }

// countingWriter counts what the encoder wrote, to know each value's span.
type countingWriter struct {
	w *bufio.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func newSpillFile() (*spillFile, error) {
	f, err := os.CreateTemp("", "tlspcap-verdicts-*")
	if err != nil {
		return nil, fmt.Errorf("more than %d connections: cannot make a temporary file for their verdicts (%v); they are kept in memory: set TMPDIR to a writable directory", SpillAfter, err)
	}
	// Removed now: the open file lives on until Close or the end of the
	// process, and nothing is left in TMPDIR whatever happens.
	os.Remove(f.Name())
	s := &spillFile{f: f, w: bufio.NewWriterSize(f, 256<<10), profileIDs: map[profileKey]uint16{}}
	s.cw.w = s.w
	s.enc = gob.NewEncoder(&s.cw)
	// The first value carries the type descriptions: kept, to prime each
	// decoder that reads a later value on its own.
	if err := s.enc.Encode(&Connection{}); err != nil {
		f.Close()
		return nil, err
	}
	if err := s.w.Flush(); err != nil {
		f.Close()
		return nil, fmt.Errorf("temporary file for verdicts: %v", err)
	}
	s.types = make([]byte, s.cw.n)
	if _, err := f.ReadAt(s.types, 0); err != nil {
		f.Close()
		return nil, fmt.Errorf("temporary file for verdicts: %v", err)
	}
	return s, nil
}

func (s *spillFile) add(c *Connection) error {
	if s.err != nil {
		return s.err
	}
	start := s.cw.n
	if err := s.enc.Encode(c); err != nil {
		s.err = fmt.Errorf("temporary file for verdicts: %v", err)
		return s.err
	}
	k := profileKey{c.Profile, c.ProfileReason}
	id, ok := s.profileIDs[k]
	if !ok && len(s.profiles) < 1<<16 {
		id = uint16(len(s.profiles))
		s.profiles = append(s.profiles, k)
		s.profileIDs[k] = id
	} else if !ok {
		// A capture has a handful. Past 65,536 the profiles differ anyway,
		// which is all the report's profile line says then.
		id = uint16(len(s.profiles) - 1)
	}
	s.index = append(s.index, spilled{off: start, n: uint32(s.cw.n - start), stream: uint32(c.Stream), first: uint32(c.FirstFrame),
		espressif: isEspressifLabel(c.ClientLabel), failed: c.Failed(), profile: id})
	return nil
}

// reader reads verdicts back in any order.
type spillReader struct {
	s   *spillFile
	dec *gob.Decoder
	src byteSource
	buf []byte
}

// byteSource feeds the decoder exactly one value at a time: as an
// io.ByteReader it is read without read-ahead, so the decoder never takes
// bytes of the next value.
type byteSource struct{ b []byte }

func (b *byteSource) Read(p []byte) (int, error) {
	if len(b.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, b.b)
	b.b = b.b[n:]
	return n, nil
}

func (b *byteSource) ReadByte() (byte, error) {
	if len(b.b) == 0 {
		return 0, io.EOF
	}
	c := b.b[0]
	b.b = b.b[1:]
	return c, nil
}

func (s *spillFile) reader() (*spillReader, error) {
	if err := s.w.Flush(); err != nil {
		return nil, fmt.Errorf("temporary file for verdicts: %v", err)
	}
	r := &spillReader{s: s}
	r.dec = gob.NewDecoder(&r.src)
	r.src.b = s.types
	if err := r.dec.Decode(new(Connection)); err != nil {
		return nil, fmt.Errorf("temporary file for verdicts: %v", err)
	}
	return r, nil
}

func (r *spillReader) read(e spilled) (*Connection, error) {
	if cap(r.buf) < int(e.n) {
		r.buf = make([]byte, e.n)
	}
	b := r.buf[:e.n]
	if _, err := r.s.f.ReadAt(b, e.off); err != nil {
		return nil, fmt.Errorf("temporary file for verdicts: reading tcp.stream %d: %v", e.stream, err)
	}
	r.src.b = b
	c := new(Connection)
	if err := r.dec.Decode(c); err != nil {
		return nil, fmt.Errorf("temporary file for verdicts: reading tcp.stream %d: %v", e.stream, err)
	}
	if len(r.src.b) != 0 {
		return nil, fmt.Errorf("temporary file for verdicts: tcp.stream %d: %d bytes left over", e.stream, len(r.src.b))
	}
	c.normalize()
	return c, nil
}

// sortReport puts the index in report order (reportKey), as the verdicts
// in memory are.
func (s *spillFile) sortReport(espressifFirst bool) {
	key := func(e spilled) reportKey { return reportKey{e.espressif, int(e.stream), int(e.first)} }
	sort.Slice(s.index, func(i, j int) bool { return key(s.index[i]).before(key(s.index[j]), espressifFirst) })
}

// profiles yields each connection's profile and why, in report order,
// without reading spilled verdicts back.
func (r *Report) profiles() iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		if r.spill == nil {
			for _, c := range r.Connections {
				if !yield(c.Profile, c.ProfileReason) {
					return
				}
			}
			return
		}
		for _, e := range r.spill.index {
			k := r.spill.profiles[e.profile]
			if !yield(k.name, k.reason) {
				return
			}
		}
	}
}
