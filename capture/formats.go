package capture

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"
	"time"
)

// readAt reads len(b) bytes of something starting at file offset start.
// A clean EOF before the first byte is io.EOF when atBoundary; any other
// short read is a truncation.
func readAt(r io.Reader, b []byte, what string, start int64, atBoundary bool) error {
	n, err := io.ReadFull(r, b)
	if err == nil {
		return nil
	}
	if err == io.EOF && n == 0 && atBoundary {
		return io.EOF
	}
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return &truncatedError{what: what, offset: start}
	}
	return err
}

// readGrow reads n bytes into buf (reused when big enough). Lengths come
// from the file: a large one is only trusted as the bytes arrive, so a
// corrupt length cannot allocate much more than the file holds.
func readGrow(r io.Reader, buf []byte, n int, what string, start int64) ([]byte, error) {
	const step = 1 << 20
	if n <= cap(buf) || n <= step {
		buf = grow(buf, n)
		return buf, readAt(r, buf, what, start, false)
	}
	buf = buf[:0]
	for len(buf) < n {
		k := min(step, n-len(buf))
		buf = slices.Grow(buf, k)
		if err := readAt(r, buf[len(buf):len(buf)+k], what, start, false); err != nil {
			return buf, err
		}
		buf = buf[:len(buf)+k]
	}
	return buf, nil
}

// readRecord returns the next n bytes of r: in r's buffer when they fit
// (valid until r is read again: no copy), else read into buf.
func readRecord(r *bufio.Reader, buf []byte, n int, what string, start int64) (data, newBuf []byte, err error) {
	if n > r.Size() {
		buf, err = readGrow(r, buf, n, what, start)
		return buf, buf, err
	}
	data, err = r.Peek(n)
	if err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			err = &truncatedError{what: what, offset: start}
		}
		return nil, buf, err
	}
	r.Discard(n)
	return data, buf, nil
}

// Pcap (libpcap) files.

const (
	pcapMagicMicro      = 0xa1b2c3d4
	pcapMagicNano       = 0xa1b23c4d
	pcapMagicKuznetzov  = 0xa1b2cd34 // modified pcap: 8 more bytes per record
	pcapFileHeaderLen   = 24
	pcapRecordHeaderLen = 16
)

func isPcapMagic(m []byte) bool {
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		switch order.Uint32(m) {
		case pcapMagicMicro, pcapMagicNano, pcapMagicKuznetzov:
			return true
		}
	}
	return false
}

type pcapSource struct {
	r        *bufio.Reader
	order    binary.ByteOrder
	nano     bool
	extra    int // bytes after the 16-byte record header (modified pcap)
	linkType uint32
	snaplen  uint32
	off      int64
	hdr      [24]byte
	buf      []byte
}

func newPcapSource(r *bufio.Reader) (*pcapSource, error) {
	s := &pcapSource{r: r}
	if err := readAt(r, s.hdr[:pcapFileHeaderLen], "pcap file header", 0, false); err != nil {
		return nil, err
	}
	s.off = pcapFileHeaderLen
	s.order = binary.LittleEndian
	m := s.order.Uint32(s.hdr[:4])
	if m != pcapMagicMicro && m != pcapMagicNano && m != pcapMagicKuznetzov {
		s.order = binary.BigEndian
		m = s.order.Uint32(s.hdr[:4])
	}
	s.nano = m == pcapMagicNano
	if m == pcapMagicKuznetzov {
		s.extra = 8
	}
	s.snaplen = s.order.Uint32(s.hdr[16:20])
	// The upper bits carry the FCS length; the link type is the low 16.
	s.linkType = s.order.Uint32(s.hdr[20:24]) & 0xffff
	return s, nil
}

func (s *pcapSource) offset() int64 { return s.off }

func (s *pcapSource) next() (record, error) {
	start := s.off
	h := s.hdr[:pcapRecordHeaderLen+s.extra]
	if err := readAt(s.r, h, "packet record header", start, true); err != nil {
		return record{}, err
	}
	sec := s.order.Uint32(h[0:4])
	frac := s.order.Uint32(h[4:8])
	capLen := s.order.Uint32(h[8:12])
	wireLen := s.order.Uint32(h[12:16])
	if capLen > maxRecord {
		return record{}, &corruptError{msg: fmt.Sprintf("packet record claims %d bytes", capLen), offset: start}
	}
	data, buf, err := readRecord(s.r, s.buf, int(capLen), "packet", start)
	s.buf = buf
	if err != nil {
		return record{}, err
	}
	s.off += int64(len(h)) + int64(capLen)
	nsec := int64(frac)
	if !s.nano {
		nsec *= 1000
	}
	return record{
		data:     data,
		wireLen:  int(wireLen),
		ts:       time.Unix(int64(sec), nsec).UTC(),
		linkType: s.linkType,
		offset:   start,
	}, nil
}

