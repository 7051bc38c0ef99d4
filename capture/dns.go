package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"golang.org/x/crypto/cryptobyte"
)

// DNS record types the capture layer decodes.
const (
	DNSTypeA     = 1
	DNSTypeCNAME = 5
	DNSTypeAAAA  = 28
)

const dnsPort = 53

func (p *processor) onUDP(f Frame, rec record) {
	d := &p.dec
	if len(d.l4) < 8 {
		if len(d.l4) < d.l4Len {
			return // cut by snaplen, already reported
		}
		p.corrupt(f, rec.offset, "UDP header cut short (%d bytes)", len(d.l4))
		return
	}
	sport := binary.BigEndian.Uint16(d.l4[0:2])
	dport := binary.BigEndian.Uint16(d.l4[2:4])
	if sport != dnsPort && dport != dnsPort {
		if p.dgram != nil {
			p.dgram.Datagram(f, netip.AddrPortFrom(d.src, sport), netip.AddrPortFrom(d.dst, dport), d.l4[8:])
		}
		return
	}
	ulen := int(binary.BigEndian.Uint16(d.l4[4:6]))
	payload := d.l4[8:]
	if ulen >= 8 && ulen-8 < len(payload) {
		payload = payload[:ulen-8]
	}
	if len(d.l4) < d.l4Len {
		return // cut by snaplen: the message is incomplete
	}
	m, err := parseDNS(payload)
	if err != nil {
		p.problem(Problem{Kind: ProblemCorruptPacket, Placed: true, Frame: f.Number, Offset: rec.offset,
			Detail: fmt.Sprintf("frame %d: malformed DNS message: %v", f.Number, err)})
		return
	}
	m.Frame = f
	src := netip.AddrPortFrom(d.src, sport)
	dst := netip.AddrPortFrom(d.dst, dport)
	if m.Response {
		m.Client, m.Server = dst, src
	} else {
		m.Client, m.Server = src, dst
	}
	p.h.DNS(m)
}

var errDNSShort = errors.New("message cut short")

// parseDNS decodes a DNS message: header, questions and the answer
// section. Every length is checked; malformed input returns an error.
func parseDNS(msg []byte) (*DNSMessage, error) {
	s := cryptobyte.String(msg)
	var id, flags, qd, an, ns, ar uint16
	if !s.ReadUint16(&id) || !s.ReadUint16(&flags) || !s.ReadUint16(&qd) ||
		!s.ReadUint16(&an) || !s.ReadUint16(&ns) || !s.ReadUint16(&ar) {
		return nil, errDNSShort
	}
	m := &DNSMessage{ID: id, Response: flags&0x8000 != 0, RCode: uint8(flags & 0x0f)}
	if int(qd) > len(msg)/5 || int(an) > len(msg)/11 {
		return nil, fmt.Errorf("%d questions and %d answers cannot fit in %d bytes", qd, an, len(msg))
	}
	for i := 0; i < int(qd); i++ {
		name, err := readName(msg, &s)
		if err != nil {
			return nil, fmt.Errorf("question %d: %w", i+1, err)
		}
		var typ, class uint16
		if !s.ReadUint16(&typ) || !s.ReadUint16(&class) {
			return nil, fmt.Errorf("question %d: %w", i+1, errDNSShort)
		}
		m.Questions = append(m.Questions, DNSQuestion{Name: name, Type: typ})
	}
	for i := 0; i < int(an); i++ {
		name, err := readName(msg, &s)
		if err != nil {
			return nil, fmt.Errorf("answer %d: %w", i+1, err)
		}
		var typ, class uint16
		var ttl uint32
		var rdata cryptobyte.String
		if !s.ReadUint16(&typ) || !s.ReadUint16(&class) || !s.ReadUint32(&ttl) || !s.ReadUint16LengthPrefixed(&rdata) {
			return nil, fmt.Errorf("answer %d: %w", i+1, errDNSShort)
		}
		a := DNSAnswer{Name: name, Type: typ, TTL: ttl}
		switch typ {
		case DNSTypeA:
			if len(rdata) != 4 {
				return nil, fmt.Errorf("answer %d: A record of %d bytes", i+1, len(rdata))
			}
			a.Addr = netip.AddrFrom4([4]byte(rdata))
		case DNSTypeAAAA:
			if len(rdata) != 16 {
				return nil, fmt.Errorf("answer %d: AAAA record of %d bytes", i+1, len(rdata))
			}
			a.Addr = netip.AddrFrom16([16]byte(rdata))
		case DNSTypeCNAME:
			// The target may point back into the message: read it there.
			off := len(msg) - len(s) - len(rdata)
			r := cryptobyte.String(msg[off : off+len(rdata)])
			alias, err := readName(msg, &r)
			if err != nil {
				return nil, fmt.Errorf("answer %d: CNAME: %w", i+1, err)
			}
			a.Alias = alias
		}
		m.Answers = append(m.Answers, a)
	}
	return m, nil
}

// readName reads a possibly compressed domain name from s; pointers are
// resolved within msg.
func readName(msg []byte, s *cryptobyte.String) (string, error) {
	var b strings.Builder
	cur := *s
	jumped := false
	for hops := 0; ; {
		var l uint8
		if !cur.ReadUint8(&l) {
			return "", errDNSShort
		}
		switch l & 0xc0 {
		case 0x00:
			if l == 0 {
				if !jumped {
					*s = cur
				}
				if b.Len() == 0 {
					return ".", nil
				}
				return b.String(), nil
			}
			var label []byte
			if !cur.ReadBytes(&label, int(l)) {
				return "", errDNSShort
			}
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.Write(label)
			if b.Len() > 255 {
				return "", errors.New("name longer than 255 bytes")
			}
		case 0xc0:
			var lo uint8
			if !cur.ReadUint8(&lo) {
				return "", errDNSShort
			}
			hops++
			if hops > 32 {
				return "", errors.New("compression pointer loop")
			}
			ptr := int(l&0x3f)<<8 | int(lo)
			if ptr >= len(msg) {
				return "", fmt.Errorf("compression pointer %d beyond the message", ptr)
			}
			if !jumped {
				*s = cur
				jumped = true
			}
			cur = cryptobyte.String(msg[ptr:])
		default:
			return "", fmt.Errorf("label type 0x%02x", l&0xc0)
		}
	}
}
