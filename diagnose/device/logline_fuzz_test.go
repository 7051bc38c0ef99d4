package device

import (
	"strings"
	"testing"
)

// FuzzFindCodes: any pasted text gives mentions whose text is in the
// line, each value once, each explained without a panic.
func FuzzFindCodes(f *testing.F) {
	for _, s := range []string{
		"E (12345) esp-tls-mbedtls: mbedtls_ssl_handshake returned -0x2700",
		"esp-tls: couldn't get hostname for x: getaddrinfo() returns 202",
		"res=FFFF8100 errno=104 (-12288) [0x8017] -0x21E2 MBEDTLS_ERR_SSL_INVALID_RECORD EAI_FAIL",
		"Last captured errno : 119 socket errno (0x68) esp_tls_cert_verify_flags=0x8 -141",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		seen := map[Mention]bool{}
		for _, m := range FindCodes(line) {
			if !strings.Contains(line, m.Text) && !strings.Contains(line, strings.ReplaceAll(m.Text, " ", "")) && !strings.Contains(strings.ReplaceAll(line, " ", ""), m.Text) {
				t.Errorf("mention %q is not in the line %q", m.Text, line)
			}
			k := Mention{Kind: m.Kind, Value: m.Value}
			if seen[k] {
				t.Errorf("%v twice in %q", k, line)
			}
			seen[k] = true
			if s := ExplainMention(m); s == "" {
				t.Errorf("no explanation for %v", m)
			}
		}
	})
}
