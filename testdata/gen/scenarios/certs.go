package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Certificate files the scenarios use, by name. Each name has NAME.crt and
// NAME.key in the certificate directory; chains are written as NAME-chain.crt
// (leaf first, then the intermediates a server sends).
var (
	validFrom = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	validTo   = time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC)
)

type issuedCert struct {
	cert *x509.Certificate
	der  []byte
	key  *rsa.PrivateKey
}

type certSpec struct {
	name      string
	cn        string
	dns       []string
	ips       []net.IP
	bits      int
	ca        bool
	client    bool
	from, to  time.Time
	issuer    string // "" = self-signed
	chainWith []string
	// keyOf reuses the key of an earlier certificate: a re-issued or
	// cross-signed CA certificate (same subject and key, other issuer or dates).
	keyOf string
}

// certSpecs is the whole certificate set. Order matters: issuers first.
func certSpecs() []certSpec {
	lo := []net.IP{net.IPv4(127, 0, 0, 1)}
	var many []string
	for i := 0; i < 110; i++ {
		many = append(many, fmt.Sprintf("node%03d.devices.example-fleet.test", i))
	}
	return []certSpec{
		{name: "root", cn: "tlspcap Test Root CA", bits: 2048, ca: true},
		{name: "inter", cn: "tlspcap Test Intermediate CA", bits: 2048, ca: true, issuer: "root"},
		{name: "leaf", cn: "device.test", dns: []string{"device.test"}, ips: lo, bits: 2048, issuer: "inter", chainWith: []string{"inter"}},
		// ~6 KB chain: 4096-bit intermediate and leaf, leaf with many names.
		{name: "biginter", cn: "tlspcap Test Intermediate CA (large)", bits: 4096, ca: true, issuer: "root"},
		{name: "bigleaf", cn: "device.test", dns: append([]string{"device.test"}, many...), ips: lo, bits: 4096, issuer: "biginter", chainWith: []string{"biginter"}},
		// A chain from a root the device does not have.
		{name: "otherroot", cn: "Other Unknown Root CA", bits: 2048, ca: true},
		{name: "otherleaf", cn: "device.test", dns: []string{"device.test"}, ips: lo, bits: 2048, issuer: "otherroot"},
		{name: "expired", cn: "device.test", dns: []string{"device.test"}, ips: lo, bits: 2048, issuer: "inter", chainWith: []string{"inter"},
			from: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), to: time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)},
		{name: "future", cn: "device.test", dns: []string{"device.test"}, ips: lo, bits: 2048, issuer: "inter", chainWith: []string{"inter"},
			from: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), to: time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC)},
		{name: "selfsigned", cn: "device.test", dns: []string{"device.test"}, ips: lo, bits: 2048},
		{name: "mismatch", cn: "other.test", dns: []string{"other.test"}, bits: 2048, issuer: "inter", chainWith: []string{"inter"}},
		{name: "weak", cn: "device.test", dns: []string{"device.test"}, ips: lo, bits: 1024, issuer: "inter", chainWith: []string{"inter"}},
		{name: "client", cn: "esp32-device-0001", bits: 2048, client: true, issuer: "inter", chainWith: []string{"inter"}},
		{name: "otherclient", cn: "esp32-device-0001", bits: 2048, client: true, issuer: "otherroot"},
		// Cross-signed chain (chains.go): root A, root B, B cross-signed by A,
		// an intermediate under B, a leaf. The server sends leaf +
		// intermediate + B-by-A; xroota-old is A's certificate with the same
		// name and key that expired (a device with an old CA file).
		{name: "xroota", cn: "tlspcap Cross Root A", bits: 2048, ca: true},
		{name: "xroota-old", cn: "tlspcap Cross Root A", bits: 2048, ca: true, keyOf: "xroota",
			from: time.Date(2011, 1, 1, 0, 0, 0, 0, time.UTC), to: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)},
		{name: "xrootb", cn: "tlspcap Cross Root B", bits: 2048, ca: true},
		{name: "xrootb-by-a", cn: "tlspcap Cross Root B", bits: 2048, ca: true, keyOf: "xrootb", issuer: "xroota"},
		{name: "xinter", cn: "tlspcap Cross Intermediate CA", bits: 2048, ca: true, issuer: "xrootb"},
		{name: "xleaf", cn: "device.test", dns: []string{"device.test"}, ips: lo, bits: 2048, issuer: "xinter", chainWith: []string{"xinter", "xrootb-by-a"}},
	}
}

