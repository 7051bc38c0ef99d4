package decode

import (
	"fmt"

	"github.com/dreadl0ck/tlsx"
)

// IsGREASE reports whether v is a GREASE value (RFC 8701): 0x0A0A, 0x1A1A ... 0xFAFA.
func IsGREASE(v uint16) bool {
	return v&0x0f0f == 0x0a0a && v>>8 == v&0xff
}

// cipherSuiteExtra completes tlsx's table: TLS 1.3 suites and later
// registrations it lacks.
var cipherSuiteExtra = map[uint16]string{
	0x1301: "TLS_AES_128_GCM_SHA256",
	0x1302: "TLS_AES_256_GCM_SHA384",
	0x1303: "TLS_CHACHA20_POLY1305_SHA256",
	0x1304: "TLS_AES_128_CCM_SHA256",
	0x1305: "TLS_AES_128_CCM_8_SHA256",
	0x1306: "TLS_AEGIS_256_SHA512",
	0x1307: "TLS_AEGIS_128L_SHA256",
	0xC0B4: "TLS_SHA256_SHA256",
	0xC0B5: "TLS_SHA384_SHA384",
	0xD001: "TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256",
	0xD002: "TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384",
	0xD003: "TLS_ECDHE_PSK_WITH_AES_128_CCM_8_SHA256",
	0xD005: "TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256",
	0x00FF: "TLS_EMPTY_RENEGOTIATION_INFO_SCSV",
	0x5600: "TLS_FALLBACK_SCSV",
}

// CipherSuiteName returns the IANA name of a cipher suite, "GREASE", or "0x%04X".
func CipherSuiteName(id uint16) string {
	if IsGREASE(id) {
		return "GREASE"
	}
	if n, ok := cipherSuiteExtra[id]; ok {
		return n
	}
	if n, ok := tlsx.CipherSuiteReg[tlsx.CipherSuite(id)]; ok {
		return n
	}
	return fmt.Sprintf("0x%04X", id)
}

// VersionName returns "TLS 1.2" and the like, "SSL 2.0" for 0x0002, or "0x%04X".
func VersionName(v uint16) string {
	switch {
	case v == 0x0002:
		return "SSL 2.0"
	case IsGREASE(v):
		return "GREASE"
	case v >= 0x7f00 && v <= 0x7fff:
		return fmt.Sprintf("TLS 1.3 draft %d", v&0xff)
	}
	if n, ok := tlsx.VersionReg[tlsx.Version(v)]; ok {
		return n
	}
	return fmt.Sprintf("0x%04X", v)
}

var alertNames = map[uint8]string{
	0:   "close_notify",
	10:  "unexpected_message",
	20:  "bad_record_mac",
	21:  "decryption_failed",
	22:  "record_overflow",
	30:  "decompression_failure",
	40:  "handshake_failure",
	41:  "no_certificate",
	42:  "bad_certificate",
	43:  "unsupported_certificate",
	44:  "certificate_revoked",
	45:  "certificate_expired",
	46:  "certificate_unknown",
	47:  "illegal_parameter",
	48:  "unknown_ca",
	49:  "access_denied",
	50:  "decode_error",
	51:  "decrypt_error",
	60:  "export_restriction",
	70:  "protocol_version",
	71:  "insufficient_security",
	80:  "internal_error",
	86:  "inappropriate_fallback",
	90:  "user_canceled",
	100: "no_renegotiation",
	109: "missing_extension",
	110: "unsupported_extension",
	111: "certificate_unobtainable",
	112: "unrecognized_name",
	113: "bad_certificate_status_response",
	114: "bad_certificate_hash_value",
	115: "unknown_psk_identity",
	116: "certificate_required",
	120: "no_application_protocol",
	121: "ech_required",
}

// AlertName returns the RFC name of an alert description, or "alert_%d".
func AlertName(d uint8) string {
	if n, ok := alertNames[d]; ok {
		return n
	}
	return fmt.Sprintf("alert_%d", d)
}

