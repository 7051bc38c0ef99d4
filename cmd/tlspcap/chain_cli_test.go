package main

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"strings"
	"testing"

	"tlspcap/diagnose"
)

const pcaps = "../../testdata/pcaps/"

// pemCerts reads the certificates of a PEM file under testdata/pcaps.
func pemCerts(t *testing.T, name string) []*x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(pcaps + name)
	if err != nil {
		t.Fatal(err)
	}
	var out []*x509.Certificate
	for {
		var blk *pem.Block
		if blk, b = pem.Decode(b); blk == nil {
			break
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

func sha(c *x509.Certificate) string {
	s := sha256.Sum256(c.Raw)
	return hex.EncodeToString(s[:])
}

// tableCell is how the side-by-side table shows a certificate.
func tableCell(c *x509.Certificate) string {
	return fmt.Sprintf("%s ← %s [%s]", c.Subject, c.Issuer, sha(c)[:16])
}

// expectSidecar reads NAME.expect.json: the frame and device error the real
// programs gave.
func expectSidecar(t *testing.T, name string) sidecar {
	t.Helper()
	b, err := os.ReadFile(pcaps + name + ".expect.json")
	if err != nil {
		t.Fatal(err)
	}
	var s sidecar
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func chainReport(t *testing.T, args ...string) (int, diagnose.Report) {
	t.Helper()
	code, out, errs := tlspcap(t, append([]string{"analyze", "--format", "json", "--no-progress"}, args...)...)
	var rep diagnose.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("tlspcap %v: exit %d, %s: bad JSON: %v", args, code, errs, err)
	}
	return code, rep
}

func findingByID(c *diagnose.Connection, id string) *diagnose.Finding {
	for i, f := range c.Findings {
		if string(f.ID) == id {
			return &c.Findings[i]
		}
	}
	return nil
}

// TestBrowserChainComparison: the device's capture of a server that sends
// its leaf only (chain-incomplete), compared with what a browser got —
// exported from its certificate viewer (PEM: the whole path) or captured
// (the wire shows the leaf only; the capture also shows the browser's AIA
// download of the intermediate) — and a cross-signed chain against the
// browser's shorter path. The report sets the chains side by side and names
// the missing intermediate (subject and issuer) and the AIA URL.
func TestBrowserChainComparison(t *testing.T) {
	leafPath := pemCerts(t, "browser-viewer-leaf-path.pem") // leaf, intermediate, root
	inter := leafPath[1]
	xPath := pemCerts(t, "browser-viewer-xleaf-path.pem") // leaf, intermediate, root B
	crossB := pemCerts(t, "ca-cross-root-b.pem")[0]
	rootAOld := pemCerts(t, "ca-cross-root-a-old.pem")[0]
	interNamed := fmt.Sprintf("%q (issued by %q", inter.Subject.String(), inter.Issuer.String())
	const aia = "http://ca.test/inter.crt"
	for _, tc := range []struct {
		name    string
		capture string
		args    []string
		device  []*x509.Certificate // the device column, top to bottom (nil: not checked here)
		browser []*x509.Certificate
		same    []string
		// rootCause must carry these; differs is chain-differs-from-browser's
		// title part ("" = the finding must be absent).
		rootCause string
		rootWants []string
		differs   string
		diffWants []string
	}{
		{name: "viewer-pem", capture: "chain-incomplete", args: []string{"--browser-chain", pcaps + "browser-viewer-leaf-path.pem"},
			device: leafPath[:1], browser: leafPath, same: []string{"yes", "no", "no"},
			rootCause: "chain-incomplete", rootWants: []string{interNamed, "in the browser's chain", aia},
			differs:   "intermediate certificate the server did not send",
			diffWants: []string{fmt.Sprintf("issued by %q", inter.Issuer.String()), "A certificate viewer shows the path the browser built", aia}},
		{name: "capture-tls12", capture: "chain-incomplete", args: []string{"--browser-chain", pcaps + "browser-chain-incomplete.pcapng"},
			device: leafPath[:1], browser: leafPath[:1], same: []string{"yes"},
			rootCause: "chain-incomplete", rootWants: []string{interNamed, "which the browser fetched from " + aia + " (plain HTTP, tcp.stream 1, frame 15", "The browser's capture shows the same chain"}},
		{name: "capture-tls13-keylog", capture: "chain-incomplete",
			args:   []string{"--browser-chain", pcaps + "browser-chain-incomplete-tls13.pcapng", "--browser-keylog", pcaps + "browser-chain-incomplete-tls13.keys"},
			device: leafPath[:1], browser: leafPath[:1], same: []string{"yes"},
			rootCause: "chain-incomplete", rootWants: []string{interNamed, "which the browser fetched from " + aia, "The browser's capture shows the same chain"}},
		{name: "cross-signed", capture: "cross-signed-expired-root-a-mbedtls36",
			args:    []string{"--ca", pcaps + "ca-cross-root-a-old.pem", "--browser-chain", pcaps + "browser-viewer-xleaf-path.pem"},
			browser: xPath, same: []string{"yes", "yes", "no"},
			rootCause: "certificate-expired", rootWants: []string{fmt.Sprintf("%q", rootAOld.Subject.CommonName), "cross-signed"},
			differs:   "different intermediate or cross-signed path",
			diffWants: []string{fmt.Sprintf("%q as a self-signed root", crossB.Subject.CommonName), fmt.Sprintf("cross-signed by %q", rootAOld.Subject.String())}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := expectSidecar(t, tc.capture)
			args := append(append([]string{}, tc.args...), pcaps+tc.capture+".pcapng")
			code, rep := chainReport(t, args...)
			if code != exitFailed || len(rep.Connections) != 1 {
				t.Fatalf("exit %d, %d connections", code, len(rep.Connections))
			}
			c := rep.Connections[0]
			if tc.device != nil && len(c.Certificates) != len(tc.device) {
				t.Errorf("the device got %d certificates, want %d", len(c.Certificates), len(tc.device))
			}
			for i, want := range tc.device {
				if i >= len(c.Certificates) || c.Certificates[i].SHA256 != sha(want) {
					t.Errorf("device certificate %d: want %s", i, want.Subject)
				}
			}
			if len(c.BrowserCertificates) != len(tc.browser) {
				t.Fatalf("browser chain has %d certificates, want %d", len(c.BrowserCertificates), len(tc.browser))
			}
			for i, want := range tc.browser {
				if c.BrowserCertificates[i].SHA256 != sha(want) {
					t.Errorf("browser certificate %d = %s, want %s", i, c.BrowserCertificates[i].Subject, want.Subject)
				}
			}
			rc := firstError(c.Findings)
			if rc == nil || string(rc.ID) != tc.rootCause {
				t.Fatalf("root cause %v, want %s (%s)", idOf(rc), tc.rootCause, ids(c.Findings))
			}
			if len(rc.Frames) == 0 || rc.Frames[0] != sc.Expect.Frames[0] {
				t.Errorf("%s frames %v, want first %d (the device's alert)", rc.ID, rc.Frames, sc.Expect.Frames[0])
			}
			if len(rc.DeviceErrors) == 0 || rc.DeviceErrors[0].Code != sc.Expect.DeviceError {
				t.Errorf("%s device errors %v, want %s first", rc.ID, rc.DeviceErrors, sc.Expect.DeviceError)
			}
			for _, w := range tc.rootWants {
				if !strings.Contains(rc.Title+" "+rc.Explanation, w) {
					t.Errorf("%s does not say %q:\n%s", rc.ID, w, rc.Explanation)
				}
			}
			d := findingByID(c, "chain-differs-from-browser")
			switch {
			case tc.differs == "" && d != nil:
				t.Errorf("unexpected chain-differs-from-browser: %s", d.Title)
			case tc.differs != "" && d == nil:
				t.Errorf("chain-differs-from-browser missing (%s)", ids(c.Findings))
			case d != nil:
				if !strings.Contains(d.Title, tc.differs) {
					t.Errorf("chain-differs-from-browser title %q, want %q", d.Title, tc.differs)
				}
				for _, w := range tc.diffWants {
					if !strings.Contains(d.Explanation, w) {
						t.Errorf("chain-differs-from-browser does not say %q:\n%s", w, d.Explanation)
					}
				}
			}

			// The side-by-side table, as Markdown rows and in the terminal.
			_, md, _ := tlspcap(t, append([]string{"analyze", "--format", "markdown", "--no-progress"}, args...)...)
			for i, same := range tc.same {
				dc := "(none)"
				if i < len(c.Certificates) {
					dc = fmt.Sprintf("%s ← %s [%s]", c.Certificates[i].Subject, c.Certificates[i].Issuer, c.Certificates[i].SHA256[:16])
				}
				row := fmt.Sprintf("| %d | %s | %s | %s |", i, dc, tableCell(tc.browser[i]), same)
				if !strings.Contains(md, row+"\n") {
					t.Errorf("table row %d missing: %s\n%s", i, row, md)
				}
			}
			_, text, _ := tlspcap(t, append([]string{"analyze", "--no-progress"}, args...)...)
			if !strings.Contains(text, "Certificates: the device's view and the browser's") || !strings.Contains(text, "BROWSER GOT") {
				t.Errorf("terminal report has no side-by-side table:\n%s", text)
			}
			for _, b := range tc.browser {
				if !strings.Contains(text, "["+sha(b)[:16]+"]") {
					t.Errorf("terminal table lacks %s", b.Subject)
				}
			}
		})
	}
}

// TestBrowserKeylogUsage: a TLS 1.3 browser capture needs its key log, and
// the key log needs a browser capture.
func TestBrowserKeylogUsage(t *testing.T) {
	dev := pcaps + "chain-incomplete.pcapng"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--browser-chain", pcaps + "browser-chain-incomplete-tls13.pcapng"}, "give the browser's key log with --browser-keylog"},
		{[]string{"--browser-chain", pcaps + "browser-chain-incomplete-tls13.pcapng", "--browser-keylog", pcaps + "ca-private-root.pem"}, "is it the key log of this capture?"},
		{[]string{"--browser-chain", pcaps + "browser-viewer-leaf-path.pem", "--browser-keylog", pcaps + "browser-chain-incomplete-tls13.keys"}, "--browser-chain is a PEM file, not a capture"},
		{[]string{"--browser-keylog", pcaps + "browser-chain-incomplete-tls13.keys"}, "--browser-keylog needs --browser-chain"},
		{[]string{"--browser-chain", pcaps + "browser-chain-incomplete-tls13.pcapng", "--browser-keylog", pcaps + "no-such.keys"}, "--browser-keylog: open"},
	} {
		code, _, errs := tlspcap(t, append(append([]string{"analyze"}, tc.args...), dev)...)
		if code != exitUsage || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want exit 2 and %q", tc.args, code, errs, tc.want)
		}
	}
}

