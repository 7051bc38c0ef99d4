package diagnose

import (
	"fmt"
	"net"
	"strings"

	"tlspcap/decode"
	"tlspcap/diagnose/device"
)

// helloShape is a TLS stack's ClientHello extension order, for telling an
// mbedTLS client from a phone or a laptop. Only the extensions every build of
// the stack sends are compared, in order; SNI, ALPN, max_fragment_length,
// session_ticket and padding come and go with the configuration.
type helloShape struct {
	order  []uint16
	label  string
	source string
}

// shapeExtensions are the extensions a shape is made of.
var shapeExtensions = map[uint16]bool{5: true, 10: true, 11: true, 13: true, 18: true, 22: true, 23: true, 43: true, 45: true, 51: true, 0xff01: true}

// helloShapes were measured from the ground-truth captures (testdata/pcaps,
// ssl_client2 built from Debian's mbedtls sources).
var helloShapes = []helloShape{
	{[]uint16{13, 10, 11, 22, 23}, "mbedTLS 2.x (as in ESP-IDF v4.4, ESP8266_RTOS_SDK)", "ssl_client2 2.28.3 (healthy-tls12-mbedtls228.pcapng)"},
	{[]uint16{10, 13, 11, 22, 23}, "mbedTLS 3.x offering TLS 1.2 only (the ESP-IDF v5 default)", "ssl_client2 3.6.6 (healthy-tls12-mbedtls36.pcapng)"},
	{[]uint16{43, 51, 45, 10, 13}, "mbedTLS 3.x offering TLS 1.3 only", "ssl_client2 3.6.6 force_version=tls13 (healthy-tls13-mbedtls36.pcapng)"},
	{[]uint16{43, 51, 45, 10, 13, 11, 22, 23}, "mbedTLS 3.x offering TLS 1.2 and 1.3 (ESP-IDF v5 with CONFIG_MBEDTLS_SSL_PROTO_TLS1_3)", "ssl_client2 3.6.6 default versions (tls10-only-server-mbedtls36-tls13.pcapng)"},
}

// identifyClient labels the client from its ClientHello and MAC address,
// saying what the guess rests on.
func identifyClient(ch *decode.ClientHello, mac net.HardwareAddr) (label, evidence string) {
	var parts, ev []string
	if mac != nil && device.IsEspressifMAC(mac) {
		parts = append(parts, "Espressif device "+mac.String())
		ev = append(ev, "MAC address with an Espressif prefix (IEEE OUI list)")
	}
	if ch != nil {
		var order []uint16
		grease := false
		for _, e := range ch.Extensions {
			if decode.IsGREASE(e) {
				grease = true
			}
			if shapeExtensions[e] {
				order = append(order, e)
			}
		}
		for _, s := range helloShapes {
			if !grease && equalU16(order, s.order) {
				parts = append(parts, s.label)
				ev = append(ev, fmt.Sprintf("ClientHello extension order %v matches %s", s.order, s.source))
				break
			}
		}
	}
	if len(parts) == 0 {
		return "unknown", ""
	}
	return strings.Join(parts, ", ") + " (a guess)", strings.Join(ev, "; ")
}

func equalU16(a, b []uint16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
