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

// names: missing-sni and hostname-mismatch.
func (a *analysis) names() {
	vf := a.in.vf()
	in, leaf, v := a.in, a.leaf, a.dev.MbedTLS
	certNames := strings.Join(sanList(vf, leaf), ", ")
	if !hasExtension(leaf, oidSAN) {
		certNames = "no subjectAltName extension; CN " + strings.Join(quoteAll(vf, commonNames(leaf)), ", ")
	} else if certNames == "" {
		certNames = "an empty subjectAltName"
	}
	sni := in.ServerName
	sniIP, sniIsIP := netip.Addr{}, false
	if ip, err := netip.ParseAddr(sni); err == nil {
		sniIP, sniIsIP = ip, true
	}
	switch {
	case sni == "":
		where := ""
		if in.ServerIP.IsValid() {
			where = " to " + vf.Addr(in.ServerIP)
		}
		a.add(Problem{ID: catalog.MissingSNI, Severity: sevWarning, Cert: -1,
			Title: "The device sent no server name (SNI)",
			Explanation: fmt.Sprintf("The ClientHello%s carries no server_name extension. ESP-TLS omits it when skip_common_name (skip_cert_common_name_check) is set — which also turns off the device's name check — or when the connection was made without a host name. A server that hosts several names then returns its default certificate; here it returned %q (%s).",
				where, name(vf, leaf), certNames),
			Fix: "Connect by host name and leave skip_cert_common_name_check off; or set common_name (esp_tls_cfg_t / esp_http_client_config_t) to the server's name so the device sends it as SNI and checks it."})
	case sniIsIP:
		a.add(Problem{ID: catalog.MissingSNI, Severity: sevWarning, Cert: -1,
			Title: fmt.Sprintf("The device sent the IP address %s as server name", vf.Addr(sniIP)),
			Explanation: fmt.Sprintf("The ClientHello's server_name is the IP literal %q. RFC 6066 forbids IP addresses in SNI, but mbedTLS sends whatever host it was given; servers ignore it and return their default certificate (here %q). The device then checks the certificate against the IP.",
				clean(vf.Host(sni)), name(vf, leaf)),
			Fix: "Connect by host name; for a server reached by IP, give it a certificate with an IP-address SAN (matched by mbedTLS 3.5+, ESP-IDF v5.2+) or set common_name to a name in its certificate."})
	}
	// The name the check is about.
	check := sni
	if check == "" && in.ServerIP.IsValid() {
		check = in.ServerIP.String()
	}
	if check == "" {
		return
	}
	shown := clean(vf.Host(check)) // an address is written as one
	ok, _ := nameMatch(leaf, check, v)
	if ok {
		return
	}
	p := Problem{ID: catalog.HostnameMismatch, Severity: sevError, Cert: 0, Flags: FlagCNMismatch}
	checkIsIP := sniIsIP || (sni == "" && in.ServerIP.IsValid())
	ipOnlyOld := checkIsIP && ipSANMatch(leaf, check)
	switch {
	case sni == "":
		p.Severity, p.Flags = sevWarning, 0
		p.Conditional = "not checked by the device: without SNI it has skip_common_name set"
		p.Title = fmt.Sprintf("The certificate is not valid for %s, the address the device connected to", shown)
		p.Explanation = fmt.Sprintf("No SNI was sent, so the device (skip_common_name) does not check the name and this does not fail the handshake; but the certificate %q is valid for %s, not for %s — any client that checks will refuse it, and it is likely the server's default certificate rather than the one meant for the device.",
			name(vf, leaf), certNames, shown)
		p.Fix = "Connect by the host name in the certificate (so SNI selects the right certificate) and keep the name check on."
	case ipOnlyOld:
		p.Title = fmt.Sprintf("mbedTLS %s ignores the certificate's IP-address SAN %s", v, shown)
		p.Explanation = fmt.Sprintf("The device checks the certificate against %q. The certificate lists it as an iPAddress SAN (%s), but mbedTLS before 3.5.0 matches only dNSName entries (or the CN when there is no SAN), so it sets CN_MISMATCH and sends alert bad_certificate(42) with -0x2700.",
			shown, certNames)
		p.Fix = "Update to ESP-IDF with mbedTLS 3.5+ (v5.2 or later), or add the address as a dNSName SAN (or connect by a host name in the certificate), or set common_name to a dNSName in the certificate."
	default:
		p.Title = fmt.Sprintf("The certificate does not match %s", shown)
		p.Explanation = fmt.Sprintf("The device checks the server's certificate %q against %q (its SNI / common_name). The certificate is valid for %s. mbedTLS sets CN_MISMATCH (0x04): -0x2700 (MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) and alert bad_certificate(42), which takes precedence over the other checks' alerts (only a fatal -0x3000 bundle or chain-length error gives access_denied(49) instead).",
			name(vf, leaf), shown, certNames)
		if !hasExtension(leaf, oidSAN) {
			p.Explanation += " Without a subjectAltName extension mbedTLS compares the CN; browsers ignore the CN and require a SAN."
		}
		if checkIsIP {
			p.Fix = "Connect by a host name the certificate covers, or re-issue the certificate with an IP-address SAN for " + shown + " (matched by mbedTLS 3.5+, ESP-IDF v5.2+; older versions need it as dNSName or CN). Setting common_name to a name in the certificate also works; skip_cert_common_name_check hides the problem and removes protection."
		} else {
			p.Fix = "Use the host name the certificate is issued for (set common_name if the device must connect by another name), or re-issue the certificate with a SAN for " + shown + "."
		}
	}
	a.add(p)
}

