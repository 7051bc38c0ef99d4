package capture

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/bpf"
)

// FilterSnaplen is what a matching filter program returns: the bytes of
// the packet kept (tcpdump's 262144, more than any frame).
const FilterSnaplen = 262144

// CompileFilter compiles a capture filter in tcpdump's syntax, for
// Ethernet frames as a capture file holds them (VLAN tags in the data), to
// classic BPF: the program tcpdump -y EN10MB -d prints, give or take the
// order of the tests. It knows:
//
//	host ADDR or NAME, net ADDR/LEN, net ADDR mask MASK, net 192.168,
//	port N, portrange N-M (each with an optional src or dst),
//	ether host/src/dst MAC, vlan [ID],
//	ip, ip6, arp, rarp, tcp, udp, icmp, proto qualifiers (tcp port 443,
//	ip host 10.0.0.1), and, or, not (&&, ||, !) and parentheses.
//
// As in tcpdump, and and or have the same precedence and group from the
// left, not binds tightest, and a bare address after and/or takes the
// qualifiers of the primitive before it ("host a or b"); vlan moves the
// headers that every primitive after it looks at by the 4 bytes of the tag.
// An empty expression compiles to no program (everything matches). A host
// name is resolved now, to all its IPv4 and IPv6 addresses, as tcpdump
// does.
func CompileFilter(expr string) ([]bpf.Instruction, error) {
	prog, _, err := compileFilters(expr)
	return prog, err
}

// compileFilters compiles expr for a capture file (offline) and for the
// kernel of a live capture: there the outer VLAN tag of a packet may be
// out of the data (in the socket buffer's metadata, where the NIC or the
// VLAN driver put it), and the program looks there first, as libpcap's
// does on Linux.
func compileFilters(expr string) (offline, kernel []bpf.Instruction, err error) {
	data, kn, err := parseFilter(expr)
	if err != nil || data == nil {
		return nil, nil, err
	}
	if offline, err = genProgram(data); err != nil {
		return nil, nil, fmt.Errorf("filter %q: %w", expr, err)
	}
	if kernel, err = genProgram(kn); err != nil {
		return nil, nil, fmt.Errorf("filter %q: %w", expr, err)
	}
	return offline, kernel, nil
}

// parseFilter parses expr into the tests of the offline and the kernel
// program (nil for an empty expression).
func parseFilter(expr string) (offline, kernel *fnode, err error) {
	toks, err := tokenize(expr)
	if err != nil || len(toks) == 0 {
		return nil, nil, err
	}
	p := &filterParser{toks: toks}
	n, err := p.expr()
	if err != nil {
		return nil, nil, fmt.Errorf("filter %q: %w", expr, err)
	}
	if p.pos < len(p.toks) {
		return nil, nil, fmt.Errorf("filter %q: unexpected %q", expr, p.toks[p.pos])
	}
	kernel = n.data
	if p.vlans > 0 {
		present := leaf(test{ld: load{kind: ldExt, size: 4, off: uint32(bpf.ExtVLANTagPresent)}, k: 1})
		kernel = or(and(present, n.meta), and(not(present), n.data))
	}
	return n.data, kernel, nil
}

// AssembleFilter compiles expr (as CompileFilter) and assembles it.
func AssembleFilter(expr string) ([]bpf.RawInstruction, error) {
	prog, err := CompileFilter(expr)
	if err != nil || prog == nil {
		return nil, err
	}
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return nil, fmt.Errorf("filter %q: %w", expr, err)
	}
	return raw, nil
}

// Parsing.

func tokenize(s string) ([]string, error) {
	if strings.ContainsAny(s, "[]<>=") {
		return nil, fmt.Errorf("filter %q: byte-offset expressions (tcp[13] & 2 != 0) are not supported; supported: %s", s, supported)
	}
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			i++
		case c == '(' || c == ')':
			toks = append(toks, string(c))
			i++
		case c == '!':
			toks = append(toks, "not")
			i++
		case strings.HasPrefix(s[i:], "&&"):
			toks = append(toks, "and")
			i += 2
		case strings.HasPrefix(s[i:], "||"):
			toks = append(toks, "or")
			i += 2
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n()!&|", rune(s[j])) {
				j++
			}
			if j == i {
				return nil, fmt.Errorf("filter %q: unexpected %q", s, s[i:i+1])
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks, nil
}

