package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"html"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"tlspcap/diagnose"
	"tlspcap/internal/pcapbuild"
	"tlspcap/internal/wiretext"
)

// Hostile names a server or a misconfigured device can put on the wire:
// bidi overrides and isolates, zero-width characters, C0 and C1 controls,
// ANSI escape sequences, bytes that are not UTF-8.
const (
	hostileSNI = "evil\u202Emoc.elgoog\u200B\u200E\u061C\x1b[2J\xc2\x9b31m\xff.example"
	hostileCN  = "evil\u202Emoc.elgoog\u2066x\u2069\u200D\uFEFF\x1b]0;pwned\x07\xc2\x85"
	hostileO   = "Org\u200C\u202A\u202B\u202C\u202D\u2067\u2068\u200F\x00\x7f\xc2\x9b"
	hostileOU  = "t61\x9b31m\x85"              // T61String, read as Latin-1: C1 controls
	hostileSAN = "san\x1b[31m\x01\x7f.example" // dNSName is IA5 (ASCII): controls only
	hostileAIA = "http://ca.example/\u202Eevil\u200B.crt"
	hostileCRL = "http://crl.example/\u2066x\u061C.crl\xff"
)

var oidCN, oidO, oidOU = asn1.ObjectIdentifier{2, 5, 4, 3}, asn1.ObjectIdentifier{2, 5, 4, 10}, asn1.ObjectIdentifier{2, 5, 4, 11}

// rawName is a distinguished name of (type, ASN.1 string tag, bytes)
// triples, written as given.
func rawName(attrs ...any) pkix.Name {
	var n pkix.Name
	for i := 0; i < len(attrs); i += 3 {
		n.ExtraNames = append(n.ExtraNames, pkix.AttributeTypeAndValue{Type: attrs[i].(asn1.ObjectIdentifier),
			Value: asn1.RawValue{Tag: attrs[i+1].(int), Bytes: []byte(attrs[i+2].(string))}})
	}
	return n
}

// hostileCapture is one connection: a ClientHello whose SNI is hostileSNI,
// the server's ServerHello and Certificate (a leaf named hostileCN,
// hostileO and hostileOU, SAN hostileSAN, AIA hostileAIA, CRL hostileCRL, issued by a CA
// whose CN is 65536 characters long, which comes second), the client's
// bad_certificate alert. It returns the file and the frames of the
// ClientHello and of the Certificate's first segment.
func hostileCapture(t *testing.T) (string, int, int) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	nb, na := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC)
	caTpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: rawName(oidCN, asn1.TagUTF8String, strings.Repeat("a", 65536)),
		NotBefore: nb, NotAfter: na, IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTpl, caTpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	leafTpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: rawName(oidCN, asn1.TagUTF8String, hostileCN, oidO, asn1.TagUTF8String, hostileO, oidOU, asn1.TagT61String, hostileOU),
		NotBefore: nb, NotAfter: na, DNSNames: []string{hostileSAN}, IssuingCertificateURL: []string{hostileAIA},
		CRLDistributionPoints: []string{hostileCRL}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTpl, ca, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(leafDER)
	if err != nil {
		t.Fatal(err)
	}
	if leaf.Subject.CommonName != hostileCN || leaf.IssuingCertificateURL[0] != hostileAIA {
		t.Fatalf("the certificate does not carry the hostile names: %q %q", leaf.Subject.CommonName, leaf.IssuingCertificateURL)
	}

	c := pcapbuild.New()
	k := c.Conn("192.168.4.23:51000", "203.0.113.10:443")
	k.Handshake()
	hello := k.Send(pcapbuild.C2S, pcapbuild.Record(22, 0x0301, pcapbuild.ClientHello12([]byte(hostileSNI))))
	k.Send(pcapbuild.S2C, pcapbuild.Record(22, 0x0303, pcapbuild.ServerHello12(0xC02B)))
	cert := k.SendSegments(pcapbuild.S2C, pcapbuild.Records(22, 0x0303, append(pcapbuild.CertificateMessage(leafDER, caDER), 14, 0, 0, 0)), 1460)
	k.Send(pcapbuild.C2S, pcapbuild.Alert(2, 42))
	k.FIN(pcapbuild.C2S)
	k.FIN(pcapbuild.S2C)
	path := filepath.Join(t.TempDir(), "hostile.pcap")
	if err := os.WriteFile(path, c.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, hello, cert
}

