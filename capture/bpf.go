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
// Ethernet frames, to classic BPF. It knows the common subset:
//
//	host ADDR or NAME, net ADDR/LEN, port N (each with an optional src
//	or dst),
//	ip, ip6, arp, tcp, udp, icmp, proto qualifiers (tcp port 443,
//	ip host 10.0.0.1), and, or, not (&&, ||, !) and parentheses.
//
// As in tcpdump, and and or have the same precedence and group from the
// left, not binds tightest, and a bare address after and/or takes the
// qualifiers of the primitive before it ("host a or b"). An empty
// expression compiles to no program (everything matches). A host name is
// resolved now, to all its IPv4 and IPv6 addresses, as tcpdump does.
func CompileFilter(expr string) ([]bpf.Instruction, error) {
	toks, err := tokenize(expr)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, nil
	}
	p := &filterParser{toks: toks}
	n, err := p.expr()
	if err != nil {
		return nil, fmt.Errorf("filter %q: %w", expr, err)
	}
	if p.pos < len(p.toks) {
		return nil, fmt.Errorf("filter %q: unexpected %q", expr, p.toks[p.pos])
	}
	prog, err := genProgram(n)
	if err != nil {
		return nil, fmt.Errorf("filter %q: %w", expr, err)
	}
	return prog, nil
}

// AssembleFilter compiles expr and assembles it for the kernel (SO_ATTACH_FILTER).
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

// test is one comparison: load a field, mask it, compare.
type test struct {
	size     int // 1, 2 or 4 bytes
	off      uint32
	ipv4Rel  bool // off is relative to the end of the IPv4 header
	mask     uint32
	k        uint32
	jset     bool // true when any bit of k is set
	constant int  // 1: always true, -1: always false (no load)
}

type quals struct {
	proto, dir, typ string
}

type filterParser struct {
	toks []string
	pos  int
	last quals
	seen bool
}

func (p *filterParser) peek() string {
	if p.pos < len(p.toks) {
		return strings.ToLower(p.toks[p.pos])
	}
	return ""
}

func (p *filterParser) expr() (*fnode, error) {
	n, err := p.unary()
	if err != nil {
		return nil, err
	}
	for {
		op := p.peek()
		if op != "and" && op != "or" {
			return n, nil
		}
		p.pos++
		m, err := p.unary()
		if err != nil {
			return nil, err
		}
		n = &fnode{op: op, a: n, b: m}
	}
}

func (p *filterParser) unary() (*fnode, error) {
	switch p.peek() {
	case "":
		return nil, fmt.Errorf("expression ends too early")
	case "not":
		p.pos++
		n, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &fnode{op: "not", a: n}, nil
	case "(":
		p.pos++
		n, err := p.expr()
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			return nil, fmt.Errorf("missing )")
		}
		p.pos++
		return n, nil
	case ")":
		return nil, fmt.Errorf("unexpected )")
	}
	return p.primitive()
}

var protoWords = map[string]bool{"ip": true, "ip6": true, "arp": true, "rarp": true, "tcp": true, "udp": true, "icmp": true}

