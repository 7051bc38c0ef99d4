// Package chain checks a server's certificate chain the way an ESP32/ESP8266
// (ESP-IDF, mbedTLS) client does, offline: against the certificate bundle
// (Mozilla's roots, looked up as esp_crt_bundle.c does) or against the
// device's CA file, at the capture's time, and compares it with the chain a
// browser got. It predicts the verify flags, the mbedTLS error and the alert
// the device sends, and explains each problem with the names and numbers.
//
// Facts and their sources: shared knowledge/esp-mbedtls.md §2.3 (flags),
// §2.5 (alert order), §3.3–3.5 (defaults and X.509 profiles), §4 (bundle),
// §5.2 (SNI).
package chain

import (
	"crypto/x509"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"tlspcap/diagnose/catalog"
	"tlspcap/diagnose/values"
)

// Input is one server certificate chain and what the device did with it.
type Input struct {
	Certs      []*x509.Certificate // as the server sent them, in order (leaf first normally)
	Raw        [][]byte            // their DER (for sizes), same order; optional
	ServerName string              // SNI the client sent ("" = none)
	ServerIP   netip.Addr          // the address the client connected to
	Time       time.Time           // the capture's timestamp: validity is checked at this time
	CA         []*x509.Certificate // --ca FILE (the device's cacert_pem); nil = certificate bundle
	Browser    []*x509.Certificate // the chain a browser got (--browser-chain), nil when unknown
	// BrowserFromCapture: Browser is what a server sent to the browser (read
	// from its capture), not the path a certificate viewer exported.
	BrowserFromCapture bool
	// BrowserFetched are certificates the browser's capture shows it
	// downloading over plain HTTP (AIA caIssuers fetches).
	BrowserFetched []Fetched
	// BundleExtra are certificates added to the device's bundle with
	// CONFIG_MBEDTLS_CUSTOM_CERTIFICATE_BUNDLE_PATH (looked up like the roots).
	BundleExtra []*x509.Certificate

	// Optional refinements.
	// DeviceClock is the device's clock when known (TLS 1.2 ClientHello.random
	// carries it); mbedTLS checks dates against it. Zero: the capture time.
	DeviceClock time.Time
	CipherSuite uint16 // negotiated suite (keyUsage check); 0 = unknown
	Version     uint16 // negotiated TLS version (0x0304 = TLS 1.3); 0 = unknown
	// Device is the device's verification configuration. Zero value: mbedTLS
	// 3.6, dates not checked; Bundle is forced on when CA is empty.
	Device Device

	// Values formats the names, addresses and fingerprints the problems'
	// text shows; nil: as they are.
	Values values.Formatter

	// sigs remembers the signature checks of one Analyze (set there).
	sigs sigMemo
}

// vf is the input's Formatter.
func (in Input) vf() values.Formatter {
	if in.Values == nil {
		return values.Plain
	}
	return in.Values
}

// Fetched is a certificate a browser downloaded (an AIA caIssuers fetch),
// with where its capture shows it.
type Fetched struct {
	Cert   *x509.Certificate
	URL    string
	Stream int // tcp.stream of the HTTP connection in the browser's capture
	Frame  int // first frame of the HTTP response
}

func (f Fetched) where(vf values.Formatter) string {
	return fmt.Sprintf("%s (plain HTTP, tcp.stream %d, frame %d of the browser's capture)", clean(vf.URL(f.URL)), f.Stream, f.Frame)
}

// Problem is one finding about the chain.
type Problem struct {
	ID          catalog.ID // a chain finding: chain-untrusted, hostname-mismatch, ...
	Severity    string     // "error" | "warning" | "info"
	Cert        int        // index into Input.Certs it concerns; -1 for the chain
	Title       string
	Explanation string
	Fix         string
	// Flags are the MBEDTLS_X509_BADCERT_* flags this problem produces on the
	// device when the check runs (0 when mbedTLS does not check it).
	Flags uint32
	// Conditional says when the device checks this ("" = always), e.g.
	// "only with CONFIG_MBEDTLS_HAVE_TIME_DATE=y".
	Conditional string
}

