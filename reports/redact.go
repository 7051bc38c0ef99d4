package reports

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"net/url"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"

	"tlspcap/diagnose"
)

// Redact returns a copy of r fit to paste into a public bug ticket: IP
// addresses, host names (SNI, DNS names, certificate SANs and common
// names, AIA/CRL hosts) and the values of certificate subjects and issuers
// are replaced by pseudonyms, consistently (the same original always gets
// the same pseudonym) and deterministically (numbered by first appearance
// in the report): 192.0.2.1, 2001:db8::1, host-1.example, name-1.
// Certificate SHA-256 fingerprints are replaced too (cert-1, ...): the hash
// of a public certificate names its server as surely as the host name.
// Ports, frame numbers, times, sizes, versions, cipher suites, fingerprints
// of the client software (JA3/JA4), error codes and finding ids stay: the
// diagnosis reads the same. r is not changed.
func Redact(r *diagnose.Report) *diagnose.Report {
	rd := newRedactor()
	src := reflect.ValueOf(r).Elem()
	rd.collect(src, "")
	if r.Connections == nil { // past diagnose.SpillAfter: read them one by one
		for c := range r.All() {
			rd.collect(reflect.ValueOf(c), "")
		}
	}
	rd.index()
	out := &diagnose.Report{}
	if r.Connections != nil {
		rd.copy(reflect.ValueOf(out).Elem(), src, "")
		return out
	}
	// Pseudonyms are numbered as they are first used: copy the connections
	// once in report order before the findings, as for a report in memory,
	// then again as each is read for rendering (same names by then).
	copyConn := func(c *diagnose.Connection) *diagnose.Connection {
		var rc *diagnose.Connection
		rd.copy(reflect.ValueOf(&rc).Elem(), reflect.ValueOf(c), "")
		return rc
	}
	findings := r.Findings
	top := *r
	top.Findings = nil
	rd.copy(reflect.ValueOf(out).Elem(), reflect.ValueOf(&top).Elem(), "")
	for c := range r.All() {
		copyConn(c)
	}
	var fs []diagnose.Finding
	rd.copy(reflect.ValueOf(&fs).Elem(), reflect.ValueOf(findings), "Findings")
	out.Findings = fs
	return r.Derived(out, copyConn)
}

// keptFields hold no names: protocol words, ids, fingerprints of software.
var keptFields = map[string]bool{
	"ID": true, "Severity": true, "Outcome": true, "Stage": true, "Kind": true, "From": true, "Device": true,
	"Profile": true, "Version": true, "CipherSuite": true, "ALPN": true, "JA3": true, "JA4": true, "JA3S": true,
	"JA4S": true, "Code": true, "Name": true, "Versions": true, "Tool": true, "KeyType": true,
	"SignatureAlgorithm": true, "Type": true, "InnerType": true, "By": true, "How": true,
}

type redactor struct {
	hosts   map[string]string // lower-case host name → pseudonym ("" until first seen)
	values  map[string]string // certificate name value (case kept) → pseudonym
	ips     map[netip.Addr]string
	certs   map[string]string // SHA-256 → pseudonym
	orig    map[netip.Addr]bool
	nHost   int
	nValue  int
	nV4     int
	nV6     int
	nCert   int
	macs    map[string]string // lower-case MAC address → pseudonym
	byFirst map[byte][]string // first byte → names (lower-cased hosts, values), longest first
}

func newRedactor() *redactor {
	return &redactor{hosts: map[string]string{}, values: map[string]string{}, ips: map[netip.Addr]string{},
		certs: map[string]string{}, macs: map[string]string{}, orig: map[netip.Addr]bool{}, byFirst: map[byte][]string{}}
}

var dnsFilterName = regexp.MustCompile(`dns\.qry\.name == "([^"]+)"`)

// collect finds the names to hide: from the fields that hold them, and
// every IP address in any string (so pseudonyms never reuse an original).
func (rd *redactor) collect(v reflect.Value, field string) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			rd.collect(v.Elem(), field)
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			return
		}
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				rd.collect(v.Field(i), v.Type().Field(i).Name)
			}
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			rd.collect(v.Index(i), field)
		}
	case reflect.String:
		s := v.String()
		for _, a := range findIPs(s) {
			rd.orig[a.addr] = true
		}
		switch field {
		case "SNI":
			rd.addName(s)
		case "SANs":
			// "DNS:a.example", "IP:10.0.0.1", "email:x@a.example", "URI:..."
			if k, v, ok := strings.Cut(s, ":"); ok && (k == "DNS" || k == "IP" || k == "email" || k == "URI") {
				s = v
				if k == "email" {
					if _, host, ok := strings.Cut(v, "@"); ok {
						rd.addName(host)
					}
				}
				if k == "URI" {
					if u, err := url.Parse(v); err == nil && u.Hostname() != "" {
						rd.addName(u.Hostname())
					}
				}
			}
			rd.addName(s)
		case "Subject", "Issuer":
			for _, av := range splitDN(s) {
				if av.key == "C" {
					continue // a country names nobody
				}
				rd.addName(av.value)
				if av.escaped != av.value {
					rd.addValueAlias(av.escaped, av.value)
				}
			}
		case "AIA", "CRL":
			if u, err := url.Parse(s); err == nil && u.Hostname() != "" {
				rd.addName(u.Hostname())
			}
		case "WiresharkFilter":
			for _, m := range dnsFilterName.FindAllStringSubmatch(s, -1) {
				rd.addName(m[1])
			}
		case "SHA256":
			if s != "" {
				rd.certs[strings.ToLower(s)] = ""
			}
		}
	}
}

