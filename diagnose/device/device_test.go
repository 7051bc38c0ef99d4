package device

import (
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestErrorTableRoundTrip(t *testing.T) {
	for _, e := range Errors() {
		s := FormatCode(e.Code)
		got, err := ParseCode(s)
		if err != nil || got != e.Code {
			t.Errorf("ParseCode(FormatCode(%d)=%q) = %d, %v", e.Code, s, got, err)
		}
		l, ok := Lookup(e.Code)
		if !ok || l.Code != e.Code || l.Name228 != e.Name228 || l.Name36 != e.Name36 {
			t.Errorf("Lookup(%s) = %+v, %v", s, l, ok)
		}
		// unsigned hex, as "Last mbedtls failure: 0x7200" prints it
		if got, err := ParseCode(strings.TrimPrefix(s, "-")); err != nil || got != e.Code {
			t.Errorf("ParseCode(%q) = %s, %v; want %s", strings.TrimPrefix(s, "-"), FormatCode(got), err, s)
		}
		// decimal, as Arduino prints it
		if got, err := ParseCode(strconv.Itoa(e.Code)); err != nil || got != e.Code {
			t.Errorf("ParseCode(%q) = %s, %v; want %s", strconv.Itoa(e.Code), FormatCode(got), err, s)
		}
		if e.Name228 == "" && e.Name36 == "" {
			t.Errorf("%s has no name", s)
		}
		if e.Meaning == "" {
			t.Errorf("%s has no meaning", s)
		}
		if e.Source == "" {
			t.Errorf("%s has no source", s)
		}
		if _, unknown := CitationKeys(e.Source); len(unknown) > 0 {
			t.Errorf("%s cites unknown sources %q", s, unknown)
		}
		if e.Kind == KindESPTLS && (e.Code < 0x8000 || !strings.HasPrefix(e.Name36, "ESP_ERR_")) {
			t.Errorf("%s: ESP-TLS entry must be positive with an ESP_ERR_ name", s)
		}
		if e.Kind != KindESPTLS && e.Code >= 0 {
			t.Errorf("%s: mbedTLS codes are negative", s)
		}
		for _, n := range []string{e.Name228, e.Name36} {
			if n == "" || strings.Contains(n, " + ") {
				continue
			}
			if c, err := ParseCode(n); err != nil || (c != e.Code && n != "MBEDTLS_ERR_SSL_CACHE_ENTRY_NOT_FOUND") {
				t.Errorf("ParseCode(%q) = %s, %v; want %s", n, FormatCode(c), err, s)
			}
		}
	}
}

func TestNoDuplicateCodes(t *testing.T) {
	cs := codesSorted()
	for i := 1; i < len(cs); i++ {
		if cs[i] == cs[i-1] {
			t.Errorf("duplicate %s", FormatCode(cs[i]))
		}
	}
	if len(cs) != len(errorRows) {
		t.Errorf("table has %d codes, rows %d", len(cs), len(errorRows))
	}
}

func TestFormatCode(t *testing.T) {
	for code, want := range map[int]string{
		-0x7200: "-0x7200", -0x7F00: "-0x7F00", -0x004C: "-0x004C", -0x6E80: "-0x6E80",
		-0x3000: "-0x3000", 0x8017: "0x8017", 0x801A: "0x801A", -0x428E: "-0x428E",
	} {
		if got := FormatCode(code); got != want {
			t.Errorf("FormatCode(%d) = %q, want %q", code, got, want)
		}
	}
}

func TestParseCode(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
	}{
		{"-0x7200", -0x7200},
		{"-0X7200", -0x7200},
		{"0x7200", -0x7200},
		{"  -0x7f00 ", -0x7F00},
		{"-29184", -0x7200},
		{"29184", -0x7200},
		{"(-12288)", -0x3000},
		{"7200", -0x7200},    // decimal 7200 names nothing, hex does
		{"76", -0x004C},      // decimal 76 = NET_RECV_FAILED
		{"0x8017", 0x8017},   // ESP-TLS stays positive
		{"8017", 0x8017},     // decimal 8017 names nothing, hex does
		{"32791", 0x8017},    // decimal ESP-TLS
		{"-0x1234", -0x1234}, // unknown but well-formed
		{"MBEDTLS_ERR_SSL_INVALID_RECORD", -0x7200},
		{"mbedtls_err_ssl_bad_hs_protocol_version", -0x6E80},
		{"MBEDTLS_ERR_SSL_CACHE_ENTRY_NOT_FOUND", -0x7E80}, // 3.x value wins over 2.x -0x5E00
		{"ESP_ERR_MBEDTLS_SSL_SETUP_FAILED", 0x8017},
	} {
		got, err := ParseCode(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseCode(%q) = %s, %v; want %s", c.in, FormatCode(got), err, FormatCode(c.want))
		}
	}
	for _, bad := range []string{"", "xyz", "-0x8017", "0x10000", "0", "0x", "-", "MBEDTLS_ERR_NOPE"} {
		if got, err := ParseCode(bad); err == nil {
			t.Errorf("ParseCode(%q) = %s, want an error", bad, FormatCode(got))
		}
	}
}