// TestCertificateNotVerified: a device that completed the handshake with a
// chain that does not verify for it is warned about; a verified one is not.
func TestCertificateNotVerified(t *testing.T) {
	for _, tc := range []struct {
		capture string
		args    []string
		want    bool
		alert   string // the alert a verifying device would have sent
	}{
		{"verify-none-untrusted-mbedtls36", []string{"--ca", pcaps + "ca-private-root.pem"}, true, "unknown_ca"},
		{"verify-optional-untrusted-mbedtls36", []string{"--ca", pcaps + "ca-private-root.pem"}, true, "unknown_ca"},
		{"verify-optional-untrusted-mbedtls228", []string{"--ca", pcaps + "ca-private-root.pem", "--profile", "esp32-idf4"}, true, "unknown_ca"},
		// No --ca: the name mismatch alone shows that nothing was checked.
		{"verify-none-hostname-mismatch-mbedtls36", nil, true, "bad_certificate"},
		// Without --ca a private root proves nothing: the device may have it.
		{"verify-none-untrusted-mbedtls36", nil, false, ""},
		{"verified-private-root-mbedtls36", []string{"--ca", pcaps + "ca-private-root.pem"}, false, ""},
		{"healthy-tls12-mbedtls36", nil, false, ""},
		{"cross-signed-root-a-mbedtls36", []string{"--ca", pcaps + "ca-cross-root-a.pem"}, false, ""},
		{"cross-signed-root-b-mbedtls36", []string{"--ca", pcaps + "ca-cross-root-b.pem"}, false, ""},
		{"chain-extra-certificates-mbedtls228", []string{"--ca", pcaps + "ca-private-root.pem", "--profile", "esp32-idf4"}, false, ""},
		// The device refused: not this finding.
		{"chain-wrong-order-mbedtls36", []string{"--ca", pcaps + "ca-cross-root-a.pem"}, false, ""},
	} {
		t.Run(fmt.Sprintf("%s%v", tc.capture, tc.args != nil), func(t *testing.T) {
			sc := expectSidecar(t, tc.capture)
			_, rep := chainReport(t, append(append([]string{}, tc.args...), pcaps+tc.capture+".pcapng")...)
			c := rep.Connections[0]
			f := findingByID(c, "certificate-not-verified")
			if (f != nil) != tc.want {
				t.Fatalf("certificate-not-verified present = %v, want %v (%s)", f != nil, tc.want, ids(c.Findings))
			}
			if f == nil {
				return
			}
			if c.Outcome != "ok" || f.Severity != diagnose.SeverityWarning {
				t.Errorf("outcome %s, severity %s: want ok and warning", c.Outcome, f.Severity)
			}
			if len(f.Frames) < 2 || f.Frames[0] != sc.Expect.Frames[0] {
				t.Errorf("frames %v, want the Certificate (frame %d) then the ClientKeyExchange", f.Frames, sc.Expect.Frames[0])
			}
			if len(f.DeviceErrors) == 0 || f.DeviceErrors[0].Code != "-0x2700" {
				t.Errorf("device errors %v, want -0x2700 first", f.DeviceErrors)
			}
			for _, w := range []string{tc.alert, "CONFIG_ESP_TLS_SKIP_SERVER_CERT_VERIFY", "MBEDTLS_SSL_VERIFY_NONE", "MBEDTLS_SSL_VERIFY_OPTIONAL", "must not ship"} {
				if !strings.Contains(f.Explanation, w) {
					t.Errorf("explanation does not say %q:\n%s", w, f.Explanation)
				}
			}
			for _, w := range []string{"CONFIG_MBEDTLS_CERTIFICATE_BUNDLE", "crt_bundle_attach", "cacert_pem"} {
				if !strings.Contains(f.Fix, w) {
					t.Errorf("fix does not say %q: %s", w, f.Fix)
				}
			}
		})
	}
}

