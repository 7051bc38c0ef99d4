package decode

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"sync"
)

// maxCertCache bounds the parsed certificates kept for reuse. Silence is
// fine when it fills: the cache starts over and certificates are parsed again.
const maxCertCache = 1024

// certCache holds certificates parsed once per distinct DER: a capture
// holds many connections to the same few servers, each sending the same
// chain. Entries share Raw and Cert, which nothing modifies.
var certCache struct {
	sync.Mutex
	m map[string]CertificateEntry
}

// parseCertEntry returns the entry for one DER certificate, parsed once
// per distinct DER. der is not retained.
func parseCertEntry(der []byte) CertificateEntry {
	certCache.Lock()
	e, ok := certCache.m[string(der)]
	certCache.Unlock()
	if ok {
		return e
	}
	e = CertificateEntry{Raw: bytes.Clone(der), SHA256: sha256.Sum256(der)}
	e.Cert, e.ParseErr = x509.ParseCertificate(e.Raw)
	if e.ParseErr != nil {
		e.Cert = nil
	}
	certCache.Lock()
	if certCache.m == nil || len(certCache.m) >= maxCertCache {
		certCache.m = make(map[string]CertificateEntry)
	}
	certCache.m[string(e.Raw)] = e
	certCache.Unlock()
	return e
}
