package decode

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Client and server fingerprints computed over the parsed hellos:
//
//   - JA3 / JA3S (Salesforce): decimal fields joined by ',' and '-', GREASE
//     values (RFC 8701) removed, MD5 of the string.
//   - JA4 / JA4S (FoxIO JA4+): a readable prefix and SHA-256 hashes
//     truncated to 12 hex digits, as in the FoxIO technical details.
//
// They are pure functions of the hello: the same bytes always give the same
// fingerprint, whatever the capture.

// JA3 returns the JA3 string of a ClientHello and its MD5 in hex:
// SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats,
// each list in wire order joined by '-', GREASE values removed.
func JA3(ch *ClientHello) (raw, hash string) {
	if ch == nil {
		return "", ""
	}
	var b strings.Builder
	b.WriteString(strconv.Itoa(int(ch.Version)))
	b.WriteByte(',')
	writeDecList(&b, ch.CipherSuites)
	b.WriteByte(',')
	writeDecList(&b, ch.Extensions)
	b.WriteByte(',')
	writeDecList(&b, ch.SupportedGroups)
	b.WriteByte(',')
	for i, f := range ch.ECPointFormats {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(strconv.Itoa(int(f)))
	}
	raw = b.String()
	return raw, md5hex(raw)
}

// JA3S returns the JA3S string of a ServerHello (SSLVersion,Cipher,Extensions)
// and its MD5 in hex.
func JA3S(sh *ServerHello) (raw, hash string) {
	if sh == nil {
		return "", ""
	}
	var b strings.Builder
	b.WriteString(strconv.Itoa(int(sh.Version)))
	b.WriteByte(',')
	b.WriteString(strconv.Itoa(int(sh.CipherSuite)))
	b.WriteByte(',')
	writeDecList(&b, sh.Extensions)
	raw = b.String()
	return raw, md5hex(raw)
}

