package capture

import (
	"fmt"
	"slices"
	"strings"

	"golang.org/x/net/bpf"
)

// Code generation for a parsed filter, small as tcpdump's: alternatives
// that start with the same test share it ("port 1 or port 2" checks the
// EtherType and the protocol once), a test whose outcome is known on the
// way to it is jumped over, a value already in the register is not loaded
// again, and identical tails of code are kept once.

// simplify factors the alternatives of every "or" (see factorOr).
func simplify(n *fnode) *fnode {
	switch n.op {
	case "not":
		return not(simplify(n.a))
	case "and":
		cs := conjuncts(n, nil)
		for i := range cs {
			cs[i] = simplify(cs[i])
		}
		return allOf(cs...)
	case "or":
		return factorOr(disjuncts(n, nil))
	}
	return n
}

func conjuncts(n *fnode, out []*fnode) []*fnode {
	if n.op == "and" {
		return conjuncts(n.b, conjuncts(n.a, out))
	}
	return append(out, n)
}

func disjuncts(n *fnode, out []*fnode) []*fnode {
	if n.op == "or" {
		return disjuncts(n.b, disjuncts(n.a, out))
	}
	return append(out, n)
}

// factorOr turns (a and x) or (a and y) or b into (a and (x or y)) or b,
// recursively, and puts the plain tests of one value next to each other
// (src port 1, src port 2, ..., dst port 1, ...), so the value is loaded
// once. Alternatives have no side effects: their order does not change
// what matches.
func factorOr(alts []*fnode) *fnode {
	var lists [][]*fnode
	for _, a := range alts {
		for _, d := range disjuncts(a, nil) {
			cs := conjuncts(d, nil)
			for i := range cs {
				cs[i] = simplify(cs[i])
			}
			lists = append(lists, cs)
		}
	}
	return factorLists(lists)
}

// factorLists is factorOr on alternatives already simplified, each a list
// of conjuncts.
func factorLists(lists [][]*fnode) *fnode {
	type group struct {
		head   *fnode
		rests  [][]*fnode
		always bool // an alternative is the head alone
	}
	var groups []*group
	byKey := map[string]*group{}
	for _, cs := range lists {
		k := nodeKey(cs[0])
		g := byKey[k]
		if g == nil {
			g = &group{head: cs[0]}
			byKey[k] = g
			groups = append(groups, g)
		}
		if len(cs) == 1 {
			g.always = true
		} else {
			g.rests = append(g.rests, cs[1:])
		}
	}
	var out []*fnode
	for _, g := range groups {
		switch {
		case g.always:
			out = append(out, g.head)
		case len(g.rests) == 1:
			out = append(out, allOf(append([]*fnode{g.head}, g.rests[0]...)...))
		default:
			// A rest that is one "or" joins the others' alternatives.
			var rests [][]*fnode
			for _, r := range g.rests {
				if len(r) == 1 && r[0].op == "or" {
					for _, d := range disjuncts(r[0], nil) {
						rests = append(rests, conjuncts(d, nil))
					}
					continue
				}
				rests = append(rests, r)
			}
			out = append(out, and(g.head, factorLists(rests)))
		}
	}
	// Plain tests grouped by the value they load, where the first is.
	var sorted []*fnode
	done := map[load]bool{}
	for i, n := range out {
		if n.op != "test" || n.t.constant != 0 {
			sorted = append(sorted, n)
			continue
		}
		if done[n.t.ld] {
			continue
		}
		done[n.t.ld] = true
		for _, m := range out[i:] {
			if m.op == "test" && m.t.constant == 0 && m.t.ld == n.t.ld {
				sorted = append(sorted, m)
			}
		}
	}
	return anyOf(sorted...)
}

// nodeKey is the same for equal expressions (and/or chains flattened).
func nodeKey(n *fnode) string {
	var b strings.Builder
	writeKey(&b, n)
	return b.String()
}

