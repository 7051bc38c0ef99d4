package values

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
)

// The distinguished names the prose scanner got wrong: an escaped comma
// kept the organisation, and the country was renamed.
func TestPseudonymsName(t *testing.T) {
	p := NewPseudonyms()
	leaf := pkix.Name{CommonName: "www.starfieldtech.com", Organization: []string{"Starfield Technologies, Inc."}, Country: []string{"US"}}
	issuer := pkix.Name{CommonName: "Starfield Secure Certification Authority", Organization: []string{"Starfield Technologies, Inc."},
		OrganizationalUnit: []string{"http://certificates.starfieldtech.com/repository"}, Locality: []string{"Scottsdale"}, Province: []string{"Arizona"}, Country: []string{"US"}}
	if got, want := p.Name(leaf), "CN=host-1.example,O=name-1,C=US"; got != want {
		t.Errorf("leaf %q, want %q", got, want)
	}
	if got, want := p.Name(issuer), "CN=name-2,OU=name-3,O=name-1,L=name-4,ST=name-5,C=US"; got != want {
		t.Errorf("issuer %q, want %q", got, want)
	}
	// The same values, however asked for, get the same pseudonyms.
	if p.Attr("Starfield Technologies, Inc.") != "name-1" || p.Host("WWW.StarfieldTech.com.") != "host-1.example" || p.Host("*.starfieldtech.com") != "*.host-2.example" {
		t.Errorf("attr %q host %q wildcard %q", p.Attr("Starfield Technologies, Inc."), p.Host("WWW.StarfieldTech.com."), p.Host("*.starfieldtech.com"))
	}
	// Attributes pkix.Name keeps in Names only (emailAddress) are replaced too.
	oid := asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}
	email := pkix.Name{CommonName: "ca", Names: []pkix.AttributeTypeAndValue{{Type: oid, Value: "pki@corp.example"}}}
	want := pkix.Name{CommonName: "name-6", Names: []pkix.AttributeTypeAndValue{{Type: oid, Value: "name-7"}}}
	if got := p.Name(email); got != want.String() {
		t.Errorf("emailAddress: %q, want %q", got, want.String())
	}
	if Plain.Name(leaf) != leaf.String() || Plain.Host("A.example") != "A.example" || Plain.Wire(`"HTTP/1.1 200"`) != `"HTTP/1.1 200"` {
		t.Error("Plain changes values")
	}
}

func TestPseudonymsAddresses(t *testing.T) {
	p := NewPseudonyms()
	p.Reserve(netip.MustParseAddr("192.0.2.1"))
	if got := p.AddrPort(netip.MustParseAddrPort("10.0.0.5:443")); got != "192.0.2.2:443" {
		t.Errorf("the reserved 192.0.2.1 is given: %s", got)
	}
	if got := p.Host("::ffff:10.0.0.5"); got != "192.0.2.2" {
		t.Errorf("a mapped IPv4 literal as host: %s", got)
	}
	if got := p.AddrPort(netip.MustParseAddrPort("[fd00::17]:8883")); got != "[2001:db8:ffff::1]:8883" {
		t.Errorf("IPv6: %s", got)
	}
	if got := p.MAC(net.HardwareAddr{0x24, 0x0a, 0xc4, 0x12, 0x34, 0x56}); got != "24:0a:c4:00:00:01" {
		t.Errorf("MAC: %s", got)
	}
	if got := p.Fingerprint(strings.Repeat("AB", 32)); got != "cert-1" || p.Fingerprint(strings.Repeat("ab", 32)) != "cert-1" {
		t.Errorf("fingerprint: %s", got)
	}
	if got := p.URL("http://pki.corp.example/repo/acme-ca.crt"); got != "http://host-1.example/…" {
		t.Errorf("URL: %s", got)
	}
	if got := p.File("/home/me/customer-acme/lab.pcapng.gz"); got != "file-1.pcapng.gz" || p.File("stdin") != "stdin" {
		t.Errorf("file: %s", got)
	}
	if got := p.Wire(`"220-mx.corp.example ESMTP\r\n"...`); got != `"220…" (withheld: --redact)` {
		t.Errorf("wire bytes: %s", got)
	}
}

// Concurrent use (the analysis names values on its second goroutine
// while the first reserves addresses) gives one pseudonym per value.
func TestPseudonymsConcurrent(t *testing.T) {
	p := NewPseudonyms()
	var wg sync.WaitGroup
	got := make([]string, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.Reserve(netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}))
			got[i] = p.Host("mqtt.corp.example")
		}()
	}
	wg.Wait()
	for _, g := range got {
		if g != "host-1.example" {
			t.Fatalf("%q", got)
		}
	}
}
