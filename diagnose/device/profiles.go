package device

import "strings"

// TLS protocol versions as they appear on the wire.
const (
	VersionTLS10 uint16 = 0x0301
	VersionTLS11 uint16 = 0x0302
	VersionTLS12 uint16 = 0x0303
	VersionTLS13 uint16 = 0x0304
)

// HeapBudget is the free heap a TLS handshake needs on the device.
type HeapBudget struct {
	HandshakeMin int // bytes
	HandshakeMax int // bytes
	Note         string
	Source       string
}

// Profile is what a device family does by default.
type Profile struct {
	Name        string
	Description string
	// MbedTLS is the mbedTLS line: "3.6", "2.28", "2.x".
	MbedTLS string
	// IDF names the ESP-IDF releases the profile covers.
	IDF string
	// InContentLen / OutContentLen are CONFIG_MBEDTLS_SSL_IN/OUT_CONTENT_LEN.
	InContentLen  int
	OutContentLen int
	// Versions the device offers by default (wire values, lowest first).
	Versions []uint16
	// CipherSuites the device offers by default with TLS 1.2 and below (the
	// set, not the order: the order was not computed), and TLS13Suites it
	// offers once TLS 1.3 is enabled. See SuitesNote for how they were found.
	CipherSuites []uint16
	TLS13Suites  []uint16
	SuitesNote   string
	// CertBundle: verification through esp_crt_bundle (knowledge §4) is
	// available and on by default in menuconfig.
	CertBundle bool
	// ChecksValidityDates: CONFIG_MBEDTLS_HAVE_TIME_DATE (default n on ESP).
	ChecksValidityDates bool
	// SendsMaxFragmentLength: ESP-TLS never calls mbedtls_ssl_conf_max_frag_len.
	SendsMaxFragmentLength bool
	// SendsCloseNotify: ESP-TLS never calls mbedtls_ssl_close_notify.
	SendsCloseNotify bool
	// HandshakeReassembly: handshake messages split over records are
	// reassembled ("yes", "no", or the versions that do).
	HandshakeReassembly string
	HeapBudget          HeapBudget
	Source              string
}

// MbedTLSMajor is 2 or 3.
func (p Profile) MbedTLSMajor() int {
	if strings.HasPrefix(p.MbedTLS, "2") {
		return 2
	}
	return 3
}

// Offers reports whether the profile offers a cipher suite by default.
func (p Profile) Offers(suite uint16) bool {
	for _, s := range p.CipherSuites {
		if s == suite {
			return true
		}
	}
	return false
}

// OffersVersion reports whether the profile offers a TLS version by default.
func (p Profile) OffersVersion(v uint16) bool {
	for _, x := range p.Versions {
		if x == v {
			return true
		}
	}
	return false
}

// RecordOverhead is how far (bytes) a record's length may exceed
// InContentLen and still fit mbedTLS's input buffer with ESP-IDF's
// configuration: IV 16 + MAC 48 (SHA-384 on) + CBC padding 256, plus 16 of
// TLS 1.3 padding when TLS 1.3 is enabled (not added here). DERIVED from
// MT36-misc:296-325,392-400; approximate.
const RecordOverhead = 16 + 48 + 256

// RecordSizeSymptom classifies a record the device received by its header
// length: SymptomRecordTooLarge when it cannot fit the input buffer, SymptomRecordTooLargeSlightly
// when it fits but its content exceeds InContentLen, "" otherwise.
func (p Profile) RecordSizeSymptom(recordLen int) Symptom {
	switch {
	case p.InContentLen <= 0 || recordLen <= p.InContentLen:
		return ""
	case recordLen > p.InContentLen+RecordOverhead:
		return SymptomRecordTooLarge
	default:
		return SymptomRecordTooLargeSlightly
	}
}

