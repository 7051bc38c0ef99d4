package diagnose

import (
	"cmp"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	"tlspcap/capture"
	"tlspcap/diagnose/device"
)

// Summary is the one count of a report: its closing lines in every format
// and the exit code come from it.
type Summary struct {
	// Connections in the report, and those with an error finding.
	Connections int `json:"connections"`
	Failed      int `json:"failed"`
	// CaptureErrors are the titles of the capture-level error findings (a
	// name the device could not resolve): failures no connection shows.
	CaptureErrors []string `json:"capture_errors"`
	// Nothing says why the report holds no connection; nil when it holds some.
	Nothing *Nothing `json:"nothing_analysed,omitempty"`
}

// Nothing says why nothing was analysed, and what the capture held.
type Nothing struct {
	// Flag and Value name the selection that matched nothing ("--device",
	// "10.0.0.9"); "" when the capture itself holds no TCP connection.
	Flag  string `json:"flag,omitempty"`
	Value string `json:"value,omitempty"`
	// Connections the capture holds (before the selection).
	Connections int `json:"connections"`
	// Clients seen on those connections, Espressif ones first, then the
	// busiest; MoreClients are not listed.
	Clients     []SeenClient `json:"clients,omitempty"`
	MoreClients int          `json:"more_clients,omitempty"`
	// Fingerprints: for --client, the values of the fingerprint it names
	// that the connections have, the commonest first.
	Fingerprints []string `json:"fingerprints,omitempty"`
	// Frames says what the frames were when the capture holds no TCP
	// connection ("13 of link type 119 (802.11 with Prism header), not
	// supported", "16 UDP (16 DTLS)").
	Frames []string `json:"frames,omitempty"`
	// DNSMessages were analysed though no TCP was: a DNS-only capture
	// still says whether the device's lookups failed.
	DNSMessages int `json:"dns_messages,omitempty"`
}

// SeenClient is a TCP client of the capture.
type SeenClient struct {
	Address     string `json:"address"`
	MAC         string `json:"mac,omitempty"`
	Espressif   bool   `json:"espressif,omitempty"`
	Connections int    `json:"connections"`
}

// Verdict is what a report comes to, for the exit code.
type Verdict int

const (
	VerdictOK      Verdict = iota // nothing failed
	VerdictFailed                 // a connection failed, or the capture shows an error
	VerdictNothing                // nothing was analysed: the selection matched nothing, or no TCP and no error
)

// Summary counts the report.
func (r *Report) Summary() Summary {
	s := Summary{Connections: r.Len(), Failed: r.failedConnections(), CaptureErrors: []string{}, Nothing: r.Nothing}
	for _, f := range r.Findings {
		if f.Severity == SeverityError {
			s.CaptureErrors = append(s.CaptureErrors, f.Title)
		}
	}
	if s.Connections > 0 {
		s.Nothing = nil
	}
	return s
}

func (r *Report) failedConnections() int {
	if r.src != nil { // a derived report keeps its source's findings
		return r.src.failedConnections()
	}
	n := 0
	if r.spill != nil {
		for _, e := range r.spill.index {
			if e.failed {
				n++
			}
		}
	}
	for _, c := range r.Connections {
		if c.Failed() {
			n++
		}
	}
	return n
}

// Verdict is 0, 1 or 2 in the exit code's terms: a selection that matched
// nothing is a usage error whatever else the capture shows; a capture
// without TCP is judged by its DNS when it has some (a name that does
// not exist fails), else nothing was analysed.
func (s Summary) Verdict() Verdict {
	switch {
	case s.Nothing != nil && s.Nothing.Flag != "":
		return VerdictNothing
	case s.Failed > 0 || len(s.CaptureErrors) > 0:
		return VerdictFailed
	case s.Nothing != nil && s.Nothing.DNSMessages == 0:
		return VerdictNothing
	}
	return VerdictOK
}

// Lines are the report's closing lines, the same in every format (wire
// strings in them unescaped: each format escapes them).
func (s Summary) Lines() []string {
	var out []string
	if s.Nothing != nil {
		out = append(out, s.Nothing.String())
	}
	total := fmt.Sprintf("%d of %d connections failed", s.Failed, s.Connections)
	switch {
	case len(s.CaptureErrors) == 0 && s.Nothing != nil:
		return out // "0 of 0" adds nothing to it
	case len(s.CaptureErrors) == 0:
		return append(out, total+".")
	}
	const listed = 3
	titles := s.CaptureErrors[:min(len(s.CaptureErrors), listed)]
	errs := strings.Join(titles, "; ")
	if n := len(s.CaptureErrors) - len(titles); n > 0 {
		errs += fmt.Sprintf("; %d more", n)
	}
	return append(out, total+",", fmt.Sprintf("and %s: %s.", plural(len(s.CaptureErrors), "capture-level error", "capture-level errors"), errs))
}

