package decode

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/crypto/cryptobyte"

	"tlspcap/capture"
)

// serverHello12 is a TLS 1.2 ServerHello body choosing suite.
func serverHello12(suite uint16) []byte {
	var b cryptobyte.Builder
	b.AddUint16(VersionTLS12)
	b.AddBytes(bytes.Repeat([]byte{9}, 32))
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {})
	b.AddUint16(suite)
	b.AddUint8(0)
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {})
	return b.BytesOrPanic()
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// ciphertext is n bytes that parse as no handshake message.
func ciphertext(n int) []byte {
	b := bytes.Repeat([]byte{0xA7, 0x3C, 0x91}, n)
	return b[:n]
}

func checkDescribed(t *testing.T, what string, evs []Event, want ...string) {
	t.Helper()
	if got, w := describeAll(evs), strings.Join(want, "\n")+"\n"; got != w {
		t.Errorf("%s:\ngot\n%swant\n%s", what, got, w)
	}
}

// A client that sends CCS and then a second ClientHello: the server's
// HelloRetryRequest is not in the capture. The CCS came before any
// ServerHello, so the ClientHello is read.
func TestClientHelloAfterMiddleboxCCS(t *testing.T) {
	ch := hsMessage(TypeClientHello, espClientHello())
	evs := feedSegments(capture.FromClient, record(22, ch), record(20, []byte{1}), record(22, ch))
	checkDescribed(t, "CCS before any ServerHello", evs,
		"C record Handshake len=212 rcv=212 trunc=false enc=false v2=false hs=[ClientHello] off=0 frames=[1]",
		"C handshake ClientHello len=208 records=1 trunc=false enc=false body=*decode.ClientHello err=<nil> off=5 frames=[1]",
		"C record ChangeCipherSpec len=1 rcv=1 trunc=false enc=false v2=false hs=[] off=217 frames=[2]",
		"C ccs off=217 frames=[2]",
		"C record Handshake len=212 rcv=212 trunc=false enc=false v2=false hs=[ClientHello] off=223 frames=[3]",
		"C handshake ClientHello len=208 records=1 trunc=false enc=false body=*decode.ClientHello err=<nil> off=228 frames=[3]")

	// The same after a TLS 1.2 ServerHello (the CCS turned protection
	// on): a record that is a whole ClientHello is still read.
	trace := []segment{
		{capture.FromClient, record(22, ch)},
		{capture.FromServer, record(22, hsMessage(TypeServerHello, serverHello12(0xC02F)))},
		{capture.FromClient, cat(record(20, []byte{1}), record(22, ch))},
	}
	evs, _ = segmentTrace(trace)
	if s := shape(evs); s != "C:Handshake C:ClientHello S:Handshake S:ServerHello C:ChangeCipherSpec C:CCS C:Handshake C:ClientHello" {
		t.Errorf("after a ServerHello: %s", s)
	}

	// A CCS before any ServerHello followed by ciphertext: the ServerHello
	// is missing from the capture, the record is the encrypted Finished
	// and later handshake records are encrypted too.
	evs = feedSegments(capture.FromClient, record(22, ch), cat(record(20, []byte{1}), record(22, ciphertext(40))), record(22, ciphertext(60)))
	checkDescribed(t, "CCS then ciphertext", evs[2:],
		"C record ChangeCipherSpec len=1 rcv=1 trunc=false enc=false v2=false hs=[] off=217 frames=[2]",
		"C ccs off=217 frames=[2]",
		"C record Handshake len=40 rcv=40 trunc=false enc=true v2=false hs=[] off=223 frames=[2]",
		"C handshake Finished len=40 records=1 trunc=false enc=true body=<nil> err=<nil> off=223 frames=[2]",
		"C record Handshake len=60 rcv=60 trunc=false enc=true v2=false hs=[] off=268 frames=[3]")

	// An AEAD explicit nonce of zeros reads as empty HelloRequests: encrypted.
	evs = feedSegments(capture.FromClient, record(20, []byte{1}), record(22, make([]byte, 40)))
	checkDescribed(t, "zero nonce", evs[2:],
		"C record Handshake len=40 rcv=40 trunc=false enc=true v2=false hs=[] off=6 frames=[2]",
		"C handshake Finished len=40 records=1 trunc=false enc=true body=<nil> err=<nil> off=6 frames=[2]")

	// A message in progress when the doubtful CCS came goes on in clear.
	cert := hsMessage(TypeCertificate, make([]byte, 60))
	evs = feedSegments(capture.FromServer, record(22, cert[:30]), record(20, []byte{1}), record(22, cert[30:]))
	checkDescribed(t, "message in progress", evs,
		"S record Handshake len=30 rcv=30 trunc=false enc=false v2=false hs=[Certificate] off=0 frames=[1]",
		"S record ChangeCipherSpec len=1 rcv=1 trunc=false enc=false v2=false hs=[] off=35 frames=[2]",
		"S ccs off=35 frames=[2]",
		"S record Handshake len=34 rcv=34 trunc=false enc=false v2=false hs=[] off=41 frames=[3]",
		"S handshake Certificate len=60 records=2 trunc=false enc=false body=<nil> err=Certificate: malformed certificate list off=5 frames=[1 3]")
}