// Result of Analyze.
type Result struct {
	Problems []Problem
	// Device is what mbedTLS on the device computes with Input.Device.
	Device Verification
	// Variants: the same chain under other plausible device settings whose
	// outcome differs (dates checked, the other mbedTLS major version, the
	// ESP-IDF v6 cross-signed option). Match the alert the device sent
	// against these with ConsistentWith.
	Variants    []Verification
	DeviceView  View
	BrowserView View
	Certs       []CertInfo // Describe of each sent certificate
	TotalBytes  int        // DER bytes of the sent chain
	Unused      []int      // sent certificates that are on no verification path
	// IndependentFlags are the verify flags the device sets whatever CA it
	// trusts (name, key, usage, weak hashes below the top, a certificate
	// not signed by the one sent as its issuer): a device that completes
	// the handshake despite them verified nothing.
	IndependentFlags uint32
}

// View is a verification path for reports: each element says whether it is
// trusted or where the chain breaks.
type View struct {
	Label    string
	Elements []Element
	OK       bool
	Note     string
}

// ConsistentWith returns the device verdicts (Device first, then Variants)
// that send this alert.
func (r Result) ConsistentWith(alert uint8) []Verification {
	var out []Verification
	for _, v := range append([]Verification{r.Device}, r.Variants...) {
		if v.Code != 0 && v.Alert == alert {
			out = append(out, v)
		}
	}
	return out
}

const (
	sevError   = "error"
	sevWarning = "warning"
	sevInfo    = "info"
	datesCond  = "only with CONFIG_MBEDTLS_HAVE_TIME_DATE=y (ESP-IDF default n)"
)

// Analyze checks the chain and returns the problems, the device's verdict and
// the views.
func Analyze(in Input) Result {
	var res Result
	if len(in.Certs) == 0 {
		return res
	}
	for _, c := range in.Certs {
		if c == nil {
			return res // a certificate that does not parse: nothing to check
		}
	}
	dev := in.Device
	dev.MbedTLS = dev.MbedTLS.orDefault()
	if len(in.CA) == 0 {
		dev.Bundle = true
	}
	in.Device = dev
	in.sigs = sigMemo{}
	for i, c := range in.Certs {
		res.Certs = append(res.Certs, Describe(c, in.Values))
		if i < len(in.Raw) && in.Raw[i] != nil {
			res.TotalBytes += len(in.Raw[i])
		} else {
			res.TotalBytes += len(c.Raw)
		}
	}
	res.Device = Verify(in, dev)
	res.Variants = variants(in, dev, res.Device)
	res.DeviceView = View{Label: "device: " + dev.String(), Elements: res.Device.Path, OK: res.Device.Code == 0,
		Note: fmt.Sprintf("%s: %s", codeText(res.Device), res.Device.Reason)}
	res.BrowserView = browserView(in)
	res.Unused = unused(in, res.Device)
	res.IndependentFlags = independentFlags(in, dev)

	a := &analysis{in: in, dev: dev, res: &res, leaf: in.Certs[0]}
	a.trust()
	a.names()
	a.dates()
	a.weak()
	a.browser()
	return res
}

func codeText(v Verification) string {
	if v.Code == 0 {
		return "ok"
	}
	return fmt.Sprintf("-0x%04X %s, alert %d", -v.Code, ErrorName(v.Code), v.Alert)
}

// variants computes the verdict under the other plausible device settings and
// keeps those that differ from the main one.
func variants(in Input, dev Device, main Verification) []Verification {
	var cands []Device
	d := dev
	d.CheckDates = !dev.CheckDates
	cands = append(cands, d)
	d = dev
	if dev.MbedTLS.Major >= 3 {
		d.MbedTLS = Version{2, 28}
	} else {
		d.MbedTLS = Version{3, 6}
	}
	cands = append(cands, d)
	if dev.MbedTLS.atLeast(3, 5) {
		d = dev
		d.MbedTLS = Version{3, 4}
		cands = append(cands, d)
	}
	if dev.Bundle && !dev.CrossSignedVerify {
		d = dev
		d.CrossSignedVerify = true
		cands = append(cands, d)
	}
	var out []Verification
	for _, c := range cands {
		v := Verify(in, c)
		if v.Code != main.Code || v.Flags != main.Flags {
			out = append(out, v)
		}
	}
	return out
}

