package decode

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"tlspcap/capture"
)

func record(typ uint8, body []byte) []byte {
	return append([]byte{typ, 3, 3, byte(len(body) >> 8), byte(len(body))}, body...)
}

func recordHeader(typ uint8, n int) []byte {
	return []byte{typ, 3, 3, byte(n >> 8), byte(n)}
}

func hsMessage(typ uint8, body []byte) []byte {
	n := len(body)
	return append([]byte{typ, byte(n >> 16), byte(n >> 8), byte(n)}, body...)
}

// firstMessages returns the plaintext handshake messages (with headers) of
// one direction of a real trace.
func firstMessages(t *testing.T, name string, dir capture.Dir) [][]byte {
	var all []byte
	for _, s := range realTraces(t)[name] {
		if s.dir == dir {
			all = append(all, s.data...)
		}
	}
	var hs []byte
	for len(all) >= 5 && all[0] == ContentHandshake {
		n := int(all[3])<<8 | int(all[4])
		hs = append(hs, all[5:5+n]...)
		all = all[5+n:]
	}
	var msgs [][]byte
	for len(hs) >= 4 {
		m := int(hs[1])<<16 | int(hs[2])<<8 | int(hs[3])
		msgs = append(msgs, hs[:4+m])
		hs = hs[4+m:]
	}
	return msgs
}

// feedSegments feeds one direction's segments, segment i being frame i+1.
func feedSegments(dir capture.Dir, segs ...[]byte) []Event {
	var trace []segment
	for _, s := range segs {
		trace = append(trace, segment{dir, s})
	}
	evs, _ := segmentTrace(trace)
	return evs
}

func TestHandshakeOverThreeRecords(t *testing.T) {
	ch := firstMessages(t, "tls12-ecdhe-rsa-aes128-gcm", capture.FromClient)[0]
	a, b := len(ch)/3, 2*len(ch)/3
	segs := [][]byte{record(22, ch[:a]), record(22, ch[a:b]), record(22, ch[b:])}
	evs := feedSegments(capture.FromClient, segs...)
	got := describeAll(evs)
	want := strings.Join([]string{
		"C record Handshake len=69 rcv=69 trunc=false enc=false v2=false hs=[ClientHello] off=0 frames=[1]",
		"C record Handshake len=69 rcv=69 trunc=false enc=false v2=false hs=[] off=74 frames=[2]",
		"C record Handshake len=69 rcv=69 trunc=false enc=false v2=false hs=[] off=148 frames=[3]",
		"C handshake ClientHello len=203 records=3 trunc=false enc=false body=*decode.ClientHello err=<nil> off=5 frames=[1 2 3]",
	}, "\n") + "\n"
	if got != want {
		t.Errorf("got\n%swant\n%s", got, want)
	}
	// The same bytes one at a time, and with the 4-byte header cut 2+2.
	one, _ := feedTrace([]segment{{capture.FromClient, bytes.Join(segs, nil)}}, cutBytes, true)
	if len(one) != 4 || one[3].(*Handshake).Records != 3 {
		t.Errorf("byte at a time:\n%s", describeAll(one))
	}
	evs = feedSegments(capture.FromClient, record(22, ch[:2]), record(22, ch[2:]))
	if h, ok := evs[2].(*Handshake); !ok || h.Records != 2 || h.Body == nil || h.Offset != 5 {
		t.Errorf("header split over records:\n%s", describeAll(evs))
	}
}