func TestVersionNames(t *testing.T) {
	for _, c := range []struct {
		code     int
		n2, n3   string
		reused   bool
		versions string
	}{
		{-0x7300, "MBEDTLS_ERR_SSL_UNKNOWN_CIPHER", "MBEDTLS_ERR_SSL_DECODE_ERROR", true, "mbedTLS 2.x (ESP-IDF ≤ v4.4) and 3.x (ESP-IDF v5.x) with different meanings"},
		{-0x6E80, "MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION", "MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION", false, "mbedTLS 2.28 and 3.x (renamed in 3.0, same meaning)"},
		{-0x7A00, "MBEDTLS_ERR_SSL_BAD_HS_CERTIFICATE", "MBEDTLS_ERR_SSL_BAD_CERTIFICATE", false, "mbedTLS 2.28 and 3.x (renamed in 3.0, same meaning)"},
		{-0x7500, "MBEDTLS_ERR_SSL_CERTIFICATE_TOO_LARGE", "MBEDTLS_ERR_SSL_UNSUPPORTED_EXTENSION", true, ""},
		{-0x7580, "MBEDTLS_ERR_SSL_CERTIFICATE_REQUIRED", "MBEDTLS_ERR_SSL_NO_APPLICATION_PROTOCOL", true, ""},
		{-0x7800, "MBEDTLS_ERR_SSL_PEER_VERIFY_FAILED", "MBEDTLS_ERR_SSL_UNRECOGNIZED_NAME", true, ""},
		{-0x7B00, "MBEDTLS_ERR_SSL_BAD_HS_SERVER_KEY_EXCHANGE", "MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET", true, ""},
		{-0x7B80, "MBEDTLS_ERR_SSL_BAD_HS_SERVER_HELLO_DONE", "MBEDTLS_ERR_SSL_CANNOT_READ_EARLY_DATA", true, ""},
		{-0x7C00, "MBEDTLS_ERR_SSL_BAD_HS_CLIENT_KEY_EXCHANGE", "MBEDTLS_ERR_SSL_RECEIVED_EARLY_DATA", true, ""},
		{-0x7C80, "MBEDTLS_ERR_SSL_BAD_HS_CLIENT_KEY_EXCHANGE_RP", "MBEDTLS_ERR_SSL_CANNOT_WRITE_EARLY_DATA", true, ""},
		{-0x7E80, "MBEDTLS_ERR_SSL_BAD_HS_FINISHED", "MBEDTLS_ERR_SSL_CACHE_ENTRY_NOT_FOUND", true, ""},
		{-0x6E00, "MBEDTLS_ERR_SSL_BAD_HS_NEW_SESSION_TICKET", "MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE", true, ""},
		{-0x6600, "MBEDTLS_ERR_SSL_INVALID_VERIFY_HASH", "MBEDTLS_ERR_SSL_ILLEGAL_PARAMETER", true, ""},
		{-0x3880, "MBEDTLS_ERR_PK_HW_ACCEL_FAILED", "MBEDTLS_ERR_PK_BUFFER_TOO_SMALL", true, ""},
		{-0x7100, "MBEDTLS_ERR_SSL_BAD_INPUT_DATA", "MBEDTLS_ERR_SSL_BAD_INPUT_DATA", false, "mbedTLS 2.28 and 3.x"},
		{-0x7380, "MBEDTLS_ERR_SSL_NO_CIPHER_CHOSEN", "", false, "mbedTLS 2.x only (ESP-IDF ≤ v4.4)"},
		{-0x5E00, "MBEDTLS_ERR_SSL_CACHE_ENTRY_NOT_FOUND", "", false, "mbedTLS 2.x only (ESP-IDF ≤ v4.4)"},
		{-0x5D80, "MBEDTLS_ERR_SSL_CERTIFICATE_VERIFICATION_WITHOUT_HOSTNAME", "MBEDTLS_ERR_SSL_CERTIFICATE_VERIFICATION_WITHOUT_HOSTNAME", false, "mbedTLS 2.28.10+ and 3.6.3+ (ESP-IDF v4.4.x ships 2.28.8, so not there)"},
		{-0x0050, "MBEDTLS_ERR_NET_CONN_RESET", "MBEDTLS_ERR_NET_CONN_RESET", false, "mbedTLS 2.28 and 3.x"},
		{-0x0052, "MBEDTLS_ERR_NET_UNKNOWN_HOST", "MBEDTLS_ERR_NET_UNKNOWN_HOST", false, ""},
		{-0x3000, "MBEDTLS_ERR_X509_FATAL_ERROR", "MBEDTLS_ERR_X509_FATAL_ERROR", false, ""},
		{-0x3D00, "MBEDTLS_ERR_PK_KEY_INVALID_FORMAT", "MBEDTLS_ERR_PK_KEY_INVALID_FORMAT", false, ""},
		{-0x4290, "MBEDTLS_ERR_RSA_PUBLIC_FAILED + MBEDTLS_ERR_MPI_ALLOC_FAILED", "MBEDTLS_ERR_RSA_PUBLIC_FAILED + MBEDTLS_ERR_MPI_ALLOC_FAILED", false, ""},
		{0x8017, "ESP_ERR_MBEDTLS_SSL_SETUP_FAILED", "ESP_ERR_MBEDTLS_SSL_SETUP_FAILED", false, "ESP-TLS esp_err_t (ESP-IDF v4.x and v5.x; independent of the mbedTLS version)"},
		{0x8006, "ESP_ERR_ESP_TLS_CONNECTION_TIMEOUT", "ESP_ERR_ESP_TLS_CONNECTION_TIMEOUT", false, ""},
	} {
		e, ok := Lookup(c.code)
		if !ok {
			t.Errorf("Lookup(%s) missing", FormatCode(c.code))
			continue
		}
		if got := e.NameFor(2); got != c.n2 {
			t.Errorf("%s NameFor(2) = %q, want %q", FormatCode(c.code), got, c.n2)
		}
		if got := e.NameFor(3); got != c.n3 {
			t.Errorf("%s NameFor(3) = %q, want %q", FormatCode(c.code), got, c.n3)
		}
		if e.Reused() != c.reused {
			t.Errorf("%s Reused() = %v", FormatCode(c.code), e.Reused())
		}
		if c.versions != "" && e.Versions() != c.versions {
			t.Errorf("%s Versions() = %q, want %q", FormatCode(c.code), e.Versions(), c.versions)
		}
	}
}

