package decode

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/crypto/cryptobyte"

	"tlspcap/capture"
)

func ext(b *cryptobyte.Builder, typ uint16, body func(*cryptobyte.Builder)) {
	b.AddUint16(typ)
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		if body != nil {
			body(b)
		}
	})
}

// espClientHello is a ClientHello as an mbedTLS client with
// max_fragment_length and GREASE-free lists would send, plus a GREASE
// suite and extension to check they are kept.
func espClientHello() []byte {
	var b cryptobyte.Builder
	b.AddUint16(VersionTLS12)
	b.AddBytes(bytes.Repeat([]byte{7}, 32))
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {})
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		for _, s := range []uint16{0x2A2A, 0xC02B, 0xC02F, 0x00FF} {
			b.AddUint16(s)
		}
	})
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(0) })
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		ext(b, 0x3A3A, nil)
		ext(b, ExtServerName, func(b *cryptobyte.Builder) {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				b.AddUint8(0)
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte("mqtt.example.com")) })
			})
		})
		ext(b, ExtMaxFragmentLength, func(b *cryptobyte.Builder) { b.AddUint8(4) })
		ext(b, ExtRecordSizeLimit, func(b *cryptobyte.Builder) { b.AddUint16(4097) })
		ext(b, ExtSupportedGroups, func(b *cryptobyte.Builder) {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint16(0x4A4A); b.AddUint16(23); b.AddUint16(29) })
		})
		ext(b, ExtECPointFormats, func(b *cryptobyte.Builder) {
			b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(0) })
		})
		ext(b, ExtSignatureAlgorithms, func(b *cryptobyte.Builder) {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint16(0x0403); b.AddUint16(0x0804) })
		})
		ext(b, ExtALPN, func(b *cryptobyte.Builder) {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte("mqtt")) })
				b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte("http/1.1")) })
			})
		})
		ext(b, ExtSupportedVersions, func(b *cryptobyte.Builder) {
			b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint16(0x5A5A); b.AddUint16(VersionTLS13); b.AddUint16(VersionTLS12) })
		})
		ext(b, ExtKeyShare, func(b *cryptobyte.Builder) {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				b.AddUint16(29)
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(make([]byte, 32)) })
			})
		})
		ext(b, ExtPSKModes, func(b *cryptobyte.Builder) {
			b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(1) })
		})
		ext(b, ExtEncryptThenMAC, nil)
		ext(b, ExtExtendedMasterSecret, nil)
		ext(b, ExtSessionTicket, nil)
	})
	return b.BytesOrPanic()
}

func TestParseClientHelloFields(t *testing.T) {
	ch, err := ParseClientHello(espClientHello())
	if err != nil {
		t.Fatal(err)
	}
	want := &ClientHello{
		Version: VersionTLS12, Random: bytes.Repeat([]byte{7}, 32), SessionID: []byte{},
		CipherSuites: []uint16{0x2A2A, 0xC02B, 0xC02F, 0x00FF}, CompressionMethods: []uint8{0},
		Extensions:        []uint16{0x3A3A, 0, 1, 28, 10, 11, 13, 16, 43, 51, 45, 22, 23, 35},
		ServerName:        "mqtt.example.com",
		SupportedVersions: []uint16{0x5A5A, VersionTLS13, VersionTLS12},
		SupportedGroups:   []uint16{0x4A4A, 23, 29}, ECPointFormats: []uint8{0},
		SignatureAlgorithms: []uint16{0x0403, 0x0804}, ALPN: []string{"mqtt", "http/1.1"},
		MaxFragmentLength: 4, RecordSizeLimit: 4097, KeyShareGroups: []uint16{29}, PSKModes: []uint8{1},
		EncryptThenMAC: true, ExtendedMasterSecret: true, SessionTicket: true,
	}
	if !reflect.DeepEqual(ch, want) {
		t.Errorf("got  %+v\nwant %+v", ch, want)
	}
	// Every truncation is an error, never a panic.
	full := espClientHello()
	for n := range len(full) {
		if _, err := ParseClientHello(full[:n]); err == nil && n != 2+32+1+2+8+2 {
			t.Errorf("prefix of %d bytes parsed", n)
		}
	}
}