// fnode is a node of the parsed filter, and also of the tests it expands to.
type fnode struct {
	op   string // "and", "or", "not", "test"
	a, b *fnode
	t    test
}

// loadKind is where a test's value comes from.
type loadKind uint8

const (
	ldAbs loadKind = iota // the packet's bytes at off
	ldInd                 // at off past the IPv4 header starting at xoff
	ldExt                 // the kernel's ancillary value number off
)

// load is a value a test compares: equal loads give equal values for a
// packet (the program stores nothing), which the code generator uses to
// load a value once and to skip tests whose outcome is known.
type load struct {
	kind loadKind
	size int // 1, 2 or 4 bytes
	off  uint32
	xoff uint32 // ldInd: where the IPv4 header starts (X = 4*(its first byte & 0xf))
	mask uint32 // nonzero: the value is ANDed with it
}

type cmpOp uint8

const (
	cmpEq  cmpOp = iota // value == k
	cmpSet              // value & k != 0
	cmpGE               // value >= k
	cmpGT               // value > k
)

// test is one comparison of a loaded value.
type test struct {
	ld       load
	op       cmpOp
	k        uint32
	constant int // 1: always true, -1: always false (no load)
}

type quals struct {
	proto, dir, typ string
	ether           bool
}

// pair is a parsed (sub)expression twice: data for packets holding their
// VLAN tags in the data, meta for a live capture's packets whose outer tag
// the kernel holds apart (they are the same without vlan).
type pair struct{ data, meta *fnode }

type filterParser struct {
	toks  []string
	pos   int
	last  quals
	seen  bool
	vlans int // vlan primitives so far: each moves what follows by 4 bytes
}

// shifts are the offsets of the network header past 14 for what comes
// now: in the data, and in a packet whose outer tag is in the metadata.
func (p *filterParser) shifts() (data, meta uint32) {
	if p.vlans == 0 {
		return 0, 0
	}
	return uint32(4 * p.vlans), uint32(4 * (p.vlans - 1))
}

func (p *filterParser) peek() string {
	if p.pos < len(p.toks) {
		return strings.ToLower(p.toks[p.pos])
	}
	return ""
}

func (p *filterParser) expr() (pair, error) {
	n, err := p.unary()
	if err != nil {
		return pair{}, err
	}
	for {
		op := p.peek()
		if op != "and" && op != "or" {
			return n, nil
		}
		p.pos++
		m, err := p.unary()
		if err != nil {
			return pair{}, err
		}
		n = pair{&fnode{op: op, a: n.data, b: m.data}, &fnode{op: op, a: n.meta, b: m.meta}}
	}
}

func (p *filterParser) unary() (pair, error) {
	switch p.peek() {
	case "":
		return pair{}, fmt.Errorf("expression ends too early")
	case "not":
		p.pos++
		n, err := p.unary()
		if err != nil {
			return pair{}, err
		}
		return pair{not(n.data), not(n.meta)}, nil
	case "(":
		p.pos++
		n, err := p.expr()
		if err != nil {
			return pair{}, err
		}
		if p.peek() != ")" {
			return pair{}, fmt.Errorf("missing )")
		}
		p.pos++
		return n, nil
	case ")":
		return pair{}, fmt.Errorf("unexpected )")
	}
	return p.primitive()
}

var protoWords = map[string]bool{"ip": true, "ip6": true, "arp": true, "rarp": true, "tcp": true, "udp": true, "icmp": true}

// supported is what the filter compiler knows, for the error naming a
// word it does not.
const supported = "host, net (ADDR/LEN, ADDR mask MASK), port, portrange N-M, src/dst, ether host/src/dst MAC, vlan [ID], ip, ip6, arp, rarp, tcp, udp, icmp, and/or/not, parentheses"

