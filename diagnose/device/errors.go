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
// errors (knowledge §2.11), so the device's version decides the meaning.
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

// row is the compact form the tables are written in.
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

// Fix texts shared by several entries.
var (
	fixInContent   = Fix("MBEDTLS_SSL_IN_CONTENT_LEN", "16384")
	fixOutContent  = Fix("MBEDTLS_SSL_OUT_CONTENT_LEN", "a size that holds the device's own certificate chain (default 4096)")
	fixReassembly  = "use an ESP-IDF whose mbedTLS is ≥ " + reassembly.MbedTLS.String() + " (" + reassembly.Releases() + "), which reassembles handshake messages split over records, or make the server send each handshake message in one record"
	fixHeap        = "free heap before connecting (a handshake needs about 40–50 KB); " + Fix("MBEDTLS_DYNAMIC_BUFFER", "y") + "; " + Fix("MBEDTLS_MEM_ALLOC_MODE", "External SPIRAM (CONFIG_MBEDTLS_EXTERNAL_MEM_ALLOC=y)") + " on modules with PSRAM"
	fixVerifyOpt   = "set a server verification option: esp_tls_cfg_t.crt_bundle_attach = esp_crt_bundle_attach (esp_http_client_config_t.crt_bundle_attach, MQTT broker.verification.crt_bundle_attach) or cacert_buf/cert_pem; for testing only: " + Fix("ESP_TLS_INSECURE", "y") + " and " + Fix("ESP_TLS_SKIP_SERVER_CERT_VERIFY", "y")
	fixPortScheme  = "connect to the TLS port with the TLS scheme (https/443 not http/80, mqtts/8883 not mqtt/1883, wss not ws); a proxy or captive portal answering in plaintext also causes this"
	fixTLS13       = Fix("MBEDTLS_SSL_PROTO_TLS1_3", "y") + " (ESP-IDF ≥ v5.2 recommended)"
	fixDER         = "the certificate or key bytes are not valid DER: pass the PEM with its terminating NUL counted in the length (cert_len = strlen + 1), or real DER; check the file was not cut or converted"
	fixServerAlert = "depends on the alert the server sent (see the alert's explanation): no common cipher suite or curve, TLS version, missing client certificate"
)