// TLS_ECDHE_RSA_WITH_NULL_SHA: after CCS the Finished and alerts are in
// clear, followed by a 20-byte MAC.
func TestNullCipherSuite(t *testing.T) {
	ch := hsMessage(TypeClientHello, espClientHello())
	mac := bytes.Repeat([]byte{0x5A}, 20)
	fin := hsMessage(TypeFinished, bytes.Repeat([]byte{0x33}, 12))
	trace := []segment{
		{capture.FromClient, record(22, ch)},
		{capture.FromServer, record(22, hsMessage(TypeServerHello, serverHello12(0xC010)))},
		{capture.FromClient, cat(record(20, []byte{1}), record(22, cat(fin, mac)))},
		{capture.FromServer, cat(record(20, []byte{1}), record(22, cat(fin, mac)))},
		{capture.FromClient, record(23, cat([]byte("GET / HTTP/1.0\r\n\r\n"), mac))},
		{capture.FromClient, record(21, cat([]byte{1, 0}, mac))},
	}
	evs, _ := segmentTrace(trace)
	checkDescribed(t, "NULL-SHA", evs[4:],
		"C record ChangeCipherSpec len=1 rcv=1 trunc=false enc=false v2=false hs=[] off=217 frames=[3]",
		"C ccs off=217 frames=[3]",
		"C record Handshake len=36 rcv=36 trunc=false enc=false v2=false hs=[Finished] off=223 frames=[3]",
		"C handshake Finished len=12 records=1 trunc=false enc=false body=<nil> err=<nil> off=228 frames=[3]",
		"S record ChangeCipherSpec len=1 rcv=1 trunc=false enc=false v2=false hs=[] off=49 frames=[4]",
		"S ccs off=49 frames=[4]",
		"S record Handshake len=36 rcv=36 trunc=false enc=false v2=false hs=[Finished] off=55 frames=[4]",
		"S handshake Finished len=12 records=1 trunc=false enc=false body=<nil> err=<nil> off=60 frames=[4]",
		"C record ApplicationData len=38 rcv=38 trunc=false enc=true v2=false hs=[] off=264 frames=[5]",
		"C record Alert len=22 rcv=22 trunc=false enc=false v2=false hs=[] off=307 frames=[6]",
		"C alert 1 close_notify enc=false off=307 frames=[6]")
	for _, i := range []int{6, 10, 13} {
		if r := evs[i].(*Record); r.MAC != 20 {
			t.Errorf("event %d: MAC %d, want 20", i, r.MAC)
		}
	}
	if r := evs[12].(*Record); r.MAC != 0 {
		t.Errorf("application data: MAC %d, want 0", r.MAC)
	}

	// A body that is no handshake message before the MAC is encrypted
	// after all (a suite mistaken for NULL, or a broken peer).
	trace[2].data = cat(record(20, []byte{1}), record(22, ciphertext(36)))
	evs, _ = segmentTrace(trace[:3])
	checkDescribed(t, "NULL-SHA, not plaintext", evs[6:],
		"C record Handshake len=36 rcv=36 trunc=false enc=true v2=false hs=[] off=223 frames=[3]",
		"C handshake Finished len=36 records=1 trunc=false enc=true body=<nil> err=<nil> off=223 frames=[3]")

	if mac, ok := nullSuiteMAC(0x003B); !ok || mac != 32 {
		t.Errorf("TLS_RSA_WITH_NULL_SHA256: %d %v", mac, ok)
	}
	if _, ok := nullSuiteMAC(0xC02F); ok {
		t.Error("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 taken for a NULL suite")
	}
}

