package chain

import (
	"crypto/x509"
	"encoding/asn1"
	"net/netip"
	"strings"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
	"tlspcap/diagnose/values"
)

// attribute is one AttributeTypeAndValue of a distinguished name, as mbedTLS
// keeps it: the type OID, the string's ASN.1 tag and its bytes, and whether
// it shares its RDN set with the next attribute.
type attribute struct {
	oid    string
	tag    uint8
	value  []byte
	merged bool
}

// parseDN splits a DER Name into attributes. ok is false when it does not parse.
func parseDN(raw []byte) (attrs []attribute, ok bool) {
	in := cryptobyte.String(raw)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return nil, false
	}
	for !seq.Empty() {
		var set cryptobyte.String
		if !seq.ReadASN1(&set, cbasn1.SET) {
			return nil, false
		}
		first := len(attrs)
		for !set.Empty() {
			var atv cryptobyte.String
			var oid asn1.ObjectIdentifier
			var tag cbasn1.Tag
			var val cryptobyte.String
			if !set.ReadASN1(&atv, cbasn1.SEQUENCE) || !atv.ReadASN1ObjectIdentifier(&oid) ||
				!atv.ReadAnyASN1(&val, &tag) {
				return nil, false
			}
			attrs = append(attrs, attribute{oid: oid.String(), tag: uint8(tag), value: val})
		}
		for i := first; i < len(attrs)-1; i++ {
			attrs[i].merged = true
		}
	}
	return attrs, true
}

// nameEqual models mbedTLS x509_name_cmp: same attributes in the same order;
// strings equal byte for byte with the same tag, or, when both are
// UTF8String/PrintableString, equal ignoring ASCII case.
func nameEqual(a, b []byte) bool {
	if string(a) == string(b) {
		return true
	}
	x, ok1 := parseDN(a)
	y, ok2 := parseDN(b)
	if !ok1 || !ok2 || len(x) != len(y) {
		return false
	}
	for i := range x {
		if x[i].oid != y[i].oid || x[i].merged != y[i].merged || !stringEqual(x[i], y[i]) {
			return false
		}
	}
	return true
}

func stringEqual(a, b attribute) bool {
	if a.tag == b.tag && string(a.value) == string(b.value) {
		return true
	}
	const utf8String, printableString = 12, 19
	textual := func(t uint8) bool { return t == utf8String || t == printableString }
	return textual(a.tag) && textual(b.tag) && memCaseEqual(a.value, b.value)
}

// memCaseEqual models x509_memcasecmp: equal length, bytes equal or differing
// only in the case of an ASCII letter.
func memCaseEqual(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if x^y == 32 && ((x|32) >= 'a' && (x|32) <= 'z') {
			continue
		}
		return false
	}
	return true
}

var (
	oidSAN = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidKU  = asn1.ObjectIdentifier{2, 5, 29, 15}
	oidEKU = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidCN  = asn1.ObjectIdentifier{2, 5, 4, 3}
)

func hasExtension(c *x509.Certificate, oid asn1.ObjectIdentifier) bool {
	for _, e := range c.Extensions {
		if e.Id.Equal(oid) {
			return true
		}
	}
	return false
}

// commonNames returns every CN attribute of the subject (mbedTLS checks all).
func commonNames(c *x509.Certificate) []string {
	var out []string
	for _, n := range c.Subject.Names {
		if n.Type.Equal(oidCN) {
			if s, ok := n.Value.(string); ok {
				out = append(out, s)
			}
		}
	}
	return out
}

// checkCN models x509_crt_check_cn: exact match ignoring ASCII case, or a
// "*." wildcard that stands for exactly the first label.
func checkCN(pattern, name string) bool {
	if memCaseEqual([]byte(pattern), []byte(name)) {
		return true
	}
	if len(pattern) < 3 || pattern[0] != '*' || pattern[1] != '.' {
		return false
	}
	dot := strings.IndexByte(name, '.')
	if dot <= 0 {
		return false
	}
	return memCaseEqual([]byte(pattern[1:]), []byte(name[dot:]))
}

// nameMatch models x509_crt_verify_name for the given mbedTLS version: when
// the certificate has a subjectAltName extension only its entries count
// (dNSName always, iPAddress from mbedTLS 3.5 on); otherwise every subject CN.
// how says which entry matched ("" when none did).
func nameMatch(c *x509.Certificate, name string, v Version) (ok bool, how string) {
	if hasExtension(c, oidSAN) {
		for _, d := range c.DNSNames {
			if checkCN(d, name) {
				return true, "DNS:" + d
			}
		}
		if v.atLeast(3, 5) {
			if ip, err := netip.ParseAddr(name); err == nil {
				want := ip.AsSlice()
				for _, a := range c.IPAddresses {
					if string(a) == string(want) {
						return true, "IP:" + ip.String()
					}
				}
			}
		}
		return false, ""
	}
	for _, cn := range commonNames(c) {
		if checkCN(cn, name) {
			return true, "CN=" + cn
		}
	}
	return false, ""
}

// ipSANMatch reports whether an iPAddress SAN equals the name (used to explain
// that an older mbedTLS ignores it).
func ipSANMatch(c *x509.Certificate, name string) bool {
	ip, err := netip.ParseAddr(name)
	if err != nil {
		return false
	}
	for _, a := range c.IPAddresses {
		if b, ok := netip.AddrFromSlice(a); ok && b.Unmap() == ip.Unmap() {
			return true
		}
	}
	return false
}

// sanList renders the names a certificate is valid for, as "DNS:x", "IP:y";
// with no SAN extension, the CNs as "CN=z".
func sanList(vf values.Formatter, c *x509.Certificate) []string {
	var out []string
	for _, d := range c.DNSNames {
		out = append(out, "DNS:"+clean(vf.Host(d)))
	}
	for _, a := range c.IPAddresses {
		if ip, ok := netip.AddrFromSlice(a); ok {
			out = append(out, "IP:"+vf.Addr(ip))
		}
	}
	for _, u := range c.URIs {
		out = append(out, "URI:"+clean(vf.URL(u.String())))
	}
	for _, e := range c.EmailAddresses {
		if local, domain, ok := strings.Cut(e, "@"); ok {
			e = vf.Attr(local) + "@" + vf.Host(domain)
		} else {
			e = vf.Attr(e)
		}
		out = append(out, "email:"+clean(e))
	}
	return out
}

// clean makes a string from the wire safe to print: control characters and
// invalid UTF-8 become \xNN escapes.
func clean(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == 0xFFFD && len(s) > i && s[i] != 0xEF:
			b.WriteString(`\x`)
			b.WriteString(hex2(s[i]))
		case r < 0x20 || r == 0x7F || (r >= 0x80 && r < 0xA0):
			if r < 0x100 {
				b.WriteString(`\x`)
				b.WriteString(hex2(byte(r)))
			}
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func hex2(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&15]})
}