func (p *filterParser) primitive() (*fnode, error) {
	var q quals
	if w := p.peek(); protoWords[w] {
		q.proto = w
		p.pos++
	}
	if w := p.peek(); w == "src" || w == "dst" {
		q.dir = w
		p.pos++
	}
	if w := p.peek(); w == "host" || w == "net" || w == "port" {
		q.typ = w
		p.pos++
	}
	w := p.peek()
	isID := w != "" && w != "and" && w != "or" && w != "not" && w != "(" && w != ")"
	switch {
	case q.proto != "" && q.dir == "" && q.typ == "" && !isID:
		return protoTest(q.proto)
	case !isID:
		if w == "" {
			return nil, fmt.Errorf("expression ends after %q", p.toks[p.pos-1])
		}
		return nil, fmt.Errorf("expected an address or port before %q", w)
	case q.proto == "" && q.dir == "" && q.typ == "" && p.seen:
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
	switch q.typ {
	case "port":
		return portTest(q, id)
	default:
		return addrTest(q, id)
	}
}

func and(a, b *fnode) *fnode { return &fnode{op: "and", a: a, b: b} }
func or(a, b *fnode) *fnode  { return &fnode{op: "or", a: a, b: b} }
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

// Ethernet offsets: type at 12, network header at 14.
func etherType(t uint32) *fnode { return leaf(test{size: 2, off: 12, k: t}) }

const (
	ethIPv4 = 0x0800
	ethIPv6 = 0x86dd
	ethARP  = 0x0806
	ethRARP = 0x8035
)

func ipProto(proto uint32) *fnode {
	return and(etherType(ethIPv4), leaf(test{size: 1, off: 14 + 9, k: proto}))
}

func ip6Proto(proto uint32) *fnode {
	// As tcpdump: the next header, or the one after a fragment header.
	return and(etherType(ethIPv6), or(leaf(test{size: 1, off: 14 + 6, k: proto}),
		and(leaf(test{size: 1, off: 14 + 6, k: 44}), leaf(test{size: 1, off: 14 + 40, k: proto}))))
}

func protoTest(proto string) (*fnode, error) {
	switch proto {
	case "ip":
		return etherType(ethIPv4), nil
	case "ip6":
		return etherType(ethIPv6), nil
	case "arp":
		return etherType(ethARP), nil
	case "rarp":
		return etherType(ethRARP), nil
	case "tcp":
		return or(ipProto(6), ip6Proto(6)), nil
	case "udp":
		return or(ipProto(17), ip6Proto(17)), nil
	case "icmp":
		return ipProto(1), nil
	}
	return nil, fmt.Errorf("unknown protocol %q", proto)
}

var portNames = map[string]uint16{
	"ftp": 21, "ssh": 22, "telnet": 23, "smtp": 25, "domain": 53, "http": 80, "www": 80,
	"ntp": 123, "https": 443, "mqtt": 1883, "secure-mqtt": 8883, "mdns": 5353,
}

func portTest(q quals, id string) (*fnode, error) {
	var port uint16
	if n, err := strconv.ParseUint(id, 10, 16); err == nil {
		port = uint16(n)
	} else if n, ok := portNames[strings.ToLower(id)]; ok {
		port = n
	} else {
		return nil, fmt.Errorf("port %q: not a port number", id)
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
		return nil, fmt.Errorf("%s port: use port, tcp port or udp port", q.proto)
	}
	k := uint32(port)
	var v6p, v4p []*fnode
	for _, pr := range protos {
		v6p = append(v6p, leaf(test{size: 1, off: 14 + 6, k: pr}))
		v4p = append(v4p, leaf(test{size: 1, off: 14 + 9, k: pr}))
	}
	v6 := allOf(etherType(ethIPv6), anyOf(v6p...),
		pickDir(q.dir, leaf(test{size: 2, off: 14 + 40, k: k}), leaf(test{size: 2, off: 14 + 42, k: k})))
	notFrag := &fnode{op: "not", a: leaf(test{size: 2, off: 14 + 6, k: 0x1fff, jset: true})}
	v4 := allOf(etherType(ethIPv4), anyOf(v4p...), notFrag,
		pickDir(q.dir, leaf(test{size: 2, off: 0, ipv4Rel: true, k: k}), leaf(test{size: 2, off: 2, ipv4Rel: true, k: k})))
	return or(v6, v4), nil
}

// resolveHost looks up every address of a host name (A and AAAA, from
// /etc/hosts or DNS), as tcpdump does when it compiles "host NAME".
var resolveHost = func(name string) ([]netip.Addr, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return net.DefaultResolver.LookupNetIP(ctx, "ip", name)
}

func addrTest(q quals, id string) (*fnode, error) {
	var pfx netip.Prefix
	if q.typ == "net" {
		var err error
		if pfx, err = netip.ParsePrefix(id); err != nil {
			a, aerr := netip.ParseAddr(id)
			if aerr != nil {
				return nil, fmt.Errorf("net %q: give ADDR/LEN (e.g. 10.0.0.0/8)", id)
			}
			pfx = netip.PrefixFrom(a, a.BitLen())
		}
		if pfx.Masked() != pfx {
			return nil, fmt.Errorf("net %q: non-network bits set in the address", id)
		}
		return prefixTest(q, pfx)
	}
	if a, err := netip.ParseAddr(id); err == nil {
		return prefixTest(q, netip.PrefixFrom(a, a.BitLen()))
	}
	return nameTest(q, id)
}

// nameTest matches any address of a host name, resolved now: the program
// holds addresses, so a name whose addresses change later needs a restart.
func nameTest(q quals, name string) (*fnode, error) {
	addrs, err := resolveHost(name)
	if err != nil {
		return nil, fmt.Errorf("host %q does not resolve (%v): give an IP address, or a name in /etc/hosts or DNS", name, err)
	}
	var ns []*fnode
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
		n, err := prefixTest(q, netip.PrefixFrom(a, a.BitLen()))
		if err != nil {
			return nil, err
		}
		ns = append(ns, n)
	}
	if len(ns) == 0 {
		fam := "IPv4"
		if q.proto == "ip6" {
			fam = "IPv6"
		}
		return nil, fmt.Errorf("host %q has no %s address (it resolves to %v)", name, fam, addrs)
	}
	return anyOf(ns...), nil
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

func prefixTest(q quals, pfx netip.Prefix) (*fnode, error) {
	id := pfx.Addr().String()
	if q.typ == "net" {
		id = pfx.String()
	}
	a := pfx.Addr()
	if a.Is4() {
		switch q.proto {
		case "", "ip", "arp", "rarp":
		default:
			return nil, fmt.Errorf("%s %s: only ip, arp or no protocol go with host and net", q.proto, q.typ)
		}
		b := a.As4()
		k := binary.BigEndian.Uint32(b[:])
		var mask uint32
		if pfx.Bits() < 32 {
			mask = ^uint32(0) << (32 - pfx.Bits())
		}
		cmp := func(off uint32) *fnode {
			if pfx.Bits() == 0 {
				return &fnode{op: "test", t: test{constant: 1}}
			}
			return leaf(test{size: 4, off: off, mask: mask, k: k})
		}
		ip := and(etherType(ethIPv4), pickDir(q.dir, cmp(14+12), cmp(14+16)))
		arpAddr := pickDir(q.dir, cmp(14+14), cmp(14+24))
		arp := and(or(etherType(ethARP), etherType(ethRARP)), arpAddr)
		switch q.proto {
		case "ip":
			return ip, nil
		case "arp":
			return and(etherType(ethARP), arpAddr), nil
		case "rarp":
			return and(etherType(ethRARP), arpAddr), nil
		}
		return or(ip, arp), nil
	}
	if q.proto != "" && q.proto != "ip6" {
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
			words = append(words, leaf(test{size: 4, off: off + uint32(4*i), mask: mask, k: binary.BigEndian.Uint32(b[4*i:])}))
		}
		if len(words) == 0 {
			return &fnode{op: "test", t: test{constant: 1}}
		}
		return allOf(words...)
	}
	return and(etherType(ethIPv6), pickDir(q.dir, cmp(14+8), cmp(14+24))), nil
}

