package chain

import (
	"crypto/x509"
	"sync"
	"time"

	"golang.org/x/crypto/x509roots/fallback/bundle"
)

// rootStore is Mozilla's root list (the list the ESP-IDF certificate bundle
// is generated from), parsed once.
type rootStore struct {
	certs     []*x509.Certificate
	bySubject map[string][]*x509.Certificate // key: DER of the subject DN
	pool      *x509.CertPool                 // with distrust-after constraints, for the browser view
	loadTime  time.Duration
}

var (
	rootsOnce sync.Once
	roots     *rootStore
)

// mozilla returns the parsed root store, loading it on first use.
func mozilla() *rootStore {
	rootsOnce.Do(func() {
		start := time.Now()
		s := &rootStore{bySubject: map[string][]*x509.Certificate{}, pool: x509.NewCertPool()}
		for r := range bundle.Roots() {
			c, err := x509.ParseCertificate(r.Certificate)
			if err != nil {
				continue // never expected: the bundle is generated from parsed certificates
			}
			s.certs = append(s.certs, c)
			s.bySubject[string(c.RawSubject)] = append(s.bySubject[string(c.RawSubject)], c)
			if r.Constraint != nil {
				s.pool.AddCertWithConstraint(c, r.Constraint)
			} else {
				s.pool.AddCert(c)
			}
		}
		s.loadTime = time.Since(start)
		roots = s
	})
	return roots
}

// MozillaRoots returns the root certificates of the embedded Mozilla list.
// The slice is shared: do not modify it.
func MozillaRoots() []*x509.Certificate { return mozilla().certs }

// RootsLoadTime reports how long parsing the embedded root list took (it
// happens once, on first use).
func RootsLoadTime() time.Duration { return mozilla().loadTime }

// bundleLookup models esp_crt_find_cert: the roots (and custom bundle
// certificates) whose subject DN equals the given issuer DN byte for byte.
func bundleLookup(issuerRaw []byte, extra []*x509.Certificate) []*x509.Certificate {
	out := mozilla().bySubject[string(issuerRaw)]
	for _, c := range extra {
		if string(c.RawSubject) == string(issuerRaw) {
			out = append(out[:len(out):len(out)], c)
		}
	}
	return out
}
