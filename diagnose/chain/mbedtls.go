package chain

import (
	"crypto/ed25519"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	"tlspcap/diagnose/device"
	"tlspcap/diagnose/values"
)

// MBEDTLS_X509_BADCERT_* verification flags: the device knowledge's table.
const (
	FlagExpired            = device.FlagExpired
	FlagRevoked            = device.FlagRevoked
	FlagCNMismatch         = device.FlagCNMismatch
	FlagNotTrusted         = device.FlagNotTrusted
	FlagMissing            = device.FlagMissing
	FlagSkipVerify         = device.FlagSkipVerify
	FlagOther              = device.FlagOther
	FlagFuture             = device.FlagFuture
	FlagKeyUsage           = device.FlagKeyUsage
	FlagExtKeyUsage        = device.FlagExtKeyUsage
	FlagNSCertType         = device.FlagNSCertType
	FlagBadMD              = device.FlagBadMD
	FlagBadPK              = device.FlagBadPK
	FlagBadKey             = device.FlagBadKey
	FlagsFatal      uint32 = 0xFFFFFFFF // set by mbedTLS on a fatal verify error (-0x3000)
)

// mbedTLS error codes this package predicts.
const (
	ErrCertVerifyFailed  = -0x2700 // MBEDTLS_ERR_X509_CERT_VERIFY_FAILED
	ErrX509Fatal         = -0x3000 // MBEDTLS_ERR_X509_FATAL_ERROR
	ErrBadCertificate    = -0x7A00 // MBEDTLS_ERR_SSL_BAD_CERTIFICATE (3.x) / BAD_HS_CERTIFICATE (2.x)
	ErrCAChainRequired   = -0x7680 // MBEDTLS_ERR_SSL_CA_CHAIN_REQUIRED
	ErrPKUnknownPKAlg    = -0x3C80 // MBEDTLS_ERR_PK_UNKNOWN_PK_ALG (certificate parsing)
	maxIntermediateCA    = 8       // MBEDTLS_X509_MAX_INTERMEDIATE_CA
	alertAccessDenied    = 49
	alertBadCertificate  = 42
	alertUnsupportedCert = 43
	alertCertExpired     = 45
	alertCertRevoked     = 44
	alertUnknownCA       = 48
	alertCertUnknown     = 46
)

var flagNames = []struct {
	bit  uint32
	name string
}{
	{FlagExpired, "EXPIRED"}, {FlagRevoked, "REVOKED"}, {FlagCNMismatch, "CN_MISMATCH"},
	{FlagNotTrusted, "NOT_TRUSTED"}, {0x10, "BADCRL_NOT_TRUSTED"}, {0x20, "BADCRL_EXPIRED"},
	{FlagMissing, "MISSING"}, {FlagSkipVerify, "SKIP_VERIFY"}, {FlagOther, "OTHER"},
	{FlagFuture, "FUTURE"}, {0x400, "BADCRL_FUTURE"}, {FlagKeyUsage, "KEY_USAGE"},
	{FlagExtKeyUsage, "EXT_KEY_USAGE"}, {FlagNSCertType, "NS_CERT_TYPE"}, {FlagBadMD, "BAD_MD"},
	{FlagBadPK, "BAD_PK"}, {FlagBadKey, "BAD_KEY"},
}

// FlagNames spells out verification flags as mbedTLS names them (BADCERT_
// prefix omitted), lowest bit first; 0xFFFFFFFF is "all (fatal error)".
func FlagNames(flags uint32) []string {
	if flags == FlagsFatal {
		return []string{"all (0xFFFFFFFF: fatal verify error)"}
	}
	var out []string
	for _, f := range flagNames {
		if flags&f.bit != 0 {
			out = append(out, f.name)
		}
	}
	return out
}

// PredictAlert is the fatal alert an mbedTLS client sends for these
// verification flags (ssl_tls.c, same order in 2.16, 2.28 and 3.6; first
// match wins).
func PredictAlert(flags uint32) uint8 {
	// The mapping is device knowledge (knowledge §2.5); mbedTLS 2.x's rules
	// are a superset (NS_CERT_TYPE), which flags from this package may carry.
	return device.AlertForVerifyFlagsMbedTLS(flags, 2)
}

