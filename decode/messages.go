package decode

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"golang.org/x/crypto/cryptobyte"
)

// helloRetryRequestRandom is the ServerHello.random of a HelloRetryRequest (RFC 8446 §4.1.3).
var helloRetryRequestRandom = []byte{
	0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11,
	0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
	0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E,
	0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
}

// errMessage builds a parse error naming the message and the field.
func errMessage(msg, field string) error {
	return fmt.Errorf("%s: malformed %s", msg, field)
}

// blocks hands out the copies a parsed hello keeps, from a block of bytes
// and one of uint16s, instead of one allocation per field. Every piece has
// its own capacity: an append past it moves the piece. The zero value
// allocates its blocks on first use.
type blocks struct {
	b []byte
	u []uint16
}

// bytes copies src (nil stays nil; empty stays non-nil, as bytes.Clone).
func (k *blocks) bytes(src []byte) []byte {
	if src == nil {
		return nil
	}
	if k.b == nil || cap(k.b)-len(k.b) < len(src) {
		k.b = make([]byte, 0, max(len(src), 64))
	}
	l := len(k.b)
	k.b = append(k.b, src...)
	return k.b[l:len(k.b):len(k.b)]
}

// uint16s returns an empty list with room for n values.
func (k *blocks) uint16s(n int) []uint16 {
	if k.u == nil || cap(k.u)-len(k.u) < n {
		k.u = make([]uint16, 0, max(n, 64))
	}
	l := len(k.u)
	k.u = k.u[:l+n]
	return k.u[l : l : l+n]
}

// countExtensions counts the extensions whose headers read: the loop that
// parses them stops at the first that does not.
func countExtensions(exts cryptobyte.String) int {
	n := 0
	for ; !exts.Empty(); n++ {
		var typ uint16
		var body cryptobyte.String
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&body) {
			break
		}
	}
	return n
}

func readUint16List(s *cryptobyte.String, dst *[]uint16, k *blocks) bool {
	var list cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&list) || len(list)%2 != 0 {
		return false
	}
	out := k.uint16s(len(list) / 2)
	for !list.Empty() {
		var v uint16
		if !list.ReadUint16(&v) {
			return false
		}
		out = append(out, v)
	}
	*dst = out
	return true
}

func readUint8List(s *cryptobyte.String, dst *[]uint8, k *blocks) bool {
	var list []byte
	if !s.ReadUint8LengthPrefixed((*cryptobyte.String)(&list)) {
		return false
	}
	*dst = k.bytes(list)
	return true
}