// independentFlags: the flags of the sent chain's own checks, with the
// top's missing issuer (which depends on the trust list) left out.
func independentFlags(in Input, dev Device) uint32 {
	v := dev.MbedTLS.orDefault()
	sim := simulate(in.Certs, nil, v, time.Time{}, false, in.sigs)
	if sim.fatal {
		return FlagsFatal
	}
	var flags uint32
	top := len(sim.items) - 1
	for i, it := range sim.items {
		f := it.flags
		if i == top && !it.sigBad {
			f &^= FlagNotTrusted
			if (dev.Bundle && !dev.CrossSignedVerify) || selfSigned(it.cert) {
				f &^= FlagBadMD // the bundle ignores the top's hash; a trusted root's own is never checked
			}
		}
		flags |= f
	}
	leaf := in.Certs[0]
	if in.ServerName != "" {
		if ok, _ := nameMatch(leaf, in.ServerName, v); !ok {
			flags |= FlagCNMismatch
		}
	}
	if ok, _ := keyAllowed(leaf.PublicKey, v); !ok {
		flags |= FlagBadKey
	}
	return flags | usageFlags(leaf, in.CipherSuite, in.Version)
}

// unused lists sent certificates not on the device's path.
func unused(in Input, v Verification) []int {
	on := map[int]bool{}
	for _, e := range v.Path {
		if e.Index >= 0 {
			on[e.Index] = true
		}
	}
	var out []int
	for i := range in.Certs {
		if !on[i] {
			out = append(out, i)
		}
	}
	return out
}

type analysis struct {
	in   Input
	dev  Device
	res  *Result
	leaf *x509.Certificate
}

func (a *analysis) add(p Problem) { a.res.Problems = append(a.res.Problems, p) }

func name(vf values.Formatter, c *x509.Certificate) string {
	if c.Subject.CommonName != "" {
		return clean(vf.Attr(c.Subject.CommonName))
	}
	return dn(vf, c.Subject)
}

func (a *analysis) trustWord() string {
	if a.dev.Bundle {
		return "the ESP-IDF certificate bundle (Mozilla's roots)"
	}
	return "the device's CA file (cacert_pem)"
}

func (a *analysis) bundleFailText() string {
	if a.dev.Bundle && !a.dev.CrossSignedVerify {
		return " With the certificate bundle the device logs \"esp-x509-crt-bundle: Failed to verify certificate\", mbedtls_ssl_handshake returns -0x3000 (MBEDTLS_ERR_X509_FATAL_ERROR) and it sends alert access_denied(49) — unless another check failed too, which gives -0x2700 and that check's alert."
	}
	return " The device returns -0x2700 (MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) and sends alert unknown_ca(48) unless another check picks a different alert."
}