func TestCompositeLookup(t *testing.T) {
	e, ok := Lookup(-0x2710) // X509_CERT_VERIFY_FAILED + MPI_ALLOC_FAILED, not in the table
	if !ok || e.Kind != KindComposite || e.Name36 != "MBEDTLS_ERR_X509_CERT_VERIFY_FAILED + MBEDTLS_ERR_MPI_ALLOC_FAILED" {
		t.Errorf("Lookup(-0x2710) = %+v, %v", e, ok)
	}
	if _, ok := Lookup(-0x1234); ok {
		t.Error("Lookup(-0x1234) found something")
	}
	if _, ok := Lookup(-0x7201); ok {
		t.Error("Lookup(-0x7201): no low-level -0x0001 exists")
	}
	if s := Explain(-0x1234); !strings.Contains(s, "not in tlspcap's table") {
		t.Errorf("Explain(-0x1234) = %q", s)
	}
}

func TestExplain(t *testing.T) {
	s := Explain(-0x7200)
	for _, want := range []string{
		"-0x7200  MBEDTLS_ERR_SSL_INVALID_RECORD",
		"menuconfig: Component config → mbedTLS → TLS maximum incoming fragment length (CONFIG_MBEDTLS_SSL_IN_CONTENT_LEN) = 16384",
		"source: ", "on the wire", "48 54 54 50",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("Explain(-0x7200) lacks %q:\n%s", want, s)
		}
	}
	s = Explain(-0x7300)
	for _, want := range []string{"MBEDTLS_ERR_SSL_UNKNOWN_CIPHER", "MBEDTLS_ERR_SSL_DECODE_ERROR", "ESP-IDF ≤ v4.4", "ESP-IDF v5.x"} {
		if !strings.Contains(s, want) {
			t.Errorf("Explain(-0x7300) lacks %q:\n%s", want, s)
		}
	}
	if s := Explain(-0x4290); !strings.Contains(s, "composite: -0x4280 + -0x0010") {
		t.Errorf("Explain(-0x4290):\n%s", s)
	}
	if s := Explain(0x8017); !strings.Contains(s, "ESP_TLS_SKIP_SERVER_CERT_VERIFY") || !strings.Contains(s, "crt_bundle_attach") {
		t.Errorf("Explain(0x8017):\n%s", s)
	}
}