// ParseClientHello parses a ClientHello body (after the 4-byte handshake
// header). The result does not alias data.
func ParseClientHello(data []byte) (*ClientHello, error) {
	const msg = "ClientHello"
	s := cryptobyte.String(data)
	m := &ClientHello{}
	var random, sessionID []byte
	if !s.ReadUint16(&m.Version) || !s.ReadBytes(&random, 32) ||
		!s.ReadUint8LengthPrefixed((*cryptobyte.String)(&sessionID)) {
		return nil, errMessage(msg, "version, random or session id")
	}
	// Room for the byte fields (random, session id and the short lists)
	// and for the uint16 lists, which together take at most half as many
	// values as the hello has bytes.
	k := blocks{b: make([]byte, 0, 32+len(sessionID)+16), u: make([]uint16, 0, min(len(data)/2, 128))}
	m.Random, m.SessionID = k.bytes(random), k.bytes(sessionID)
	if !readUint16List(&s, &m.CipherSuites, &k) {
		return nil, errMessage(msg, "cipher suites")
	}
	if !readUint8List(&s, &m.CompressionMethods, &k) {
		return nil, errMessage(msg, "compression methods")
	}
	if s.Empty() {
		return m, nil // no extensions
	}
	var exts cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&exts) || !s.Empty() {
		return nil, errMessage(msg, "extensions block")
	}
	m.Extensions = k.uint16s(countExtensions(exts))
	for !exts.Empty() {
		var typ uint16
		var ext cryptobyte.String
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&ext) {
			return nil, errMessage(msg, "extension header")
		}
		m.Extensions = append(m.Extensions, typ)
		ok := true
		switch typ {
		case ExtServerName:
			var list cryptobyte.String
			ok = ext.ReadUint16LengthPrefixed(&list)
			for ok && !list.Empty() {
				var nameType uint8
				var name cryptobyte.String
				if !list.ReadUint8(&nameType) || !list.ReadUint16LengthPrefixed(&name) {
					ok = false
					break
				}
				if nameType == 0 && m.ServerName == "" {
					m.ServerName = string(name)
				}
			}
		case ExtMaxFragmentLength:
			ok = ext.ReadUint8(&m.MaxFragmentLength)
		case ExtRecordSizeLimit:
			ok = ext.ReadUint16(&m.RecordSizeLimit)
		case ExtSupportedGroups:
			ok = readUint16List(&ext, &m.SupportedGroups, &k)
		case ExtECPointFormats:
			ok = readUint8List(&ext, &m.ECPointFormats, &k)
		case ExtSignatureAlgorithms:
			ok = readUint16List(&ext, &m.SignatureAlgorithms, &k)
		case ExtALPN:
			var list cryptobyte.String
			ok = ext.ReadUint16LengthPrefixed(&list)
			for ok && !list.Empty() {
				var proto cryptobyte.String
				if !list.ReadUint8LengthPrefixed(&proto) {
					ok = false
					break
				}
				m.ALPN = append(m.ALPN, string(proto))
			}
		case ExtSupportedVersions:
			var list cryptobyte.String
			ok = ext.ReadUint8LengthPrefixed(&list) && len(list)%2 == 0
			if ok && m.SupportedVersions == nil {
				m.SupportedVersions = k.uint16s(len(list) / 2)
			}
			for ok && !list.Empty() {
				var v uint16
				ok = list.ReadUint16(&v)
				m.SupportedVersions = append(m.SupportedVersions, v)
			}
		case ExtKeyShare:
			var list cryptobyte.String
			ok = ext.ReadUint16LengthPrefixed(&list)
			for ok && !list.Empty() {
				var group uint16
				var key cryptobyte.String
				if !list.ReadUint16(&group) || !list.ReadUint16LengthPrefixed(&key) {
					ok = false
					break
				}
				m.KeyShareGroups = append(m.KeyShareGroups, group)
			}
		case ExtPSKModes:
			ok = readUint8List(&ext, &m.PSKModes, &k)
		case ExtEncryptThenMAC:
			m.EncryptThenMAC = true
		case ExtExtendedMasterSecret:
			m.ExtendedMasterSecret = true
		case ExtSessionTicket:
			m.SessionTicket = true
			ext = nil // a resumption ticket: its bytes are not kept
		default:
			ext = nil // kept as a type only
		}
		if !ok || !ext.Empty() {
			return nil, errMessage(msg, ExtensionName(typ)+" extension")
		}
	}
	// Lists that got no value are absent, as appending to nil leaves them.
	if len(m.Extensions) == 0 {
		m.Extensions = nil
	}
	if len(m.SupportedVersions) == 0 {
		m.SupportedVersions = nil
	}
	return m, nil
}

// ParseServerHello parses a ServerHello or HelloRetryRequest body.
func ParseServerHello(data []byte) (*ServerHello, error) {
	const msg = "ServerHello"
	s := cryptobyte.String(data)
	m := &ServerHello{}
	var random, sessionID []byte
	if !s.ReadUint16(&m.Version) || !s.ReadBytes(&random, 32) ||
		!s.ReadUint8LengthPrefixed((*cryptobyte.String)(&sessionID)) ||
		!s.ReadUint16(&m.CipherSuite) || !s.ReadUint8(&m.CompressionMethod) {
		return nil, errMessage(msg, "fixed fields")
	}
	k := blocks{b: make([]byte, 0, 32+len(sessionID))}
	m.Random, m.SessionID = k.bytes(random), k.bytes(sessionID)
	m.HelloRetryRequest = bytes.Equal(random, helloRetryRequestRandom)
	if s.Empty() {
		return m, nil
	}
	var exts cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&exts) || !s.Empty() {
		return nil, errMessage(msg, "extensions block")
	}
	if n := countExtensions(exts); n > 0 {
		m.Extensions = k.uint16s(n)
	}
	for !exts.Empty() {
		var typ uint16
		var ext cryptobyte.String
		if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&ext) {
			return nil, errMessage(msg, "extension header")
		}
		m.Extensions = append(m.Extensions, typ)
		ok := true
		switch typ {
		case ExtSupportedVersions:
			ok = ext.ReadUint16(&m.SelectedVersion)
		case ExtKeyShare:
			ok = ext.ReadUint16(&m.KeyShareGroup)
			if ok && !m.HelloRetryRequest {
				var key cryptobyte.String
				ok = ext.ReadUint16LengthPrefixed(&key)
			}
		case ExtALPN:
			var list, proto cryptobyte.String
			ok = ext.ReadUint16LengthPrefixed(&list) && list.ReadUint8LengthPrefixed(&proto) && list.Empty()
			m.ALPN = string(proto)
		case ExtMaxFragmentLength:
			ok = ext.ReadUint8(&m.MaxFragmentLength)
		case ExtRecordSizeLimit:
			ok = ext.ReadUint16(&m.RecordSizeLimit)
		case ExtEncryptThenMAC:
			m.EncryptThenMAC = true
		case ExtExtendedMasterSecret:
			m.ExtendedMasterSecret = true
		default:
			ext = nil
		}
		if !ok || !ext.Empty() {
			return nil, errMessage(msg, ExtensionName(typ)+" extension")
		}
	}
	return m, nil
}

