package diagnose

import (
	"bytes"
	"crypto/x509"
	"net/netip"

	"encoding/pem"
	"fmt"
	"time"
	"tlspcap/capture"
	"tlspcap/diagnose/chain"

	"tlspcap/diagnose/device"
)

// ruleContext is what every rule may consult besides the connection.
type ruleContext struct {
	opts    Options
	profile device.Profile
	ca      []*x509.Certificate // --ca: the device's cacert_pem; nil = bundle
	browser []*x509.Certificate // --browser-chain as PEM: one chain for every connection
	// browserBy holds, from a browser's capture given as --browser-chain,
	// the chain it got per server name (SNI) and per server address.
	browserBy map[string][]*x509.Certificate
	// browserFetched: certificates the browser's capture shows it
	// downloading over HTTP (AIA caIssuers).
	browserFetched []chain.Fetched
	captureEnd     time.Time                 // time of the last packet, when known
	chainCache     map[string]*chain.Result  // analyses by chainKey
	rowCache       map[[32]byte]Certificate  // certificate rows by the SHA-256 of their DER
	memoryTexts    map[memoryKey]memoryTexts // texts of the heap estimate
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
		if isCapture(o.BrowserChain) {
			if ctx.browserBy, ctx.browserFetched, err = browserChains(o.BrowserChain, o.BrowserKeyLog, p); err != nil {
				return ctx, fmt.Errorf("--browser-chain: %v", err)
			}
		} else if len(o.BrowserKeyLog) > 0 {
			return ctx, fmt.Errorf("--browser-keylog: --browser-chain is a PEM file, not a capture: there is nothing to decrypt")
		} else if ctx.browser, err = parsePEMCerts(o.BrowserChain); err != nil {
			return ctx, fmt.Errorf("--browser-chain: %v", err)
		}
	} else if len(o.BrowserKeyLog) > 0 {
		return ctx, fmt.Errorf("--browser-keylog needs --browser-chain with the browser's capture")
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

// isCapture: pcap (either byte order, µs or ns), pcapng or gzip magic.
func isCapture(b []byte) bool {
	if len(b) < 4 {
		return false
	}
	switch string(b[:4]) {
	case "\xd4\xc3\xb2\xa1", "\xa1\xb2\xc3\xd4", "\x4d\x3c\xb2\xa1", "\xa1\xb2\x3c\x4d", "\x0a\x0d\x0d\x0a":
		return true
	}
	return b[0] == 0x1f && b[1] == 0x8b
}

// browserChains runs the pipeline over a browser's capture and keeps the
// server chain of every connection, by SNI and by server address, and the
// certificates the browser downloaded over HTTP.
func browserChains(pcap, keyLog []byte, p device.Profile) (map[string][]*x509.Certificate, []chain.Fetched, error) {
	a, err := NewAnalyzer(Options{Profile: p.Name, KeyLog: keyLog})
	if err != nil {
		return nil, nil, err
	}
	tee := &fetchTee{Analyzer: a}
	st, err := capture.Read(bytes.NewReader(pcap), "browser capture", tee, capture.Options{})
	if err != nil {
		return nil, nil, err
	}
	out := map[string][]*x509.Certificate{}
	rep := a.Report("browser capture", st)
	defer rep.Close()
	for c := range rep.All() {
		var certs []*x509.Certificate
		for _, ct := range c.Certificates {
			if cert, err := x509.ParseCertificate(ct.DER); err == nil {
				certs = append(certs, cert)
			}
		}
		if len(certs) == 0 {
			continue
		}
		if c.SNI != "" && out["sni:"+c.SNI] == nil {
			out["sni:"+c.SNI] = certs
		}
		if ap, err := netip.ParseAddrPort(c.Server); err == nil && out["ip:"+ap.Addr().String()] == nil {
			out["ip:"+ap.Addr().String()] = certs
		}
	}
	if len(out) == 0 {
		if len(keyLog) > 0 {
			return nil, nil, fmt.Errorf("the capture holds no server certificate, in clear text or decrypted with the key log (--browser-keylog): is it the key log of this capture?")
		}
		return nil, nil, fmt.Errorf("the capture holds no server certificate in clear text (TLS 1.3 encrypts it: give the browser's key log with --browser-keylog)")
	}
	return out, tee.fetched, nil
}

// browserChainFor picks the browser's chain for a connection: same server
// name, else same server address.
func (ctx *ruleContext) browserChainFor(sni string, server netip.Addr) []*x509.Certificate {
	if ctx.browserBy == nil {
		return ctx.browser
	}
	if sni != "" {
		if c := ctx.browserBy["sni:"+sni]; c != nil {
			return c
		}
	}
	return ctx.browserBy["ip:"+server.String()]
}
