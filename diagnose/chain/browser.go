package chain

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
)

// browserView builds the path a browser-like verifier (Go's, with Mozilla's
// roots plus the CA file, tolerant of order, no AIA fetching) finds over the
// browser's chain, or over the device's chain when no browser chain is known.
func browserView(in Input) View {
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
		view.Note = "does not verify: " + clean(err.Error())
		var ua x509.UnknownAuthorityError
		if errors.As(err, &ua) {
			top := certs[len(certs)-1]
			if len(top.IssuingCertificateURL) > 0 {
				view.Note += "; a browser would fetch the missing issuer from " + strings.Join(cleanAll(top.IssuingCertificateURL), ", ")
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
	view.Note = fmt.Sprintf("verifies to %q", name(best[len(best)-1]))
	if n := in.ServerName; n != "" {
		if err := certs[0].VerifyHostname(n); err != nil {
			view.OK = false
			view.Note += "; but the certificate is not valid for " + clean(n)
		}
	}
	return view
}

// browser: chain-differs-from-browser.
func (a *analysis) browser() {
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
			name(d[0]), strings.Join(sanList(d[0]), ", "), fingerprint(d[0])[:16], name(b[0]), strings.Join(sanList(b[0]), ", "), fingerprint(b[0])[:16])
		if a.in.ServerName == "" {
			s += " — the device sent no SNI, so the server answered with its default certificate"
		} else if ok, _ := nameMatch(d[0], a.in.ServerName, a.dev.MbedTLS); !ok {
			s += fmt.Sprintf(" — the device's certificate does not cover its SNI %q: the server picks certificates by a name it did not recognise", clean(a.in.ServerName))
		}
		diffs = append(diffs, s)
	}
	missing := false
	for i, c := range b[1:] {
		if _, ok := fpD[fingerprint(c)]; ok {
			continue
		}
		same := ""
		for _, x := range d {
			if nameEqual(x.RawSubject, c.RawSubject) {
				same = fmt.Sprintf(" (the device got a different certificate with the same name, SHA-256 %s: a cross-signed or re-issued variant)", fingerprint(x)[:16])
			}
		}
		if same == "" && a.issuerMissing(c) {
			missing = true
		}
		diffs = append(diffs, fmt.Sprintf("the browser received %q (position %d, issuer %q) which the device was not sent%s", name(c), i+1, clean(c.Issuer.String()), same))
	}
	for i, c := range d[1:] {
		if _, ok := fpB[fingerprint(c)]; ok {
			continue
		}
		diffs = append(diffs, fmt.Sprintf("the device received %q (position %d, issuer %q) which the browser was not sent", name(c), i+1, clean(c.Issuer.String())))
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
		title = "The browser received an intermediate certificate the device was not sent"
	}
	a.add(Problem{ID: "chain-differs-from-browser", Severity: sev, Cert: -1,
		Title:       title,
		Explanation: "Compared with the browser's chain: " + strings.Join(diffs, "; ") + ". Device: " + a.res.DeviceView.Note + ". Browser: " + a.res.BrowserView.Note + ".",
		Fix:         browserFix(leafDiffers, missing)})
}

// issuerMissing: c is the issuer of a device certificate that the device was not sent.
func (a *analysis) issuerMissing(c *x509.Certificate) bool {
	for _, x := range a.in.Certs {
		if nameEqual(x.RawIssuer, c.RawSubject) && signedBy(x, c) {
			return true
		}
	}
	return false
}

func browserFix(leaf, missing bool) string {
	switch {
	case leaf:
		return "Make the device send the server name the browser used (connect by host name or set common_name, do not set skip_cert_common_name_check), so the server selects the same certificate."
	case missing:
		return "Configure the server to send the full chain (certificate followed by its intermediates), as the browser's chain shows."
	}
	return "Configure the server to send the chain in order: the server certificate, then each issuer."
}