func TestAlertForVerifyFlags(t *testing.T) {
	for _, c := range []struct {
		flags  uint32
		major  int
		want   uint8
		reason string
	}{
		{0xFFFFFFFF, 3, 49, "fatal verify error (bundle): OTHER wins"},
		{0xFFFFFFFF, 2, 49, ""},
		{FlagOther | FlagCNMismatch, 3, 49, ""},
		{FlagCNMismatch | FlagNotTrusted, 3, 42, "self-signed reached by IP"},
		{FlagCNMismatch | FlagExpired, 3, 42, ""},
		{FlagCNMismatch, 3, 42, ""},
		{FlagKeyUsage, 3, 43, ""},
		{FlagExtKeyUsage | FlagNotTrusted, 3, 43, ""},
		{FlagBadPK, 3, 43, ""},
		{FlagBadKey | FlagExpired, 3, 43, ""},
		{FlagNSCertType, 2, 43, "2.x only"},
		{FlagNSCertType, 3, 46, "3.x: falls through"},
		{FlagExpired | FlagNotTrusted, 3, 45, ""},
		{FlagExpired | FlagRevoked, 3, 45, ""},
		{FlagRevoked | FlagNotTrusted, 3, 44, ""},
		{FlagNotTrusted, 3, 48, ""},
		{FlagNotTrusted | FlagBadMD, 3, 48, ""},
		{FlagFuture, 3, 46, "clock not set"},
		{FlagFuture | FlagNotTrusted, 3, 48, ""},
		{FlagBadMD, 3, 46, "SHA-1 alone"},
		{0, 3, 46, ""},
	} {
		if got := AlertForVerifyFlagsMbedTLS(c.flags, c.major); got != c.want {
			t.Errorf("AlertForVerifyFlagsMbedTLS(0x%X, %d) = %d, want %d %s", c.flags, c.major, got, c.want, c.reason)
		}
		if c.major == 3 {
			if got := AlertForVerifyFlags(c.flags); got != c.want {
				t.Errorf("AlertForVerifyFlags(0x%X) = %d, want %d", c.flags, got, c.want)
			}
		}
	}
	if got := FlagNames(0x0C); !cmp.Equal(got, []string{"MBEDTLS_X509_BADCERT_CN_MISMATCH", "MBEDTLS_X509_BADCERT_NOT_TRUSTED"}) {
		t.Errorf("FlagNames(0x0C) = %q", got)
	}
	if got := FlagNames(0x100000); !cmp.Equal(got, []string{"0x100000"}) {
		t.Errorf("FlagNames(0x100000) = %q", got)
	}
	for i, f := range VerifyFlags {
		if i > 0 && f.Bit <= VerifyFlags[i-1].Bit {
			t.Errorf("VerifyFlags not in bit order at %s", f.Name)
		}
	}
}

type cand struct {
	Code     string
	Name     string
	Versions string
}

func brief(cs []Candidate) []cand {
	var out []cand
	for _, c := range cs {
		out = append(out, cand{FormatCode(c.Code), c.Name, c.Versions})
	}
	return out
}

