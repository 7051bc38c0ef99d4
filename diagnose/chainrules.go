package diagnose

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"tlspcap/capture"
	"tlspcap/decode"
	"tlspcap/diagnose/catalog"
	"tlspcap/diagnose/chain"
	"tlspcap/diagnose/device"
	"tlspcap/diagnose/values"
)

// alertChainIDs maps the alert an mbedTLS client sends after a failed
// verification to the chain findings that explain it, most specific first
// (knowledge/esp-mbedtls.md §2.5).
var alertChainIDs = map[uint8][]catalog.ID{
	42: {catalog.HostnameMismatch, catalog.MissingSNI},
	43: {catalog.WeakCertificate},
	45: {catalog.CertificateExpired},
	46: {catalog.CertificateNotYetValid, catalog.WeakCertificate},
	48: {catalog.ChainIncomplete, catalog.SelfSigned, catalog.ChainUntrusted},
	49: {catalog.ChainIncomplete, catalog.ChainUntrusted, catalog.SelfSigned},
}

// serverChain runs the chain analysis over the server's Certificate
// message, once per connection: several rules ask. res is nil when not ok.
func (x *ruleRun) serverChain() (res *chain.Result, h *decode.Handshake, ok bool) {
	if !x.chainDone {
		x.chainDone = true
		x.chainRes, x.chainH, x.chainOK = x.analyzeServerChain()
	}
	return x.chainRes, x.chainH, x.chainOK
}

func (x *ruleRun) analyzeServerChain() (*chain.Result, *decode.Handshake, bool) {
	h := x.tls.certificate[x.fromServer()]
	if h == nil {
		return nil, nil, false
	}
	cm, ok := h.Body.(*decode.Certificate)
	if !ok || len(cm.Entries) == 0 {
		return nil, h, false
	}
	parsed := 0
	for _, e := range cm.Entries {
		if e.Cert != nil {
			parsed++
		}
	}
	if parsed == 0 {
		return nil, h, false
	}
	sni := ""
	if ch, ok := clientHello(x.conn); ok {
		sni = ch.ServerName
	}
	// The browser asked for the name the device wanted; without SNI on the
	// device's side, match by the server's address.
	browser := x.ctx.browserChainFor(sni, x.serverAddr())
	mbed := chain.ParseVersion(x.ctx.profile.MbedTLS)
	var kb [512]byte
	key := chainKey(kb[:0], cm.Entries, h.Time, sni, x.serverAddr(), mbed, browser, x.ctx.browserBy != nil)
	if r, ok := x.ctx.chainCache[string(key)]; ok {
		return r, h, true
	}
	in := chain.Input{Time: h.Time, CA: x.ctx.ca, ServerIP: x.serverAddr(), ServerName: sni,
		Device: chain.Device{MbedTLS: mbed}, Browser: browser, Values: x.ctx.opts.Values,
		BrowserFromCapture: x.ctx.browserBy != nil, BrowserFetched: x.ctx.browserFetched,
		Certs: make([]*x509.Certificate, 0, parsed), Raw: make([][]byte, 0, parsed)}
	for _, e := range cm.Entries {
		if e.Cert != nil {
			in.Certs = append(in.Certs, e.Cert)
			in.Raw = append(in.Raw, e.Raw)
		}
	}
	// chain.Analyze runs once per distinct input: a capture holds many
	// connections to the same few servers, and path building with its
	// signature checks costs a millisecond.
	r := chain.Analyze(in)
	if x.ctx.chainCache == nil || len(x.ctx.chainCache) >= maxChainCache {
		x.ctx.chainCache = map[string]*chain.Result{}
	}
	x.ctx.chainCache[string(key)] = &r
	return &r, h, true
}

// maxChainCache bounds the chain analyses kept for reuse. Silence is fine
// when it fills: the cache starts over and chains are analysed again.
const maxChainCache = 4096

