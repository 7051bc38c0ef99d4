package chain

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"strings"
	"testing"
	"time"
)

func TestPredictAlert(t *testing.T) {
	for _, tc := range []struct {
		flags uint32
		want  uint8
	}{
		{FlagsFatal, 49},
		{FlagOther, 49},
		{FlagCNMismatch | FlagNotTrusted, 42},
		{FlagCNMismatch | FlagBadKey, 42},
		{FlagBadKey | FlagExpired, 43},
		{FlagKeyUsage, 43},
		{FlagExtKeyUsage, 43},
		{FlagNSCertType, 43},
		{FlagBadPK, 43},
		{FlagExpired | FlagNotTrusted, 45},
		{FlagRevoked | FlagNotTrusted, 44},
		{FlagNotTrusted, 48},
		{FlagNotTrusted | FlagBadMD, 48},
		{FlagFuture, 46},
		{FlagBadMD, 46},
		{0, 46},
	} {
		if got := PredictAlert(tc.flags); got != tc.want {
			t.Errorf("PredictAlert(%#x) = %d, want %d", tc.flags, got, tc.want)
		}
	}
}

func TestDeviceVerifyVersionsAndSettings(t *testing.T) {
	p := newPKI(t, spec{})
	ipLeaf := issue(t, spec{cn: "broker", ips: []string{"192.168.1.10"}}, p.inter)
	in := Input{Certs: certs(ipLeaf, p.inter), ServerName: "192.168.1.10", CA: certs(p.root), Time: capT}
	if f, c := DeviceVerify(in, 3, false, false); f != 0 || c != 0 {
		t.Errorf("3.6 IP SAN: flags %#x code %d, want ok", f, c)
	}
	if f, c := DeviceVerify(in, 2, false, false); f != FlagCNMismatch || c != ErrCertVerifyFailed {
		t.Errorf("2.28 IP SAN: flags %#x code %d", f, c)
	}
	if v := Verify(in, Device{MbedTLS: Version{3, 4}}); v.Flags != FlagCNMismatch {
		t.Errorf("3.4 IP SAN: flags %#x, want CN_MISMATCH (IP SANs arrived in 3.5.0)", v.Flags)
	}
	// The analysis lists the verdicts of other versions so the observed alert can pick one.
	r := Analyze(in)
	if got := r.ConsistentWith(42); len(got) == 0 || got[0].Device.MbedTLS.Major != 2 && got[0].Device.MbedTLS != (Version{3, 4}) {
		t.Errorf("ConsistentWith(42) = %+v, want the 2.28 / 3.4 variants", got)
	}
	if got := r.ConsistentWith(48); len(got) != 0 {
		t.Errorf("ConsistentWith(48) = %+v, want none", got)
	}

	// bundle=true with a private chain: the bundle has no such root.
	if f, c := DeviceVerify(in, 3, true, false); f != FlagsFatal || c != ErrX509Fatal {
		t.Errorf("bundle: flags %#x code %d, want 0xFFFFFFFF -0x3000", f, c)
	}
	// No CA at all, verification required.
	if v := Verify(Input{Certs: in.Certs, Time: capT}, Device{}); v.Code != ErrCAChainRequired {
		t.Errorf("no CA: code %d, want -0x7680", v.Code)
	}
	// SHA-224 is acceptable to 2.28, not to 3.6: checked through the profile table.
	if !mdAllowed("SHA-224", Version{2, 28}) || mdAllowed("SHA-224", Version{3, 6}) || mdAllowed("SHA-1", Version{2, 28}) {
		t.Error("hash profile wrong")
	}
}

