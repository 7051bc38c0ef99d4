package diagnose

import (
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"net/netip"

	"tlspcap/capture"
	"tlspcap/decode"
	"tlspcap/diagnose/chain"
	"tlspcap/diagnose/device"
)

// alertChainIDs maps the alert an mbedTLS client sends after a failed
// verification to the chain findings that explain it, most specific first
// (knowledge/esp-mbedtls.md §2.5).
var alertChainIDs = map[uint8][]string{
	42: {"hostname-mismatch", "missing-sni"},
	43: {"weak-certificate"},
	45: {"certificate-expired"},
	46: {"certificate-not-yet-valid", "weak-certificate"},
	48: {"chain-incomplete", "self-signed", "chain-untrusted"},
	49: {"chain-incomplete", "chain-untrusted", "self-signed"},
}

// serverChain runs the chain analysis over the server's Certificate message.
func (x *ruleRun) serverChain() (chain.Result, *decode.Handshake, bool) {
	h := x.tls.certificate[x.fromServer()]
	if h == nil {
		return chain.Result{}, nil, false
	}
	cm, ok := h.Body.(*decode.Certificate)
	if !ok || len(cm.Entries) == 0 {
		return chain.Result{}, h, false
	}
	in := chain.Input{Time: h.Time, CA: x.ctx.ca, ServerIP: x.serverAddr()}
	for _, e := range cm.Entries {
		if e.Cert == nil {
			continue
		}
		in.Certs = append(in.Certs, e.Cert)
		in.Raw = append(in.Raw, e.Raw)
	}
	if len(in.Certs) == 0 {
		return chain.Result{}, h, false
	}
	if ch, ok := clientHello(x.conn); ok {
		in.ServerName = ch.ServerName
	}
	// The browser asked for the name the device wanted; without SNI on the
	// device's side, match by the server's address.
	in.Browser = x.ctx.browserChainFor(in.ServerName, x.serverAddr())
	return x.ctx.analyzeChain(in), h, true
}

// maxChainCache bounds the chain analyses kept for reuse.
const maxChainCache = 4096

// analyzeChain runs chain.Analyze once per distinct input: a capture holds
// many connections to the same few servers, and path building with its
// signature checks costs a millisecond.
func (ctx *ruleContext) analyzeChain(in chain.Input) chain.Result {
	k := chainKey(in)
	if r, ok := ctx.chainCache[k]; ok {
		return r
	}
	r := chain.Analyze(in)
	if ctx.chainCache == nil || len(ctx.chainCache) >= maxChainCache {
		ctx.chainCache = map[string]chain.Result{}
	}
	ctx.chainCache[k] = r
	return r
}

// chainKey identifies inputs that give the same analysis: the same
// certificates, server name (the address when there is none: the analysis
// reads it only then), browser chain and capture day, with each
// certificate on the same side of its validity period.
func chainKey(in chain.Input) string {
	h := sha256.New()
	for _, r := range in.Raw {
		h.Write(r)
		h.Write([]byte{0})
	}
	ip := in.ServerIP
	if in.ServerName != "" {
		ip = netip.Addr{}
	}
	fmt.Fprintf(h, "|%s|%s|%s|", in.ServerName, ip, in.Time.UTC().Format("2006-01-02"))
	for _, c := range in.Certs {
		switch {
		case in.Time.Before(c.NotBefore):
			h.Write([]byte{'b'})
		case in.Time.After(c.NotAfter):
			h.Write([]byte{'a'})
		default:
			h.Write([]byte{'v'})
		}
	}
	for _, b := range in.Browser {
		h.Write(b.Raw)
	}
	return string(h.Sum(nil))
}