func quoteAll(vf values.Formatter, ss []string) []string {
	var out []string
	for _, s := range ss {
		out = append(out, fmt.Sprintf("%q", clean(vf.Attr(s))))
	}
	if len(out) == 0 {
		out = []string{"(none)"}
	}
	return out
}

// dates: certificate-expired / certificate-not-yet-valid for the sent
// certificates on the device's path and the CA-file anchor (bundle roots
// carry no dates in the ESP bundle).
func (a *analysis) dates() {
	vf := a.in.vf()
	t := a.in.Time
	if t.IsZero() {
		return
	}
	for k, e := range a.res.Device.Path {
		c := a.certAt(e)
		if c == nil || e.Source == "bundle" {
			continue
		}
		sev := sevWarning
		if a.dev.CheckDates {
			sev = sevError
		}
		ref := fmt.Sprintf("certificate #%d %q", e.Index, name(vf, c))
		if e.Index < 0 {
			ref = fmt.Sprintf("the CA certificate %q from the CA file", name(vf, c))
		}
		switch {
		case t.After(c.NotAfter):
			fix := "Renew the certificate on the server (and automate renewal); if the CA file holds an expired CA, update the device's CA."
			expl := fmt.Sprintf("%s was valid from %s until %s; the capture was taken on %s, %s after it expired. mbedTLS checks dates only with CONFIG_MBEDTLS_HAVE_TIME_DATE=y (ESP-IDF default n): then it sets EXPIRED (0x01), returns -0x2700 and sends alert certificate_expired(45) unless a name mismatch (42) or key problem (43) comes first. With the default the device accepts it; browsers refuse it.",
				upper(ref), stamp(c.NotBefore), stamp(c.NotAfter), stamp(t), span(t.Sub(c.NotAfter)))
			if e.Index < 0 {
				fix = "Update the device's CA file (cacert_pem) with the CA's current root certificate."
				if k > 0 {
					if x, more, f := a.crossSigned(a.res.Device.Path[k-1], c); x != nil {
						expl += more
						fix = f
					}
				}
			}
			a.add(Problem{ID: catalog.CertificateExpired, Severity: sev, Cert: e.Index, Flags: FlagExpired, Conditional: datesCond,
				Title:       fmt.Sprintf("%s expired on %s", upper(ref), day(c.NotAfter)),
				Explanation: expl, Fix: fix})
		case t.Before(c.NotBefore):
			a.add(Problem{ID: catalog.CertificateNotYetValid, Severity: sev, Cert: e.Index, Flags: FlagFuture, Conditional: datesCond,
				Title: fmt.Sprintf("%s is not valid until %s", upper(ref), day(c.NotBefore)),
				Explanation: fmt.Sprintf("%s becomes valid on %s; the capture was taken on %s, %s earlier. With CONFIG_MBEDTLS_HAVE_TIME_DATE=y mbedTLS sets FUTURE (0x200), returns -0x2700 and sends alert certificate_unknown(46) when nothing else is wrong.",
					upper(ref), stamp(c.NotBefore), stamp(t), span(c.NotBefore.Sub(t))),
				Fix: "Check the server's clock and the certificate's issue date; wait for the validity start or re-issue it."})
		}
	}
	a.deviceClock()
}