// tcpdumpWords are tcpdump's keywords (pcap-filter(7)) the compiler does
// not know: they are named as such, not looked up as host names.
var tcpdumpWords = map[string]bool{
	"gateway": true, "broadcast": true, "multicast": true, "less": true, "greater": true, "len": true,
	"proto": true, "protochain": true, "sctp": true, "icmp6": true, "igmp": true, "igrp": true, "pim": true,
	"ah": true, "esp": true, "vrrp": true, "carp": true, "mpls": true, "pppoed": true, "pppoes": true,
	"geneve": true, "wlan": true, "type": true, "subtype": true, "dir": true, "addr1": true, "addr2": true,
	"addr3": true, "addr4": true, "ra": true, "ta": true, "inbound": true, "outbound": true, "ifname": true,
	"on": true, "rnr": true, "rulenum": true, "reason": true, "rset": true, "ruleset": true, "srnr": true,
	"subrulenum": true, "action": true, "link": true, "fddi": true, "tr": true, "ppp": true, "slip": true,
	"decnet": true, "iso": true, "stp": true, "ipx": true, "netbeui": true, "atalk": true, "aarp": true,
	"lat": true, "sca": true, "moprc": true, "mopdl": true, "esis": true, "isis": true, "clnp": true,
	"llc": true, "atm": true, "lane": true, "oam": true, "oamf4": true, "metac": true, "bcc": true,
	"sc": true, "ilmic": true, "connectmsg": true, "metaconnect": true, "vpi": true, "vci": true,
	"hatype": true, "index": true, "radio": true,
}

func (p *filterParser) unsupported(w string) error {
	return fmt.Errorf("%q is not supported; supported: %s", w, supported)
}

func isKeyword(w string) bool {
	switch w {
	case "and", "or", "not", "(", ")", "src", "dst", "host", "net", "port", "portrange", "ether", "vlan", "mask":
		return true
	}
	return protoWords[w] || tcpdumpWords[w]
}

func (p *filterParser) primitive() (pair, error) {
	var q quals
	if w := p.peek(); w == "vlan" {
		p.pos++
		return p.vlan()
	}
	if w := p.peek(); w == "ether" {
		q.ether = true
		p.pos++
	} else if protoWords[w] {
		q.proto = w
		p.pos++
	}
	if w := p.peek(); w == "src" || w == "dst" {
		q.dir = w
		p.pos++
	}
	if w := p.peek(); w == "host" || w == "net" || w == "port" || w == "portrange" {
		q.typ = w
		p.pos++
	}
	w := p.peek()
	if tcpdumpWords[w] {
		return pair{}, p.unsupported(p.toks[p.pos])
	}
	isID := w != "" && !isKeyword(w)
	switch {
	case q.ether && !isID:
		return pair{}, fmt.Errorf("ether: give ether host MAC, ether src MAC or ether dst MAC")
	case q.proto != "" && q.dir == "" && q.typ == "" && !isID:
		return p.both(func(sh uint32) (*fnode, error) { return protoTest(sh, q.proto) })
	case !isID:
		if w == "" {
			return pair{}, fmt.Errorf("expression ends after %q", p.toks[p.pos-1])
		}
		if p.pos == 0 || q == (quals{}) {
			return pair{}, p.unsupported(p.toks[p.pos])
		}
		return pair{}, fmt.Errorf("expected an address or port before %q", w)
	case q == (quals{}) && p.seen:
		q = p.last // "host a or b"
	}
	if q.typ == "" {
		q.typ = "host"
		if strings.Contains(w, "/") {
			q.typ = "net"
		}
	}
	p.pos++
	p.last, p.seen = q, true
	id := p.toks[p.pos-1]
	switch {
	case q.ether:
		if q.typ != "host" {
			return pair{}, fmt.Errorf("ether %s: give ether host MAC, ether src MAC or ether dst MAC", q.typ)
		}
		return p.both(func(uint32) (*fnode, error) { return etherHostTest(q, id) })
	case q.typ == "port" || q.typ == "portrange":
		return p.both(func(sh uint32) (*fnode, error) { return portTest(sh, q, id) })
	case q.typ == "net" && p.peek() == "mask":
		if p.pos+1 >= len(p.toks) {
			return pair{}, fmt.Errorf("net %s mask: give the mask (255.255.255.0)", id)
		}
		mask := p.toks[p.pos+1]
		p.pos += 2
		return p.both(func(sh uint32) (*fnode, error) { return maskTest(sh, q, id, mask) })
	}
	// A name resolves once, for both programs.
	pfxs, err := addrPrefixes(q, id)
	if err != nil {
		return pair{}, err
	}
	return p.both(func(sh uint32) (*fnode, error) {
		var ns []*fnode
		for _, pfx := range pfxs {
			n, err := prefixTest(sh, q, pfx)
			if err != nil {
				return nil, err
			}
			ns = append(ns, n)
		}
		return anyOf(ns...), nil
	})
}