var handshakeTypeNames = map[uint8]string{
	TypeHelloRequest:        "HelloRequest",
	TypeClientHello:         "ClientHello",
	TypeServerHello:         "ServerHello",
	3:                       "HelloVerifyRequest",
	TypeNewSessionTicket:    "NewSessionTicket",
	TypeEndOfEarlyData:      "EndOfEarlyData",
	6:                       "HelloRetryRequest",
	TypeEncryptedExtensions: "EncryptedExtensions",
	TypeCertificate:         "Certificate",
	TypeServerKeyExchange:   "ServerKeyExchange",
	TypeCertificateRequest:  "CertificateRequest",
	TypeServerHelloDone:     "ServerHelloDone",
	TypeCertificateVerify:   "CertificateVerify",
	TypeClientKeyExchange:   "ClientKeyExchange",
	TypeFinished:            "Finished",
	21:                      "CertificateURL",
	TypeCertificateStatus:   "CertificateStatus",
	23:                      "SupplementalData",
	TypeKeyUpdate:           "KeyUpdate",
	25:                      "CompressedCertificate",
	67:                      "NextProtocol",
	TypeMessageHash:         "MessageHash",
}

// HandshakeTypeName returns "ClientHello" and the like, or "handshake_%d".
func HandshakeTypeName(t uint8) string {
	if n, ok := handshakeTypeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("handshake_%d", t)
}

// ContentTypeName returns the record content type name, or "content_%d".
func ContentTypeName(t uint8) string {
	switch t {
	case ContentChangeCipherSpec:
		return "ChangeCipherSpec"
	case ContentAlert:
		return "Alert"
	case ContentHandshake:
		return "Handshake"
	case ContentApplicationData:
		return "ApplicationData"
	case ContentHeartbeat:
		return "Heartbeat"
	}
	return fmt.Sprintf("content_%d", t)
}

// extensionExtra completes tlsx's extension table.
var extensionExtra = map[uint16]string{
	24:     "token_binding",
	25:     "cached_info",
	26:     "tls_lts",
	27:     "compress_certificate",
	28:     "record_size_limit",
	29:     "pwd_protect",
	30:     "pwd_clear",
	31:     "password_salt",
	32:     "ticket_pinning",
	33:     "tls_cert_with_extern_psk",
	34:     "delegated_credential",
	41:     "pre_shared_key",
	42:     "early_data",
	43:     "supported_versions",
	44:     "cookie",
	45:     "psk_key_exchange_modes",
	47:     "certificate_authorities",
	48:     "oid_filters",
	49:     "post_handshake_auth",
	50:     "signature_algorithms_cert",
	51:     "key_share",
	52:     "transparency_info",
	53:     "connection_id_deprecated",
	54:     "connection_id",
	55:     "external_id_hash",
	56:     "external_session_id",
	57:     "quic_transport_parameters",
	58:     "ticket_request",
	59:     "dnssec_chain",
	17513:  "application_settings",
	0xfe0d: "encrypted_client_hello",
}

// ExtensionName returns the IANA name of an extension type, "GREASE", or "0x%04X".
func ExtensionName(t uint16) string {
	if IsGREASE(t) {
		return "GREASE"
	}
	if n, ok := extensionExtra[t]; ok {
		return n
	}
	if n, ok := tlsx.ExtensionReg[tlsx.Extension(t)]; ok {
		return n
	}
	return fmt.Sprintf("0x%04X", t)
}

var groupNames = map[uint16]string{
	1: "sect163k1", 2: "sect163r1", 3: "sect163r2", 4: "sect193r1", 5: "sect193r2",
	6: "sect233k1", 7: "sect233r1", 8: "sect239k1", 9: "sect283k1", 10: "sect283r1",
	11: "sect409k1", 12: "sect409r1", 13: "sect571k1", 14: "sect571r1", 15: "secp160k1",
	16: "secp160r1", 17: "secp160r2", 18: "secp192k1", 19: "secp192r1", 20: "secp224k1",
	21: "secp224r1", 22: "secp256k1",
	23:     "secp256r1",
	24:     "secp384r1",
	25:     "secp521r1",
	26:     "brainpoolP256r1",
	27:     "brainpoolP384r1",
	28:     "brainpoolP512r1",
	29:     "x25519",
	30:     "x448",
	31:     "brainpoolP256r1tls13",
	32:     "brainpoolP384r1tls13",
	33:     "brainpoolP512r1tls13",
	34:     "GC256A",
	256:    "ffdhe2048",
	257:    "ffdhe3072",
	258:    "ffdhe4096",
	259:    "ffdhe6144",
	260:    "ffdhe8192",
	512:    "MLKEM512",
	513:    "MLKEM768",
	514:    "MLKEM1024",
	0x11eb: "SecP256r1MLKEM768",
	0x11ec: "X25519MLKEM768",
	0x11ed: "SecP384r1MLKEM1024",
	0x6399: "X25519Kyber768Draft00",
	0xff01: "arbitrary_explicit_prime_curves",
	0xff02: "arbitrary_explicit_char2_curves",
}