// deviceClock: one problem when the device's own clock (read from its
// ClientHello) is outside the validity of a certificate on its path.
func (a *analysis) deviceClock() {
	vf := a.in.vf()
	dc := a.in.DeviceClock
	if dc.IsZero() {
		return
	}
	sev := sevWarning
	if a.dev.CheckDates {
		sev = sevError
	}
	var before, after []string
	for _, e := range a.res.Device.Path {
		c := a.certAt(e)
		if c == nil || e.Source == "bundle" {
			continue
		}
		if dc.Before(c.NotBefore) && !a.in.Time.Before(c.NotBefore) {
			before = append(before, fmt.Sprintf("%q (valid from %s)", name(vf, c), day(c.NotBefore)))
		}
		if dc.After(c.NotAfter) && !a.in.Time.After(c.NotAfter) {
			after = append(after, fmt.Sprintf("%q (valid until %s)", name(vf, c), day(c.NotAfter)))
		}
	}
	switch {
	case len(before) > 0:
		a.add(Problem{ID: catalog.CertificateNotYetValid, Severity: sev, Cert: -1, Flags: FlagFuture, Conditional: datesCond,
			Title: fmt.Sprintf("The device's clock reads %s, before the certificates' validity", day(dc)),
			Explanation: fmt.Sprintf("The device's clock (from its ClientHello) reads %s; the capture was taken on %s. By the device's clock these are not yet valid: %s. With CONFIG_MBEDTLS_HAVE_TIME_DATE=y mbedTLS compares against that clock, sets FUTURE (0x200), returns -0x2700 and sends alert certificate_unknown(46). The certificates are fine; the device's time is not set.",
				stamp(dc), stamp(a.in.Time), strings.Join(before, ", ")),
			Fix: "Set the device's time before connecting (esp_netif_sntp_init / esp_sntp and wait for the sync), or leave CONFIG_MBEDTLS_HAVE_TIME_DATE off."})
	case len(after) > 0:
		a.add(Problem{ID: catalog.CertificateExpired, Severity: sev, Cert: -1, Flags: FlagExpired, Conditional: datesCond,
			Title: fmt.Sprintf("The device's clock reads %s, after the certificates' expiry", day(dc)),
			Explanation: fmt.Sprintf("The device's clock (from its ClientHello) reads %s; the capture was taken on %s. By the device's clock these have expired: %s. With CONFIG_MBEDTLS_HAVE_TIME_DATE=y mbedTLS sets EXPIRED (0x01), returns -0x2700 and sends alert certificate_expired(45).",
				stamp(dc), stamp(a.in.Time), strings.Join(after, ", ")),
			Fix: "Fix the device's clock (SNTP)."})
	}
}