// String says why nothing was analysed and what the capture has.
func (n *Nothing) String() string {
	var b strings.Builder
	if n.Flag != "" {
		fmt.Fprintf(&b, "Nothing matched %s %s: the capture has %s", n.Flag, n.Value, plural(n.Connections, "TCP connection", "TCP connections"))
		if len(n.Clients) > 0 {
			b.WriteString("; clients seen: ")
			for i, c := range n.Clients {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(c.Address)
				var about []string
				if c.Espressif {
					about = append(about, "Espressif "+c.MAC)
				} else if c.MAC != "" {
					about = append(about, c.MAC)
				}
				about = append(about, plural(c.Connections, "connection", "connections"))
				fmt.Fprintf(&b, " (%s)", strings.Join(about, ", "))
			}
			if n.MoreClients > 0 {
				fmt.Fprintf(&b, " and %d more", n.MoreClients)
			}
		}
		if len(n.Fingerprints) > 0 {
			fmt.Fprintf(&b, "; %s values seen: %s", strings.TrimSuffix(strings.SplitN(n.Value, "=", 2)[0], "="), strings.Join(n.Fingerprints, ", "))
		}
		b.WriteString(".")
		return b.String()
	}
	b.WriteString("No TLS connection analysed: the capture holds no TCP connection (tlspcap analyses TLS over TCP)")
	if len(n.Frames) > 0 {
		b.WriteString("; its frames: " + strings.Join(n.Frames, "; "))
	}
	b.WriteString(".")
	return b.String()
}

// maxSeenClients bounds the clients remembered for the no-match line; a
// capture past it counts the rest.
const (
	maxSeenClients   = 4096
	listedSeenClient = 10
)

// seenClients counts the connections of each TCP client.
type seenClients struct {
	conns   int
	byAddr  map[netip.Addr]*SeenClient
	overMax int // connections of clients past maxSeenClients
}

func (s *seenClients) add(addr netip.Addr, mac net.HardwareAddr, espressif bool) {
	s.conns++
	if s.byAddr == nil {
		s.byAddr = map[netip.Addr]*SeenClient{}
	}
	c := s.byAddr[addr]
	if c == nil {
		if len(s.byAddr) >= maxSeenClients {
			s.overMax++
			return
		}
		c = &SeenClient{Address: addr.String()}
		s.byAddr[addr] = c
	}
	if c.MAC == "" && len(mac) > 0 && !allZero(mac) { // loopback's Ethernet header has zeros
		c.MAC = mac.String()
	}
	c.Espressif = c.Espressif || espressif
	c.Connections++
}