// trust: self-signed, chain-incomplete, chain-untrusted.
func (a *analysis) trust() {
	vf := a.in.vf()
	in, leaf := a.in, a.leaf
	v := a.dev.MbedTLS
	// The path mbedTLS builds from the sent certificates alone.
	sim := simulate(in.Certs, nil, v, time.Time{}, false, in.sigs)
	top := sim.items[len(sim.items)-1]
	if sim.fatal {
		a.add(Problem{ID: catalog.WeakCertificate, Severity: sevError, Cert: -1, Flags: FlagsFatal,
			Title: fmt.Sprintf("Chain of %d certificates is deeper than mbedTLS allows", len(in.Certs)),
			Explanation: fmt.Sprintf("The server sent %d certificates in one chain; mbedTLS accepts at most %d intermediate CAs (MBEDTLS_X509_MAX_INTERMEDIATE_CA) and stops with -0x3000 (MBEDTLS_ERR_X509_FATAL_ERROR), flags 0xFFFFFFFF, alert access_denied(49).",
				len(in.Certs), maxIntermediateCA),
			Fix: "Send a shorter chain (leaf, its intermediates, at most 8), or rebuild mbedTLS with a larger MBEDTLS_X509_MAX_INTERMEDIATE_CA."})
		return
	}
	// Certificates whose issuer was sent, but before them (wrong order).
	for _, it := range sim.items {
		if it.sigBad {
			a.add(Problem{ID: catalog.ChainUntrusted, Severity: sevError, Cert: it.index, Flags: FlagNotTrusted,
				Title: fmt.Sprintf("Certificate #%d is not signed by the certificate sent as its issuer", it.index),
				Explanation: fmt.Sprintf("%s names %q as issuer and the server sent a certificate with that name, but its key does not verify the signature: the server sends the wrong intermediate (same name, different key — e.g. an old or reissued one). mbedTLS sets NOT_TRUSTED on it.%s",
					upper(certRef(vf, it)), dn(vf, it.cert.Issuer), a.bundleFailText()),
				Fix: "Install the intermediate certificate that belongs to the server's certificate (from the CA's download page or the AIA URL) in the server's chain file."})
		}
	}
	if selfSigned(leaf) && len(sim.items) == 1 {
		locally := false
		for _, c := range in.CA {
			if string(c.Raw) == string(leaf.Raw) {
				locally = true
			}
		}
		if locally && !a.dev.Bundle {
			a.add(Problem{ID: catalog.SelfSigned, Severity: sevInfo, Cert: 0,
				Title:       "The server's certificate is self-signed and pinned in the CA file",
				Explanation: fmt.Sprintf("The server sent a self-signed certificate (%s); the device's CA file contains this exact certificate, which mbedTLS accepts as a locally trusted end-entity certificate. Browsers reject it unless it is installed.", name(vf, leaf)),
				Fix:         "Nothing for the device. Replace the certificate before it expires on " + leaf.NotAfter.UTC().Format("2006-01-02") + "; the device must then get the new one."})
			return
		}
		expl := fmt.Sprintf("The server sent a self-signed certificate (subject %q, issuer the same) that no CA vouches for; it is not in %s.", dn(vf, leaf.Subject), a.trustWord())
		if a.dev.Bundle {
			expl += " The bundle looks up the certificate's issuer — itself — among Mozilla's roots and does not find it." + a.bundleFailText()
		} else {
			expl += " mbedTLS accepts a self-signed server certificate only when that exact certificate is in the CA list." + a.bundleFailText()
		}
		a.add(Problem{ID: catalog.SelfSigned, Severity: sevError, Cert: 0, Flags: FlagNotTrusted,
			Title:       "The server's certificate is self-signed",
			Explanation: expl,
			Fix:         "Give the device this certificate as its CA (esp_tls_cfg_t.cacert_pem_buf / esp_http_client_config_t.cert_pem, instead of crt_bundle_attach), or give the server a certificate from a public CA (e.g. Let's Encrypt) with the full chain."})
		return
	}
	if a.res.Device.Code == ErrCAChainRequired {
		return
	}
	anchored, anchorNote := a.anchored(top)
	if anchored {
		// The device can verify; still tell when the server omits an
		// intermediate that only the CA file provides.
		if !a.dev.Bundle && !selfSigned(top.cert) {
			if ca := a.caFor(top.cert); ca != nil && !selfSigned(ca) {
				a.add(Problem{ID: catalog.ChainIncomplete, Severity: sevWarning, Cert: top.index, Flags: 0,
					Title: fmt.Sprintf("The server omits the intermediate %q; the device's CA file supplies it", name(vf, ca)),
					Explanation: fmt.Sprintf("%s is issued by %q, which the server did not send. The device verifies only because its CA file contains that intermediate; clients with only root certificates (the certificate bundle, most libraries) fail, and the device breaks when the intermediate is renewed.%s",
						upper(certRef(vf, top)), dn(vf, top.cert.Issuer), aiaText(vf, top.cert)),
					Fix: "Configure the server to send the intermediate with its certificate (full chain: leaf then intermediates), and give the device the root CA instead of the intermediate."})
			}
		}
		_ = anchorNote
		return
	}
	// The top of what was sent has no trusted issuer.
	issuer := dn(vf, top.cert.Issuer)
	if selfSigned(top.cert) {
		a.add(Problem{ID: catalog.ChainUntrusted, Severity: sevError, Cert: top.index, Flags: FlagNotTrusted,
			Title: fmt.Sprintf("The chain ends at the root %q, which the device does not trust", name(vf, top.cert)),
			Explanation: fmt.Sprintf("The server sent its chain up to the self-signed root %q (certificate #%d); that root is not in %s.%s%s",
				dn(vf, top.cert.Subject), top.index, a.trustWord(), anchorNote, a.bundleFailText()),
			Fix: "Give the device this root as its CA (cacert_pem / cert_pem) or add it to the bundle with CONFIG_MBEDTLS_CUSTOM_CERTIFICATE_BUNDLE_PATH; or use a server certificate from a CA in the bundle."})
		return
	}
	// Cross-signed root at the top: its subject is a bundle root, its issuer is not.
	if a.dev.Bundle && len(bundleLookup(top.cert.RawSubject, a.in.BundleExtra)) > 0 {
		a.add(Problem{ID: catalog.ChainUntrusted, Severity: sevError, Cert: top.index, Flags: FlagNotTrusted,
			Title: fmt.Sprintf("A cross-signed root is at the top of the chain: the bundle looks up its issuer %q", name2(vf, top.cert.Issuer.CommonName, issuer)),
			Explanation: fmt.Sprintf("The last certificate the server sent (#%d) is %q cross-signed by %q. The bundle has %q itself, but ESP-IDF's bundle check looks up the issuer of the top-most certificate sent — %q — and that is not in the bundle (old roots are dropped from it, e.g. GlobalSign Root CA in ESP-IDF v6.0).%s",
				top.index, name(vf, top.cert), issuer, name(vf, top.cert), issuer, a.bundleFailText()),
			Fix: "Make the server send the short chain (without the cross-signed certificate); or on ESP-IDF v6.0+ enable CONFIG_MBEDTLS_CERTIFICATE_BUNDLE_CROSS_SIGNED_VERIFY; or enable CONFIG_MBEDTLS_CERTIFICATE_BUNDLE_DEPRECATED_LIST / add the old root with CONFIG_MBEDTLS_CUSTOM_CERTIFICATE_BUNDLE_PATH."})
		return
	}
	// Issuer name known as a root, but the signature does not verify with it.
	if roots := a.rootsNamed(top.cert.RawIssuer); len(roots) > 0 {
		a.add(Problem{ID: catalog.ChainUntrusted, Severity: sevError, Cert: top.index, Flags: FlagNotTrusted,
			Title: fmt.Sprintf("Certificate #%d names the trusted root %q as issuer, but that root's key does not verify it", top.index, name(vf, roots[0])),
			Explanation: fmt.Sprintf("%s is issued by %q. %s has a root with that name, but its key does not verify the signature (\"Certificate matched but signature verification failed\"): a different CA generation with the same name, or a forged certificate.%s",
				upper(certRef(vf, top)), issuer, upper(a.trustWord()), a.bundleFailText()),
			Fix: "Check which CA really issued the server certificate and give the device that root; have the server send its full chain."})
		return
	}
	// The issuer was sent, but before the certificate it signs.
	for i, c := range in.Certs {
		if i <= top.index && checkParent(top.cert, c, false) && a.in.sigs.signedBy(top.cert, c) {
			a.add(Problem{ID: catalog.ChainUntrusted, Severity: sevError, Cert: top.index, Flags: FlagNotTrusted,
				Title: fmt.Sprintf("The server sends its chain out of order: certificate #%d's issuer comes before it", top.index),
				Explanation: fmt.Sprintf("%s is issued by certificate #%d (%q), which the server sent earlier in the list. mbedTLS looks for each certificate's issuer only among the certificates after it, so its chain ends at #%d and the issuer is not found.%s",
					upper(certRef(vf, top)), i, name(vf, c), top.index, a.bundleFailText()),
				Fix: "Configure the server to send the server certificate first, then each issuer in order (TLS 1.2 requires this order)."})
			return
		}
	}
	// The issuer is missing. An intermediate the server did not send?
	bc := a.browserCertNamed(top.cert.RawIssuer)
	fetched := a.fetchedIssuer(top.cert)
	aia := top.cert.IssuingCertificateURL
	inCA := false
	for _, c := range a.in.CA {
		if nameEqual(c.RawSubject, top.cert.RawIssuer) {
			inCA = true
		}
	}
	if (bc != nil && !selfSigned(bc)) || fetched != nil || (top.index == 0 && len(aia) > 0) {
		what := fmt.Sprintf("the intermediate %q", issuer)
		switch {
		case bc != nil:
			what = fmt.Sprintf("the intermediate %q (issued by %q, SHA-256 %s, in the browser's chain)", dn(vf, bc.Subject), dn(vf, bc.Issuer), vf.Fingerprint(fingerprint(bc)))
		case fetched != nil:
			what = fmt.Sprintf("the intermediate %q (issued by %q, SHA-256 %s, which the browser fetched from %s)", dn(vf, fetched.Cert.Subject), dn(vf, fetched.Cert.Issuer), vf.Fingerprint(fingerprint(fetched.Cert)), fetched.where(vf))
		}
		expl := fmt.Sprintf("%s is issued by %q, but the server did not send that certificate and it is not a root in %s. The server omits %s. mbedTLS builds the chain only from what was sent (no AIA fetching), so the top of the chain has no trusted issuer.",
			upper(certRef(vf, top)), issuer, a.trustWord(), what)
		if a.dev.Bundle {
			expl += fmt.Sprintf(" The bundle looks up %q — an intermediate's name — among roots and finds nothing.", issuer)
		}
		expl += a.bundleFailText() + aiaText(vf, top.cert) + " Browsers hide this by fetching that URL or using cached intermediates."
		switch {
		case a.browserGotSame() && fetched != nil:
			expl += fmt.Sprintf(" The browser's capture shows the same chain: the server sends its leaf without %q to the browser too. The browser does not complain because it completes the path itself: its capture shows it downloading %q, issued by %q, from %s, outside the TLS connection. mbedTLS never fetches.",
				issuer, dn(vf, fetched.Cert.Subject), dn(vf, fetched.Cert.Issuer), fetched.where(vf))
		case a.browserGotSame():
			expl += fmt.Sprintf(" The browser's capture shows the same chain: the server sends its leaf without %q to the browser too. The browser does not complain because it completes the path itself — it fetches the intermediate from %s or takes it from its cache, outside this TLS connection (the capture shows no such download: it was cached, or the capture filter left out port 80) — so the wire shows the leaf only; mbedTLS never fetches. The intermediate's own issuer is in neither capture (only the intermediate certificate names it); the leaf's authority key identifier %X identifies the intermediate's key.",
				issuer, aiaOr(vf, top.cert), top.cert.AuthorityKeyId)
		}
		if inCA {
			expl += " A certificate with that name is in the CA file but does not verify the signature."
		}
		a.add(Problem{ID: catalog.ChainIncomplete, Severity: sevError, Cert: top.index, Flags: FlagNotTrusted,
			Title:       fmt.Sprintf("The server does not send the intermediate certificate %q", name2(vf, top.cert.Issuer.CommonName, issuer)),
			Explanation: expl,
			Fix:         "Configure the server to send the full chain (its certificate followed by the intermediate(s), e.g. fullchain.pem / SSLCertificateChainFile). On the device, alternatively add the intermediate with CONFIG_MBEDTLS_CUSTOM_CERTIFICATE_BUNDLE_PATH or pass the intermediate or root as cacert_pem."})
		return
	}
	a.add(Problem{ID: catalog.ChainUntrusted, Severity: sevError, Cert: top.index, Flags: FlagNotTrusted,
		Title: fmt.Sprintf("No trusted issuer for %q: %q is neither sent nor trusted", name(vf, top.cert), name2(vf, top.cert.Issuer.CommonName, issuer)),
		Explanation: fmt.Sprintf("%s is issued by %q; the server did not send that certificate and %s does not contain it. If it is a private CA root, the device needs it as its CA; if it is an intermediate, the server must send it.%s",
			upper(certRef(vf, top)), issuer, a.trustWord(), a.bundleFailText()),
		Fix: "Give the device the issuing CA's root certificate (cacert_pem / cert_pem, or CONFIG_MBEDTLS_CUSTOM_CERTIFICATE_BUNDLE_PATH), and make the server send its intermediates."})
}

