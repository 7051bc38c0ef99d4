package chain

import (
	"strings"
	"testing"
	"time"
)

// crossPKI is root A, root B, B cross-signed by A (same key as B), an
// intermediate under B and a leaf; rootAOld is A's certificate (same name
// and key) that expired before the capture. The verdicts below are those
// the real mbedTLS 2.28.3 and 3.6.6 clients gave on the same shapes
// (testdata/pcaps/cross-signed-*, chain-wrong-order-*).
type crossPKI struct {
	rootA, rootAOld, rootB, bByA, inter, leaf *kc
}

func newCrossPKI(t *testing.T) crossPKI {
	a := issue(t, spec{cn: "Cross Root A", ca: true}, nil)
	aOld := issue(t, spec{cn: "Cross Root A", ca: true, key: a.key,
		notBefore: time.Date(2011, 1, 1, 0, 0, 0, 0, time.UTC), notAfter: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)}, nil)
	b := issue(t, spec{cn: "Cross Root B", ca: true}, nil)
	bByA := issue(t, spec{cn: "Cross Root B", ca: true, key: b.key}, a)
	inter := issue(t, spec{cn: "Cross Intermediate CA", ca: true}, b)
	leaf := issue(t, spec{cn: "dev.example.com", dns: []string{"dev.example.com"}, aia: []string{"http://ca.example/xinter.crt"}}, inter)
	return crossPKI{a, aOld, b, bByA, inter, leaf}
}

func TestCrossSignedVerdicts(t *testing.T) {
	p := newCrossPKI(t)
	for _, tc := range []struct {
		name  string
		sent  []*kc
		ca    []*kc
		code  int
		alert uint8
		flags uint32
		top   string // the trusted anchor's subject CN when the chain verifies
	}{
		{"only A: through the cross-sign", []*kc{p.leaf, p.inter, p.bByA}, []*kc{p.rootA}, 0, 0, 0, "Cross Root A"},
		{"only B: the shorter path", []*kc{p.leaf, p.inter, p.bByA}, []*kc{p.rootB}, 0, 0, 0, "Cross Root B"},
		{"A expired", []*kc{p.leaf, p.inter, p.bByA}, []*kc{p.rootAOld}, ErrCertVerifyFailed, alertCertExpired, FlagExpired, ""},
		{"A expired and B", []*kc{p.leaf, p.inter, p.bByA}, []*kc{p.rootAOld, p.rootB}, 0, 0, 0, "Cross Root B"},
		{"wrong order, A", []*kc{p.leaf, p.bByA, p.inter}, []*kc{p.rootA}, ErrCertVerifyFailed, alertUnknownCA, FlagNotTrusted, ""},
		{"wrong order, B", []*kc{p.leaf, p.bByA, p.inter}, []*kc{p.rootB}, 0, 0, 0, "Cross Root B"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, v := range []Version{{2, 28}, {3, 6}} {
				in := Input{Certs: certs(tc.sent...), CA: certs(tc.ca...), ServerName: "dev.example.com", Time: capT}
				got := Verify(in, Device{MbedTLS: v, CheckDates: true})
				if got.Code != tc.code || got.Alert != tc.alert || got.Flags != tc.flags {
					t.Errorf("mbedTLS %s: code -0x%04X alert %d flags %v, want -0x%04X %d %v (%s)", v, -got.Code, got.Alert, FlagNames(got.Flags), -tc.code, tc.alert, FlagNames(tc.flags), got.Reason)
				}
				if tc.top != "" && !strings.Contains(got.Path[len(got.Path)-1].Subject, tc.top) {
					t.Errorf("mbedTLS %s: path ends at %s, want %s", v, got.Path[len(got.Path)-1].Subject, tc.top)
				}
			}
		})
	}
}

func TestCrossSignedExplained(t *testing.T) {
	p := newCrossPKI(t)
	r := Analyze(Input{Certs: certs(p.leaf, p.inter, p.bByA), CA: certs(p.rootAOld), Browser: certs(p.leaf, p.inter, p.rootB),
		ServerName: "dev.example.com", Time: capT})
	exp := problem(r, "certificate-expired")
	if exp == nil || exp.Cert != -1 || !strings.Contains(exp.Explanation, `certificate #2 "Cross Root B" is that CA's certificate cross-signed by "Cross Root A"`) ||
		!strings.Contains(exp.Fix, `the root "Cross Root B"`) {
		t.Fatalf("certificate-expired should explain the cross-signed path and name root B: %+v", exp)
	}
	d := problem(r, "chain-differs-from-browser")
	if d == nil || !strings.Contains(d.Title, "different intermediate or cross-signed path") ||
		!strings.Contains(d.Explanation, `"Cross Root B" as a self-signed root`) || !strings.Contains(d.Explanation, "the same CA key") {
		t.Fatalf("chain-differs-from-browser: %+v", d)
	}
	if !r.BrowserView.OK || !strings.Contains(r.BrowserView.Note, "Cross Root B") {
		t.Errorf("the browser's path ends at its trusted root B: %+v", r.BrowserView)
	}
}

func TestIndependentFlags(t *testing.T) {
	p := newPKI(t, spec{})
	other := issue(t, spec{cn: "Test Intermediate CA", ca: true}, p.root) // same name, other key
	for _, tc := range []struct {
		name string
		in   Input
		want uint32
	}{
		{"untrusted root only: depends on the CA", Input{Certs: certs(p.leaf, p.inter), ServerName: "dev.example.com"}, 0},
		{"leaf only", Input{Certs: certs(p.leaf), ServerName: "dev.example.com"}, 0},
		{"name mismatch", Input{Certs: certs(p.leaf, p.inter), ServerName: "other.example.com"}, FlagCNMismatch},
		{"no SNI: the name is not checked", Input{Certs: certs(p.leaf, p.inter)}, 0},
		{"wrong intermediate sent", Input{Certs: certs(p.leaf, other), ServerName: "dev.example.com"}, FlagNotTrusted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Time = capT
			if got := Analyze(tc.in).IndependentFlags; got != tc.want {
				t.Errorf("IndependentFlags = %v, want %v", FlagNames(got), FlagNames(tc.want))
			}
		})
	}
}
