package chain

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"tlspcap/diagnose/catalog"
	"tlspcap/diagnose/values"
)

// browserView builds the path a browser-like verifier (Go's, with Mozilla's
// roots plus the CA file, tolerant of order, no AIA fetching) finds over the
// browser's chain, or over the device's chain when no browser chain is known.
func browserView(in Input) View {
	vf := in.vf()
	certs, label := in.Browser, "browser (chain from --browser-chain)"
	if len(certs) == 0 {
		certs, label = in.Certs, "browser-like check of the certificates the device received (Mozilla roots plus the CA file, any order, no AIA fetching)"
	}
	view := View{Label: label}
	if len(certs) == 0 {
		return view
	}
	pool := mozilla().pool.Clone()
	for _, c := range append(append([]*x509.Certificate{}, in.CA...), in.BundleExtra...) {
		pool.AddCert(c)
	}
	// A browser's chain that ends at a self-signed certificate is the path
	// its certificate viewer shows, up to the root the browser trusts.
	if top := in.Browser; len(top) > 1 && selfSigned(top[len(top)-1]) {
		pool.AddCert(top[len(top)-1])
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	t := in.Time
	if t.IsZero() {
		t = certs[0].NotBefore.Add(certs[0].NotAfter.Sub(certs[0].NotBefore) / 2)
	}
	opts := x509.VerifyOptions{Roots: pool, Intermediates: inter, CurrentTime: t,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	chains, err := certs[0].Verify(opts)
	pos := func(c *x509.Certificate, list []*x509.Certificate) int {
		for i, x := range list {
			if string(x.Raw) == string(c.Raw) {
				return i
			}
		}
		return -1
	}
	if err != nil {
		for i, c := range certs {
			view.Elements = append(view.Elements, Element{Index: i, Source: "sent", Subject: clean(c.Subject.String()),
				Issuer: clean(c.Issuer.String()), SHA256: fingerprint(c), Status: "not verified"})
		}
		view.Note = "does not verify: " + clean(verifyError(vf, err))
		var ua x509.UnknownAuthorityError
		if errors.As(err, &ua) {
			top := certs[len(certs)-1]
			if len(top.IssuingCertificateURL) > 0 {
				view.Note += "; a browser would fetch the missing issuer from " + strings.Join(urls(vf, top.IssuingCertificateURL), ", ")
			}
		}
		return view
	}
	best := chains[0]
	for _, ch := range chains[1:] {
		if len(ch) < len(best) {
			best = ch
		}
	}
	view.OK = true
	for i, c := range best {
		e := Element{Index: -1, Source: "root-store", Subject: clean(c.Subject.String()),
			Issuer: clean(c.Issuer.String()), SHA256: fingerprint(c), Status: "ok"}
		if p := pos(c, certs); p >= 0 {
			e.Index, e.Source = p, "sent"
			if len(in.Browser) > 0 {
				e.Source = "browser"
			}
		}
		if i == len(best)-1 {
			e.Status = "trusted root"
		}
		view.Elements = append(view.Elements, e)
	}
	view.Note = fmt.Sprintf("verifies to %q", name(vf, best[len(best)-1]))
	if n := in.ServerName; n != "" {
		if err := certs[0].VerifyHostname(n); err != nil {
			view.OK = false
			view.Note += "; but the certificate is not valid for " + clean(vf.Host(n))
		}
	}
	return view
}

// browser: chain-differs-from-browser, and what a browser's chain that
// equals the device's says.
func (a *analysis) browser() {
	vf := a.in.vf()
	b, d := a.in.Browser, a.in.Certs
	if len(b) == 0 {
		return
	}
	fpD, fpB := map[string]int{}, map[string]int{}
	for i, c := range d {
		fpD[fingerprint(c)] = i
	}
	for i, c := range b {
		fpB[fingerprint(c)] = i
	}
	var diffs []string
	leafDiffers := fingerprint(d[0]) != fingerprint(b[0])
	if leafDiffers {
		s := fmt.Sprintf("different server certificate: the device got %q (%s, SHA-256 %s), the browser got %q (%s, SHA-256 %s)",
			name(vf, d[0]), strings.Join(sanList(vf, d[0]), ", "), fp16(vf, d[0]), name(vf, b[0]), strings.Join(sanList(vf, b[0]), ", "), fp16(vf, b[0]))
		if a.in.ServerName == "" {
			s += " — the device sent no SNI, so the server answered with its default certificate"
		} else if ok, _ := nameMatch(d[0], a.in.ServerName, a.dev.MbedTLS); !ok {
			s += fmt.Sprintf(" — the device's certificate does not cover its SNI %q: the server picks certificates by a name it did not recognise", clean(vf.Host(a.in.ServerName)))
		}
		diffs = append(diffs, s)
	}
	missing, crossed := false, false
	var fetched []string // intermediates only the browser's chain has: fetched (AIA) or sent to it
	for i, c := range b[1:] {
		if _, ok := fpD[fingerprint(c)]; ok {
			continue
		}
		var twin *x509.Certificate
		for _, x := range d {
			if nameEqual(x.RawSubject, c.RawSubject) {
				twin = x
			}
		}
		if twin != nil {
			crossed = true
			diffs = append(diffs, "different intermediate or cross-signed path: "+pathVariant(vf, twin, c, fpD[fingerprint(twin)], i+1))
			continue
		}
		if selfSigned(c) && i+1 == len(b)-1 {
			// The viewer's path ends at the browser's trusted root: servers
			// need not send it.
			if !a.issuerMissing(c) {
				continue
			}
		}
		if a.issuerMissing(c) {
			missing = true
			fetched = append(fetched, fmt.Sprintf("%q issued by %q", dn(vf, c.Subject), dn(vf, c.Issuer)))
		}
		diffs = append(diffs, fmt.Sprintf("the browser's chain has %q (position %d, issued by %q, SHA-256 %s) which the server did not send to the device", name(vf, c), i+1, dn(vf, c.Issuer), fp16(vf, c)))
	}
	for i, c := range d[1:] {
		if _, ok := fpB[fingerprint(c)]; ok {
			continue
		}
		twin := false
		for _, x := range b {
			if nameEqual(x.RawSubject, c.RawSubject) {
				twin = true
			}
		}
		if twin {
			continue // named with its variant above
		}
		diffs = append(diffs, fmt.Sprintf("the device received %q (position %d, issued by %q) which is not in the browser's chain", name(vf, c), i+1, dn(vf, c.Issuer)))
	}
	if len(diffs) == 0 && len(b) == len(d) {
		for i := range d {
			if fingerprint(d[i]) != fingerprint(b[i]) {
				diffs = append(diffs, "the same certificates in a different order (mbedTLS looks for each issuer only after the certificate it signs)")
				break
			}
		}
	}
	if len(diffs) == 0 {
		return
	}
	sev := sevWarning
	if a.res.Device.Code != 0 && (leafDiffers || missing) {
		sev = sevError
	}
	title := "The device received a different chain than the browser"
	switch {
	case leafDiffers:
		title = "The device received a different server certificate than the browser"
	case missing:
		title = "The browser's chain has an intermediate certificate the server did not send to the device"
	case crossed:
		title = "The device and the browser have different paths: different intermediate or cross-signed path"
	}
	expl := "Compared with the browser's chain: " + strings.Join(diffs, "; ") + "."
	switch {
	case missing && a.in.BrowserFromCapture:
		expl += fmt.Sprintf(" The browser's capture shows the server sending %s, which it did not send to the device: the server sends different chains to different clients (by server name, TLS version or key type).",
			strings.Join(fetched, ", "))
	case missing:
		expl += fmt.Sprintf(" The browser's chain holds %s, but the device was not sent it. A certificate viewer shows the path the browser built, which includes intermediates it fetched from the AIA URL or had cached, not what the server sent: a capture of the browser (--browser-chain capture.pcapng) shows what the server sends.%s",
			strings.Join(fetched, ", "), aiaText(vf, d[len(d)-1]))
	}
	expl += " Device (" + a.dev.String() + "): " + a.res.DeviceView.Note + ". Browser: " + a.res.BrowserView.Note + "."
	a.add(Problem{ID: catalog.ChainDiffersFromBrowser, Severity: sev, Cert: -1,
		Title:       title,
		Explanation: expl,
		Fix:         browserFix(leafDiffers, missing, crossed)})
}

// pathVariant describes two CA certificates with the same name, the
// device's and the browser's: a cross-sign, a self-signed root, or a
// re-issue.
func pathVariant(vf values.Formatter, dev, br *x509.Certificate, di, bi int) string {
	sameKey := string(dev.RawSubjectPublicKeyInfo) == string(br.RawSubjectPublicKeyInfo)
	what := func(c *x509.Certificate) string {
		switch {
		case selfSigned(c):
			return fmt.Sprintf("%q as a self-signed root", name(vf, c))
		case sameKey:
			return fmt.Sprintf("%q cross-signed by %q", name(vf, c), dn(vf, c.Issuer))
		}
		return fmt.Sprintf("%q issued by %q", name(vf, c), dn(vf, c.Issuer))
	}
	s := fmt.Sprintf("the device got %s (position %d, SHA-256 %s), the browser's chain has %s (position %d, SHA-256 %s)",
		what(dev), di, fp16(vf, dev), what(br), bi, fp16(vf, br))
	switch {
	case sameKey && selfSigned(br):
		s += fmt.Sprintf(" — the same CA key: the browser's path ends at %q itself, the device's goes on through the cross-sign to %q", name(vf, br), dn(vf, dev.Issuer))
	case sameKey:
		s += " — the same CA key certified by different issuers"
	default:
		s += " — a different intermediate with the same name (another key: re-issued)"
	}
	return s
}

// issuerMissing: c is the issuer of a device certificate that the device was not sent.
func (a *analysis) issuerMissing(c *x509.Certificate) bool {
	for _, x := range a.in.Certs {
		if nameEqual(x.RawIssuer, c.RawSubject) && a.in.sigs.signedBy(x, c) {
			return true
		}
	}
	return false
}

func browserFix(leaf, missing, crossed bool) string {
	switch {
	case leaf:
		return "Make the device send the server name the browser used (connect by host name or set common_name, do not set skip_cert_common_name_check), so the server selects the same certificate."
	case missing:
		return "Configure the server to send the full chain (certificate followed by its intermediates), as the browser's chain shows."
	case crossed:
		return "Give the device the root the browser's path ends at (cacert_pem, or check that the certificate bundle has it): mbedTLS looks in its CA list first and stops there. Or make the server send the chain without the cross-signed certificate when no client needs the old root."
	}
	return "Configure the server to send the chain in order: the server certificate, then each issuer."
}

// verifyError is crypto/x509's verification error, which names the
// certificates and hosts it is about: pseudonyms get its gist alone.
func verifyError(vf values.Formatter, err error) string {
	if vf == values.Plain {
		return err.Error()
	}
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	switch {
	case errors.As(err, &ua):
		return "x509: certificate signed by unknown authority"
	case errors.As(err, &he):
		return "x509: certificate is not valid for " + vf.Host(he.Host)
	case errors.As(err, &ci):
		return fmt.Sprintf("x509: certificate invalid (reason %d)", ci.Reason)
	}
	return "x509: the chain does not verify"
}
