// Package capture reads packet captures (pcap, pcapng, gzip, stdin) and live
// interfaces, decodes link/IP/TCP/UDP, reassembles TCP per connection and
// direction, and hands in-order bytes plus TCP-level facts (SYN, FIN, RST,
// zero window, retransmission, gaps) to a Handler. It knows nothing about TLS.
package capture

import (
	"net"
	"net/netip"
	"time"
)

// Frame identifies one captured packet the way Wireshark numbers it.
type Frame struct {
	Number int // 1-based, counting every packet record in the file
	Time   time.Time
}

// Dir is the direction of bytes or of a TCP event within a connection.
type Dir uint8

const (
	FromClient Dir = iota // the side that sent the SYN (or, without SYN, the guessed client)
	FromServer
)

func (d Dir) String() string {
	if d == FromClient {
		return "client"
	}
	return "server"
}

// Reverse returns the other direction.
func (d Dir) Reverse() Dir { return 1 - d }

// Span says which frame carried the bytes [Off, Off+Len) of a Payload.
type Span struct {
	Frame
	Off, Len int
}

// Conn describes one TCP connection as Wireshark's tcp.stream would.
type Conn struct {
	Stream int // Wireshark's tcp.stream index (0-based, in order of first packet)
	Client netip.AddrPort
	Server netip.AddrPort
	// MACs of the link layer when it has them (Ethernet, SLL), else nil.
	ClientMAC, ServerMAC net.HardwareAddr
	// SawSYN is false when the connection was already open when the capture
	// started; Client/Server are then a guess (ClientGuessed), which the TLS
	// layer may correct from the direction of the ClientHello.
	SawSYN        bool
	ClientGuessed bool
	First         Frame // first packet of the connection
}

// TCPEventKind names a TCP-level fact.
type TCPEventKind uint8

const (
	SYN TCPEventKind = iota
	SYNACK
	FIN
	RST
	ZeroWindow     // the sender advertised a zero receive window
	Retransmission // a segment carrying bytes already seen
	Gap            // bytes missing from the capture (Missing says how many)
	KeepAlive
	ICMPError // an ICMP error (unreachable, TTL exceeded...) about a packet of the connection
	// OverlapConflict: a segment (Frame) overlaps bytes captured before
	// that were not yet delivered, with other bytes there (Differ says
	// how many): the first copy is the one delivered, as in Wireshark.
	OverlapConflict
)

var tcpEventNames = [...]string{"SYN", "SYN-ACK", "FIN", "RST", "zero-window", "retransmission", "gap", "keep-alive", "icmp-error", "overlap-conflict"}

func (k TCPEventKind) String() string {
	if int(k) < len(tcpEventNames) {
		return tcpEventNames[k]
	}
	return "unknown"
}

// TCPEvent is one TCP-level fact with its evidence.
type TCPEvent struct {
	Kind    TCPEventKind
	Dir     Dir
	Frame   Frame
	Missing int // Gap: number of bytes the capture does not have
	Differ  int // OverlapConflict: bytes of the later copy that differ from the first
	Window  int // the advertised window (scaled when the scale is known)
	// ICMPError: the ICMP type and code; Dir is the direction of the
	// packet the error is about (Frame is the ICMP packet).
	ICMPType, ICMPCode uint8
}

// Payload is a run of in-order bytes from one direction. Data and Spans are
// only valid during the call; Spans cover Data exactly, in order.
type Payload struct {
	Dir   Dir
	Data  []byte
	Spans []Span
}

// EndReason says why a connection was handed over for the last time.
type EndReason uint8

const (
	EndClosed      EndReason = iota // FIN both ways or RST
	EndIdle                         // no packet for the idle timeout (live capture)
	EndCaptureDone                  // the capture ended with the connection still open
	EndEvicted                      // dropped to respect the connection limit
)

// ConnHandler receives one connection's events, in capture order as far as
// reassembly allows (payload may be delayed until missing segments arrive;
// every item carries its frame numbers).
type ConnHandler interface {
	TCP(ev TCPEvent)
	Payload(p Payload)
	End(reason EndReason)
}

// Footprinter may be implemented by a ConnHandler to say how many bytes of
// memory it holds for its connection (an estimate: its decoder, the
// records and messages kept). The read asks after each packet carrying
// payload, and counts it against Options.MaxMemory.
type Footprinter interface {
	Footprint() int
}

// Handler receives what a capture contains.
type Handler interface {
	// Conn is called for each new TCP connection, before any of its events.
	Conn(c *Conn) ConnHandler
	DNS(m *DNSMessage)
	// Problem reports something wrong with the capture itself; reading goes on.
	Problem(p Problem)
}

