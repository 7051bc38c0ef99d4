package capture

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// Link types (LINKTYPE_* values as stored in pcap and pcapng files).
const (
	linkNull     = 0
	linkEthernet = 1
	linkRaw12    = 12 // DLT_RAW on some BSDs
	linkRaw14    = 14 // DLT_RAW on OpenBSD
	linkRaw      = 101
	linkLoop     = 108
	linkSLL      = 113
	linkIPv4     = 228
	linkIPv6     = 229
	linkSLL2     = 276
)

const (
	etherIPv4  = 0x0800
	etherIPv6  = 0x86dd
	etherVLAN  = 0x8100
	etherQinQ  = 0x88a8
	etherQinQ2 = 0x9100
	etherPPPoE = 0x8864
	etherMPLS  = 0x8847

	etherCiscoMeta = 0x8909
	etherTEB       = 0x6558 // transparent Ethernet bridging (GRE, Geneve)
)

const (
	protoICMP   = 1
	protoTCP    = 6
	protoUDP    = 17
	protoICMPv6 = 58
	protoIPIP   = 4
	protoIPv6   = 41
	protoGRE    = 47
)

// decoded is one packet decoded down to the transport layer. Slices point
// into the record (or the defragmentation buffer) and are valid only while
// the packet is processed.
type decoded struct {
	srcMAC, dstMAC []byte
	src, dst       netip.Addr
	proto          uint8
	l4             []byte // transport header and payload present in the capture
	l4Len          int    // transport length according to the IP header
}

// errNotIP marks packets that are fine but carry no IP (ARP, LLDP...).
var errNotIP = fmt.Errorf("not IP")

type errUnknownLink uint32

func (e errUnknownLink) Error() string {
	return fmt.Sprintf("link type %d is not supported", uint32(e))
}

// decodeLink strips the link layer and returns the IP packet.
func decodeLink(link uint32, b []byte, d *decoded) ([]byte, error) {
	d.srcMAC, d.dstMAC = nil, nil
	switch link {
	case linkEthernet:
		if len(b) < 14 {
			return nil, fmt.Errorf("Ethernet header cut short (%d bytes)", len(b))
		}
		d.dstMAC, d.srcMAC = b[0:6], b[6:12]
		return etherPayload(binary.BigEndian.Uint16(b[12:14]), b[14:])
	case linkSLL:
		if len(b) < 16 {
			return nil, fmt.Errorf("Linux cooked header cut short (%d bytes)", len(b))
		}
		if binary.BigEndian.Uint16(b[2:4]) == 1 && binary.BigEndian.Uint16(b[4:6]) == 6 {
			d.srcMAC = b[6:12]
		}
		return etherPayload(binary.BigEndian.Uint16(b[14:16]), b[16:])
	case linkSLL2:
		if len(b) < 20 {
			return nil, fmt.Errorf("Linux cooked v2 header cut short (%d bytes)", len(b))
		}
		if binary.BigEndian.Uint16(b[8:10]) == 1 && b[11] == 6 {
			d.srcMAC = b[12:18]
		}
		return etherPayload(binary.BigEndian.Uint16(b[0:2]), b[20:])
	case linkRaw, linkRaw12, linkRaw14, linkIPv4, linkIPv6:
		if len(b) == 0 {
			return nil, fmt.Errorf("empty raw IP packet")
		}
		return b, nil
	case linkNull, linkLoop:
		if len(b) < 4 {
			return nil, fmt.Errorf("loopback header cut short (%d bytes)", len(b))
		}
		fam := binary.BigEndian.Uint32(b[0:4])
		if link == linkNull && fam > 0xffff {
			fam = binary.LittleEndian.Uint32(b[0:4]) // host byte order
		}
		switch fam {
		case 2: // AF_INET
			return b[4:], nil
		case 10, 24, 28, 30: // AF_INET6 on Linux, NetBSD/OpenBSD, FreeBSD, macOS
			return b[4:], nil
		}
		return nil, errNotIP
	}
	return nil, errUnknownLink(link)
}