// both builds a primitive at the offsets of the data and of the metadata
// program.
func (p *filterParser) both(build func(shift uint32) (*fnode, error)) (pair, error) {
	ds, ms := p.shifts()
	d, err := build(ds)
	if err != nil {
		return pair{}, err
	}
	m, err := build(ms)
	if err != nil {
		return pair{}, err
	}
	return pair{d, m}, nil
}

// vlan is "vlan [ID]": the frame carries an 802.1Q (or 802.1ad, or old
// QinQ 0x9100) tag, with that VLAN ID; what follows is read past the tag.
func (p *filterParser) vlan() (pair, error) {
	var id *uint32
	if w := p.peek(); w != "" && !isKeyword(w) {
		n, err := strconv.ParseUint(w, 0, 32)
		if err != nil || n > 4095 {
			return pair{}, fmt.Errorf("vlan %q: give a VLAN ID from 0 to 4095", p.toks[p.pos])
		}
		v := uint32(n)
		id = &v
		p.pos++
	}
	ds, ms := p.shifts()
	tagged := func(sh uint32) *fnode {
		n := anyOf(etherType(sh, 0x8100), etherType(sh, 0x88a8), etherType(sh, 0x9100))
		if id != nil {
			n = and(n, leaf(test{ld: load{kind: ldAbs, size: 2, off: 14 + sh, mask: 0xfff}, k: *id}))
		}
		return n
	}
	pr := pair{data: tagged(ds)}
	if p.vlans == 0 {
		// The outer tag in the metadata: its presence is known (the
		// program checks it first), its TCI is an ancillary value.
		pr.meta = &fnode{op: "test", t: test{constant: 1}}
		if id != nil {
			pr.meta = leaf(test{ld: load{kind: ldExt, size: 4, off: uint32(bpf.ExtVLANTag), mask: 0xfff}, k: *id})
		}
	} else {
		pr.meta = tagged(ms)
	}
	p.vlans++
	return pr, nil
}

func and(a, b *fnode) *fnode { return &fnode{op: "and", a: a, b: b} }
func or(a, b *fnode) *fnode  { return &fnode{op: "or", a: a, b: b} }
func not(a *fnode) *fnode    { return &fnode{op: "not", a: a} }
func leaf(t test) *fnode     { return &fnode{op: "test", t: t} }

func anyOf(ns ...*fnode) *fnode {
	n := ns[0]
	for _, m := range ns[1:] {
		n = or(n, m)
	}
	return n
}

func allOf(ns ...*fnode) *fnode {
	n := ns[0]
	for _, m := range ns[1:] {
		n = and(n, m)
	}
	return n
}

func abs(size int, off, k uint32) *fnode {
	return leaf(test{ld: load{kind: ldAbs, size: size, off: off}, k: k})
}

// Ethernet offsets: type at 12, network header at 14 (past the VLAN tags
// a vlan primitive put before: sh).
func etherType(sh, t uint32) *fnode { return abs(2, 12+sh, t) }

const (
	ethIPv4 = 0x0800
	ethIPv6 = 0x86dd
	ethARP  = 0x0806
	ethRARP = 0x8035
)