func writeKey(b *strings.Builder, n *fnode) {
	switch n.op {
	case "test":
		fmt.Fprintf(b, "%v", n.t)
	case "not":
		b.WriteString("!")
		writeKey(b, n.a)
	default:
		parts := conjuncts(n, nil)
		if n.op == "or" {
			parts = disjuncts(n, nil)
		}
		b.WriteString(n.op + "(")
		for _, p := range parts {
			writeKey(b, p)
			b.WriteString(",")
		}
		b.WriteString(")")
	}
}

// The program as a graph: each block loads a value and jumps on a test.
const (
	blockAccept = 0
	blockReject = 1
)

type block struct {
	t      test
	jt, jf int
	pre    []bpf.Instruction // the loads the test needs (after register tracking)
}

type flowGraph struct{ blocks []block }

// build adds the blocks testing n, jumping to t when it holds and f when
// not, and returns its first block. Blocks are created after the blocks
// they jump to: in reverse order of the program.
func (g *flowGraph) build(n *fnode, t, f int) int {
	switch n.op {
	case "and":
		return g.build(n.a, g.build(n.b, t, f), f)
	case "or":
		return g.build(n.a, t, g.build(n.b, t, f))
	case "not":
		return g.build(n.a, f, t)
	}
	switch n.t.constant {
	case 1:
		return t
	case -1:
		return f
	}
	g.blocks = append(g.blocks, block{t: n.t, jt: t, jf: f})
	return len(g.blocks) - 1
}

// facts are the outcomes of tests known on a path, and the values a load
// is known to be one of (one after an equality held; several where paths
// meet: the EtherType is ARP or RARP).
type facts struct {
	known map[test]bool
	vals  map[load][]uint32
}

// maxVals bounds the values remembered for one load.
const maxVals = 16

func (f facts) with(t test, v bool) facts {
	g := facts{known: make(map[test]bool, len(f.known)+1), vals: make(map[load][]uint32, len(f.vals)+1)}
	for k, x := range f.known {
		g.known[k] = x
	}
	for k, x := range f.vals {
		g.vals[k] = x
	}
	g.known[t] = v
	if t.op == cmpEq {
		switch {
		case v:
			g.vals[t.ld] = []uint32{t.k}
		case g.vals[t.ld] != nil:
			var rest []uint32
			for _, x := range g.vals[t.ld] {
				if x != t.k {
					rest = append(rest, x)
				}
			}
			g.vals[t.ld] = rest
		}
	}
	return g
}

// decide tells the outcome of t when the facts imply it.
func (f facts) decide(t test) (v, ok bool) {
	if v, ok := f.known[t]; ok {
		return v, true
	}
	xs, ok := f.vals[t.ld]
	if !ok || len(xs) == 0 {
		return false, false
	}
	outcome := func(x uint32) bool {
		switch t.op {
		case cmpSet:
			return x&t.k != 0
		case cmpGE:
			return x >= t.k
		case cmpGT:
			return x > t.k
		}
		return x == t.k
	}
	v = outcome(xs[0])
	for _, x := range xs[1:] {
		if outcome(x) != v {
			return false, false
		}
	}
	return v, true
}

// meet keeps what holds on both paths.
func (f facts) meet(g facts) facts {
	h := facts{known: map[test]bool{}, vals: map[load][]uint32{}}
	for k, x := range f.known {
		if y, ok := g.known[k]; ok && x == y {
			h.known[k] = x
		}
	}
	for k, xs := range f.vals {
		ys, ok := g.vals[k]
		if !ok {
			continue
		}
		u := append([]uint32(nil), xs...)
		for _, y := range ys {
			if !slices.Contains(u, y) {
				u = append(u, y)
			}
		}
		if len(u) <= maxVals {
			h.vals[k] = u
		}
	}
	return h
}

// regs is what the A and X registers are known to hold.
type regs struct {
	a        load
	aOK, xOK bool
	x        uint32 // X = 4*(packet[x]&0xf)
}

func (r regs) meet(s regs) regs {
	out := regs{}
	if r.aOK && s.aOK && r.a == s.a {
		out.a, out.aOK = r.a, true
	}
	if r.xOK && s.xOK && r.x == s.x {
		out.x, out.xOK = r.x, true
	}
	return out
}