func TestDatesVariant(t *testing.T) {
	p := newPKI(t, spec{})
	exp := issue(t, spec{cn: "dev.example.com", dns: []string{"dev.example.com"}, notAfter: capT.Add(-24 * time.Hour)}, p.inter)
	r := Analyze(Input{Certs: certs(exp, p.inter), ServerName: "dev.example.com", CA: certs(p.root), Time: capT})
	if r.Device.Code != 0 {
		t.Fatalf("dates unchecked by default, got %+v", r.Device)
	}
	pr := problem(r, "certificate-expired")
	if pr == nil || pr.Severity != "warning" || pr.Flags != FlagExpired || pr.Conditional == "" {
		t.Fatalf("certificate-expired problem: %+v", pr)
	}
	if !strings.Contains(pr.Explanation, "CONFIG_MBEDTLS_HAVE_TIME_DATE") || !strings.Contains(pr.Explanation, "2026-02-28") {
		t.Errorf("explanation lacks the option or the date: %s", pr.Explanation)
	}
	got := r.ConsistentWith(45)
	if len(got) != 1 || !got[0].Device.CheckDates || got[0].Code != ErrCertVerifyFailed {
		t.Errorf("ConsistentWith(45) = %+v, want the dates-checked variant", got)
	}
}

// A chain whose top certificate names a real Mozilla root as issuer but is
// signed by another key: the bundle finds the root by name and the
// signature fails.
func TestRealMozillaRoot(t *testing.T) {
	var isrg *x509.Certificate
	for _, c := range MozillaRoots() {
		if c.Subject.CommonName == "ISRG Root X1" {
			isrg = c
		}
	}
	if isrg == nil {
		t.Fatal("ISRG Root X1 not in the embedded roots")
	}
	t.Logf("%d Mozilla roots parsed in %v", len(MozillaRoots()), RootsLoadTime())
	fakeKey := rsaKey(t, 2048)
	fakeRoot := &kc{cert: &x509.Certificate{RawSubject: isrg.RawSubject, Subject: isrg.Subject, PublicKey: fakeKey.Public(),
		BasicConstraintsValid: true, IsCA: true}, key: fakeKey}
	inter := issue(t, spec{cn: "R99", ca: true}, fakeRoot)
	if !bytes.Equal(inter.cert.RawIssuer, isrg.RawSubject) {
		t.Fatal("intermediate's issuer is not ISRG Root X1's subject")
	}
	leaf := issue(t, spec{cn: "dev.example.com", dns: []string{"dev.example.com"}}, inter)

	r := Analyze(Input{Certs: certs(leaf, inter), ServerName: "dev.example.com", Time: capT})
	if r.Device.Code != ErrX509Fatal || r.Device.Flags != FlagsFatal || r.Device.Alert != 49 {
		t.Errorf("device = %+v", r.Device)
	}
	if !strings.Contains(r.Device.Reason, "Certificate matched but signature verification failed") {
		t.Errorf("reason: %s", r.Device.Reason)
	}
	if got := ids(r); len(got) != 1 || got[0] != "chain-untrusted" || !strings.Contains(r.Problems[0].Title, "ISRG Root X1") {
		t.Errorf("problems: %+v", r.Problems)
	}

	// The real root sent at the top: the bundle validates the root itself
	// (its issuer is itself), then the intermediate's NOT_TRUSTED (bad
	// signature from the sent root) triggers a second lookup that fails.
	r = Analyze(Input{Certs: []*x509.Certificate{leaf.cert, inter.cert, isrg}, ServerName: "dev.example.com", Time: capT})
	if r.Device.Code != ErrX509Fatal || r.Device.Alert != 49 {
		t.Errorf("root sent: device = %+v", r.Device)
	}
	if !strings.Contains(r.Device.Reason, "certificate #1") {
		t.Errorf("root sent: reason %q should blame certificate #1", r.Device.Reason)
	}
	if p := problem(r, "chain-untrusted"); p == nil || p.Cert != 1 {
		t.Errorf("root sent: problems %+v", r.Problems)
	}
	var sawRoot bool
	for _, e := range r.DeviceView.Elements {
		if e.Index == 2 && strings.Contains(e.Status, "ISRG Root X1") {
			sawRoot = true
		}
	}
	if !sawRoot {
		t.Errorf("device view should show the sent root validated by the bundle: %+v", r.DeviceView.Elements)
	}
}

