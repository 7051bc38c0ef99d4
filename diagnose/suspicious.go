package diagnose

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"strings"

	"tlspcap/capture"
	"tlspcap/decode"
	"tlspcap/diagnose/catalog"
	"tlspcap/diagnose/values"
	"tlspcap/internal/wiretext"
)

// ruleSuspiciousName flags names from the wire (the SNI, the names and URLs
// of the certificates sent) that carry characters hiding or reordering
// text, or bytes that are not UTF-8. No host name needs them, and printed
// raw "evil\u202Emoc.elgoog" reads as "evilgoogle.com": the reports escape
// them, and this says the name itself deserves a look.
func ruleSuspiciousName(x *ruleRun) []Finding {
	var out []Finding
	v := x.ctx.opts.Values // --redact: the names shown are pseudonyms, what they hold is still said
	if ch, ok := clientHello(x.conn); ok && wiretext.Suspicious(ch.ServerName) {
		fr := first(x.tls.clientHello.Where)
		out = append(out, suspiciousName(fr, "the SNI", "the ClientHello's server name (SNI) is", []string{shownName(v.Host(ch.ServerName))},
			describeAll([]string{ch.ServerName}),
			"Check the host name the device connects to (the URI or host in its esp_http_client / esp_mqtt / esp_tls configuration): it was given these characters."))
	}
	for _, dir := range []capture.Dir{x.fromServer(), x.fromClient()} {
		h := x.tls.certificate[dir]
		if h == nil {
			continue
		}
		cm, ok := h.Body.(*decode.Certificate)
		if !ok {
			continue
		}
		who := "server"
		if dir == x.fromClient() {
			who = "client"
		}
		for i, e := range cm.Entries {
			if e.Cert == nil {
				continue
			}
			shown, raw := suspiciousCertNames(e.Cert, x.ctx.certRowBy(e.SHA256, e.Cert), v)
			if len(shown) == 0 {
				continue
			}
			where := fmt.Sprintf("the %s's certificate #%d", who, i)
			out = append(out, suspiciousName(first(h.Where), where, where+" carries", shown, describeAll(raw),
				"Look at who issued this certificate and why: a CA does not issue such names, so it is forged, self-made or from a hostile server."))
		}
	}
	return out
}

// suspiciousCertNames are the certificate's names that Suspicious flags,
// as the reports show them (escaped, quoted, through vf; subject and
// issuer as in the certificate's row), and their raw values.
func suspiciousCertNames(c *x509.Certificate, row Certificate, vf values.Formatter) (shown, raw []string) {
	add := func(what, v string) {
		if wiretext.Suspicious(v) {
			f := vf.Host
			if strings.Contains(what, "URL") || strings.Contains(what, "URI") {
				f = vf.URL
			} else if strings.Contains(what, "email") {
				f = vf.Attr
			}
			shown = append(shown, what+" "+shownName(f(v)))
			raw = append(raw, v)
		}
	}
	dn := func(what string, n pkix.Name, asShown string) {
		for _, a := range n.Names {
			if v, ok := a.Value.(string); ok && wiretext.Suspicious(v) {
				shown = append(shown, what+" "+shownName(asShown))
				raw = append(raw, v)
				return
			}
		}
	}
	dn("subject", c.Subject, row.Subject)
	dn("issuer", c.Issuer, row.Issuer)
	for _, n := range c.DNSNames {
		add("SAN", n)
	}
	for _, n := range c.EmailAddresses {
		add("SAN email", n)
	}
	for _, u := range c.URIs {
		add("SAN URI", u.String())
	}
	for _, u := range c.IssuingCertificateURL {
		add("AIA URL", u)
	}
	for _, u := range c.OCSPServer {
		add("OCSP URL", u)
	}
	for _, u := range c.CRLDistributionPoints {
		add("CRL URL", u)
	}
	return shown, raw
}

// shownName is a name in a finding's words: escaped, quoted.
func shownName(s string) string { return `"` + wiretext.Escape(s) + `"` }

func describeAll(names []string) string { return wiretext.Describe(strings.Join(names, "")) }

// suspiciousName is the finding: where ("the SNI"), what holds the names
// ("the ClientHello's server name (SNI) is"), the names as shown, what
// they contain.
func suspiciousName(frame int, where, holds string, names []string, what, fix string) Finding {
	return Finding{
		ID: catalog.SuspiciousName, Severity: SeverityWarning, Frames: frames(frame),
		Title: fmt.Sprintf("Invisible, bidi or control characters in %s: %s", where, names[0]),
		Explanation: fmt.Sprintf("In frame %d %s %s. It contains %s: no host name needs them, and shown raw they hide or reorder text "+
			"(\"evil\\u202Emoc.elgoog\" reads as \"evilgoogle.com\") or act on a terminal. tlspcap shows them as escapes (\\u202E); the JSON report keeps the exact value.",
			frame, holds, strings.Join(names, ", "), what),
		Fix: fix,
	}
}
