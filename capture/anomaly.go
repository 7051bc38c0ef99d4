package capture

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"time"
)

// Capture artefacts that are not the connection's doing: timestamps going
// backwards, the same packet captured twice, IPv4 fragments that overlap
// with different bytes. Each is reported as a Problem naming its frames and
// counted in Stats; the analysis goes on.

// Duplicates are looked for among the last dupWindow IP packets less than
// dupMaxDelay of capture time apart. A packet captured twice (on a bridge
// and its port, or on "any") appears again within microseconds; a TCP
// retransmission comes a retransmission timer later (200 ms minimum RTO on
// Linux, tail-loss probes no sooner than 10 ms) and, from most stacks,
// with a new IPv4 ID, so it is not taken for a copy. An IPv4 ID of 0
// proves nothing (RFC 6864 atomic datagrams: Linux sends its RSTs and
// bare ACKs so, and two identical RSTs 36 µs apart are two RSTs), so such
// packets are never taken for copies.
const (
	dupWindow   = 16
	dupMaxDelay = time.Millisecond
)

// anomalyDetail is how many of each artefact are reported one by one; a
// capture taken on a bridge duplicates every packet, and one line at the
// end (anomalySummary) then gives the total instead of thousands.
const anomalyDetail = 5

// anomalies holds what the checks need of the packets before.
type anomalies struct {
	lastTime  time.Time
	lastFrame int

	seed   maphash.Seed
	seeded bool
	recent [dupWindow]dupEntry
	// tags holds recent[i]'s dupTag: scanned for every packet, apart
	// from the entries so the scan reads two cache lines, not twenty.
	tags [dupWindow]uint64
	next int
}

// dupKeep is the largest packet kept whole for the duplicate check:
// comparing a copy costs a fraction of hashing every packet (most
// comparisons stop at the IP ID). Larger ones (TSO, jumbo records) are
// kept as a hash, so the window holds at most dupWindow*dupKeep bytes.
const dupKeep = 64 << 10

type dupEntry struct {
	data  []byte // a copy of the packet, when at most dupKeep bytes
	sum   uint64 // the hash of a larger one
	n     int
	frame int
	time  time.Time
}

// checkTime reports a packet whose timestamp is earlier than the one
// before it in the file. Packets are still analysed in file order (the
// order the capture saw them), as Wireshark numbers them.
func (p *processor) checkTime(f Frame) {
	a := &p.anom
	if f.Time.IsZero() {
		return
	}
	if !a.lastTime.IsZero() && f.Time.Before(a.lastTime) {
		p.stats.TimeBackwards++
		if p.stats.TimeBackwards > anomalyDetail {
			a.lastTime, a.lastFrame = f.Time, f.Number
			return
		}
		p.problem(Problem{Kind: ProblemTimeBackwards, Placed: true, Frame: f.Number, Offset: -1,
			Detail: fmt.Sprintf("frame %d: timestamp %s is %v earlier than that of frame %d: the capture clock stepped back (or files were merged out of order); analysed in file order",
				f.Number, f.Time.UTC().Format("15:04:05.000000"), a.lastTime.Sub(f.Time), a.lastFrame)})
	}
	a.lastTime, a.lastFrame = f.Time, f.Number
}

// duplicate reports whether the IP packet ip is a copy of one of the last
// few: the same bytes from the IP header on (IPv4 ID, checksum and TTL
// included). A copy is counted, reported and not analysed again.
func (p *processor) duplicate(ip []byte, f Frame) bool {
	a := &p.anom
	if len(ip) >= 20 && ip[0]>>4 == 4 && ip[4] == 0 && ip[5] == 0 {
		return false
	}
	big := len(ip) > dupKeep
	var sum uint64
	if big {
		if !a.seeded {
			a.seed, a.seeded = maphash.MakeSeed(), true
		}
		sum = maphash.Bytes(a.seed, ip)
	}
	tag := dupTag(ip)
	for i, t := range a.tags {
		e := &a.recent[i]
		if t != tag || e.frame == 0 || e.n != len(ip) {
			continue
		}
		if big && e.sum != sum || !big && string(e.data) != string(ip) {
			continue
		}
		if d := f.Time.Sub(e.time); d >= dupMaxDelay || d <= -dupMaxDelay {
			continue
		}
		p.stats.Duplicates++
		if p.stats.Duplicates <= anomalyDetail {
			id := ""
			if ip[0]>>4 == 4 && len(ip) >= 20 {
				id = fmt.Sprintf(", IP ID 0x%02x%02x", ip[4], ip[5])
			}
			p.problem(Problem{Kind: ProblemDuplicate, Placed: true, Frame: f.Number, Offset: -1,
				Detail: fmt.Sprintf("frame %d: the same packet as frame %d (identical IP header%s, identical payload, %v apart): captured twice (on a bridge and its port, or with -i any); ignored, as editcap -d would",
					f.Number, e.frame, id, f.Time.Sub(e.time))})
		}
		return true
	}
	e := &a.recent[a.next]
	e.data = e.data[:0]
	if !big {
		e.data = append(e.data, ip...)
	}
	e.sum, e.n, e.frame, e.time = sum, len(ip), f.Number, f.Time
	a.tags[a.next] = tag
	a.next = (a.next + 1) % dupWindow
	return false
}