func ipProto(sh, proto uint32) *fnode {
	return and(etherType(sh, ethIPv4), abs(1, 14+sh+9, proto))
}

func ip6Proto(sh, proto uint32) *fnode {
	// As tcpdump: the next header, or the one after a fragment header.
	return and(etherType(sh, ethIPv6), or(abs(1, 14+sh+6, proto),
		and(abs(1, 14+sh+6, 44), abs(1, 14+sh+40, proto))))
}

func protoTest(sh uint32, proto string) (*fnode, error) {
	switch proto {
	case "ip":
		return etherType(sh, ethIPv4), nil
	case "ip6":
		return etherType(sh, ethIPv6), nil
	case "arp":
		return etherType(sh, ethARP), nil
	case "rarp":
		return etherType(sh, ethRARP), nil
	case "tcp":
		return or(ipProto(sh, 6), ip6Proto(sh, 6)), nil
	case "udp":
		return or(ipProto(sh, 17), ip6Proto(sh, 17)), nil
	case "icmp":
		return ipProto(sh, 1), nil
	}
	return nil, fmt.Errorf("unknown protocol %q", proto)
}

// etherHostTest compares the source and/or destination MAC address.
func etherHostTest(q quals, id string) (*fnode, error) {
	mac, err := net.ParseMAC(id)
	if err != nil || len(mac) != 6 {
		return nil, fmt.Errorf("ether host %q: give a MAC address (aa:bb:cc:dd:ee:ff)", id)
	}
	at := func(off uint32) *fnode {
		// As tcpdump: the last four bytes first, they differ most.
		return and(abs(4, off+2, binary.BigEndian.Uint32(mac[2:])), abs(2, off, uint32(binary.BigEndian.Uint16(mac[:2]))))
	}
	return pickDir(q.dir, at(6), at(0)), nil
}

var portNames = map[string]uint16{
	"ftp": 21, "ssh": 22, "telnet": 23, "smtp": 25, "domain": 53, "http": 80, "www": 80,
	"ntp": 123, "https": 443, "mqtt": 1883, "secure-mqtt": 8883, "mdns": 5353,
}

func parsePort(id string) (uint16, bool) {
	if n, err := strconv.ParseUint(id, 10, 16); err == nil {
		return uint16(n), true
	}
	n, ok := portNames[strings.ToLower(id)]
	return n, ok
}

// portTest is "port N" or "portrange N-M" (on TCP, UDP and SCTP, as
// tcpdump, unless a protocol narrows it).
func portTest(sh uint32, q quals, id string) (*fnode, error) {
	lo, ok := parsePort(id)
	hi := lo
	if q.typ == "portrange" {
		a, b, dash := strings.Cut(id, "-")
		var okA, okB bool
		lo, okA = parsePort(a)
		hi, okB = lo, okA
		if dash {
			hi, okB = parsePort(b)
		}
		if !okA || !okB {
			return nil, fmt.Errorf("portrange %q: give two ports, e.g. portrange 8000-8999", id)
		}
		if lo > hi {
			lo, hi = hi, lo
		}
		ok = true
	}
	if !ok {
		return nil, fmt.Errorf("%s %q: not a port number", q.typ, id)
	}
	var protos []uint32
	switch q.proto {
	case "":
		protos = []uint32{132, 6, 17} // sctp, tcp, udp as tcpdump
	case "tcp":
		protos = []uint32{6}
	case "udp":
		protos = []uint32{17}
	default:
		return nil, fmt.Errorf("%s %s: use %s, tcp %s or udp %s", q.proto, q.typ, q.typ, q.typ, q.typ)
	}
	// cmp compares the port whose load is ld.
	cmp := func(ld load) *fnode {
		if q.typ == "port" {
			return leaf(test{ld: ld, k: uint32(lo)})
		}
		return and(leaf(test{ld: ld, op: cmpGE, k: uint32(lo)}), not(leaf(test{ld: ld, op: cmpGT, k: uint32(hi)})))
	}
	var v6p, v4p []*fnode
	for _, pr := range protos {
		v6p = append(v6p, abs(1, 14+sh+6, pr))
		v4p = append(v4p, abs(1, 14+sh+9, pr))
	}
	v6port := func(off uint32) *fnode { return cmp(load{kind: ldAbs, size: 2, off: 14 + sh + 40 + off}) }
	v4port := func(off uint32) *fnode { return cmp(load{kind: ldInd, size: 2, off: 14 + sh + off, xoff: 14 + sh}) }
	v6 := allOf(etherType(sh, ethIPv6), anyOf(v6p...), pickDir(q.dir, v6port(0), v6port(2)))
	notFrag := not(leaf(test{ld: load{kind: ldAbs, size: 2, off: 14 + sh + 6}, op: cmpSet, k: 0x1fff}))
	v4 := allOf(etherType(sh, ethIPv4), anyOf(v4p...), notFrag, pickDir(q.dir, v4port(0), v4port(2)))
	return or(v6, v4), nil
}

