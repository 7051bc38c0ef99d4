package device

import (
	"fmt"
	"sort"
	"strings"
)

// TLS alert descriptions (MT36-ssl.h:565-598).
var alertNames = map[uint8]string{
	0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 21: "decryption_failed",
	22: "record_overflow", 40: "handshake_failure", 41: "no_certificate", 42: "bad_certificate",
	43: "unsupported_certificate", 44: "certificate_revoked", 45: "certificate_expired",
	46: "certificate_unknown", 47: "illegal_parameter", 48: "unknown_ca", 49: "access_denied",
	50: "decode_error", 51: "decrypt_error", 70: "protocol_version", 71: "insufficient_security",
	80: "internal_error", 86: "inappropriate_fallback", 90: "user_canceled", 100: "no_renegotiation",
	109: "missing_extension", 110: "unsupported_extension", 112: "unrecognized_name",
	115: "unknown_psk_identity", 116: "certificate_required", 120: "no_application_protocol",
}

// AlertName returns the alert description's name, or "alert(N)".
func AlertName(desc uint8) string {
	if n, ok := alertNames[desc]; ok {
		return n
	}
	return fmt.Sprintf("alert(%d)", desc)
}

// VerifyFlag is one MBEDTLS_X509_BADCERT_*/BADCRL_* bit (MT228-x509, MT36-x509;
// x509.h 2.28 lines 94–113 / 3.6 lines 91–110, identical).
type VerifyFlag struct {
	Bit     uint32
	Name    string
	Meaning string
	Note    string // what it means for an ESP
	Source  string
}

const srcFlags = "MT228-x509; MT36-x509"

// VerifyFlags is the flag table in bit order.
var VerifyFlags = []VerifyFlag{
	{0x01, "MBEDTLS_X509_BADCERT_EXPIRED", "the certificate validity has expired", "only checked with CONFIG_MBEDTLS_HAVE_TIME_DATE=y (default n)", srcFlags},
	{0x02, "MBEDTLS_X509_BADCERT_REVOKED", "the certificate has been revoked (is on a CRL)", "ESP-TLS passes no CRL", srcFlags},
	{0x04, "MBEDTLS_X509_BADCERT_CN_MISMATCH", "the certificate Common Name (CN) does not match with the expected CN", "expected name = common_name or the connect hostname", srcFlags},
	{0x08, "MBEDTLS_X509_BADCERT_NOT_TRUSTED", "the certificate is not correctly signed by the trusted CA", "no path to cacert or the bundle", srcFlags},
	{0x10, "MBEDTLS_X509_BADCRL_NOT_TRUSTED", "the CRL is not correctly signed by the trusted CA", "", srcFlags},
	{0x20, "MBEDTLS_X509_BADCRL_EXPIRED", "the CRL is expired", "", srcFlags},
	{0x40, "MBEDTLS_X509_BADCERT_MISSING", "certificate was missing", "server side: the client sent no certificate", srcFlags},
	{0x80, "MBEDTLS_X509_BADCERT_SKIP_VERIFY", "certificate verification was skipped", "set on an ESP server without cacert (authmode NONE)", srcFlags + "; MT36-tls:7948-7951"},
	{0x0100, "MBEDTLS_X509_BADCERT_OTHER", "other reason (can be used by verify callback)", "set when the flags become 0xFFFFFFFF on a fatal verify error (bundle failure)", srcFlags + "; MT36-x509:3131-3141"},
	{0x0200, "MBEDTLS_X509_BADCERT_FUTURE", "the certificate validity starts in the future", "device clock not set (with HAVE_TIME_DATE=y)", srcFlags},
	{0x0400, "MBEDTLS_X509_BADCRL_FUTURE", "the CRL is from the future", "", srcFlags},
	{0x0800, "MBEDTLS_X509_BADCERT_KEY_USAGE", "usage does not match the keyUsage extension", "", srcFlags},
	{0x1000, "MBEDTLS_X509_BADCERT_EXT_KEY_USAGE", "usage does not match the extendedKeyUsage extension", "server certificate without serverAuth EKU", srcFlags},
	{0x2000, "MBEDTLS_X509_BADCERT_NS_CERT_TYPE", "usage does not match the nsCertType extension", "", srcFlags},
	{0x4000, "MBEDTLS_X509_BADCERT_BAD_MD", "the certificate is signed with an unacceptable hash", "default profile: SHA-224+ (2.28) / SHA-256+ (3.6), so SHA-1 is rejected; the bundle callback ignores this bit", srcFlags + "; MT228-x509:80-90; MT36-x509:89-95; IDF-bundle553:222"},
	{0x8000, "MBEDTLS_X509_BADCERT_BAD_PK", "the certificate is signed with an unacceptable PK alg (e.g. RSA vs ECDSA)", "", srcFlags},
	{0x010000, "MBEDTLS_X509_BADCERT_BAD_KEY", "the certificate is signed with an unacceptable key (e.g. bad curve, RSA too short)", "RSA < 2048 bits or an EC curve not allowed", srcFlags},
	{0x020000, "MBEDTLS_X509_BADCRL_BAD_MD", "the CRL is signed with an unacceptable hash", "", srcFlags},
	{0x040000, "MBEDTLS_X509_BADCRL_BAD_PK", "the CRL is signed with an unacceptable PK alg", "", srcFlags},
	{0x080000, "MBEDTLS_X509_BADCRL_BAD_KEY", "the CRL is signed with an unacceptable key", "", srcFlags},
}