// dupTag reads a few bytes of an IP packet that tell most different
// packets apart without a call: its length, the IPv4 ID (bytes 4-5), and
// the last bytes (payload, or the TCP header of a bare IPv6 ACK).
func dupTag(ip []byte) uint64 {
	if len(ip) < 16 {
		return uint64(len(ip))
	}
	return binary.LittleEndian.Uint64(ip) ^ binary.LittleEndian.Uint64(ip[len(ip)-8:])<<1 ^ uint64(len(ip))<<48
}

// fragConflict is the first overlap with different bytes found while
// adding one fragment.
type fragConflict struct {
	found      bool
	id         uint16
	kept, lost int // frames: the first received copy, the fragment that disagreed
	lo, hi     int // byte range of the datagram's payload where they disagree
}

// keepFirst makes a new fragment agree with the parts already held where
// they overlap, so the first received bytes are the ones reassembled
// whatever the offsets, and records the first disagreement.
func (f *defragmenter) keepFirst(parts []fragPart, id uint16, off int, data []byte, frame int) {
	end := off + len(data)
	for _, q := range parts {
		lo, hi := max(off, q.off), min(end, q.off+len(q.data))
		if lo >= hi {
			continue
		}
		mine, theirs := data[lo-off:hi-off], q.data[lo-q.off:hi-q.off]
		if !f.conflict.found && string(mine) != string(theirs) {
			f.conflict = fragConflict{found: true, id: id, kept: q.frame, lost: frame, lo: lo, hi: hi}
		}
		copy(mine, theirs)
	}
}

// fragOverlap reports the conflict the last fragment added had, if any.
func (p *processor) fragOverlap(f Frame) {
	c := p.defrag.conflict
	if !c.found {
		return
	}
	p.defrag.conflict = fragConflict{}
	p.stats.FragmentConflicts++
	if p.stats.FragmentConflicts > anomalyDetail {
		return
	}
	p.problem(Problem{Kind: ProblemFragmentOverlap, Placed: true, Frame: f.Number, Offset: -1,
		Detail: fmt.Sprintf("frame %d: IPv4 fragment (ID 0x%04x) overlaps frame %d at payload bytes %d-%d with different content (teardrop-style): the bytes of frame %d, received first, were kept; a receiver that discards overlapping fragments (as Linux does) dropped the whole datagram",
			c.lost, c.id, c.kept, c.lo, c.hi-1, c.kept)})
}

// anomalySummary gives, at the end of the capture, the totals of the
// artefacts reported one by one only up to anomalyDetail.
func (p *processor) anomalySummary() {
	for _, a := range []struct {
		kind ProblemKind
		n    int
		what string
	}{
		{ProblemTimeBackwards, p.stats.TimeBackwards, "packets with a timestamp earlier than the packet before"},
		{ProblemDuplicate, p.stats.Duplicates, "packets captured twice (ignored)"},
		{ProblemFragmentOverlap, p.stats.FragmentConflicts, "IPv4 fragments overlapping others with different bytes (the first received kept)"},
	} {
		if a.n > anomalyDetail {
			p.problem(Problem{Kind: a.kind, Offset: -1,
				Detail: fmt.Sprintf("%d %s in all; the first %d are listed above", a.n, a.what, anomalyDetail)})
		}
	}
}