func name2(vf values.Formatter, cn, full string) string {
	if cn != "" {
		return clean(vf.Attr(cn))
	}
	return full
}

func aiaText(vf values.Formatter, c *x509.Certificate) string {
	if len(c.IssuingCertificateURL) == 0 {
		return ""
	}
	return fmt.Sprintf(" The certificate's AIA caIssuers URL, where a browser fetches the missing issuer, is %s.", strings.Join(urls(vf, c.IssuingCertificateURL), ", "))
}

// fetchedIssuer: a certificate the browser downloaded that issues c.
func (a *analysis) fetchedIssuer(c *x509.Certificate) *Fetched {
	for i, f := range a.in.BrowserFetched {
		if checkParent(c, f.Cert, false) && a.in.sigs.signedBy(c, f.Cert) {
			return &a.in.BrowserFetched[i]
		}
	}
	return nil
}

// browserGotSame: the browser's capture holds exactly the chain the device got.
func (a *analysis) browserGotSame() bool {
	b, d := a.in.Browser, a.in.Certs
	if !a.in.BrowserFromCapture || len(b) != len(d) {
		return false
	}
	for i := range b {
		if fingerprint(b[i]) != fingerprint(d[i]) {
			return false
		}
	}
	return true
}

func aiaOr(vf values.Formatter, c *x509.Certificate) string {
	if len(c.IssuingCertificateURL) == 0 {
		return "the location its cache or the CA's site gives (the certificate names no AIA URL)"
	}
	return "the AIA caIssuers URL " + strings.Join(urls(vf, c.IssuingCertificateURL), ", ")
}