// TestSNIIPLiteral: mbedTLS 2.28 and 3.6 send an IP address given as host
// name as SNI; the SNI-dependent server answered with its default
// certificate and the device refused it.
func TestSNIIPLiteral(t *testing.T) {
	for _, name := range []string{"sni-ip-literal-mbedtls36", "sni-ip-literal-mbedtls228"} {
		t.Run(name, func(t *testing.T) {
			sc := expectSidecar(t, name)
			_, rep := chainReport(t, append(repoArgs(sc.Args), pcaps+name+".pcapng")...)
			c := rep.Connections[0]
			if c.SNI != "127.0.0.1" {
				t.Errorf("SNI %q, want 127.0.0.1", c.SNI)
			}
			rc := firstError(c.Findings)
			if rc == nil || rc.ID != "missing-sni" {
				t.Fatalf("root cause %v, want missing-sni (%s)", idOf(rc), ids(c.Findings))
			}
			if rc.Frames[0] != sc.Expect.Frames[0] || rc.DeviceErrors[0].Code != sc.Expect.DeviceError {
				t.Errorf("frames %v, device errors %v; want %d and %s", rc.Frames, rc.DeviceErrors, sc.Expect.Frames[0], sc.Expect.DeviceError)
			}
			for _, w := range []string{"IP address 127.0.0.1", "RFC 6066", "default certificate", `"CN=device.test,O=tlspcap test" (issued by "CN=Other Unknown Root CA,O=tlspcap test")`} {
				if !strings.Contains(rc.Title+" "+rc.Explanation, w) {
					t.Errorf("missing-sni does not say %q:\n%s", w, rc.Explanation)
				}
			}
			if findingByID(c, "chain-untrusted") == nil {
				t.Errorf("chain-untrusted missing (%s)", ids(c.Findings))
			}
		})
	}
}