func TestBrowserComparison(t *testing.T) {
	p := newPKI(t, spec{})
	def := issue(t, spec{cn: "default.hosting.example", dns: []string{"default.hosting.example"}}, p.inter)
	i2 := issue(t, spec{cn: "Test Intermediate CA", ca: true}, p.root) // same name, other key

	t.Run("missing intermediate", func(t *testing.T) {
		r := Analyze(Input{Certs: certs(p.leaf), Browser: certs(p.leaf, p.inter), ServerName: "dev.example.com",
			CA: certs(p.root), Time: capT})
		if got := ids(r); strings.Join(got, ",") != "chain-differs-from-browser,chain-incomplete" {
			t.Fatalf("ids %v", got)
		}
		inc := problem(r, "chain-incomplete")
		if !strings.Contains(inc.Explanation, fingerprint(p.inter.cert)) || !strings.Contains(inc.Explanation, "http://ca.example/inter.crt") {
			t.Errorf("chain-incomplete should name the browser's intermediate and the AIA URL: %s", inc.Explanation)
		}
		d := problem(r, "chain-differs-from-browser")
		if d.Severity != "error" || !strings.Contains(d.Title, "intermediate") {
			t.Errorf("differs: %+v", d)
		}
		if !r.BrowserView.OK || len(r.BrowserView.Elements) != 3 || r.BrowserView.Elements[1].Source != "browser" {
			t.Errorf("browser view: %+v", r.BrowserView)
		}
	})
	t.Run("different leaf without SNI", func(t *testing.T) {
		r := Analyze(Input{Certs: certs(def, p.inter), Browser: certs(p.leaf, p.inter), CA: certs(p.root), Time: capT})
		d := problem(r, "chain-differs-from-browser")
		if d == nil || !strings.Contains(d.Title, "different server certificate") || !strings.Contains(d.Explanation, "no SNI") {
			t.Errorf("differs: %+v", d)
		}
		if problem(r, "missing-sni") == nil {
			t.Error("missing-sni expected")
		}
	})
	t.Run("same name, different intermediate", func(t *testing.T) {
		r := Analyze(Input{Certs: certs(p.leaf, i2), Browser: certs(p.leaf, p.inter), ServerName: "dev.example.com",
			CA: certs(p.root), Time: capT})
		d := problem(r, "chain-differs-from-browser")
		if d == nil || !strings.Contains(d.Explanation, "same name") {
			t.Errorf("differs: %+v", d)
		}
		if r.Device.Flags != FlagNotTrusted || r.Device.Code != ErrCertVerifyFailed {
			t.Errorf("device %+v", r.Device)
		}
		if p := problem(r, "chain-untrusted"); p == nil || p.Cert != 0 {
			t.Errorf("want chain-untrusted on the leaf (bad signature): %+v", r.Problems)
		}
	})
	t.Run("order", func(t *testing.T) {
		r := Analyze(Input{Certs: certs(p.leaf, p.inter, p.root), Browser: certs(p.leaf, p.root, p.inter),
			ServerName: "dev.example.com", CA: certs(p.root), Time: capT})
		d := problem(r, "chain-differs-from-browser")
		if d == nil || d.Severity != "warning" || !strings.Contains(d.Explanation, "different order") {
			t.Errorf("differs: %+v", d)
		}
	})
	t.Run("same chain", func(t *testing.T) {
		r := Analyze(Input{Certs: certs(p.leaf, p.inter), Browser: certs(p.leaf, p.inter), ServerName: "dev.example.com",
			CA: certs(p.root), Time: capT})
		if len(r.Problems) != 0 {
			t.Errorf("problems: %+v", r.Problems)
		}
	})
}