// crossSigned: the path element below a CA-file root is a cross-signed CA
// certificate (a CA's certificate issued by that other root). It returns
// that certificate, the sentences that explain the path and the fix.
func (a *analysis) crossSigned(child Element, root *x509.Certificate) (*x509.Certificate, string, string) {
	vf := a.in.vf()
	x := a.certAt(child)
	if x == nil || child.Index < 0 || !x.IsCA || selfSigned(x) || !nameEqual(x.RawIssuer, root.RawSubject) {
		return nil, "", ""
	}
	own := fmt.Sprintf("%q's own (self-signed) root certificate", name(vf, x))
	for _, c := range append(append([]*x509.Certificate{}, a.in.Browser...), mozilla().bySubject[string(x.RawSubject)]...) {
		if selfSigned(c) && nameEqual(c.RawSubject, x.RawSubject) {
			own = fmt.Sprintf("the root %q (SHA-256 %s)", name(vf, c), fp16(vf, c))
			break
		}
	}
	expl := fmt.Sprintf(" The device reaches this root through a cross-signed path: certificate #%d %q is that CA's certificate cross-signed by %q, so the chain ends at the CA file's expired %q. A client that trusts %s stops there (mbedTLS too: it looks in its CA list first) and never needs the cross-sign or the expired root.",
		child.Index, name(vf, x), name(vf, root), name(vf, root), own)
	fix := fmt.Sprintf("Add %s to the device's CA file (cacert_pem) — or use the certificate bundle if it holds that root — and drop the expired %q; or have the server stop sending the cross-signed certificate once no client needs the old root.", own, name(vf, root))
	return x, expl, fix
}

func (a *analysis) certAt(e Element) *x509.Certificate {
	if e.Index >= 0 && e.Index < len(a.in.Certs) {
		return a.in.Certs[e.Index]
	}
	for _, c := range a.in.CA {
		if fingerprint(c) == e.SHA256 {
			return c
		}
	}
	return nil
}

func upper(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func day(t time.Time) string   { return t.UTC().Format("2006-01-02") }
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

func span(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	case d >= 2*time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	case d >= 2*time.Minute:
		return fmt.Sprintf("%d minutes", int(d.Minutes()))
	}
	return fmt.Sprintf("%d seconds", int(d.Seconds()))
}