func TestErrorsFor(t *testing.T) {
	for _, c := range []struct {
		profile string
		s       Symptom
		want    []cand
	}{
		{"esp32-idf5", SymptomRecordTooLarge, []cand{{"-0x7100", "MBEDTLS_ERR_SSL_BAD_INPUT_DATA", v228up}}},
		{"mbedtls-default", SymptomRecordTooLarge, []cand{{"-0x7100", "MBEDTLS_ERR_SSL_BAD_INPUT_DATA", v228up}}},
		{"esp32-idf4", SymptomRecordTooLarge, []cand{
			{"-0x7100", "MBEDTLS_ERR_SSL_BAD_INPUT_DATA", "mbedTLS 2.28 (ESP-IDF v4.3.3–v4.3.7, v4.4.1–v4.4.8)"},
			{"-0x7200", "MBEDTLS_ERR_SSL_INVALID_RECORD", v216},
		}},
		{"esp8266-rtos", SymptomRecordTooLarge, []cand{
			{"-0x7200", "MBEDTLS_ERR_SSL_INVALID_RECORD", v8266 + "; as 2.16"},
			{"-0x7100", "MBEDTLS_ERR_SSL_BAD_INPUT_DATA", v8266 + "; as 2.28"},
		}},
		{"esp32-idf5", SymptomRecordTooLargeSlightly, []cand{{"-0x7200", "MBEDTLS_ERR_SSL_INVALID_RECORD", vAll}}},
		{"esp32-idf4", SymptomRecordTooLargeSlightly, []cand{{"-0x7200", "MBEDTLS_ERR_SSL_INVALID_RECORD", vAll}}},
		{"esp32-idf5", SymptomNotTLS, []cand{{"-0x7200", "MBEDTLS_ERR_SSL_INVALID_RECORD", v228up}}},
		{"esp32-idf4", SymptomNotTLS, []cand{{"-0x7200", "MBEDTLS_ERR_SSL_INVALID_RECORD", v2x}}},
		{"esp32-idf5", SymptomHandshakeFragmented, []cand{{"-0x7080", "MBEDTLS_ERR_SSL_FEATURE_UNAVAILABLE", v3le362}}},
		{"esp32-idf4", SymptomHandshakeFragmented, []cand{{"-0x7080", "MBEDTLS_ERR_SSL_FEATURE_UNAVAILABLE", v2x}}},
		{"mbedtls-default", SymptomHandshakeFragmented, nil},
		{"esp32-idf5", SymptomFatalAlertReceived, []cand{{"-0x7780", "MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE", vAll}}},
		{"esp32-idf5", SymptomPeerFIN, []cand{{"-0x7280", "MBEDTLS_ERR_SSL_CONN_EOF", vAll}}},
		{"esp32-idf5", SymptomPeerRST, []cand{{"-0x0050", "MBEDTLS_ERR_NET_CONN_RESET", vAll}}},
		{"esp32-idf5", SymptomReadTimeout, []cand{{"0x8006", "ESP_ERR_ESP_TLS_CONNECTION_TIMEOUT", vESPTLS}, {"-0x6900", "MBEDTLS_ERR_SSL_WANT_READ", vAll}}},
		{"esp32-idf5", SymptomServerChoseUnofferedSuite, []cand{{"-0x6600", "MBEDTLS_ERR_SSL_ILLEGAL_PARAMETER", v3x}}},
		{"esp32-idf4", SymptomServerChoseUnofferedSuite, []cand{{"-0x7980", "MBEDTLS_ERR_SSL_BAD_HS_SERVER_HELLO", v2x}}},
		{"esp32-idf5", SymptomVersionTooOld, []cand{{"-0x6E80", "MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION", vAll}}},
		{"esp32-idf4", SymptomVersionTooOld, []cand{{"-0x6E80", "MBEDTLS_ERR_SSL_BAD_HS_PROTOCOL_VERSION", vAll}}},
		{"esp32-idf5", SymptomOwnCertTooLarge, []cand{{"-0x6A00", "MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL", v3x}}},
		{"esp32-idf4", SymptomOwnCertTooLarge, []cand{{"-0x7500", "MBEDTLS_ERR_SSL_CERTIFICATE_TOO_LARGE", v2x}}},
		{"esp32-idf5", SymptomBundleVerifyFailed, []cand{{"-0x3000", "MBEDTLS_ERR_X509_FATAL_ERROR", vAll}}},
		{"esp32-idf5", SymptomNoClientCertificate, []cand{{"-0x7480", "MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE", vAll}}},
		{"esp32-idf5", SymptomCloseNotify, []cand{{"-0x7880", "MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY", vAll}}},
		{"esp32-idf5", SymptomBadMAC, []cand{{"-0x7180", "MBEDTLS_ERR_SSL_INVALID_MAC", vAll}}},
		{"esp32-idf5", SymptomALPNMismatch, []cand{{"-0x7580", "MBEDTLS_ERR_SSL_NO_APPLICATION_PROTOCOL", v3x}}},
		{"esp32-idf5", SymptomUnsupportedExtension, []cand{{"-0x7500", "MBEDTLS_ERR_SSL_UNSUPPORTED_EXTENSION", v3x}}},
		{"mbedtls-default", SymptomConnectionRefused, nil},
		{"esp32-idf5", SymptomConnectionRefused, []cand{{"0x8004", "ESP_ERR_ESP_TLS_FAILED_CONNECT_TO_HOST", vESPTLS}}},
		{"esp32-idf5", Symptom("no-such-symptom"), nil},
	} {
		p, ok := ProfileByName(c.profile)
		if !ok {
			t.Fatalf("no profile %s", c.profile)
		}
		if diff := cmp.Diff(c.want, brief(p.ErrorsFor(c.s))); diff != "" {
			t.Errorf("%s ErrorsFor(%s) (-want +got):\n%s", c.profile, c.s, diff)
		}
	}
	// the SymptomLocalSetupFailed list starts with the verification-option error
	if got := DefaultProfile.ErrorsFor(SymptomLocalSetupFailed); len(got) < 4 || got[0].Code != 0x8017 {
		t.Errorf("LocalSetupFailed = %v", brief(got))
	}
	if got := DefaultProfile.ErrorsFor(SymptomVerifyFailed); len(got) != 2 || got[0].Code != -0x2700 {
		t.Errorf("VerifyFailed = %v", brief(got))
	}
}

func TestSymptomRowsAreSound(t *testing.T) {
	for _, r := range symptomRows {
		for _, c := range r.cands {
			if _, ok := Lookup(c.Code); !ok {
				t.Errorf("%s: candidate %s not in the error table", r.s, FormatCode(c.Code))
			}
			if c.Why == "" || c.Versions == "" || c.Source == "" {
				t.Errorf("%s/%s: empty Why, Versions or Source", r.s, FormatCode(c.Code))
			}
			if _, unknown := CitationKeys(c.Source); len(unknown) > 0 {
				t.Errorf("%s/%s cites unknown %q", r.s, FormatCode(c.Code), unknown)
			}
		}
		for _, m := range r.match {
			_, isProfile := ProfileByName(m)
			if !isProfile && m != "*" && m != "mbedtls2" && m != "mbedtls3" {
				t.Errorf("%s: bad match %q", r.s, m)
			}
		}
	}
	for _, s := range Symptoms() {
		for _, p := range Profiles() {
			for _, c := range p.ErrorsFor(s) {
				if c.Name == "" {
					t.Errorf("%s %s: candidate %s has no name", p.Name, s, FormatCode(c.Code))
				}
			}
		}
	}
}