func TestNames(t *testing.T) {
	for _, tc := range []struct {
		pattern, name string
		want          bool
	}{
		{"dev.example.com", "DEV.Example.com", true},
		{"*.example.com", "a.example.com", true},
		{"*.example.com", "example.com", false},
		{"*.example.com", "a.b.example.com", false},
		{"*.example.com", ".example.com", false},
		{"a*.example.com", "ab.example.com", false},
	} {
		if got := checkCN(tc.pattern, tc.name); got != tc.want {
			t.Errorf("checkCN(%q, %q) = %v", tc.pattern, tc.name, got)
		}
	}
	// CN is used only when there is no subjectAltName extension.
	p := newPKI(t, spec{})
	noSAN := issue(t, spec{cn: "10.1.2.3", dns: []string{}}, p.inter)
	if ok, how := nameMatch(noSAN.cert, "10.1.2.3", Version{2, 28}); !ok || how != "CN=10.1.2.3" {
		t.Errorf("CN fallback: %v %q", ok, how)
	}
	withSAN := issue(t, spec{cn: "10.1.2.3", dns: []string{"x.example.com"}}, p.inter)
	if ok, _ := nameMatch(withSAN.cert, "10.1.2.3", Version{3, 6}); ok {
		t.Error("CN must be ignored when a SAN extension exists")
	}

	// DN comparison: PrintableString vs UTF8String, case-insensitive, as mbedTLS.
	a := rawName(t, asn1.RawValue{Tag: 19, Class: 0, Bytes: []byte("Test CA")})
	b := rawName(t, asn1.RawValue{Tag: 12, Class: 0, Bytes: []byte("TEST ca")})
	c := rawName(t, asn1.RawValue{Tag: 22, Class: 0, Bytes: []byte("Test CA")}) // IA5String
	if !nameEqual(a, b) {
		t.Error("PrintableString and UTF8String differing in case must match")
	}
	if nameEqual(a, c) {
		t.Error("IA5String vs PrintableString must not match")
	}
	if bytes.Equal(a, b) {
		t.Error("test names should differ in bytes")
	}
}

func rawName(t *testing.T, v asn1.RawValue) []byte {
	type atv struct {
		Type  asn1.ObjectIdentifier
		Value asn1.RawValue
	}
	der, err := asn1.Marshal([][]atv{{{Type: oidCN, Value: v}}})
	if err != nil {
		t.Fatal(err)
	}
	// [][]atv marshals as SEQUENCE OF SEQUENCE; make the inner ones SETs.
	var seq []asn1.RawValue
	if _, err := asn1.Unmarshal(der, &seq); err != nil {
		t.Fatal(err)
	}
	for i := range seq {
		seq[i].Tag = 17
		seq[i].FullBytes = nil
	}
	out, err := asn1.Marshal(seq)
	if err != nil {
		t.Fatal(err)
	}
	var rdn pkix.RDNSequence
	if _, err := asn1.Unmarshal(out, &rdn); err != nil {
		t.Fatalf("not a Name: %v", err)
	}
	return out
}

func TestDescribeAndPEM(t *testing.T) {
	p := newPKI(t, spec{ips: []string{"192.168.1.10"}, dns: []string{"dev.example.com"}})
	d := Describe(p.leaf.cert, nil)
	if d.KeyType != "ECDSA" || d.KeyBits != 256 || d.Curve != "P-256" || d.SignatureAlgorithm != "ECDSA-SHA256" ||
		d.SelfSigned || d.IsCA || len(d.SHA256) != 64 || d.Size != len(p.leaf.cert.Raw) ||
		strings.Join(d.SANs, ",") != "DNS:dev.example.com,IP:192.168.1.10" || d.AIA[0] != "http://ca.example/inter.crt" {
		t.Errorf("Describe = %+v", d)
	}
	if r := Describe(p.root.cert, nil); !r.SelfSigned || !r.IsCA {
		t.Errorf("root: %+v", r)
	}
	var buf bytes.Buffer
	if err := WritePEM(&buf, certs(p.leaf, p.inter)); err != nil {
		t.Fatal(err)
	}
	back, err := ParsePEM(buf.Bytes())
	if err != nil || len(back) != 2 || !back[1].Equal(p.inter.cert) {
		t.Errorf("PEM round trip: %v %d", err, len(back))
	}
	// Hostile names are escaped.
	if got := clean("a\x1b[31mb\n"); got != `a\x1b[31mb\x0a` {
		t.Errorf("clean = %q", got)
	}
}

