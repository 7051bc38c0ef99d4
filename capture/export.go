package capture

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"time"
)

// Cutting a capture down to some connections: the packets of the failing
// connections and their DNS, copied byte for byte into a pcapng file, so a
// bug ticket carries a small capture that analyses the same.

// ExportConn selects one TCP connection: the packets between its two
// endpoints (either direction) from frame First on, and before frame Next
// when the same endpoints start another connection there (port reuse).
// ICMP errors quoting its packets belong to it too.
type ExportConn struct {
	Client, Server netip.AddrPort
	First, Next    int // Next 0: to the end of the capture
}

// ExportSelection says which packets to keep.
type ExportSelection struct {
	Conns []ExportConn
	// DNSNames: DNS messages asking for these names (case-insensitive),
	// e.g. the SNI a client sent.
	DNSNames []string
	// DNSAddrs: DNS answers resolving a name to one of these addresses
	// (the server a client dialled) are kept, and so is every message
	// about that name (the query before the answer).
	DNSAddrs []netip.Addr
	// Frames are kept as they are (the evidence of capture-level findings);
	// the names DNS messages among them ask for are kept too.
	Frames []int
}

// ExportResult says what was written.
type ExportResult struct {
	// Frames lists, in order, the original frame number of each packet
	// written: packet i+1 of the export is frame Frames[i] of the input.
	Frames []int
	// Read is the number of packets read from the input.
	Read int
}