func TestThreeMessagesInOneRecord(t *testing.T) {
	msgs := firstMessages(t, "tls12-client-cert", capture.FromServer)
	// ServerHello, Certificate, ServerKeyExchange, CertificateRequest, ServerHelloDone
	if len(msgs) != 5 {
		t.Fatalf("%d messages", len(msgs))
	}
	body := bytes.Join([][]byte{msgs[0], msgs[1], msgs[4]}, nil)
	evs := feedSegments(capture.FromServer, record(22, body))
	if s := shape(evs); s != "S:Handshake S:ServerHello S:Certificate S:ServerHelloDone" {
		t.Fatalf("shape %s", s)
	}
	r := evs[0].(*Record)
	if !bytes.Equal(r.HandshakeTypes, []uint8{TypeServerHello, TypeCertificate, TypeServerHelloDone}) {
		t.Errorf("HandshakeTypes %v", r.HandshakeTypes)
	}
	off := int64(5)
	for i, ev := range evs[1:] {
		h := ev.(*Handshake)
		if h.Records != 1 || h.Offset != off || h.ParseErr != nil {
			t.Errorf("message %d: %s", i, describe(h))
		}
		off += 4 + int64(h.Length)
	}
}

func TestTruncatedAtEnd(t *testing.T) {
	ch := firstMessages(t, "tls13", capture.FromClient)[0]
	full := record(22, ch)
	evs := feedSegments(capture.FromClient, full[:5+100])
	// The hello's length is crypto/tls's (it changes with the Go version).
	n := len(ch)
	want := fmt.Sprintf("C record Handshake len=%d rcv=100 trunc=true enc=false v2=false hs=[ClientHello] off=0 frames=[1]\n", n) +
		fmt.Sprintf("C handshake ClientHello len=%d records=1 trunc=true enc=false body=<nil> err=ClientHello: capture ends after 96 of %d bytes off=5 frames=[1]\n", n-4, n-4)
	if got := describeAll(evs); got != want {
		t.Errorf("got\n%swant\n%s", got, want)
	}
	// An application data record cut short, and a header cut short.
	evs = feedSegments(capture.FromServer, record(23, make([]byte, 40)), recordHeader(23, 300), make([]byte, 10), []byte{23, 3})
	want = "S record ApplicationData len=40 rcv=40 trunc=false enc=true v2=false hs=[] off=0 frames=[1]\n" +
		"S record ApplicationData len=300 rcv=12 trunc=true enc=true v2=false hs=[] off=45 frames=[2 3 4]\n"
	if got := describeAll(evs); got != want {
		t.Errorf("got\n%swant\n%s", got, want)
	}
	evs = feedSegments(capture.FromServer, record(23, make([]byte, 40)), []byte{23, 3})
	if len(evs) != 2 || !strings.Contains(describe(evs[1]), "the stream ends inside a record header (2 of 5 bytes)") {
		t.Errorf("cut header:\n%s", describeAll(evs))
	}
}