// certBundles are PEM files assembled from the certificates above (written
// on every run): chains in a wrong order or with extra certificates, and
// the paths a browser's certificate viewer exports.
var certBundles = map[string][]string{
	"xleaf-inters-reordered.crt": {"xrootb-by-a", "xinter"},      // cross-sign before the intermediate it signs
	"leaf-inters-extra.crt":      {"inter", "otherroot", "root"}, // plus an unrelated CA and the root
	"leaf-viewer-path.crt":       {"leaf", "inter", "root"},      // a browser's view of the leaf's path
	"xleaf-viewer-path.crt":      {"xleaf", "xinter", "xrootb"},  // the browser's shorter path to root B
	"xroot-a-and-b.crt":          {"xroota-old", "xrootb"},       // an old CA file updated with the new root
}

// makeCerts writes the certificate set into dir. Certificates already there
// are kept (captures made with them stay valid); only missing ones are made.
func makeCerts(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	made := map[string]*issuedCert{}
	for i, s := range certSpecs() {
		if old, err := loadIssued(dir, s.name); err == nil {
			made[s.name] = old
			continue
		}
		var key *rsa.PrivateKey
		var err error
		if s.keyOf != "" {
			key = made[s.keyOf].key
		} else if key, err = rsa.GenerateKey(rand.Reader, s.bits); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		from, to := validFrom, validTo
		if !s.from.IsZero() {
			from, to = s.from, s.to
		}
		ski := sha256.Sum256(x509.MarshalPKCS1PublicKey(&key.PublicKey))
		tmpl := &x509.Certificate{
			SerialNumber:          big.NewInt(int64(1000 + i)),
			Subject:               pkix.Name{CommonName: s.cn, Organization: []string{"tlspcap test"}},
			NotBefore:             from,
			NotAfter:              to,
			DNSNames:              s.dns,
			IPAddresses:           s.ips,
			BasicConstraintsValid: true,
			IsCA:                  s.ca,
			SubjectKeyId:          ski[:20],
		}
		switch {
		case s.ca:
			tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
		case s.client:
			tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
			tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
		default:
			tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
			tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		}
		// Leaves issued by an intermediate carry the AIA caIssuers URL where a
		// browser would fetch that intermediate, as public CAs' leaves do.
		if !s.ca && s.issuer != "" && s.issuer != "root" && s.issuer != "otherroot" {
			tmpl.IssuingCertificateURL = []string{"http://ca.test/" + s.issuer + ".crt"}
		}
		parent, signer := tmpl, key
		if s.issuer != "" {
			p := made[s.issuer]
			parent, signer = p.cert, p.key
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return err
		}
		made[s.name] = &issuedCert{cert: c, der: der, key: key}
		if err := writePEM(filepath.Join(dir, s.name+".crt"), "CERTIFICATE", der); err != nil {
			return err
		}
		if err := writePEM(filepath.Join(dir, s.name+".key"), "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(key)); err != nil {
			return err
		}
		var inters []byte
		for _, w := range s.chainWith {
			inters = append(inters, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: made[w].der})...)
		}
		chain := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), inters...)
		if err := os.WriteFile(filepath.Join(dir, s.name+"-chain.crt"), chain, 0o644); err != nil {
			return err
		}
		if len(inters) > 0 {
			if err := os.WriteFile(filepath.Join(dir, s.name+"-inters.crt"), inters, 0o644); err != nil {
				return err
			}
		}
	}
	for name, parts := range certBundles {
		var b []byte
		for _, p := range parts {
			b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: made[p].der})...)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(dir, "done"), []byte("ok\n"), 0o644)
}

// loadIssued reads NAME.crt and NAME.key made by an earlier run.
func loadIssued(dir, name string) (*issuedCert, error) {
	cb, err := os.ReadFile(filepath.Join(dir, name+".crt"))
	if err != nil {
		return nil, err
	}
	kb, err := os.ReadFile(filepath.Join(dir, name+".key"))
	if err != nil {
		return nil, err
	}
	cblk, _ := pem.Decode(cb)
	kblk, _ := pem.Decode(kb)
	if cblk == nil || kblk == nil {
		return nil, fmt.Errorf("%s: not PEM", name)
	}
	c, err := x509.ParseCertificate(cblk.Bytes)
	if err != nil {
		return nil, err
	}
	key, err := x509.ParsePKCS1PrivateKey(kblk.Bytes)
	if err != nil {
		return nil, err
	}
	return &issuedCert{cert: c, der: cblk.Bytes, key: key}, nil
}

func writePEM(path, typ string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o644)
}