func TestParseServerHelloFields(t *testing.T) {
	build := func(random []byte, exts func(*cryptobyte.Builder)) []byte {
		var b cryptobyte.Builder
		b.AddUint16(VersionTLS12)
		b.AddBytes(random)
		b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte{1, 2, 3}) })
		b.AddUint16(0x1301)
		b.AddUint8(0)
		b.AddUint16LengthPrefixed(exts)
		return b.BytesOrPanic()
	}
	sh, err := ParseServerHello(build(make([]byte, 32), func(b *cryptobyte.Builder) {
		ext(b, ExtSupportedVersions, func(b *cryptobyte.Builder) { b.AddUint16(VersionTLS13) })
		ext(b, ExtKeyShare, func(b *cryptobyte.Builder) {
			b.AddUint16(23)
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(make([]byte, 65)) })
		})
		ext(b, ExtMaxFragmentLength, func(b *cryptobyte.Builder) { b.AddUint8(4) })
		ext(b, ExtRecordSizeLimit, func(b *cryptobyte.Builder) { b.AddUint16(16385) })
		ext(b, ExtALPN, func(b *cryptobyte.Builder) {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte("mqtt")) })
			})
		})
		ext(b, ExtEncryptThenMAC, nil)
		ext(b, ExtExtendedMasterSecret, nil)
	}))
	if err != nil {
		t.Fatal(err)
	}
	if sh.SelectedVersion != VersionTLS13 || sh.KeyShareGroup != 23 || sh.MaxFragmentLength != 4 || sh.RecordSizeLimit != 16385 ||
		sh.ALPN != "mqtt" || !sh.EncryptThenMAC || !sh.ExtendedMasterSecret || sh.HelloRetryRequest || sh.CipherSuite != 0x1301 ||
		!bytes.Equal(sh.SessionID, []byte{1, 2, 3}) {
		t.Errorf("%+v", sh)
	}
	hrr, err := ParseServerHello(build(helloRetryRequestRandom, func(b *cryptobyte.Builder) {
		ext(b, ExtSupportedVersions, func(b *cryptobyte.Builder) { b.AddUint16(VersionTLS13) })
		ext(b, ExtKeyShare, func(b *cryptobyte.Builder) { b.AddUint16(24) })
		ext(b, ExtCookie, func(b *cryptobyte.Builder) { b.AddBytes([]byte{0, 2, 9, 9}) })
	}))
	if err != nil || !hrr.HelloRetryRequest || hrr.KeyShareGroup != 24 {
		t.Errorf("HRR %+v %v", hrr, err)
	}
}

func TestParseOtherMessages(t *testing.T) {
	// DHE ServerKeyExchange: a 2048-bit prime.
	p := append([]byte{0x80}, make([]byte, 255)...)
	var b cryptobyte.Builder
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(p) })
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(2) })
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(make([]byte, 256)) })
	b.AddBytes([]byte{4, 1, 0, 0})
	ske, err := ParseServerKeyExchange(b.BytesOrPanic(), 0x009E) // TLS_DHE_RSA_WITH_AES_128_GCM_SHA256
	if err != nil || ske.DHBits != 2048 || ske.NamedGroup != 0 {
		t.Errorf("DHE: %+v %v", ske, err)
	}
	ske, err = ParseServerKeyExchange([]byte{3, 0, 23, 1, 4}, 0xC02F)
	if err != nil || ske.NamedGroup != 23 || ske.CurveType != 3 {
		t.Errorf("ECDHE: %+v %v", ske, err)
	}

	nst, err := ParseNewSessionTicket([]byte{0, 0, 0x1C, 0x20, 0, 3, 1, 2, 3}, false)
	if err != nil || nst.LifetimeHint != 7200 || nst.TicketLen != 3 {
		t.Errorf("NewSessionTicket: %+v %v", nst, err)
	}
	nst, err = ParseNewSessionTicket([]byte{0, 0, 0, 60, 1, 2, 3, 4, 1, 9, 0, 2, 5, 5, 0, 0}, true)
	if err != nil || nst.LifetimeHint != 60 || nst.TicketLen != 2 {
		t.Errorf("NewSessionTicket 1.3: %+v %v", nst, err)
	}

	// CertificateRequest in TLS 1.1 (no signature algorithms), 1.2 and 1.3.
	dn := []byte{0x30, 0x03, 0x31, 0x01, 0x00}
	cr11 := append([]byte{1, 1, 0, byte(len(dn) + 2), 0, byte(len(dn))}, dn...)
	cr, err := ParseCertificateRequest(cr11, VersionTLS11)
	if err != nil || len(cr.CANames) != 1 || !bytes.Equal(cr.CANames[0], dn) || cr.SignatureAlgorithms != nil {
		t.Errorf("1.1: %+v %v", cr, err)
	}
	cr13 := []byte{0, 0, 8, 0, 13, 0, 4, 0, 2, 4, 3}
	cr, err = ParseCertificateRequest(cr13, VersionTLS13)
	if err != nil || !reflect.DeepEqual(cr.SignatureAlgorithms, []uint16{0x0403}) {
		t.Errorf("1.3: %+v %v", cr, err)
	}

	// TLS 1.3 Certificate layout with a context and per-entry extensions.
	c13 := []byte{1, 0xAA, 0, 0, 9, 0, 0, 4, 0xde, 0xad, 0xbe, 0xef, 0, 0}
	cert, err := ParseCertificate(c13, true)
	if err != nil || !bytes.Equal(cert.Context, []byte{0xAA}) || len(cert.Entries) != 1 || cert.Entries[0].ParseErr == nil {
		t.Errorf("1.3 certificate: %+v %v", cert, err)
	}
}

// TestHTTPAnswerToClientHello is the plaintext-server case: the client
// speaks TLS, the server answers in HTTP.
func TestHTTPAnswerToClientHello(t *testing.T) {
	ch := firstMessages(t, "tls12-ecdhe-rsa-aes128-gcm", capture.FromClient)[0]
	trace := []segment{
		{capture.FromClient, record(22, ch)},
		{capture.FromServer, []byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")},
	}
	evs, _ := segmentTrace(trace)
	if s := shape(evs); s != "C:Handshake C:ClientHello S:not-tls" {
		t.Fatalf("%s", s)
	}
	n := evs[2].(*NotTLS)
	if n.Protocol != "HTTP" || !strings.HasPrefix(string(n.Prefix), "HTTP/1.1 400") || n.Frames[0] != 2 {
		t.Errorf("%s", describe(n))
	}
}