func TestGapInsideRecord(t *testing.T) {
	c, evs := collect()
	span := func(n, l int) []capture.Span { return []capture.Span{{Frame: frame(n), Len: l}} }
	head := append(recordHeader(23, 100), make([]byte, 30)...)
	c.Payload(capture.FromServer, head, span(1, len(head)))
	c.Gap(capture.FromServer, 20)
	tail := append(make([]byte, 50), record(23, make([]byte, 7))...)
	c.Payload(capture.FromServer, tail, span(3, len(tail)))
	c.End()
	want := "S record ApplicationData len=100 rcv=80 trunc=true enc=true v2=false hs=[] off=0 frames=[1 3]\n" +
		"S record ApplicationData len=7 rcv=7 trunc=false enc=true v2=false hs=[] off=105 frames=[3]\n"
	if got := describeAll(*evs); got != want {
		t.Errorf("gap inside a record:\ngot\n%swant\n%s", got, want)
	}

	// A gap that swallows the end of a record and the next header: the
	// reader finds the following records again.
	c, evs = collect()
	c.Payload(capture.FromServer, head, span(1, len(head)))
	c.Gap(capture.FromServer, 70+5+200+3) // rest of record 1, all of a 200-byte record, 3 bytes of a third
	rest := append(make([]byte, 97), record(23, make([]byte, 60))...)
	rest = append(rest, record(21, []byte{2, 40})...)
	c.Payload(capture.FromServer, rest, span(4, len(rest)))
	c.End()
	got := describeAll(*evs)
	want = "S record ApplicationData len=100 rcv=30 trunc=true enc=true v2=false hs=[] off=0 frames=[1]\n" +
		"S decode-error \"278 bytes missing from the capture; resynchronised on a record header at stream offset 410 after skipping 97 bytes\" off=105 frames=[4]\n" +
		"S record ApplicationData len=60 rcv=60 trunc=false enc=true v2=false hs=[] off=410 frames=[4]\n" +
		"S record Alert len=2 rcv=2 trunc=false enc=false v2=false hs=[] off=475 frames=[4]\n" +
		"S alert 2 handshake_failure enc=false off=475 frames=[4]\n"
	if got != want {
		t.Errorf("gap over a record boundary:\ngot\n%swant\n%s", got, want)
	}

	// A gap inside a handshake message spanning records: the message is
	// reported truncated and the next message parses.
	msgs := firstMessages(t, "tls12-client-cert", capture.FromServer)
	cert := msgs[1]
	c, evs = collect()
	r1 := record(22, cert[:300])
	c.Payload(capture.FromServer, r1, span(1, len(r1)))
	r2 := record(22, append(append([]byte{}, cert[300:]...), msgs[4]...))
	c.Payload(capture.FromServer, r2[:50], span(2, 50))
	c.Gap(capture.FromServer, 100)
	c.Payload(capture.FromServer, r2[150:], span(3, len(r2)-150))
	c.End()
	if s := shape(*evs); s != "S:Handshake S:Handshake S:Certificate S:ServerHelloDone" {
		t.Errorf("shape %s\n%s", s, describeAll(*evs))
	}
	if h := (*evs)[2].(*Handshake); !h.Truncated || h.Body != nil || h.Records != 2 {
		t.Errorf("%s", describe(h))
	}
	if h := (*evs)[3].(*Handshake); h.Truncated || h.ParseErr != nil {
		t.Errorf("%s", describe(h))
	}

	// A gap at the very start: the capture began mid-stream.
	c, evs = collect()
	c.Gap(capture.FromClient, 1000)
	junk := append(bytes.Repeat([]byte{0x41}, 33), record(23, make([]byte, 20))...)
	junk = append(junk, record(23, make([]byte, 20))...)
	c.Payload(capture.FromClient, junk, span(9, len(junk)))
	c.End()
	if s := shape(*evs); s != "C:decode-error C:ApplicationData(enc) C:ApplicationData(enc)" {
		t.Errorf("mid-stream start: %s\n%s", s, describeAll(*evs))
	}
}

func TestGapNoResync(t *testing.T) {
	c, evs := collect()
	c.Payload(capture.FromServer, record(23, make([]byte, 10)), []capture.Span{{Frame: frame(1), Len: 15}})
	c.Gap(capture.FromServer, 7)
	c.Payload(capture.FromServer, bytes.Repeat([]byte{0xAB}, 5000), []capture.Span{{Frame: frame(2), Len: 5000}})
	c.End()
	if s := shape(*evs); s != "S:ApplicationData(enc) S:decode-error" ||
		!strings.Contains(describe((*evs)[1]), "decoding of this direction stopped") {
		t.Errorf("%s", describeAll(*evs))
	}
}