// Export copies the packets of the capture at path that sel selects into w
// as pcapng. A pcapng input keeps its section and interface blocks, its
// Decryption Secrets Blocks (the keys of the kept connections must stay)
// and every kept packet block byte for byte: timestamps with their
// resolution, interface names, link types, snap lengths and comments are
// unchanged; Interface Statistics Blocks are dropped (their counts describe
// the whole input). A pcap input becomes one pcapng interface with the same
// link type, snap length and timestamp resolution. The file is read twice
// (first the DNS names, then the packets), so it must be a file, not a
// stream. A file cut off or corrupt is exported up to the bad spot, as
// analysis reads it.
func Export(path string, w io.Writer, sel ExportSelection) (ExportResult, error) {
	m := newMatcher(sel)
	if m.needNames() {
		if err := exportPass(path, func(rec record, frame int, _ *spanTap, _ recordSource) error {
			m.learnNames(rec, frame)
			return nil
		}); err != nil {
			return ExportResult{}, err
		}
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	var res ExportResult
	var ng pcapngCopier
	prev := int64(0)
	header := false
	err := exportPass(path, func(rec record, frame int, tap *spanTap, src recordSource) error {
		if frame == 0 { // end of input: blocks after the last packet
			_, err := ng.copyBlocks(bw, tap.take(prev, src.offset()))
			return err
		}
		res.Read = frame
		switch s := src.(type) {
		case *ngSource:
			if _, err := ng.copyBlocks(bw, tap.take(prev, rec.offset)); err != nil {
				return err
			}
			block := tap.take(rec.offset, s.off)
			prev = s.off
			if m.keep(rec, frame) {
				res.Frames = append(res.Frames, frame)
				if _, err := bw.Write(block); err != nil {
					return err
				}
			}
		case *pcapSource:
			tap.take(prev, s.off) // nothing to copy: forget it
			prev = s.off
			if !header {
				header = true
				if err := writePcapngHeader(bw, s); err != nil {
					return err
				}
			}
			if m.keep(rec, frame) {
				res.Frames = append(res.Frames, frame)
				if err := writeEPB(bw, s, rec); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	if ng.sections == 0 && !header {
		// A pcap without packets: still a valid (empty) pcapng file.
		if err := writeBlock(bw, binary.LittleEndian, ngSHB, shbBody(binary.LittleEndian)); err != nil {
			return res, err
		}
	}
	return res, bw.Flush()
}

// exportPass reads the capture at path and calls visit for every packet
// record (frame numbered as analysis numbers it), then once with frame 0 at
// the end of the input.
func exportPass(path string, visit func(rec record, frame int, tap *spanTap, src recordSource) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	tap := &spanTap{}
	src, done, err := openSource(f, path, func(r io.Reader) io.Reader { tap.r = r; return tap })
	if err != nil {
		return err
	}
	defer done()
	frame := 0
	for {
		rec, err := src.next()
		if err != nil {
			var te *truncatedError
			var ce *corruptError
			if err != io.EOF && !errors.As(err, &te) && !errors.As(err, &ce) {
				return fmt.Errorf("%s: byte %d: %w", path, src.offset(), err)
			}
			break
		}
		frame++
		if err := visit(rec, frame, tap, innerSource(src)); err != nil {
			return err
		}
	}
	return visit(record{}, 0, tap, innerSource(src))
}

// Packets calls fn for every packet record of the capture at path, in
// order: its time, link type, captured bytes (valid during the call) and
// length on the wire.
func Packets(path string, fn func(ts time.Time, linkType uint32, data []byte, wireLen int)) error {
	return exportPass(path, func(rec record, frame int, tap *spanTap, src recordSource) error {
		tap.take(tap.base, src.offset()) // nothing to copy: forget it
		if frame > 0 {
			fn(rec.ts, rec.linkType, rec.data, rec.wireLen)
		}
		return nil
	})
}

// spanTap keeps the bytes read through it from the last offset taken on,
// so whole blocks can be copied after the block reader parsed them.
type spanTap struct {
	r    io.Reader
	buf  []byte
	base int64 // file offset of buf[0]
}

func (t *spanTap) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.buf = append(t.buf, p[:n]...)
	return n, err
}

// take returns the bytes [from, to) of the input and forgets those before
// to. The slice is valid until the next Read.
func (t *spanTap) take(from, to int64) []byte {
	if from < t.base || to < from || to > t.base+int64(len(t.buf)) {
		return nil
	}
	out := t.buf[from-t.base : to-t.base]
	// Drop what is behind: copy the read-ahead down when it is small.
	rest := t.buf[to-t.base:]
	if len(rest) < cap(t.buf)/2 {
		b := make([]byte, len(rest), max(cap(t.buf), 64<<10))
		copy(b, rest)
		t.buf = b
	} else {
		t.buf = rest
	}
	t.base = to
	return out
}

// pcapngCopier copies pcapng blocks other than packets, dropping interface
// statistics and marking section lengths unknown (sections shrink).
type pcapngCopier struct {
	order    binary.ByteOrder
	sections int
}

func (c *pcapngCopier) copyBlocks(w io.Writer, b []byte) (int, error) {
	n := 0
	for len(b) >= 12 {
		if b[0] == 0x0a && b[1] == 0x0d && b[2] == 0x0d && b[3] == 0x0a && len(b) >= 28 {
			switch {
			case binary.LittleEndian.Uint32(b[8:12]) == 0x1a2b3c4d:
				c.order = binary.LittleEndian
			default:
				c.order = binary.BigEndian
			}
			c.sections++
		}
		if c.order == nil {
			return n, nil
		}
		total := c.order.Uint32(b[4:8])
		if total < 12 || uint64(total) > uint64(len(b)) {
			return n, nil // the block reader already refused it
		}
		block := b[:total]
		b = b[total:]
		switch c.order.Uint32(block[0:4]) {
		case 0x00000005: // Interface Statistics Block
			continue
		case ngSHB:
			if len(block) < 24 {
				return n, nil // the block reader already refused it
			}
			// Section length: -1, unknown.
			shb := append([]byte(nil), block...)
			for i := 16; i < 24; i++ {
				shb[i] = 0xff
			}
			block = shb
		}
		k, err := w.Write(block)
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func writeBlock(w io.Writer, order binary.ByteOrder, typ uint32, body []byte) error {
	pad := (4 - len(body)%4) % 4
	total := uint32(12 + len(body) + pad)
	var h [8]byte
	order.PutUint32(h[0:4], typ)
	order.PutUint32(h[4:8], total)
	var t [4]byte
	order.PutUint32(t[:], total)
	for _, part := range [][]byte{h[:], body, make([]byte, pad), t[:]} {
		if _, err := w.Write(part); err != nil {
			return err
		}
	}
	return nil
}

func shbBody(order binary.ByteOrder) []byte {
	b := make([]byte, 16)
	order.PutUint32(b[0:4], 0x1a2b3c4d)
	order.PutUint16(b[4:6], 1)
	order.PutUint16(b[6:8], 0)
	binary.LittleEndian.PutUint64(b[8:16], ^uint64(0))
	return b
}

// pcapng option helpers.
func ngOption(order binary.ByteOrder, code uint16, v []byte) []byte {
	b := make([]byte, 4, 4+len(v)+3)
	order.PutUint16(b[0:2], code)
	order.PutUint16(b[2:4], uint16(len(v)))
	b = append(b, v...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// writePcapngHeader writes the section header and the one interface of a
// pcap input: its link type, snap length and timestamp resolution.
func writePcapngHeader(w io.Writer, s *pcapSource) error {
	le := binary.LittleEndian
	if err := writeBlock(w, le, ngSHB, shbBody(le)); err != nil {
		return err
	}
	idb := make([]byte, 8)
	le.PutUint16(idb[0:2], uint16(s.linkType))
	le.PutUint32(idb[4:8], s.snaplen)
	res := byte(6)
	if s.nano {
		res = 9
	}
	idb = append(idb, ngOption(le, 9, []byte{res})...) // if_tsresol
	idb = append(idb, 0, 0, 0, 0)                      // opt_endofopt
	return writeBlock(w, le, ngIDB, idb)
}

// writeEPB writes one pcap record as an Enhanced Packet Block.
func writeEPB(w io.Writer, s *pcapSource, rec record) error {
	le := binary.LittleEndian
	var ts uint64
	if !rec.ts.IsZero() {
		sec, nsec := uint64(rec.ts.Unix()), uint64(rec.ts.Nanosecond())
		if s.nano {
			ts = sec*1_000_000_000 + nsec
		} else {
			ts = sec*1_000_000 + nsec/1000
		}
	}
	body := make([]byte, 20, 20+len(rec.data)+3)
	le.PutUint32(body[0:4], 0)
	le.PutUint32(body[4:8], uint32(ts>>32))
	le.PutUint32(body[8:12], uint32(ts))
	le.PutUint32(body[12:16], uint32(len(rec.data)))
	le.PutUint32(body[16:20], uint32(rec.wireLen))
	body = append(body, rec.data...)
	return writeBlock(w, le, ngEPB, body)
}

// matcher decides per packet.
type matcher struct {
	conns  map[convKey][]ExportConn
	names  map[string]bool
	addrs  map[netip.Addr]bool
	frames map[int]bool
	frags  map[fragKey]bool // IPv4 fragments of kept datagrams
	dec    decoded
}

func newMatcher(sel ExportSelection) *matcher {
	m := &matcher{conns: map[convKey][]ExportConn{}, names: map[string]bool{}, addrs: map[netip.Addr]bool{},
		frames: map[int]bool{}, frags: map[fragKey]bool{}}
	for _, c := range sel.Conns {
		k, _ := makeKey(c.Client, c.Server)
		m.conns[k] = append(m.conns[k], c)
	}
	for _, n := range sel.DNSNames {
		if n != "" {
			m.names[dnsNorm(n)] = true
		}
	}
	for _, a := range sel.DNSAddrs {
		m.addrs[a.Unmap()] = true
	}
	for _, f := range sel.Frames {
		m.frames[f] = true
	}
	return m
}

func dnsNorm(n string) string { return strings.ToLower(strings.TrimSuffix(n, ".")) }

func (m *matcher) needNames() bool { return len(m.addrs) > 0 || len(m.frames) > 0 }

// learnNames adds the names of DNS answers for a selected address, and of
// DNS messages among the selected frames.
func (m *matcher) learnNames(rec record, frame int) {
	dm := m.dns(rec)
	if dm == nil {
		return
	}
	hit := m.frames[frame]
	for _, a := range dm.Answers {
		if a.Addr.IsValid() && m.addrs[a.Addr.Unmap()] {
			hit = true
		}
	}
	if !hit {
		return
	}
	for _, q := range dm.Questions {
		m.names[dnsNorm(q.Name)] = true
	}
	for _, a := range dm.Answers {
		m.names[dnsNorm(a.Name)] = true
		if a.Alias != "" {
			m.names[dnsNorm(a.Alias)] = true
		}
	}
}

// network decodes a packet down to its innermost IP payload, following
// tunnels as analysis does. ok is false for what is not IP.
func (m *matcher) network(rec record) (res ipResult, ipb []byte, ok bool) {
	d := &m.dec
	b, err := decodeLink(rec.linkType, rec.data, d)
	if err != nil {
		return 0, nil, false
	}
	for depth := 0; ; depth++ {
		r, _, err := decodeIP(b, d)
		if err != nil || r == ipOther {
			return 0, nil, false
		}
		if depth < 4 && r == ipOK {
			if inner, ok := tunnelPayload(d); ok {
				b = inner
				continue
			}
		}
		return r, b, true
	}
}

// dns returns the DNS message a UDP packet to or from port 53 carries.
func (m *matcher) dns(rec record) *DNSMessage {
	res, _, ok := m.network(rec)
	d := &m.dec
	if !ok || res != ipOK || d.proto != protoUDP || len(d.l4) < 8 {
		return nil
	}
	if binary.BigEndian.Uint16(d.l4[0:2]) != dnsPort && binary.BigEndian.Uint16(d.l4[2:4]) != dnsPort {
		return nil
	}
	payload := d.l4[8:]
	if ulen := int(binary.BigEndian.Uint16(d.l4[4:6])); ulen >= 8 && ulen-8 < len(payload) {
		payload = payload[:ulen-8]
	}
	dm, err := parseDNS(payload)
	if err != nil {
		return nil
	}
	return dm
}

func (m *matcher) keep(rec record, frame int) bool {
	if m.frames[frame] {
		return true
	}
	res, ipb, ok := m.network(rec)
	if !ok {
		return false
	}
	d := &m.dec
	if res == ipFragment {
		var k fragKey
		copy(k.src[:], ipb[12:16])
		copy(k.dst[:], ipb[16:20])
		k.id = binary.BigEndian.Uint16(ipb[4:6])
		k.proto = ipb[9]
		if binary.BigEndian.Uint16(ipb[6:8])&0x1fff != 0 {
			// A later fragment goes with its first one.
			return m.frags[k]
		}
		if m.transport(frame) {
			m.frags[k] = true
			return true
		}
		return false
	}
	if d.proto == protoUDP {
		dm := m.dns(rec)
		if dm == nil {
			return false
		}
		for _, q := range dm.Questions {
			if m.names[dnsNorm(q.Name)] {
				return true
			}
		}
		return false
	}
	return m.transport(frame)
}

// transport matches the decoded TCP segment, or the TCP header an ICMP
// error quotes, against the selected connections.
func (m *matcher) transport(frame int) bool {
	d := &m.dec
	b := d.l4
	src, dst := d.src, d.dst
	switch d.proto {
	case protoTCP:
	case protoICMP, protoICMPv6:
		// The quoted packet: IP header, then at least the ports.
		if len(b) < 8 {
			return false
		}
		q := b[8:]
		switch {
		case d.proto == protoICMP && len(q) >= 20 && q[0]>>4 == 4 && q[9] == protoTCP:
			ihl := int(q[0]&0x0f) * 4
			if ihl < 20 || len(q) < ihl+4 {
				return false
			}
			src, dst = netip.AddrFrom4([4]byte(q[12:16])), netip.AddrFrom4([4]byte(q[16:20]))
			b = q[ihl:]
		case d.proto == protoICMPv6 && len(q) >= 44 && q[0]>>4 == 6 && q[6] == protoTCP:
			src, dst = netip.AddrFrom16([16]byte(q[8:24])), netip.AddrFrom16([16]byte(q[24:40]))
			b = q[40:]
		default:
			return false
		}
	default:
		return false
	}
	if len(b) < 4 {
		return false
	}
	k, _ := makeKey(netip.AddrPortFrom(src, binary.BigEndian.Uint16(b[0:2])), netip.AddrPortFrom(dst, binary.BigEndian.Uint16(b[2:4])))
	for _, c := range m.conns[k] {
		if frame >= c.First && (c.Next == 0 || frame < c.Next) {
			return true
		}
	}
	return false
}
