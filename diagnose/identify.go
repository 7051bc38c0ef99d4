package diagnose

import (
	"bytes"
	"fmt"
	"iter"
	"net"
	"net/netip"
	"slices"
	"strings"

	"tlspcap/decode"
	"tlspcap/diagnose/device"
)

// helloShape is a TLS stack's ClientHello extension order, for telling an
// mbedTLS client from a phone or a laptop. Only the extensions every build of
// the stack sends are compared, in order; SNI, ALPN, max_fragment_length,
// session_ticket and padding come and go with the configuration.
type helloShape struct {
	order []uint16
	// stack names the library line the shape comes from ("mbedTLS 2.28"):
	// the report's "guessed from the ClientHello shape of ..." reads it.
	stack string
	label string
	// profile is the device profile a client of this shape most likely
	// runs, and profileWhy the fact the choice rests on.
	profile    string
	profileWhy string
	// source is where the shape was measured.
	source string
	// guess and evidence are the client label and the evidence sentence
	// for a match, formatted once (init).
	guess, evidence string
}

func init() {
	for i := range helloShapes {
		s := &helloShapes[i]
		s.guess = s.label + guessSuffix
		s.evidence = fmt.Sprintf("ClientHello extension order %v matches %s; profile %s: %s", s.order, s.source, s.profile, s.profileWhy)
	}
}

// shapeExtension: the extensions a shape is made of.
func shapeExtension(e uint16) bool {
	switch e {
	case 5, 10, 11, 13, 18, 22, 23, 43, 45, 51, 0xff01:
		return true
	}
	return false
}

// ESP-IDF releases per mbedTLS line: knowledge/esp-mbedtls.md §1 (VERIFIED
// from the esp-idf submodule history). Arduino-ESP32 and ESP8266_RTOS_SDK
// ClientHellos were not measured: a shape says nothing about them beyond the
// mbedTLS line.
const (
	whyIDF4 = "ESP-IDF v4.3.3–v4.4.8 ship mbedTLS 2.28 (v4.0–v4.4.0: 2.16, not measured); " +
		"an ESP8266_RTOS_SDK device (mbedTLS 2.x, ClientHello not measured) may send the same shape: give --profile esp8266-rtos for one"
	whyIDF5 = "ESP-IDF v5.0–v5.5 ship mbedTLS 3.x"
)

// helloShapes were measured from the ground-truth captures (testdata/pcaps,
// ssl_client2 built from Debian's mbedtls sources, testdata/gen/scenarios).
// ESP-IDF runs the same mbedTLS ClientHello code (ssl_tls12_client.c /
// ssl_tls13_client.c), so an ESP device of the same mbedTLS line is expected
// to send the same order: DERIVED, no capture of a real ESP device was read.
var helloShapes = []helloShape{
	{
		order: []uint16{13, 10, 11, 22, 23}, stack: "mbedTLS 2.28",
		label:   "mbedTLS 2.x (as in ESP-IDF v4.4, ESP8266_RTOS_SDK)",
		profile: "esp32-idf4", profileWhy: whyIDF4,
		source: "ssl_client2 2.28.3 (healthy-tls12-mbedtls228, big-chain-4096-mbedtls228, mfl-fragmented-mbedtls228)",
	},
	{
		order: []uint16{10, 13, 11, 22, 23}, stack: "mbedTLS 3.x offering TLS 1.2",
		label:   "mbedTLS 3.x offering TLS 1.2 only (the ESP-IDF v5 default)",
		profile: "esp32-idf5", profileWhy: whyIDF5 + " with TLS 1.3 off by default (CONFIG_MBEDTLS_SSL_PROTO_TLS1_3=n)",
		source: "ssl_client2 3.6.6 force_version=tls12 (healthy-tls12-mbedtls36, big-chain-4096-mbedtls36)",
	},
	{
		order: []uint16{43, 51, 45, 10, 13}, stack: "mbedTLS 3.x offering TLS 1.3",
		label:   "mbedTLS 3.x offering TLS 1.3 only",
		profile: "esp32-idf5", profileWhy: whyIDF5 + " (TLS 1.3 with CONFIG_MBEDTLS_SSL_PROTO_TLS1_3=y)",
		source: "ssl_client2 3.6.6 force_version=tls13 (healthy-tls13-mbedtls36, big-chain-4096-tls13-mbedtls36)",
	},
	{
		order: []uint16{43, 51, 45, 10, 13, 11, 22, 23}, stack: "mbedTLS 3.x offering TLS 1.2 and 1.3",
		label:   "mbedTLS 3.x offering TLS 1.2 and 1.3 (ESP-IDF v5 with CONFIG_MBEDTLS_SSL_PROTO_TLS1_3)",
		profile: "esp32-idf5", profileWhy: whyIDF5 + " (TLS 1.3 with CONFIG_MBEDTLS_SSL_PROTO_TLS1_3=y)",
		source: "ssl_client2 3.6.6 default versions (tls10-only-server-mbedtls36-tls13)",
	},
}

// clientGuess is what the ClientHello and the MAC address say about a client.
type clientGuess struct {
	label, evidence string
	// shape is the matched ClientHello shape, nil when none matched.
	shape *helloShape
}