func TestOversizedRecords(t *testing.T) {
	for _, n := range []int{18000, 65535} {
		body := make([]byte, n)
		evs := feedSegments(capture.FromServer, record(22, firstMessages(t, "tls13", capture.FromServer)[0]), record(23, body), record(21, []byte{1, 0}))
		r, ok := evs[2].(*Record)
		if !ok || r.Length != n || r.Received != n || r.Truncated || r.ContentType != ContentApplicationData {
			t.Errorf("%d:\n%s", n, describeAll(evs))
		}
		if len(evs) != 5 {
			t.Errorf("%d: %d events\n%s", n, len(evs), describeAll(evs))
		}
	}
	// An oversized plaintext handshake record is read too.
	big := hsMessage(TypeCertificate, append([]byte{0, 0x46, 0x53, 0, 0x46, 0x50}, make([]byte, 18000)...))
	evs := feedSegments(capture.FromServer, record(22, big))
	if r := evs[0].(*Record); r.Length != len(big) {
		t.Errorf("%s", describe(r))
	}
	if h := evs[1].(*Handshake); h.Length != 18006 || h.ParseErr != nil || len(h.Body.(*Certificate).Entries) != 1 ||
		h.Body.(*Certificate).Entries[0].ParseErr == nil {
		t.Errorf("%s", describe(h))
	}
}

// sslv2Hello builds an SSLv2-compatible ClientHello record (RFC 5246 E.2).
func sslv2Hello() []byte {
	specs := []byte{
		0x00, 0x00, 0x2F, // TLS_RSA_WITH_AES_128_CBC_SHA
		0x00, 0x00, 0x35, // TLS_RSA_WITH_AES_256_CBC_SHA
		0x01, 0x00, 0x80, // SSL_CK_RC4_128_WITH_MD5
		0x00, 0x00, 0xFF, // TLS_EMPTY_RENEGOTIATION_INFO_SCSV
	}
	challenge := bytes.Repeat([]byte{0xC5}, 16)
	body := []byte{1, 3, 1, 0, byte(len(specs)), 0, 0, 0, byte(len(challenge))}
	body = append(body, specs...)
	body = append(body, challenge...)
	return append([]byte{0x80 | byte(len(body)>>8), byte(len(body))}, body...)
}

func TestSSLv2Hello(t *testing.T) {
	evs := feedSegments(capture.FromClient, sslv2Hello(), record(22, firstMessages(t, "tls12-ecdhe-rsa-aes128-gcm", capture.FromClient)[1]))
	want := "C record Handshake len=37 rcv=37 trunc=false enc=false v2=true hs=[ClientHello] off=0 frames=[1]\n" +
		"C handshake ClientHello len=37 records=1 trunc=false enc=false body=*decode.ClientHello err=<nil> off=0 frames=[1]\n" +
		"C record Handshake len=37 rcv=37 trunc=false enc=false v2=false hs=[ClientKeyExchange] off=39 frames=[2]\n" +
		"C handshake ClientKeyExchange len=33 records=1 trunc=false enc=false body=<nil> err=<nil> off=44 frames=[2]\n"
	if got := describeAll(evs); got != want {
		t.Errorf("got\n%swant\n%s", got, want)
	}
	ch := evs[1].(*Handshake).Body.(*ClientHello)
	if !ch.SSLv2 || ch.Version != VersionTLS10 || len(ch.CipherSuites) != 3 || ch.CipherSuites[0] != 0x002F ||
		ch.CipherSuites[2] != 0x00FF || len(ch.SSLv2CipherSpecs) != 1 || ch.SSLv2CipherSpecs[0] != 0x010080 ||
		len(ch.Random) != 32 || ch.Random[15] != 0 || ch.Random[16] != 0xC5 {
		t.Errorf("%+v", ch)
	}
	if r := evs[0].(*Record); r.Version != VersionTLS10 {
		t.Errorf("record version %x", r.Version)
	}
	// Byte at a time gives the same.
	one, _ := feedTrace([]segment{{capture.FromClient, sslv2Hello()}}, cutBytes, true)
	if len(one) != 2 || one[1].(*Handshake).Body == nil {
		t.Errorf("byte at a time:\n%s", describeAll(one))
	}
}