// checkNothingHidden scans output bytes: valid UTF-8 and no character that
// hides or reorders text or acts on a terminal (wiretext.Hidden), but the
// format's own newlines and tabs.
func checkNothingHidden(t *testing.T, what string, out []byte) {
	t.Helper()
	if !utf8.Valid(out) {
		i := 0
		for i < len(out) {
			r, n := utf8.DecodeRune(out[i:])
			if r == utf8.RuneError && n == 1 {
				break
			}
			i += n
		}
		t.Errorf("%s: not UTF-8 at byte %d: %q", what, i, out[max(0, i-40):min(len(out), i+40)])
	}
	for i, r := range string(out) {
		if r != '\n' && r != '\t' && wiretext.Hidden(r) {
			t.Errorf("%s: raw %U at byte %d: %q", what, r, i, out[max(0, i-40):min(len(out), i+40)])
			return
		}
	}
}

var longRun = regexp.MustCompile(`a{300,}`)

// TestHostileNamesEverySubcommand renders the hostile capture in every
// format of every subcommand (analyze, records, certs, live -r -): no raw
// bidi, zero-width or control character reaches any output; the human
// formats show them as escapes and cut the 64 KB name with its length;
// JSON keeps every value whole; analyze flags the SNI and the certificate
// with suspicious-name.
func TestHostileNamesEverySubcommand(t *testing.T) {
	path, helloFrame, certFrame := hostileCapture(t)
	pcap, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	type runSpec struct {
		args  []string
		stdin []byte
	}
	var runs []runSpec
	for _, f := range []string{"text", "markdown", "json", "html"} {
		runs = append(runs, runSpec{args: []string{"analyze", "--no-progress", "--format", f, path}},
			runSpec{args: []string{"analyze", "--no-progress", "--all", "--format", f, path}})
	}
	for _, cmd := range []string{"records", "certs"} {
		for _, f := range []string{"text", "markdown", "json"} {
			runs = append(runs, runSpec{args: []string{cmd, "--no-progress", "--format", f, path}})
		}
	}
	for _, f := range []string{"text", "json"} {
		runs = append(runs, runSpec{args: []string{"live", "-r", "-", "--no-progress", "--format", f}, stdin: pcap},
			runSpec{args: []string{"live", "-r", "-", "--no-progress", "--all", "--format", f}, stdin: pcap})
	}
	for _, r := range runs {
		var out, errb bytes.Buffer
		code := run(r.args, bytes.NewReader(r.stdin), &out, &errb)
		what := strings.Join(r.args[:len(r.args)-1], " ")
		if code == exitUsage {
			t.Errorf("%s: exit %d: %s", what, code, errb.String())
			continue
		}
		checkNothingHidden(t, what, out.Bytes())
		checkNothingHidden(t, what+" (stderr)", errb.Bytes())
		o := out.String()
		isJSON := slices.Contains(r.args, "json")
		if isJSON {
			if r.args[0] != "records" && !strings.Contains(o, strings.Repeat("a", 65536)) {
				t.Errorf("%s: JSON does not keep the 64 KB name whole", what)
			}
			if r.args[0] != "live" && !strings.Contains(o, `\u202e`) {
				t.Errorf("%s: JSON lacks the \\u202e escape", what)
			}
			continue
		}
		if m := longRun.FindString(o); m != "" {
			t.Errorf("%s: a run of %d characters of the 64 KB name is shown", what, len(m))
		}
		if r.args[0] == "certs" && !strings.Contains(o, "aaaa… (65539 characters)") {
			t.Errorf("%s: the 64 KB name is not cut with a note of its length", what)
		}
		if want := wiretext.Escape(hostileSNI); r.args[0] != "certs" && !strings.Contains(o, want) &&
			!strings.Contains(o, strings.ReplaceAll(strings.ReplaceAll(want, `\`, `\\`), "[", `\[`)) {
			t.Errorf("%s: does not show the SNI as %s", what, want)
		}
	}

	// JSON: the values as received (bytes that are not UTF-8 as U+FFFD),
	// and suspicious-name with the frames and the escaped names.
	var out, errb bytes.Buffer
	run([]string{"analyze", "--no-progress", "--format", "json", path}, nil, &out, &errb)
	var rep diagnose.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Connections) != 1 {
		t.Fatalf("%d connections", len(rep.Connections))
	}
	c := rep.Connections[0]
	valid := func(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }
	if c.SNI != valid(hostileSNI) {
		t.Errorf("JSON SNI %q, want %q", c.SNI, valid(hostileSNI))
	}
	// (The certificate rows write C0 and C1 controls as \x escapes.)
	if len(c.Certificates) != 2 || !strings.Contains(c.Certificates[0].Subject, "CN=evil\u202Emoc.elgoog\u2066x\u2069\u200D\uFEFF") ||
		!slices.Equal(c.Certificates[0].AIA, []string{hostileAIA}) || !slices.Equal(c.Certificates[0].SANs, []string{`DNS:san\x1b[31m\x01\x7f.example`}) {
		t.Errorf("JSON certificates lost the names: %+v", c.Certificates)
	}
	var sus []diagnose.Finding
	for _, f := range c.Findings {
		if f.ID == "suspicious-name" {
			sus = append(sus, f)
		}
	}
	if len(sus) != 2 {
		t.Fatalf("%d suspicious-name findings, want 2 (SNI, leaf): %+v", len(sus), c.Findings)
	}
	if sus[0].Severity != diagnose.SeverityWarning || !slices.Equal(sus[0].Frames, []int{helloFrame}) ||
		sus[0].Title != `Invisible, bidi or control characters in the SNI: "`+wiretext.Escape(hostileSNI)+`"` ||
		!strings.Contains(sus[0].Explanation, `In frame `+strconv.Itoa(helloFrame)+` the ClientHello's server name (SNI) is "`+wiretext.Escape(hostileSNI)+`".`) ||
		!strings.Contains(sus[0].Explanation, "U+202E (bidi control, reorders text), U+200B (zero-width)") {
		t.Errorf("SNI finding: %+v", sus[0])
	}
	for _, want := range []string{`subject "CN=evil\u202Emoc.elgoog\u2066x\u2069\u200D\uFEFF\x1b]0\;pwned\x07\x85,OU=t61\x9b31m\x85,O=Org\u200C`, `AIA URL "` + wiretext.Escape(hostileAIA) + `"`,
		`CRL URL "` + wiretext.Escape(hostileCRL) + `"`, `SAN "` + wiretext.Escape(hostileSAN) + `"`} {
		if !strings.Contains(sus[1].Explanation, want) {
			t.Errorf("certificate finding lacks %s: %s", want, sus[1].Explanation)
		}
	}
	if !slices.Equal(sus[1].Frames, []int{certFrame}) || !strings.HasPrefix(sus[1].Title, `Invisible, bidi or control characters in the server's certificate #0: subject "CN=evil\u202E`) {
		t.Errorf("certificate finding: frames %v, title %q; want frame %d", sus[1].Frames, sus[1].Title, certFrame)
	}
}

// TestHostileNamesRedacted: with --redact, the hostile names reach no
// format, escaped or not (the suspicious-name finding names pseudonyms),
// and the finding still says what the name held.
func TestHostileNamesRedacted(t *testing.T) {
	path, _, _ := hostileCapture(t)
	for _, f := range []string{"text", "markdown", "json", "html"} {
		var out, errb bytes.Buffer
		run([]string{"analyze", "--no-progress", "--all", "--redact", "--format", f, path}, nil, &out, &errb)
		o := out.String()
		if f == "html" {
			o = html.UnescapeString(o)
		}
		checkNothingHidden(t, "analyze --redact "+f, out.Bytes())
		// The finding's own example ("evil\u202Emoc.elgoog") is the tool's
		// words; the capture's name goes on past it.
		for _, leak := range []string{"moc.elgoog\\u200B", "elgoog\u200b", wiretext.Escape(hostileSNI), "192.168.4.23", "203.0.113.10"} {
			if strings.Contains(o, leak) {
				t.Errorf("analyze --redact --format %s shows %q", f, leak)
			}
		}
		if !strings.Contains(o, "suspicious-name") || !strings.Contains(o, "U+202E (bidi") {
			t.Errorf("analyze --redact --format %s: no suspicious-name finding saying U+202E", f)
		}
	}
}