// identifyClient labels the client from its ClientHello and MAC address,
// saying what the guess rests on.
func identifyClient(ch *decode.ClientHello, mac net.HardwareAddr) clientGuess {
	g := clientGuess{shape: matchShape(ch)}
	const macEvidence = "MAC address with an Espressif prefix (IEEE OUI list)"
	esp := mac != nil && device.IsEspressifMAC(mac)
	switch s := g.shape; {
	case esp && s != nil:
		g.label = espressifLabelPrefix + mac.String() + ", " + s.guess
		g.evidence = macEvidence + "; " + s.evidence
	case esp:
		g.label = espressifLabelPrefix + mac.String() + guessSuffix
		g.evidence = macEvidence
	case s != nil:
		g.label, g.evidence = s.guess, s.evidence
	default:
		g.label = "unknown"
	}
	return g
}

// guessSuffix ends the label of a client identified by a guess.
const guessSuffix = " (a guess)"

// matchShape finds the shape of a ClientHello: nil for no ClientHello, a
// hello with GREASE (mbedTLS sends none) or an order no shape has.
func matchShape(ch *decode.ClientHello) *helloShape {
	if ch == nil {
		return nil
	}
	var buf [16]uint16
	order := buf[:0]
	for _, e := range ch.Extensions {
		if decode.IsGREASE(e) {
			return nil
		}
		if shapeExtension(e) {
			order = append(order, e)
		}
	}
	for i := range helloShapes {
		if slices.Equal(order, helloShapes[i].order) {
			return &helloShapes[i]
		}
	}
	return nil
}

// espressifLabelPrefix starts the label of a client with an Espressif MAC.
const espressifLabelPrefix = "Espressif device "

// profileChoice is the device profile one connection is judged with, and why.
type profileChoice struct {
	profile device.Profile
	reason  string
}

// Why a profile was used, as the report says it.
const (
	reasonGiven   = "given with --profile"
	reasonDefault = "the default; give --profile to choose another"
)

// chooseProfile picks the profile of a connection whose device is the TLS
// client: the one --profile names, else the one the ClientHello shape
// points to, else the default. A device that is the TLS server sent no
// ClientHello, so it gets the default (deviceIsClient false).
func chooseProfile(given *device.Profile, def device.Profile, g clientGuess, deviceIsClient bool) profileChoice {
	switch {
	case given != nil:
		return profileChoice{*given, reasonGiven}
	case deviceIsClient && g.shape != nil:
		// TestHelloShapes checks that every shape names a known profile.
		if p, ok := device.ProfileByName(g.shape.profile); ok {
			return profileChoice{p, "guessed from the ClientHello shape of " + g.shape.stack + "; give --profile to override"}
		}
	}
	return profileChoice{def, reasonDefault}
}

// commonProfile is the report's profile line: the profile every connection
// was judged with and why (a guess wins over the default when both chose the
// same profile). When the connections' profiles differ it is the fallback
// (--profile or the default), and the reason says that each connection
// names its own.
func commonProfile(profiles iter.Seq2[string, string], fallback, fallbackReason string) (name, reason string) {
	first := true
	for profile, why := range profiles {
		if first {
			name, first = profile, false
		}
		if profile != name {
			return fallback, "profiles differ per connection: each connection says which it was judged with and why (otherwise " + fallbackReason + ")"
		}
		if reason == "" || reason == reasonDefault {
			reason = why
		}
	}
	if first {
		return fallback, fallbackReason
	}
	return name, reason
}

// deviceEnd tells which end of c is the device named with --device (an IP
// or a MAC address): involved is false when neither is, or when no device
// was named. A device talking to itself (loopback) counts as the server, as
// the address match always did.
func (c *conn) deviceEnd(o Options) (isServer, involved bool) {
	cliAddr, srvAddr := c.info.Client.Addr(), c.info.Server.Addr()
	cliMAC, srvMAC := c.info.ClientMAC, c.info.ServerMAC
	if c.swap {
		cliAddr, srvAddr, cliMAC, srvMAC = srvAddr, cliAddr, srvMAC, cliMAC
	}
	is := func(a netip.Addr, m net.HardwareAddr) bool {
		return (o.Device.IsValid() && a == o.Device) || (len(o.DeviceMAC) > 0 && bytes.Equal(m, o.DeviceMAC))
	}
	switch {
	case is(srvAddr, srvMAC):
		return true, true
	case is(cliAddr, cliMAC):
		return false, true
	}
	return false, false
}

// deviceNamed: --device gave an address or a MAC, so the report keeps only
// the connections of that device.
func (o Options) deviceNamed() bool { return o.Device.IsValid() || len(o.DeviceMAC) > 0 }

// reportKey is what orders a report's connections: Espressif clients
// (by MAC address) first unless a device was named, then by tcp.stream,
// then by first frame (two connections share a stream when a port is
// reused after a RST, as Wireshark numbers them).
type reportKey struct {
	espressif     bool
	stream, first int
}

func keyOf(c *Connection) reportKey {
	return reportKey{isEspressifLabel(c.ClientLabel), c.Stream, c.FirstFrame}
}

func (a reportKey) before(b reportKey, espressifFirst bool) bool {
	if espressifFirst && a.espressif != b.espressif {
		return a.espressif
	}
	return a.stream < b.stream || a.stream == b.stream && a.first < b.first
}

// isEspressifLabel: the client label names an Espressif MAC address.
func isEspressifLabel(label string) bool { return strings.HasPrefix(label, espressifLabelPrefix) }