func TestNotTLS(t *testing.T) {
	long := "HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Type: text/html\r\nContent-Length: 150\r\n\r\n<html>"
	cases := []struct {
		name  string
		dir   capture.Dir
		segs  []string
		proto string
		pre   string
	}{
		{"http response", capture.FromServer, []string{long}, "HTTP", long[:64]},
		{"http response split", capture.FromServer, []string{"HT", "TP/1.0 200 OK\r\n"}, "HTTP", "HTTP/1.0 200 OK\r\n"},
		{"http request", capture.FromClient, []string{"GET / HTTP/1.1\r\nHost: x\r\n\r\n"}, "HTTP", "GET / HTTP/1.1\r\nHost: x\r\n\r\n"},
		{"mqtt connack", capture.FromServer, []string{"\x20\x02\x00\x00"}, "MQTT", "\x20\x02\x00\x00"},
		{"mqtt connect", capture.FromClient, []string{"\x10\x12\x00\x04MQTT\x04\x02\x00\x3c\x00\x06esp32a"}, "MQTT", "\x10\x12\x00\x04MQTT\x04\x02\x00\x3c\x00\x06esp32a"},
		{"mqtt 3.1 connect", capture.FromClient, []string{"\x10\x14\x00\x06MQIsdp\x03\x02\x00\x3c\x00\x06esp32a"}, "MQTT", "\x10\x14\x00\x06MQIsdp\x03\x02\x00\x3c\x00\x06esp32a"},
		{"ssh banner", capture.FromServer, []string{"SSH-2.0-OpenSSH_9.6\r\n"}, "SSH", "SSH-2.0-OpenSSH_9.6\r\n"},
		{"smtp", capture.FromServer, []string{"220 mail.example ESMTP Postfix\r\n"}, "SMTP", "220 mail.example ESMTP Postfix\r\n"},
		{"ftp", capture.FromServer, []string{"220 ProFTPD Server ready\r\n"}, "FTP", "220 ProFTPD Server ready\r\n"},
		{"pop3", capture.FromServer, []string{"+OK POP3 ready\r\n"}, "POP3", "+OK POP3 ready\r\n"},
		{"imap", capture.FromServer, []string{"* OK IMAP4rev1 ready\r\n"}, "IMAP", "* OK IMAP4rev1 ready\r\n"},
		{"unknown", capture.FromServer, []string{"\x00\x01\x02"}, "unknown", "\x00\x01\x02"},
		{"handshake type, wrong version", capture.FromServer, []string{"\x16\x01\x00garbage"}, "unknown", "\x16\x01\x00garbage"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var segs [][]byte
			for _, s := range tc.segs {
				segs = append(segs, []byte(s))
			}
			segs = append(segs, []byte("more bytes that are never looked at"))
			evs := feedSegments(tc.dir, segs...)
			if len(evs) != 1 {
				t.Fatalf("%d events:\n%s", len(evs), describeAll(evs))
			}
			n, ok := evs[0].(*NotTLS)
			if !ok || n.Protocol != tc.proto || n.Offset != 0 || n.Frames[0] != 1 || n.Dir != tc.dir {
				t.Errorf("%s", describe(evs[0]))
			}
			if string(n.Prefix) != tc.pre && !strings.HasPrefix(tc.pre+"more bytes that are never looked at", string(n.Prefix)) {
				t.Errorf("prefix %q", n.Prefix)
			}
		})
	}
	// A short banner is reported at End (or after 64 bytes, or at a gap),
	// so that the prefix does not depend on how the bytes were segmented.
	c, evs := collect()
	c.Payload(capture.FromServer, []byte("SSH-2.0-x\r\n"), []capture.Span{{Frame: frame(1), Len: 11}})
	if len(*evs) != 0 {
		t.Errorf("SSH banner reported before End: %d events", len(*evs))
	}
	c.Gap(capture.FromServer, 10)
	if len(*evs) != 1 || (*evs)[0].(*NotTLS).Protocol != "SSH" {
		t.Errorf("SSH banner not reported at a gap:\n%s", describeAll(*evs))
	}
}

