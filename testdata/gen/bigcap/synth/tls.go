package synth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"sync"
	"time"
)

// Chunk is what one side wrote in one flight (consecutive writes of the same
// side merged).
type Chunk struct {
	FromServer bool
	Data       []byte
}

// Transcript is the bytes of one real TLS connection, per direction, in the
// order they were written.
type Transcript struct {
	Name       string
	ServerName string
	Version    uint16
	Chunks     []Chunk
	Chain      [][]byte // DER of the certificates the server sent
}

type recorder struct {
	mu     sync.Mutex
	chunks []Chunk
}

func (r *recorder) add(server bool, b []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := len(r.chunks); n > 0 && r.chunks[n-1].FromServer == server {
		r.chunks[n-1].Data = append(r.chunks[n-1].Data, b...)
		return
	}
	r.chunks = append(r.chunks, Chunk{FromServer: server, Data: append([]byte(nil), b...)})
}

type recConn struct {
	net.Conn
	r      *recorder
	server bool
}

func (c recConn) Write(b []byte) (int, error) {
	c.r.add(c.server, b)
	return c.Conn.Write(b)
}

// ServerSpec describes one server: its certificate chain and what it
// negotiates.
type ServerSpec struct {
	Name      string
	Hosts     []string
	KeyType   string // "ecdsa" or "rsa"
	Inters    int    // intermediates in the sent chain
	SelfSign  bool
	MaxVer    uint16
	ClientMax uint16
	Suites    []uint16 // TLS 1.2 suites offered by the client (nil: Go's defaults)
	SANs      int      // extra SAN entries on the leaf (makes the chain bigger)
}

func newKey(typ string) (crypto.Signer, error) {
	if typ == "rsa" {
		return rsa.GenerateKey(rand.Reader, 2048)
	}
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

var serial int64

func mkCert(tmpl *x509.Certificate, pub any, parent *x509.Certificate, key crypto.Signer) (*x509.Certificate, error) {
	serial++
	tmpl.SerialNumber = big.NewInt(serial)
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// Chain builds the server's certificate chain: root (not sent), Inters
// intermediates and the leaf.
func (s ServerSpec) Chain(now time.Time) (tls.Certificate, error) {
	nb, na := now.AddDate(-1, 0, 0), now.AddDate(1, 0, 0)
	leafKey, err := newKey(s.KeyType)
	if err != nil {
		return tls.Certificate{}, err
	}
	san := append([]string(nil), s.Hosts...)
	for i := 0; i < s.SANs; i++ {
		san = append(san, fmt.Sprintf("node-%03d.%s", i, s.Hosts[0]))
	}
	leafT := &x509.Certificate{Subject: pkix.Name{CommonName: s.Hosts[0], Organization: []string{s.Name}},
		DNSNames: san, NotBefore: nb, NotAfter: na,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	if s.SelfSign {
		leafT.IsCA, leafT.BasicConstraintsValid = true, true
		leaf, err := mkCert(leafT, leafKey.Public(), nil, leafKey)
		if err != nil {
			return tls.Certificate{}, err
		}
		return tls.Certificate{Certificate: [][]byte{leaf.Raw}, PrivateKey: leafKey, Leaf: leaf}, nil
	}
	caKey, err := newKey(s.KeyType)
	if err != nil {
		return tls.Certificate{}, err
	}
	root, err := mkCert(&x509.Certificate{Subject: pkix.Name{CommonName: s.Name + " Root CA", Organization: []string{s.Name}},
		NotBefore: nb.AddDate(-5, 0, 0), NotAfter: na.AddDate(10, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}, caKey.Public(), nil, caKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	parent, parentKey := root, caKey
	var inters []*x509.Certificate
	for i := 0; i < s.Inters; i++ {
		k, err := newKey(s.KeyType)
		if err != nil {
			return tls.Certificate{}, err
		}
		c, err := mkCert(&x509.Certificate{Subject: pkix.Name{CommonName: fmt.Sprintf("%s Intermediate CA %d", s.Name, i+1), Organization: []string{s.Name}},
			NotBefore: nb.AddDate(-2, 0, 0), NotAfter: na.AddDate(3, 0, 0), IsCA: true, BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}, k.Public(), parent, parentKey)
		if err != nil {
			return tls.Certificate{}, err
		}
		inters = append([]*x509.Certificate{c}, inters...)
		parent, parentKey = c, k
	}
	leaf, err := mkCert(leafT, leafKey.Public(), parent, parentKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	out := tls.Certificate{Certificate: [][]byte{leaf.Raw}, PrivateKey: leafKey, Leaf: leaf}
	for _, c := range inters {
		out.Certificate = append(out.Certificate, c.Raw)
	}
	return out, nil
}

// Record runs one real crypto/tls handshake over loopback TCP, then a small
// request and response and the client's close_notify, and returns what each
// side wrote.
func Record(name string, cert tls.Certificate, spec ServerSpec) (*Transcript, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	rec := &recorder{}
	srvCfg := &tls.Config{Certificates: []tls.Certificate{cert}, MaxVersion: spec.MaxVer}
	cliCfg := &tls.Config{InsecureSkipVerify: true, ServerName: spec.Hosts[0], MaxVersion: spec.ClientMax, CipherSuites: spec.Suites}
	req := []byte("GET /api/v1/status HTTP/1.1\r\nHost: " + spec.Hosts[0] + "\r\nUser-Agent: esp32\r\n\r\n")
	resp := []byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 17\r\n\r\n{\"status\":\"ok\"}\r\n")
	errc := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			errc <- err
			return
		}
		s := tls.Server(recConn{c, rec, true}, srvCfg)
		buf := make([]byte, len(req))
		if _, err := io.ReadFull(s, buf); err != nil {
			errc <- err
			return
		}
		if _, err := s.Write(resp); err != nil {
			errc <- err
			return
		}
		io.Copy(io.Discard, s) // until the client's close_notify
		c.Close()
		errc <- nil
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return nil, err
	}
	c := tls.Client(recConn{raw, rec, false}, cliCfg)
	if err := c.Handshake(); err != nil {
		return nil, err
	}
	if _, err := c.Write(req); err != nil {
		return nil, err
	}
	buf := make([]byte, len(resp))
	if _, err := io.ReadFull(c, buf); err != nil {
		return nil, err
	}
	st := c.ConnectionState()
	c.Close()
	if err := <-errc; err != nil {
		return nil, err
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return &Transcript{Name: name, ServerName: spec.Hosts[0], Version: st.Version, Chunks: rec.chunks, Chain: cert.Certificate}, nil
}