// genProgram compiles a parsed filter.
func genProgram(root *fnode) ([]bpf.Instruction, error) {
	g := &flowGraph{blocks: make([]block, 2)}
	entry := g.build(simplify(root), blockAccept, blockReject)
	if len(g.blocks) > maxBlocks {
		return nil, fmt.Errorf("expression too long for a BPF program (%d tests)", len(g.blocks)-2)
	}
	if entry < 2 {
		return []bpf.Instruction{bpf.RetConstant{Val: retValue(entry)}}, nil
	}
	// Each round can know more (a block bypassed has fewer paths to it).
	for range 4 {
		g.thread(entry)
		if entry = g.bypass(entry); entry < 2 {
			return []bpf.Instruction{bpf.RetConstant{Val: retValue(entry)}}, nil
		}
	}
	g.loads(entry)
	entry = g.merge(entry)
	return g.layout(entry)
}

// maxInstructions is the kernel's bound on a program (BPF_MAXINSNS).
const maxInstructions = 4096

// maxBlocks bounds the tests of a program before optimisation (a kernel
// program holds at most 4096 instructions).
const maxBlocks = 8192

func retValue(terminal int) uint32 {
	if terminal == blockAccept {
		return FilterSnaplen
	}
	return 0
}

// thread sends each jump past the tests whose outcome is known on it
// ("port 1 or port 2": once the EtherType was IPv6, the IPv4 branch is not
// tried). Blocks are visited in program order, so every jump to a block is
// final when it is reached.
func (g *flowGraph) thread(entry int) {
	in := make([]*facts, len(g.blocks))
	in[entry] = &facts{}
	for id := entry; id >= 2; id-- {
		f := in[id]
		if f == nil {
			continue
		}
		b := &g.blocks[id]
		for _, taken := range []bool{true, false} {
			ef := f.with(b.t, taken)
			tgt := &b.jf
			if taken {
				tgt = &b.jt
			}
			for *tgt >= 2 {
				v, ok := ef.decide(g.blocks[*tgt].t)
				if !ok {
					break
				}
				if v {
					*tgt = g.blocks[*tgt].jt
				} else {
					*tgt = g.blocks[*tgt].jf
				}
			}
			meetInto(in, *tgt, ef, facts.meet)
		}
	}
}

// meetInto records v, known on a path into block s: what holds on every
// path there so far.
func meetInto[T any](in []*T, s int, v T, meet func(T, T) T) {
	if s < 2 {
		return
	}
	if in[s] != nil {
		v = meet(*in[s], v)
	}
	in[s] = &v
}

// bypass sends the jumps to a block that goes to the same place either
// way to that place, and returns the entry.
func (g *flowGraph) bypass(entry int) int {
	to := make([]int, len(g.blocks))
	to[blockAccept], to[blockReject] = blockAccept, blockReject
	for id := 2; id <= entry; id++ {
		b := &g.blocks[id]
		b.jt, b.jf = to[b.jt], to[b.jf]
		to[id] = id
		if b.jt == b.jf {
			to[id] = b.jt
		}
	}
	return to[entry]
}

// loads decides each block's loads: none for a value every path to it
// left in the register.
func (g *flowGraph) loads(entry int) {
	in := make([]*regs, len(g.blocks))
	in[entry] = &regs{}
	for id := entry; id >= 2; id-- {
		r := in[id]
		if r == nil {
			continue
		}
		b := &g.blocks[id]
		out := *r
		ld := b.t.ld
		if ld.kind == ldInd && !(r.xOK && r.x == ld.xoff) {
			b.pre = append(b.pre, bpf.LoadMemShift{Off: ld.xoff})
			out.x, out.xOK = ld.xoff, true
		}
		if !(r.aOK && r.a == ld) {
			switch ld.kind {
			case ldAbs:
				b.pre = append(b.pre, bpf.LoadAbsolute{Off: ld.off, Size: ld.size})
			case ldInd:
				b.pre = append(b.pre, bpf.LoadIndirect{Off: ld.off, Size: ld.size})
			case ldExt:
				b.pre = append(b.pre, bpf.LoadExtension{Num: bpf.Extension(ld.off)})
			}
			if ld.mask != 0 {
				b.pre = append(b.pre, bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: ld.mask})
			}
			out.a, out.aOK = ld, true
		}
		meetInto(in, b.jt, out, regs.meet)
		meetInto(in, b.jf, out, regs.meet)
	}
}

