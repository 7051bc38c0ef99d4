package chain

import (
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"io"
	"time"

	"tlspcap/diagnose/values"
)

// CertInfo is a certificate's summary for reports.
type CertInfo struct {
	Subject, Issuer    string
	SANs               []string // "DNS:name", "IP:addr", "URI:...", "email:..."
	NotBefore          time.Time
	NotAfter           time.Time
	KeyType            string // "RSA", "ECDSA", "Ed25519"
	KeyBits            int
	Curve              string // "P-256" ... for ECDSA
	SignatureAlgorithm string // "SHA256-RSA", ...
	SHA256             string // fingerprint of the DER, lower-case hex
	Size               int    // DER bytes
	AIA                []string
	CRL                []string
	SelfSigned, IsCA   bool
}

// Describe summarises a certificate, its names, addresses and fingerprint
// written by vf (nil: as they are) and escaped for printing.
func Describe(c *x509.Certificate, vf values.Formatter) CertInfo {
	if vf == nil {
		vf = values.Plain
	}
	typ, bits, curve := keyInfo(c.PublicKey)
	// The issuer first: pseudonyms are numbered in the order they are
	// named, and the findings name a chain's issuers before its leaf.
	issuer := dn(vf, c.Issuer)
	return CertInfo{
		Subject: dn(vf, c.Subject), Issuer: issuer,
		SANs:      sanList(vf, c),
		NotBefore: c.NotBefore, NotAfter: c.NotAfter,
		KeyType: typ, KeyBits: bits, Curve: curve,
		SignatureAlgorithm: sigName(c),
		SHA256:             vf.Fingerprint(fingerprint(c)),
		Size:               len(c.Raw),
		AIA:                urls(vf, c.IssuingCertificateURL),
		CRL:                urls(vf, c.CRLDistributionPoints),
		SelfSigned:         selfSigned(c),
		IsCA:               c.BasicConstraintsValid && c.IsCA,
	}
}

// urls writes AIA or CRL URLs.
func urls(vf values.Formatter, ss []string) []string {
	var out []string
	for _, s := range ss {
		out = append(out, clean(vf.URL(s)))
	}
	return out
}

// dn writes a distinguished name.
func dn(vf values.Formatter, n pkix.Name) string { return clean(vf.Name(n)) }

// fp16 is a certificate's fingerprint as the text shortens it: its first
// 16 hex digits (a pseudonym whole).
func fp16(vf values.Formatter, c *x509.Certificate) string {
	s := vf.Fingerprint(fingerprint(c))
	if len(s) > 16 {
		s = s[:16]
	}
	return s
}

// fingerprint is the SHA-256 of the certificate's DER in lower-case hex.
func fingerprint(c *x509.Certificate) string {
	s := sha256.Sum256(c.Raw)
	return hex.EncodeToString(s[:])
}

// selfSigned: issuer equals subject and the certificate's own key verifies
// its signature.
func selfSigned(c *x509.Certificate) bool {
	return nameEqual(c.RawIssuer, c.RawSubject) && signatureOK(c, c.PublicKey)
}

// WritePEM writes certificates as PEM blocks, in order.
func WritePEM(w io.Writer, certs []*x509.Certificate) error {
	for _, c := range certs {
		if err := pem.Encode(w, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}); err != nil {
			return err
		}
	}
	return nil
}

// ParsePEM reads every CERTIFICATE block of a PEM bundle (a --ca or
// --browser-chain file); other blocks are skipped.
func ParsePEM(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return out, nil
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return out, err
		}
		out = append(out, c)
	}
}