// ErrorName names the codes DeviceVerify returns.
func ErrorName(code int) string {
	switch code {
	case 0:
		return "ok"
	case ErrCertVerifyFailed:
		return "MBEDTLS_ERR_X509_CERT_VERIFY_FAILED"
	case ErrX509Fatal:
		return "MBEDTLS_ERR_X509_FATAL_ERROR"
	case ErrBadCertificate:
		return "MBEDTLS_ERR_SSL_BAD_CERTIFICATE (2.x: BAD_HS_CERTIFICATE)"
	case ErrCAChainRequired:
		return "MBEDTLS_ERR_SSL_CA_CHAIN_REQUIRED"
	case ErrPKUnknownPKAlg:
		return "MBEDTLS_ERR_PK_UNKNOWN_PK_ALG"
	}
	return fmt.Sprintf("-0x%04X", -code)
}

// Device is the verification configuration of the device.
type Device struct {
	// MbedTLS is the library version; zero means 3.6 (ESP-IDF v5.x).
	MbedTLS Version
	// Bundle: the ESP-IDF certificate bundle (crt_bundle_attach) verifies the
	// chain. When false, Input.CA (cacert_pem / cacert_buf) is the trust list.
	Bundle bool
	// CheckDates: CONFIG_MBEDTLS_HAVE_TIME_DATE=y (default n), so mbedTLS
	// checks validity dates at the device's clock (modelled as the capture time).
	CheckDates bool
	// CrossSignedVerify: ESP-IDF v6.0+ CONFIG_MBEDTLS_CERTIFICATE_BUNDLE_CROSS_SIGNED_VERIFY,
	// which makes the bundle a normal trust list (standard path building).
	CrossSignedVerify bool
}

func (d Device) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "mbedTLS %s, ", d.MbedTLS.orDefault())
	switch {
	case d.Bundle && d.CrossSignedVerify:
		b.WriteString("certificate bundle (cross-signed verify)")
	case d.Bundle:
		b.WriteString("certificate bundle")
	default:
		b.WriteString("CA file (cacert_pem)")
	}
	if d.CheckDates {
		b.WriteString(", dates checked (CONFIG_MBEDTLS_HAVE_TIME_DATE=y)")
	} else {
		b.WriteString(", dates not checked (CONFIG_MBEDTLS_HAVE_TIME_DATE=n)")
	}
	return b.String()
}

// Verification is what mbedTLS on the device computes for a chain.
type Verification struct {
	Device Device
	Flags  uint32 // final verify flags (0xFFFFFFFF on -0x3000)
	Code   int    // 0, -0x2700, -0x3000, -0x7A00 or -0x7680
	Alert  uint8  // the fatal alert the device sends; 0 when Code is 0
	// Reason says in one sentence why (which certificate, which check).
	Reason string
	// Path is the chain mbedTLS built, leaf first.
	Path []Element
}

// Element is one certificate of a verification path.
type Element struct {
	Index   int    // index into the certificates that were sent; -1 when it comes from the trust list
	Source  string // "sent", "bundle", "ca-file", "browser", "root-store"
	Subject string
	Issuer  string
	SHA256  string
	Flags   uint32 // flags mbedTLS attached to this certificate
	Status  string // "ok", "trusted", "untrusted-top", "bad-signature", ... in words
}

// item is one entry of mbedTLS's ver_chain.
type item struct {
	cert    *x509.Certificate
	index   int // in the sent list, -1 for trust
	trusted bool
	flags   uint32
	sigBad  bool // the parent's signature did not verify
}

// chainSim is the outcome of x509_crt_verify_chain.
type chainSim struct {
	items []item
	fatal bool // chain longer than MBEDTLS_X509_MAX_INTERMEDIATE_CA
}

type trustCert struct {
	cert   *x509.Certificate
	source string
}

// simulate models x509_crt_verify_chain (mbedTLS 2.16+ / 3.x): from the
// leaf, look for a parent first in the trust list (signature must verify),
// then among the certificates sent after the child (a name match is enough;
// a bad signature sets NOT_TRUSTED); prefer parents valid at now when dates
// are checked; stop at a trusted parent.
func simulate(sent []*x509.Certificate, trust []trustCert, v Version, now time.Time, checkDates bool, sigs sigMemo) chainSim {
	var sim chainSim
	if len(sent) == 0 {
		return sim
	}
	childIdx, child, childTrusted := 0, sent[0], false
	selfCnt := 0
	for {
		it := item{cert: child, index: childIdx, trusted: childTrusted}
		if checkDates {
			if now.After(child.NotAfter) {
				it.flags |= FlagExpired
			}
			if now.Before(child.NotBefore) {
				it.flags |= FlagFuture
			}
		}
		if childTrusted {
			sim.items = append(sim.items, it)
			return sim
		}
		if !mdAllowed(sigHash(child), v) {
			it.flags |= FlagBadMD
		}
		// Special case: a self-issued leaf that is itself in the trust list.
		if len(sim.items) == 0 && nameEqual(child.RawIssuer, child.RawSubject) {
			for _, t := range trust {
				if string(t.cert.Raw) == string(child.Raw) {
					it.trusted = true
					sim.items = append(sim.items, it)
					return sim
				}
			}
		}
		pathCnt := len(sim.items)
		parent, parentIdx, parentTrusted, sigGood := findParent(child, childIdx, sent, trust, pathCnt, selfCnt, now, checkDates, sigs)
		if parent == nil {
			it.flags |= FlagNotTrusted
			sim.items = append(sim.items, it)
			return sim
		}
		if pathCnt != 0 && nameEqual(child.RawIssuer, child.RawSubject) {
			selfCnt++
		}
		if !parentTrusted && pathCnt+1 > maxIntermediateCA {
			sim.items = append(sim.items, it)
			sim.fatal = true
			return sim
		}
		if !sigGood {
			it.flags |= FlagNotTrusted
			it.sigBad = true
		}
		if ok, _ := keyAllowed(parent.PublicKey, v); !ok {
			it.flags |= FlagBadKey
		}
		sim.items = append(sim.items, it)
		child, childIdx, childTrusted = parent, parentIdx, parentTrusted
	}
}