func TestFlagNames(t *testing.T) {
	if got := strings.Join(FlagNames(FlagCNMismatch|FlagNotTrusted|FlagBadKey), "|"); got != "CN_MISMATCH|NOT_TRUSTED|BAD_KEY" {
		t.Errorf("FlagNames = %s", got)
	}
	if ErrorName(ErrX509Fatal) != "MBEDTLS_ERR_X509_FATAL_ERROR" {
		t.Error("ErrorName")
	}
}

func BenchmarkRootsLoad(b *testing.B) {
	mozilla()
	b.ReportMetric(float64(RootsLoadTime().Microseconds()), "µs-first-load")
	for i := 0; i < b.N; i++ {
		MozillaRoots()
	}
}

func TestKeyUsageAndEd25519(t *testing.T) {
	p := newPKI(t, spec{})
	rsaLeaf := issue(t, spec{cn: "dev.example.com", dns: []string{"dev.example.com"}, key: rsaKey(t, 2048),
		ku: x509.KeyUsageDigitalSignature}, p.inter)
	in := Input{Certs: certs(rsaLeaf, p.inter), ServerName: "dev.example.com", CA: certs(p.root), Time: capT}
	// Unknown suite: digitalSignature is enough (ECDHE_RSA).
	if r := Analyze(in); r.Device.Code != 0 || len(r.Problems) != 0 {
		t.Errorf("unknown suite: %+v %+v", r.Device, r.Problems)
	}
	in.CipherSuite = 0x009C // TLS_RSA_WITH_AES_128_GCM_SHA256: needs keyEncipherment
	r := Analyze(in)
	if r.Device.Code != ErrBadCertificate || r.Device.Flags != FlagKeyUsage || r.Device.Alert != 43 {
		t.Errorf("RSA key exchange: %+v", r.Device)
	}
	if p := problem(r, "weak-certificate"); p == nil || p.Flags != FlagKeyUsage || !strings.Contains(p.Explanation, "keyEncipherment") {
		t.Errorf("problem: %+v", r.Problems)
	}
	in.CipherSuite = 0xC02F // ECDHE_RSA
	if r := Analyze(in); r.Device.Code != 0 {
		t.Errorf("ECDHE_RSA: %+v", r.Device)
	}

	edKey := ed25519Key(t)
	edLeaf := issue(t, spec{cn: "dev.example.com", dns: []string{"dev.example.com"}, key: edKey}, p.inter)
	r = Analyze(Input{Certs: certs(edLeaf, p.inter), ServerName: "dev.example.com", CA: certs(p.root), Time: capT})
	if r.Device.Code != ErrPKUnknownPKAlg || r.Device.Alert != 42 {
		t.Errorf("Ed25519: %+v", r.Device)
	}
	if pr := problem(r, "weak-certificate"); pr == nil || pr.Flags != 0 || !strings.Contains(pr.Explanation, "cannot parse") {
		t.Errorf("Ed25519 problem: %+v", r.Problems)
	}
}

func TestEmptyAndNil(t *testing.T) {
	if r := Analyze(Input{}); len(r.Problems) != 0 || r.Device.Code != 0 {
		t.Errorf("empty: %+v", r)
	}
	if r := Analyze(Input{Certs: []*x509.Certificate{nil}}); len(r.Problems) != 0 {
		t.Errorf("nil cert: %+v", r)
	}
}
