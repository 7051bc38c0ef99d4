package capture

// Bytes held out of order. One direction's bytes that arrived ahead of
// the next one expected wait in a heldSet: runs of bytes that do not
// overlap, each with the frame that brought them, ordered by stream
// offset in a treap (a binary search tree kept balanced by random
// priorities). Adding a segment, taking the first run and finding the
// oldest run cost O(log n) for n runs held, so a direction of n segments
// in any order costs O(n log n), where a list walked per segment cost
// O(n²) (60,000 shuffled 10-byte segments: 38 s with 16 MiB buffered).

// heldRun is bytes [start, start+len(data)) of the stream, from frame.
type heldRun struct {
	start       int64 // stream offset (bytes since the direction's first)
	data        []byte
	frame       Frame
	left, right *heldRun
	prio        uint32
	oldest      int64 // earliest frame time (Unix ns) in this subtree
}

func (r *heldRun) end() int64 { return r.start + int64(len(r.data)) }

func (r *heldRun) fix() {
	r.oldest = r.frame.Time.UnixNano()
	if r.left != nil && r.left.oldest < r.oldest {
		r.oldest = r.left.oldest
	}
	if r.right != nil && r.right.oldest < r.oldest {
		r.oldest = r.right.oldest
	}
}

// heldSet is one direction's held runs.
type heldSet struct {
	root  *heldRun
	bytes int // payload bytes held
	runs  int
	// Finding the runs a new segment overlaps reuses this slice.
	scratch []*heldRun
}

// first returns the run with the lowest offset (nil when empty or nil).
func (s *heldSet) first() *heldRun {
	if s == nil || s.root == nil {
		return nil
	}
	r := s.root
	for r.left != nil {
		r = r.left
	}
	return r
}

// popFirst removes the run first returned.
func (s *heldSet) popFirst() {
	if s.root == nil {
		return
	}
	var r *heldRun
	s.root, r = popMin(s.root)
	s.bytes -= len(r.data)
	s.runs--
}

func popMin(n *heldRun) (*heldRun, *heldRun) {
	if n.left == nil {
		r := n.right
		n.right = nil
		return r, n
	}
	var m *heldRun
	n.left, m = popMin(n.left)
	n.fix()
	return n, m
}

// oldest reports the earliest frame time of the runs held.
func (s *heldSet) oldest() int64 { return s.root.oldest }

func (s *heldSet) insert(x *heldRun) {
	x.left, x.right = nil, nil
	x.fix()
	s.root = insertRun(s.root, x)
	s.bytes += len(x.data)
	s.runs++
}

func insertRun(n, x *heldRun) *heldRun {
	if n == nil {
		return x
	}
	if x.start < n.start {
		n.left = insertRun(n.left, x)
		if n.left.prio > n.prio {
			l := n.left
			n.left = l.right
			n.fix()
			l.right = n
			n = l
		}
	} else {
		n.right = insertRun(n.right, x)
		if n.right.prio > n.prio {
			r := n.right
			n.right = r.left
			n.fix()
			r.left = n
			n = r
		}
	}
	n.fix()
	return n
}

// overlapping returns, in order, the runs holding any byte of [s, e).
// They are a contiguous range of the order: a subtree is entered only
// when it can hold one.
func (h *heldSet) overlapping(s, e int64) []*heldRun {
	h.scratch = appendOverlapping(h.scratch[:0], h.root, s, e)
	return h.scratch
}

func appendOverlapping(out []*heldRun, n *heldRun, s, e int64) []*heldRun {
	for n != nil {
		if n.start > s {
			out = appendOverlapping(out, n.left, s, e)
		}
		if n.start < e && n.end() > s {
			out = append(out, n)
		}
		if n.start >= e {
			break
		}
		n = n.right
	}
	return out
}

// add holds b, the bytes from offset s that frame f brought, where no
// run holds them yet: a byte held stays the one delivered (the first
// copy captured wins, as in Wireshark). It returns how many of b's bytes
// overlapping held ones differ from them, and whether any overlapped.
func (h *heldSet) add(s int64, b []byte, f Frame, rnd func() uint32) (differ int, overlap bool) {
	e := s + int64(len(b))
	pos := s
	for _, r := range h.overlapping(s, e) {
		overlap = true
		differ += r.differ(s, b)
		if pos < r.start {
			h.hold(pos, b[pos-s:r.start-s], f, rnd)
		}
		pos = max(pos, min(e, r.end()))
	}
	if pos < e {
		h.hold(pos, b[pos-s:], f, rnd)
	}
	return differ, overlap
}

// hold inserts a copy of b as a run (the packet's buffer is reused).
func (h *heldSet) hold(s int64, b []byte, f Frame, rnd func() uint32) {
	h.insert(&heldRun{start: s, data: append([]byte(nil), b...), frame: f, prio: rnd()})
}

// differ counts the bytes of b (from offset s) that r holds otherwise.
func (r *heldRun) differ(s int64, b []byte) int {
	lo, hi := max(s, r.start), min(s+int64(len(b)), r.end())
	n := 0
	for i := lo; i < hi; i++ {
		if b[i-s] != r.data[i-r.start] {
			n++
		}
	}
	return n
}