// findParent models x509_crt_find_parent / x509_crt_find_parent_in.
func findParent(child *x509.Certificate, childIdx int, sent []*x509.Certificate, trust []trustCert,
	pathCnt, selfCnt int, now time.Time, checkDates bool, sigs sigMemo) (parent *x509.Certificate, idx int, trusted, sigGood bool) {
	type cand struct {
		c   *x509.Certificate
		idx int
	}
	var lists [2][]cand
	for _, t := range trust {
		lists[0] = append(lists[0], cand{t.cert, -1})
	}
	for i := childIdx + 1; childIdx >= 0 && i < len(sent); i++ {
		lists[1] = append(lists[1], cand{sent[i], i})
	}
	for pass, list := range lists {
		top := pass == 0
		var fallback *cand
		fallbackSig := false
		for i := range list {
			p := list[i].c
			if !checkParent(child, p, top) {
				continue
			}
			if ml := storedMaxPathLen(p); ml > 0 && ml < 1+pathCnt-selfCnt {
				continue
			}
			good := sigs.signedBy(child, p)
			if top && !good {
				continue
			}
			if checkDates && (now.After(p.NotAfter) || now.Before(p.NotBefore)) {
				if fallback == nil {
					fallback, fallbackSig = &list[i], good
				}
				continue
			}
			return p, list[i].idx, top, good
		}
		if fallback != nil {
			return fallback.c, fallback.idx, top, fallbackSig
		}
	}
	return nil, -1, false, false
}

// checkParent models x509_crt_check_parent: issuer name, CA bit (except for
// locally trusted v1/v2 certificates) and keyCertSign when keyUsage is present.
func checkParent(child, parent *x509.Certificate, top bool) bool {
	if !nameEqual(child.RawIssuer, parent.RawSubject) {
		return false
	}
	needCA := !(top && parent.Version < 3)
	if needCA && !(parent.BasicConstraintsValid && parent.IsCA) {
		return false
	}
	if needCA && hasExtension(parent, oidKU) && parent.KeyUsage&x509.KeyUsageCertSign == 0 {
		return false
	}
	return true
}

// storedMaxPathLen is mbedTLS's max_pathlen: pathLenConstraint+1, 0 = none.
func storedMaxPathLen(c *x509.Certificate) int {
	if !c.BasicConstraintsValid || !c.IsCA {
		return 0
	}
	if c.MaxPathLen > 0 || (c.MaxPathLen == 0 && c.MaxPathLenZero) {
		return c.MaxPathLen + 1
	}
	return 0
}

// usageFlags models mbedtls_ssl_check_cert_usage for a client checking the
// server's leaf: keyUsage (when present) must allow the key exchange, and
// extendedKeyUsage (when present) must contain serverAuth or any.
// suite 0 means unknown: any usage a plausible key exchange needs is accepted.
func usageFlags(leaf *x509.Certificate, suite uint16, version uint16) uint32 {
	var flags uint32
	if hasExtension(leaf, oidKU) {
		need := neededUsages(leaf, suite, version)
		ok := false
		for _, u := range need {
			if leaf.KeyUsage&u == u {
				ok = true
			}
		}
		if !ok {
			flags |= FlagKeyUsage
		}
	}
	if hasExtension(leaf, oidEKU) && !hasServerAuth(leaf) {
		flags |= FlagExtKeyUsage
	}
	return flags
}

func hasServerAuth(c *x509.Certificate) bool {
	for _, u := range c.ExtKeyUsage {
		if u == x509.ExtKeyUsageServerAuth || u == x509.ExtKeyUsageAny {
			return true
		}
	}
	return false
}