// TestChainVerdictsMatchMbedTLS: for the chains real mbedTLS clients
// accepted with verification on (cross-signed paths, a wrong order the CA
// list makes harmless, extra certificates), tlspcap's model of the device
// finds nothing wrong with the chain either; for those they refused, it
// names the same failure.
func TestChainVerdictsMatchMbedTLS(t *testing.T) {
	chainIDs := map[string]bool{"chain-untrusted": true, "chain-incomplete": true, "self-signed": true, "certificate-expired": true,
		"certificate-not-yet-valid": true, "hostname-mismatch": true, "certificate-not-verified": true}
	for _, tc := range []struct {
		name      string
		rootCause string // "" when the client verified the chain
	}{
		{"verified-private-root-mbedtls36", ""},
		{"cross-signed-root-a-mbedtls36", ""},
		{"cross-signed-root-b-mbedtls36", ""},
		{"cross-signed-root-a-old-and-b-mbedtls36", ""},
		{"chain-wrong-order-root-b-mbedtls36", ""},
		{"chain-extra-certificates-mbedtls36", ""},
		{"chain-extra-certificates-mbedtls228", ""},
		{"cross-signed-expired-root-a-mbedtls36", "certificate-expired"},
		{"cross-signed-expired-root-a-mbedtls228", "certificate-expired"},
		{"chain-wrong-order-mbedtls36", "chain-untrusted"},
		{"chain-wrong-order-mbedtls228", "chain-untrusted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := expectSidecar(t, tc.name)
			var client string
			for _, p := range sc.Programs {
				if p.Role == "client" && strings.HasPrefix(p.Cmd, "ssl_client2 ") && strings.Contains(p.Cmd, "auth_mode=required") {
					client = p.Result
				}
			}
			if (client == "ok") != (tc.rootCause == "") {
				t.Fatalf("the real client printed %q; the table expects it to %s", client, map[bool]string{true: "verify", false: "fail"}[tc.rootCause == ""])
			}
			_, rep := chainReport(t, append(repoArgs(sc.Args), pcaps+tc.name+".pcapng")...)
			c := rep.Connections[0]
			if tc.rootCause == "" {
				for _, f := range c.Findings {
					if chainIDs[string(f.ID)] {
						t.Errorf("mbedTLS verified this chain, tlspcap reports %s (%s): %s", f.ID, f.Severity, f.Title)
					}
				}
				return
			}
			rc := firstError(c.Findings)
			if rc == nil || string(rc.ID) != tc.rootCause || rc.DeviceErrors[0].Code != client {
				t.Errorf("root cause %v, want %s with %s (%s)", idOf(rc), tc.rootCause, client, ids(c.Findings))
			}
		})
	}
}