// resolveHost looks up every address of a host name (A and AAAA, from
// /etc/hosts or DNS), as tcpdump does when it compiles "host NAME".
var resolveHost = func(name string) ([]netip.Addr, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return net.DefaultResolver.LookupNetIP(ctx, "ip", name)
}

// addrPrefixes is what "host ID" or "net ID" stands for: the address or
// network, or every address of a host name.
func addrPrefixes(q quals, id string) ([]netip.Prefix, error) {
	if q.typ == "net" {
		pfx, err := netip.ParsePrefix(id)
		if err != nil {
			a, aerr := netip.ParseAddr(id)
			if aerr != nil {
				if pfx, ok := partialNet(id); ok {
					return []netip.Prefix{pfx}, nil
				}
				return nil, fmt.Errorf("net %q: give ADDR/LEN (10.0.0.0/8), ADDR mask MASK or the leading bytes (192.168)", id)
			}
			pfx = netip.PrefixFrom(a, a.BitLen())
		}
		if pfx.Masked() != pfx {
			return nil, fmt.Errorf("net %q: non-network bits set in the address", id)
		}
		return []netip.Prefix{pfx}, nil
	}
	if a, err := netip.ParseAddr(id); err == nil {
		return []netip.Prefix{netip.PrefixFrom(a, a.BitLen())}, nil
	}
	if _, err := net.ParseMAC(id); err == nil {
		return nil, fmt.Errorf("%q is a MAC address: use ether host %s", id, id)
	}
	return namePrefixes(q, id)
}

// partialNet reads tcpdump's "net 10", "net 192.168", "net 10.1.2": the
// leading bytes of an IPv4 network.
func partialNet(id string) (netip.Prefix, bool) {
	parts := strings.Split(id, ".")
	if len(parts) > 3 {
		return netip.Prefix{}, false
	}
	var b [4]byte
	for i, s := range parts {
		n, err := strconv.ParseUint(s, 10, 8)
		if err != nil {
			return netip.Prefix{}, false
		}
		b[i] = byte(n)
	}
	return netip.PrefixFrom(netip.AddrFrom4(b), 8*len(parts)), true
}