// MBEDTLS_X509_BADCERT_* verification flags (x509.h, identical in 2.28 and
// 3.6), the ones the alert mapping and the chain analysis use.
const (
	FlagExpired     uint32 = 0x01
	FlagRevoked     uint32 = 0x02
	FlagCNMismatch  uint32 = 0x04
	FlagNotTrusted  uint32 = 0x08
	FlagMissing     uint32 = 0x40
	FlagSkipVerify  uint32 = 0x80
	FlagOther       uint32 = 0x0100
	FlagFuture      uint32 = 0x0200
	FlagKeyUsage    uint32 = 0x0800
	FlagExtKeyUsage uint32 = 0x1000
	FlagNSCertType  uint32 = 0x2000
	FlagBadMD       uint32 = 0x4000
	FlagBadPK       uint32 = 0x8000
	FlagBadKey      uint32 = 0x010000
)

// FlagNames names the set bits of a verify-flags value, lowest bit first;
// unknown bits are printed as hex.
func FlagNames(flags uint32) []string {
	var out []string
	rest := flags
	for _, f := range VerifyFlags {
		if flags&f.Bit != 0 {
			out = append(out, f.Name)
			rest &^= f.Bit
		}
	}
	if rest != 0 {
		out = append(out, fmt.Sprintf("0x%X", rest))
	}
	return out
}

// AlertRule is one step of the mbedTLS client's flags → alert mapping; the
// first rule whose Mask intersects the flags wins (MT216-tls:6097-6125, MT228-tls:2788-2819, MT36-tls:10020-10050).
type AlertRule struct {
	Mask   uint32
	Alert  uint8
	Only2x bool // the rule exists in mbedTLS 2.x only
	Source string
}

const srcAlertMap = "MT216-tls:6097-6125; MT228-tls:2788-2819; MT36-tls:10020-10050"

// VerifyAlertRules in order; flags matching none give certificate_unknown(46).
var VerifyAlertRules = []AlertRule{
	{Mask: FlagOther, Alert: 49, Source: srcAlertMap},
	{Mask: FlagCNMismatch, Alert: 42, Source: srcAlertMap},
	{Mask: FlagKeyUsage | FlagExtKeyUsage | FlagBadPK | FlagBadKey, Alert: 43, Source: srcAlertMap},
	{Mask: FlagNSCertType, Alert: 43, Only2x: true, Source: srcAlertMap},
	{Mask: FlagExpired, Alert: 45, Source: srcAlertMap},
	{Mask: FlagRevoked, Alert: 44, Source: srcAlertMap},
	{Mask: FlagNotTrusted, Alert: 48, Source: srcAlertMap},
}