func etherPayload(typ uint16, b []byte) ([]byte, error) {
	for {
		switch typ {
		case etherIPv4, etherIPv6:
			return b, nil
		case etherVLAN, etherQinQ, etherQinQ2:
			if len(b) < 4 {
				return nil, fmt.Errorf("VLAN tag cut short")
			}
			typ = binary.BigEndian.Uint16(b[2:4])
			b = b[4:]
		case etherCiscoMeta:
			if len(b) < 8 {
				return nil, fmt.Errorf("Cisco metadata header cut short")
			}
			typ = binary.BigEndian.Uint16(b[6:8])
			b = b[8:]
		case etherPPPoE:
			if len(b) < 8 {
				return nil, fmt.Errorf("PPPoE header cut short")
			}
			// The session header's length (PPP protocol field included)
			// bounds the IP packet: bytes past it are link padding, even
			// when the IP header claims them.
			if n := int(binary.BigEndian.Uint16(b[4:6])); n >= 2 && 6+n < len(b) {
				b = b[:6+n]
			}
			switch binary.BigEndian.Uint16(b[6:8]) {
			case 0x0021:
				typ = etherIPv4
			case 0x0057:
				typ = etherIPv6
			default:
				return nil, errNotIP
			}
			b = b[8:]
		case etherMPLS:
			for {
				if len(b) < 4 {
					return nil, fmt.Errorf("MPLS label cut short")
				}
				bottom := b[2]&1 != 0
				b = b[4:]
				if bottom {
					break
				}
			}
			if len(b) == 0 {
				return nil, errNotIP
			}
			switch b[0] >> 4 {
			case 4, 6:
				return b, nil
			}
			return nil, errNotIP
		default:
			return nil, errNotIP
		}
	}
}

// ipResult says what decodeIP found.
type ipResult uint8

const (
	ipOK       ipResult = iota
	ipFragment          // an IPv4 fragment, held for reassembly
	ipOther             // IP but not something we look at
)

// decodeIP decodes an IPv4 or IPv6 header into d. cut reports that the
// capture holds fewer bytes than the IP header says (snaplen).
func decodeIP(b []byte, d *decoded) (res ipResult, cut bool, err error) {
	if len(b) < 1 {
		return ipOther, false, fmt.Errorf("empty IP packet")
	}
	switch b[0] >> 4 {
	case 4:
		if len(b) < 20 {
			return ipOther, true, fmt.Errorf("IPv4 header cut short (%d bytes)", len(b))
		}
		ihl := int(b[0]&0x0f) * 4
		total := int(binary.BigEndian.Uint16(b[2:4]))
		if ihl < 20 {
			return ipOther, false, fmt.Errorf("IPv4 header length %d", ihl)
		}
		if total == 0 {
			total = len(b) // TSO: length left to the NIC
		}
		if total < ihl {
			return ipOther, false, fmt.Errorf("IPv4 total length %d shorter than its header", total)
		}
		if len(b) < ihl {
			return ipOther, true, fmt.Errorf("IPv4 header cut short (%d bytes)", len(b))
		}
		d.src = netip.AddrFrom4([4]byte(b[12:16]))
		d.dst = netip.AddrFrom4([4]byte(b[16:20]))
		d.proto = b[9]
		if len(b) > total {
			b = b[:total] // Ethernet padding
		}
		cut = len(b) < total
		d.l4 = b[ihl:]
		d.l4Len = total - ihl
		flags := binary.BigEndian.Uint16(b[6:8])
		if flags&0x2000 != 0 || flags&0x1fff != 0 {
			return ipFragment, cut, nil
		}
		return ipOK, cut, nil
	case 6:
		if len(b) < 40 {
			return ipOther, true, fmt.Errorf("IPv6 header cut short (%d bytes)", len(b))
		}
		plen := int(binary.BigEndian.Uint16(b[4:6]))
		d.src = netip.AddrFrom16([16]byte(b[8:24]))
		d.dst = netip.AddrFrom16([16]byte(b[24:40]))
		next := b[6]
		b = b[40:]
		if plen == 0 {
			plen = len(b) // jumbogram or TSO
		}
		if len(b) > plen {
			b = b[:plen]
		}
		cut = len(b) < plen
		for {
			switch next {
			case 0, 43, 60: // hop-by-hop, routing, destination options
				if len(b) < 8 {
					return ipOther, cut, fmt.Errorf("IPv6 extension header cut short")
				}
				n := (int(b[1]) + 1) * 8
				if n > len(b) {
					return ipOther, cut, fmt.Errorf("IPv6 extension header cut short")
				}
				next, b, plen = b[0], b[n:], plen-n
			case 51: // authentication header
				if len(b) < 8 {
					return ipOther, cut, fmt.Errorf("IPv6 AH header cut short")
				}
				n := (int(b[1]) + 2) * 4
				if n > len(b) {
					return ipOther, cut, fmt.Errorf("IPv6 AH header cut short")
				}
				next, b, plen = b[0], b[n:], plen-n
			case 44: // fragment: not reassembled
				return ipOther, cut, nil
			default:
				d.proto = next
				d.l4 = b
				d.l4Len = plen
				return ipOK, cut, nil
			}
		}
	}
	return ipOther, false, fmt.Errorf("IP version %d", b[0]>>4)
}

