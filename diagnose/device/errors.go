package device

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Kind says which module (or ESP-TLS) an error code belongs to.
type Kind string

const (
	KindSSL       Kind = "ssl"
	KindX509      Kind = "x509"
	KindNet       Kind = "net"
	KindPK        Kind = "pk"
	KindMPI       Kind = "mpi"
	KindRSA       Kind = "rsa"
	KindPlatform  Kind = "platform"
	KindASN1      Kind = "asn1" // low-level: added to X.509 and PK codes
	KindMD        Kind = "md"
	KindPSA       Kind = "psa"       // psa_status_t, returned as is by mbedTLS 3.x
	KindComposite Kind = "composite" // high-level + low-level code (mbedtls/error.h)
	KindESPTLS    Kind = "esp-tls"   // esp_err_t from esp_tls_errors.h (positive)
)

// Error is one device error code with its names per mbedTLS version, what it
// looks like in a capture when the ESP is the TLS client, and the fix.
type Error struct {
	// Code as the device prints it: negative for mbedTLS (-0x7100), positive
	// for ESP-TLS esp_err_t (0x8017).
	Code int
	Kind Kind
	// Name228 is the macro name in mbedTLS 2.x (read at 2.28.10; ESP-IDF v4.x),
	// Name36 in mbedTLS 3.x (read at 3.6.6; ESP-IDF v5.x); "" when the value
	// does not exist in that version. ESP-TLS codes carry their ESP_ERR_ name
	// in both (they do not depend on the mbedTLS version).
	Name228 string
	Name36  string
	// Meaning is the header comment (for a reused value: both meanings).
	Meaning string
	// Wire is what a capture shows when the ESP is the TLS client (unless
	// it says otherwise); "" when the code has no wire signature.
	Wire string
	// Fix is the change to make, with menuconfig paths as users see them.
	Fix string
	// Source lists citation keys (see Sources), "; "-separated.
	Source string
	// VersionNote, when set, replaces the computed Versions() text.
	VersionNote string
	// Renamed marks a value whose meaning stayed while the name changed in
	// 3.0 (-0x6E80, -0x7A00), as opposed to a value reused for another error.
	Renamed bool
}

// NameFor returns the macro name in the given mbedTLS major version (2 or 3;
// 4 and later are treated as 3, which was not checked), "" if absent there.
func (e Error) NameFor(mbedtlsMajor int) string {
	if mbedtlsMajor <= 2 {
		return e.Name228
	}
	return e.Name36
}

// Name is the name in mbedTLS 3.x, or the 2.x name when the value exists
// only in 2.x.
func (e Error) Name() string {
	if e.Name36 != "" {
		return e.Name36
	}
	return e.Name228
}

// Reused reports whether mbedTLS 2.x and 3.x use this value for different
// errors (MT30-migr), so the device's version decides the meaning.
func (e Error) Reused() bool {
	return e.Kind != KindESPTLS && e.Name228 != "" && e.Name36 != "" && e.Name228 != e.Name36 && !e.Renamed
}

// Versions says which mbedTLS (and ESP-IDF) versions have this code.
func (e Error) Versions() string {
	if e.VersionNote != "" {
		return e.VersionNote
	}
	switch {
	case e.Kind == KindESPTLS:
		return "ESP-TLS esp_err_t (ESP-IDF v4.x and v5.x; independent of the mbedTLS version)"
	case e.Name228 != "" && e.Name36 == "":
		return "mbedTLS 2.x only (ESP-IDF ≤ v4.4)"
	case e.Name228 == "" && e.Name36 != "":
		return "mbedTLS 3.x only (ESP-IDF v5.x)"
	case e.Reused():
		return "mbedTLS 2.x (ESP-IDF ≤ v4.4) and 3.x (ESP-IDF v5.x) with different meanings"
	case e.Renamed:
		return "mbedTLS 2.28 and 3.x (renamed in 3.0, same meaning)"
	default:
		return "mbedTLS 2.28 and 3.x"
	}
}

// row is one line of data/errors.tsv: short names (n3 == same: as n2).
type row struct {
	c       int
	k       Kind
	n2, n3  string // short names; n3 == "=" means same as n2
	m, w, f string
	s, v    string
	renamed bool
}

const same = "="

var prefixes = map[Kind]string{
	KindSSL: "MBEDTLS_ERR_SSL_", KindX509: "MBEDTLS_ERR_X509_", KindNet: "MBEDTLS_ERR_NET_",
	KindPK: "MBEDTLS_ERR_PK_", KindMPI: "MBEDTLS_ERR_MPI_", KindRSA: "MBEDTLS_ERR_RSA_",
	KindPlatform: "MBEDTLS_ERR_PLATFORM_", KindASN1: "MBEDTLS_ERR_ASN1_", KindMD: "MBEDTLS_ERR_MD_",
	KindPSA: "PSA_ERROR_",
}

