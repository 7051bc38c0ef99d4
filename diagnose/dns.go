package diagnose

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"time"

	"tlspcap/capture"
	"tlspcap/diagnose/catalog"
	"tlspcap/diagnose/values"
)

// maxDNSQueries bounds the DNS state kept per capture: the queries followed
// (asked and not yet answered, or answered with a failure: a query answered
// well is forgotten) and the names seen resolved. Past it, queries are counted, not followed,
// and a tlspcap-limit finding says so. 100000 queries is hours of a busy
// network's DNS; a device under test asks a handful of names.
const maxDNSQueries = 100000

// dnsQuery is one question asked and what came back.
type dnsQuery struct {
	name   string
	qtype  uint16
	client netip.AddrPort
	server netip.AddrPort
	id     uint16
	frame  capture.Frame
	// The answer, when one came: its frame and response code (the
	// message itself is not kept).
	answered    bool
	rcode       uint8
	answerFrame int
	ok          bool // answered without failure: forgotten
}

type dnsState struct {
	v values.Formatter // writes names and addresses in the findings
	// queries in the order asked; those answered well are forgotten
	// (ok set, then dropped by compact), as no finding needs them.
	queries  []*dnsQuery
	kept     int // queries not forgotten
	pending  map[dnsKey]*dnsQuery
	resolved map[string]bool    // names that got a NOERROR answer with records at least once
	servers  map[netip.Addr]int // resolver → frame of the first query to it
	// device is the device's address (--device): other hosts' lookups
	// are not the device's failures.
	device netip.Addr
	// Past maxDNSQueries: queries not followed and successful answers not
	// noted in resolved, each with the frame of the first.
	dropped, droppedAnswers     int
	droppedAt, answersDroppedAt capture.Frame
}

type dnsKey struct {
	client netip.AddrPort
	id     uint16
	name   string
}

func (s *dnsState) init() {
	s.pending = map[dnsKey]*dnsQuery{}
	s.resolved = map[string]bool{}
	s.servers = map[netip.Addr]int{}
	s.v = values.Plain
}

func (s *dnsState) add(m *capture.DNSMessage) {
	if len(m.Questions) == 0 {
		return
	}
	q0 := m.Questions[0]
	name := strings.ToLower(strings.TrimSuffix(q0.Name, "."))
	if !m.Response {
		if s.kept >= maxDNSQueries {
			if s.dropped++; s.dropped == 1 {
				s.droppedAt = m.Frame
			}
			return
		}
		q := &dnsQuery{name: name, qtype: q0.Type, client: m.Client, server: m.Server, id: m.ID, frame: m.Frame}
		s.queries = append(s.queries, q)
		s.kept++
		s.pending[dnsKey{m.Client, m.ID, name}] = q
		if _, ok := s.servers[m.Server.Addr()]; !ok {
			s.servers[m.Server.Addr()] = m.Frame.Number
		}
		return
	}
	if m.RCode == 0 && len(m.Answers) > 0 && !s.resolved[name] {
		if len(s.resolved) < maxDNSQueries {
			s.resolved[name] = true
		} else if s.droppedAnswers++; s.droppedAnswers == 1 {
			s.answersDroppedAt = m.Frame
		}
	}
	k := dnsKey{m.Client, m.ID, name}
	if q, ok := s.pending[k]; ok {
		q.answered, q.rcode, q.answerFrame = true, m.RCode, m.Frame.Number
		delete(s.pending, k)
		if q.rcode != 2 && q.rcode != 3 {
			q.ok = true
			s.kept--
			s.compact()
		}
	}
}

// compact drops the forgotten queries once they are half of the list:
// memory follows the queries still needed, at constant cost per query.
func (s *dnsState) compact() {
	if len(s.queries) < 1024 || s.kept*2 > len(s.queries) {
		return
	}
	kept := s.queries[:0]
	for _, q := range s.queries {
		if !q.ok {
			kept = append(kept, q)
		}
	}
	clear(s.queries[len(kept):])
	s.queries = kept
}

// dnsSeverity: only a lookup the device makes for a connection, of an
// address (A, AAAA), stops it from connecting: an error unless the name
// resolved in the end (a retry, another resolver, the other address type),
// then a warning. A reverse (PTR), SRV or TXT lookup, or another host's
// lookup when --device names the device, is at most info.
func dnsSeverity(addressQuery, forDevice, resolvedLater bool) Severity {
	switch {
	case !addressQuery || !forDevice:
		return SeverityInfo
	case resolvedLater:
		return SeverityWarning
	}
	return SeverityError
}

// isAddressQuery: an A or AAAA lookup (a name to connect to); ANY
// (255) asks for those too.
func isAddressQuery(qtype uint16) bool { return qtype == 1 || qtype == 28 || qtype == 255 }