// chainKey identifies inputs that give the same analysis: the same parsed
// certificates (by their SHA-256), server name (the address when there is
// none: the analysis reads it only then), mbedTLS version, browser chain
// and capture day, with each certificate on the same side of its validity
// period. It is appended to b; variable-length parts are length-prefixed.
func chainKey(b []byte, entries []decode.CertificateEntry, t time.Time, sni string, ip netip.Addr,
	mbed chain.Version, browser []*x509.Certificate, browserFromCapture bool) []byte {
	for _, e := range entries {
		if e.Cert == nil {
			continue
		}
		b = append(b, e.SHA256[:]...)
		switch {
		case t.Before(e.Cert.NotBefore):
			b = append(b, 'b')
		case t.After(e.Cert.NotAfter):
			b = append(b, 'a')
		default:
			b = append(b, 'v')
		}
	}
	b = append(b, '|')
	b = binary.BigEndian.AppendUint16(b, uint16(min(len(sni), 0xffff)))
	b = append(b, sni...)
	if sni == "" {
		b = ip.AppendTo(b)
	}
	b = append(b, '|')
	b = t.UTC().AppendFormat(b, "2006-01-02")
	b = binary.BigEndian.AppendUint32(b, uint32(mbed.Major))
	b = binary.BigEndian.AppendUint32(b, uint32(mbed.Minor))
	if len(browser) > 0 {
		h := sha256.New()
		for _, c := range browser {
			h.Write(c.Raw)
		}
		b = h.Sum(b)
	}
	if browserFromCapture {
		b = append(b, 'c')
	}
	return b
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
			id = catalog.HostnameMismatch
		}
		keys := "a key log (--keylog) would let tlspcap check the chain."
		if x.keyLogMissed() {
			keys = "the key log given holds no secrets for this connection (likely from another run); the key log of this capture's run would let tlspcap check the chain."
		}
		return []Finding{{
			ID: id, Severity: SeverityError, Frames: frames(first(al.Where)),
			Title: fmt.Sprintf("The device rejected the server's certificate: alert %s", decode.AlertName(al.Description)),
			Explanation: fmt.Sprintf("The device sent a fatal %s alert in frame %d after the server's encrypted TLS 1.3 flight. %s "+
				"The certificate itself is encrypted: %s", decode.AlertName(al.Description), first(al.Where), info.Causes, keys),
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
		f.ID = catalog.HostnameMismatch
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
		if ch, ok2 := clientHello(x.conn); ok2 && ch.ServerName == "" && x.tls.clientHello.Dir == x.fromClient() {
			return []Finding{missingSNI(x)}
		}
		return nil
	}
	var out []Finding
	for _, p := range res.Problems {
		// Without the ClientHello the capture cannot say whether SNI was sent.
		if p.ID == catalog.MissingSNI && x.tls.clientHello == nil {
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
	if ch, ok := clientHello(x.conn); ok {
		if ip, err := netip.ParseAddr(ch.ServerName); err == nil {
			return Finding{
				ID: catalog.MissingSNI, Severity: SeverityWarning, Frames: frames(first(x.tls.clientHello.Where)),
				Title: fmt.Sprintf("The device sent the IP address %s as server name (SNI)", x.ctx.opts.Values.Addr(ip)),
				Explanation: fmt.Sprintf("The ClientHello in frame %d carries server_name %q, an IP address. RFC 6066 §3 does not permit IP literals in SNI, so the device in effect sent no server name; "+
					"mbedTLS (2.28 and 3.6 alike) sends whatever host the application passed to mbedtls_ssl_set_hostname, and ESP-TLS passes the host of the URL, so connecting to https://%s/ does this. "+
					"A server that picks its certificate by name does not know this one: it answers with its default certificate, or refuses with an alert such as unrecognized_name.",
					first(x.tls.clientHello.Where), x.ctx.opts.Values.Addr(ip), x.ctx.opts.Values.Addr(ip)),
				Fix: "Connect by host name; if the device must connect by address, set esp_tls_cfg_t.common_name (esp_http_client_config_t.common_name) to the name in the server's certificate: ESP-TLS then sends that name as SNI and checks the certificate against it.",
			}
		}
	}
	return Finding{
		ID: catalog.MissingSNI, Severity: SeverityWarning, Frames: frames(first(x.tls.clientHello.Where)),
		Title: "The ClientHello carries no server name (SNI)",
		Explanation: fmt.Sprintf("The ClientHello in frame %d has no server_name extension: the device connected by IP address or with skip_cert_common_name_check set. "+
			"A server that hosts several names then returns its default certificate, which may not be the one the device expects.", first(x.tls.clientHello.Where)),
		Fix: "Connect by host name, or set esp_tls_cfg_t.common_name (esp_http_client_config_t.common_name) to the name in the server's certificate; do not set skip_cert_common_name_check.",
	}
}

// noServerName: the ClientHello names no server the server can use: no
// server_name at all, or an IP address in it.
func noServerName(ch *decode.ClientHello) bool {
	n := ch.ServerName
	if n == "" {
		return true
	}
	// An address starts with a digit (IPv4) or holds a colon (IPv6): a
	// host name does not pay for a failed parse.
	if (n[0] < '0' || n[0] > '9') && !strings.Contains(n, ":") {
		return false
	}
	_, err := netip.ParseAddr(n)
	return err == nil
}

// ruleCertificateNotVerified: the device completed the handshake with a
// chain that does not verify for it, so it verified nothing (or ignored the
// result). Certain when the device's CA file is known (--ca) or when a check
// that does not depend on the trust list fails (name, key, usage, a bad
// signature); with the bundle assumed, a private CA alone proves nothing.
func ruleCertificateNotVerified(x *ruleRun) []Finding {
	if !x.deviceIsClient() || !x.handshakeDone() || x.alertFrom(x.dev) != nil {
		return nil
	}
	res, h, ok := x.serverChain()
	if !ok {
		return nil
	}
	var flags uint32
	var why string
	switch {
	case x.ctx.ca != nil && res.Device.Code != 0:
		flags, why = res.Device.Flags, fmt.Sprintf("checked against the device's CA file (--ca), mbedTLS %s: %s", res.Device.Device.MbedTLS, res.Device.Reason)
	case res.IndependentFlags != 0:
		flags = res.IndependentFlags
		why = "verify flags " + strings.Join(chain.FlagNames(flags), "|") + ", whatever CA the device trusts"
		for _, p := range res.Problems {
			if p.Flags&flags != 0 && p.Cert >= 0 {
				why += ": " + p.Title
				break
			}
		}
	default:
		return nil
	}
	alert := chain.PredictAlert(flags)
	went := "finished the handshake"
	fs := frames(first(h.Where))
	if t := x.tls.clientKX; t != nil && t.Dir == x.dev {
		went = fmt.Sprintf("went on with its ClientKeyExchange in frame %d and finished the handshake", first(t.Where))
		fs = append(fs, first(t.Where))
	}
	return []Finding{{
		ID: catalog.CertificateNotVerified, Severity: SeverityWarning, Frames: fs,
		Title: "The device accepted a server certificate that does not verify: it verified nothing",
		Explanation: fmt.Sprintf("The server's chain (Certificate in frame %d) does not verify for the device: %s. "+
			"A device that verifies would have stopped with %s and a fatal %s alert; this one %s. "+
			"Server certificate verification is off: CONFIG_ESP_TLS_SKIP_SERVER_CERT_VERIFY=y (Component config → ESP-TLS → Allow potentially insecure options → Skip server certificate verification by default), "+
			"or mbedtls_ssl_conf_authmode with MBEDTLS_SSL_VERIFY_NONE, or MBEDTLS_SSL_VERIFY_OPTIONAL without acting on mbedtls_ssl_get_verify_result().%s "+
			"Anyone on the path can impersonate this server; a device in production must not ship this.",
			first(h.Where), why, deviceCodeFor(flags), decode.AlertName(alert), went, skipNameText(x)),
		DeviceErrors: candidatesForFlags(flags),
		Fix: "Verify the server: enable CONFIG_MBEDTLS_CERTIFICATE_BUNDLE and set crt_bundle_attach = esp_crt_bundle_attach (esp_tls_cfg_t / esp_http_client_config_t / esp_mqtt_client_config_t), " +
			"or give the server's root CA as cacert_pem (cert_pem); set CONFIG_ESP_TLS_SKIP_SERVER_CERT_VERIFY=n, drop skip_cert_common_name_check, keep MBEDTLS_SSL_VERIFY_REQUIRED; then fix what the check finds (the findings below).",
	}}
}

// skipNameText: without SNI, ESP-TLS's skip_common_name is a further way
// the name check was off.
func skipNameText(x *ruleRun) string {
	if ch, ok := clientHello(x.conn); ok && ch.ServerName == "" {
		return " No SNI was sent: esp_tls_cfg_t.skip_common_name (esp_http_client_config_t.skip_cert_common_name_check) may be set too, which drops the name check and the SNI."
	}
	return ""
}

// deviceCodeFor names the error mbedTLS returns for these flags.
func deviceCodeFor(flags uint32) string {
	switch {
	case flags == chain.FlagsFatal:
		return "-0x3000 (MBEDTLS_ERR_X509_FATAL_ERROR)"
	case flags&^(chain.FlagKeyUsage|chain.FlagExtKeyUsage) == 0:
		return "-0x7A00 (MBEDTLS_ERR_SSL_BAD_CERTIFICATE)"
	}
	return "-0x2700 (MBEDTLS_ERR_X509_CERT_VERIFY_FAILED)"
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
	if len(cm.Entries) == 0 {
		return nil
	}
	out := make([]Certificate, 0, len(cm.Entries))
	for _, e := range cm.Entries {
		if e.Cert == nil {
			msg := "does not parse"
			if e.ParseErr != nil {
				msg = e.ParseErr.Error()
			}
			out = append(out, Certificate{Size: len(e.Raw), ParseError: msg, DER: e.Raw})
			continue
		}
		out = append(out, ctx.certRowBy(e.SHA256, e.Cert))
	}
	return out
}

// maxRowCache bounds the certificate rows kept for reuse (silently: a full
// cache starts over, rows are described again).
const maxRowCache = 4096

// certRow describes a certificate once per distinct DER (describing checks
// the signature of a self-issued certificate). Rows share their slices,
// which nothing modifies.
func (ctx *ruleContext) certRow(c *x509.Certificate) Certificate {
	return ctx.certRowBy(sha256.Sum256(c.Raw), c)
}

// certRowBy is certRow for a certificate whose DER's SHA-256 is known.
func (ctx *ruleContext) certRowBy(sum [32]byte, c *x509.Certificate) Certificate {
	if r, ok := ctx.rowCache[sum]; ok {
		return r
	}
	r := certRow(c, ctx.opts.Values)
	if ctx.rowCache == nil || len(ctx.rowCache) >= maxRowCache {
		ctx.rowCache = map[[32]byte]Certificate{}
	}
	ctx.rowCache[sum] = r
	return r
}

func certRow(c *x509.Certificate, v values.Formatter) Certificate {
	d := chain.Describe(c, v)
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
	if !ok || !noServerName(ch) || !x.deviceIsClient() || x.tls.clientHello.Dir != x.fromClient() {
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
		if res, _, ok := x.serverChain(); ok && len(res.Certs) > 0 {
			f.Explanation += fmt.Sprintf(" The server sent %q (issued by %q).", res.Certs[0].Subject, res.Certs[0].Issuer)
		}
	} else {
		return nil
	}
	f.Severity = SeverityError
	return []Finding{f}
}