// ParseCertificate parses a Certificate body: the TLS 1.2 format, or with
// tls13 the TLS 1.3 format (context and per-entry extensions). A
// certificate crypto/x509 cannot parse is kept with its ParseErr. Only the
// first MaxCertificates are parsed and kept; the others are checked for
// structure and counted in Count.
func ParseCertificate(data []byte, tls13 bool) (*Certificate, error) {
	const msg = "Certificate"
	s := cryptobyte.String(data)
	m := &Certificate{}
	if tls13 {
		var ctx []byte
		if !s.ReadUint8LengthPrefixed((*cryptobyte.String)(&ctx)) {
			return nil, errMessage(msg, "request context")
		}
		m.Context = bytes.Clone(ctx)
	}
	var list cryptobyte.String
	if !s.ReadUint24LengthPrefixed(&list) || !s.Empty() {
		return nil, errMessage(msg, "certificate list")
	}
	for !list.Empty() {
		var der []byte
		if !list.ReadUint24LengthPrefixed((*cryptobyte.String)(&der)) {
			return nil, errMessage(msg, "certificate entry")
		}
		if tls13 {
			var exts cryptobyte.String
			if !list.ReadUint16LengthPrefixed(&exts) {
				return nil, errMessage(msg, "certificate entry extensions")
			}
		}
		if m.Count < MaxCertificates {
			m.Entries = append(m.Entries, parseCertEntry(der))
		}
		m.Count++
	}
	return m, nil
}

// ParseCertificateRequest parses a CertificateRequest body for the
// negotiated version: TLS 1.0/1.1 (no signature algorithms), TLS 1.2, or
// TLS 1.3 (context and extensions).
func ParseCertificateRequest(data []byte, version uint16) (*CertificateRequest, error) {
	const msg = "CertificateRequest"
	s := cryptobyte.String(data)
	m := &CertificateRequest{}
	if version >= VersionTLS13 {
		var ctx, exts cryptobyte.String
		if !s.ReadUint8LengthPrefixed(&ctx) || !s.ReadUint16LengthPrefixed(&exts) || !s.Empty() {
			return nil, errMessage(msg, "context or extensions")
		}
		for !exts.Empty() {
			var typ uint16
			var ext cryptobyte.String
			if !exts.ReadUint16(&typ) || !exts.ReadUint16LengthPrefixed(&ext) {
				return nil, errMessage(msg, "extension header")
			}
			ok := true
			switch typ {
			case ExtSignatureAlgorithms:
				ok = readUint16List(&ext, &m.SignatureAlgorithms, &blocks{})
			case ExtCertificateAuthorities:
				ok = readDNs(&ext, &m.CANames)
			default:
				ext = nil
			}
			if !ok || !ext.Empty() {
				return nil, errMessage(msg, ExtensionName(typ)+" extension")
			}
		}
		return m, nil
	}
	if !readUint8List(&s, &m.CertificateTypes, &blocks{}) {
		return nil, errMessage(msg, "certificate types")
	}
	if version >= VersionTLS12 && !readUint16List(&s, &m.SignatureAlgorithms, &blocks{}) {
		return nil, errMessage(msg, "signature algorithms")
	}
	if !readDNs(&s, &m.CANames) || !s.Empty() {
		return nil, errMessage(msg, "certificate authorities")
	}
	return m, nil
}

func readDNs(s *cryptobyte.String, dst *[][]byte) bool {
	var list cryptobyte.String
	if !s.ReadUint16LengthPrefixed(&list) {
		return false
	}
	for !list.Empty() {
		var dn []byte
		if !list.ReadUint16LengthPrefixed((*cryptobyte.String)(&dn)) {
			return false
		}
		*dst = append(*dst, bytes.Clone(dn))
	}
	return true
}

