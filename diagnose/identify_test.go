package diagnose_test

import (
	"bytes"
	"encoding/json"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"tlspcap/capture"
	"tlspcap/diagnose"
	"tlspcap/internal/pcapbuild"
)

// groundTruthClient is what a ground-truth sidecar says about the client
// program of its capture.
type groundTruthClient struct {
	name   string
	stream int
	// major is the mbedTLS major version of the client program (2 or 3),
	// 0 for a client that is not mbedTLS (openssl, Go, Chromium).
	major int
	// deviceServer: the scenario takes the device to be the TLS server.
	deviceServer bool
}

var mbedtlsVersion = regexp.MustCompile(`\(mbedTLS ([23])\.\d+\.\d+`)

func groundTruthClients(t *testing.T) []groundTruthClient {
	t.Helper()
	files, _ := filepath.Glob("../testdata/pcaps/*.expect.json")
	if len(files) == 0 {
		t.Skip("no testdata/pcaps/*.expect.json")
	}
	var out []groundTruthClient
	for _, f := range files {
		var sc struct {
			Programs []struct{ Role, Cmd string }
			Args     []string
			Expect   struct{ Stream int }
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &sc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		g := groundTruthClient{name: strings.TrimSuffix(filepath.Base(f), ".expect.json"), stream: sc.Expect.Stream}
		if g.stream < 0 {
			continue // DNS scenarios: no TLS client
		}
		for _, p := range sc.Programs {
			if p.Role != "client" {
				continue
			}
			if strings.HasPrefix(p.Cmd, "ssl_client2 ") {
				m := mbedtlsVersion.FindStringSubmatch(p.Cmd)
				if m == nil {
					t.Fatalf("%s: ssl_client2 without its mbedTLS version: %q", f, p.Cmd)
				}
				g.major = int(m[1][0] - '0')
			}
		}
		for i, a := range sc.Args {
			if a == "--device" && i+1 < len(sc.Args) && sc.Args[i+1] == "server" {
				g.deviceServer = true
			}
		}
		out = append(out, g)
	}
	return out
}

func analyseFile(t *testing.T, path string, o diagnose.Options) *diagnose.Report {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return analyse(t, b, o)
}

func pcapOf(name string) string {
	p := filepath.Join("..", "testdata", "pcaps", name+".pcapng")
	if _, err := os.Stat(p); err != nil {
		return filepath.Join("..", "testdata", "pcaps", name+".pcap")
	}
	return p
}

// TestIdentifyGroundTruth: over every ground-truth capture, each mbedTLS
// client (the sidecar records the ssl_client2 build) gets a label with its
// mbedTLS major version and the profile of that line; openssl, Go and
// Chromium clients are not labelled mbedTLS and keep the default profile.
func TestIdentifyGroundTruth(t *testing.T) {
	labelMajor := regexp.MustCompile(`mbedTLS ([23])\.x`)
	counts := map[int]int{}
	for _, g := range groundTruthClients(t) {
		rep := analyseFile(t, pcapOf(g.name), diagnose.Options{})
		var c *diagnose.Connection
		for _, x := range rep.Connections {
			if x.Stream == g.stream {
				c = x
			}
		}
		if c == nil {
			t.Errorf("%s: no stream %d", g.name, g.stream)
			continue
		}
		wantProfile, wantReason := "esp32-idf5", "the default; give --profile to choose another"
		switch {
		case g.deviceServer:
			// The device is the server: a ClientHello says nothing about it.
		case c.JA3 == "":
			// No ClientHello (connection refused, closed before it): nothing to guess from.
		case g.major == 2:
			wantProfile, wantReason = "esp32-idf4", "guessed from the ClientHello shape of mbedTLS 2.28; give --profile to override"
		case g.major == 3:
			wantReason = "guessed from the ClientHello shape of mbedTLS 3.x offering TLS 1.2; give --profile to override"
			if strings.Contains(c.ClientLabel, "offering TLS 1.3 only") {
				wantReason = "guessed from the ClientHello shape of mbedTLS 3.x offering TLS 1.3; give --profile to override"
			} else if strings.Contains(c.ClientLabel, "offering TLS 1.2 and 1.3") {
				wantReason = "guessed from the ClientHello shape of mbedTLS 3.x offering TLS 1.2 and 1.3; give --profile to override"
			}
		}
		gotMajor := 0
		if m := labelMajor.FindStringSubmatch(c.ClientLabel); m != nil {
			gotMajor = int(m[1][0] - '0')
		}
		if c.JA3 != "" && gotMajor != g.major {
			t.Errorf("%s: client label %q: mbedTLS major %d, the client program was %d (0: not mbedTLS)", g.name, c.ClientLabel, gotMajor, g.major)
		}
		if c.Profile != wantProfile || c.ProfileReason != wantReason {
			t.Errorf("%s: profile %s (%s), want %s (%s)", g.name, c.Profile, c.ProfileReason, wantProfile, wantReason)
		}
		if c.JA3 != "" {
			counts[g.major]++
		}
	}
	if counts[2] == 0 || counts[3] == 0 || counts[0] == 0 {
		t.Errorf("ground truth lacks a kind of client: %v (mbedTLS 2, 3, other)", counts)
	}
	t.Logf("ClientHellos identified: %d mbedTLS 2.28, %d mbedTLS 3.6, %d other clients", counts[2], counts[3], counts[0])
}

// TestProfileGiven: --profile wins over the guess, --in-content-len applies
// to the guessed profile too, and the report's header carries the reason.
func TestProfileGiven(t *testing.T) {
	path := pcapOf("big-chain-4096-mbedtls228")
	for _, c := range []struct {
		o                  diagnose.Options
		profile, reason    string
		code, reportReason string
	}{
		{diagnose.Options{InContentLen: 4096}, "esp32-idf4", "guessed from the ClientHello shape of mbedTLS 2.28; give --profile to override", "-0x7100",
			"guessed from the ClientHello shape of mbedTLS 2.28; give --profile to override"},
		// ESP8266_RTOS_SDK's mbedTLS version is not known: 2.16's code first.
		{diagnose.Options{InContentLen: 4096, Profile: "esp8266-rtos"}, "esp8266-rtos", "given with --profile", "-0x7200", "given with --profile"},
		{diagnose.Options{InContentLen: 4096, DeviceRole: "server"}, "esp32-idf5", "the default; give --profile to choose another", "",
			"the default; give --profile to choose another"},
	} {
		rep := analyseFile(t, path, c.o)
		conn := rep.Connections[0]
		if conn.Profile != c.profile || conn.ProfileReason != c.reason {
			t.Errorf("%+v: profile %s (%s), want %s (%s)", c.o, conn.Profile, conn.ProfileReason, c.profile, c.reason)
		}
		if rep.Profile != c.profile || rep.ProfileReason != c.reportReason {
			t.Errorf("%+v: report profile %s (%s), want %s (%s)", c.o, rep.Profile, rep.ProfileReason, c.profile, c.reportReason)
		}
		if c.code == "" {
			continue
		}
		f := firstError(conn.Findings)
		if f == nil || f.ID != "record-exceeds-device-buffer" || len(f.DeviceErrors) == 0 || f.DeviceErrors[0].Code != c.code {
			t.Errorf("%+v: root cause %+v, want record-exceeds-device-buffer %s", c.o, f, c.code)
		}
	}
}

// clientHelloOf returns the first bytes the client sent in a capture: the
// ClientHello record of a real program.
func clientHelloOf(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(pcapOf(name))
	if err != nil {
		t.Fatal(err)
	}
	h := &firstPayload{}
	if _, err := capture.Read(bytes.NewReader(b), name, h, capture.Options{}); err != nil {
		t.Fatal(err)
	}
	if h.data == nil {
		t.Fatalf("%s: no client payload", name)
	}
	return h.data
}

type firstPayload struct{ data []byte }

func (h *firstPayload) Conn(*capture.Conn) capture.ConnHandler { return h }
func (h *firstPayload) DNS(*capture.DNSMessage)                {}
func (h *firstPayload) Problem(capture.Problem)                {}
func (h *firstPayload) TCP(capture.TCPEvent)                   {}
func (h *firstPayload) End(capture.EndReason)                  {}
func (h *firstPayload) Payload(p capture.Payload) {
	if h.data == nil && p.Dir == capture.FromClient {
		h.data = bytes.Clone(p.Data)
	}
}

// mixedCapture: a laptop (Go crypto/tls ClientHello, non-Espressif MAC) on
// stream 0, an Espressif device sending mbedTLS 2.28's ClientHello on stream
// 1, another laptop connection on stream 2. Every server resets after the
// ClientHello, so every connection fails.
func mixedCapture(t *testing.T) []byte {
	laptopMAC := net.HardwareAddr{0x02, 0x11, 0x22, 0x33, 0x44, 0x55}
	goHello := exchange(t, pcapbuild.NewChain("device.test", 0), 0x0303, true)[0].Data
	espHello := clientHelloOf(t, "healthy-tls12-mbedtls228")
	c := pcapbuild.New()
	for _, x := range []struct {
		client string
		mac    net.HardwareAddr
		hello  []byte
	}{
		{"192.168.4.50:40000", laptopMAC, goHello},
		{"192.168.4.23:51000", nil, espHello},
		{"192.168.4.50:40001", laptopMAC, goHello},
	} {
		tc := c.Conn(x.client, server)
		if x.mac != nil {
			tc.ClientMAC = x.mac
		}
		tc.Handshake()
		tc.Send(pcapbuild.C2S, x.hello)
		tc.RST(pcapbuild.S2C)
	}
	return c.Bytes()
}

// TestEspressifFirst: without --device the Espressif client is listed
// first; --device (its IP or its MAC) keeps only its connections; profiles
// differ per connection and the report says so.
func TestEspressifFirst(t *testing.T) {
	pcap := mixedCapture(t)
	type row struct {
		stream         int
		profile, label string
	}
	esp := row{1, "esp32-idf4", "Espressif device 24:0a:c4:01:02:03, mbedTLS 2.x (as in ESP-IDF v4.4, ESP8266_RTOS_SDK) (a guess)"}
	laptop0 := row{0, "esp32-idf5", "unknown"}
	laptop2 := row{2, "esp32-idf5", "unknown"}
	espMAC, _ := net.ParseMAC("24:0a:c4:01:02:03")
	for _, c := range []struct {
		name   string
		o      diagnose.Options
		want   []row
		reason string
	}{
		{"no --device", diagnose.Options{}, []row{esp, laptop0, laptop2},
			"profiles differ per connection: each connection says which it was judged with and why (otherwise the default; give --profile to choose another)"},
		{"--device IP", diagnose.Options{Device: netip.MustParseAddr("192.168.4.23")}, []row{esp},
			"guessed from the ClientHello shape of mbedTLS 2.28; give --profile to override"},
		{"--device MAC", diagnose.Options{DeviceMAC: espMAC}, []row{esp},
			"guessed from the ClientHello shape of mbedTLS 2.28; give --profile to override"},
		{"--device laptop IP", diagnose.Options{Device: netip.MustParseAddr("192.168.4.50")}, []row{laptop0, laptop2},
			"the default; give --profile to choose another"},
	} {
		rep := analyse(t, pcap, c.o)
		var got []row
		for _, x := range rep.Connections {
			got = append(got, row{x.Stream, x.Profile, x.ClientLabel})
			if !x.Failed() {
				t.Errorf("%s: stream %d did not fail", c.name, x.Stream)
			}
		}
		if len(got) != len(c.want) {
			t.Errorf("%s: connections %+v, want %+v", c.name, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: connection %d = %+v, want %+v", c.name, i, got[i], c.want[i])
			}
		}
		if rep.ProfileReason != c.reason {
			t.Errorf("%s: report profile reason %q, want %q", c.name, rep.ProfileReason, c.reason)
		}
	}
}