func full(k Kind, n string) string {
	if n == "" || strings.HasPrefix(n, "MBEDTLS_") || strings.HasPrefix(n, "ESP_ERR_") || strings.HasPrefix(n, "PSA_ERROR_") || strings.Contains(n, " + ") {
		return n
	}
	return prefixes[k] + n
}

func (r row) err() Error {
	n3 := r.n3
	if n3 == same {
		n3 = r.n2
	}
	return Error{Code: r.c, Kind: r.k, Name228: full(r.k, r.n2), Name36: full(r.k, n3),
		Meaning: r.m, Wire: r.w, Fix: r.f, Source: r.s, VersionNote: r.v, Renamed: r.renamed}
}

var (
	errorTable  []Error
	errorByCode map[int]int
)

func init() {
	errorByCode = make(map[int]int, len(errorRows))
	for _, r := range errorRows { // codes are unique: parseErrors checks
		errorByCode[r.c] = len(errorTable)
		errorTable = append(errorTable, r.err())
	}
}

// Errors returns the whole table, ordered as written (SSL, X.509, NET, PK,
// low-level/composite, ESP-TLS).
func Errors() []Error { return append([]Error(nil), errorTable...) }

// Lookup finds a code. A negative code not in the table whose high-level
// (0x1000–0x7F80) and low-level (0x01–0x7F) parts both are, is returned as
// a synthesised composite (mbedtls/error.h: codes may be the sum of both).
func Lookup(code int) (Error, bool) {
	if i, ok := errorByCode[code]; ok {
		return errorTable[i], true
	}
	hi, lo, ok := splitComposite(code)
	if !ok {
		return Error{}, false
	}
	h, okH := errorByCode[hi]
	l, okL := errorByCode[lo]
	if !okH || !okL {
		return Error{}, false
	}
	H, L := errorTable[h], errorTable[l]
	join := func(a, b string) string {
		if a == "" || b == "" {
			return ""
		}
		return a + " + " + b
	}
	return Error{
		Code: code, Kind: KindComposite,
		Name228: join(H.Name228, L.Name228), Name36: join(H.Name36, L.Name36),
		Meaning: H.Meaning + ", caused by: " + L.Meaning,
		Wire:    H.Wire, Fix: firstNonEmpty(L.Fix, H.Fix),
		Source: "MT36-err:18-90; " + H.Source + "; " + L.Source,
	}, true
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// splitComposite splits a negative mbedTLS code into its high-level and
// low-level parts; ok is false when it is not a sum of both.
func splitComposite(code int) (hi, lo int, ok bool) {
	if code >= 0 || code <= -0x8000 {
		return 0, 0, false
	}
	m := -code
	h, l := m&^0x7F, m&0x7F
	if h < 0x1000 || l == 0 {
		return 0, 0, false
	}
	return -h, -l, true
}

// FormatCode prints a code the way the device does: "-0x7200", "-0x7F00",
// "-0x004C" for mbedTLS, "0x8017" for ESP-TLS (upper-case hex digits).
func FormatCode(code int) string {
	if code < 0 {
		return fmt.Sprintf("-0x%04X", -code)
	}
	return fmt.Sprintf("0x%04X", code)
}

// ParseCode reads an error code as users paste it:
//
//	"-0x7200", "-0X7200"  mbedTLS, as ESP-IDF logs it
//	"0x7200"              without the sign, as esp_tls_get_and_clear_last_error
//	                      prints "Last mbedtls failure: 0x7200": values below
//	                      0x8000 are mbedTLS codes and become negative;
//	                      0x8000 and above are ESP-TLS esp_err_t and stay positive
//	"-29184", "(-12288)"  decimal, as Arduino prints it
//	"7200", "29184"       bare digits: decimal if that names a known code,
//	                      else hexadecimal if that does ("7200" → -0x7200),
//	                      else decimal; the sign rule above applies
//	"MBEDTLS_ERR_SSL_INVALID_RECORD", "ESP_ERR_MBEDTLS_SSL_SETUP_FAILED"
//	                      a macro name (case-insensitive); a name that has
//	                      different values in 2.x and 3.x gives the 3.x one
func ParseCode(s string) (int, error) {
	t := strings.TrimSpace(s)
	t = strings.TrimSuffix(strings.TrimPrefix(t, "("), ")")
	t = strings.TrimSpace(t)
	if t == "" {
		return 0, fmt.Errorf("empty error code")
	}
	if c, ok := codeByName(t); ok {
		return c, nil
	}
	neg := false
	switch t[0] {
	case '-':
		neg, t = true, t[1:]
	case '+':
		t = t[1:]
	}
	var mag int64
	var err error
	switch {
	case strings.HasPrefix(t, "0x") || strings.HasPrefix(t, "0X"):
		mag, err = strconv.ParseInt(t[2:], 16, 64)
	default:
		var dec, hex int64
		var decErr, hexErr error
		dec, decErr = strconv.ParseInt(t, 10, 64)
		hex, hexErr = strconv.ParseInt(t, 16, 64)
		switch {
		case decErr == nil && known(signed(dec, neg)):
			mag = dec
		case hexErr == nil && known(signed(hex, neg)):
			mag = hex
		case decErr == nil:
			mag = dec
		default:
			err = decErr
		}
	}
	if err != nil || t == "" {
		return 0, fmt.Errorf("%q is not an error code (want e.g. -0x7200, 0x8017 or -29184)", s)
	}
	if mag == 0 || mag > 0xFFFF {
		return 0, fmt.Errorf("%q is out of range for an mbedTLS (-0x0001..-0x7FFF) or ESP-TLS (0x8000..) code", s)
	}
	if neg && mag >= 0x8000 {
		return 0, fmt.Errorf("%q: mbedTLS codes lie in -0x0001..-0x7FFF; ESP-TLS codes (0x8000..) are positive", s)
	}
	return signed(mag, neg), nil
}

// signed applies the sign rule: explicit minus, or any magnitude below
// 0x8000 (mbedTLS codes are negative), gives a negative code.
func signed(mag int64, neg bool) int {
	if neg || mag < 0x8000 {
		return -int(mag)
	}
	return int(mag)
}

func known(code int) bool { _, ok := Lookup(code); return ok }

// codeByName resolves a macro name; 3.x values win over 2.x ones.
func codeByName(name string) (int, bool) {
	u := strings.ToUpper(name)
	if !strings.HasPrefix(u, "MBEDTLS_") && !strings.HasPrefix(u, "ESP_ERR_") && !strings.HasPrefix(u, "PSA_ERROR_") {
		return 0, false
	}
	found, code := false, 0
	for _, e := range errorTable {
		if e.Name36 == u {
			return e.Code, true
		}
		if e.Name228 == u && !found {
			found, code = true, e.Code
		}
	}
	return code, found
}

// Explain is the text `tlspcap explain CODE` prints: the name per version,
// the meaning, the wire symptom, the fix and the sources.
func Explain(code int) string {
	var b strings.Builder
	e, ok := Lookup(code)
	if !ok {
		fmt.Fprintf(&b, "%s: not in tlspcap's table (mbedTLS 2.28/3.6 SSL, X.509, NET, PK codes and ESP-TLS esp_err_t).\n", FormatCode(code))
		if hi, lo, ok := splitComposite(code); ok {
			fmt.Fprintf(&b, "  It may be a sum of a high-level code %s and a low-level code %s (mbedtls/error.h).\n", FormatCode(hi), FormatCode(lo))
			for _, c := range []int{hi, lo} {
				if p, ok := Lookup(c); ok {
					fmt.Fprintf(&b, "  %s = %s\n", FormatCode(c), p.Name())
				}
			}
		}
		return b.String()
	}
	switch {
	case e.Reused():
		fmt.Fprintf(&b, "%s  this value names different errors depending on the device's mbedTLS version:\n", FormatCode(code))
		fmt.Fprintf(&b, "  mbedTLS 2.x (ESP-IDF ≤ v4.4): %s\n", e.Name228)
		fmt.Fprintf(&b, "  mbedTLS 3.x (ESP-IDF v5.x):   %s\n", e.Name36)
	case e.Renamed:
		fmt.Fprintf(&b, "%s  %s (mbedTLS 3.x); %s in mbedTLS 2.x\n", FormatCode(code), e.Name36, e.Name228)
	default:
		fmt.Fprintf(&b, "%s  %s\n", FormatCode(code), e.Name())
	}
	fmt.Fprintf(&b, "  versions: %s\n", e.Versions())
	if e.Kind == KindComposite {
		if hi, lo, ok := splitComposite(code); ok {
			fmt.Fprintf(&b, "  composite: %s + %s\n", FormatCode(hi), FormatCode(lo))
		}
	}
	fmt.Fprintf(&b, "  meaning: %s\n", e.Meaning)
	writeTail(&b, "on the wire (ESP = TLS client)", e.Wire, e.Fix, e.Source)
	return b.String()
}

// writeTail is the end of an explanation: the wire symptom and the fix
// when known, and the sources.
func writeTail(b *strings.Builder, wireLabel, wire, fix, source string) {
	if wire != "" {
		fmt.Fprintf(b, "  %s: %s\n", wireLabel, wire)
	}
	if fix != "" {
		fmt.Fprintf(b, "  fix: %s\n", fix)
	}
	fmt.Fprintf(b, "  source: %s\n", source)
}

// codesSorted returns the table's codes in ascending order (for tests and
// listings).
func codesSorted() []int {
	out := make([]int, 0, len(errorTable))
	for _, e := range errorTable {
		out = append(out, e.Code)
	}
	sort.Ints(out)
	return out
}