// nothing is the no-match account of flag value over the clients seen.
func (s *seenClients) nothing(flag, value string) *Nothing {
	n := &Nothing{Flag: flag, Value: value, Connections: s.conns}
	all := make([]SeenClient, 0, len(s.byAddr))
	for _, c := range s.byAddr {
		all = append(all, *c)
	}
	slices.SortFunc(all, func(a, b SeenClient) int {
		if a.Espressif != b.Espressif {
			if a.Espressif {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(b.Connections, a.Connections), cmp.Compare(a.Address, b.Address))
	})
	n.Clients = all[:min(len(all), listedSeenClient)]
	n.MoreClients = len(all) - len(n.Clients)
	if s.overMax > 0 {
		n.MoreClients++ // at least one more, uncounted past the bound
	}
	return n
}

// noteUnselected remembers the client of a connection --device left out.
func (a *Analyzer) noteUnselected(c *conn) {
	addr, mac := c.info.Client.Addr(), c.info.ClientMAC
	if c.swap {
		addr, mac = c.info.Server.Addr(), c.info.ServerMAC
	}
	a.unselected.add(addr, mac, len(mac) > 0 && device.IsEspressifMAC(mac))
}

// noTCP describes the frames of a capture that holds no TCP connection.
func (a *Analyzer) noTCP(st capture.Stats) *Nothing {
	n := &Nothing{DNSMessages: a.dnsMessages}
	if st.Frames == 0 {
		n.Frames = []string{"none (the file holds only its header)"}
		return n
	}
	for _, l := range st.LinkTypes {
		if l.Frames == 0 {
			break
		}
		s := fmt.Sprintf("%d of link type %d", l.Frames, l.LinkType)
		if name := linkTypeNames[l.LinkType]; name != "" {
			s += " (" + name + ")"
		}
		if !l.Supported {
			s += ", which tlspcap does not decode"
		}
		n.Frames = append(n.Frames, s)
	}
	if st.OtherLinkTypes > 0 {
		n.Frames = append(n.Frames, fmt.Sprintf("%d of other link types", st.OtherLinkTypes))
	}
	if st.UDPPackets > 0 {
		var of []string
		if a.dnsMessages > 0 {
			of = append(of, fmt.Sprintf("%d DNS", a.dnsMessages))
		}
		if a.datagrams.dtls > 0 {
			of = append(of, fmt.Sprintf("%d DTLS, first in frame %d, which tlspcap does not analyse", a.datagrams.dtls, a.datagrams.firstDTLS))
		}
		if n := a.datagrams.n - a.datagrams.dtls; n > 0 && len(of) > 0 {
			of = append(of, fmt.Sprintf("%d other", n))
		}
		s := fmt.Sprintf("%d UDP", st.UDPPackets)
		if len(of) > 0 {
			s += " (" + strings.Join(of, "; ") + ")"
		}
		n.Frames = append(n.Frames, s)
	}
	if st.ICMPPackets > 0 {
		n.Frames = append(n.Frames, fmt.Sprintf("%d ICMP", st.ICMPPackets))
	}
	if st.NonIPPackets > 0 {
		n.Frames = append(n.Frames, fmt.Sprintf("%d without IP (ARP, LLDP, 802.11 management and the like)", st.NonIPPackets))
	}
	undecodable := st.Undecodable
	for _, l := range st.LinkTypes {
		if !l.Supported {
			undecodable -= l.Frames // said above
		}
	}
	if undecodable > 0 {
		n.Frames = append(n.Frames, fmt.Sprintf("%d undecodable (see the capture problems)", undecodable))
	}
	return n
}

// linkTypeNames names the link types a user meets (LINKTYPE_* values).
var linkTypeNames = map[uint32]string{
	0: "BSD loopback", 1: "Ethernet", 101: "raw IP", 108: "OpenBSD loopback", 113: "Linux cooked",
	228: "raw IPv4", 229: "raw IPv6", 276: "Linux cooked v2",
	105: "802.11", 119: "802.11 with Prism header", 127: "802.11 with radiotap header", 163: "802.11 with AVS header",
	195: "IEEE 802.15.4", 187: "Bluetooth HCI", 201: "Bluetooth HCI with direction", 220: "Linux USB",
}

// datagrams counts the UDP payloads that are not DNS.
type datagrams struct {
	n, dtls   int
	firstDTLS int
}

// Datagram implements capture.DatagramHandler.
func (a *Analyzer) Datagram(f capture.Frame, _, _ netip.AddrPort, payload []byte) {
	a.datagrams.n++
	if looksLikeDTLS(payload) {
		if a.datagrams.dtls++; a.datagrams.dtls == 1 {
			a.datagrams.firstDTLS = f.Number
		}
	}
}

// looksLikeDTLS: a DTLS plaintext record header (RFC 6347 §4.1, which
// DTLS 1.3 keeps for its hellos and alerts): a content type of 20-25,
// version 0xfeff (DTLS 1.0) or 0xfefd (1.2), 13 bytes.
func looksLikeDTLS(b []byte) bool {
	return len(b) >= 13 && b[0] >= 20 && b[0] <= 25 && b[1] == 0xfe && (b[2] == 0xff || b[2] == 0xfd)
}

// macOfLabel is the MAC address a client label names ("Espressif device
// 24:0a:c4:12:34:56, ..."), or nil.
func macOfLabel(label string) net.HardwareAddr {
	rest, ok := strings.CutPrefix(label, espressifLabelPrefix)
	if !ok {
		return nil
	}
	if i := strings.IndexAny(rest, ", "); i >= 0 {
		rest = rest[:i]
	}
	mac, _ := net.ParseMAC(rest)
	return mac
}

// commonest lists up to n keys of counts, the commonest first.
func commonest(counts map[string]int, n int) []string {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(cmp.Compare(counts[b], counts[a]), cmp.Compare(a, b)) })
	return keys[:min(len(keys), n)]
}

func allZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}