// IPv4 fragment reassembly, bounded in datagrams and time.

type fragKey struct {
	src, dst [4]byte
	id       uint16
	proto    uint8
}

type fragPart struct {
	off   int
	data  []byte
	frame int
}

type fragDatagram struct {
	parts   []fragPart
	total   int // -1 until the last fragment is seen
	started time.Time
	header  []byte // IPv4 header of the first fragment
	size    int
}

type defragmenter struct {
	pending  map[fragKey]*fragDatagram
	order    []fragKey
	buf      []byte
	conflict fragConflict // of the last fragment added (anomaly.go)
}

const (
	maxFragDatagrams = 4096
	fragTimeout      = 60 * time.Second
)

// add stores one IPv4 fragment (b is the whole IPv4 packet as captured,
// already trimmed to its total length) and returns the reassembled
// datagram once complete.
func (f *defragmenter) add(b []byte, ts time.Time, frame int) ([]byte, bool) {
	if f.pending == nil {
		f.pending = make(map[fragKey]*fragDatagram)
	}
	ihl := int(b[0]&0x0f) * 4
	var k fragKey
	copy(k.src[:], b[12:16])
	copy(k.dst[:], b[16:20])
	k.id = binary.BigEndian.Uint16(b[4:6])
	k.proto = b[9]
	flags := binary.BigEndian.Uint16(b[6:8])
	off := int(flags&0x1fff) * 8
	more := flags&0x2000 != 0
	dg := f.pending[k]
	if dg == nil {
		f.expire(ts)
		if len(f.pending) >= maxFragDatagrams {
			f.drop(f.order[0])
		}
		dg = &fragDatagram{total: -1, started: ts}
		f.pending[k] = dg
		f.order = append(f.order, k)
	}
	data := append([]byte(nil), b[ihl:]...)
	if off+len(data) > 65535 || dg.size+len(data) > 2*65535 {
		f.drop(k)
		return nil, false
	}
	dg.size += len(data)
	f.keepFirst(dg.parts, k.id, off, data, frame)
	dg.parts = append(dg.parts, fragPart{off: off, data: data, frame: frame})
	if off == 0 {
		dg.header = append([]byte(nil), b[:ihl]...)
	}
	if !more {
		dg.total = off + len(data)
	}
	if dg.total < 0 || dg.header == nil {
		return nil, false
	}
	// Complete when the parts cover [0, total).
	slices.SortFunc(dg.parts, func(a, b fragPart) int { return a.off - b.off })
	have := 0
	for _, p := range dg.parts {
		if p.off > have {
			break
		}
		have = max(have, p.off+len(p.data))
	}
	if have < dg.total {
		return nil, false
	}
	hl := len(dg.header)
	f.buf = grow(f.buf, hl+dg.total)
	copy(f.buf, dg.header)
	for _, p := range dg.parts {
		end := p.off + len(p.data)
		if end > dg.total {
			end = dg.total
		}
		if p.off < end {
			copy(f.buf[hl+p.off:hl+end], p.data)
		}
	}
	binary.BigEndian.PutUint16(f.buf[2:4], uint16(min(hl+dg.total, 65535)))
	binary.BigEndian.PutUint16(f.buf[6:8], 0)
	f.drop(k)
	return f.buf, true
}