func TestUnparsableCertificate(t *testing.T) {
	msgs := firstMessages(t, "tls12-ecdhe-rsa-aes128-gcm", capture.FromServer)
	realDER := msgs[1][4+3+3:]
	garbage := []byte{0x30, 0x82, 0x01, 0x00, 0xde, 0xad, 0xbe, 0xef}
	var list []byte
	for _, der := range [][]byte{realDER, garbage} {
		list = append(list, byte(len(der)>>16), byte(len(der)>>8), byte(len(der)))
		list = append(list, der...)
	}
	body := append([]byte{byte(len(list) >> 16), byte(len(list) >> 8), byte(len(list))}, list...)
	evs := feedSegments(capture.FromServer, record(22, append(msgs[0], hsMessage(TypeCertificate, body)...)))
	h := evs[2].(*Handshake)
	cert, ok := h.Body.(*Certificate)
	if !ok || len(cert.Entries) != 2 {
		t.Fatalf("%s", describe(h))
	}
	if cert.Entries[0].Cert == nil || cert.Entries[0].ParseErr != nil {
		t.Errorf("first entry: %v", cert.Entries[0].ParseErr)
	}
	if cert.Entries[1].Cert != nil || cert.Entries[1].ParseErr == nil || !bytes.Equal(cert.Entries[1].Raw, garbage) {
		t.Errorf("second entry: %+v", cert.Entries[1])
	}
}

func TestAlerts(t *testing.T) {
	// TLS 1.2: a plaintext 2-byte alert after the peer's CCS is still read,
	// a longer one is encrypted.
	ccs := record(20, []byte{1})
	evs := feedSegments(capture.FromClient, ccs, record(21, []byte{2, 20}), record(21, make([]byte, 26)))
	if s := shape(evs); s != "C:ChangeCipherSpec C:CCS C:Alert C:alert(bad_record_mac) C:Alert(enc) C:alert(enc)" {
		t.Errorf("%s", s)
	}
	// Two alerts in one record.
	evs = feedSegments(capture.FromServer, record(21, []byte{1, 0, 2, 80}))
	if s := shape(evs); s != "S:Alert S:alert(close_notify) S:alert(internal_error)" {
		t.Errorf("%s", s)
	}
}