func TestKconfig(t *testing.T) {
	want := "menuconfig: Component config → mbedTLS → TLS maximum incoming fragment length (CONFIG_MBEDTLS_SSL_IN_CONTENT_LEN) = 16384"
	if got := Fix("MBEDTLS_SSL_IN_CONTENT_LEN", "16384"); got != want {
		t.Errorf("Fix = %q\nwant %q", got, want)
	}
	if got := Fix("CONFIG_MBEDTLS_SSL_IN_CONTENT_LEN", "16384"); got != want {
		t.Errorf("Fix with CONFIG_ = %q", got)
	}
	if got := Fix("NOT_AN_OPTION", "y"); got != "menuconfig: CONFIG_NOT_AN_OPTION = y" {
		t.Errorf("Fix unknown = %q", got)
	}
	o, ok := Option("MBEDTLS_SSL_IN_CONTENT_LEN")
	if !ok || o.Path != "Component config → mbedTLS → TLS maximum incoming fragment length" || o.Default != "16384" {
		t.Errorf("Option = %+v", o)
	}
	for _, c := range []struct{ name, idf, want string }{
		{"MBEDTLS_SSL_PROTO_TLS1", IDFv44, "y"},
		{"MBEDTLS_SSL_PROTO_TLS1", IDFv5, Absent},
		{"MBEDTLS_SSL_PROTO_TLS1_3", IDFv5, "n"},
		{"MBEDTLS_SSL_KEEP_PEER_CERTIFICATE", IDFv60, "n"},
		{"MBEDTLS_HAVE_TIME_DATE", IDFv44, "n"},
		{"MBEDTLS_DYNAMIC_FREE_PEER_CERT", IDFv5, Absent},
		{"MBEDTLS_CERTIFICATE_BUNDLE_CROSS_SIGNED_VERIFY", IDFv60, "n"},
		{"MBEDTLS_SSL_OUT_CONTENT_LEN", IDFv5, "4096"},
		{"MBEDTLS_GCM_C", IDFv5, "y"},
	} {
		o, ok := Option(c.name)
		if !ok || o.DefaultFor(c.idf) != c.want {
			t.Errorf("Option(%s).DefaultFor(%s) = %q, want %q", c.name, c.idf, o.DefaultFor(c.idf), c.want)
		}
	}
	if o, _ := Option("ESP_TLS_SKIP_SERVER_CERT_VERIFY"); !strings.HasPrefix(o.Path, "Component config → ESP-TLS → Allow potentially insecure options → Skip server certificate verification by default") {
		t.Errorf("skip verify path = %q", o.Path)
	}
	for _, o := range Options() {
		if o.Prompt == "" || o.Menu == "" || o.Source == "" {
			t.Errorf("%s: empty prompt, menu or source", o.Name)
		}
		if _, unknown := CitationKeys(o.Source); len(unknown) > 0 {
			t.Errorf("%s cites unknown %q", o.Name, unknown)
		}
	}
	if got := FieldFix(ConceptBundle, "esp_crt_bundle_attach"); !strings.HasPrefix(got, "esp_tls_cfg_t.crt_bundle_attach = esp_crt_bundle_attach (esp_http_client_config_t.crt_bundle_attach, MQTT v5 esp_mqtt_client_config_t.broker.verification.crt_bundle_attach") {
		t.Errorf("FieldFix = %q", got)
	}
	if f, ok := Field("esp_mqtt_client_config_t", "broker.verification.skip_cert_common_name_check"); !ok || f.Concept != ConceptSkipCN {
		t.Errorf("Field mqtt = %+v %v", f, ok)
	}
	if f, ok := Field("esp_http_client_config_t", "timeout_ms"); !ok || f.Default != "5000" {
		t.Errorf("Field http timeout = %+v %v", f, ok)
	}
	for _, f := range ConfigFields() {
		if _, unknown := CitationKeys(f.Source); len(unknown) > 0 || f.Source == "" || f.Concept == "" {
			t.Errorf("%s.%s: source %q unknown %q, concept %q", f.Struct, f.Field, f.Source, unknown, f.Concept)
		}
	}
}