// AlertForVerifyFlags is the alert an mbedTLS 3.x client (ESP-IDF v5.x)
// sends when certificate verification fails with these flags.
func AlertForVerifyFlags(flags uint32) uint8 { return AlertForVerifyFlagsMbedTLS(flags, 3) }

// AlertForVerifyFlagsMbedTLS is AlertForVerifyFlags for an mbedTLS major
// version (2: 2.16/2.28, where NS_CERT_TYPE also gives 43).
func AlertForVerifyFlagsMbedTLS(flags uint32, mbedtlsMajor int) uint8 {
	for _, r := range VerifyAlertRules {
		if r.Only2x && mbedtlsMajor > 2 {
			continue
		}
		if flags&r.Mask != 0 {
			return r.Alert
		}
	}
	return 46
}

// Reaction is what the device sends and returns for a trigger when it is
// the TLS client (each reaction cites its source).
type Reaction struct {
	Trigger string
	// Alert the device sends: -1 none.
	Alert   int
	Sends   string
	Returns []int
	Source  string
}

// Reactions lists how the mbedTLS client reacts on the wire.
var Reactions = []Reaction{
	{"fatal alert received", none, "nothing", []int{-0x7780}, "MT36-msg:5279-5284"},
	{"warning close_notify received", none, "nothing (ESP-TLS never calls mbedtls_ssl_close_notify)", []int{-0x7880}, "MT36-msg:5286-5290"},
	{"other warning alert received", none, "nothing (ignored)", []int{-0x6680}, "MT36-msg:5299-5300"},
	{"alert record whose length is not 2", none, "nothing", []int{-0x7200}, "MT36-msg:5264-5271"},
	{"ServerHello version out of range", 70, "fatal protocol_version(70)", []int{-0x6E80}, "MT36-cli12:1275-1287"},
	{"ServerHello chose a suite not offered", 47, "fatal illegal_parameter(47)", []int{-0x6600}, "MT36-cli12:1397-1405"},
	{"bad MAC on decrypt", 20, "fatal bad_record_mac(20)", []int{-0x7180}, "MT36-msg:5172-5176"},
	{"Finished mismatch (2.28)", 51, "fatal decrypt_error(51)", []int{-0x7E80}, "MT228-tls:3724-3730"},
	{"certificate verification failure", none, "the alert chosen from the verify flags (see AlertForVerifyFlags)", []int{-0x2700, -0x3000, -0x7A00}, "MT216-tls:6097-6125; MT228-tls:2788-2819; MT36-tls:10020-10050"},
	{"TCP FIN during the handshake", none, "nothing", []int{-0x7280}, "MT228-msg:1999-2001"},
	{"TCP RST", none, "nothing", []int{-0x0050}, "IDF-netsock553"},
	{"record too big / non-TLS bytes", none, "nothing (2.16: unexpected_message(10) for non-TLS)", []int{-0x7100, -0x7200}, "MT216-tls:4339-4355"},
	{"own certificate chain > OUT_CONTENT_LEN", none, "nothing", []int{-0x7500, -0x6A00}, "MT228-tls:2310-2315; MT36-tls:7663-7669"},
	{"mbedtls_ssl_set_hostname never called (2.28.10+/3.6.3+)", none, "nothing", []int{-0x5D80}, "MT36-tls:9855-9866"},
}

// AlertInfo explains one alert in one direction.
type AlertInfo struct {
	Desc uint8
	Name string
	// FromDevice: the ESP sent it (true) or the server sent it to the ESP.
	FromDevice bool
	// Known is false when tlspcap has no specific knowledge of the alert in
	// this direction (Causes then holds the generic meaning).
	Known bool
	// Causes is one sentence naming the usual causes, for explanations;
	// CauseList holds them one by one.
	Causes    string
	CauseList []string
	// Candidates are the errors the device reports with it.
	Candidates []Candidate
	// VerifyFlags: for alerts the ESP sends after certificate verification,
	// the flag bits that lead to it (MT216-tls:6097-6125, MT228-tls:2788-2819, MT36-tls:10020-10050).
	VerifyFlags uint32
	Fix         string
	Source      string
}

