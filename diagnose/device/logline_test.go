package device

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tlspcap/internal/corpus"
)

// mentions renders FindCodes' answer as "-0x7200 errno 104" for
// comparison; unknown values carry a "?".
func mentions(line string) string {
	var out []string
	for _, m := range FindCodes(line) {
		s := m.String()
		if !m.Known {
			s += "?"
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

func TestFindCodes(t *testing.T) {
	for line, want := range map[string]string{
		"E (12345) esp-tls-mbedtls: mbedtls_ssl_handshake returned -0x2700":                    "-0x2700",
		"esp-tls: couldn't get hostname for drive.google.com: getaddrinfo() returns 202":       "getaddrinfo() 202",
		"E (5213) esp-tls: couldn't get hostname for :mqtt.example: getaddrinfo() returns 202": "getaddrinfo() 202",
		"-0x21E2":                     "-0x21E2",
		"x509 parse returned -0x21E2": "-0x21E2",
		"E (1440) esp-tls: Failed to open new connection, Last esp error code: 0x801a":      "0x801A",
		"E (1441) HTTP_CLIENT: Last mbedtls failure: 0x7500":                                "-0x7500",
		"Last error code reported from esp-tls: 0x8008":                                     "0x8008",
		"Last captured errno : 119 (Connection already in progress)":                        "errno 119",
		"captured as transport's socket errno (0x68)":                                       "errno 104",
		"esp-tls: [sock=54] delayed connect error: Connection reset by peer, errno=104":     "errno 104",
		"esp_tls_last_esp_err=0x8006, esp_tls_stack_err=0x0, esp_tls_cert_verify_flags=0x8": "0x8006",
		"mbedtls_ssl_handshake returned -0x1234":                                            "-0x1234?",
		"returned ESP_ERR_ESP_TLS_CANNOT_RESOLVE_HOSTNAME (EAI_FAIL)":                       "0x8001 getaddrinfo() 202",
		"E (3021) esp-tls-mbedtls: mbedtls_ssl_handshake returned -0x4290 at 0x3ffb1234":    "-0x4290",
		"psa_status -141": "-0x008D",
		"E (12345) wifi: frame 1234 sent, heap 0x3ffc0000, len 512":                              "",
		"mbedtls_ssl_setup returned -0x7f00 (-32512)":                                            "-0x7F00",
		"esp-tls-mbedtls: mbedtls_ssl_handshake returned -0x7200\nE (99) esp-tls: errno 113 EOF": "-0x7200 errno 113",
	} {
		if got := mentions(line); got != want {
			t.Errorf("FindCodes(%q) = %q, want %q", line, got, want)
		}
	}
}

// The FAQ's getaddrinfo line and every field case's error line: the codes
// a user pastes from these real reports are found and known.
func TestFindCodesInRealLogLines(t *testing.T) {
	shared := filepath.Dir(corpus.Pcaps(t, "FAQ and field-case log lines"))
	faq, err := os.ReadFile(filepath.Join(shared, "seed", "esp-tls-faq.rst"))
	if err != nil {
		t.Skipf("FAQ: %v", err)
	}
	var gai string
	for _, l := range strings.Split(string(faq), "\n") {
		if strings.Contains(l, "getaddrinfo()") {
			gai = l
			break
		}
	}
	if got := mentions(gai); got != "getaddrinfo() 202" {
		t.Errorf("FAQ line %q: %q", gai, got)
	}
	if got := mentions("Why does the \"mbedtls_ssl_handshake returned -0x7200\" error occur"); got != "-0x7200" {
		t.Errorf("FAQ -0x7200: %q", got)
	}

	tsv, err := os.ReadFile(filepath.Join(shared, "field", "field-cases.tsv"))
	if err != nil {
		t.Skipf("field cases: %v", err)
	}
	want := map[string]string{
		"FC01": "-0x7200",
		"FC03": "-0x0010",
		"FC05": "-0x5180",
		"FC07": "-0x7F00 errno 104",
		"FC09": "-0x2700",
		"FC11": "-0x2700",
		"FC13": "-0x7200",
		"FC15": "-0x008D",
		"FC19": "0x801A",
		"FC21": "-0x7280",
		"FC25": "-0x3000",
		"FC27": "0x8017",
		"FC29": "-0x6C00",
		"FC31": "-0x3000",
		"FC35": "-0x004C errno 11",
		"FC43": "-0x7200",
	}
	rows := 0
	for _, l := range strings.Split(string(tsv), "\n")[1:] {
		f := strings.Split(l, "\t")
		if len(f) < 3 {
			continue
		}
		rows++
		if got := mentions(f[2]); got != want[f[0]] {
			t.Errorf("%s %q: found %q, want %q", f[0], f[2], got, want[f[0]])
		}
	}
	if rows < len(want) {
		t.Errorf("read %d field cases, want at least %d", rows, len(want))
	}
}

func TestNetValuesCited(t *testing.T) {
	for _, tab := range [][]NetValue{GaiErrors, Errnos} {
		seen := map[int]bool{}
		for _, e := range tab {
			if seen[e.Value] || e.Name == "" || e.Meaning == "" || e.Source == "" {
				t.Errorf("%d %s: duplicate or incomplete", e.Value, e.Name)
			}
			seen[e.Value] = true
			if _, unknown := CitationKeys(e.Source); len(unknown) > 0 {
				t.Errorf("%d %s cites unknown sources %q", e.Value, e.Name, unknown)
			}
		}
	}
	// lwIP's numbering (lwip/netdb.h), which ESP-TLS prints.
	for v, name := range map[int]string{200: "EAI_NONAME", 201: "EAI_SERVICE", 202: "EAI_FAIL", 203: "EAI_MEMORY", 204: "EAI_FAMILY"} {
		if e, ok := gaiValue(v); !ok || e.Name != name {
			t.Errorf("getaddrinfo %d = %+v, want %s", v, e, name)
		}
	}
	if s := ExplainMention(Mention{Kind: MentionGetaddrinfo, Value: 202}); !strings.Contains(s, "EAI_FAIL") || !strings.Contains(s, "0x8001") || !strings.Contains(s, "LWIP-netdb.h") {
		t.Errorf("explain getaddrinfo 202:\n%s", s)
	}
}

// A code made of an X.509 high part and an ASN.1 low part is split as
// mbedtls_strerror splits it (high = -code & 0xFF80, low = -code & 0x7F).
func TestCompositeASN1(t *testing.T) {
	e, ok := Lookup(-0x21E2)
	if !ok || e.Kind != KindComposite || e.Name36 != "MBEDTLS_ERR_X509_INVALID_FORMAT + MBEDTLS_ERR_ASN1_UNEXPECTED_TAG" {
		t.Fatalf("Lookup(-0x21E2) = %+v, %v", e, ok)
	}
	if s := Explain(-0x21E2); !strings.Contains(s, "composite: -0x2180 + -0x0062") {
		t.Errorf("Explain(-0x21E2):\n%s", s)
	}
	if e, ok := Lookup(-0x3D62); !ok || e.Name36 != "MBEDTLS_ERR_PK_KEY_INVALID_FORMAT + MBEDTLS_ERR_ASN1_UNEXPECTED_TAG" {
		t.Errorf("Lookup(-0x3D62) = %+v, %v", e, ok)
	}
}
