// Package values formats the identifying values a report names (addresses,
// host names, certificate names and fingerprints, URLs, file names) for the
// findings' text and the report's fields: as they are, or, for a report fit
// to paste into a public ticket (--redact), as pseudonyms. Every such value
// goes through one Formatter before it becomes prose, so redaction never
// has to find a value in finished text, and the tool's own words are never
// touched.
package values

import (
	"crypto/x509/pkix"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
)

// Formatter writes one identifying value.
type Formatter interface {
	Addr(netip.Addr) string
	AddrPort(netip.AddrPort) string
	MAC(net.HardwareAddr) string
	// Host is a DNS name: an SNI, a DNS query, a DNS SAN. An IP literal
	// is formatted as an address.
	Host(string) string
	// Name is a distinguished name, written as pkix.Name.String writes it.
	Name(pkix.Name) string
	// Attr is one value of a distinguished name (a common name).
	Attr(string) string
	// Fingerprint is a certificate's SHA-256 in hex.
	Fingerprint(string) string
	// URL is an AIA or CRL URL.
	URL(string) string
	// File is the name of a file of the user's (the capture).
	File(string) string
	// Wire is bytes from the wire quoted for the text ("HTTP/1.1 400
	// Bad Request\r\n..."): they can carry any name.
	Wire(string) string
}

// Plain writes every value as it is.
var Plain Formatter = plain{}

type plain struct{}

func (plain) Addr(a netip.Addr) string         { return a.String() }
func (plain) AddrPort(a netip.AddrPort) string { return a.String() }
func (plain) MAC(m net.HardwareAddr) string    { return m.String() }
func (plain) Host(s string) string             { return s }
func (plain) Name(n pkix.Name) string          { return n.String() }
func (plain) Attr(s string) string             { return s }
func (plain) Fingerprint(s string) string      { return s }
func (plain) URL(s string) string              { return s }
func (plain) File(s string) string             { return s }
func (plain) Wire(s string) string             { return s }

// Pseudonyms replaces each value by a pseudonym, consistently (the same
// value always gets the same one, however it is asked for) and numbered
// in the order values are first formatted: the analysis formats them on one
// goroutine at a time, in the order the capture ends its connections, so
// the same capture always gives the same pseudonyms. Addresses become
// 192.0.2.x, 198.51.100.x, 203.0.113.x (RFC 5737), then 100.64.0.0/10, and
// 2001:db8:ffff::x (RFC 3849), skipping the addresses the capture itself
// holds (Reserve); host names host-N.example; other name values name-N;
// certificate fingerprints cert-N; MAC addresses keep their vendor prefix
// (it is the evidence for "Espressif device"); a country (C=) stays: it
// names nobody. Safe for concurrent use.
type Pseudonyms struct {
	mu     sync.Mutex
	hosts  map[string]string // lower-case host name → pseudonym
	attrs  map[string]string // name value → pseudonym
	ips    map[netip.Addr]string
	taken  map[netip.Addr]bool // addresses of the capture: never a pseudonym
	certs  map[string]string
	macs   map[string]string
	files  map[string]string
	nV4    int
	nV6    int
	nHost  int
	nAttr  int
	nFiles int
}

// NewPseudonyms returns an empty table.
func NewPseudonyms() *Pseudonyms {
	return &Pseudonyms{hosts: map[string]string{}, attrs: map[string]string{}, ips: map[netip.Addr]string{},
		taken: map[netip.Addr]bool{}, certs: map[string]string{}, macs: map[string]string{}, files: map[string]string{}}
}

// Reserve notes an address of the capture, so that no other address gets
// it as pseudonym. The analysis reserves the addresses of each TCP
// connection as it opens and of each DNS message; the report's own address
// fields are named only once every connection has been read.
func (p *Pseudonyms) Reserve(a netip.Addr) {
	p.mu.Lock()
	p.taken[a.Unmap()] = true
	p.mu.Unlock()
}

// Reserver is a Formatter that wants to know the capture's addresses.
type Reserver interface{ Reserve(netip.Addr) }