// A type counts for a record only when its 4-byte header is complete in
// it and the type is known.
func TestHandshakeTypesCompleteHeaders(t *testing.T) {
	sh := hsMessage(TypeServerHello, serverHello12(0xC02F))
	for _, tc := range []struct {
		name string
		body []byte
		hs   string
	}{
		{"bogus partial header", cat(sh, []byte{0, 0, 0, 0}, []byte{124, 0}), "[ServerHello HelloRequest]"},
		{"known partial header", cat(sh, []byte{TypeCertificate, 0, 1}), "[ServerHello]"},
		{"unknown type after the first", cat(sh, []byte{132, 0, 0, 2, 7, 7}), "[ServerHello]"},
		{"unknown type with a long length", cat(sh, []byte{56, 0x30, 0x82, 0x05}), "[ServerHello]"},
	} {
		evs := feedSegments(capture.FromServer, record(22, tc.body))
		r := evs[0].(*Record)
		if got := describe(r); !strings.Contains(got, "enc=false") || !strings.Contains(got, "hs="+tc.hs+" ") {
			t.Errorf("%s: %s", tc.name, got)
		}
	}
	// A header split over two records is not listed in either; its
	// Handshake event still comes.
	cert := hsMessage(TypeCertificate, make([]byte, 20))
	evs := feedSegments(capture.FromServer, record(22, cat(sh, cert[:2])), record(22, cert[2:]))
	checkDescribed(t, "header split over records", []Event{evs[0], evs[2], evs[3]},
		"S record Handshake len=46 rcv=46 trunc=false enc=false v2=false hs=[ServerHello] off=0 frames=[1]",
		"S record Handshake len=22 rcv=22 trunc=false enc=false v2=false hs=[] off=51 frames=[2]",
		"S handshake Certificate len=20 records=2 trunc=false enc=false body=<nil> err=Certificate: malformed certificate list off=49 frames=[1 2]")
}

// Before the negotiation protects anything, a handshake record whose first
// message has an unknown type or an absurd length is not plaintext
// handshake (tshark: "Encrypted Handshake Message").
func TestUnknownFirstHandshakeType(t *testing.T) {
	sh := hsMessage(TypeServerHello, serverHello12(0xC02F))
	evs := feedSegments(capture.FromServer, record(22, sh), record(22, cat([]byte{9, 0, 2, 0xF2}, ciphertext(36))))
	checkDescribed(t, "unknown type", evs[2:],
		"S record Handshake len=40 rcv=40 trunc=false enc=true v2=false hs=[] off=49 frames=[2]")

	evs = feedSegments(capture.FromClient, record(22, cat([]byte{TypeCertificate, 0x9C, 0x4D, 0xDA}, ciphertext(44))))
	checkDescribed(t, "absurd length", evs,
		"C record Handshake len=48 rcv=48 trunc=false enc=true v2=false hs=[] off=0 frames=[1]")

	// Under 16 bytes a record is too short to be ciphertext: kept as
	// plaintext, the unknown type is not listed.
	evs = feedSegments(capture.FromClient, record(22, []byte{202, 0, 0, 1, 0}))
	checkDescribed(t, "short", evs,
		"C record Handshake len=5 rcv=5 trunc=false enc=false v2=false hs=[] off=0 frames=[1]",
		"C handshake handshake_202 len=1 records=1 trunc=false enc=false body=<nil> err=<nil> off=5 frames=[1]")

	// An alert record that is no run of alerts is protected.
	evs = feedSegments(capture.FromClient, record(21, cat([]byte{0x2F, 0x8F}, ciphertext(16))))
	checkDescribed(t, "alert", evs,
		"C record Alert len=18 rcv=18 trunc=false enc=true v2=false hs=[] off=0 frames=[1]",
		"C alert 0 close_notify enc=true off=0 frames=[1]")
}