// neededUsages lists the alternatives of keyUsage bits the key exchange needs.
func neededUsages(leaf *x509.Certificate, suite, version uint16) []x509.KeyUsage {
	ds, ke, ka := x509.KeyUsageDigitalSignature, x509.KeyUsageKeyEncipherment, x509.KeyUsageKeyAgreement
	if version == tls.VersionTLS13 || (suite >= 0x1301 && suite <= 0x1305) {
		return []x509.KeyUsage{ds}
	}
	if suite != 0 {
		name := tls.CipherSuiteName(suite)
		switch {
		case strings.HasPrefix(name, "TLS_RSA_"):
			return []x509.KeyUsage{ke}
		case strings.HasPrefix(name, "TLS_ECDHE_"), strings.HasPrefix(name, "TLS_DHE_"):
			return []x509.KeyUsage{ds}
		case strings.HasPrefix(name, "TLS_ECDH_"):
			return []x509.KeyUsage{ka}
		}
	}
	if leaf.PublicKeyAlgorithm == x509.RSA {
		return []x509.KeyUsage{ds, ke}
	}
	return []x509.KeyUsage{ds, ka}
}

// Verify computes what mbedTLS on a device configured as dev returns for the
// chain in in: the verify flags, the error code and the alert it sends.
func Verify(in Input, dev Device) Verification {
	vf := in.vf()
	v := dev.MbedTLS.orDefault()
	dev.MbedTLS = v
	out := Verification{Device: dev}
	if len(in.Certs) == 0 {
		out.Reason = "the server sent no certificate"
		return out
	}
	for i, c := range in.Certs {
		if c == nil {
			out.Reason = fmt.Sprintf("certificate #%d does not parse", i)
			return out
		}
	}
	// Certificates mbedTLS cannot parse end the handshake while the
	// Certificate message is read (ssl_parse_certificate_chain: alert
	// bad_certificate), before any verification.
	for i, c := range in.Certs {
		if _, ok := c.PublicKey.(ed25519.PublicKey); ok {
			out.Code, out.Alert = ErrPKUnknownPKAlg, alertBadCertificate
			out.Reason = fmt.Sprintf("mbedTLS cannot parse certificate #%d (%s): its Ed25519 key is not supported", i, name(vf, c))
			return out
		}
	}
	var trust []trustCert
	switch {
	case dev.Bundle && dev.CrossSignedVerify:
		for _, c := range mozilla().certs {
			trust = append(trust, trustCert{c, "bundle"})
		}
		for _, c := range in.BundleExtra {
			trust = append(trust, trustCert{c, "bundle"})
		}
	case dev.Bundle:
		// esp_crt_bundle_attach sets a dummy, empty CA: never a parent.
	default:
		if len(in.CA) == 0 {
			out.Code, out.Alert = ErrCAChainRequired, 0
			out.Reason = "no CA certificate configured (cacert_pem empty) with verification required"
			return out
		}
		for _, c := range in.CA {
			trust = append(trust, trustCert{c, "ca-file"})
		}
	}
	now := in.Time
	if !in.DeviceClock.IsZero() {
		now = in.DeviceClock
	}
	sim := simulate(in.Certs, trust, v, now, dev.CheckDates, in.sigs)
	src := "ca-file"
	if dev.Bundle {
		src = "bundle"
	}
	out.Path = pathElements(sim, src)
	if sim.fatal {
		out.Flags, out.Code, out.Alert = FlagsFatal, ErrX509Fatal, PredictAlert(FlagsFatal)
		out.Reason = fmt.Sprintf("the chain has more than %d intermediate certificates (MBEDTLS_X509_MAX_INTERMEDIATE_CA): mbedTLS stops with a fatal error", maxIntermediateCA)
		return out
	}
	// End-entity checks merged into the leaf's flags.
	leaf := in.Certs[0]
	var ee uint32
	if in.ServerName != "" {
		if ok, _ := nameMatch(leaf, in.ServerName, v); !ok {
			ee |= FlagCNMismatch
		}
	}
	if ok, _ := keyAllowed(leaf.PublicKey, v); !ok {
		ee |= FlagBadKey
	}
	sim.items[0].flags |= ee
	if len(out.Path) > 0 {
		out.Path[0].Flags = sim.items[0].flags
		if ee != 0 && out.Path[0].Status == "ok" {
			out.Path[0].Status = strings.Join(FlagNames(sim.items[0].flags), "|")
		}
	}
	// Merge, top first, calling the bundle's verify callback on the way.
	var flags uint32
	var reasons []string
	for i := len(sim.items) - 1; i >= 0; i-- {
		f := sim.items[i].flags
		if dev.Bundle && !dev.CrossSignedVerify && f&^FlagBadMD == FlagNotTrusted {
			c := sim.items[i].cert
			roots := bundleLookup(c.RawIssuer, in.BundleExtra)
			var root *x509.Certificate
			for _, r := range roots {
				if in.sigs.signedBy(c, r) {
					root = r
					break
				}
			}
			if root == nil {
				msg := "No matching trusted root certificate found"
				if len(roots) > 0 {
					msg = "Certificate matched but signature verification failed"
				}
				out.Flags, out.Code, out.Alert = FlagsFatal, ErrX509Fatal, PredictAlert(FlagsFatal)
				out.Reason = fmt.Sprintf("certificate bundle: %s for the issuer of %s (%q)", msg, certRef(vf, sim.items[i]), dn(vf, c.Issuer))
				out.Path[i].Status = "bundle: " + strings.ToLower(msg[:1]) + msg[1:]
				return out
			}
			f = 0
			out.Path[i].Flags = 0
			out.Path[i].Status = "ok: signed by bundle root " + clean(vf.Attr(root.Subject.CommonName))
			out.Path = append(out.Path, Element{Index: -1, Source: "bundle", Subject: clean(root.Subject.String()),
				Issuer: clean(root.Issuer.String()), SHA256: fingerprint(root), Status: "trusted (bundle root)"})
			reasons = append(reasons, "the bundle's root "+clean(vf.Attr(root.Subject.CommonName))+" signs "+certRef(vf, sim.items[i]))
		}
		flags |= f
	}
	usage := usageFlags(leaf, in.CipherSuite, in.Version)
	flags |= usage
	out.Flags = flags
	switch {
	case flags == 0:
		out.Reason = "verification succeeds"
		if len(reasons) > 0 {
			out.Reason += ": " + reasons[0]
		}
		return out
	case flags&^usage != 0:
		out.Code = ErrCertVerifyFailed
	default:
		out.Code = ErrBadCertificate
	}
	out.Alert = PredictAlert(flags)
	out.Reason = "verify flags " + strings.Join(FlagNames(flags), "|") + explainFlags(vf, sim, ee, usage)
	return out
}