// Cipher suites (IANA values). DERIVED from knowledge §3.3: the key
// exchanges and ciphers enabled by default in ESP-IDF's Kconfig, applied
// to the suites mbedTLS defines.
var (
	suitesECDHEECDSA = []uint16{0xC02B, 0xC02C, 0xC023, 0xC024, 0xC009, 0xC00A, 0xC0AC, 0xC0AD, 0xC0AE, 0xC0AF}
	suitesECDHERSA   = []uint16{0xC02F, 0xC030, 0xC027, 0xC028, 0xC013, 0xC014}
	suitesRSA        = []uint16{0x009C, 0x009D, 0x003C, 0x003D, 0x002F, 0x0035, 0xC09C, 0xC09D, 0xC0A0, 0xC0A1}
	suitesECDHRSA    = []uint16{0xC031, 0xC032, 0xC029, 0xC02A, 0xC00E, 0xC00F}
	suitesECDHECDSA  = []uint16{0xC02D, 0xC02E, 0xC025, 0xC026, 0xC004, 0xC005}
	suitesDHERSA     = []uint16{0x009E, 0x009F, 0x0067, 0x006B, 0x0033, 0x0039, 0xC09E, 0xC09F, 0xC0A2, 0xC0A3}
	suitesChaCha12   = []uint16{0xCCA8, 0xCCA9, 0xCCAA}
	suitesTLS13NoCC  = []uint16{0x1301, 0x1302, 0x1304, 0x1305}
	suitesTLS13All   = []uint16{0x1301, 0x1302, 0x1303, 0x1304, 0x1305}
)

