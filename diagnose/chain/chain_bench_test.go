package chain_test

import (
	"crypto/x509"
	"testing"
	"time"

	"tlspcap/diagnose/chain"
	"tlspcap/testdata/gen/bigcap/synth"
)

// BenchmarkAnalyze checks real chains made with crypto/x509: an RSA leaf
// with three intermediates and many SANs (about 5 KB), an ECDSA leaf with
// one intermediate, and a self-signed certificate; against the certificate
// bundle (Mozilla roots: untrusted) and against the device's CA file.
func BenchmarkAnalyze(b *testing.B) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	chain.MozillaRoots() // load once, outside the timings
	for _, s := range []synth.ServerSpec{
		{Name: "Firmware CDN", Hosts: []string{"ota.example.org"}, KeyType: "rsa", Inters: 3, SANs: 60},
		{Name: "Example Cloud", Hosts: []string{"api.example.com"}, KeyType: "ecdsa", Inters: 1},
		{Name: "Lab Gateway", Hosts: []string{"gw.lab.local"}, KeyType: "ecdsa", SelfSign: true},
	} {
		tc, err := s.Chain(now)
		if err != nil {
			b.Fatal(err)
		}
		var certs []*x509.Certificate
		size := 0
		for _, der := range tc.Certificate {
			c, err := x509.ParseCertificate(der)
			if err != nil {
				b.Fatal(err)
			}
			certs = append(certs, c)
			size += len(der)
		}
		name := s.KeyType + "-" + itoa(len(certs)) + "certs"
		last := certs[len(certs)-1]
		in := chain.Input{Certs: certs, Raw: tc.Certificate, ServerName: s.Hosts[0], Time: now}
		b.Run(name+"/bundle", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				chain.Analyze(in)
			}
		})
		ca := in
		ca.CA = []*x509.Certificate{last} // the top intermediate (or the self-signed leaf) as the device's CA
		b.Run(name+"/ca-file", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				chain.Analyze(ca)
			}
		})
		b.Run(name+"/parse", func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				for _, der := range tc.Certificate {
					if _, err := x509.ParseCertificate(der); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

func itoa(n int) string { return string(rune('0' + n)) }