// DeviceVerify is Verify with the common parameters: mbedTLS major version
// (2 → 2.28, 3 → 3.6), bundle or CA file, dates checked or not.
func DeviceVerify(in Input, mbedtlsMajor int, bundle bool, checkDates bool) (flags uint32, code int) {
	v := Version{3, 6}
	if mbedtlsMajor == 2 {
		v = Version{2, 28}
	}
	r := Verify(in, Device{MbedTLS: v, Bundle: bundle, CheckDates: checkDates})
	return r.Flags, r.Code
}

func certRef(vf values.Formatter, it item) string {
	if it.index >= 0 {
		return fmt.Sprintf("certificate #%d (%s)", it.index, name(vf, it.cert))
	}
	return "trusted CA " + name(vf, it.cert)
}

func explainFlags(vf values.Formatter, sim chainSim, ee, usage uint32) string {
	var parts []string
	for i, it := range sim.items {
		f := it.flags
		if i == 0 {
			f &^= ee
		}
		if f != 0 {
			parts = append(parts, certRef(vf, it)+": "+strings.Join(FlagNames(f), "|"))
		}
	}
	if ee != 0 {
		parts = append(parts, "server certificate checks: "+strings.Join(FlagNames(ee), "|"))
	}
	if usage != 0 {
		parts = append(parts, "key usage checks: "+strings.Join(FlagNames(usage), "|"))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, "; ") + ")"
}

func pathElements(sim chainSim, trustSource string) []Element {
	var out []Element
	for i, it := range sim.items {
		e := Element{Index: it.index, Source: "sent", Subject: clean(it.cert.Subject.String()),
			Issuer: clean(it.cert.Issuer.String()), SHA256: fingerprint(it.cert), Flags: it.flags}
		if it.index < 0 {
			e.Source = trustSource
		}
		switch {
		case it.trusted:
			e.Status = "trusted"
		case it.sigBad:
			e.Status = "signature does not verify with the next certificate's key"
		case i == len(sim.items)-1 && it.flags&FlagNotTrusted != 0:
			e.Status = "top of what was sent: issuer not found"
		case sim.fatal && i == len(sim.items)-1:
			e.Status = "chain too long"
		case it.flags != 0:
			e.Status = strings.Join(FlagNames(it.flags), "|")
		default:
			e.Status = "ok"
		}
		out = append(out, e)
	}
	return out
}