func (f *defragmenter) drop(k fragKey) {
	delete(f.pending, k)
	for i, o := range f.order {
		if o == k {
			f.order = append(f.order[:i], f.order[i+1:]...)
			break
		}
	}
}

func (f *defragmenter) expire(now time.Time) {
	for len(f.order) > 0 {
		dg := f.pending[f.order[0]]
		if dg != nil && now.Sub(dg.started) < fragTimeout {
			return
		}
		delete(f.pending, f.order[0])
		f.order = f.order[1:]
	}
}

// tunnelPayload returns the inner IP packet of a tunnel packet (IP in IP,
// GRE, VXLAN, Geneve, GTP-U), with d's MACs updated when the tunnel carries
// Ethernet.
func tunnelPayload(d *decoded) ([]byte, bool) {
	b := d.l4
	switch d.proto {
	case protoIPIP, protoIPv6:
		return b, len(b) > 0
	case protoGRE:
		if len(b) < 4 || b[1]&0x07 != 0 {
			return nil, false
		}
		n := 4
		for _, bit := range []byte{0x80, 0x20, 0x10} { // checksum, key, sequence
			if b[0]&bit != 0 {
				n += 4
			}
		}
		if len(b) < n {
			return nil, false
		}
		return innerByType(binary.BigEndian.Uint16(b[2:4]), b[n:], d)
	case protoUDP:
		if len(b) < 8 {
			return nil, false
		}
		dport := binary.BigEndian.Uint16(b[2:4])
		sport := binary.BigEndian.Uint16(b[0:2])
		u := b[8:]
		switch {
		case dport == 4789: // VXLAN
			if len(u) < 8 || u[0]&0x08 == 0 {
				return nil, false
			}
			return innerByType(etherTEB, u[8:], d)
		case dport == 6081: // Geneve
			if len(u) < 8 {
				return nil, false
			}
			n := 8 + int(u[0]&0x3f)*4
			if len(u) < n {
				return nil, false
			}
			return innerByType(binary.BigEndian.Uint16(u[2:4]), u[n:], d)
		case dport == 2152 || sport == 2152: // GTP-U
			if len(u) < 8 || u[0]>>5 != 1 || u[1] != 0xff {
				return nil, false
			}
			n := 8
			if u[0]&0x07 != 0 {
				if len(u) < 12 {
					return nil, false
				}
				n = 12
				next := u[11]
				for u[0]&0x04 != 0 && next != 0 {
					if len(u) < n+1 || u[n] == 0 || len(u) < n+int(u[n])*4 {
						return nil, false
					}
					l := int(u[n]) * 4
					next = u[n+l-1]
					n += l
				}
			}
			if len(u) <= n {
				return nil, false
			}
			switch u[n] >> 4 {
			case 4, 6:
				return u[n:], true
			}
		}
	}
	return nil, false
}

func innerByType(typ uint16, b []byte, d *decoded) ([]byte, bool) {
	switch typ {
	case etherIPv4, etherIPv6:
		return b, len(b) > 0
	case etherTEB:
		ip, err := decodeLink(linkEthernet, b, d)
		return ip, err == nil
	}
	return nil, false
}