type alertKnowledge struct {
	causes []string
	errs   []Candidate
	flags  uint32
	fix    string
	src    string
}

var fatalAlertCandidate = Candidate{Code: -0x7780, Name: "MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE", Versions: vAll, Why: "every fatal alert from the server", Alert: none, Source: "MT36-msg:5279-5284"}

// fromServer: what it usually means when a server sends the alert to an
// ESP client. Entries without an ESP-specific citation give the alert's
// RFC meaning (RFC5246 §7.2, RFC8446 §6.2).
var fromServer = map[uint8]alertKnowledge{
	0: {causes: []string{"normal close, e.g. the server's idle timeout"}, errs: []Candidate{{Code: -0x7880, Versions: vAll, Why: "close_notify; esp_mbedtls_read() returns 0", Alert: none, Source: "MT36-msg:5286-5290; IDF-mbedtls553:329-421"}},
		fix: "reconnect, or use keep-alive", src: "MT36-msg:5286-5290; IDF-mbedtls553:329-421"},
	10: {causes: []string{"the server did not expect the device's message (protocol confusion, middlebox)"}, src: "RFC5246 §7.2"},
	20: {causes: []string{"a record the device sent failed the server's MAC check: corruption or a middlebox"}, src: "RFC5246 §7.2"},
	22: {causes: []string{"the device sent a record longer than the server accepts"}, src: "RFC5246 §7.2"},
	40: {causes: []string{
		"no common cipher suite or curve: the server allows only ChaCha20-Poly1305, DHE or TLS 1.3 suites (ESP-IDF v5 offers none of these by default), or esp_tls_cfg_t.ciphersuites_list is too narrow",
		"the server requires a client certificate the device did not send (mutual TLS)",
	}, fix: "allow ECDHE-ECDSA/ECDHE-RSA with AES-GCM on the server, or on the device " + Fix("MBEDTLS_CHACHAPOLY_C", "y") + " / " + Fix("MBEDTLS_DHM_C", "y") + " / " + Fix("MBEDTLS_SSL_PROTO_TLS1_3", "y") + "; for mutual TLS set " + FieldFix(ConceptClientCert, "<cert>") + " and the key",
		src: "esp-idf#13686; MicrochipTech/mbedtls-examples#7"},
	42: {causes: []string{"the server rejected the device's client certificate (mutual TLS), or none was sent", "ESP as server: a browser rejects the ESP's self-signed certificate"},
		fix: "set the client certificate and key the server expects; check the cloud policy (AWS IoT)", src: "esp-idf#15423"},
	43: {causes: []string{"the server does not accept the type of the device's client certificate"}, src: "RFC5246 §7.2"},
	44: {causes: []string{"the device's client certificate was revoked"}, src: "RFC5246 §7.2"},
	45: {causes: []string{"the device's client certificate has expired"}, src: "RFC5246 §7.2"},
	46: {causes: []string{"the server rejected the device's client certificate for another reason", "ESP as server: a browser rejects the ESP's certificate"}, src: "RFC5246 §7.2"},
	47: {causes: []string{"a field in the device's message is out of range or inconsistent"}, src: "RFC5246 §7.2"},
	48: {causes: []string{"the server does not trust the CA of the device's client certificate", "ESP as server: a browser does not trust the ESP's self-signed certificate"}, fix: "have the server trust the device's CA; for an ESP server install its certificate in the client or use a trusted one", src: "RFC5246 §7.2; esp-idf#14883"},
	49: {causes: []string{"the server's access control refused the device (valid certificate, but not allowed)"}, src: "RFC5246 §7.2"},
	50: {causes: []string{"the server could not parse the device's message"}, src: "RFC5246 §7.2"},
	51: {causes: []string{"a signature or Finished check failed on the server: e.g. the client key does not match the client certificate"}, src: "RFC5246 §7.2"},
	70: {causes: []string{"no common TLS version: e.g. a TLS 1.3-only server and an ESP-IDF v5 device with TLS 1.3 disabled (the default)"},
		fix: fixTLS13 + ", or enable TLS 1.2 on the server", src: "aws-iot-device-sdk-embedded-C#1898; esp-aws-iot#206; Mbed-TLS/mbedtls#10141"},
	71:  {causes: []string{"the server requires stronger cipher suites than the device offered"}, src: "RFC5246 §7.2"},
	80:  {causes: []string{"an internal error on the server"}, src: "RFC5246 §7.2"},
	86:  {causes: []string{"the server detected a version downgrade (TLS_FALLBACK_SCSV)"}, src: "RFC8446 §6.2"},
	90:  {causes: []string{"the server cancelled the handshake"}, src: "RFC5246 §7.2"},
	100: {causes: []string{"the server refused renegotiation"}, src: "RFC5246 §7.2"},
	109: {causes: []string{"TLS 1.3: the device's hello lacks an extension the server requires"}, src: "RFC8446 §6.2"},
	110: {causes: []string{"the device sent an extension the server does not allow in that message"}, src: "RFC8446 §6.2"},
	112: {causes: []string{"the server does not know the SNI name: wrong hostname or common_name, or no SNI at all because skip_common_name / skip_cert_common_name_check is set (DERIVED from knowledge §5.2)"},
		fix: "connect by the name the server serves, set " + FieldFix(ConceptCommonName, "\"<server name>\"") + ", and do not set skip_cert_common_name_check", src: "RFC8446 §6.2"},
	115: {causes: []string{"the server does not know the device's PSK identity"}, fix: "check psk_hint_key", src: "RFC8446 §6.2"},
	116: {causes: []string{"TLS 1.3: the server requires a client certificate and the device sent none (mutual TLS)"},
		fix: "set " + FieldFix(ConceptClientCert, "<cert>") + " and the matching key", src: "RFC8446 §6.2"},
	120: {causes: []string{"no ALPN protocol in common: alpn_protos does not list a protocol the server serves"}, fix: "fix " + FieldFix(ConceptALPN, "{\"<protocol>\", NULL}"), src: "RFC8446 §6.2"},
}