// ruleChainByAlert: the device rejected the server's certificate; the alert
// it sent names the verification failure, the chain analysis says why.
func ruleChainByAlert(x *ruleRun) []Finding {
	if !x.deviceIsClient() {
		return nil
	}
	al := x.alertFrom(x.dev)
	if al == nil {
		return nil
	}
	ids, ok := alertChainIDs[al.Description]
	if !ok {
		return nil
	}
	res, h, ok := x.serverChain()
	info := device.AlertFromDevice(al.Description)
	if h == nil && x.tls13() && x.tls.serverHello != nil && first(al.Where) > first(x.tls.serverHello.Where) {
		// TLS 1.3: the certificate is encrypted but the device's alert is
		// readable (mbedTLS 3.6 sends it in the clear) and names the failure.
		id := ids[len(ids)-1]
		if al.Description == 42 {
			id = "hostname-mismatch"
		}
		return []Finding{{
			ID: id, Severity: SeverityError, Frames: frames(first(al.Where)),
			Title: fmt.Sprintf("The device rejected the server's certificate: alert %s", decode.AlertName(al.Description)),
			Explanation: fmt.Sprintf("The device sent a fatal %s alert in frame %d after the server's encrypted TLS 1.3 flight. %s "+
				"The certificate itself is encrypted: a key log (--keylog) would let tlspcap check the chain.", decode.AlertName(al.Description), first(al.Where), info.Causes),
			DeviceErrors: toDeviceErrors(info.Candidates), Fix: info.Fix,
		}}
	}
	if h == nil || first(al.Where) < first(h.Where) {
		return nil
	}
	f := Finding{
		Severity: SeverityError, Frames: frames(first(al.Where), first(h.Where)),
		DeviceErrors: toDeviceErrors(info.Candidates),
	}
	if ok {
		for _, id := range ids {
			for _, p := range res.Problems {
				if p.ID == id {
					f.ID, f.Title, f.Fix = p.ID, p.Title, p.Fix
					f.Explanation = fmt.Sprintf("The device rejected the server's certificate (Certificate in frame %d) with a fatal %s alert in frame %d. %s",
						first(h.Where), decode.AlertName(al.Description), first(al.Where), p.Explanation)
					return []Finding{f}
				}
			}
		}
	}
	// The analysis found nothing the alert names: the device trusts another
	// CA than the one tlspcap checks against (--ca), or checks something else.
	f.ID = ids[len(ids)-1]
	if al.Description == 42 {
		f.ID = "hostname-mismatch"
	}
	f.Title = fmt.Sprintf("The device rejected the server's certificate: alert %s", decode.AlertName(al.Description))
	f.Explanation = fmt.Sprintf("The device sent a fatal %s alert in frame %d after the server's Certificate in frame %d. %s "+
		"tlspcap's own check of the chain did not find this problem: pass the device's CA with --ca to check against what the device trusts.",
		decode.AlertName(al.Description), first(al.Where), first(h.Where), info.Causes)
	f.Fix = info.Fix
	return []Finding{f}
}

// ruleChainObservations reports chain problems the device did not (yet) act
// on: warnings on healthy connections, context on failed ones.
func ruleChainObservations(x *ruleRun) []Finding {
	if !x.deviceIsClient() {
		return nil
	}
	res, h, ok := x.serverChain()
	if !ok {
		if ch, ok2 := clientHello(x.conn); ok2 && ch.ServerName == "" && !x.has("missing-sni") && x.tls.clientHello.Dir == x.fromClient() {
			return []Finding{missingSNI(x)}
		}
		return nil
	}
	var out []Finding
	for _, p := range res.Problems {
		// Without the ClientHello the capture cannot say whether SNI was sent.
		if x.has(p.ID) || (p.ID == "missing-sni" && x.tls.clientHello == nil) {
			continue
		}
		sev := Severity(p.Severity)
		if sev == SeverityError {
			sev = SeverityWarning // the device did not fail on it here
		}
		out = append(out, Finding{
			ID: p.ID, Severity: sev, Frames: frames(first(h.Where)),
			Title: p.Title, Explanation: p.Explanation, Fix: p.Fix,
			DeviceErrors: candidatesForFlags(p.Flags),
		})
	}
	return out
}

func missingSNI(x *ruleRun) Finding {
	return Finding{
		ID: "missing-sni", Severity: SeverityWarning, Frames: frames(first(x.tls.clientHello.Where)),
		Title: "The ClientHello carries no server name (SNI)",
		Explanation: fmt.Sprintf("The ClientHello in frame %d has no server_name extension: the device connected by IP address or with skip_cert_common_name_check set. "+
			"A server that hosts several names then returns its default certificate, which may not be the one the device expects.", first(x.tls.clientHello.Where)),
		Fix: "Connect by host name, or set esp_tls_cfg_t.common_name (esp_http_client_config_t.common_name) to the name in the server's certificate; do not set skip_cert_common_name_check.",
	}
}

