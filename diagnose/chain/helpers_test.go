package chain

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"sort"
	"sync/atomic"
	"testing"
	"time"
)

// Capture time used by every test: dates are checked at this instant.
var capT = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

var (
	validFrom = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	validTo   = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	serial    atomic.Int64
)

// kc is a certificate with its private key.
type kc struct {
	cert *x509.Certificate
	key  crypto.Signer
}

type spec struct {
	cn         string
	ca         bool
	dns        []string
	ips        []string
	notBefore  time.Time
	notAfter   time.Time
	key        crypto.Signer // nil: a new P-256 key
	sigAlg     x509.SignatureAlgorithm
	aia        []string
	eku        []x509.ExtKeyUsage
	ku         x509.KeyUsage
	rawSubject []byte // overrides cn
}

func p256(t testing.TB) crypto.Signer {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func rsaKey(t testing.TB, bits int) crypto.Signer {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// issue creates a certificate from s signed by parent (nil: self-signed).
func issue(t testing.TB, s spec, parent *kc) *kc {
	t.Helper()
	key := s.key
	if key == nil {
		key = p256(t)
	}
	tpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial.Add(1)),
		Subject:               pkix.Name{CommonName: s.cn, Organization: []string{"tlspcap test"}},
		NotBefore:             s.notBefore,
		NotAfter:              s.notAfter,
		DNSNames:              s.dns,
		BasicConstraintsValid: true,
		IsCA:                  s.ca,
		SignatureAlgorithm:    s.sigAlg,
		IssuingCertificateURL: s.aia,
		ExtKeyUsage:           s.eku,
		KeyUsage:              s.ku,
	}
	if s.rawSubject != nil {
		tpl.RawSubject = s.rawSubject
	}
	if tpl.NotBefore.IsZero() {
		tpl.NotBefore = validFrom
	}
	if tpl.NotAfter.IsZero() {
		tpl.NotAfter = validTo
	}
	for _, ip := range s.ips {
		tpl.IPAddresses = append(tpl.IPAddresses, net.ParseIP(ip))
	}
	if s.ca && tpl.KeyUsage == 0 {
		tpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	}
	if !s.ca && tpl.KeyUsage == 0 {
		tpl.KeyUsage = x509.KeyUsageDigitalSignature
	}
	if !s.ca && tpl.ExtKeyUsage == nil {
		tpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	signer, parentTpl := key, tpl
	if parent != nil {
		signer, parentTpl = parent.key, parent.cert
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, parentTpl, key.Public(), signer)
	if err != nil {
		t.Fatalf("create %q: %v", s.cn, err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &kc{c, key}
}

// pki is a root → intermediate → leaf hierarchy for dev.example.com.
type pki struct {
	root, inter, leaf *kc
}

func newPKI(t testing.TB, leafSpec spec) pki {
	root := issue(t, spec{cn: "Test Root CA", ca: true}, nil)
	inter := issue(t, spec{cn: "Test Intermediate CA", ca: true, aia: []string{"http://ca.example/inter.crt"}}, root)
	if leafSpec.cn == "" {
		leafSpec.cn = "dev.example.com"
	}
	if leafSpec.dns == nil && leafSpec.ips == nil {
		leafSpec.dns = []string{"dev.example.com"}
	}
	if leafSpec.aia == nil {
		leafSpec.aia = []string{"http://ca.example/inter.crt"}
	}
	leaf := issue(t, leafSpec, inter)
	return pki{root, inter, leaf}
}

func certs(k ...*kc) []*x509.Certificate {
	var out []*x509.Certificate
	for _, x := range k {
		out = append(out, x.cert)
	}
	return out
}

func ids(r Result) []string {
	var out []string
	for _, p := range r.Problems {
		out = append(out, string(p.ID))
	}
	sort.Strings(out)
	return out
}

func problem(r Result, id string) *Problem {
	for i := range r.Problems {
		if string(r.Problems[i].ID) == id {
			return &r.Problems[i]
		}
	}
	return nil
}

func ed25519Key(t testing.TB) crypto.Signer {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
