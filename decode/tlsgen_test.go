package decode

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"tlspcap/capture"
)

// segment is one Write of one side of a real TLS connection.
type segment struct {
	dir  capture.Dir
	data []byte
}

// recorder is a net.Conn that records every Write in a shared trace.
type recorder struct {
	net.Conn
	dir   capture.Dir
	mu    *sync.Mutex
	trace *[]segment
}

func (r *recorder) Write(b []byte) (int, error) {
	r.mu.Lock()
	*r.trace = append(*r.trace, segment{r.dir, append([]byte(nil), b...)})
	r.mu.Unlock()
	return r.Conn.Write(b)
}

var (
	certOnce   sync.Once
	serverCert tls.Certificate
	bigChain   tls.Certificate // the server certificate sent 24 times: > 16 KB
	clientCert tls.Certificate
	serverPool *x509.CertPool
)

func selfSigned(t testing.TB, key any, pub any, name string, isCA bool) tls.Certificate {
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"tlspcap test"}},
		DNSNames:              []string{name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  isCA,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func testCerts(t testing.TB) {
	certOnce.Do(func() {
		rk, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		serverCert = selfSigned(t, rk, &rk.PublicKey, "device.example", true)
		ek, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		clientCert = selfSigned(t, ek, &ek.PublicKey, "esp32-client", false)
		bigChain = serverCert
		for range 23 {
			bigChain.Certificate = append(bigChain.Certificate, serverCert.Certificate[0])
		}
		serverPool = x509.NewCertPool()
		c, _ := x509.ParseCertificate(serverCert.Certificate[0])
		serverPool.AddCert(c)
	})
}

// runTLS runs a crypto/tls client and server over loopback TCP and returns
// every write of both sides in order. The client sends "ping", the server
// answers "pong", then the client closes.
func runTLS(t testing.TB, ccfg, scfg *tls.Config) []segment {
	t.Helper()
	testCerts(t)
	if scfg.Certificates == nil {
		scfg.Certificates = []tls.Certificate{serverCert}
	}
	if ccfg.RootCAs == nil && !ccfg.InsecureSkipVerify {
		ccfg.RootCAs = serverPool
	}
	if ccfg.ServerName == "" {
		ccfg.ServerName = "device.example"
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var mu sync.Mutex
	var trace []segment
	done := make(chan struct{})
	go func() {
		defer close(done)
		raw, err := ln.Accept()
		if err != nil {
			return
		}
		defer raw.Close()
		s := tls.Server(&recorder{raw, capture.FromServer, &mu, &trace}, scfg)
		s.SetDeadline(time.Now().Add(10 * time.Second))
		if s.Handshake() != nil {
			return
		}
		buf := make([]byte, 16)
		if _, err := io.ReadFull(s, buf[:4]); err != nil {
			return
		}
		s.Write([]byte("pong"))
		io.Copy(io.Discard, s) // until the client's close_notify
		s.Close()
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := tls.Client(&recorder{raw, capture.FromClient, &mu, &trace}, ccfg)
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if err := c.Handshake(); err == nil {
		c.Write([]byte("ping"))
		buf := make([]byte, 4)
		io.ReadFull(c, buf)
		c.Close()
	} else {
		raw.Close()
	}
	<-done
	raw.Close()
	mu.Lock()
	defer mu.Unlock()
	return trace
}

// tlsCase is one real handshake scenario.
type tlsCase struct {
	name       string
	ccfg, scfg func() *tls.Config
}

var tlsCases = []tlsCase{
	{"tls12-ecdhe-rsa-aes128-gcm",
		func() *tls.Config {
			return &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}}
		},
		func() *tls.Config { return &tls.Config{MaxVersion: tls.VersionTLS12} }},
	{"tls12-ecdhe-rsa-aes128-cbc",
		func() *tls.Config {
			return &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA}}
		},
		func() *tls.Config {
			return &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA}}
		}},
	{"tls13",
		func() *tls.Config { return &tls.Config{} },
		func() *tls.Config { return &tls.Config{} }},
	{"tls12-client-cert",
		func() *tls.Config {
			return &tls.Config{MaxVersion: tls.VersionTLS12, Certificates: []tls.Certificate{clientCert}}
		},
		func() *tls.Config {
			return &tls.Config{MaxVersion: tls.VersionTLS12, ClientAuth: tls.RequireAnyClientCert}
		}},
	{"tls13-client-cert",
		func() *tls.Config { return &tls.Config{Certificates: []tls.Certificate{clientCert}} },
		func() *tls.Config { return &tls.Config{ClientAuth: tls.RequireAnyClientCert} }},
	{"tls13-hrr",
		func() *tls.Config {
			return &tls.Config{CurvePreferences: []tls.CurveID{tls.X25519, tls.CurveP384}}
		},
		func() *tls.Config { return &tls.Config{CurvePreferences: []tls.CurveID{tls.CurveP384}} }},
	{"tls12-big-chain",
		func() *tls.Config { return &tls.Config{MaxVersion: tls.VersionTLS12, InsecureSkipVerify: true} },
		func() *tls.Config {
			return &tls.Config{MaxVersion: tls.VersionTLS12, Certificates: []tls.Certificate{bigChain}}
		}},
	{"tls12-bad-cert",
		func() *tls.Config { return &tls.Config{MaxVersion: tls.VersionTLS12, RootCAs: x509.NewCertPool()} },
		func() *tls.Config { return &tls.Config{MaxVersion: tls.VersionTLS12} }},
	{"tls13-bad-cert",
		func() *tls.Config { return &tls.Config{RootCAs: x509.NewCertPool()} },
		func() *tls.Config { return &tls.Config{} }},
}

var (
	tracesOnce sync.Once
	traces     map[string][]segment
)

// realTraces runs every scenario once per test binary.
func realTraces(t testing.TB) map[string][]segment {
	tracesOnce.Do(func() {
		traces = map[string][]segment{}
		for _, tc := range tlsCases {
			traces[tc.name] = runTLS(t, tc.ccfg(), tc.scfg())
		}
	})
	return traces
}
