package main

import (
	"bytes"
	"strings"
	"testing"
)

// explain takes what users paste: a whole log line, the FAQ's
// getaddrinfo line, a code after --, a composite code, a log on stdin.
func TestExplainPastedLines(t *testing.T) {
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"E (12345) esp-tls-mbedtls: mbedtls_ssl_handshake returned -0x2700"}, []string{"-0x2700  MBEDTLS_ERR_X509_CERT_VERIFY_FAILED\n"}},
		// unquoted: the shell splits it into words
		{strings.Fields("esp-tls-mbedtls: mbedtls_ssl_handshake returned -0x2700"), []string{"-0x2700  MBEDTLS_ERR_X509_CERT_VERIFY_FAILED\n"}},
		{[]string{"esp-tls: couldn't get hostname for drive.google.com: getaddrinfo() returns 202"}, []string{"getaddrinfo() 202  EAI_FAIL (lwIP)\n", "0x8001 ESP_ERR_ESP_TLS_CANNOT_RESOLVE_HOSTNAME", "source: LWIP-netdb.h"}},
		{[]string{"--", "-0x7200"}, []string{"-0x7200  MBEDTLS_ERR_SSL_INVALID_RECORD\n"}},
		{[]string{"-0x21E2"}, []string{"-0x21E2  MBEDTLS_ERR_X509_INVALID_FORMAT + MBEDTLS_ERR_ASN1_UNEXPECTED_TAG\n", "composite: -0x2180 + -0x0062"}},
		{[]string{"mbedtls_ssl_setup res=FFFF8100 (SSL - Memory allocation failed); openssl client: write:errno=104"}, []string{"found: -0x7F00, errno 104\n\n-0x7F00  MBEDTLS_ERR_SSL_ALLOC_FAILED\n", "\nerrno 104  ECONNRESET (newlib, as ESP-IDF numbers it)\n", "-0x0050 MBEDTLS_ERR_NET_CONN_RESET"}},
		{[]string{"esp-tls-mbedtls: mbedtls_ssl_handshake returned -0x008D"}, []string{"-0x008D  PSA_ERROR_INSUFFICIENT_MEMORY\n", "versions: mbedTLS 3.x only"}},
		{[]string{"-0x7200"}, []string{"-0x7200  MBEDTLS_ERR_SSL_INVALID_RECORD\n"}},
		{[]string{"MBEDTLS_ERR_SSL_INVALID_RECORD"}, []string{"-0x7200  MBEDTLS_ERR_SSL_INVALID_RECORD\n"}},
	} {
		code, out, errs := tlspcap(t, append([]string{"explain"}, c.args...)...)
		if code != exitOK {
			t.Errorf("explain %q: exit %d, %s", c.args, code, errs)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("explain %q lacks %q:\n%s", c.args, w, out)
			}
		}
	}

	// A log on stdin: every value once, in order.
	log := "I (100) wifi: connected\nE (5213) esp-tls: couldn't get hostname for mqtt.example: getaddrinfo() returns 202\nE (5214) esp-tls: Failed to open new connection, Last esp error code: 0x8001\n"
	var out, errb bytes.Buffer
	if code := run([]string{"explain", "-"}, strings.NewReader(log), &out, &errb); code != exitOK || !strings.HasPrefix(out.String(), "found: getaddrinfo() 202, 0x8001\n") {
		t.Errorf("explain -: exit %d %s\n%s", code, errb.String(), out.String())
	}

	// Nothing tlspcap knows: exit 2 and why.
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"-0x1234"}, "-0x1234: not an error code tlspcap knows"},
		{[]string{"TCP: Reconnect (mosquitto: Socket error on client, disconnecting)"}, "no error code in"},
		{[]string{"mbedtls_ssl_handshake returned -0x1234"}, "-0x1234: not an error value tlspcap knows"},
		{[]string{"--"}, "explain needs an error code or a log line"},
	} {
		code, _, errs := tlspcap(t, append([]string{"explain"}, c.args...)...)
		if code != exitUsage || !strings.Contains(errs, c.msg) {
			t.Errorf("explain %q: exit %d, %q; want 2 and %q", c.args, code, errs, c.msg)
		}
	}
}