// ParseServerKeyExchange reads the ECDHE named group or the DHE prime size.
// cipherSuite (from the ServerHello) says which; 0 means unknown, and the
// layout is then guessed from the bytes.
func ParseServerKeyExchange(data []byte, cipherSuite uint16) (*ServerKeyExchange, error) {
	const msg = "ServerKeyExchange"
	name := CipherSuiteName(cipherSuite)
	ecdhe := strings.Contains(name, "_ECDHE_") || strings.Contains(name, "_ECDH_anon_")
	dhe := strings.Contains(name, "_DHE_") || strings.Contains(name, "_DH_anon_")
	if !ecdhe && !dhe {
		ecdhe = len(data) >= 4 && data[0] <= 3 && data[0] >= 1 // else DHE
	}
	s := cryptobyte.String(data)
	m := &ServerKeyExchange{}
	if ecdhe {
		if !s.ReadUint8(&m.CurveType) {
			return nil, errMessage(msg, "curve type")
		}
		if m.CurveType != 3 {
			return m, nil // explicit curves: group unknown
		}
		var point cryptobyte.String
		if !s.ReadUint16(&m.NamedGroup) || !s.ReadUint8LengthPrefixed(&point) {
			return nil, errMessage(msg, "ECDH parameters")
		}
		return m, nil
	}
	var p, g, y []byte
	if !s.ReadUint16LengthPrefixed((*cryptobyte.String)(&p)) ||
		!s.ReadUint16LengthPrefixed((*cryptobyte.String)(&g)) ||
		!s.ReadUint16LengthPrefixed((*cryptobyte.String)(&y)) {
		return nil, errMessage(msg, "DH parameters")
	}
	m.DHBits = new(big.Int).SetBytes(p).BitLen()
	return m, nil
}

// ParseNewSessionTicket parses a NewSessionTicket body (TLS 1.2, or TLS 1.3 with tls13).
func ParseNewSessionTicket(data []byte, tls13 bool) (*NewSessionTicket, error) {
	const msg = "NewSessionTicket"
	s := cryptobyte.String(data)
	m := &NewSessionTicket{}
	if !s.ReadUint32(&m.LifetimeHint) {
		return nil, errMessage(msg, "lifetime")
	}
	var ticket cryptobyte.String
	if tls13 {
		var ageAdd uint32
		var nonce, exts cryptobyte.String
		if !s.ReadUint32(&ageAdd) || !s.ReadUint8LengthPrefixed(&nonce) ||
			!s.ReadUint16LengthPrefixed(&ticket) || !s.ReadUint16LengthPrefixed(&exts) || !s.Empty() {
			return nil, errMessage(msg, "ticket")
		}
	} else if !s.ReadUint16LengthPrefixed(&ticket) || !s.Empty() {
		return nil, errMessage(msg, "ticket")
	}
	m.TicketLen = len(ticket)
	return m, nil
}

// ParseSSLv2ClientHello parses the body of an SSLv2-compatible ClientHello
// record (RFC 5246 Appendix E.2), starting at msg_type. Cipher specs whose
// first byte is 0 become TLS cipher suites; the SSLv2-only kinds go to
// SSLv2CipherSpecs. Random is the challenge left-padded with zeros to 32 bytes.
func ParseSSLv2ClientHello(data []byte) (*ClientHello, error) {
	const msg = "SSLv2 ClientHello"
	s := cryptobyte.String(data)
	var msgType uint8
	var specLen, sidLen, chalLen uint16
	m := &ClientHello{SSLv2: true}
	if !s.ReadUint8(&msgType) || msgType != TypeClientHello || !s.ReadUint16(&m.Version) ||
		!s.ReadUint16(&specLen) || !s.ReadUint16(&sidLen) || !s.ReadUint16(&chalLen) {
		return nil, errMessage(msg, "header")
	}
	var specs, sid, chal []byte
	if specLen%3 != 0 || !s.ReadBytes(&specs, int(specLen)) || !s.ReadBytes(&sid, int(sidLen)) ||
		!s.ReadBytes(&chal, int(chalLen)) {
		return nil, errMessage(msg, "cipher specs, session id or challenge")
	}
	if chalLen < 16 || chalLen > 32 {
		return nil, errors.New(msg + ": challenge length out of range")
	}
	for i := 0; i+3 <= len(specs); i += 3 {
		if specs[i] == 0 {
			m.CipherSuites = append(m.CipherSuites, uint16(specs[i+1])<<8|uint16(specs[i+2]))
		} else {
			m.SSLv2CipherSpecs = append(m.SSLv2CipherSpecs, uint32(specs[i])<<16|uint32(specs[i+1])<<8|uint32(specs[i+2]))
		}
	}
	m.SessionID = bytes.Clone(sid)
	m.Random = make([]byte, 32)
	copy(m.Random[32-len(chal):], chal)
	m.CompressionMethods = []uint8{0}
	return m, nil
}