func TestAlerts(t *testing.T) {
	if a := AlertFromServer(40); a.Name != "handshake_failure" || a.Candidates[0].Code != -0x7780 || !strings.Contains(a.CauseList[0], "cipher suite") || !a.Known {
		t.Errorf("AlertFromServer(40) = %+v", a)
	}
	if a := AlertFromServer(0); a.Candidates[0].Code != -0x7880 || a.Candidates[0].Name != "MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY" {
		t.Errorf("AlertFromServer(0) = %+v", a)
	}
	for _, d := range []uint8{70, 112, 116, 120} {
		if a := AlertFromServer(d); a.Candidates[0].Code != -0x7780 || a.Fix == "" {
			t.Errorf("AlertFromServer(%d) = %+v", d, a)
		}
	}
	if a := AlertFromServer(200); a.Known || a.Name != "alert(200)" || a.Candidates[0].Code != -0x7780 {
		t.Errorf("AlertFromServer(200) = %+v", a)
	}
	for _, c := range []struct {
		desc  uint8
		codes []string
		names []string
	}{
		{48, []string{"-0x2700"}, []string{"MBEDTLS_ERR_X509_CERT_VERIFY_FAILED"}},
		{42, []string{"-0x2700"}, []string{"MBEDTLS_ERR_X509_CERT_VERIFY_FAILED"}},
		{49, []string{"-0x3000"}, []string{"MBEDTLS_ERR_X509_FATAL_ERROR"}},
		{45, []string{"-0x2700"}, nil},
		{46, []string{"-0x2700"}, nil},
		{43, []string{"-0x2700", "-0x7A00"}, []string{"MBEDTLS_ERR_X509_CERT_VERIFY_FAILED", "MBEDTLS_ERR_SSL_BAD_CERTIFICATE"}},
		{70, []string{"-0x6E80"}, []string{"MBEDTLS_ERR_SSL_BAD_PROTOCOL_VERSION"}},
		{47, []string{"-0x6600", "-0x7980"}, []string{"MBEDTLS_ERR_SSL_ILLEGAL_PARAMETER", "MBEDTLS_ERR_SSL_BAD_HS_SERVER_HELLO"}},
		{20, []string{"-0x7180"}, []string{"MBEDTLS_ERR_SSL_INVALID_MAC"}},
		{10, []string{"-0x7700", "-0x7200"}, []string{"MBEDTLS_ERR_SSL_UNEXPECTED_MESSAGE", "MBEDTLS_ERR_SSL_INVALID_RECORD"}},
		{51, []string{"-0x7E80"}, []string{"MBEDTLS_ERR_SSL_BAD_HS_FINISHED"}},
		{40, []string{"-0x6E00", "-0x7980"}, []string{"MBEDTLS_ERR_SSL_HANDSHAKE_FAILURE", "MBEDTLS_ERR_SSL_BAD_HS_SERVER_HELLO"}},
	} {
		a := AlertFromDevice(c.desc)
		var codes, names []string
		for _, e := range a.Candidates {
			codes = append(codes, FormatCode(e.Code))
			names = append(names, e.Name)
		}
		if !a.Known || !cmp.Equal(codes, c.codes) || (c.names != nil && !cmp.Equal(names, c.names)) {
			t.Errorf("AlertFromDevice(%d) = %v %v", c.desc, codes, names)
		}
	}
	if a := AlertFromDevice(90); a.Known || len(a.Candidates) != 0 {
		t.Errorf("AlertFromDevice(90) = %+v", a)
	}
	// the flags recorded with each device alert lead to that alert, bit by bit
	_, dev := KnownAlerts()
	for _, d := range dev {
		a := AlertFromDevice(d)
		for bit := uint32(1); bit != 0; bit <<= 1 {
			if a.VerifyFlags&bit != 0 && AlertForVerifyFlags(bit) != d {
				t.Errorf("alert %d: flag 0x%X alone gives %d", d, bit, AlertForVerifyFlags(bit))
			}
		}
		if _, unknown := CitationKeys(a.Source); len(unknown) > 0 || a.Source == "" {
			t.Errorf("alert %d: source %q unknown %q", d, a.Source, unknown)
		}
	}
	srv, _ := KnownAlerts()
	for _, d := range srv {
		a := AlertFromServer(d)
		if _, unknown := CitationKeys(a.Source); len(unknown) > 0 || a.Source == "" {
			t.Errorf("server alert %d: source %q unknown %q", d, a.Source, unknown)
		}
		if AlertName(d) == "" || strings.HasPrefix(AlertName(d), "alert(") {
			t.Errorf("alert %d has no name", d)
		}
	}
	for _, r := range append(VerifyAlertRules, AlertRule{}) {
		if r.Mask == 0 {
			continue
		}
		if _, unknown := CitationKeys(r.Source); len(unknown) > 0 {
			t.Errorf("rule 0x%X cites unknown %q", r.Mask, unknown)
		}
	}
	for _, r := range Reactions {
		if _, unknown := CitationKeys(r.Source); len(unknown) > 0 || len(r.Returns) == 0 {
			t.Errorf("reaction %q: unknown %q", r.Trigger, unknown)
		}
		for _, c := range r.Returns {
			if _, ok := Lookup(c); !ok {
				t.Errorf("reaction %q returns unknown %s", r.Trigger, FormatCode(c))
			}
		}
	}
	for _, f := range VerifyFlags {
		if _, unknown := CitationKeys(f.Source); len(unknown) > 0 {
			t.Errorf("flag %s cites unknown %q", f.Name, unknown)
		}
	}
}

