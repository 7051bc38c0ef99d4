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
	}
}

// makeCerts writes the certificate set into dir unless it is already there.
func makeCerts(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, "done")); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	made := map[string]*issuedCert{}
	for i, s := range certSpecs() {
		key, err := rsa.GenerateKey(rand.Reader, s.bits)
		if err != nil {
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
	return os.WriteFile(filepath.Join(dir, "done"), []byte("ok\n"), 0o644)
}

func writePEM(path, typ string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o644)
}
