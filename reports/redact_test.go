package reports

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"tlspcap/diagnose"
	"tlspcap/diagnose/values"
)

// originals lists what a redacted report must not show: every address,
// host name, certificate name value and fingerprint of r.
func originals(r *diagnose.Report) []string {
	var out []string
	add := func(s string) {
		s = strings.TrimSuffix(strings.TrimSpace(s), ".")
		if len(s) >= 2 && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	certs := func(cs []diagnose.Certificate) {
		for _, c := range cs {
			if x, err := x509.ParseCertificate(c.DER); err == nil {
				for _, n := range [][]pkix.AttributeTypeAndValue{x.Subject.Names, x.Issuer.Names} {
					for _, a := range n {
						if !a.Type.Equal(oidCountry) {
							add(fmt.Sprint(a.Value))
						}
					}
				}
			}
			for _, s := range c.SANs {
				if _, v, ok := strings.Cut(s, ":"); ok {
					s = v
				}
				add(strings.TrimPrefix(s, "*."))
			}
			add(c.SHA256)
		}
	}
	for _, c := range r.Connections {
		for _, ap := range []string{c.Client, c.Server} {
			if a, err := netip.ParseAddrPort(ap); err == nil {
				add(a.Addr().String())
			}
		}
		add(c.SNI)
		certs(c.Certificates)
		certs(c.BrowserCertificates)
	}
	for _, f := range r.Findings {
		for _, m := range dnsFilterName.FindAllStringSubmatch(f.WiresharkFilter, -1) {
			add(m[1])
		}
	}
	return out
}

var (
	dnsFilterName = regexp.MustCompile(`dns\.qry\.name == "([^"]+)"`)
	oidCountry    = asn1.ObjectIdentifier{2, 5, 4, 6}
)

// diagnosis is what redaction must leave alone.
func diagnosis(r *diagnose.Report) []string {
	var out []string
	fs := func(prefix string, fs []diagnose.Finding) {
		for _, f := range fs {
			var codes []string
			for _, e := range f.DeviceErrors {
				codes = append(codes, e.Code+" "+e.Name)
			}
			out = append(out, fmt.Sprintf("%s %s %s %v %v", prefix, f.ID, f.Severity, f.Frames, codes))
		}
	}
	for _, c := range r.Connections {
		p := fmt.Sprintf("stream %d %s %s %s %s %d-%d", c.Stream, c.Outcome, c.Stage, c.Version, c.CipherSuite, c.FirstFrame, c.LastFrame)
		out = append(out, p)
		fs(p, c.Findings)
		for _, s := range c.Timeline {
			out = append(out, fmt.Sprintf("%s step %d %s %s", p, s.Frame, s.From, s.Kind))
		}
	}
	fs("capture", r.Findings)
	return out
}

func renderAll(t *testing.T, r *diagnose.Report) map[Format]string {
	t.Helper()
	out := map[Format]string{}
	for _, f := range Formats {
		var b bytes.Buffer
		if err := Write(&b, r, f, Options{All: true}); err != nil {
			t.Fatal(err)
		}
		out[f] = b.String()
	}
	return out
}

// survivors returns the originals found in s (host names case-insensitively).
func survivors(s string, orig []string) []string {
	var left []string
	low := strings.ToLower(s)
	for _, o := range orig {
		if strings.Contains(s, o) || strings.Contains(low, strings.ToLower(o)) && strings.Contains(o, ".") {
			left = append(left, o)
		}
	}
	return left
}

var anyIPv4 = regexp.MustCompile(`\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b`)

// reportCaptures are scenario captures with certificates, DNS names and
// plain-text bytes to render.
var reportCaptures = []struct {
	name string
	o    diagnose.Options
}{
	{"big-chain-4096-mbedtls36.pcapng", diagnose.Options{InContentLen: 4096}},
	{"chain-incomplete.pcapng", diagnose.Options{}},
	{"hostname-mismatch.pcapng", diagnose.Options{}},
	{"dns-nxdomain.pcapng", diagnose.Options{}},
	{"certificate-expired.pcapng", diagnose.Options{}},
	{"not-tls-http.pcapng", diagnose.Options{}},
}

func TestRedactRealCaptures(t *testing.T) {
	for _, tc := range reportCaptures {
		t.Run(tc.name, func(t *testing.T) {
			_, r := renderCapture(t, tc.name, tc.o)
			before := renderAll(t, r)
			orig := originals(r)
			if len(orig) == 0 {
				t.Fatal("no names to hide")
			}
			p := values.NewPseudonyms()
			o := tc.o
			o.Values = p
			_, rp := renderCapture(t, tc.name, o)
			beforeRedact := renderAll(t, rp)
			red := Redact(rp, p)
			if got, want := diagnosis(red), diagnosis(r); !slices.Equal(got, want) {
				t.Errorf("diagnosis changed:\n got %q\nwant %q", got, want)
			}
			for f, s := range before {
				if len(survivors(s, orig)) == 0 {
					t.Errorf("%s: the unredacted output shows none of %q", f, orig)
				}
			}
			for f, s := range renderAll(t, red) {
				if left := survivors(s, orig); len(left) > 0 {
					t.Errorf("%s: %q survive redaction", f, left)
				}
				for _, a := range anyIPv4.FindAllString(s, -1) {
					if !strings.HasPrefix(a, "192.0.2.") && !strings.HasPrefix(a, "198.51.100.") && !strings.HasPrefix(a, "203.0.113.") {
						t.Errorf("%s: address %s survives", f, a)
					}
				}
				// Each name the original showed is still shown, as a pseudonym.
				if len(s) < len(before[f])/2 {
					t.Errorf("%s: redacted output %d bytes, the original %d", f, len(s), len(before[f]))
				}
			}
			var back diagnose.Report
			var b bytes.Buffer
			if err := Write(&b, red, JSON, Options{}); err != nil || json.Unmarshal(b.Bytes(), &back) != nil {
				t.Errorf("redacted JSON does not read back: %v", err)
			}
			// The original is untouched.
			if after := renderAll(t, rp); after[JSON] != beforeRedact[JSON] {
				t.Error("Redact changed its input")
			}
		})
	}
}

// redactReport has a device talking to two servers, one of them twice,
// with the names and addresses repeated in free text.
func redactReport() *diagnose.Report {
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	cert := diagnose.Certificate{Subject: "CN=broker.corp.example.com,O=Corp\\, Inc.,C=DE", Issuer: "CN=Corp Issuing CA 7,O=Corp\\, Inc.,C=DE",
		SANs: []string{"DNS:broker.corp.example.com", "DNS:*.corp.example.com", "IP:10.20.30.40"}, SHA256: strings.Repeat("ab", 32),
		AIA: []string{"http://pki.corp.example.com/ca7.crt"}, NotBefore: t0, NotAfter: t0.AddDate(1, 0, 0)}
	f := diagnose.Finding{ID: "hostname-mismatch", Severity: diagnose.SeverityError, Frames: []int{8, 6},
		Title:           "The certificate does not match mqtt.corp.example.com",
		Explanation:     `The device checks "CN=broker.corp.example.com,O=Corp\, Inc.,C=DE" against "MQTT.corp.example.com." issued by Corp Issuing CA 7 (SHA-256 ` + strings.Repeat("ab", 32) + `); 10.1.2.3 and [fd00::17]:8883 were tried, resolver 10.1.2.1.`,
		DeviceErrors:    []diagnose.DeviceError{{Code: "-0x2700", Name: "MBEDTLS_ERR_X509_CERT_VERIFY_FAILED"}},
		WiresharkFilter: "ip.addr == 10.1.2.3 && tls.handshake.extensions_server_name == \"mqtt.corp.example.com\""}
	return &diagnose.Report{Schema: 1, Tool: "tlspcap", Profile: "esp32-idf5", Capture: diagnose.CaptureInfo{File: "lab.pcapng", Frames: 20},
		Connections: []*diagnose.Connection{
			{Stream: 0, Client: "10.1.2.23:50000", Server: "10.1.2.3:8883", SNI: "mqtt.corp.example.com", Outcome: diagnose.OutcomeFailed,
				Findings: []diagnose.Finding{f}, Certificates: []diagnose.Certificate{cert}, Start: t0,
				Timeline: []diagnose.Step{{Frame: 4, From: "client", What: "ClientHello (200 B) SNI mqtt.corp.example.com", Kind: "handshake"}}},
			{Stream: 1, Client: "10.1.2.23:50001", Server: "[fd00::17]:8883", SNI: "mqtt.corp.example.com", Outcome: diagnose.OutcomeOK, Start: t0,
				Certificates: []diagnose.Certificate{cert}},
		},
		Findings: []diagnose.Finding{{ID: "dns-nxdomain", Severity: diagnose.SeverityError, Frames: []int{2},
			Title: "DNS: typo.corp.example.com does not exist (NXDOMAIN)", WiresharkFilter: `dns.qry.name == "typo.corp.example.com"`}},
	}
}

func TestRedactConsistent(t *testing.T) {
	r := redactReport()
	red := Redact(r, values.NewPseudonyms())
	c0, c1 := red.Connections[0], red.Connections[1]
	// Numbered by first appearance: the client, then the server.
	if c0.Client != "192.0.2.1:50000" || c0.Server != "192.0.2.2:8883" || c1.Client != "192.0.2.1:50001" || c1.Server != "[2001:db8:ffff::1]:8883" {
		t.Errorf("addresses: %s → %s, %s → %s", c0.Client, c0.Server, c1.Client, c1.Server)
	}
	sni := c0.SNI
	if !regexp.MustCompile(`^host-\d+\.example$`).MatchString(sni) || c1.SNI != sni {
		t.Errorf("SNI pseudonyms %q, %q", sni, c1.SNI)
	}
	// Deterministic: the same report redacts the same.
	if a, b := renderAll(t, Redact(redactReport(), values.NewPseudonyms())), renderAll(t, red); a[JSON] != b[JSON] {
		t.Error("two redactions differ")
	}
	// Pseudonyms never reuse an address of the capture.
	p := values.NewPseudonyms()
	p.Reserve(netip.MustParseAddr("192.0.2.1"))
	red = Redact(r, p)
	if red.Connections[0].Client == "192.0.2.1:50000" {
		t.Errorf("pseudonym 192.0.2.1 given although the capture holds it: %s", red.Connections[0].Client)
	}
}

var pseudonyms = regexp.MustCompile(`host-\d+\.example|name-\d+|cert-\d+|192\.0\.2\.\d+|2001:db8:ffff::[0-9a-f]+|[A-Z]+=|,`)

// FuzzRedact: any SNI, name value and host name redact without panicking,
// render as JSON that reads back, and do not survive in the fields that
// carry them; the country stays.
func FuzzRedact(f *testing.F) {
	f.Add("mqtt.corp.example.com", "Corp, Inc.", "broker.corp.example.com")
	f.Add("evil\x1b[2J|<b>", "\xff\xfe", "[::1]:443 1.2.3.4.5 12:00:00")
	f.Fuzz(func(t *testing.T, sni, org, host string) {
		p := values.NewPseudonyms()
		r := redactReport()
		c := r.Connections[0]
		c.SNI = sni
		c.Certificates[0].Subject = p.Name(pkix.Name{CommonName: host, Organization: []string{org}, Country: []string{"DE"}})
		red := Redact(r, p)
		out := renderAll(t, red)
		var back diagnose.Report
		if err := json.Unmarshal([]byte(out[JSON]), &back); err != nil {
			t.Fatalf("redacted JSON: %v", err)
		}
		rc := red.Connections[0]
		for _, v := range []struct{ orig, shown string }{{sni, rc.SNI}, {org, rc.Certificates[0].Subject}, {host, rc.Certificates[0].Subject}} {
			if len(v.orig) < 3 || v.orig == "DE" {
				continue
			}
			if rest := pseudonyms.ReplaceAllString(v.shown, " "); strings.Contains(rest, v.orig) {
				t.Errorf("%q survives in %q", v.orig, v.shown)
			}
		}
		if !strings.HasSuffix(rc.Certificates[0].Subject, ",C=DE") {
			t.Errorf("the country is gone: %q", rc.Certificates[0].Subject)
		}
	})
}
