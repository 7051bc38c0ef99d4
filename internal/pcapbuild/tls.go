package pcapbuild

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"sync"
	"time"

	"golang.org/x/crypto/cryptobyte"
)

// Record builds a TLS record.
func Record(contentType uint8, version uint16, body []byte) []byte {
	b := []byte{contentType, byte(version >> 8), byte(version), byte(len(body) >> 8), byte(len(body))}
	return append(b, body...)
}

// RecordHeader builds only a record header announcing length bytes.
func RecordHeader(contentType uint8, version uint16, length int) []byte {
	return []byte{contentType, byte(version >> 8), byte(version), byte(length >> 8), byte(length)}
}

// Handshake builds a handshake message (type + 24-bit length + body).
func Handshake(typ uint8, body []byte) []byte {
	b := []byte{typ, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}
	return append(b, body...)
}

// Alert builds an alert record.
func Alert(level, desc uint8) []byte { return Record(21, 0x0303, []byte{level, desc}) }

// Write is one write of a TLS endpoint during a recorded exchange.
type Write struct {
	Dir  int // C2S or S2C
	Data []byte
}

// Replay adds one whole connection carrying ws: the three-way handshake,
// the writes in 1460-byte segments, then a FIN from each side.
func (c *Capture) Replay(client, server string, ws []Write) {
	k := c.Conn(client, server)
	k.Handshake()
	for _, w := range ws {
		k.SendSegments(w.Dir, w.Data, 1460)
	}
	k.FIN(C2S)
	k.FIN(S2C)
}

// recConn records writes of one side.
type recConn struct {
	net.Conn
	dir int
	mu  *sync.Mutex
	out *[]Write
}

func (r recConn) Write(p []byte) (int, error) {
	r.mu.Lock()
	*r.out = append(*r.out, Write{r.dir, append([]byte(nil), p...)})
	r.mu.Unlock()
	return r.Conn.Write(p)
}

// Exchange runs a real crypto/tls handshake between cc and sc over an
// loopback connection and returns every write in the order it happened. The
// client's error (if any) is returned too.
func Exchange(cc, sc *tls.Config) ([]Write, error, error) {
	// Loopback TCP, not net.Pipe: both sides send close_notify at once, which
	// deadlocks an unbuffered pipe.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err, err
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	a, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return nil, err, err
	}
	b, ok := <-accepted
	if !ok {
		a.Close()
		return nil, net.ErrClosed, net.ErrClosed
	}
	var mu sync.Mutex
	var out []Write
	cl := tls.Client(recConn{a, C2S, &mu, &out}, cc)
	sv := tls.Server(recConn{b, S2C, &mu, &out}, sc)
	var wg sync.WaitGroup
	var serr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		sv.SetDeadline(time.Now().Add(5 * time.Second))
		serr = sv.Handshake()
		if serr == nil {
			buf := make([]byte, 16)
			n, _ := sv.Read(buf)
			sv.Write(buf[:n])
		}
		sv.Close()
	}()
	cl.SetDeadline(time.Now().Add(5 * time.Second))
	cerr := cl.Handshake()
	if cerr == nil {
		cl.Write([]byte("ping"))
		buf := make([]byte, 16)
		cl.Read(buf)
	}
	cl.Close()
	a.Close()
	wg.Wait()
	b.Close()
	return out, cerr, serr
}

// Chain is a test PKI: root → intermediate → leaf.
type Chain struct {
	Root, Intermediate, Leaf *x509.Certificate
	LeafKey                  *ecdsa.PrivateKey
}

// TLSCertificate returns the leaf with the given chain elements.
func (c *Chain) TLSCertificate(withIntermediate bool) tls.Certificate {
	cert := tls.Certificate{Certificate: [][]byte{c.Leaf.Raw}, PrivateKey: c.LeafKey}
	if withIntermediate {
		cert.Certificate = append(cert.Certificate, c.Intermediate.Raw)
	}
	return cert
}

// Pool returns a pool holding the root.
func (c *Chain) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.Root)
	return p
}

// NewChain makes a root → intermediate → leaf chain for dnsName (an IP
// address becomes an IP SAN), valid around the capture time pcapbuild uses
// (2026-11-01).
func NewChain(dnsName string, padding int) *Chain {
	nb, na := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC)
	mk := func(cn string, isCA bool, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, sans []string, serial int64) (*x509.Certificate, *ecdsa.PrivateKey) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		tpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn, Organization: []string{"tlspcap test"}},
			NotBefore: nb, NotAfter: na, IsCA: isCA, BasicConstraintsValid: true, DNSNames: sans,
			KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		}
		if !isCA {
			if ip := net.ParseIP(dnsName); ip != nil {
				tpl.DNSNames, tpl.IPAddresses = nil, []net.IP{ip}
			}
			tpl.KeyUsage = x509.KeyUsageDigitalSignature
			tpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
			if padding > 0 {
				// Inflate the leaf with extra SAN names to reach a record size.
				for i := 0; len(tpl.DNSNames)*24 < padding; i++ {
					tpl.DNSNames = append(tpl.DNSNames, "pad"+string(rune('a'+i%26))+itoa(i)+".example.test")
				}
			}
		}
		if parent == nil {
			parent, parentKey = tpl, key
		}
		der, err := x509.CreateCertificate(rand.Reader, tpl, parent, &key.PublicKey, parentKey)
		if err != nil {
			panic(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			panic(err)
		}
		return c, key
	}
	root, rk := mk("tlspcap Test Root", true, nil, nil, nil, 1)
	inter, ik := mk("tlspcap Test Intermediate", true, root, rk, nil, 2)
	leaf, lk := mk(dnsName, false, inter, ik, []string{dnsName}, 3)
	return &Chain{Root: root, Intermediate: inter, Leaf: leaf, LeafKey: lk}
}

func itoa(i int) string { return big.NewInt(int64(i)).String() }

// Records splits data into records of at most 16384 bytes, as a TLS stack
// fragments a handshake flight.
func Records(contentType uint8, version uint16, data []byte) []byte {
	var out []byte
	for len(data) > 0 {
		n := min(len(data), 16384)
		out = append(out, Record(contentType, version, data[:n])...)
		data = data[n:]
	}
	return out
}

// ClientHello12 is a TLS 1.2 ClientHello message offering
// ECDHE-ECDSA-AES128-GCM-SHA256, with sni (any bytes) as server_name.
func ClientHello12(sni []byte) []byte {
	var b cryptobyte.Builder
	b.AddUint16(0x0303)
	b.AddBytes(bytes.Repeat([]byte{7}, 32))
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {})
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint16(0xC02B) })
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint8(0) })
	b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		b.AddUint16(0) // server_name
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				b.AddUint8(0) // host_name
				b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(sni) })
			})
		})
		b.AddUint16(10) // supported_groups: secp256r1
		b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) { b.AddUint16(23) })
		})
	})
	return Handshake(1, b.BytesOrPanic())
}

// ServerHello12 is a TLS 1.2 ServerHello message choosing suite.
func ServerHello12(suite uint16) []byte {
	var b cryptobyte.Builder
	b.AddUint16(0x0303)
	b.AddBytes(bytes.Repeat([]byte{9}, 32))
	b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) {})
	b.AddUint16(suite)
	b.AddUint8(0)
	return Handshake(2, b.BytesOrPanic())
}

// CertificateMessage is a TLS 1.2 Certificate message carrying ders.
func CertificateMessage(ders ...[]byte) []byte {
	var b cryptobyte.Builder
	b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) {
		for _, d := range ders {
			b.AddUint24LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes(d) })
		}
	})
	return Handshake(11, b.BytesOrPanic())
}