// errorRows is the table: knowledge §2.1 (SSL), §2.2 (X.509), §2.8 (NET),
// §2.9 (PK), §2.10 (composite), §2.11 (platform) and §6 (ESP-TLS).
var errorRows = []row{
	// ---- SSL (knowledge §2.1; headers [MT228-ssl.h] 69–220, [MT36-ssl.h] 47–204) ----
	{c: -0x7000, k: KindSSL, n2: "CRYPTO_IN_PROGRESS", n3: same, m: "a cryptographic operation is in progress (restartable ECC)", w: "none (internal)", s: "MT228-ssl.h; MT36-ssl.h"},
	{c: -0x7080, k: KindSSL, n2: "FEATURE_UNAVAILABLE", n3: same, m: "the requested feature is not available",
		w: "mbedTLS ≤ 3.6.2 (and 2.x): a server handshake message split across several records (the handshake header's length is larger than the record payload); debug line \"TLS handshake fragmentation not supported\"; the ESP sends no alert and closes",
		f: fixReassembly, s: "MT228-msg:2979; MT362-msg:3297; MT216-tls:3972; MT366-ChangeLog; DESIGN-measured"},
	{c: -0x7100, k: KindSSL, n2: "BAD_INPUT_DATA", n3: same, m: "bad input parameters to function",
		w: "2.28/3.x: a server record whose header length (16 03 03 LL LL) is larger than the device's input buffer (\"requesting more data than fits\"); the ESP sends no alert and closes, measured: FIN then RST about 4 ms after the first segment of the oversized record",
		f: fixInContent + " (restore the default; the server does not honour max_fragment_length, which ESP-TLS never offers)", s: "MT228-msg:1842-1845; MT36-msg:2165-2168; DESIGN-measured"},
	{c: -0x7180, k: KindSSL, n2: "INVALID_MAC", n3: same, m: "verification of the message MAC failed",
		w: "the ESP sends a fatal bad_record_mac(20) alert (encrypted), because ESP-IDF defines MBEDTLS_SSL_ALL_ALERT_MESSAGES",
		f: "a corrupted path or a middlebox rewriting TLS records; compare with a capture on the server side", s: "MT36-msg:5172-5176; IDF-espcfg553:975"},
	{c: -0x7200, k: KindSSL, n2: "INVALID_RECORD", n3: same, m: "an invalid SSL record was received",
		w: "the reply is not TLS: its first byte is not 0x14–0x17 (e.g. 48 54 54 50 \"HTTP\"), the record major version is not 3, the minor version is above the maximum, the record is empty, or an alert record is not 2 bytes long; also a record that fits the buffer but whose plaintext exceeds IN_CONTENT_LEN (2.28/3.x), and on mbedTLS 2.16 (ESP-IDF ≤ v4.2, v4.3–v4.3.2, v4.4.0) any record longer than the buffer; 2.16 sends a fatal unexpected_message(10) for an unknown record type first, 2.28/3.x send no alert",
		f: fixPortScheme + "; if the reply is TLS, " + fixInContent, s: "MT216-tls:4339-4376; MT228-msg:3483-3488; MT228-msg:3761-3765; MT36-msg:3953; MT36-msg:4302-4305; MT36-msg:5264-5271; FAQ"},
	{c: -0x7280, k: KindSSL, n2: "CONN_EOF", n3: same, m: "the connection indicated an EOF",
		w: "the server sent a TCP FIN (recv() returned 0) while the ESP waited for a record; the ESP sends no alert",
		f: "the server rejected the connection: check the port speaks TLS (mqtts 8883, not 1883), keep SNI (do not set skip_cert_common_name_check), IP filtering, server logs", s: "MT228-msg:1999-2001; pcbreflux/espressif#18"},
	{c: -0x7300, k: KindSSL, n2: "UNKNOWN_CIPHER", n3: "DECODE_ERROR", m: "2.x: an unknown cipher was received; 3.x: a message could not be parsed",
		w: "3.x: the ESP usually sends a fatal decode_error(50)", s: "MT228-ssl.h; MT36-ssl.h; MT30-migr:897-937"},
	{c: -0x7380, k: KindSSL, n2: "NO_CIPHER_CHOSEN", m: "2.x: the server has no cipher suites in common with the client",
		w: "ESP as TLS server: the client offered no suite in common (3.x returns -0x6E00 HANDSHAKE_FAILURE instead)", s: "MT228-ssl.h; MT30-migr:917-918"},
	{c: -0x7400, k: KindSSL, n2: "NO_RNG", n3: same, m: "no RNG was provided to the SSL module", s: "MT228-ssl.h; MT36-ssl.h"},
	{c: -0x7480, k: KindSSL, n2: "NO_CLIENT_CERTIFICATE", n3: same, m: "no client certification received from the client, but required by the authentication mode",
		w: "ESP as TLS server with cacert set: the client sent an empty Certificate; TLS 1.2: the ESP sends no alert; TLS 1.3: it pends alert 41 (no_certificate), sent encrypted",
		f: "the client must present a certificate, or remove cacert_pem from the server config", s: "MT36-tls:8053-8060; MT36-tls13g:656-672; IDF-mbedtls553:755-766"},
	{c: -0x7500, k: KindSSL, n2: "CERTIFICATE_TOO_LARGE", n3: "UNSUPPORTED_EXTENSION", m: "2.x: our own certificate chain is too large to send; 3.x: the ServerHello carried an extension the client did not offer",
		w: "2.x: the handshake stops before the ESP sends its Certificate, no alert; 3.x: the ESP sends a fatal unsupported_extension(110) (seen with early TLS 1.3 in ESP-IDF v5.0, esp-idf#8515)",
		f: "2.x: " + fixOutContent + "; 3.x: update ESP-IDF (TLS 1.3 in mbedTLS < 3.6 was immature)", s: "MT228-tls:2310-2315; MT36-cli12:696,748,773,799,925; esp-idf#8515"},
	{c: -0x7580, k: KindSSL, n2: "CERTIFICATE_REQUIRED", n3: "NO_APPLICATION_PROTOCOL", m: "2.x: our own certificate is not set but needed (server); 3.x: no common ALPN protocol",
		w: "3.x: an ALPN mismatch between alpn_protos and the server", f: "3.x: fix alpn_protos (esp_tls_cfg_t / esp_http_client_config_t / MQTT broker.verification.alpn_protos)", s: "MT228-ssl.h; MT36-ssl.h; MT30-migr:897-937"},
	{c: -0x7600, k: KindSSL, n2: "PRIVATE_KEY_REQUIRED", n3: same, m: "the own private key or pre-shared key is not set but needed",
		w: "the server asked for a client certificate (CertificateRequest) but the device has no key; the handshake aborts locally",
		f: "for mutual TLS set clientcert_buf and clientkey_buf (esp_http_client_config_t.client_cert_pem/client_key_pem, MQTT credentials.authentication.certificate/key)", s: "MT228-ssl.h; MT36-ssl.h; FAQ"},
	{c: -0x7680, k: KindSSL, n2: "CA_CHAIN_REQUIRED", n3: same, m: "no CA chain is set, but required to operate",
		w: "rare from ESP-TLS, which always sets a CA or the bundle's dummy CA; goes through the verify-failure alert path", s: "MT36-tls:10014-10018"},
	{c: -0x7700, k: KindSSL, n2: "UNEXPECTED_MESSAGE", n3: same, m: "an unexpected message was received from the peer",
		w: "the ESP sends a fatal unexpected_message(10) in most paths", s: "MT228-ssl.h; MT36-ssl.h"},
	{c: -0x7780, k: KindSSL, n2: "FATAL_ALERT_MESSAGE", n3: same, m: "a fatal alert message was received from the peer",
		w: "the server sent a fatal alert (15 03 0x 00 02 02 XX); the ESP sends nothing and closes",
		f: fixServerAlert, s: "MT36-msg:5279-5284; K§8"},
	{c: -0x7800, k: KindSSL, n2: "PEER_VERIFY_FAILED", n3: "UNRECOGNIZED_NAME", m: "2.x: verification of our peer failed (defined but never returned; a failed verification returns -0x2700 or -0x3000); 3.x: no server matched the SNI name",
		s: "MT228-ssl.h; MT36-ssl.h; MT30-migr:897-937"},
	{c: -0x7880, k: KindSSL, n2: "PEER_CLOSE_NOTIFY", n3: same, m: "the peer notified us that the connection is going to be closed",
		w: "a close_notify alert (15 03 03 00 02 01 00, or encrypted); esp_mbedtls_read() turns it into a return of 0 (EOF)",
		f: "normal close (e.g. server idle timeout): reconnect or use keep-alive", s: "MT36-msg:5286-5290; IDF-mbedtls553:329-421"},
	{c: -0x7900, k: KindSSL, n2: "BAD_HS_CLIENT_HELLO", m: "2.x: processing of the ClientHello handshake message failed", w: "ESP as TLS server", s: "MT228-ssl.h; MT30-migr:920-937"},
	{c: -0x7980, k: KindSSL, n2: "BAD_HS_SERVER_HELLO", m: "2.x: processing of the ServerHello handshake message failed",
		w: "the ESP sends decode_error(50), illegal_parameter(47) or handshake_failure(40) depending on the check", s: "MT228-cli:2082-2123"},
	{c: -0x7A00, k: KindSSL, n2: "BAD_HS_CERTIFICATE", n3: "BAD_CERTIFICATE", renamed: true, m: "processing of the Certificate handshake message failed",
		w: "secondary certificate checks (EC curve not allowed, keyUsage/extendedKeyUsage): the ESP sends the alert chosen from the verify flags, e.g. unsupported_certificate(43)",
		f: "reissue the server certificate: serverAuth extended key usage, RSA ≥ 2048 bits, an allowed curve", s: "MT36-tls:9960-9985"},
	{c: -0x7A80, k: KindSSL, n2: "BAD_HS_CERTIFICATE_REQUEST", m: "2.x: processing of the CertificateRequest handshake message failed", s: "MT228-ssl.h"},
	{c: -0x7B00, k: KindSSL, n2: "BAD_HS_SERVER_KEY_EXCHANGE", n3: "RECEIVED_NEW_SESSION_TICKET", m: "2.x: processing of the ServerKeyExchange failed; 3.x: a TLS 1.3 NewSessionTicket was received (informational)",
		w: "3.x: handled inside esp_mbedtls_read", s: "MT228-ssl.h; MT36-ssl.h; IDF-mbedtls553:329-380"},
	{c: -0x7B80, k: KindSSL, n2: "BAD_HS_SERVER_HELLO_DONE", n3: "CANNOT_READ_EARLY_DATA", m: "2.x: processing of the ServerHelloDone failed; 3.x: early data cannot be read", s: "MT228-ssl.h; MT36-ssl.h"},
	{c: -0x7C00, k: KindSSL, n2: "BAD_HS_CLIENT_KEY_EXCHANGE", n3: "RECEIVED_EARLY_DATA", m: "2.x: processing of the ClientKeyExchange failed; 3.x: early data was received", s: "MT228-ssl.h; MT36-ssl.h"},
	{c: -0x7C80, k: KindSSL, n2: "BAD_HS_CLIENT_KEY_EXCHANGE_RP", n3: "CANNOT_WRITE_EARLY_DATA", m: "2.x: ClientKeyExchange read public failed; 3.x: early data cannot be written", s: "MT228-ssl.h; MT36-ssl.h"},
	{c: -0x7D00, k: KindSSL, n2: "BAD_HS_CLIENT_KEY_EXCHANGE_CS", m: "2.x: ClientKeyExchange calculate secret failed", s: "MT228-ssl.h"},
	{c: -0x7D80, k: KindSSL, n2: "BAD_HS_CERTIFICATE_VERIFY", m: "2.x: processing of the CertificateVerify failed", s: "MT228-ssl.h"},
	{c: -0x7E00, k: KindSSL, n2: "BAD_HS_CHANGE_CIPHER_SPEC", m: "2.x: processing of the ChangeCipherSpec failed", s: "MT228-ssl.h"},
	{c: -0x7E80, k: KindSSL, n2: "BAD_HS_FINISHED", n3: "CACHE_ENTRY_NOT_FOUND", m: "2.x: processing of the Finished message failed; 3.x: the session cache entry was not found (moved from -0x5E00)",
		w: "2.x: the ESP sends decrypt_error(51) (or decode_error / unexpected_message)", f: "PSK or key mismatch, or a middlebox altering the handshake", s: "MT228-tls:3703-3730; MT30-migr:897-937"},
	{c: -0x7F00, k: KindSSL, n2: "ALLOC_FAILED", n3: same, m: "memory allocation failed",
		w: "usually before the ClientHello (mbedtls_ssl_setup): TCP connects, then the ESP closes with no TLS bytes; or mid-handshake with dynamic buffers (CONFIG_MBEDTLS_DYNAMIC_BUFFER), where the RX buffer is allocated per record",
		f: fixHeap, s: "IDF-dyn553:359-430; IDF-docs-mbedtls553; FAQ; esp-idf#13424"},
	{c: -0x7F80, k: KindSSL, n2: "HW_ACCEL_FAILED", n3: same, m: "a hardware acceleration function returned with an error", s: "MT228-ssl.h; MT36-ssl.h"},
	{c: -0x6F80, k: KindSSL, n2: "HW_ACCEL_FALLTHROUGH", n3: same, m: "a hardware acceleration function skipped or left the data alone", s: "MT228-ssl.h; MT36-ssl.h"},
	{c: -0x6F00, k: KindSSL, n2: "COMPRESSION_FAILED", m: "2.x: processing of the compression or decompression failed", s: "MT228-ssl.h; MT30-migr:897-937"},
	{c: -0x6E80, k: KindSSL, n2: "BAD_HS_PROTOCOL_VERSION", n3: "BAD_PROTOCOL_VERSION", renamed: true, m: "the handshake protocol version is not within the client's min/max",
		w: "the ServerHello version is outside the device's range (e.g. a TLS 1.0/1.1-only server and ESP-IDF v5.x, which has only TLS 1.2/1.3): the ESP sends a fatal protocol_version(70)",
		f: "enable TLS 1.2 on the server (ESP-IDF v4.4 still offered TLS 1.0/1.1; v5.x does not)", s: "MT228-cli:2106-2123; MT36-cli12:1275-1287; FAQ"},
	{c: -0x6E00, k: KindSSL, n2: "BAD_HS_NEW_SESSION_TICKET", n3: "HANDSHAKE_FAILURE", m: "2.x: processing of the NewSessionTicket failed; 3.x: the handshake negotiation failed",
		w: "3.x: the ESP sends a fatal handshake_failure(40), e.g. the server chose a suite not valid for the negotiated version; ESP as server: no suite in common",
		s: "MT36-cli12:1413-1423; MT30-migr:917-918"},
	{c: -0x6D80, k: KindSSL, n2: "SESSION_TICKET_EXPIRED", n3: same, m: "the session ticket has expired", s: "MT228-ssl.h; MT36-ssl.h"},
	{c: -0x6D00, k: KindSSL, n2: "PK_TYPE_MISMATCH", n3: same, m: "public key type mismatch (e.g. RSA key exchange with an EC key)", s: "MT228-ssl.h; MT36-ssl.h"},
	{c: -0x6C80, k: KindSSL, n2: "UNKNOWN_IDENTITY", n3: same, m: "unknown identity received (e.g. PSK identity)", f: "check psk_hint_key and the server's PSK identities", s: "MT228-ssl.h; MT36-ssl.h"},
	{c: -0x6C00, k: KindSSL, n2: "INTERNAL_ERROR", n3: same, m: "internal error (e.g. unexpected failure in a lower-level module)",
		w: "TLS 1.3 on ESP-IDF v5.1 before ESP-TLS called psa_crypto_init(): the handshake fails locally after the ServerHello",
		f: "update to ESP-IDF ≥ v5.2 or call psa_crypto_init() before TLS 1.3; or keep TLS 1.2", s: "esp-aws-iot#179; Mbed-TLS/mbedtls#8401"},
	{c: -0x6B80, k: KindSSL, n2: "COUNTER_WRAPPING", n3: same, m: "a counter would wrap (e.g. the record sequence number)", s: "MT228-ssl.h; MT36-ssl.h"},
	{c: -0x6B00, k: KindSSL, n2: "WAITING_SERVER_HELLO_RENEGO", n3: same, m: "unexpected message at ServerHello in renegotiation", s: "MT228-ssl.h; MT36-ssl.h"},
	{c: -0x6A80, k: KindSSL, n2: "HELLO_VERIFY_REQUIRED", n3: same, m: "DTLS client must retry for hello verification", s: "MT228-ssl.h; MT36-ssl.h"},
	{c: -0x6A00, k: KindSSL, n2: "BUFFER_TOO_SMALL", n3: same, m: "a buffer is too small to receive or write a message",
		w: "3.x: the device's own certificate chain is larger than OUT_CONTENT_LEN (replaces 2.x -0x7500): the handshake stops before the ESP sends its Certificate, no alert",
		f: fixOutContent, s: "MT36-tls:7663-7669; MT30-migr:909-915"},
	{c: -0x6980, k: KindSSL, n2: "NO_USABLE_CIPHERSUITE", m: "2.x: none of the common cipher suites is usable (e.g. no suitable certificate)", w: "3.x returns -0x6E00 instead", s: "MT228-ssl.h; MT30-migr:917-918"},
	{c: -0x6900, k: KindSSL, n2: "WANT_READ", n3: same, m: "no data of requested type currently available on the underlying transport",
		w: "not an error; also what an SO_RCVTIMEO expiry (esp_tls_cfg_t.timeout_ms) maps to in ESP-IDF's net_sockets.c port", s: "IDF-netsock553; FAQ"},
	{c: -0x6880, k: KindSSL, n2: "WANT_WRITE", n3: same, m: "the connection requires a write call", w: "not an error", s: "MT228-ssl.h; MT36-ssl.h"},
	{c: -0x6800, k: KindSSL, n2: "TIMEOUT", n3: same, m: "the operation timed out",
		w: "only with an f_recv_timeout callback, which ESP-TLS does not use; seen in aws-iot SDK ports", s: "MT228-ssl.h; MT36-ssl.h; esp-aws-iot#110"},
	{c: -0x6780, k: KindSSL, n2: "CLIENT_RECONNECT", n3: same, m: "DTLS: the client initiated a reconnect from the same port", s: "MT228-ssl.h; MT36-ssl.h"},
	{c: -0x6700, k: KindSSL, n2: "UNEXPECTED_RECORD", n3: same, m: "a record header looks valid but is not expected", s: "MT228-ssl.h; MT36-ssl.h"},
	{c: -0x6680, k: KindSSL, n2: "NON_FATAL", n3: same, m: "the alert message received indicates a non-fatal error (ignored)", w: "a warning alert from the server other than close_notify: ignored internally", s: "MT36-msg:5299-5300"},
	{c: -0x6600, k: KindSSL, n2: "INVALID_VERIFY_HASH", n3: "ILLEGAL_PARAMETER", m: "2.x: couldn't set the hash for verifying CertificateVerify; 3.x: a field in a message was incorrect or inconsistent with other fields",
		w: "3.x: the ESP sends a fatal illegal_parameter(47), e.g. the ServerHello picked a cipher suite the ESP did not offer, or echoed a different max_fragment_length",
		f: "3.x: configure the server to pick one of the suites the device offers", s: "MT36-cli12:1397-1405; MT36-cli12:667-675; MT30-migr:897-937"},
	{c: -0x6580, k: KindSSL, n2: "CONTINUE_PROCESSING", n3: same, m: "internal: continue processing", s: "MT228-ssl.h; MT36-ssl.h"},
	{c: -0x6500, k: KindSSL, n2: "ASYNC_IN_PROGRESS", n3: same, m: "an asynchronous operation is in progress", s: "MT228-ssl.h; MT36-ssl.h"},
	{c: -0x6480, k: KindSSL, n2: "EARLY_MESSAGE", n3: same, m: "internal: the message arrived early (DTLS)", s: "MT228-ssl.h; MT36-ssl.h"},
	{c: -0x6000, k: KindSSL, n2: "UNEXPECTED_CID", n3: same, m: "DTLS: an unexpected connection ID", s: "MT228-ssl.h; MT36-ssl.h"},
	{c: -0x5F00, k: KindSSL, n2: "VERSION_MISMATCH", n3: same, m: "the session's version does not match (context serialization)", s: "MT228-ssl.h; MT36-ssl.h"},
	{c: -0x5E80, k: KindSSL, n2: "BAD_CONFIG", n3: same, m: "invalid value in the SSL config", s: "MT228-ssl.h; MT36-ssl.h"},
	{c: -0x5E00, k: KindSSL, n2: "CACHE_ENTRY_NOT_FOUND", m: "2.x: the session cache entry was not found (3.x moved it to -0x7E80)", s: "MT228-ssl.h; MT30-migr:897-937"},
	{c: -0x5D80, k: KindSSL, n2: "CERTIFICATE_VERIFICATION_WITHOUT_HOSTNAME", n3: same, m: "the client has VERIFY_REQUIRED but mbedtls_ssl_set_hostname() was never called",
		w: "returned before verification, right after the server's certificate flight: the client sends no alert and closes",
		f: "call mbedtls_ssl_set_hostname() (NULL to opt out); ESP-TLS does this itself, also with skip_common_name (ESP-IDF commit 0291bee with the 3.6.3 update); " + Fix("MBEDTLS_ALLOW_WEAK_CERTIFICATE_VERIFICATION", "y") + " restores the old behaviour",
		s: "MT36-tls:9855-9873,9902-9906; IDF-mbedtls553:879-901; IDF-espcfg553:2148", v: "mbedTLS 2.28.10+ and 3.6.3+ (ESP-IDF v4.4.x ships 2.28.8, so not there)"},

	// ---- X.509 (knowledge §2.2; 2.28.10 x509.h 48–86, 3.6.6 x509.h 45–83) ----
	{c: -0x2080, k: KindX509, n2: "FEATURE_UNAVAILABLE", n3: same, m: "unavailable feature, e.g. RSA hashing/encryption combination", w: "certificate bundle: unknown digest", s: "MT228-x509; MT36-x509; IDF-bundle553"},
	{c: -0x2100, k: KindX509, n2: "UNKNOWN_OID", n3: same, m: "requested OID is unknown", s: "MT228-x509; MT36-x509"},
	{c: -0x2180, k: KindX509, n2: "INVALID_FORMAT", n3: same, m: "the CRT/CRL/CSR format is invalid, e.g. different type expected",
		w: "cacert PEM failed to parse (ESP_ERR_MBEDTLS_X509_CRT_PARSE_FAILED, 0x8015) before the ClientHello: TCP connects, the ESP closes with no TLS bytes",
		f: "pass a valid PEM (with the terminating NUL counted in cert_len) or DER certificate", s: "MT228-x509; MT36-x509; IDF-mbedtls553:542-562"},
	{c: -0x2200, k: KindX509, n2: "INVALID_VERSION", n3: same, m: "the CRT/CRL/CSR version element is invalid", w: "a malformed server certificate during the handshake leads to a decode_error/bad_certificate alert", s: "MT228-x509; MT36-x509"},
	{c: -0x2280, k: KindX509, n2: "INVALID_SERIAL", n3: same, m: "the serial tag or value is invalid", w: "a malformed server certificate during the handshake leads to a decode_error/bad_certificate alert", s: "MT228-x509; MT36-x509"},
	{c: -0x2300, k: KindX509, n2: "INVALID_ALG", n3: same, m: "the algorithm tag or value is invalid", w: "a malformed server certificate during the handshake leads to a decode_error/bad_certificate alert", s: "MT228-x509; MT36-x509"},
	{c: -0x2380, k: KindX509, n2: "INVALID_NAME", n3: same, m: "the name tag or value is invalid", w: "a malformed server certificate during the handshake leads to a decode_error/bad_certificate alert", s: "MT228-x509; MT36-x509"},
	{c: -0x2400, k: KindX509, n2: "INVALID_DATE", n3: same, m: "the date tag or value is invalid", w: "a malformed server certificate during the handshake leads to a decode_error/bad_certificate alert", s: "MT228-x509; MT36-x509"},
	{c: -0x2480, k: KindX509, n2: "INVALID_SIGNATURE", n3: same, m: "the signature tag or value is invalid", w: "a malformed server certificate during the handshake leads to a decode_error/bad_certificate alert", s: "MT228-x509; MT36-x509"},
	{c: -0x2500, k: KindX509, n2: "INVALID_EXTENSIONS", n3: same, m: "the extension tag or value is invalid", w: "a malformed server certificate during the handshake leads to a decode_error/bad_certificate alert", s: "MT228-x509; MT36-x509"},
	{c: -0x2580, k: KindX509, n2: "UNKNOWN_VERSION", n3: same, m: "CRT/CRL/CSR has an unsupported version number", s: "MT228-x509; MT36-x509"},
	{c: -0x2600, k: KindX509, n2: "UNKNOWN_SIG_ALG", n3: same, m: "the signature algorithm (OID) is unsupported", w: "the server certificate is signed with an algorithm not built into the device", f: "reissue the certificate with a supported signature (RSA/ECDSA with SHA-256 or better)", s: "MT228-x509; MT36-x509"},
	{c: -0x2680, k: KindX509, n2: "SIG_MISMATCH", n3: same, m: "signature algorithms do not match (see RFC 3279)", s: "MT228-x509; MT36-x509"},
	{c: -0x2700, k: KindX509, n2: "CERT_VERIFY_FAILED", n3: same, m: "certificate verification failed, e.g. CRL, CA or signature check failed",
		w: "right after the server's Certificate flight the ESP sends the fatal alert chosen from the verify flags (TLS 1.2 plaintext 15 03 03 00 02 02 XX: 48 untrusted, 42 name mismatch, 45 expired, 46 not yet valid, 43 key usage), then closes (often RST); TLS 1.3: a 32-byte encrypted record",
		f: "trust the right CA (cacert_buf / cert_pem must be the root or intermediate, not the leaf), fix the name (common_name, or the certificate's SAN), set the clock before TLS when CONFIG_MBEDTLS_HAVE_TIME_DATE=y",
		s: "MT228-tls:2788-2819; MT36-tls:10020-10050; FAQ; esp-idf#11320"},
	{c: -0x2780, k: KindX509, n2: "CERT_UNKNOWN_FORMAT", n3: same, m: "format not recognized as DER or PEM",
		w: "bad cacert/clientcert bytes before the ClientHello: TCP connects, the ESP closes with no TLS bytes", f: "a PEM buffer's length must include the terminating NUL (cert_len = strlen + 1)", s: "MT228-x509; MT36-x509; IDF-mbedtls553:542-562"},
	{c: -0x2800, k: KindX509, n2: "BAD_INPUT_DATA", n3: same, m: "input invalid", s: "MT228-x509; MT36-x509"},
	{c: -0x2880, k: KindX509, n2: "ALLOC_FAILED", n3: same, m: "allocation of memory failed", f: fixHeap, s: "MT228-x509; MT36-x509"},
	{c: -0x2900, k: KindX509, n2: "FILE_IO_ERROR", n3: same, m: "read/write of file failed", s: "MT228-x509; MT36-x509"},
	{c: -0x2980, k: KindX509, n2: "BUFFER_TOO_SMALL", n3: same, m: "destination buffer is too small", s: "MT228-x509; MT36-x509"},
	{c: -0x3000, k: KindX509, n2: "FATAL_ERROR", n3: same, m: "a fatal error occurred, e.g. the chain is too long or the verify callback failed",
		w: "certificate bundle lookup failure (\"esp-x509-crt-bundle: Failed to verify certificate\"), or a chain longer than MBEDTLS_X509_MAX_INTERMEDIATE_CA (8): the flags become 0xFFFFFFFF and the ESP sends a fatal access_denied(49) right after the server's Certificate flight (TLS 1.3: a 32-byte encrypted record)",
		f: "make the server send its full chain (leaf + intermediates); add a private CA or intermediate with " + Fix("MBEDTLS_CUSTOM_CERTIFICATE_BUNDLE_PATH", "<file>") + "; for a removed/cross-signed root: " + Fix("MBEDTLS_CERTIFICATE_BUNDLE_DEPRECATED_LIST", "y") + " or (v6.0+) " + Fix("MBEDTLS_CERTIFICATE_BUNDLE_CROSS_SIGNED_VERIFY", "y") + "; or use cacert_buf / cert_pem instead of the bundle",
		s: "MT36-x509:2650-2661; MT36-x509:3131-3141; IDF-bundle448:152; IDF-bundle553:216-264; esp-idf#18674"},

	// ---- NET (knowledge §2.8; net_sockets.h 2.28.10 40–65 / 3.6.6 37–62) ----
	{c: -0x0042, k: KindNet, n2: "SOCKET_FAILED", n3: same, m: "failed to open a socket", s: "MT228-net.h; MT36-net.h"},
	{c: -0x0043, k: KindNet, n2: "BUFFER_TOO_SMALL", n3: same, m: "buffer is too small to hold the data", s: "MT228-net.h; MT36-net.h"},
	{c: -0x0044, k: KindNet, n2: "CONNECT_FAILED", n3: same, m: "the connection to the given server/port failed", s: "MT228-net.h; MT36-net.h"},
	{c: -0x0045, k: KindNet, n2: "INVALID_CONTEXT", n3: same, m: "the context is invalid, e.g. because it was freed", s: "MT228-net.h; MT36-net.h"},
	{c: -0x0046, k: KindNet, n2: "BIND_FAILED", n3: same, m: "binding of the socket failed", s: "MT228-net.h; MT36-net.h"},
	{c: -0x0047, k: KindNet, n2: "POLL_FAILED", n3: same, m: "polling the net context failed", s: "MT228-net.h; MT36-net.h"},
	{c: -0x0048, k: KindNet, n2: "LISTEN_FAILED", n3: same, m: "could not listen on the socket", s: "MT228-net.h; MT36-net.h"},
	{c: -0x0049, k: KindNet, n2: "BAD_INPUT_DATA", n3: same, m: "input invalid", s: "MT228-net.h; MT36-net.h"},
	{c: -0x004A, k: KindNet, n2: "ACCEPT_FAILED", n3: same, m: "could not accept the incoming connection", s: "MT228-net.h; MT36-net.h"},
	{c: -0x004C, k: KindNet, n2: "RECV_FAILED", n3: same, m: "reading information from the socket failed (errno other than EAGAIN/EINTR/ECONNRESET/EPIPE)",
		w: "old ESP-IDF 3.x logged it with errno 11 on every read timeout (harmless); ESP-IDF ≥ 4 maps timeouts to WANT_READ", s: "MT228-net.h; MT36-net.h; IDF-netsock553; esp-idf#3512"},
	{c: -0x004E, k: KindNet, n2: "SEND_FAILED", n3: same, m: "sending information through the socket failed", s: "MT228-net.h; MT36-net.h"},
	{c: -0x0050, k: KindNet, n2: "CONN_RESET", n3: same, m: "connection was reset by peer (ECONNRESET or EPIPE)",
		w: "the server sent a TCP RST during the handshake or read (DERIVED from the errno mapping)", f: "the server or a middlebox reset the connection: check server logs, TLS port, SNI, IP filtering", s: "IDF-netsock553; Mbed-TLS/mbedtls#3416; arduino-esp32#8689"},
	{c: -0x0052, k: KindNet, n2: "UNKNOWN_HOST", n3: same, m: "failed to get an IP address for the given hostname", w: "rare from ESP-TLS, which does not use mbedtls_net_connect", s: "MT228-net.h; MT36-net.h"},

	// ---- PK (knowledge §2.9; pk.h 2.28 43–74, 3.6 35–64) ----
	{c: -0x3F80, k: KindPK, n2: "ALLOC_FAILED", n3: same, m: "memory allocation failed", f: fixHeap, s: "MT228-pk.h; MT36-pk.h"},
	{c: -0x3F00, k: KindPK, n2: "TYPE_MISMATCH", n3: same, m: "type mismatch, e.g. an RSA operation on an EC key", s: "MT228-pk.h; MT36-pk.h"},
	{c: -0x3E80, k: KindPK, n2: "BAD_INPUT_DATA", n3: same, m: "bad input parameters to function", s: "MT228-pk.h; MT36-pk.h"},
	{c: -0x3E00, k: KindPK, n2: "FILE_IO_ERROR", n3: same, m: "read/write of file failed", s: "MT228-pk.h; MT36-pk.h"},
	{c: -0x3D80, k: KindPK, n2: "KEY_INVALID_VERSION", n3: same, m: "unsupported key version", s: "MT228-pk.h; MT36-pk.h"},
	{c: -0x3D00, k: KindPK, n2: "KEY_INVALID_FORMAT", n3: same, m: "invalid key tag or value",
		w: "the client key PEM is broken: ESP_ERR_MBEDTLS_PK_PARSE_KEY_FAILED (0x8019) before any TLS bytes; TCP connects and the ESP closes", f: "pass a valid PEM/DER private key in clientkey_buf (length including the terminating NUL for PEM)", s: "MT228-pk.h; MT36-pk.h"},
	{c: -0x3C80, k: KindPK, n2: "UNKNOWN_PK_ALG", n3: same, m: "key algorithm is unsupported (only RSA and EC are supported)", s: "MT228-pk.h; MT36-pk.h"},
	{c: -0x3C00, k: KindPK, n2: "PASSWORD_REQUIRED", n3: same, m: "private key password can't be empty",
		w: "an encrypted client key with no clientkey_password: fails before the ClientHello", f: "set esp_tls_cfg_t.clientkey_password/clientkey_password_len (esp_http_client_config_t.client_key_password)", s: "MT228-pk.h; MT36-pk.h"},
	{c: -0x3B80, k: KindPK, n2: "PASSWORD_MISMATCH", n3: same, m: "the given private key password does not allow for correct decryption", s: "MT228-pk.h; MT36-pk.h"},
	{c: -0x3B00, k: KindPK, n2: "INVALID_PUBKEY", n3: same, m: "the pubkey tag or value is invalid (only RSA and EC are supported)", s: "MT228-pk.h; MT36-pk.h"},
	{c: -0x3A80, k: KindPK, n2: "INVALID_ALG", n3: same, m: "the algorithm tag or value is invalid", s: "MT228-pk.h; MT36-pk.h"},
	{c: -0x3A00, k: KindPK, n2: "UNKNOWN_NAMED_CURVE", n3: same, m: "elliptic curve is unsupported (only NIST curves are supported)", s: "MT228-pk.h; MT36-pk.h"},
	{c: -0x3980, k: KindPK, n2: "FEATURE_UNAVAILABLE", n3: same, m: "unavailable feature, e.g. RSA disabled for RSA key", s: "MT228-pk.h; MT36-pk.h"},
	{c: -0x3900, k: KindPK, n2: "SIG_LEN_MISMATCH", n3: same, m: "the buffer contains a valid signature followed by more data", s: "MT228-pk.h; MT36-pk.h"},
	{c: -0x3880, k: KindPK, n2: "HW_ACCEL_FAILED", n3: "BUFFER_TOO_SMALL", m: "2.x: PK hardware accelerator failed; 3.x: the output buffer is too small", s: "MT228-pk.h; MT36-pk.h; MT30-migr:249-256"},

	// ---- low-level and composite codes seen on ESP (knowledge §2.10, §2.11) ----
	{c: -0x000E, k: KindMPI, n2: "NOT_ACCEPTABLE", n3: same, m: "the input arguments are not acceptable", s: "MT36-bignum.h; K§2.10"},
	{c: -0x0010, k: KindMPI, n2: "ALLOC_FAILED", n3: same, m: "memory allocation failed (bignum)",
		w: "alone: MPI allocation failed during ECDH, i.e. the heap ran out mid-handshake; no alert", f: fixHeap, s: "MT36-bignum.h; esp-aws-iot#7"},
	{c: -0x4280, k: KindRSA, n2: "PUBLIC_FAILED", n3: same, m: "the public key operation failed", s: "MT36-rsa.h"},
	{c: -0x4300, k: KindRSA, n2: "PRIVATE_FAILED", n3: same, m: "the private key operation failed", s: "MT36-rsa.h"},
	{c: -0x4380, k: KindRSA, n2: "VERIFY_FAILED", n3: same, m: "the PKCS#1 verification failed", s: "MT36-rsa.h"},
	{c: -0x4290, k: KindComposite, n2: "MBEDTLS_ERR_RSA_PUBLIC_FAILED + MBEDTLS_ERR_MPI_ALLOC_FAILED", n3: same, m: "an RSA public-key operation failed because an MPI allocation failed",
		w: "heap exhausted while verifying the server's RSA signature; no alert", f: fixHeap, s: "MT36-err:18-90; esp-aliyun#99"},
	{c: -0x428E, k: KindComposite, n2: "MBEDTLS_ERR_RSA_PUBLIC_FAILED + MBEDTLS_ERR_MPI_NOT_ACCEPTABLE", n3: same, m: "an RSA public-key operation failed: MPI input not acceptable",
		w: "classic case: old ESP-IDF hardware MPI with a 4096-bit RSA key (\"too large for hardware unit\")",
		f: "update ESP-IDF; " + Fix("MBEDTLS_LARGE_KEY_SOFTWARE_MPI", "y") + " on targets whose RSA hardware stops at 3072 bits", s: "MT36-err:18-90; esp-idf#139; IDF-soc_caps"},
	{c: -0x4310, k: KindComposite, n2: "MBEDTLS_ERR_RSA_PRIVATE_FAILED + MBEDTLS_ERR_MPI_ALLOC_FAILED", n3: same, m: "an RSA private-key operation failed because an MPI allocation failed",
		w: "heap exhausted while signing with the device's RSA key (mutual TLS or ESP as server)", f: fixHeap, s: "MT36-err:18-90; esp-idf#1750"},
	// ASN.1 (low level): what an X.509 or PK parse error carries as its
	// low part, e.g. -0x21E2 = X509_INVALID_FORMAT + ASN1_UNEXPECTED_TAG.
	{c: -0x0060, k: KindASN1, n2: "OUT_OF_DATA", n3: same, m: "out of data when parsing an ASN.1 structure (the DER is cut short)", f: fixDER, s: "MT-asn1.h"},
	{c: -0x0062, k: KindASN1, n2: "UNEXPECTED_TAG", n3: same, m: "an ASN.1 tag had an unexpected value (the bytes are not DER of the expected type)", f: fixDER, s: "MT-asn1.h"},
	{c: -0x0064, k: KindASN1, n2: "INVALID_LENGTH", n3: same, m: "an ASN.1 length could not be read or is invalid", f: fixDER, s: "MT-asn1.h"},
	{c: -0x0066, k: KindASN1, n2: "LENGTH_MISMATCH", n3: same, m: "the actual length differs from the expected length (bytes left over after a DER structure)", f: fixDER, s: "MT-asn1.h"},
	{c: -0x0068, k: KindASN1, n2: "INVALID_DATA", n3: same, m: "ASN.1 data is invalid", f: fixDER, s: "MT-asn1.h"},
	{c: -0x006A, k: KindASN1, n2: "ALLOC_FAILED", n3: same, m: "memory allocation failed while parsing ASN.1", f: fixHeap, s: "MT-asn1.h"},
	{c: -0x006C, k: KindASN1, n2: "BUF_TOO_SMALL", n3: same, m: "a buffer is too small to write an ASN.1 structure", s: "MT-asn1.h"},
	// Message digest (high level).
	{c: -0x5080, k: KindMD, n2: "FEATURE_UNAVAILABLE", n3: same, m: "the selected message digest is not available (not built in)", s: "MT-md.h"},
	{c: -0x5100, k: KindMD, n2: "BAD_INPUT_DATA", n3: same, m: "bad input parameters to a message-digest function", s: "MT-md.h"},
	{c: -0x5180, k: KindMD, n2: "ALLOC_FAILED", n3: same, m: "memory allocation failed for a message-digest context",
		w: "the device aborts mid-handshake with no alert (out of heap; on ESP8266_RTOS_SDK before e0b73761 also reported with heap free)", f: fixHeap, s: "MT-md.h; espressif/ESP8266_RTOS_SDK#806"},
	{c: -0x5200, k: KindMD, n2: "FILE_IO_ERROR", n3: same, m: "opening or reading a file failed", s: "MT-md.h"},
	// PSA Crypto status values: mbedTLS 3.x (ESP-IDF v5.x) returns some
	// of them unchanged from the handshake (e.g. -0x008D, -141).
	{c: -0x0084, k: KindPSA, n3: "GENERIC_ERROR", m: "an error that matches no other PSA status", s: "MT-psa-error"},
	{c: -0x0086, k: KindPSA, n3: "NOT_SUPPORTED", m: "the operation or a parameter is not supported (an algorithm or curve not built in)", s: "MT-psa-error"},
	{c: -0x0087, k: KindPSA, n3: "INVALID_ARGUMENT", m: "invalid parameters to a PSA function", s: "MT-psa-error"},
	{c: -0x0089, k: KindPSA, n3: "BAD_STATE", m: "the operation cannot be done in the current state", s: "MT-psa-error"},
	{c: -0x008A, k: KindPSA, n3: "BUFFER_TOO_SMALL", m: "an output buffer is too small", s: "MT-psa-error"},
	{c: -0x008D, k: KindPSA, n3: "INSUFFICIENT_MEMORY", m: "not enough memory for a PSA crypto operation",
		w: "the device aborts mid-handshake with no alert after the server's flight (heap exhausted during ECDHE signature verification on a module without PSRAM)",
		f: fixHeap, s: "MT-psa-error; Xerolux/HB-RF-ETH-ng#349"},
	{c: -0x0093, k: KindPSA, n3: "HARDWARE_FAILURE", m: "a hardware (crypto accelerator) failure", s: "MT-psa-error"},
	{c: -0x0095, k: KindPSA, n3: "INVALID_SIGNATURE", m: "a signature, MAC or hash is incorrect", s: "MT-psa-error"},
	{c: -0x0070, k: KindPlatform, n3: "HW_ACCEL_FAILED", m: "a hardware accelerator failed (replaces the module-specific HW_ACCEL_FAILED codes in 3.x)", s: "MT30-migr:249-256",
		v: "mbedTLS 3.x (2.x not checked)"},

	// ---- ESP-TLS esp_err_t (knowledge §6; esp_tls_errors.h) ----
	{c: 0x8001, k: KindESPTLS, n2: "ESP_ERR_ESP_TLS_CANNOT_RESOLVE_HOSTNAME", n3: same, m: "the hostname could not be resolved: \"couldn't get hostname for :X: getaddrinfo() returns 202\" (202 = EAI_FAIL for any DNS failure)",
		w: "DNS only and no TCP SYN: no query at all (no DNS server configured, empty name), an NXDOMAIN/SERVFAIL answer, or 4 unanswered queries at about 0/1/2/4 s",
		f: "set a DNS server with a static IP (esp_netif_set_dns_info), check the hostname string and the interface's link", s: "IDF-tls553:221-226; LWIP-netdb.c:345-348; FAQ; esp-idf#11153"},
	{c: 0x8002, k: KindESPTLS, n2: "ESP_ERR_ESP_TLS_CANNOT_CREATE_SOCKET", n3: same, m: "socket() failed", w: "nothing on the wire", f: "too many open sockets (CONFIG_LWIP_MAX_SOCKETS) or out of memory", s: "IDF-esptlsh553"},
	{c: 0x8003, k: KindESPTLS, n2: "ESP_ERR_ESP_TLS_UNSUPPORTED_PROTOCOL_FAMILY", n3: same, m: "unsupported protocol family", s: "IDF-esptlsh553"},
	{c: 0x8004, k: KindESPTLS, n2: "ESP_ERR_ESP_TLS_FAILED_CONNECT_TO_HOST", n3: same, m: "failed to connect to the host (\"delayed connect error: ...\")",
		w: "SYN answered by RST (port closed) or an ICMP unreachable", f: "check the server's address and port", s: "IDF-tls553:432-442; K§7.3"},
	{c: 0x8005, k: KindESPTLS, n2: "ESP_ERR_ESP_TLS_SOCKET_SETOPT_FAILED", n3: same, m: "failed to set/get a socket option", s: "IDF-esptlsh553"},
	{c: 0x8006, k: KindESPTLS, n2: "ESP_ERR_ESP_TLS_CONNECTION_TIMEOUT", n3: same, m: "the connection timed out: \"[sock=N] select() timeout\" (TCP) or \"Failed to open new connection in specified timeout\" (handshake)",
		w: "SYN retransmissions with no SYN-ACK; or the ClientHello (or the ESP's next flight) gets no answer within timeout_ms (esp_tls_cfg_t default 10 s, esp_http_client 5 s)",
		f: "check the network path and server; raise timeout_ms if the server or the device's crypto is slow", s: "IDF-tls553:421-424; IDF-tls553:545-580; IDF-httpc553.c:169,572; esp-idf#630"},
	{c: 0x8007, k: KindESPTLS, n2: "ESP_ERR_ESP_TLS_SE_FAILED", n3: same, m: "the secure element (ATECC608A) failed", s: "IDF-esptlsh553; IDF-esptlserr"},
	{c: 0x8008, k: KindESPTLS, n2: "ESP_ERR_ESP_TLS_TCP_CLOSED_FIN", n3: same, m: "the TCP transport was closed cleanly by the peer", w: "a FIN from the server", s: "IDF-esptlsh553; IDF-esptlserr"},
	{c: 0x8009, k: KindESPTLS, n2: "ESP_ERR_ESP_TLS_SERVER_HANDSHAKE_TIMEOUT", n3: same, m: "ESP as TLS server: the handshake timed out (tls_handshake_timeout_ms, default 10 s)", s: "IDF-esptlsh553",
		v: "ESP-TLS esp_err_t (ESP-IDF v5.x; listed in v5.5.3, not in older headers)"},
	{c: 0x8010, k: KindESPTLS, n2: "ESP_ERR_MBEDTLS_CERT_PARTLY_OK", n3: same, m: "parsing the certificates was partly successful (a warning: some certificates in the buffer failed to parse)", s: "IDF-esptlsh553; IDF-mbedtls553:542-562"},
	{c: 0x8011, k: KindESPTLS, n2: "ESP_ERR_MBEDTLS_CTR_DRBG_SEED_FAILED", n3: same, m: "seeding the random generator failed", w: "no ClientHello", s: "IDF-esptlsh553"},
	{c: 0x8012, k: KindESPTLS, n2: "ESP_ERR_MBEDTLS_SSL_SET_HOSTNAME_FAILED", n3: same, m: "mbedtls_ssl_set_hostname failed", w: "TCP connects, then the ESP closes with no ClientHello", s: "IDF-esptlsh553; IDF-mbedtls553:879-901"},
	{c: 0x8013, k: KindESPTLS, n2: "ESP_ERR_MBEDTLS_SSL_CONFIG_DEFAULTS_FAILED", n3: same, m: "mbedtls_ssl_config_defaults failed", w: "no ClientHello", s: "IDF-esptlsh553"},
	{c: 0x8014, k: KindESPTLS, n2: "ESP_ERR_MBEDTLS_SSL_CONF_ALPN_PROTOCOLS_FAILED", n3: same, m: "setting the ALPN protocols failed",
		w: "TCP connects, then the ESP closes with no ClientHello", f: Fix("MBEDTLS_SSL_ALPN", "y") + " when alpn_protos is set", s: "IDF-esptlsh553; IDF-mbedtls553:917-928"},
	{c: 0x8015, k: KindESPTLS, n2: "ESP_ERR_MBEDTLS_X509_CRT_PARSE_FAILED", n3: same, m: "the CA or client certificate failed to parse",
		w: "TCP connects, then the ESP closes (FIN) with no ClientHello", f: "pass a valid PEM (length including the terminating NUL) or DER certificate in cacert_buf / cert_pem / clientcert_buf", s: "IDF-mbedtls553:542-562; K§5.1"},
	{c: 0x8016, k: KindESPTLS, n2: "ESP_ERR_MBEDTLS_SSL_CONF_OWN_CERT_FAILED", n3: same, m: "mbedtls_ssl_conf_own_cert failed (client or server certificate and key do not match or are unusable)", w: "no ClientHello", s: "IDF-esptlsh553"},
	{c: 0x8017, k: KindESPTLS, n2: "ESP_ERR_MBEDTLS_SSL_SETUP_FAILED", n3: same, m: "\"No server verification option set in esp_tls_cfg_t structure. Check esp_tls API reference\" (ESP-IDF ≥ v4.3), or mbedtls_ssl_setup failed (e.g. -0x7F00)",
		w: "a complete TCP handshake, then the ESP's FIN and no ClientHello", f: fixVerifyOpt, s: "IDF-mbedtls553:945-990; IDF-tls553:469-525; arduino-esp32#8049; esp-rs/esp-idf-svc#477"},
	{c: 0x8018, k: KindESPTLS, n2: "ESP_ERR_MBEDTLS_SSL_WRITE_FAILED", n3: same, m: "mbedtls_ssl_write failed", s: "IDF-esptlsh553"},
	{c: 0x8019, k: KindESPTLS, n2: "ESP_ERR_MBEDTLS_PK_PARSE_KEY_FAILED", n3: same, m: "the client (or server) private key failed to parse",
		w: "TCP connects, then the ESP closes with no ClientHello", f: "pass a valid private key in clientkey_buf (and clientkey_password if it is encrypted)", s: "IDF-esptlsh553; K§2.9"},
	{c: 0x801A, k: KindESPTLS, n2: "ESP_ERR_MBEDTLS_SSL_HANDSHAKE_FAILED", n3: same, m: "mbedtls_ssl_handshake failed; the mbedTLS code is in esp_tls_stack_err (\"mbedtls_ssl_handshake returned -0x....\")",
		w: "see the mbedTLS code", f: "look up the accompanying mbedTLS code", s: "IDF-mbedtls553:308; esp-idf#8515"},
	{c: 0x801B, k: KindESPTLS, n2: "ESP_ERR_MBEDTLS_SSL_CONF_PSK_FAILED", n3: same, m: "configuring the PSK failed", s: "IDF-esptlsh553"},
	{c: 0x801C, k: KindESPTLS, n2: "ESP_ERR_MBEDTLS_SSL_TICKET_SETUP_FAILED", n3: same, m: "setting up the session ticket context failed", s: "IDF-esptlsh553"},
	{c: 0x801D, k: KindESPTLS, n2: "ESP_ERR_MBEDTLS_SSL_READ_FAILED", n3: same, m: "mbedtls_ssl_read failed (\"read error :-0x....\")", s: "IDF-esptlsh553",
		v: "ESP-TLS esp_err_t (ESP-IDF v5.x; listed in v5.5.3, not in older headers)"},
}

var (
	errorTable  []Error
	errorByCode map[int]int
)

func init() {
	errorByCode = make(map[int]int, len(errorRows))
	for _, r := range errorRows {
		if _, dup := errorByCode[r.c]; dup {
			panic(fmt.Sprintf("device: duplicate error code %s", FormatCode(r.c)))
		}
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
