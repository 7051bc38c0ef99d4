package diagnose

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"time"

	"tlspcap/diagnose/device"
)

// ruleContext is what every rule may consult besides the connection.
type ruleContext struct {
	opts       Options
	profile    device.Profile
	ca         []*x509.Certificate // --ca: the device's cacert_pem; nil = bundle
	browser    []*x509.Certificate // --browser-chain
	captureEnd time.Time           // time of the last packet, when known
}

func newRuleContext(o Options, p device.Profile) (ruleContext, error) {
	ctx := ruleContext{opts: o, profile: p}
	var err error
	if len(o.CA) > 0 {
		if ctx.ca, err = parsePEMCerts(o.CA); err != nil {
			return ctx, fmt.Errorf("--ca: %v", err)
		}
	}
	if len(o.BrowserChain) > 0 {
		if ctx.browser, err = parsePEMCerts(o.BrowserChain); err != nil {
			return ctx, fmt.Errorf("--browser-chain: %v", err)
		}
	}
	return ctx, nil
}

// parsePEMCerts reads every CERTIFICATE block; DER input is accepted too.
func parsePEMCerts(b []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	rest := b
	for {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("certificate %d does not parse: %v", len(out)+1, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		cs, err := x509.ParseCertificates(b)
		if err != nil || len(cs) == 0 {
			return nil, fmt.Errorf("no PEM CERTIFICATE block and not DER either")
		}
		out = cs
	}
	return out, nil
}