// weak: keys, hashes, usages, chain size.
func (a *analysis) weak() {
	vf := a.in.vf()
	in, v := a.in, a.dev.MbedTLS
	path := map[int]bool{}
	for _, e := range a.res.Device.Path {
		if e.Index >= 0 {
			path[e.Index] = true
		}
	}
	failing := a.res.Device.Code != 0
	for i, c := range in.Certs {
		if !path[i] && i != 0 {
			continue
		}
		if ok, why := keyAllowed(c.PublicKey, v); !ok {
			sev := sevError
			expl := fmt.Sprintf("Certificate #%d %q has an %s. mbedTLS sets BAD_KEY (0x10000) ", i, name(vf, c), why)
			if i == 0 {
				expl += "on the server's certificate"
			} else {
				expl += "on the certificate it signs"
			}
			expl += ": -0x2700 and alert unsupported_certificate(43) (unless the name mismatches: 42)."
			fix := "Re-issue the certificate with an RSA key of 2048 bits or more, or an ECDSA P-256/P-384 key."
			if strings.HasPrefix(why, "Ed25519") {
				expl = fmt.Sprintf("Certificate #%d %q has an Ed25519 key; mbedTLS cannot parse it, so the device fails while reading the Certificate message and sends bad_certificate(42).", i, name(vf, c))
				fix = "Give the server an RSA (2048+) or ECDSA P-256/P-384 certificate for this client (servers can hold both)."
			}
			flags := FlagBadKey
			if strings.HasPrefix(why, "Ed25519") {
				flags = 0
			}
			a.add(Problem{ID: catalog.WeakCertificate, Severity: sev, Cert: i, Flags: flags,
				Title: fmt.Sprintf("Certificate #%d: %s", i, why), Explanation: expl, Fix: fix})
		}
		if selfSigned(c) {
			continue // a root's own signature is never checked
		}
		if h := sigHash(c); !mdAllowed(h, v) {
			sev, cond := sevError, ""
			expl := fmt.Sprintf("Certificate #%d %q is signed with %s (%s). mbedTLS %s's default profile accepts %s, so it sets BAD_MD (0x4000); on its own that gives -0x2700 and alert certificate_unknown(46).",
				i, name(vf, c), h, sigName(c), v, map[bool]string{true: "SHA-224 and stronger", false: "SHA-256 and stronger"}[v.Major < 3])
			if a.dev.Bundle && !a.dev.CrossSignedVerify && i == a.topIndex() {
				sev, cond = sevWarning, "ignored by the certificate bundle for the top-most certificate"
				expl += " Here it is the top-most certificate sent, whose BAD_MD the ESP certificate bundle ignores when it validates it against its root; a CA-file setup or another client still rejects it."
			} else if !failing {
				sev = sevWarning
			}
			a.add(Problem{ID: catalog.WeakCertificate, Severity: sev, Cert: i, Flags: FlagBadMD, Conditional: cond,
				Title:       fmt.Sprintf("Certificate #%d is signed with %s", i, h),
				Explanation: expl,
				Fix:         "Re-issue the certificate (or use the CA's current intermediate) with a SHA-256 signature."})
		}
	}
	leaf := a.leaf
	if u := usageFlags(leaf, in.CipherSuite, in.Version); u != 0 {
		if u&FlagKeyUsage != 0 {
			a.add(Problem{ID: catalog.WeakCertificate, Severity: sevError, Cert: 0, Flags: FlagKeyUsage,
				Title: "The server certificate's keyUsage does not allow this key exchange",
				Explanation: fmt.Sprintf("The certificate's keyUsage is %s; the key exchange needs %s. mbedTLS sets KEY_USAGE (0x800): alert unsupported_certificate(43), and -0x7A00 when nothing else failed.",
					kuText(leaf.KeyUsage), kuAlternatives(neededUsages(leaf, in.CipherSuite, in.Version))),
				Fix: "Re-issue the certificate with keyUsage digitalSignature (and keyEncipherment for RSA key exchange)."})
		}
		if u&FlagExtKeyUsage != 0 {
			a.add(Problem{ID: catalog.WeakCertificate, Severity: sevError, Cert: 0, Flags: FlagExtKeyUsage,
				Title:       "The server certificate's extendedKeyUsage lacks serverAuth",
				Explanation: "The certificate has an extendedKeyUsage extension without TLS Web Server Authentication (serverAuth) or anyExtendedKeyUsage. mbedTLS sets EXT_KEY_USAGE (0x1000): alert unsupported_certificate(43), and -0x7A00 when nothing else failed.",
				Fix:         "Re-issue the certificate with extendedKeyUsage serverAuth."})
		}
	}
	if a.res.TotalBytes > 8192 {
		a.add(Problem{ID: catalog.WeakCertificate, Severity: sevInfo, Cert: -1,
			Title: fmt.Sprintf("The chain is %d bytes", a.res.TotalBytes),
			Explanation: fmt.Sprintf("The server sent %d certificates totalling %d bytes of DER. The device keeps the parsed chain on its heap during the handshake (about the DER size again in structures), and a Certificate message this large needs a big input buffer (CONFIG_MBEDTLS_SSL_IN_CONTENT_LEN).",
				len(in.Certs), a.res.TotalBytes),
			Fix: "Send only the leaf and the intermediates (not the root), prefer ECDSA certificates; on the device consider CONFIG_MBEDTLS_DYNAMIC_BUFFER and CONFIG_MBEDTLS_DYNAMIC_FREE_PEER_CERT."})
	}
}

// topIndex is the index of the top-most sent certificate on the device path.
func (a *analysis) topIndex() int {
	top := 0
	for _, e := range a.res.Device.Path {
		if e.Index >= 0 {
			top = e.Index
		}
	}
	return top
}

func kuText(ku x509.KeyUsage) string {
	names := []string{"digitalSignature", "contentCommitment", "keyEncipherment", "dataEncipherment", "keyAgreement", "keyCertSign", "cRLSign", "encipherOnly", "decipherOnly"}
	var out []string
	for i, n := range names {
		if ku&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return "empty"
	}
	return strings.Join(out, ", ")
}

func kuAlternatives(us []x509.KeyUsage) string {
	var out []string
	for _, u := range us {
		out = append(out, kuText(u))
	}
	return strings.Join(out, " or ")
}