// Pcapng files: a small block reader, so Decryption Secrets Blocks are seen.

const (
	ngSHB = 0x0a0d0d0a
	ngIDB = 0x00000001
	ngOPB = 0x00000002 // obsolete Packet Block
	ngSPB = 0x00000003
	ngISB = 0x00000005
	ngEPB = 0x00000006
	ngDSB = 0x0000000a
)

type ngInterface struct {
	linkType uint32
	snaplen  uint32
	unitsSec uint64 // timestamp units per second
	offset   int64  // if_tsoffset, seconds
}

type ngSource struct {
	r       *bufio.Reader
	order   binary.ByteOrder
	ifaces  []ngInterface
	off     int64
	hdr     [12]byte
	buf     []byte
	secrets SecretsHandler
	// drops, when set, receives each interface statistics block's
	// isb_ifdrop: the packets the capturing kernel dropped so far.
	drops func(iface uint32, ts time.Time, dropped uint64)
}

func newNgSource(r *bufio.Reader) (*ngSource, error) {
	return &ngSource{r: r, order: binary.LittleEndian}, nil
}

func (s *ngSource) offset() int64 { return s.off }

func (s *ngSource) next() (record, error) {
	for {
		start := s.off
		if err := readAt(s.r, s.hdr[:8], "pcapng block header", start, true); err != nil {
			return record{}, err
		}
		typ := s.order.Uint32(s.hdr[0:4])
		if s.hdr[0] == 0x0a && s.hdr[1] == 0x0d && s.hdr[2] == 0x0d && s.hdr[3] == 0x0a {
			typ = ngSHB
			// The byte-order magic follows the length: read it first.
			if err := readAt(s.r, s.hdr[8:12], "pcapng section header", start, false); err != nil {
				return record{}, err
			}
			switch {
			case binary.LittleEndian.Uint32(s.hdr[8:12]) == 0x1a2b3c4d:
				s.order = binary.LittleEndian
			case binary.BigEndian.Uint32(s.hdr[8:12]) == 0x1a2b3c4d:
				s.order = binary.BigEndian
			default:
				return record{}, &corruptError{msg: "pcapng section header with a bad byte-order magic", offset: start}
			}
		}
		total := s.order.Uint32(s.hdr[4:8])
		if total < 12 || total%4 != 0 || total > maxRecord {
			return record{}, &corruptError{msg: fmt.Sprintf("pcapng block of type 0x%08x claims length %d", typ, total), offset: start}
		}
		have := 8
		if typ == ngSHB {
			have = 12
			if total < 28 {
				return record{}, &corruptError{msg: fmt.Sprintf("pcapng section header of length %d", total), offset: start}
			}
		}
		// Body plus the trailing length.
		what := "pcapng block"
		switch typ {
		case ngEPB, ngSPB, ngOPB:
			what = "packet"
		}
		block, buf, err := readRecord(s.r, s.buf, int(total)-have, what, start)
		s.buf = buf
		if err != nil {
			return record{}, err
		}
		s.off += int64(total)
		body := block[:len(block)-4]
		if trailer := s.order.Uint32(block[len(block)-4:]); trailer != total {
			return record{}, &corruptError{msg: fmt.Sprintf("pcapng block of type 0x%08x has mismatched lengths %d and %d", typ, total, trailer), offset: start}
		}
		switch typ {
		case ngSHB:
			s.ifaces = s.ifaces[:0]
		case ngIDB:
			if len(body) < 8 {
				return record{}, &corruptError{msg: "pcapng interface description too short", offset: start}
			}
			ifc := ngInterface{
				linkType: uint32(s.order.Uint16(body[0:2])),
				snaplen:  s.order.Uint32(body[4:8]),
				unitsSec: 1_000_000,
			}
			s.interfaceOptions(&ifc, body[8:])
			s.ifaces = append(s.ifaces, ifc)
		case ngEPB, ngOPB:
			if len(body) < 20 {
				return record{}, &corruptError{msg: "pcapng packet block too short", offset: start}
			}
			var id uint32
			if typ == ngEPB {
				id = s.order.Uint32(body[0:4])
			} else {
				id = uint32(s.order.Uint16(body[0:2]))
			}
			capLen := s.order.Uint32(body[12:16])
			wireLen := s.order.Uint32(body[16:20])
			if uint64(capLen) > uint64(len(body)-20) {
				return record{}, &corruptError{msg: fmt.Sprintf("pcapng packet claims %d bytes in a block of %d", capLen, total), offset: start}
			}
			rec := record{data: body[20 : 20+capLen], wireLen: int(wireLen), offset: start}
			if uint64(id) >= uint64(len(s.ifaces)) {
				return s.undefined(rec, int(min(id, math.MaxInt32))), nil
			}
			ifc := &s.ifaces[id]
			rec.linkType = ifc.linkType
			rec.ts = ifc.time(uint64(s.order.Uint32(body[4:8]))<<32 | uint64(s.order.Uint32(body[8:12])))
			return rec, nil
		case ngSPB:
			if len(body) < 4 {
				return record{}, &corruptError{msg: "pcapng simple packet block too short", offset: start}
			}
			wireLen := s.order.Uint32(body[0:4])
			data := body[4:]
			if uint64(wireLen) < uint64(len(data)) {
				data = data[:wireLen]
			}
			rec := record{data: data, wireLen: int(wireLen), offset: start}
			if len(s.ifaces) == 0 {
				return s.undefined(rec, 0), nil
			}
			rec.linkType = s.ifaces[0].linkType
			if sl := s.ifaces[0].snaplen; sl != 0 && uint32(len(rec.data)) > sl {
				rec.data = rec.data[:sl]
			}
			return rec, nil
		case ngISB:
			if s.drops != nil && len(body) >= 12 {
				id := s.order.Uint32(body[0:4])
				var ts time.Time
				if int(id) < len(s.ifaces) {
					ts = s.ifaces[id].time(uint64(s.order.Uint32(body[4:8]))<<32 | uint64(s.order.Uint32(body[8:12])))
				}
				if d, ok := s.isbDrops(body[12:]); ok {
					s.drops(id, ts, d)
				}
			}
		case ngDSB:
			if s.secrets != nil && len(body) >= 8 {
				st := s.order.Uint32(body[0:4])
				n := s.order.Uint32(body[4:8])
				if uint64(n) <= uint64(len(body)-8) {
					d := make([]byte, n)
					copy(d, body[8:8+n])
					s.secrets.Secrets(st, d)
				}
			}
		}
	}
}