func TestNames(t *testing.T) {
	cases := []struct{ got, want string }{
		{CipherSuiteName(0x1301), "TLS_AES_128_GCM_SHA256"},
		{CipherSuiteName(0x1305), "TLS_AES_128_CCM_8_SHA256"},
		{CipherSuiteName(0xC02F), "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
		{CipherSuiteName(0x0A0A), "GREASE"},
		{CipherSuiteName(0xFEFE), "0xFEFE"},
		{VersionName(0x0303), "TLS 1.2"},
		{VersionName(0x0304), "TLS 1.3"},
		{VersionName(0x0300), "SSL 3.0"},
		{VersionName(0x1234), "0x1234"},
		{AlertName(0), "close_notify"},
		{AlertName(40), "handshake_failure"},
		{AlertName(116), "certificate_required"},
		{AlertName(120), "no_application_protocol"},
		{AlertName(200), "alert_200"},
		{HandshakeTypeName(11), "Certificate"},
		{ContentTypeName(23), "ApplicationData"},
		{ExtensionName(43), "supported_versions"},
		{ExtensionName(0), "server_name"},
		{ExtensionName(0xFAFA), "GREASE"},
		{GroupName(29), "x25519"},
		{GroupName(0x11EC), "X25519MLKEM768"},
		{SignatureSchemeName(0x0804), "rsa_pss_rsae_sha256"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	for v := 0; v < 1<<16; v++ {
		g := IsGREASE(uint16(v))
		want := v&0x0f0f == 0x0a0a && v>>8 == v&0xff
		if g != want {
			t.Fatalf("IsGREASE(%#x) = %v", v, g)
		}
	}
	for _, d := range []uint8{0, 10, 20, 21, 22, 30, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 60, 70, 71, 80, 86, 90, 100, 109, 110, 111, 112, 113, 114, 115, 116, 120} {
		if strings.HasPrefix(AlertName(d), "alert_") {
			t.Errorf("alert %d has no name", d)
		}
	}
}

// TestBounds: a message beyond tlspcap's bounds is counted, not kept, and
// what follows it decodes.
func TestBounds(t *testing.T) {
	sh := firstMessages(t, "tls12-ecdhe-rsa-aes128-gcm", capture.FromServer)[0]
	done := hsMessage(TypeServerHelloDone, nil)
	// certs is a Certificate body listing n entries of der.
	certs := func(n int, der []byte) []byte {
		var list []byte
		for range n {
			list = append(list, byte(len(der)>>16), byte(len(der)>>8), byte(len(der)))
			list = append(list, der...)
		}
		return append([]byte{byte(len(list) >> 16), byte(len(list) >> 8), byte(len(list))}, list...)
	}
	// split puts handshake bytes into records of at most 16384 bytes, one
	// segment (frame) each.
	split := func(hs []byte) [][]byte {
		var segs [][]byte
		for len(hs) > 0 {
			n := min(len(hs), 1<<14)
			segs = append(segs, record(22, hs[:n]))
			hs = hs[n:]
		}
		return segs
	}
	cases := []struct {
		name        string
		cert        []byte // the Certificate message, after a ServerHello in the same record
		limit       *LimitError
		kept, count int
	}{
		{"message one byte over MaxKeptMessage", hsMessage(TypeCertificate, certs(1, make([]byte, MaxKeptMessage-5))),
			&LimitError{Type: TypeCertificate, Length: MaxKeptMessage + 1, Limit: MaxKeptMessage}, 0, 0},
		{"message of MaxKeptMessage", hsMessage(TypeCertificate, certs(1, make([]byte, MaxKeptMessage-6))), nil, 1, 1},
		{"certificates over MaxCertificates", hsMessage(TypeCertificate, certs(1000, nil)), nil, MaxCertificates, 1000},
		{"MaxCertificates certificates", hsMessage(TypeCertificate, certs(MaxCertificates, []byte{0x30, 0})), nil, MaxCertificates, MaxCertificates},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			segs := split(append(append(slices.Clone(sh), tc.cert...), done...))
			evs := feedSegments(capture.FromServer, segs...)
			var cert, sdone *Handshake
			for _, ev := range evs {
				if h, ok := ev.(*Handshake); ok && h.Type == TypeCertificate {
					cert = h
				} else if ok && h.Type == TypeServerHelloDone {
					sdone = h
				}
			}
			if cert == nil || sdone == nil || sdone.Truncated || sdone.ParseErr != nil {
				t.Fatalf("Certificate %v, ServerHelloDone %v", cert, sdone)
			}
			if cert.Frames[0] != 1 || cert.Records != len(segs) || cert.Truncated {
				t.Errorf("Certificate: frames %v, %d records (want %d)", cert.Frames[:1], cert.Records, len(segs))
			}
			var le *LimitError
			if errors.As(cert.ParseErr, &le) != (tc.limit != nil) || le != nil && *le != *tc.limit {
				t.Errorf("ParseErr %v, want %+v", cert.ParseErr, tc.limit)
			}
			if tc.limit != nil {
				if cert.Body != nil || le.Error() != "Certificate of 1048577 bytes is too large to keep (tlspcap keeps up to 1048576 bytes)" {
					t.Errorf("body %T, error %q", cert.Body, le)
				}
				return
			}
			c, ok := cert.Body.(*Certificate)
			if !ok || len(c.Entries) != tc.kept || c.Count != tc.count {
				t.Fatalf("Certificate: %T %v", cert.Body, cert.ParseErr)
			}
		})
	}
}
