package decode

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
)

// Client and server fingerprints computed over the parsed hellos:
//
//   - JA3 / JA3S (Salesforce): decimal fields joined by ',' and '-', GREASE
//     values (RFC 8701) removed, MD5 of the string.
//   - JA4 / JA4S (FoxIO JA4+): a readable prefix and SHA-256 hashes
//     truncated to 12 hex digits, as in the FoxIO technical details.
//
// They are pure functions of the hello: the same bytes always give the same
// fingerprint, whatever the capture. Every connection gets all four, so
// they are built in one stack buffer each, not from formatted pieces.

// fpBuf is the stack room for a fingerprint's text; longer hellos spill to
// the heap through append.
type fpBuf [1024]byte

// JA3 returns the JA3 string of a ClientHello and its MD5 in hex:
// SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats,
// each list in wire order joined by '-', GREASE values removed.
func JA3(ch *ClientHello) (raw, hash string) {
	if ch == nil {
		return "", ""
	}
	var buf fpBuf
	b := buf[:0]
	b = strconv.AppendUint(b, uint64(ch.Version), 10)
	b = append(b, ',')
	b = appendDecList(b, ch.CipherSuites)
	b = append(b, ',')
	b = appendDecList(b, ch.Extensions)
	b = append(b, ',')
	b = appendDecList(b, ch.SupportedGroups)
	b = append(b, ',')
	for i, f := range ch.ECPointFormats {
		if i > 0 {
			b = append(b, '-')
		}
		b = strconv.AppendUint(b, uint64(f), 10)
	}
	return string(b), md5hex(b)
}

// JA3S returns the JA3S string of a ServerHello (SSLVersion,Cipher,Extensions)
// and its MD5 in hex.
func JA3S(sh *ServerHello) (raw, hash string) {
	if sh == nil {
		return "", ""
	}
	var buf fpBuf
	b := buf[:0]
	b = strconv.AppendUint(b, uint64(sh.Version), 10)
	b = append(b, ',')
	b = strconv.AppendUint(b, uint64(sh.CipherSuite), 10)
	b = append(b, ',')
	b = appendDecList(b, sh.Extensions)
	return string(b), md5hex(b)
}

// appendDecList appends the non-GREASE values in decimal, joined by '-'.
func appendDecList(b []byte, vs []uint16) []byte {
	first := true
	for _, v := range vs {
		if IsGREASE(v) {
			continue
		}
		if !first {
			b = append(b, '-')
		}
		first = false
		b = strconv.AppendUint(b, uint64(v), 10)
	}
	return b
}

func md5hex(b []byte) string {
	sum := md5.Sum(b)
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
	var cbuf, ebuf [128]uint16
	ciphers := appendNonGREASE(cbuf[:0], ch.CipherSuites, false)
	// Sorted, SNI and ALPN are counted in the prefix but not hashed: they
	// change with the destination, not with the client software.
	exts := appendNonGREASE(ebuf[:0], ch.Extensions, sorted)
	nExt := 0
	for _, e := range ch.Extensions {
		if !IsGREASE(e) {
			nExt++
		}
	}
	if sorted {
		// The lists are fixed-width lowercase hex: sorting the numbers
		// sorts their text.
		slices.Sort(ciphers)
		slices.Sort(exts)
	}
	sni := byte('i')
	if slices.Contains(ch.Extensions, ExtServerName) {
		sni = 'd'
	}
	var buf fpBuf
	b := append(buf[:0], transport)
	b = append(b, ja4Version(ch.Version, ch.SupportedVersions)...)
	b = append(b, sni)
	b = append2Digits(b, min(len(ciphers), 99))
	b = append2Digits(b, min(nExt, 99))
	b = appendJA4ALPN(b, ch.ALPN)
	prefix := len(b)
	b = append(b, '_')
	b = appendHexList(b, ciphers)
	cEnd := len(b)
	b = append(b, '_')
	b = appendHexList(b, exts)
	nSigs := 0
	for _, s := range ch.SignatureAlgorithms {
		if !IsGREASE(s) {
			nSigs++
		}
	}
	if nSigs > 0 {
		b = append(b, '_')
		b = appendHexList(b, ch.SignatureAlgorithms)
	}
	if !hashed {
		return string(b)
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
	var out [64]byte
	o := append(out[:0], b[:prefix]...)
	o = append(o, '_')
	o = appendJA4Hash(o, b[prefix+1:cEnd], len(ciphers) == 0)
	o = append(o, '_')
	o = appendJA4Hash(o, b[cEnd+1:], noExt)
	return string(o)
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
	var ebuf [128]uint16
	exts := appendNonGREASE(ebuf[:0], sh.Extensions, false)
	var buf fpBuf
	b := append(buf[:0], transport)
	b = append(b, ja4Version(sh.Version, versions)...)
	b = append2Digits(b, min(len(exts), 99))
	if sh.ALPN != "" {
		b = appendJA4ALPN(b, []string{sh.ALPN})
	} else {
		b = appendJA4ALPN(b, nil)
	}
	b = append(b, '_')
	b = appendHex16(b, sh.CipherSuite)
	b = append(b, '_')
	if hashed {
		var list fpBuf
		return string(appendJA4Hash(b, appendHexList(list[:0], exts), len(exts) == 0))
	}
	return string(appendHexList(b, exts))
}

// appendNonGREASE appends the values of vs that are not GREASE, leaving
// out SNI and ALPN when skipNames is set.
func appendNonGREASE(dst, vs []uint16, skipNames bool) []uint16 {
	for _, v := range vs {
		if IsGREASE(v) || skipNames && (v == ExtServerName || v == ExtALPN) {
			continue
		}
		dst = append(dst, v)
	}
	return dst
}

// appendHexList appends the non-GREASE values as 4-digit lowercase hex
// joined by ','.
func appendHexList(b []byte, vs []uint16) []byte {
	first := true
	for _, v := range vs {
		if IsGREASE(v) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendHex16(b, v)
	}
	return b
}

const hexDigits = "0123456789abcdef"

func appendHex16(b []byte, v uint16) []byte {
	return append(b, hexDigits[v>>12], hexDigits[v>>8&0xf], hexDigits[v>>4&0xf], hexDigits[v&0xf])
}

// append2Digits appends n (0..99) as two decimal digits.
func append2Digits(b []byte, n int) []byte {
	return append(b, byte('0'+n/10), byte('0'+n%10))
}

// appendJA4Hash appends the first 12 hex digits of SHA-256 of s, or twelve
// zeros for an empty list.
func appendJA4Hash(b, s []byte, empty bool) []byte {
	if empty {
		return append(b, "000000000000"...)
	}
	sum := sha256.Sum256(s)
	return hex.AppendEncode(b, sum[:6])
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

// appendJA4ALPN appends the first and last character of the first ALPN
// value, "00" without one; when either is not an ASCII letter or digit, the
// first and last digit of the value's hex form instead.
func appendJA4ALPN(b []byte, alpn []string) []byte {
	if len(alpn) == 0 || alpn[0] == "" {
		return append(b, '0', '0')
	}
	a := alpn[0]
	first, last := a[0], a[len(a)-1]
	if !isAlnum(first) || !isAlnum(last) {
		return append(b, hexDigits[first>>4], hexDigits[last&0xf])
	}
	return append(b, first, last)
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}