// fromDevice: what it means when the ESP (mbedTLS client) sends the alert
// (each entry cites its source).
var fromDevice = map[uint8]alertKnowledge{
	10: {causes: []string{"a message the device did not expect at that point", "mbedTLS 2.16 (ESP-IDF ≤ v4.2, v4.3–v4.3.2, v4.4.0): the reply was not TLS (unknown record type), e.g. plaintext HTTP on the port"},
		errs: []Candidate{
			{Code: -0x7700, Versions: vAll, Why: "unexpected message", Alert: 10, Source: "MT228-ssl.h; MT36-ssl.h"},
			{Code: -0x7200, Versions: v216, Why: "non-TLS reply; 2.16 sends unexpected_message first", Alert: 10, Source: "MT216-tls:4339-4355"},
		}, fix: fixPortScheme, src: "MT216-tls:4339-4355"},
	20: {causes: []string{"a record from the server failed the MAC/AEAD check: corruption or a middlebox"},
		errs: []Candidate{{Code: -0x7180, Versions: vAll, Why: "bad MAC on decrypt", Alert: 20, Source: "MT36-msg:5172-5176"}}, src: "IDF-espcfg553:975"},
	40: {causes: []string{"mbedTLS 3.x: the server chose a suite that is not valid for the negotiated version (handshake negotiation failed)", "ESP as server: the client offered no suite in common", "mbedTLS 2.x: a ServerHello check failed"},
		errs: []Candidate{
			{Code: -0x6E00, Versions: v3x, Why: "HANDSHAKE_FAILURE", Alert: 40, Source: "MT36-cli12:1413-1423"},
			{Code: -0x7980, Versions: v2x, Why: "BAD_HS_SERVER_HELLO", Alert: 40, Source: "MT228-cli:2082-2123"},
		}, src: "MT228-ssl.h; MT36-ssl.h"},
	41: {causes: []string{"ESP as TLS 1.3 server with cacert set: the client sent no certificate"},
		errs: []Candidate{{Code: -0x7480, Versions: vAll, Why: "NO_CLIENT_CERTIFICATE", Alert: 41, Source: "MT36-tls13g:656-672"}},
		fix:  "the client must present a certificate, or remove cacert_pem from the server config", src: "MT36-tls13g:656-672"},
	42: {causes: []string{"the server certificate's CN/SAN does not match the expected name (common_name or the connect hostname): connecting by IP, a wrong DNS name, an IP SAN on mbedTLS < 3.5; an untrusted certificate that also mismatches gives 42, not 48"},
		errs:  []Candidate{{Code: -0x2700, Versions: vAll, Why: "verify flags include BADCERT_CN_MISMATCH (0x04)", Alert: 42, Source: srcAlertMap}},
		flags: FlagCNMismatch, fix: "set " + FieldFix(ConceptCommonName, "\"<name in the certificate>\"") + " or fix the certificate's SAN; for testing only " + FieldFix(ConceptSkipCN, "true"),
		src: "FAQ; esp-idf#9954; esp-idf#6833"},
	43: {causes: []string{"the server certificate's keyUsage/extendedKeyUsage does not allow a TLS server (no serverAuth), its key is unacceptable (RSA < 2048 bits, an EC curve not allowed) or its PK algorithm is"},
		errs: []Candidate{
			{Code: -0x2700, Versions: vAll, Why: "verify flags include KEY_USAGE, EXT_KEY_USAGE, BAD_PK or BAD_KEY", Alert: 43, Source: srcAlertMap},
			{Code: -0x7A00, Versions: vAll, Why: "secondary certificate checks", Alert: 43, Source: "MT36-tls:9960-9985"},
		}, flags: FlagKeyUsage | FlagExtKeyUsage | FlagBadPK | FlagBadKey, fix: "reissue the server certificate (serverAuth EKU, RSA ≥ 2048 bits or P-256/P-384)", src: "MT216-tls:6097-6125; MT228-tls:2788-2819; MT36-tls:10020-10050; MT36-x509"},
	44: {causes: []string{"the server certificate is on a CRL (unlikely: ESP-TLS passes no CRL)"},
		errs: []Candidate{{Code: -0x2700, Versions: vAll, Why: "verify flags include REVOKED", Alert: 44, Source: srcAlertMap}}, flags: FlagRevoked, src: "MT216-tls:6097-6125; MT228-tls:2788-2819; MT36-tls:10020-10050; MT228-x509; MT36-x509"},
	45: {causes: []string{"the server certificate has expired (or the device clock is far ahead); only checked with CONFIG_MBEDTLS_HAVE_TIME_DATE=y; an expired and untrusted certificate gives 45"},
		errs:  []Candidate{{Code: -0x2700, Versions: vAll, Why: "verify flags include BADCERT_EXPIRED (0x01)", Alert: 45, Source: srcAlertMap}},
		flags: FlagExpired, fix: "renew the server certificate; set the device clock (SNTP) before TLS", src: "MT216-tls:6097-6125; MT228-tls:2788-2819; MT36-tls:10020-10050"},
	46: {causes: []string{"the server certificate is not yet valid by the device clock (clock not set: ClientHello.random[0:4] shows 1970), only with CONFIG_MBEDTLS_HAVE_TIME_DATE=y", "a SHA-1 (or weaker) signature alone (BAD_MD)", "any other flag not listed in the mapping"},
		errs:  []Candidate{{Code: -0x2700, Versions: vAll, Why: "verify flags such as BADCERT_FUTURE (0x200) or BAD_MD (0x4000) alone", Alert: 46, Source: srcAlertMap}},
		flags: FlagFuture | FlagBadMD, fix: "start SNTP and wait for the time before connecting, or " + Fix("MBEDTLS_HAVE_TIME_DATE", "n") + "; reissue SHA-1-signed certificates",
		src: "esp-at#432; esp-idf#18509; nodemcu/nodemcu-firmware#1432"},
	47: {causes: []string{"mbedTLS 3.x: the ServerHello picked a cipher suite the device did not offer, or echoed a different max_fragment_length", "mbedTLS 2.x: a ServerHello check failed"},
		errs: []Candidate{
			{Code: -0x6600, Versions: v3x, Why: "ILLEGAL_PARAMETER", Alert: 47, Source: "MT36-cli12:1397-1405; MT36-cli12:667-675"},
			{Code: -0x7980, Versions: v2x, Why: "BAD_HS_SERVER_HELLO", Alert: 47, Source: "MT228-cli:2082-2123"},
		}, fix: "configure the server to choose one of the suites the device offers", src: "MT36-cli12:1397-1405; MT228-cli:2082-2123"},
	48: {causes: []string{"the server certificate does not chain to the trusted CA: cacert/cert_pem holds the wrong CA or a leaf, or the server omits the intermediate while cert_pem is the root"},
		errs:  []Candidate{{Code: -0x2700, Versions: vAll, Why: "verify flags BADCERT_NOT_TRUSTED (0x08): \"The certificate is not correctly signed by the trusted CA\"", Alert: 48, Source: srcAlertMap}},
		flags: FlagNotTrusted, fix: "give the root or intermediate CA (not the leaf) in " + FieldFix(ConceptServerCA, "<CA PEM>") + "; make the server send its full chain",
		src: "esp-idf#12311; esp-idf#15970; esp-idf#11320; ESP8266_RTOS_SDK#886"},
	49: {causes: []string{"certificate bundle: no root in the bundle for the issuer of the top certificate the server sent (intermediate omitted, private/self-signed CA, cross-signed root whose old issuer was removed)", "a chain longer than 8 intermediates", "a verify callback error"},
		errs:  []Candidate{{Code: -0x3000, Versions: vAll, Why: "X509_FATAL_ERROR; flags set to 0xFFFFFFFF, so BADCERT_OTHER wins", Alert: 49, Source: "MT36-x509:3131-3141; IDF-bundle553:264; IDF-bundle448:152"}},
		flags: FlagOther, fix: "make the server send leaf + intermediates; add the CA with " + Fix("MBEDTLS_CUSTOM_CERTIFICATE_BUNDLE_PATH", "<file>") + "; or use " + FieldFix(ConceptServerCA, "<CA PEM>") + " instead of the bundle",
		src: "esp-idf#18674; esp-idf#12220; arduino-esp32#8626"},
	50: {causes: []string{"a server message could not be parsed"},
		errs: []Candidate{
			{Code: -0x7300, Versions: v3x, Why: "DECODE_ERROR", Alert: 50, Source: "MT36-ssl.h"},
			{Code: -0x7980, Versions: v2x, Why: "BAD_HS_SERVER_HELLO (one of the ServerHello checks)", Alert: 50, Source: "MT228-cli:2082-2123"},
		}, src: "MT228-ssl.h; MT36-ssl.h"},
	51: {causes: []string{"mbedTLS 2.x: the server's Finished did not verify (PSK or key mismatch, middlebox)"},
		errs: []Candidate{{Code: -0x7E80, Versions: v2x, Why: "BAD_HS_FINISHED", Alert: 51, Source: "MT228-tls:3703-3730"}}, src: "MT228-tls:3703-3730"},
	70: {causes: []string{"the ServerHello version is outside the device's range: a TLS 1.0/1.1-only server and ESP-IDF v5.x (TLS 1.2/1.3 only)"},
		errs: []Candidate{{Code: -0x6E80, Versions: vAll, Why: "BAD_(HS_)PROTOCOL_VERSION", Alert: 70, Source: "MT228-cli:2106-2123; MT36-cli12:1275-1287"}},
		fix:  "enable TLS 1.2 on the server (ESP-IDF v4.4 still offered TLS 1.0/1.1)", src: "FAQ"},
	110: {causes: []string{"mbedTLS 3.x: the ServerHello carried an extension the device did not offer (early TLS 1.3)"},
		errs: []Candidate{{Code: -0x7500, Versions: v3x, Why: "UNSUPPORTED_EXTENSION", Alert: 110, Source: "MT36-cli12:696,748,773,799,925"}},
		fix:  "update ESP-IDF (≥ v5.2 for TLS 1.3)", src: "esp-idf#8515"},
}