// anchored: does the device's trust list vouch for the top of the sent chain?
func (a *analysis) anchored(top item) (bool, string) {
	vf := a.in.vf()
	if a.dev.Bundle && !a.dev.CrossSignedVerify {
		for _, r := range bundleLookup(top.cert.RawIssuer, a.in.BundleExtra) {
			if a.in.sigs.signedBy(top.cert, r) {
				return true, ""
			}
		}
		return false, ""
	}
	var trust []trustCert
	if a.dev.Bundle {
		for _, c := range append(append([]*x509.Certificate{}, mozilla().certs...), a.in.BundleExtra...) {
			trust = append(trust, trustCert{c, "bundle"})
		}
	} else {
		for _, c := range a.in.CA {
			trust = append(trust, trustCert{c, "ca-file"})
		}
	}
	sim := simulate(a.in.Certs, trust, a.dev.MbedTLS, time.Time{}, false, a.in.sigs)
	if last := sim.items[len(sim.items)-1]; last.trusted {
		return true, ""
	}
	if a.dev.Bundle {
		return false, ""
	}
	// A public root? Then the device trusts another CA than the server uses.
	for _, r := range bundleLookup(top.cert.RawIssuer, nil) {
		if a.in.sigs.signedBy(top.cert, r) {
			return false, fmt.Sprintf(" The chain is valid under Mozilla's root %q, so the device's CA file holds a different CA than the one the server uses.", name(vf, r))
		}
	}
	if selfSigned(top.cert) && len(bundleLookup(top.cert.RawSubject, nil)) > 0 {
		return false, " This root is in Mozilla's list, so the device's CA file holds a different CA than the one the server uses."
	}
	return false, ""
}

// caFor finds the CA-file certificate that issues c (name, CA bit, signature).
func (a *analysis) caFor(c *x509.Certificate) *x509.Certificate {
	for _, ca := range a.in.CA {
		if checkParent(c, ca, true) && a.in.sigs.signedBy(c, ca) {
			return ca
		}
	}
	return nil
}

// rootsNamed: trust-list certificates with this subject.
func (a *analysis) rootsNamed(raw []byte) []*x509.Certificate {
	if a.dev.Bundle {
		return bundleLookup(raw, a.in.BundleExtra)
	}
	var out []*x509.Certificate
	for _, c := range a.in.CA {
		if nameEqual(c.RawSubject, raw) {
			out = append(out, c)
		}
	}
	return out
}

func (a *analysis) browserCertNamed(raw []byte) *x509.Certificate {
	for _, c := range a.in.Browser {
		if nameEqual(c.RawSubject, raw) {
			return c
		}
	}
	return nil
}
