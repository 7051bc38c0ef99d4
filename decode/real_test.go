package decode

import (
	"math/rand/v2"
	"strings"
	"testing"

	"tlspcap/capture"
)

func TestRealHandshakeShapes(t *testing.T) {
	tr := realTraces(t)
	for _, tc := range tlsCases {
		evs, _ := segmentTrace(tr[tc.name])
		t.Logf("%s:\n%s\n%s", tc.name, shape(evs), describeAll(evs))
	}
}

func TestRealChunkings(t *testing.T) {
	tr := realTraces(t)
	for _, tc := range tlsCases {
		t.Run(tc.name, func(t *testing.T) {
			trace := tr[tc.name]
			want, _ := segmentTrace(trace)
			got, _ := feedTrace(trace, cutWhole, true)
			eventsEqual(t, "joined", want, got)
			got, _ = feedTrace(trace, cutBytes, true)
			eventsEqual(t, "byte at a time", want, got)
			r := rand.New(rand.NewPCG(1, 2))
			for i := range 20 {
				got, _ = feedTrace(trace, cutRandom(r), true)
				eventsEqual(t, "random split "+string(rune('a'+i)), want, got)
			}
			checkRecords(t, trace, want)
		})
	}
}

// checkRecords compares the records with a naive split of each direction.
func checkRecords(t *testing.T, trace []segment, evs []Event) {
	t.Helper()
	for dir := capture.FromClient; dir <= capture.FromServer; dir++ {
		var all []byte
		for _, s := range trace {
			if s.dir == dir {
				all = append(all, s.data...)
			}
		}
		types, lengths := naiveRecords(all)
		var off int64
		i := 0
		for _, ev := range evs {
			r, ok := ev.(*Record)
			if !ok || r.Dir != dir {
				continue
			}
			if i >= len(types) {
				t.Fatalf("%v: more records than the naive split (%d)", dir, len(types))
			}
			if r.ContentType != types[i] || r.Length != lengths[i] || r.Received != r.Length || r.Truncated || r.Offset != off {
				t.Errorf("%v record %d: got %s, want type %d len %d off %d", dir, i, describe(r), types[i], lengths[i], off)
			}
			if r.ContentType == ContentApplicationData && !r.Encrypted {
				t.Errorf("application data not marked encrypted: %s", describe(r))
			}
			off += 5 + int64(r.Length)
			i++
		}
		if i != len(types) {
			t.Errorf("%v: %d records, naive split has %d", dir, i, len(types))
		}
	}
}