// dnsTypeName names a query type as dig does.
func dnsTypeName(qtype uint16) string {
	switch qtype {
	case 1:
		return "A"
	case 28:
		return "AAAA"
	case 12:
		return "PTR"
	case 33:
		return "SRV"
	case 16:
		return "TXT"
	case 5:
		return "CNAME"
	case 15:
		return "MX"
	case 2:
		return "NS"
	case 6:
		return "SOA"
	case 65:
		return "HTTPS"
	case 64:
		return "SVCB"
	case 255:
		return "ANY"
	}
	return fmt.Sprintf("TYPE%d", qtype)
}

// dnsNoResponseAfter: a query unanswered for this long counts as lost.
const dnsNoResponseAfter = 2 * time.Second

func (s *dnsState) findings(end time.Time) []Finding {
	type group struct {
		id      catalog.ID
		name    string
		qtype   uint16
		frames  []int
		servers map[string]bool
		// forDevice: a query of the device (every client's, unless
		// --device named one).
		forDevice bool
	}
	groups := map[string]*group{}
	var order []string
	addTo := func(id catalog.ID, q *dnsQuery, frame int) {
		k := fmt.Sprintf("%s|%s|%d", id, q.name, q.qtype)
		g, ok := groups[k]
		if !ok {
			g = &group{id: id, name: q.name, qtype: q.qtype, servers: map[string]bool{}}
			groups[k] = g
			order = append(order, k)
		}
		g.frames = append(g.frames, frame)
		g.servers[s.v.Addr(q.server.Addr())] = true
		g.forDevice = g.forDevice || !s.device.IsValid() || q.client.Addr() == s.device
	}
	for _, q := range s.queries {
		switch {
		case q.ok:
		case !q.answered:
			if !end.IsZero() && end.Sub(q.frame.Time) < dnsNoResponseAfter {
				continue
			}
			addTo(catalog.DNSNoResponse, q, q.frame.Number)
		case q.rcode == 3:
			addTo(catalog.DNSNXDomain, q, q.answerFrame)
		case q.rcode == 2:
			addTo(catalog.DNSServfail, q, q.answerFrame)
		}
	}
	var out []Finding
	for _, k := range order {
		g := groups[k]
		var srv []string
		for a := range g.servers {
			srv = append(srv, a)
		}
		sort.Strings(srv)
		addr := isAddressQuery(g.qtype)
		name := s.v.Host(g.name)
		f := Finding{ID: g.id, Severity: dnsSeverity(addr, g.forDevice, s.resolved[g.name]), Frames: g.frames, DeviceErrors: []DeviceError{},
			WiresharkFilter: fmt.Sprintf("dns.qry.name == %q", name)}
		n := len(g.frames)
		switch g.id {
		case catalog.DNSNXDomain:
			f.Title = fmt.Sprintf("DNS: %s does not exist (NXDOMAIN)", name)
			f.Explanation = fmt.Sprintf("The resolver %s answered NXDOMAIN for %q (%s, first in frame %d): the name does not exist, so the device never connects. "+
				"ESP-TLS logs \"couldn't get hostname for :%s: getaddrinfo() returns 202\" (EAI_FAIL).", joinNames(srv), name, plural(n, "answer", "answers"), g.frames[0], name)
			f.Fix = "Check the host name in the URI for typos and that the DNS record exists (dig " + name + ")."
			if !addr {
				f.Title = fmt.Sprintf("DNS: no %s record for %s (NXDOMAIN)", dnsTypeName(g.qtype), name)
				f.Explanation = fmt.Sprintf("The resolver %s answered NXDOMAIN for the %s lookup of %q (%s, first in frame %d). "+
					"No connection waits on it: a device resolves the host it connects to with an A or AAAA lookup.", joinNames(srv), dnsTypeName(g.qtype), name, plural(n, "answer", "answers"), g.frames[0])
				f.Fix = "Nothing to fix for the TLS connections."
			}
		case catalog.DNSServfail:
			f.Title = fmt.Sprintf("DNS: the resolver failed for %s (SERVFAIL)", name)
			f.Explanation = fmt.Sprintf("The resolver %s answered SERVFAIL for %q (%s, first in frame %d): it could not resolve the name (upstream unreachable, DNSSEC failure).",
				joinNames(srv), name, plural(n, "answer", "answers"), g.frames[0])
			f.Fix = "Check the resolver the device got by DHCP (or set one with esp_netif_set_dns_info), and its upstream connectivity."
		case catalog.DNSNoResponse:
			f.Title = fmt.Sprintf("DNS: no answer for %s", name)
			f.Explanation = fmt.Sprintf("%s for %q to %s got no response (first in frame %d): the resolver is unreachable or drops the queries. "+
				"lwIP retries and then getaddrinfo() fails, so the device never connects.", capitalize(plural(n, "query", "queries")), name, joinNames(srv), g.frames[0])
			f.Fix = "Check the DNS server address the device uses (DHCP option 6, esp_netif_get_dns_info) and that UDP port 53 to it is open."
		}
		if !addr && g.id != catalog.DNSNXDomain {
			f.Title += fmt.Sprintf(" (%s lookup)", dnsTypeName(g.qtype))
			f.Explanation += fmt.Sprintf(" It was a %s lookup: no connection waits on it.", dnsTypeName(g.qtype))
		}
		out = append(out, f)
	}
	if len(s.servers) > 1 {
		var srv []string
		var first []int // the first query to each resolver, in capture order
		for a, f := range s.servers {
			srv = append(srv, a.String())
			first = append(first, f)
		}
		sort.Strings(srv)
		for i, a := range srv { // named in this order
			srv[i] = s.v.Addr(netip.MustParseAddr(a))
		}
		sort.Ints(first)
		out = append(out, Finding{
			ID: catalog.DNSMultipleServers, Severity: SeverityInfo, Frames: first, DeviceErrors: []DeviceError{},
			Title:           fmt.Sprintf("DNS queries went to %d different resolvers", len(srv)),
			Explanation:     "Queries in this capture went to " + joinNames(srv) + ". If they answer differently, the device may connect to a different server than a PC does.",
			Fix:             "Check which resolver the device uses (DHCP) and compare answers.",
			WiresharkFilter: "dns",
		})
	}
	if f, ok := s.boundFinding(); ok {
		out = append(out, f)
	}
	return out
}