// addName registers a host name (or, when it is not one, a name value).
func (rd *redactor) addName(s string) {
	s = strings.TrimSuffix(strings.TrimSpace(s), ".")
	if len(s) < 2 {
		return
	}
	if a, err := netip.ParseAddr(s); err == nil {
		rd.orig[a] = true
		return
	}
	if isHostName(s) {
		s = strings.ToLower(strings.TrimPrefix(s, "*."))
		if len(s) < 2 {
			return
		}
		if _, ok := rd.hosts[s]; !ok {
			rd.hosts[s] = ""
		}
		return
	}
	if _, ok := rd.values[s]; !ok {
		rd.values[s] = ""
	}
}

// addValueAlias registers the escaped spelling of a value (as a DN string
// shows it) to get the same pseudonym as the value.
func (rd *redactor) addValueAlias(alias, value string) {
	if _, ok := rd.values[alias]; !ok {
		rd.values[alias] = "=" + value // resolved on first use
	}
}

func isHostName(s string) bool {
	if !strings.Contains(s, ".") {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' || c == '*') {
			return false
		}
	}
	return true
}

// index orders the names for scanning: longest first, so a host name wins
// over a shorter name inside it.
func (rd *redactor) index() {
	var all []string
	for h := range rd.hosts {
		all = append(all, h)
	}
	for v := range rd.values {
		all = append(all, v)
	}
	for c := range rd.certs {
		all = append(all, c)
	}
	sort.Slice(all, func(i, j int) bool {
		if len(all[i]) != len(all[j]) {
			return len(all[i]) > len(all[j])
		}
		return all[i] < all[j]
	})
	for _, n := range all {
		if n == "" {
			continue
		}
		b := lowerASCII(n[:1])[0]
		rd.byFirst[b] = append(rd.byFirst[b], n)
	}
}

// copy deep-copies src into dst, redacting every string on the way.
func (rd *redactor) copy(dst, src reflect.Value, field string) {
	switch src.Kind() {
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		n := reflect.New(src.Type().Elem())
		rd.copy(n.Elem(), src.Elem(), field)
		dst.Set(n)
	case reflect.Struct:
		if src.Type() == reflect.TypeOf(time.Time{}) {
			dst.Set(src)
			return
		}
		for i := 0; i < src.NumField(); i++ {
			if src.Type().Field(i).IsExported() {
				rd.copy(dst.Field(i), src.Field(i), src.Type().Field(i).Name)
			}
		}
	case reflect.Slice:
		if src.IsNil() || src.Type().Elem().Kind() == reflect.Uint8 && field == "DER" {
			return // the certificates' bytes are not redacted: drop them
		}
		n := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
		for i := 0; i < src.Len(); i++ {
			rd.copy(n.Index(i), src.Index(i), field)
		}
		dst.Set(n)
	case reflect.String:
		s := src.String()
		switch {
		case keptFields[field]:
		case field == "SHA256":
			s = rd.cert(s)
		case field == "AIA" || field == "CRL":
			s = rd.url(s)
		default:
			s = rd.text(s)
		}
		dst.SetString(s)
	default:
		dst.Set(src)
	}
}

func (rd *redactor) cert(s string) string {
	if s == "" {
		return s
	}
	k := strings.ToLower(s)
	if p := rd.certs[k]; p != "" {
		return p
	}
	rd.nCert++
	p := fmt.Sprintf("cert-%d", rd.nCert)
	rd.certs[k] = p
	return p
}

func (rd *redactor) url(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Hostname() == "" {
		return rd.text(s)
	}
	return u.Scheme + "://" + rd.text(u.Hostname()) + "/…"
}

// pseudonym returns (assigning on first use) the pseudonym of a name found
// in the index.
func (rd *redactor) pseudonym(n string) string {
	if p, ok := rd.hosts[n]; ok {
		if p == "" {
			rd.nHost++
			p = fmt.Sprintf("host-%d.example", rd.nHost)
			rd.hosts[n] = p
		}
		return p
	}
	if _, ok := rd.certs[n]; ok {
		return rd.cert(n)
	}
	p := rd.values[n]
	if strings.HasPrefix(p, "=") {
		p = rd.pseudonym(p[1:])
		rd.values[n] = p
		return p
	}
	if p == "" {
		rd.nValue++
		p = fmt.Sprintf("name-%d", rd.nValue)
		rd.values[n] = p
	}
	return p
}

func wordByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_' || b == '-'
}

// text replaces the names, then the IP addresses, in free text.
func (rd *redactor) text(s string) string {
	if s == "" {
		return s
	}
	low := lowerASCII(s)
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		// A name starts and ends at a word boundary: a.example is not
		// inside data.example, but it is inside www.a.example.
		inWord := i > 0 && wordByte(s[i-1])
		for _, n := range rd.byFirst[low[i]] {
			if inWord && wordByte(n[0]) {
				continue
			}
			_, isHost := rd.hosts[n]
			_, isCert := rd.certs[n]
			var hit bool
			if isHost || isCert {
				hit = strings.HasPrefix(low[i:], n)
			} else {
				hit = strings.HasPrefix(s[i:], n)
			}
			if !hit || i+len(n) < len(s) && wordByte(s[i+len(n)]) && wordByte(n[len(n)-1]) {
				continue
			}
			b.WriteString(s[last:i])
			b.WriteString(rd.pseudonym(n))
			last = i + len(n)
			i = last - 1
			break
		}
	}
	b.WriteString(s[last:])
	return rd.replaceMACs(rd.replaceIPs(b.String()))
}

var macAddr = regexp.MustCompile(`\b[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}\b`)

// replaceMACs keeps a MAC address's vendor prefix (OUI: it is what says
// "Espressif device") and numbers the device part: 24:0a:c4:00:00:01.
func (rd *redactor) replaceMACs(s string) string {
	return macAddr.ReplaceAllStringFunc(s, func(m string) string {
		m = strings.ToLower(m)
		if p, ok := rd.macs[m]; ok {
			return p
		}
		n := len(rd.macs) + 1
		p := fmt.Sprintf("%s:%02x:%02x:%02x", m[:8], n>>16&0xff, n>>8&0xff, n&0xff)
		rd.macs[m] = p
		return p
	})
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

var ipCandidate = regexp.MustCompile(`[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3})?`)

type ipAt struct {
	start, end int
	addr       netip.Addr
}

// findIPs returns the IP addresses written in s: whole tokens only, so a
// version number or a time of day is not taken for one.
func findIPs(s string) []ipAt {
	var out []ipAt
	for _, m := range ipCandidate.FindAllStringIndex(s, -1) {
		tok := s[m[0]:m[1]]
		if m[0] > 0 && (wordByte(s[m[0]-1]) || s[m[0]-1] == '.') && s[m[0]-1] != '-' {
			continue
		}
		if m[1] < len(s) && (wordByte(s[m[1]]) && s[m[1]] != '-' || s[m[1]] == '.' && m[1]+1 < len(s) && s[m[1]+1] >= '0' && s[m[1]+1] <= '9') {
			continue
		}
		a, err := netip.ParseAddr(tok)
		if err != nil {
			continue
		}
		out = append(out, ipAt{m[0], m[1], a})
	}
	return out
}

func (rd *redactor) replaceIPs(s string) string {
	found := findIPs(s)
	if len(found) == 0 {
		return s
	}
	var b strings.Builder
	last := 0
	for _, f := range found {
		b.WriteString(s[last:f.start])
		b.WriteString(rd.ip(f.addr))
		last = f.end
	}
	b.WriteString(s[last:])
	return b.String()
}

// ip gives addresses pseudonyms from the documentation ranges (RFC 5737,
// RFC 3849), skipping any that occur in the report itself.
func (rd *redactor) ip(a netip.Addr) string {
	if p, ok := rd.ips[a]; ok {
		return p
	}
	var p netip.Addr
	for {
		if a.Is4() {
			rd.nV4++
			p = v4Pseudonym(rd.nV4)
		} else {
			rd.nV6++
			a16 := [16]byte{0x20, 0x01, 0x0d, 0xb8}
			binary.BigEndian.PutUint32(a16[12:], uint32(rd.nV6))
			p = netip.AddrFrom16(a16)
		}
		if !rd.orig[p] {
			break
		}
	}
	rd.ips[a] = p.String()
	return p.String()
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

// dnAttr is one attribute of a distinguished name as Go prints it
// (pkix.Name.String: "CN=a,O=b\, Inc.,C=US").
type dnAttr struct{ key, value, escaped string }

func splitDN(s string) []dnAttr {
	var out []dnAttr
	var parts []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case ',', '+':
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	parts = append(parts, s[start:])
	for _, p := range parts {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		var raw strings.Builder
		for i := 0; i < len(v); i++ {
			if v[i] == '\\' && i+1 < len(v) {
				i++
			}
			raw.WriteByte(v[i])
		}
		out = append(out, dnAttr{key: strings.TrimSpace(k), value: raw.String(), escaped: v})
	}
	return out
}