func cat(lists ...[]uint16) []uint16 {
	var out []uint16
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

const (
	suitesNoteIDF = "DERIVED from the default Kconfig (knowledge §3.3): AES with GCM, CCM and CBC over RSA, ECDHE-RSA, ECDHE-ECDSA, ECDH-RSA and ECDH-ECDSA; no ChaCha20-Poly1305 (CHACHAPOLY_C=n), no 3DES/Camellia, no PSK"
	heapFAQ       = "a TLS handshake needs 40–50 KB of free heap; the https_request example uses about 42196 B by default and about 22013 B with dynamic buffers + free config data + free CA"
)

var profiles = []Profile{
	{
		Name:        "esp32-idf5",
		Description: "ESP32-family device on ESP-IDF v5.x (mbedTLS 3.x) with default menuconfig",
		MbedTLS:     "3.6", IDF: "ESP-IDF v5.0–v5.5",
		InContentLen: 16384, OutContentLen: 4096,
		Versions:     []uint16{VersionTLS12},
		CipherSuites: cat(suitesECDHEECDSA, suitesECDHERSA, suitesRSA, suitesECDHRSA, suitesECDHECDSA),
		TLS13Suites:  suitesTLS13NoCC,
		SuitesNote:   suitesNoteIDF + "; no DHE-RSA (MBEDTLS_DHM_C=n); TLS 1.3 off by default (MBEDTLS_SSL_PROTO_TLS1_3=n)",
		CertBundle:   true, ChecksValidityDates: false,
		HandshakeReassembly: "mbedTLS ≥ 3.6.3 only: ESP-IDF v5.0.9, v5.1.7, v5.2.6, v5.3.4, v5.4.2+, v5.5+",
		HeapBudget:          HeapBudget{HandshakeMin: 40 * 1024, HandshakeMax: 50 * 1024, Note: heapFAQ, Source: "FAQ; IDF-docs-mbedtls553"},
		Source:              "K§1; K§3.2; K§3.3; K§3.4; K§2.6; IDF-Kc509; IDF-Kc553; FAQ",
	},
	{
		Name:        "esp32-idf4",
		Description: "ESP32 on ESP-IDF v4.x (mbedTLS 2.28 from v4.3.3/v4.4.1; 2.16 before) with default menuconfig",
		MbedTLS:     "2.28", IDF: "ESP-IDF v4.0–v4.4.8",
		InContentLen: 16384, OutContentLen: 4096,
		Versions:     []uint16{VersionTLS10, VersionTLS11, VersionTLS12},
		CipherSuites: cat(suitesECDHEECDSA, suitesECDHERSA, suitesDHERSA, suitesRSA, suitesECDHRSA, suitesECDHECDSA),
		SuitesNote:   suitesNoteIDF + "; DHE-RSA included (DHM always on in v4.4 esp_config.h; DHE suites seen in IDF 4.x debug dumps, esp-mqtt#98, esp-idf#2296)",
		CertBundle:   true, ChecksValidityDates: false,
		HandshakeReassembly: "no (mbedTLS 2.x)",
		HeapBudget:          HeapBudget{HandshakeMin: 40 * 1024, HandshakeMax: 50 * 1024, Note: heapFAQ, Source: "FAQ; IDF-docs-mbedtls553"},
		Source:              "K§1; K§3.2; K§3.3; K§3.4; IDF-Kc448; IDF-espcfg448:1801; MT228-internal:56-70",
	},
	{
		Name:        "esp8266-rtos",
		Description: "ESP8266 on ESP8266_RTOS_SDK (mbedTLS 2.x, exact version not determined) with default menuconfig; certificate bundle support UNVERIFIED (assumed absent)",
		MbedTLS:     "2.x", IDF: "ESP8266_RTOS_SDK v3.x",
		InContentLen: 16384, OutContentLen: 4096,
		Versions:     []uint16{VersionTLS10, VersionTLS11, VersionTLS12},
		CipherSuites: cat(suitesECDHEECDSA, suitesECDHERSA, suitesDHERSA, suitesRSA, suitesECDHRSA, suitesECDHECDSA),
		SuitesNote:   "DERIVED: ESP8266_RTOS_SDK mbedtls_v2 Kconfig has the same names and defaults as ESP-IDF v4 (TLS 1.0–1.2, DHE-RSA y), so the same set as esp32-idf4",
		CertBundle:   false, ChecksValidityDates: false,
		HandshakeReassembly: "no (mbedTLS 2.x)",
		HeapBudget: HeapBudget{HandshakeMin: 40 * 1024, HandshakeMax: 50 * 1024,
			Note:   "the ESP8266 has far less free heap than an ESP32: the FAQ blames failed mutual-TLS handshakes on memory and enables dynamic TX/RX buffers, free peer certificate and free certificate/key/DHM data",
			Source: "FAQ; ESP8266-Kc-v2"},
		Source: "K§10; ESP8266-Kc-v2; ESP8266_RTOS_SDK#461; FAQ",
	},
	{
		Name:        "mbedtls-default",
		Description: "upstream mbedTLS 3.6 with its default configuration (e.g. ssl_client2 built from Debian's mbedtls 3.6.6), as in the project's ground-truth captures",
		MbedTLS:     "3.6", IDF: "none (plain mbedTLS 3.6.6)",
		InContentLen: 16384, OutContentLen: 16384,
		Versions:     []uint16{VersionTLS12, VersionTLS13},
		CipherSuites: cat(suitesECDHEECDSA, suitesECDHERSA, suitesDHERSA, suitesRSA, suitesECDHRSA, suitesECDHECDSA, suitesChaCha12),
		TLS13Suites:  suitesTLS13All,
		SuitesNote:   "UNVERIFIED: upstream mbedtls_config.h defaults (TLS 1.3, ChaCha20-Poly1305 and DHM enabled) were not read for the knowledge file; the set lists the AES, ChaCha20 and DHE suites only",
		CertBundle:   false, ChecksValidityDates: true,
		SendsMaxFragmentLength: false, SendsCloseNotify: false,
		HandshakeReassembly: "yes (3.6.3+; measured with 3.6.6)",
		Source:              "MT-default-config; DESIGN-measured; MT366-ChangeLog",
	},
}

// DefaultProfile is esp32-idf5.
var DefaultProfile = profiles[0]

// Profiles returns all profiles, the default first.
func Profiles() []Profile { return append([]Profile(nil), profiles...) }

// ProfileByName finds a profile (case-insensitive).
func ProfileByName(name string) (Profile, bool) {
	for _, p := range profiles {
		if strings.EqualFold(p.Name, strings.TrimSpace(name)) {
			return p, true
		}
	}
	return Profile{}, false
}