// ProblemKind classifies capture-level trouble.
type ProblemKind uint8

const (
	ProblemTruncatedFile   ProblemKind = iota // the file ends inside a packet or block
	ProblemCorruptPacket                      // a packet that does not decode
	ProblemSnaplenCut                         // packet shorter on disk than on the wire
	ProblemUnknownLinkType                    // link type we cannot decode
	ProblemLimit                              // a resource limit was hit
	ProblemTimeBackwards                      // a timestamp earlier than the packet before
	ProblemDuplicate                          // the same packet captured twice
	ProblemFragmentOverlap                    // IPv4 fragments overlapping with different bytes
	ProblemConnLimit                          // a connection ended early: more than MaxConns open
	ProblemBufferLimit                        // bytes awaited skipped: more than MaxBufferedPerDir waiting

	numProblemKinds // keep last: sizes the per-kind counters
)

// Problem is a capture-level issue: where it is and what it means.
type Problem struct {
	Kind   ProblemKind
	Frame  int   // 0 when not tied to one frame
	Offset int64 // byte offset in the (decompressed) file, -1 when unknown
	Detail string
	// Placed: Detail names the frame or byte offset itself, so a report
	// shows it as it is rather than prefixing Frame or Offset.
	Placed bool
}

// DNSMessage is one DNS query or response seen on UDP (or TCP) port 53.
type DNSMessage struct {
	Frame     Frame
	Client    netip.AddrPort // the side that asks
	Server    netip.AddrPort // the resolver
	ID        uint16
	Response  bool
	RCode     uint8 // 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN ...
	Questions []DNSQuestion
	Answers   []DNSAnswer
}

type DNSQuestion struct {
	Name string
	Type uint16
}

type DNSAnswer struct {
	Name  string
	Type  uint16
	TTL   uint32
	Addr  netip.Addr // A/AAAA
	Alias string     // CNAME target
}

// Stats summarises a read.
type Stats struct {
	Frames      int
	Bytes       int64
	TCPConns    int
	Undecodable int // packets counted but not decoded (unknown link type, corrupt)
	// TCPPackets counts the TCP segments decoded (a fragmented datagram
	// once); the other frames carried something else (UDP, ICMP, ARP,
	// a fragment awaiting the rest), were Undecodable or Duplicates.
	TCPPackets int
	// Capture artefacts, each also reported as a Problem.
	Duplicates        int // packets captured twice, ignored
	TimeBackwards     int // packets with a timestamp earlier than the one before
	FragmentConflicts int // IPv4 fragments overlapping with different bytes
	// Resource bounds hit (Options), each also reported as a Problem:
	// connections ended early (MaxConns or MaxMemory; EvictedMemory of
	// them for MaxMemory) and waits cut short (MaxBufferedPerDir).
	Evicted       int
	EvictedMemory int
	BufferLimited int
	// SegmentLimited counts the BufferLimited waits cut short by the
	// number of segments held (MaxHeldSegments), not their bytes.
	SegmentLimited int
	// The bounds applied (defaults filled in), for saying them; MaxMemory
	// 0 when the open connections' memory is not bounded.
	MaxConns, MaxBufferedPerDir int
	MaxMemory                   int64
	// MaxHeldSegments bounds the out-of-order segments held per
	// direction: one per 32 bytes of MaxBufferedPerDir (at least 1,024),
	// so tiny segments (about 110 bytes each held) keep the memory held
	// within about 4.5 times MaxBufferedPerDir.
	MaxHeldSegments int
	Start, End      time.Time
	// What the frames carried besides TCP, for a capture with none to say
	// what it held: UDP datagrams, ICMP messages, frames without IP (ARP,
	// LLDP, 802.11 management). LinkTypes counts the frames of the first
	// link types seen (Frames 0: none), OtherLinkTypes those of the rest:
	// an array keeps Stats comparable.
	UDPPackets, ICMPPackets, NonIPPackets int
	LinkTypes                             [4]LinkTypeCount
	OtherLinkTypes                        int
}

// LinkTypeCount is how many frames of one LINKTYPE_* value a capture holds.
type LinkTypeCount struct {
	LinkType uint32
	Frames   int
	// Supported: tlspcap decodes this link type.
	Supported bool
}

// DatagramHandler may be implemented by a Handler to see each UDP payload
// that is not DNS (DTLS, QUIC, CoAP), to count what a capture holds.
type DatagramHandler interface {
	Datagram(f Frame, src, dst netip.AddrPort, payload []byte)
}