// TestCertificateFindingsNameTheCertificate: every certificate finding, on
// its real capture, names the certificate it is about and carries the error
// the real client printed (the sidecar's device_error).
func TestCertificateFindingsNameTheCertificate(t *testing.T) {
	for _, tc := range []struct {
		capture, id string
		names       []string
	}{
		{"chain-untrusted", "chain-untrusted", []string{`"device.test"`, `"Other Unknown Root CA"`}},
		{"chain-incomplete", "chain-incomplete", []string{`"tlspcap Test Intermediate CA"`, "Certificate #0 (device.test)", "http://ca.test/inter.crt"}},
		{"hostname-mismatch", "hostname-mismatch", []string{`"other.test"`, "device.test"}},
		{"openssl-client-hostname-mismatch", "hostname-mismatch", []string{`"other.test"`, "device.test"}},
		{"missing-sni-default-cert", "missing-sni", []string{`"CN=device.test,O=tlspcap test" (issued by "CN=Other Unknown Root CA,O=tlspcap test")`}},
		{"certificate-expired", "certificate-expired", []string{`"device.test"`, "2021-01-01"}},
		{"certificate-not-yet-valid", "certificate-not-yet-valid", []string{`"device.test"`, "2030-01-01"}},
		{"self-signed", "self-signed", []string{`"CN=device.test,O=tlspcap test"`}},
		{"weak-certificate-mbedtls36", "weak-certificate", []string{`"device.test"`, "1024 bits"}},
		{"weak-certificate-mbedtls228", "weak-certificate", []string{`"device.test"`, "1024 bits"}},
		{"chain-differs-from-browser", "chain-differs-from-browser", []string{`the device got "device.test"`, `the browser got "device.test"`, "no SNI"}},
		{"cross-signed-expired-root-a-mbedtls36", "certificate-expired", []string{`"tlspcap Cross Root A"`, `certificate #2 "tlspcap Cross Root B"`}},
		{"chain-wrong-order-mbedtls36", "chain-untrusted", []string{`Certificate #2 (tlspcap Cross Intermediate CA)`, `certificate #1 ("tlspcap Cross Root B")`}},
		{"sni-ip-literal-mbedtls36", "missing-sni", []string{"127.0.0.1", `"CN=device.test,O=tlspcap test"`}},
		{"verify-none-untrusted-mbedtls36", "certificate-not-verified", []string{"certificate #0 (device.test)"}},
	} {
		t.Run(tc.capture, func(t *testing.T) {
			sc := expectSidecar(t, tc.capture)
			_, rep := chainReport(t, append(repoArgs(sc.Args), pcaps+tc.capture+".pcapng")...)
			c := rep.Connections[0]
			f := findingByID(c, tc.id)
			if f == nil {
				t.Fatalf("%s missing (%s)", tc.id, ids(c.Findings))
			}
			for _, n := range tc.names {
				if !strings.Contains(f.Title+" "+f.Explanation, n) {
					t.Errorf("%s does not name %s:\n%s\n%s", tc.id, n, f.Title, f.Explanation)
				}
			}
			if sc.Expect.DeviceError != "" && sc.Expect.Findings[0] == tc.id && (len(f.DeviceErrors) == 0 || f.DeviceErrors[0].Code != sc.Expect.DeviceError) {
				t.Errorf("%s device errors %v, want %s first (what the client printed)", tc.id, f.DeviceErrors, sc.Expect.DeviceError)
			}
		})
	}
}