// undefined marks a packet naming interface id, which the section does
// not describe.
func (s *ngSource) undefined(rec record, id int) record {
	rec.linkType, rec.undefined, rec.iface, rec.ifaces = 0xffffffff, true, id, len(s.ifaces)
	return rec
}

// isbDrops reads isb_ifdrop (option 5, a 64-bit count) from an interface
// statistics block's options.
func (s *ngSource) isbDrops(b []byte) (uint64, bool) {
	for len(b) >= 4 {
		code := s.order.Uint16(b[0:2])
		n := int(s.order.Uint16(b[2:4]))
		b = b[4:]
		if code == 0 || n > len(b) {
			return 0, false
		}
		if code == 5 && n == 8 {
			return s.order.Uint64(b[:8]), true
		}
		if pad := (n + 3) &^ 3; pad <= len(b) {
			b = b[pad:]
		} else {
			return 0, false
		}
	}
	return 0, false
}

func (s *ngSource) interfaceOptions(ifc *ngInterface, b []byte) {
	for len(b) >= 4 {
		code := s.order.Uint16(b[0:2])
		n := int(s.order.Uint16(b[2:4]))
		b = b[4:]
		if n > len(b) {
			return
		}
		v := b[:n]
		switch code {
		case 0:
			return
		case 9: // if_tsresol
			if n >= 1 {
				e := v[0] & 0x7f
				var u uint64 = 1
				if v[0]&0x80 != 0 {
					if e < 64 {
						u = 1 << e
					}
				} else {
					for i := uint8(0); i < e && u < math.MaxUint64/10; i++ {
						u *= 10
					}
				}
				if u > 0 {
					ifc.unitsSec = u
				}
			}
		case 14: // if_tsoffset
			if n >= 8 {
				ifc.offset = int64(s.order.Uint64(v))
			}
		}
		pad := (n + 3) &^ 3
		if pad > len(b) {
			return
		}
		b = b[pad:]
	}
}

func (ifc *ngInterface) time(ts uint64) time.Time {
	sec := ts / ifc.unitsSec
	rem := ts % ifc.unitsSec
	var nsec uint64
	if ifc.unitsSec <= 1_000_000_000 {
		nsec = rem * 1_000_000_000 / ifc.unitsSec
	} else {
		nsec = rem / (ifc.unitsSec / 1_000_000_000)
	}
	return time.Unix(int64(sec)+ifc.offset, int64(nsec)).UTC()
}