func (p *Pseudonyms) Addr(a netip.Addr) string {
	if !a.IsValid() {
		return a.String()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.addr(a)
}

func (p *Pseudonyms) addr(a netip.Addr) string {
	a = a.WithZone("").Unmap()
	if s, ok := p.ips[a]; ok {
		return s
	}
	var q netip.Addr
	for {
		if a.Is4() {
			p.nV4++
			q = v4Pseudonym(p.nV4)
		} else {
			p.nV6++
			// 2001:db8:ffff::/48: tlspcap cannot reserve the addresses
			// of packets it does not read (UDP, ICMP), and captures use
			// the low end of 2001:db8::/32 in examples.
			b := [16]byte{0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff}
			binary.BigEndian.PutUint32(b[12:], uint32(p.nV6))
			q = netip.AddrFrom16(b)
		}
		if !p.taken[q] {
			break
		}
	}
	p.taken[q] = true // nor is it given twice
	p.ips[a] = q.String()
	return p.ips[a]
}

func v4Pseudonym(n int) netip.Addr {
	nets := [][3]byte{{192, 0, 2}, {198, 51, 100}, {203, 0, 113}}
	if i := (n - 1) / 254; i < len(nets) {
		return netip.AddrFrom4([4]byte{nets[i][0], nets[i][1], nets[i][2], byte((n-1)%254 + 1)})
	}
	// Beyond 762 addresses: the shared address space 100.64.0.0/10.
	k := n - 762
	return netip.AddrFrom4([4]byte{100, byte(64 + k>>16&0x3f), byte(k >> 8), byte(k)})
}

func (p *Pseudonyms) AddrPort(a netip.AddrPort) string {
	if !a.IsValid() {
		return a.String()
	}
	return netip.AddrPortFrom(netip.MustParseAddr(p.Addr(a.Addr())), a.Port()).String()
}

// MAC keeps the vendor prefix (OUI) and numbers the device part.
func (p *Pseudonyms) MAC(m net.HardwareAddr) string {
	if len(m) < 4 {
		return m.String()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	k := m.String()
	if s, ok := p.macs[k]; ok {
		return s
	}
	n := len(p.macs) + 1
	q := append(net.HardwareAddr{}, m...)
	for i := len(q) - 1; i >= 3; i-- {
		q[i] = byte(n)
		n >>= 8
	}
	p.macs[k] = q.String()
	return p.macs[k]
}

func (p *Pseudonyms) Host(s string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.host(s)
}

func (p *Pseudonyms) host(s string) string {
	if s == "" {
		return s
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return p.addr(a)
	}
	k := strings.ToLower(strings.TrimSuffix(s, "."))
	wild := strings.HasPrefix(k, "*.")
	k = strings.TrimPrefix(k, "*.")
	q, ok := p.hosts[k]
	if !ok {
		p.nHost++
		q = fmt.Sprintf("host-%d.example", p.nHost)
		p.hosts[k] = q
	}
	if wild {
		return "*." + q
	}
	return q
}

// Attr: a value that is an address or a host name (a CN) gets the
// pseudonym it gets as such, anything else name-N.
func (p *Pseudonyms) Attr(s string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.attr(s)
}

func (p *Pseudonyms) attr(s string) string {
	if s == "" {
		return s
	}
	if _, err := netip.ParseAddr(s); err == nil || isHostName(s) {
		return p.host(s)
	}
	q, ok := p.attrs[s]
	if !ok {
		p.nAttr++
		q = fmt.Sprintf("name-%d", p.nAttr)
		p.attrs[s] = q
	}
	return q
}

func isHostName(s string) bool {
	s = strings.TrimPrefix(s, "*.")
	if !strings.Contains(strings.Trim(s, "."), ".") {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Name replaces every attribute value but the country, keeping the
// attribute types and their order: pkix.Name.String escapes the result as
// it escapes the original.
func (p *Pseudonyms) Name(n pkix.Name) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	all := func(ss []string) []string {
		out := make([]string, len(ss))
		for i, s := range ss {
			out[i] = p.attr(s)
		}
		return out
	}
	// String prints the attributes in the reverse of the order
	// ToRDNSequence gives them, and the other attributes (Names) last:
	// pseudonyms are numbered in the order they are printed.
	var out pkix.Name
	out.SerialNumber = p.attr(n.SerialNumber)
	out.CommonName = p.attr(n.CommonName)
	out.OrganizationalUnit = all(n.OrganizationalUnit)
	out.Organization = all(n.Organization)
	out.PostalCode = all(n.PostalCode)
	out.StreetAddress = all(n.StreetAddress)
	out.Locality = all(n.Locality)
	out.Province = all(n.Province)
	out.Country = n.Country
	for _, atv := range n.Names {
		if !isParsedField(atv.Type) {
			out.Names = append(out.Names, pkix.AttributeTypeAndValue{Type: atv.Type, Value: p.attr(fmt.Sprint(atv.Value))})
		}
	}
	return out.String()
}

// isParsedField: pkix.Name keeps these attributes (CN, serialNumber, C,
// L, ST, street, O, OU, postalCode) in its own fields.
func isParsedField(t []int) bool {
	if len(t) == 4 && t[0] == 2 && t[1] == 5 && t[2] == 4 {
		switch t[3] {
		case 3, 5, 6, 7, 8, 9, 10, 11, 17:
			return true
		}
	}
	return false
}

func (p *Pseudonyms) Fingerprint(s string) string {
	if s == "" {
		return s
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	k := strings.ToLower(s)
	q, ok := p.certs[k]
	if !ok {
		q = fmt.Sprintf("cert-%d", len(p.certs)+1)
		p.certs[k] = q
	}
	return q
}

// URL keeps the scheme, replaces the host and drops the rest: a path names
// the CA's customer as well as a host does.
func (p *Pseudonyms) URL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Hostname() == "" {
		return p.Attr(s)
	}
	return u.Scheme + "://" + p.Host(u.Hostname()) + "/…"
}

// File keeps the extension (.pcapng, .pcap.gz) and "stdin".
func (p *Pseudonyms) File(s string) string {
	if s == "stdin" || s == "" {
		return s
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	q, ok := p.files[s]
	if !ok {
		p.nFiles++
		q = fmt.Sprintf("file-%d%s", p.nFiles, extension(filepath.Base(s)))
		p.files[s] = q
	}
	return q
}

// extension is what follows the first dot of a file name, when it looks
// like a file type (letters and digits, short).
func extension(base string) string {
	i := strings.IndexByte(base, '.')
	if i < 0 {
		return ""
	}
	ext := base[i:]
	if len(ext) > 12 {
		return ""
	}
	for _, c := range ext {
		if !(c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return ""
		}
	}
	return ext
}

// Wire keeps the protocol word the bytes start with (HTTP/1.1, 220, SSH)
// and withholds the rest: a banner names its host, a request its path.
func (p *Pseudonyms) Wire(s string) string {
	body := strings.TrimPrefix(s, `"`)
	n := 0
	for n < len(body) && n < 10 {
		c := body[n]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '/' || c == '.') {
			break
		}
		n++
	}
	return `"` + body[:n] + `…" (withheld: --redact)`
}