func TestProfiles(t *testing.T) {
	if DefaultProfile.Name != "esp32-idf5" {
		t.Errorf("DefaultProfile = %s", DefaultProfile.Name)
	}
	var names []string
	for _, p := range Profiles() {
		names = append(names, p.Name)
		if _, unknown := CitationKeys(p.Source); len(unknown) > 0 || p.Source == "" {
			t.Errorf("%s: source unknown %q", p.Name, unknown)
		}
		if _, unknown := CitationKeys(p.HeapBudget.Source); len(unknown) > 0 {
			t.Errorf("%s: heap source unknown %q", p.Name, unknown)
		}
		seen := map[uint16]bool{}
		for _, s := range p.CipherSuites {
			if seen[s] {
				t.Errorf("%s: suite 0x%04X twice", p.Name, s)
			}
			seen[s] = true
		}
	}
	if !cmp.Equal(names, []string{"esp32-idf5", "esp32-idf4", "esp8266-rtos", "mbedtls-default"}) {
		t.Errorf("profiles = %v", names)
	}
	p5, _ := ProfileByName("ESP32-IDF5")
	p4, _ := ProfileByName("esp32-idf4")
	pd, _ := ProfileByName("mbedtls-default")
	for _, c := range []struct {
		p     Profile
		suite uint16
		want  bool
	}{
		{p5, 0xC02F, true}, {p5, 0xC02B, true}, {p5, 0x009C, true},
		{p5, 0xCCA8, false}, {p5, 0xCCA9, false}, {p5, 0x009E, false}, {p5, 0x0033, false}, {p5, 0x1301, false},
		{p4, 0x009E, true}, {p4, 0x0039, true}, {p4, 0xCCA8, false},
		{pd, 0xCCA8, true},
	} {
		if got := c.p.Offers(c.suite); got != c.want {
			t.Errorf("%s Offers(0x%04X) = %v", c.p.Name, c.suite, got)
		}
	}
	if p5.OffersVersion(VersionTLS13) || !p5.OffersVersion(VersionTLS12) || p5.OffersVersion(VersionTLS11) {
		t.Errorf("idf5 versions %v", p5.Versions)
	}
	if !p4.OffersVersion(VersionTLS10) || p4.MbedTLSMajor() != 2 || p5.MbedTLSMajor() != 3 {
		t.Errorf("idf4 versions %v", p4.Versions)
	}
	if p5.InContentLen != 16384 || p5.OutContentLen != 4096 || !p5.CertBundle || p5.ChecksValidityDates || p5.SendsMaxFragmentLength {
		t.Errorf("idf5 = %+v", p5)
	}
	small := p5
	small.InContentLen = 4096
	for n, want := range map[int]Symptom{4000: "", 4096: "", 4200: SymptomRecordTooLargeSlightly, 4096 + RecordOverhead: SymptomRecordTooLargeSlightly, 6000: SymptomRecordTooLarge} {
		if got := small.RecordSizeSymptom(n); got != want {
			t.Errorf("RecordSizeSymptom(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestEspressifMAC(t *testing.T) {
	for s, want := range map[string]bool{
		"24:0a:c4:12:34:56": true,  // ESP32
		"18:fe:34:00:00:01": true,  // ESP8266
		"5c:cf:7f:aa:bb:cc": true,  // ESP8266
		"00:11:22:33:44:55": false, // not Espressif
		"26:0a:c4:12:34:56": false, // locally administered
	} {
		hw, err := net.ParseMAC(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := IsEspressifMAC(hw); got != want {
			t.Errorf("IsEspressifMAC(%s) = %v", s, got)
		}
	}
	if IsEspressifMAC(nil) || IsEspressifMAC(net.HardwareAddr{0x24, 0x0a}) {
		t.Error("short addresses must not match")
	}
	if EspressifOUICount() != 202 {
		t.Errorf("EspressifOUICount = %d", EspressifOUICount())
	}
}

func TestSources(t *testing.T) {
	keys, unknown := CitationKeys("MT228-msg:1842; MT36-msg:2166; esp-idf#18674; K§2.6; RFC8446 §6.2; Mbed-TLS/mbedtls#9269")
	if len(unknown) > 0 || !cmp.Equal(keys, []string{"MT228-msg", "MT36-msg", "esp-idf#18674", "K§2.6", "RFC8446", "Mbed-TLS/mbedtls#9269"}) {
		t.Errorf("keys %q unknown %q", keys, unknown)
	}
	if _, unknown := CitationKeys("NOPE:12"); len(unknown) != 1 {
		t.Error("unknown key not reported")
	}
}
