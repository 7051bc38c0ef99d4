package decode

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/cryptobyte"
)

// The fingerprints are built byte by byte for speed; these are the plain
// definitions (formatted pieces, sorted strings, joined), kept as the
// oracle they must agree with.

func refJA3(ch *ClientHello) string {
	ecpf := make([]string, 0, len(ch.ECPointFormats))
	for _, f := range ch.ECPointFormats {
		ecpf = append(ecpf, fmt.Sprint(f))
	}
	return strings.Join([]string{fmt.Sprint(ch.Version), refDec(ch.CipherSuites), refDec(ch.Extensions),
		refDec(ch.SupportedGroups), strings.Join(ecpf, "-")}, ",")
}

func refJA3S(sh *ServerHello) string {
	return fmt.Sprintf("%d,%d,%s", sh.Version, sh.CipherSuite, refDec(sh.Extensions))
}

func refDec(vs []uint16) string {
	var out []string
	for _, v := range vs {
		if !IsGREASE(v) {
			out = append(out, fmt.Sprint(v))
		}
	}
	return strings.Join(out, "-")
}

func refHex(vs []uint16, skip func(uint16) bool) []string {
	out := []string{}
	for _, v := range vs {
		if !IsGREASE(v) && (skip == nil || !skip(v)) {
			out = append(out, fmt.Sprintf("%04x", v))
		}
	}
	return out
}

func refHash(s string, empty bool) string {
	if empty {
		return "000000000000"
	}
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:12]
}

func refALPN(alpn []string) string {
	if len(alpn) == 0 || alpn[0] == "" {
		return "00"
	}
	a := alpn[0]
	if !isAlnum(a[0]) || !isAlnum(a[len(a)-1]) {
		h := hex.EncodeToString([]byte(a))
		return string([]byte{h[0], h[len(h)-1]})
	}
	return string([]byte{a[0], a[len(a)-1]})
}

func refJA4(ch *ClientHello, sorted, hashed bool) string {
	ciphers := refHex(ch.CipherSuites, nil)
	var exts []string
	if sorted {
		exts = refHex(ch.Extensions, func(v uint16) bool { return v == ExtServerName || v == ExtALPN })
		slices.Sort(ciphers)
		slices.Sort(exts)
	} else {
		exts = refHex(ch.Extensions, nil)
	}
	nExt := len(refHex(ch.Extensions, nil))
	sni := 'i'
	if slices.Contains(ch.Extensions, ExtServerName) {
		sni = 'd'
	}
	prefix := fmt.Sprintf("t%s%c%02d%02d%s", ja4Version(ch.Version, ch.SupportedVersions), sni,
		min(len(ciphers), 99), min(nExt, 99), refALPN(ch.ALPN))
	c, e := strings.Join(ciphers, ","), strings.Join(exts, ",")
	if sigs := refHex(ch.SignatureAlgorithms, nil); len(sigs) > 0 {
		e += "_" + strings.Join(sigs, ",")
	}
	if !hashed {
		return prefix + "_" + c + "_" + e
	}
	noExt := len(refHex(ch.Extensions, func(v uint16) bool { return v == ExtServerName || v == ExtALPN })) == 0
	return prefix + "_" + refHash(c, len(ciphers) == 0) + "_" + refHash(e, noExt)
}

func refJA4S(sh *ServerHello, hashed bool) string {
	var versions []uint16
	if sh.SelectedVersion != 0 {
		versions = []uint16{sh.SelectedVersion}
	}
	var alpn []string
	if sh.ALPN != "" {
		alpn = []string{sh.ALPN}
	}
	exts := refHex(sh.Extensions, nil)
	e := strings.Join(exts, ",")
	if hashed {
		e = refHash(e, len(exts) == 0)
	}
	return fmt.Sprintf("t%s%02d%s_%04x_%s", ja4Version(sh.Version, versions), min(len(exts), 99), refALPN(alpn), sh.CipherSuite, e)
}

// checkFingerprints compares every fingerprint form with the oracle.
func checkFingerprints(t *testing.T, ch *ClientHello, sh *ServerHello) {
	t.Helper()
	if ch != nil {
		raw, hash := JA3(ch)
		if want := refJA3(ch); raw != want || hash != fmt.Sprintf("%x", md5.Sum([]byte(want))) {
			t.Fatalf("JA3 %s %s, want %s", raw, hash, want)
		}
		for _, f := range []struct {
			got            string
			sorted, hashed bool
		}{{JA4(ch, 't'), true, true}, {JA4R(ch, 't'), true, false}, {JA4O(ch, 't'), false, true}, {JA4RO(ch, 't'), false, false}} {
			if want := refJA4(ch, f.sorted, f.hashed); f.got != want {
				t.Fatalf("JA4 (sorted %v, hashed %v) %s, want %s", f.sorted, f.hashed, f.got, want)
			}
		}
	}
	if sh != nil {
		raw, hash := JA3S(sh)
		if want := refJA3S(sh); raw != want || hash != fmt.Sprintf("%x", md5.Sum([]byte(want))) {
			t.Fatalf("JA3S %s %s, want %s", raw, hash, want)
		}
		if got, want := JA4S(sh, 't'), refJA4S(sh, true); got != want {
			t.Fatalf("JA4S %s, want %s", got, want)
		}
		if got, want := JA4SR(sh, 't'), refJA4S(sh, false); got != want {
			t.Fatalf("JA4S_r %s, want %s", got, want)
		}
	}
}

// TestFingerprintsOracle: every hello of the ground-truth captures.
func TestFingerprintsOracle(t *testing.T) {
	paths, _ := filepath.Glob("../testdata/pcaps/*.pcap*")
	n := 0
	for _, p := range paths {
		for _, h := range readHellos(t, p) {
			checkFingerprints(t, h.ch, h.sh)
			n++
		}
	}
	checkFingerprints(t, specHello(), nil)
	if n < 50 {
		t.Fatalf("only %d hellos in %d captures", n, len(paths))
	}
}

func FuzzFingerprints(f *testing.F) {
	var sh cryptobyte.Builder
	sh.AddUint16(VersionTLS12)
	sh.AddBytes(make([]byte, 32))
	sh.AddUint8(0)
	sh.AddUint16(0xc02f)
	sh.AddUint8(0)
	sh.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
		ext(b, ExtALPN, func(b *cryptobyte.Builder) {
			b.AddUint16LengthPrefixed(func(b *cryptobyte.Builder) {
				b.AddUint8LengthPrefixed(func(b *cryptobyte.Builder) { b.AddBytes([]byte("h2")) })
			})
		})
		ext(b, ExtRenegotiationInfo, func(b *cryptobyte.Builder) { b.AddUint8(0) })
	})
	f.Add(espClientHello(), sh.BytesOrPanic())
	f.Fuzz(func(t *testing.T, chBody, shBody []byte) {
		ch, _ := ParseClientHello(chBody)
		sh, _ := ParseServerHello(shBody)
		checkFingerprints(t, ch, sh)
	})
}