// namePrefixes resolves a host name now: the program holds addresses, so
// a name whose addresses change later needs a restart.
func namePrefixes(q quals, name string) ([]netip.Prefix, error) {
	addrs, err := resolveHost(name)
	if err != nil {
		return nil, fmt.Errorf("host %q does not resolve (%v): give an IP address, or a name in /etc/hosts or DNS", name, err)
	}
	var out []netip.Prefix
	seen := map[netip.Addr]bool{}
	for _, a := range addrs {
		a = a.Unmap()
		if seen[a] || !a.IsValid() {
			continue
		}
		seen[a] = true
		// As tcpdump: a protocol qualifier keeps the addresses of its family.
		switch q.proto {
		case "ip", "arp", "rarp":
			if !a.Is4() {
				continue
			}
		case "ip6":
			if !a.Is6() {
				continue
			}
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	if len(out) == 0 {
		fam := "IPv4"
		if q.proto == "ip6" {
			fam = "IPv6"
		}
		return nil, fmt.Errorf("host %q has no %s address (it resolves to %v)", name, fam, addrs)
	}
	return out, nil
}

// pickDir applies a src/dst qualifier; without one either side matches.
func pickDir(dir string, src, dst *fnode) *fnode {
	switch dir {
	case "src":
		return src
	case "dst":
		return dst
	}
	return or(src, dst)
}

// maskTest is "net ADDR mask MASK" (IPv4 only, as tcpdump).
func maskTest(sh uint32, q quals, id, maskText string) (*fnode, error) {
	a, err := netip.ParseAddr(id)
	m, merr := netip.ParseAddr(maskText)
	if err != nil || merr != nil || !a.Is4() || !m.Is4() {
		return nil, fmt.Errorf("net %s mask %s: give an IPv4 network and mask (net 10.0.0.0 mask 255.0.0.0)", id, maskText)
	}
	ab, mb := a.As4(), m.As4()
	k, mask := binary.BigEndian.Uint32(ab[:]), binary.BigEndian.Uint32(mb[:])
	if k&^mask != 0 {
		return nil, fmt.Errorf("net %s mask %s: non-network bits set in the address", id, maskText)
	}
	return ipv4AddrTest(sh, q, k, mask)
}

func prefixTest(sh uint32, q quals, pfx netip.Prefix) (*fnode, error) {
	a := pfx.Addr()
	if a.Is4() {
		b := a.As4()
		mask := ^uint32(0)
		if pfx.Bits() < 32 {
			mask <<= 32 - pfx.Bits() // 0 for /0
		}
		return ipv4AddrTest(sh, q, binary.BigEndian.Uint32(b[:]), mask)
	}
	if q.proto != "" && q.proto != "ip6" {
		id := a.String()
		if q.typ == "net" {
			id = pfx.String()
		}
		return nil, fmt.Errorf("%s %s %s: an IPv6 address goes with ip6 or no protocol", q.proto, q.typ, id)
	}
	b := a.As16()
	cmp := func(off uint32) *fnode {
		var words []*fnode
		for i := 0; i < 4; i++ {
			bits := pfx.Bits() - 32*i
			if bits <= 0 {
				break
			}
			var mask uint32
			if bits < 32 {
				mask = ^uint32(0) << (32 - bits)
			}
			words = append(words, leaf(test{ld: load{kind: ldAbs, size: 4, off: off + uint32(4*i), mask: mask}, k: binary.BigEndian.Uint32(b[4*i:])}))
		}
		if len(words) == 0 {
			return &fnode{op: "test", t: test{constant: 1}}
		}
		return allOf(words...)
	}
	return and(etherType(sh, ethIPv6), pickDir(q.dir, cmp(14+sh+8), cmp(14+sh+24))), nil
}

// ipv4AddrTest compares the IPv4 (or ARP) addresses with k under mask
// (0xffffffff: the whole address; 0, a zero-length network: always).
func ipv4AddrTest(sh uint32, q quals, k, mask uint32) (*fnode, error) {
	switch q.proto {
	case "", "ip", "arp", "rarp":
	default:
		return nil, fmt.Errorf("%s %s: only ip, arp or no protocol go with host and net", q.proto, q.typ)
	}
	cmp := func(off uint32) *fnode {
		switch mask {
		case 0:
			return &fnode{op: "test", t: test{constant: 1}}
		case ^uint32(0):
			return abs(4, off, k)
		}
		return leaf(test{ld: load{kind: ldAbs, size: 4, off: off, mask: mask}, k: k})
	}
	ip := and(etherType(sh, ethIPv4), pickDir(q.dir, cmp(14+sh+12), cmp(14+sh+16)))
	arpAddr := pickDir(q.dir, cmp(14+sh+14), cmp(14+sh+24))
	switch q.proto {
	case "ip":
		return ip, nil
	case "arp":
		return and(etherType(sh, ethARP), arpAddr), nil
	case "rarp":
		return and(etherType(sh, ethRARP), arpAddr), nil
	}
	return or(ip, and(or(etherType(sh, ethARP), etherType(sh, ethRARP)), arpAddr)), nil
}