// boundFinding says that maxDNSQueries was hit, and what the DNS findings
// above may lack because of it.
func (s *dnsState) boundFinding() (Finding, bool) {
	if s.dropped == 0 && s.droppedAnswers == 0 {
		return Finding{}, false
	}
	var title string
	var why []string
	at := s.droppedAt
	if s.dropped > 0 {
		title = fmt.Sprintf("DNS: %s after tlspcap's limit of %d were not followed", plural(s.dropped, "query", "queries"), maxDNSQueries)
		why = append(why, fmt.Sprintf("tlspcap follows up to %d DNS queries per capture. From frame %d on, %s were counted but not matched with their answers: "+
			"an NXDOMAIN, SERVFAIL or unanswered query among them is not reported, so a DNS failure after frame %d may be missing from this report.",
			maxDNSQueries, s.droppedAt.Number, plural(s.dropped, "query", "queries"), s.droppedAt.Number))
	} else {
		title = fmt.Sprintf("DNS: names resolved beyond tlspcap's limit of %d were not noted", maxDNSQueries)
	}
	if s.droppedAnswers > 0 {
		if at.Number == 0 || s.answersDroppedAt.Number < at.Number {
			at = s.answersDroppedAt
		}
		why = append(why, fmt.Sprintf("tlspcap notes up to %d names that resolved. From frame %d on, %s for further names were not noted: "+
			"a query for such a name that failed is reported as an error, although the name resolved in the end (a warning otherwise).",
			maxDNSQueries, s.answersDroppedAt.Number, plural(s.droppedAnswers, "successful answer", "successful answers")))
	}
	return Finding{ID: catalog.TlspcapLimit, Severity: SeverityWarning, Frames: frames(at.Number), DeviceErrors: []DeviceError{},
		Title: title, Explanation: strings.Join(why, " "),
		Fix:             "Analyse the device's DNS alone: cut the capture around the failure (editcap -A/-B), or capture only the device (tcpdump host DEVICE_IP).",
		WiresharkFilter: fmt.Sprintf("dns && frame.number >= %d", at.Number)}, true
}

// captureFindings reports capture-level quality problems.
func (a *Analyzer) captureFindings() []Finding {
	var out []Finding
	var cut []int
	for _, l := range a.problems {
		if p, ok := l.(captureProblem); ok && p.Kind == capture.ProblemSnaplenCut && p.Frame > 0 && len(cut) < 20 {
			cut = append(cut, p.Frame)
		}
	}
	if n := a.probeCount[capture.ProblemSnaplenCut]; n > 0 {
		f := Finding{
			ID: catalog.CaptureTruncatedPackets, Severity: SeverityWarning, Frames: cut, DeviceErrors: []DeviceError{},
			Title: fmt.Sprintf("%s cut short by the capture's snap length", capitalize(plural(n, "packet was", "packets were"))),
			Explanation: "These packets are shorter in the file than on the wire: the capture was taken with a small snap length (tcpdump -s), " +
				"so TLS records in them are incomplete in the capture although the endpoints received them whole. Findings about those records are about the capture, not the connection.",
			Fix:             "Capture with the full snap length: tcpdump -s 0 (the default in current tcpdump), dumpcap without -s.",
			WiresharkFilter: "frame.cap_len < frame.len",
		}
		out = append(out, f)
	}
	if n := a.probeCount[capture.ProblemTruncatedFile]; n > 0 {
		out = append(out, Finding{
			ID: catalog.CaptureFileTruncated, Severity: SeverityWarning, Frames: []int{}, DeviceErrors: []DeviceError{},
			Title:       "The capture file ends in the middle of a packet",
			Explanation: "The file was cut off (copied while still being written, or the capture process was killed). Everything before the cut was analysed.",
			Fix:         "Stop the capture cleanly (Ctrl-C on tcpdump) before copying the file.",
		})
	}
	return out
}