func TestRealHandshakeContent(t *testing.T) {
	tr := realTraces(t)
	want := map[string]string{
		"tls12-ecdhe-rsa-aes128-gcm": "C:Handshake C:ClientHello S:Handshake S:ServerHello S:Handshake S:Certificate S:Handshake S:ServerKeyExchange S:Handshake S:ServerHelloDone C:Handshake C:ClientKeyExchange C:ChangeCipherSpec C:CCS C:Handshake(enc) C:Finished(enc) S:ChangeCipherSpec S:CCS S:Handshake(enc) S:Finished(enc) C:ApplicationData(enc) S:ApplicationData(enc) C:Alert(enc) C:alert(enc) S:Alert(enc) S:alert(enc)",
		"tls12-ecdhe-rsa-aes128-cbc": "C:Handshake C:ClientHello S:Handshake S:ServerHello S:Handshake S:Certificate S:Handshake S:ServerKeyExchange S:Handshake S:ServerHelloDone C:Handshake C:ClientKeyExchange C:ChangeCipherSpec C:CCS C:Handshake(enc) C:Finished(enc) S:ChangeCipherSpec S:CCS S:Handshake(enc) S:Finished(enc) C:ApplicationData(enc) S:ApplicationData(enc) C:Alert(enc) C:alert(enc) S:Alert(enc) S:alert(enc)",
		"tls13":                      "C:Handshake C:ClientHello S:Handshake S:ServerHello S:ChangeCipherSpec S:CCS S:ApplicationData(enc) S:ApplicationData(enc) S:ApplicationData(enc) S:ApplicationData(enc) C:ChangeCipherSpec C:CCS C:ApplicationData(enc) C:ApplicationData(enc) S:ApplicationData(enc) C:ApplicationData(enc) S:ApplicationData(enc)",
		"tls12-client-cert":          "C:Handshake C:ClientHello S:Handshake S:ServerHello S:Handshake S:Certificate S:Handshake S:ServerKeyExchange S:Handshake S:CertificateRequest S:Handshake S:ServerHelloDone C:Handshake C:Certificate C:Handshake C:ClientKeyExchange C:Handshake C:CertificateVerify C:ChangeCipherSpec C:CCS C:Handshake(enc) C:Finished(enc) S:ChangeCipherSpec S:CCS S:Handshake(enc) S:Finished(enc) C:ApplicationData(enc) S:ApplicationData(enc) C:Alert(enc) C:alert(enc) S:Alert(enc) S:alert(enc)",
		"tls13-client-cert":          "C:Handshake C:ClientHello S:Handshake S:ServerHello S:ChangeCipherSpec S:CCS S:ApplicationData(enc) S:ApplicationData(enc) S:ApplicationData(enc) S:ApplicationData(enc) S:ApplicationData(enc) C:ChangeCipherSpec C:CCS C:ApplicationData(enc) C:ApplicationData(enc) C:ApplicationData(enc) C:ApplicationData(enc) S:ApplicationData(enc) C:ApplicationData(enc) S:ApplicationData(enc)",
		"tls13-hrr":                  "C:Handshake C:ClientHello S:Handshake S:ServerHello(HRR) S:ChangeCipherSpec S:CCS C:ChangeCipherSpec C:CCS C:Handshake C:ClientHello S:Handshake S:ServerHello S:ApplicationData(enc) S:ApplicationData(enc) S:ApplicationData(enc) S:ApplicationData(enc) C:ApplicationData(enc) C:ApplicationData(enc) S:ApplicationData(enc) C:ApplicationData(enc) S:ApplicationData(enc)",
		"tls12-big-chain":            "C:Handshake C:ClientHello S:Handshake S:ServerHello S:Handshake S:Handshake S:Certificate S:Handshake S:ServerKeyExchange S:Handshake S:ServerHelloDone C:Handshake C:ClientKeyExchange C:ChangeCipherSpec C:CCS C:Handshake(enc) C:Finished(enc) S:ChangeCipherSpec S:CCS S:Handshake(enc) S:Finished(enc) C:ApplicationData(enc) S:ApplicationData(enc) C:Alert(enc) C:alert(enc) S:Alert(enc) S:alert(enc)",
		"tls12-bad-cert":             "C:Handshake C:ClientHello S:Handshake S:ServerHello S:Handshake S:Certificate S:Handshake S:ServerKeyExchange S:Handshake S:ServerHelloDone C:Alert C:alert(bad_certificate)",
		"tls13-bad-cert":             "C:Handshake C:ClientHello S:Handshake S:ServerHello S:ChangeCipherSpec S:CCS S:ApplicationData(enc) S:ApplicationData(enc) S:ApplicationData(enc) S:ApplicationData(enc) C:ChangeCipherSpec C:CCS C:ApplicationData(enc)",
	}
	for _, tc := range tlsCases {
		t.Run(tc.name, func(t *testing.T) {
			evs, c := segmentTrace(tr[tc.name])
			// Per direction: how the two peers' writes interleave in a
			// live trace is timing (a TLS 1.3 client may write its CCS
			// before the server's CCS after a HelloRetryRequest is seen).
			if got := shape(evs); shapeByDir(got) != shapeByDir(want[tc.name]) {
				t.Errorf("shape\n got: %s\nwant: %s", got, want[tc.name])
			}
			if c.Swapped() {
				t.Error("Swapped() = true for a capture with the right client")
			}
			var hellos []*ServerHello
			for _, ev := range evs {
				h, ok := ev.(*Handshake)
				if !ok || h.Encrypted {
					continue
				}
				if h.ParseErr != nil {
					t.Errorf("%s: %v", describe(h), h.ParseErr)
				}
				switch b := h.Body.(type) {
				case *ClientHello:
					if b.ServerName != "device.example" || len(b.CipherSuites) == 0 || len(b.SupportedVersions) == 0 ||
						len(b.SupportedGroups) == 0 || len(b.SignatureAlgorithms) == 0 || len(b.Random) != 32 {
						t.Errorf("ClientHello: %+v", b)
					}
				case *ServerHello:
					hellos = append(hellos, b)
				case *Certificate:
					wantEntries, wantRecords := 1, 1
					if tc.name == "tls12-big-chain" {
						wantEntries, wantRecords = 24, 2
					}
					if len(b.Entries) != wantEntries || b.Entries[0].Cert == nil || h.Records != wantRecords {
						t.Errorf("Certificate: %+v", b)
					} else if cn := b.Entries[0].Cert.Subject.CommonName; cn != "device.example" && cn != "esp32-client" {
						t.Errorf("Certificate CN %q", cn)
					}
				case *ServerKeyExchange:
					if b.CurveType != 3 || GroupName(b.NamedGroup) != "x25519" {
						t.Errorf("ServerKeyExchange: %+v (%s)", b, GroupName(b.NamedGroup))
					}
				case *CertificateRequest:
					if len(b.SignatureAlgorithms) == 0 || len(b.CertificateTypes) == 0 {
						t.Errorf("CertificateRequest: %+v", b)
					}
				}
			}
			last := hellos[len(hellos)-1]
			switch tc.name {
			case "tls12-ecdhe-rsa-aes128-gcm":
				if CipherSuiteName(last.CipherSuite) != "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" || last.SelectedVersion != 0 || !last.ExtendedMasterSecret {
					t.Errorf("ServerHello %+v", last)
				}
			case "tls12-ecdhe-rsa-aes128-cbc":
				if CipherSuiteName(last.CipherSuite) != "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA" {
					t.Errorf("ServerHello %+v", last)
				}
			case "tls13-hrr":
				if len(hellos) != 2 || !hellos[0].HelloRetryRequest || hellos[0].KeyShareGroup != 24 ||
					hellos[1].HelloRetryRequest || hellos[1].KeyShareGroup != 24 || hellos[1].SelectedVersion != VersionTLS13 {
					t.Errorf("HRR then ServerHello: %+v %+v", hellos[0], hellos[len(hellos)-1])
				}
			case "tls13", "tls13-client-cert", "tls13-bad-cert":
				if last.SelectedVersion != VersionTLS13 || VersionName(last.SelectedVersion) != "TLS 1.3" ||
					!strings.HasPrefix(CipherSuiteName(last.CipherSuite), "TLS_AES_") && CipherSuiteName(last.CipherSuite) != "TLS_CHACHA20_POLY1305_SHA256" {
					t.Errorf("ServerHello %+v", last)
				}
			}
		})
	}
}

// TestSwappedDirections feeds a capture whose client guess is wrong.
func TestSwappedDirections(t *testing.T) {
	var trace []segment
	for _, s := range realTraces(t)["tls13"] {
		trace = append(trace, segment{s.dir.Reverse(), s.data})
	}
	evs, c := segmentTrace(trace)
	if !c.Swapped() {
		t.Error("Swapped() = false")
	}
	want := "S:Handshake S:ClientHello C:Handshake C:ServerHello C:ChangeCipherSpec C:CCS C:ApplicationData(enc) C:ApplicationData(enc) C:ApplicationData(enc) C:ApplicationData(enc) S:ChangeCipherSpec S:CCS S:ApplicationData(enc) S:ApplicationData(enc) C:ApplicationData(enc) S:ApplicationData(enc) C:ApplicationData(enc)"
	if got := shape(evs); got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

// shapeByDir regroups a shape's events by direction, keeping their order
// within each.
func shapeByDir(shape string) string {
	var c, s []string
	for _, f := range strings.Fields(shape) {
		if strings.HasPrefix(f, "C:") {
			c = append(c, f)
		} else {
			s = append(s, f)
		}
	}
	return strings.Join(c, " ") + " | " + strings.Join(s, " ")
}