func candidatesNamed(cs []Candidate) []Candidate {
	out := make([]Candidate, len(cs))
	for i, c := range cs {
		if c.Name == "" {
			if e, ok := Lookup(c.Code); ok {
				c.Name = e.Name()
				if c.Versions == v2x || c.Versions == v216 {
					c.Name = e.Name228
				}
			}
		}
		out[i] = c
	}
	return out
}

// causeSentence renders causes as one sentence: "Usual cause: x." or
// "Usual causes: x; or y."
func causeSentence(cs []string) string {
	switch len(cs) {
	case 0:
		return ""
	case 1:
		return "Usual cause: " + cs[0] + "."
	}
	return "Usual causes: " + strings.Join(cs, "; or ") + "."
}

// AlertFromServer explains an alert the server sent to an ESP client. The
// device reports -0x7780 for any fatal alert (close_notify: -0x7880).
func AlertFromServer(desc uint8) AlertInfo {
	info := AlertInfo{Desc: desc, Name: AlertName(desc)}
	k, ok := fromServer[desc]
	info.Known = ok
	info.CauseList = k.causes
	info.Fix = k.fix
	info.Source = k.src
	if len(k.errs) > 0 {
		info.Candidates = candidatesNamed(k.errs)
	} else {
		info.Candidates = []Candidate{fatalAlertCandidate}
	}
	if !ok {
		info.CauseList = []string{"an alert tlspcap has no specific knowledge of"}
		info.Source = "MT36-msg:5279-5284"
	}
	info.Causes = causeSentence(info.CauseList)
	return info
}