// merge keeps one copy of blocks with the same instructions and the same
// successors (the same code runs on every path either way), the last in
// program order, and returns the entry.
func (g *flowGraph) merge(entry int) int {
	canon := make([]int, len(g.blocks))
	canon[blockAccept], canon[blockReject] = blockAccept, blockReject
	seen := map[string]int{}
	for id := 2; id <= entry; id++ {
		b := &g.blocks[id]
		b.jt, b.jf = canon[b.jt], canon[b.jf]
		sig := fmt.Sprintf("%v|%d|%d|%d|%d", b.pre, b.t.op, b.t.k, b.jt, b.jf)
		if c, ok := seen[sig]; ok {
			canon[id] = c
			continue
		}
		seen[sig] = id
		canon[id] = id
	}
	return canon[entry]
}

// layout writes the blocks reachable from entry in program order, then
// the two returns.
func (g *flowGraph) layout(entry int) ([]bpf.Instruction, error) {
	reach := make([]bool, len(g.blocks))
	reach[entry] = true
	var order []int
	for id := entry; id >= 2; id-- {
		if !reach[id] {
			continue
		}
		order = append(order, id)
		reach[g.blocks[id].jt], reach[g.blocks[id].jf] = true, true
	}
	// A conditional jump reaches 255 instructions at most: a farther
	// target is reached by an unconditional jump placed right after it.
	// Placing those moves other targets farther: repeat until stable.
	far := make([][2]bool, len(g.blocks)) // jt, jf go through a jump after the test
	start := make([]int, len(g.blocks))
	for {
		n := 0
		for _, id := range order {
			start[id] = n
			n += len(g.blocks[id].pre) + 1
			for _, f := range far[id] {
				if f {
					n++
				}
			}
		}
		start[blockAccept], start[blockReject] = n, n+1
		changed := false
		for _, id := range order {
			b := g.blocks[id]
			at := start[id] + len(b.pre)
			for i, s := range []int{b.jt, b.jf} {
				if !far[id][i] && start[s]-at-1 > 255 {
					far[id][i], changed = true, true
				}
			}
		}
		if !changed {
			break
		}
	}
	prog := make([]bpf.Instruction, 0, start[blockReject]+1)
	for _, id := range order {
		b := g.blocks[id]
		prog = append(prog, b.pre...)
		at := len(prog) // the test
		st, sf := start[b.jt]-at-1, start[b.jf]-at-1
		var jumps []bpf.Instruction
		if far[id][0] {
			st = 0
			jumps = append(jumps, bpf.Jump{Skip: uint32(start[b.jt] - (at + 1) - 1)})
		}
		if far[id][1] {
			sf = len(jumps)
			jumps = append(jumps, bpf.Jump{Skip: uint32(start[b.jf] - (at + 1 + len(jumps)) - 1)})
		}
		cond := map[cmpOp]bpf.JumpTest{cmpEq: bpf.JumpEqual, cmpSet: bpf.JumpBitsSet, cmpGE: bpf.JumpGreaterOrEqual, cmpGT: bpf.JumpGreaterThan}[b.t.op]
		prog = append(prog, bpf.JumpIf{Cond: cond, Val: b.t.k, SkipTrue: uint8(st), SkipFalse: uint8(sf)})
		prog = append(prog, jumps...)
	}
	if n := len(prog) + 2; n > maxInstructions {
		return nil, fmt.Errorf("expression too long for a BPF program (%d instructions, the kernel takes %d)", n, maxInstructions)
	}
	return append(prog, bpf.RetConstant{Val: FilterSnaplen}, bpf.RetConstant{Val: 0}), nil
}