// Code generation: each node jumps to a true or a false label.

type label int

type pins struct {
	ins    bpf.Instruction // nil for a jump or a label
	mark   label           // nonzero: this entry is where label is
	jump   bool
	jset   bool
	k      uint32
	jt, jf label
}

type gen struct {
	out    []pins
	labels int
}

func (g *gen) newLabel() label { g.labels++; return label(g.labels) }

func (g *gen) emit(i bpf.Instruction) { g.out = append(g.out, pins{ins: i}) }

func (g *gen) node(n *fnode, t, f label) {
	switch n.op {
	case "and":
		mid := g.newLabel()
		g.node(n.a, mid, f)
		g.out = append(g.out, pins{mark: mid})
		g.node(n.b, t, f)
	case "or":
		mid := g.newLabel()
		g.node(n.a, t, mid)
		g.out = append(g.out, pins{mark: mid})
		g.node(n.b, t, f)
	case "not":
		g.node(n.a, f, t)
	default:
		tt := n.t
		switch tt.constant {
		case 1:
			g.out = append(g.out, pins{jump: true, jt: t, jf: t})
			return
		case -1:
			g.out = append(g.out, pins{jump: true, jt: f, jf: f})
			return
		}
		if tt.ipv4Rel {
			g.emit(bpf.LoadMemShift{Off: 14})
			g.emit(bpf.LoadIndirect{Off: 14 + tt.off, Size: tt.size})
		} else {
			g.emit(bpf.LoadAbsolute{Off: tt.off, Size: tt.size})
		}
		if tt.mask != 0 {
			g.emit(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: tt.mask})
		}
		g.out = append(g.out, pins{jump: true, jset: tt.jset, k: tt.k, jt: t, jf: f})
	}
}

func genProgram(n *fnode) ([]bpf.Instruction, error) {
	g := &gen{}
	t, f := g.newLabel(), g.newLabel()
	g.node(n, t, f)
	g.out = append(g.out, pins{mark: t}, pins{ins: bpf.RetConstant{Val: FilterSnaplen}}, pins{mark: f}, pins{ins: bpf.RetConstant{Val: 0}})
	// Positions of instructions and labels.
	pos := map[label]int{}
	idx := 0
	for _, p := range g.out {
		if p.mark != 0 {
			pos[p.mark] = idx
			continue
		}
		idx++
	}
	var prog []bpf.Instruction
	for _, p := range g.out {
		switch {
		case p.mark != 0:
		case p.ins != nil:
			prog = append(prog, p.ins)
		default:
			here := len(prog)
			st, sf := pos[p.jt]-here-1, pos[p.jf]-here-1
			if st < 0 || sf < 0 || st > 255 || sf > 255 {
				return nil, fmt.Errorf("expression too long for a BPF program")
			}
			if p.jt == p.jf {
				prog = append(prog, bpf.Jump{Skip: uint32(st)})
				continue
			}
			cond := bpf.JumpEqual
			if p.jset {
				cond = bpf.JumpBitsSet
			}
			prog = append(prog, bpf.JumpIf{Cond: cond, Val: p.k, SkipTrue: uint8(st), SkipFalse: uint8(sf)})
		}
	}
	return prog, nil
}
