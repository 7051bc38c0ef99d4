package chain

import (
	"crypto/x509"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestAnalyze(t *testing.T) {
	base := newPKI(t, spec{})
	other := issue(t, spec{cn: "Other Root CA", ca: true}, nil)
	expired := issue(t, spec{cn: "dev.example.com", dns: []string{"dev.example.com"}, notAfter: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)}, base.inter)
	future := issue(t, spec{cn: "dev.example.com", dns: []string{"dev.example.com"}, notBefore: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)}, base.inter)
	ipLeaf := issue(t, spec{cn: "broker", ips: []string{"192.168.1.10"}}, base.inter)
	rsa1024 := issue(t, spec{cn: "dev.example.com", dns: []string{"dev.example.com"}, key: rsaKey(t, 1024)}, base.inter)
	sha1Leaf := issue(t, spec{cn: "dev.example.com", dns: []string{"dev.example.com"}, sigAlg: x509.ECDSAWithSHA1}, base.inter)
	selfLeaf := issue(t, spec{cn: "dev.example.com", dns: []string{"dev.example.com"}}, nil)
	clientOnly := issue(t, spec{cn: "dev.example.com", dns: []string{"dev.example.com"}, eku: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, base.inter)
	noAIA := issue(t, spec{cn: "dev.example.com", dns: []string{"dev.example.com"}, aia: []string{}}, base.inter)

	// Cross-signed: "New Root" is in the (custom) bundle; the server sends
	// the cross-signed variant of it, issued by "Old Root", which is not.
	oldRoot := issue(t, spec{cn: "Old Root", ca: true}, nil)
	newRootKey := p256(t)
	newRoot := issue(t, spec{cn: "New Root", ca: true, key: newRootKey}, nil)
	cross := issue(t, spec{cn: "New Root", ca: true, key: newRootKey}, oldRoot)
	crossInter := issue(t, spec{cn: "New Intermediate", ca: true}, newRoot)
	crossLeaf := issue(t, spec{cn: "dev.example.com", dns: []string{"dev.example.com"}}, crossInter)

	// Two intermediates sent in the wrong order.
	i2 := issue(t, spec{cn: "Order Intermediate 2", ca: true}, base.root)
	i1 := issue(t, spec{cn: "Order Intermediate 1", ca: true}, i2)
	orderLeaf := issue(t, spec{cn: "dev.example.com", dns: []string{"dev.example.com"}}, i1)

	// Deep chains: root → n intermediates → leaf.
	deep := func(n int) []*kc {
		parent := base.root
		var ints []*kc
		for i := 0; i < n; i++ {
			parent = issue(t, spec{cn: "Deep CA " + itoa(i), ca: true}, parent)
			ints = append(ints, parent)
		}
		leaf := issue(t, spec{cn: "dev.example.com", dns: []string{"dev.example.com"}}, parent)
		out := []*kc{leaf}
		for i := len(ints) - 1; i >= 0; i-- {
			out = append(out, ints[i])
		}
		return out
	}
	deep8, deep10 := deep(8), deep(10)

	sni := "dev.example.com"
	tests := []struct {
		name   string
		in     Input
		ids    []string
		code   int
		flags  uint32
		alert  uint8
		reason string // substring of Device.Reason
	}{
		{name: "full chain, CA file has the root",
			in:  Input{Certs: certs(base.leaf, base.inter), ServerName: sni, CA: certs(base.root)},
			ids: nil, reason: "verification succeeds"},
		{name: "full chain in the bundle",
			in:  Input{Certs: certs(base.leaf, base.inter), ServerName: sni, BundleExtra: certs(base.root)},
			ids: nil, reason: "the bundle's root Test Root CA signs certificate #1"},
		{name: "root sent too, bundle",
			in:  Input{Certs: certs(base.leaf, base.inter, base.root), ServerName: sni, BundleExtra: certs(base.root)},
			ids: nil},
		{name: "CA file holds the intermediate",
			in:  Input{Certs: certs(base.leaf, base.inter), ServerName: sni, CA: certs(base.inter)},
			ids: nil},
		{name: "leaf only, CA file holds the intermediate",
			in:  Input{Certs: certs(base.leaf), ServerName: sni, CA: certs(base.inter)},
			ids: []string{"chain-incomplete"}},
		{name: "CA file holds the leaf (not a CA)",
			in:   Input{Certs: certs(base.leaf, base.inter), ServerName: sni, CA: certs(base.leaf)},
			ids:  []string{"chain-untrusted"},
			code: ErrCertVerifyFailed, flags: FlagNotTrusted, alert: 48},
		{name: "leaf only, CA file has the root: missing intermediate",
			in:   Input{Certs: certs(base.leaf), ServerName: sni, CA: certs(base.root)},
			ids:  []string{"chain-incomplete"},
			code: ErrCertVerifyFailed, flags: FlagNotTrusted, alert: 48},
		{name: "leaf only, bundle: missing intermediate",
			in:   Input{Certs: certs(base.leaf), ServerName: sni, BundleExtra: certs(base.root)},
			ids:  []string{"chain-incomplete"},
			code: ErrX509Fatal, flags: FlagsFatal, alert: 49, reason: "No matching trusted root certificate found"},
		{name: "leaf only without AIA, bundle",
			in:   Input{Certs: certs(noAIA), ServerName: sni, BundleExtra: certs(base.root)},
			ids:  []string{"chain-untrusted"},
			code: ErrX509Fatal, flags: FlagsFatal, alert: 49},
		{name: "leaf only and name mismatch, bundle: the name alert wins",
			in:   Input{Certs: certs(base.leaf), ServerName: "other.example.com", BundleExtra: certs(base.root)},
			ids:  []string{"chain-incomplete", "hostname-mismatch"},
			code: ErrCertVerifyFailed, flags: FlagNotTrusted | FlagCNMismatch, alert: 42},
		{name: "wrong root in the CA file",
			in:   Input{Certs: certs(base.leaf, base.inter), ServerName: sni, CA: certs(other)},
			ids:  []string{"chain-untrusted"},
			code: ErrCertVerifyFailed, flags: FlagNotTrusted, alert: 48},
		{name: "expired leaf, dates not checked",
			in:  Input{Certs: certs(expired, base.inter), ServerName: sni, CA: certs(base.root)},
			ids: []string{"certificate-expired"}},
		{name: "expired leaf, dates checked",
			in:   Input{Certs: certs(expired, base.inter), ServerName: sni, CA: certs(base.root), Device: Device{CheckDates: true}},
			ids:  []string{"certificate-expired"},
			code: ErrCertVerifyFailed, flags: FlagExpired, alert: 45},
		{name: "expired and untrusted, dates checked",
			in:   Input{Certs: certs(expired, base.inter), ServerName: sni, CA: certs(other), Device: Device{CheckDates: true}},
			ids:  []string{"certificate-expired", "chain-untrusted"},
			code: ErrCertVerifyFailed, flags: FlagExpired | FlagNotTrusted, alert: 45},
		{name: "not yet valid, dates checked",
			in:   Input{Certs: certs(future, base.inter), ServerName: sni, CA: certs(base.root), Device: Device{CheckDates: true}},
			ids:  []string{"certificate-not-yet-valid"},
			code: ErrCertVerifyFailed, flags: FlagFuture, alert: 46},
		{name: "device clock at 1970, dates checked",
			in: Input{Certs: certs(base.leaf, base.inter), ServerName: sni, CA: certs(base.root),
				DeviceClock: time.Unix(5, 0), Device: Device{CheckDates: true}},
			ids:  []string{"certificate-not-yet-valid"},
			code: ErrCertVerifyFailed, flags: FlagFuture, alert: 46},
		{name: "SAN mismatch",
			in:   Input{Certs: certs(base.leaf, base.inter), ServerName: "api.example.com", CA: certs(base.root)},
			ids:  []string{"hostname-mismatch"},
			code: ErrCertVerifyFailed, flags: FlagCNMismatch, alert: 42},
		{name: "IP SAN, mbedTLS 3.6 matches it",
			in:  Input{Certs: certs(ipLeaf, base.inter), ServerName: "192.168.1.10", CA: certs(base.root)},
			ids: []string{"missing-sni"}},
		{name: "IP SAN, mbedTLS 2.28 ignores it",
			in:   Input{Certs: certs(ipLeaf, base.inter), ServerName: "192.168.1.10", CA: certs(base.root), Device: Device{MbedTLS: Version{2, 28}}},
			ids:  []string{"hostname-mismatch", "missing-sni"},
			code: ErrCertVerifyFailed, flags: FlagCNMismatch, alert: 42},
		{name: "no SNI, connected by IP",
			in:  Input{Certs: certs(base.leaf, base.inter), ServerIP: netip.MustParseAddr("10.0.0.5"), CA: certs(base.root)},
			ids: []string{"hostname-mismatch", "missing-sni"}},
		{name: "RSA-1024 leaf",
			in:   Input{Certs: certs(rsa1024, base.inter), ServerName: sni, CA: certs(base.root)},
			ids:  []string{"weak-certificate"},
			code: ErrCertVerifyFailed, flags: FlagBadKey, alert: 43},
		{name: "SHA-1 signed leaf",
			in:   Input{Certs: certs(sha1Leaf, base.inter), ServerName: sni, CA: certs(base.root)},
			ids:  []string{"weak-certificate"},
			code: ErrCertVerifyFailed, flags: FlagBadMD, alert: 46},
		{name: "SHA-1 signed leaf on top, bundle ignores BAD_MD",
			in:  Input{Certs: certs(sha1Leaf), ServerName: sni, BundleExtra: certs(base.inter)},
			ids: []string{"weak-certificate"}},
		{name: "extendedKeyUsage without serverAuth",
			in:   Input{Certs: certs(clientOnly, base.inter), ServerName: sni, CA: certs(base.root)},
			ids:  []string{"weak-certificate"},
			code: ErrBadCertificate, flags: FlagExtKeyUsage, alert: 43},
		{name: "self-signed leaf, bundle",
			in:   Input{Certs: certs(selfLeaf), ServerName: sni},
			ids:  []string{"self-signed"},
			code: ErrX509Fatal, flags: FlagsFatal, alert: 49},
		{name: "self-signed leaf reached by IP, bundle: name alert wins",
			in:   Input{Certs: certs(selfLeaf), ServerName: "192.168.4.1"},
			ids:  []string{"hostname-mismatch", "missing-sni", "self-signed"},
			code: ErrCertVerifyFailed, flags: FlagNotTrusted | FlagCNMismatch, alert: 42},
		{name: "self-signed leaf pinned in the CA file",
			in:  Input{Certs: certs(selfLeaf), ServerName: sni, CA: certs(selfLeaf)},
			ids: []string{"self-signed"}},
		{name: "self-signed leaf, other CA file",
			in:   Input{Certs: certs(selfLeaf), ServerName: sni, CA: certs(base.root)},
			ids:  []string{"self-signed"},
			code: ErrCertVerifyFailed, flags: FlagNotTrusted, alert: 48},
		{name: "cross-signed root at the top, bundle",
			in:   Input{Certs: certs(crossLeaf, crossInter, cross), ServerName: sni, BundleExtra: certs(newRoot)},
			ids:  []string{"chain-untrusted"},
			code: ErrX509Fatal, flags: FlagsFatal, alert: 49, reason: "issuer of certificate #2"},
		{name: "cross-signed root at the top, IDF v6 cross-signed verify",
			in: Input{Certs: certs(crossLeaf, crossInter, cross), ServerName: sni, BundleExtra: certs(newRoot),
				Device: Device{CrossSignedVerify: true}},
			ids: nil},
		{name: "intermediates out of order, bundle",
			in:   Input{Certs: certs(orderLeaf, i2, i1), ServerName: sni, BundleExtra: certs(base.root)},
			ids:  []string{"chain-untrusted"},
			code: ErrX509Fatal, flags: FlagsFatal, alert: 49},
		{name: "intermediates out of order, CA file has the root",
			in:   Input{Certs: certs(orderLeaf, i2, i1), ServerName: sni, CA: certs(base.root)},
			ids:  []string{"chain-untrusted"},
			code: ErrCertVerifyFailed, flags: FlagNotTrusted, alert: 48},
		{name: "8 intermediates, CA file has the root",
			in:  Input{Certs: certs(deep8...), ServerName: sni, CA: certs(base.root)},
			ids: nil},
		{name: "8 intermediates and the root sent, bundle: too long",
			in:   Input{Certs: append(certs(deep8...), base.root.cert), ServerName: sni, BundleExtra: certs(base.root)},
			ids:  []string{"weak-certificate"},
			code: ErrX509Fatal, flags: FlagsFatal, alert: 49, reason: "more than 8 intermediate"},
		{name: "10 intermediates",
			in:   Input{Certs: certs(deep10...), ServerName: sni, CA: certs(base.root)},
			ids:  []string{"weak-certificate"},
			code: ErrX509Fatal, flags: FlagsFatal, alert: 49},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Time = capT
			r := Analyze(tc.in)
			if diff := cmp.Diff(tc.ids, ids(r)); diff != "" {
				for _, p := range r.Problems {
					t.Logf("%s [%s] %s: %s", p.ID, p.Severity, p.Title, p.Explanation)
				}
				t.Errorf("problem ids (-want +got):\n%s", diff)
			}
			got := [3]int{r.Device.Code, int(r.Device.Flags), int(r.Device.Alert)}
			want := [3]int{tc.code, int(tc.flags), int(tc.alert)}
			if got != want {
				t.Errorf("device (code, flags, alert) = (-0x%04X, %#x, %d), want (-0x%04X, %#x, %d); reason: %s",
					-got[0], got[1], got[2], -want[0], want[1], want[2], r.Device.Reason)
			}
			if tc.reason != "" && !strings.Contains(r.Device.Reason, tc.reason) {
				t.Errorf("reason %q does not contain %q", r.Device.Reason, tc.reason)
			}
			if r.Device.Code != 0 && PredictAlert(r.Device.Flags) != r.Device.Alert {
				t.Errorf("alert %d does not follow from flags %#x", r.Device.Alert, r.Device.Flags)
			}
			for _, p := range r.Problems {
				if p.Title == "" || p.Explanation == "" || p.Fix == "" {
					t.Errorf("%s: empty title/explanation/fix: %+v", p.ID, p)
				}
			}
			if len(r.DeviceView.Elements) == 0 || r.DeviceView.OK != (r.Device.Code == 0) {
				t.Errorf("device view %+v inconsistent with code %d", r.DeviceView, r.Device.Code)
			}
		})
	}
}
