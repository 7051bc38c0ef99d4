package device

import "strings"

// TLS protocol versions as they appear on the wire.
const (
	VersionTLS10 uint16 = 0x0301
	VersionTLS11 uint16 = 0x0302
	VersionTLS12 uint16 = 0x0303
	VersionTLS13 uint16 = 0x0304
)

// Reassembly says whether a device reassembles a handshake message split
// over several records.
type Reassembly int

const (
	ReassemblyNever Reassembly = iota
	// ReassemblyByRelease: only releases shipping the mbedTLS of the
	// handshake-reassembly milestone (ReassemblyMilestone) do.
	ReassemblyByRelease
	ReassemblyAlways
)

// ReassemblyMilestone is the mbedTLS release that brought handshake-message
// reassembly and the ESP-IDF releases that ship it.
func ReassemblyMilestone() Milestone { return reassembly }

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
	// CertBundle: verification through esp_crt_bundle is
	// available and on by default in menuconfig.
	CertBundle bool
	// ChecksValidityDates: CONFIG_MBEDTLS_HAVE_TIME_DATE (default n on ESP).
	ChecksValidityDates bool
	// SendsMaxFragmentLength: ESP-TLS never calls mbedtls_ssl_conf_max_frag_len.
	SendsMaxFragmentLength bool
	// SendsCloseNotify: ESP-TLS never calls mbedtls_ssl_close_notify.
	SendsCloseNotify bool
	// HandshakeReassembly: whether handshake messages split over records
	// are reassembled.
	HandshakeReassembly Reassembly
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

var profiles = must(parseProfiles("data/profiles.json", mustRead("data/profiles.json")))

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