// candidatesForFlags: what the device would print for these verify flags.
func candidatesForFlags(flags uint32) []DeviceError {
	if flags == 0 {
		return []DeviceError{}
	}
	return toDeviceErrors(device.AlertFromDevice(chain.PredictAlert(flags)).Candidates)
}

// certificates turns a Certificate message into report rows.
func (ctx *ruleContext) certificates(h *decode.Handshake) []Certificate {
	if h == nil {
		return nil
	}
	cm, ok := h.Body.(*decode.Certificate)
	if !ok {
		return nil
	}
	var out []Certificate
	for _, e := range cm.Entries {
		if e.Cert == nil {
			msg := "does not parse"
			if e.ParseErr != nil {
				msg = e.ParseErr.Error()
			}
			out = append(out, Certificate{Size: len(e.Raw), ParseError: msg, DER: e.Raw})
			continue
		}
		out = append(out, ctx.certRow(e.Cert))
	}
	return out
}

// maxRowCache bounds the certificate rows kept for reuse.
const maxRowCache = 4096

// certRow describes a certificate once per distinct DER (describing checks
// the signature of a self-issued certificate). Rows share their slices,
// which nothing modifies.
func (ctx *ruleContext) certRow(c *x509.Certificate) Certificate {
	if r, ok := ctx.rowCache[string(c.Raw)]; ok {
		return r
	}
	r := certRow(c)
	if ctx.rowCache == nil || len(ctx.rowCache) >= maxRowCache {
		ctx.rowCache = map[string]Certificate{}
	}
	ctx.rowCache[string(c.Raw)] = r
	return r
}

func certRow(c *x509.Certificate) Certificate {
	d := chain.Describe(c)
	return Certificate{
		Subject: d.Subject, Issuer: d.Issuer, SANs: d.SANs, NotBefore: d.NotBefore, NotAfter: d.NotAfter,
		KeyType: d.KeyType, KeyBits: d.KeyBits, SignatureAlgorithm: d.SignatureAlgorithm, SHA256: d.SHA256,
		Size: d.Size, AIA: d.AIA, CRL: d.CRL, DER: c.Raw,
	}
}

var _ = capture.FromClient

// ruleMissingSNI: the ClientHello named no server, and the server refused
// it right away or sent a certificate the device rejected: the missing name
// is the cause (a multi-tenant server needs it to pick the certificate).
func ruleMissingSNI(x *ruleRun) []Finding {
	ch, ok := clientHello(x.conn)
	if !ok || ch.ServerName != "" || !x.deviceIsClient() || x.tls.clientHello.Dir != x.fromClient() {
		return nil
	}
	f := missingSNI(x)
	if al := x.alertFrom(x.fromServer()); al != nil && x.tls.serverHello == nil && (al.Description == 112 || al.Description == 40) {
		f.Frames = frames(first(al.Where), first(x.tls.clientHello.Where))
		f.DeviceErrors = x.errs(device.SymptomFatalAlertReceived)
		f.Explanation += fmt.Sprintf(" Here the server refused the ClientHello with a fatal %s alert in frame %d.", decode.AlertName(al.Description), first(al.Where))
	} else if al := x.alertFrom(x.dev); al != nil && x.tls.certificate[x.fromServer()] != nil && (al.Description == 42 || al.Description == 48 || al.Description == 49) {
		f.Frames = frames(first(al.Where), first(x.tls.clientHello.Where))
		f.DeviceErrors = toDeviceErrors(device.AlertFromDevice(al.Description).Candidates)
		f.Explanation += fmt.Sprintf(" Here the device rejected the certificate it got with a fatal %s alert in frame %d: probably the server's default certificate, not the one for the intended name.",
			decode.AlertName(al.Description), first(al.Where))
	} else {
		return nil
	}
	f.Severity = SeverityError
	return []Finding{f}
}