// AlertFromDevice explains an alert the ESP (mbedTLS client, or server
// where noted) sent.
func AlertFromDevice(desc uint8) AlertInfo {
	info := AlertInfo{Desc: desc, Name: AlertName(desc), FromDevice: true}
	k, ok := fromDevice[desc]
	if !ok {
		info.CauseList = []string{"mbedTLS does not send this alert in the paths the knowledge file covers"}
		info.Causes = causeSentence(info.CauseList)
		info.Source = "MT216-tls:6097-6125; MT228-tls:2788-2819; MT36-tls:10020-10050"
		return info
	}
	info.Known = true
	info.CauseList = k.causes
	info.Causes = causeSentence(k.causes)
	info.Candidates = candidatesNamed(k.errs)
	info.VerifyFlags = k.flags
	info.Fix = k.fix
	info.Source = k.src
	return info
}

// KnownAlerts lists the alert descriptions with knowledge in each
// direction, ascending.
func KnownAlerts() (fromSrv, fromDev []uint8) {
	for d := range fromServer {
		fromSrv = append(fromSrv, d)
	}
	for d := range fromDevice {
		fromDev = append(fromDev, d)
	}
	sort.Slice(fromSrv, func(i, j int) bool { return fromSrv[i] < fromSrv[j] })
	sort.Slice(fromDev, func(i, j int) bool { return fromDev[i] < fromDev[j] })
	return fromSrv, fromDev
}

// OrderFor puts the candidates of the profile's mbedTLS line first, then
// those for every version, then the other line's (stable otherwise): an
// alert's code differs between 2.x and 3.x (measured: illegal_parameter for
// an unoffered suite is -0x7980 from ssl_client2 2.28.3, -0x6600 from 3.6.6).
func (p Profile) OrderFor(cs []Candidate) []Candidate {
	own, other := "mbedTLS 3", "mbedTLS 2"
	if p.MbedTLSMajor() == 2 {
		own, other = other, own
	}
	rank := func(c Candidate) int {
		switch {
		case strings.Contains(c.Versions, own):
			return 0
		case strings.Contains(c.Versions, other):
			return 2
		}
		return 1
	}
	out := append([]Candidate(nil), cs...)
	sort.SliceStable(out, func(i, j int) bool { return rank(out[i]) < rank(out[j]) })
	return out
}