// A pure SSLv2 session: the server answers the SSLv2 hello in SSLv2.
func TestSSLv2Session(t *testing.T) {
	v2 := func(body []byte) []byte { return cat([]byte{0x80 | byte(len(body)>>8), byte(len(body))}, body) }
	v2pad := func(body []byte, pad byte) []byte {
		return cat([]byte{byte(len(body) >> 8), byte(len(body)), pad}, body)
	}
	serverHello := v2(cat([]byte{v2ServerHello, 0, 1, 0, 2, 0, 3, 0, 3, 0, 16}, ciphertext(3), []byte{1, 0, 0x80}, ciphertext(16)))
	cmk := v2(cat([]byte{v2ClientMasterKey, 1, 0, 0x80, 0, 0, 0, 4, 0, 0}, ciphertext(4)))
	trace := []segment{
		{capture.FromClient, sslv2Hello()},
		{capture.FromServer, serverHello},
		{capture.FromClient, cmk},
		{capture.FromServer, v2pad(ciphertext(40), 7)},
		{capture.FromClient, v2pad(ciphertext(24), 7)},
		{capture.FromServer, v2(ciphertext(328))},
	}
	evs, _ := segmentTrace(trace)
	checkDescribed(t, "SSLv2", evs,
		"C record Handshake len=37 rcv=37 trunc=false enc=false v2=true hs=[ClientHello] off=0 frames=[1]",
		"C handshake ClientHello len=37 records=1 trunc=false enc=false body=*decode.ClientHello err=<nil> off=0 frames=[1]",
		"S record Handshake len=33 rcv=33 trunc=false enc=false v2=true hs=[NewSessionTicket] off=0 frames=[2]",
		"C record Handshake len=14 rcv=14 trunc=false enc=false v2=true hs=[ServerHello] off=39 frames=[3]",
		"S record ApplicationData len=40 rcv=40 trunc=false enc=true v2=true hs=[] off=35 frames=[4]",
		"C record ApplicationData len=24 rcv=24 trunc=false enc=true v2=true hs=[] off=55 frames=[5]",
		"S record ApplicationData len=328 rcv=328 trunc=false enc=true v2=true hs=[] off=78 frames=[6]")
	// (describe names the SSLv2 message types 4 and 2 with TLS names.)
	if r := evs[2].(*Record); r.Version != 0x0002 || SSLv2MessageName(r.HandshakeTypes[0]) != "SERVER-HELLO" {
		t.Errorf("server hello record: %s version %x", describe(r), r.Version)
	}
	if r := evs[3].(*Record); SSLv2MessageName(r.HandshakeTypes[0]) != "CLIENT-MASTER-KEY" || SSLv2MessageName(9) != "sslv2_9" {
		t.Errorf("client master key record: %s", describe(r))
	}
	for _, cut := range []func(int) []int{cutBytes, cutWhole} {
		got, _ := feedTrace(trace, cut, true)
		eventsEqual(t, "SSLv2 re-cut", evs, got)
	}

	// An SSLv2 hello answered in TLS stays TLS.
	evs = feedSegments(capture.FromServer, record(22, hsMessage(TypeServerHello, serverHello12(0x002F))))
	if s := shape(evs); s != "S:Handshake S:ServerHello" {
		t.Errorf("TLS answer: %s", s)
	}
	trace = []segment{
		{capture.FromClient, sslv2Hello()},
		{capture.FromServer, record(22, hsMessage(TypeServerHello, serverHello12(0x002F)))},
		{capture.FromClient, record(22, hsMessage(TypeClientKeyExchange, make([]byte, 10)))},
	}
	evs, _ = segmentTrace(trace)
	if s := shape(evs); s != "C:Handshake C:ClientHello S:Handshake S:ServerHello C:Handshake C:ClientKeyExchange" {
		t.Errorf("SSLv2 hello, TLS answer: %s", s)
	}
	// Not an SSLv2 answer: bytes with the high bit set from a server that
	// got no SSLv2 hello are not TLS.
	evs = feedSegments(capture.FromServer, cat([]byte{0x80, 0x02, 0x00, 0x02}, ciphertext(80)))
	if len(evs) != 1 || !strings.Contains(describe(evs[0]), "not-tls") {
		t.Errorf("no SSLv2 hello:\n%s", describeAll(evs))
	}
}