// GroupName returns the name of a named group (supported_groups, key_share), "GREASE", or "0x%04X".
func GroupName(g uint16) string {
	if IsGREASE(g) {
		return "GREASE"
	}
	if n, ok := groupNames[g]; ok {
		return n
	}
	return fmt.Sprintf("0x%04X", g)
}

var signatureSchemeNames = map[uint16]string{
	0x0201: "rsa_pkcs1_sha1",
	0x0202: "dsa_sha1",
	0x0203: "ecdsa_sha1",
	0x0301: "rsa_sha224",
	0x0302: "dsa_sha224",
	0x0303: "ecdsa_sha224",
	0x0401: "rsa_pkcs1_sha256",
	0x0402: "dsa_sha256",
	0x0403: "ecdsa_secp256r1_sha256",
	0x0420: "rsa_pkcs1_sha256_legacy",
	0x0501: "rsa_pkcs1_sha384",
	0x0502: "dsa_sha384",
	0x0503: "ecdsa_secp384r1_sha384",
	0x0520: "rsa_pkcs1_sha384_legacy",
	0x0601: "rsa_pkcs1_sha512",
	0x0602: "dsa_sha512",
	0x0603: "ecdsa_secp521r1_sha512",
	0x0620: "rsa_pkcs1_sha512_legacy",
	0x0704: "eccsi_sha256",
	0x0705: "iso_ibs1",
	0x0706: "iso_ibs2",
	0x0707: "iso_chinese_ibs",
	0x0708: "sm2sig_sm3",
	0x0709: "gostr34102012_256a",
	0x070a: "gostr34102012_256b",
	0x070b: "gostr34102012_256c",
	0x070c: "gostr34102012_256d",
	0x070d: "gostr34102012_512a",
	0x070e: "gostr34102012_512b",
	0x070f: "gostr34102012_512c",
	0x0804: "rsa_pss_rsae_sha256",
	0x0805: "rsa_pss_rsae_sha384",
	0x0806: "rsa_pss_rsae_sha512",
	0x0807: "ed25519",
	0x0808: "ed448",
	0x0809: "rsa_pss_pss_sha256",
	0x080a: "rsa_pss_pss_sha384",
	0x080b: "rsa_pss_pss_sha512",
	0x081a: "ecdsa_brainpoolP256r1tls13_sha256",
	0x081b: "ecdsa_brainpoolP384r1tls13_sha384",
	0x081c: "ecdsa_brainpoolP512r1tls13_sha512",
	0x0904: "mldsa44",
	0x0905: "mldsa65",
	0x0906: "mldsa87",
}

// SignatureSchemeName returns the name of a signature scheme (or TLS 1.2
// hash/signature pair), "GREASE", or "0x%04X".
func SignatureSchemeName(s uint16) string {
	if IsGREASE(s) {
		return "GREASE"
	}
	if n, ok := signatureSchemeNames[s]; ok {
		return n
	}
	return fmt.Sprintf("0x%04X", s)
}

var sslv2MessageNames = [...]string{"ERROR", "CLIENT-HELLO", "CLIENT-MASTER-KEY", "CLIENT-FINISHED",
	"SERVER-HELLO", "SERVER-VERIFY", "SERVER-FINISHED", "REQUEST-CERTIFICATE", "CLIENT-CERTIFICATE"}

// SSLv2MessageName names an SSLv2 message type, as found in the
// HandshakeTypes of a Record with SSLv2 set ("SERVER-HELLO"), or
// "sslv2_%d".
func SSLv2MessageName(t uint8) string {
	if int(t) < len(sslv2MessageNames) {
		return sslv2MessageNames[t]
	}
	return fmt.Sprintf("sslv2_%d", t)
}