func writeDecList(b *strings.Builder, vs []uint16) {
	first := true
	for _, v := range vs {
		if IsGREASE(v) {
			continue
		}
		if !first {
			b.WriteByte('-')
		}
		first = false
		b.WriteString(strconv.Itoa(int(v)))
	}
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// JA4 returns the JA4 fingerprint of a ClientHello, e.g.
// t13d1516h2_8daaf6152771_e5627efa2ab1. transport is 't' (TLS over TCP),
// 'q' (QUIC) or 'd' (DTLS).
func JA4(ch *ClientHello, transport byte) string {
	return ja4(ch, transport, true, true)
}

// JA4R is the raw form of JA4 (JA4_r): the sorted lists in hex instead of
// their hashes.
func JA4R(ch *ClientHello, transport byte) string {
	return ja4(ch, transport, true, false)
}

// JA4O is JA4 with ciphers and extensions in wire order, SNI and ALPN
// included (JA4_o).
func JA4O(ch *ClientHello, transport byte) string {
	return ja4(ch, transport, false, true)
}

// JA4RO is the raw form of JA4O (JA4_ro).
func JA4RO(ch *ClientHello, transport byte) string {
	return ja4(ch, transport, false, false)
}

func ja4(ch *ClientHello, transport byte, sorted, hashed bool) string {
	if ch == nil {
		return ""
	}
	ciphers := hexList(ch.CipherSuites, nil)
	var exts []string
	if sorted {
		// SNI and ALPN are counted in the prefix but not hashed: they
		// change with the destination, not with the client software.
		exts = hexList(ch.Extensions, func(v uint16) bool { return v == ExtServerName || v == ExtALPN })
	} else {
		exts = hexList(ch.Extensions, nil)
	}
	nExt := 0
	for _, e := range ch.Extensions {
		if !IsGREASE(e) {
			nExt++
		}
	}
	if sorted {
		slices.Sort(ciphers)
		slices.Sort(exts)
	}
	sni := byte('i')
	if slices.Contains(ch.Extensions, ExtServerName) {
		sni = 'd'
	}
	prefix := fmt.Sprintf("%c%s%c%02d%02d%s", transport, ja4Version(ch.Version, ch.SupportedVersions),
		sni, min(len(ciphers), 99), min(nExt, 99), ja4ALPN(ch.ALPN))

	c := strings.Join(ciphers, ",")
	e := strings.Join(exts, ",")
	if sigs := hexList(ch.SignatureAlgorithms, nil); len(sigs) > 0 {
		e += "_" + strings.Join(sigs, ",")
	}
	if !hashed {
		return prefix + "_" + c + "_" + e
	}
	// The extension hash is zeros when nothing but SNI and ALPN was sent,
	// in the original-order form too (as FoxIO's implementation does).
	noExt := true
	for _, v := range ch.Extensions {
		if !IsGREASE(v) && v != ExtServerName && v != ExtALPN {
			noExt = false
			break
		}
	}
	return prefix + "_" + ja4Hash(c, len(ciphers) == 0) + "_" + ja4Hash(e, noExt)
}

// JA4S returns the JA4S fingerprint of a ServerHello, e.g.
// t120400_c030_4e8089608790: version, extension count, ALPN, the chosen
// cipher suite, and the hash of the extensions in wire order.
func JA4S(sh *ServerHello, transport byte) string {
	return ja4s(sh, transport, true)
}

// JA4SR is the raw form of JA4S (JA4S_r).
func JA4SR(sh *ServerHello, transport byte) string {
	return ja4s(sh, transport, false)
}

func ja4s(sh *ServerHello, transport byte, hashed bool) string {
	if sh == nil {
		return ""
	}
	var versions []uint16
	if sh.SelectedVersion != 0 {
		versions = []uint16{sh.SelectedVersion}
	}
	var alpn []string
	if sh.ALPN != "" {
		alpn = []string{sh.ALPN}
	}
	exts := hexList(sh.Extensions, nil)
	e := strings.Join(exts, ",")
	if hashed {
		e = ja4Hash(e, len(exts) == 0)
	}
	return fmt.Sprintf("%c%s%02d%s_%04x_%s", transport, ja4Version(sh.Version, versions),
		min(len(exts), 99), ja4ALPN(alpn), sh.CipherSuite, e)
}

// hexList renders the non-GREASE values as 4-digit lowercase hex, leaving
// out those skip selects.
func hexList(vs []uint16, skip func(uint16) bool) []string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		if IsGREASE(v) || (skip != nil && skip(v)) {
			continue
		}
		out = append(out, fmt.Sprintf("%04x", v))
	}
	return out
}

// ja4Hash is the first 12 hex digits of SHA-256, or twelve zeros for an
// empty list.
func ja4Hash(s string, empty bool) string {
	if empty {
		return "000000000000"
	}
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:12]
}

// ja4Version is the two-character version: the highest non-GREASE entry
// of supported_versions when present, else the legacy version.
func ja4Version(legacy uint16, supported []uint16) string {
	v := legacy
	var best uint16
	found := false
	for _, s := range supported {
		if IsGREASE(s) {
			continue
		}
		if !found || s > best {
			best, found = s, true
		}
	}
	if found {
		v = best
	}
	switch v {
	case VersionTLS13:
		return "13"
	case VersionTLS12:
		return "12"
	case VersionTLS11:
		return "11"
	case VersionTLS10:
		return "10"
	case VersionSSL30:
		return "s3"
	case 0x0002:
		return "s2"
	case 0xfeff:
		return "d1"
	case 0xfefd:
		return "d2"
	case 0xfefc:
		return "d3"
	}
	return "00"
}

// ja4ALPN is the first and last character of the first ALPN value, "00"
// without one; when either is not an ASCII letter or digit, the first and
// last digit of the value's hex form instead.
func ja4ALPN(alpn []string) string {
	if len(alpn) == 0 || alpn[0] == "" {
		return "00"
	}
	a := alpn[0]
	first, last := a[0], a[len(a)-1]
	if !isAlnum(first) || !isAlnum(last) {
		h := hex.EncodeToString([]byte(a))
		return string([]byte{h[0], h[len(h)-1]})
	}
	return string([]byte{first, last})
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}
