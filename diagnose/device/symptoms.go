package device

// Symptom is something tlspcap sees in a capture, for which the device's
// error depends on its profile.
type Symptom string

// Symptoms. "Server" is the TLS peer of an ESP client unless noted.
const (
	// SymptomRecordTooLarge: a record whose header length does not fit the device's
	// input buffer (IN_CONTENT_LEN plus overhead).
	SymptomRecordTooLarge Symptom = "record-too-large"
	// SymptomRecordTooLargeSlightly: a record that fits the buffer but whose content
	// exceeds IN_CONTENT_LEN.
	SymptomRecordTooLargeSlightly Symptom = "record-too-large-slightly"
	// SymptomNotTLS: the server's reply does not start with a TLS record header.
	SymptomNotTLS Symptom = "not-tls"
	// SymptomFatalAlertReceived: the server sent a fatal alert.
	SymptomFatalAlertReceived Symptom = "fatal-alert-received"
	// SymptomPeerFIN: the server closed (FIN) while the device waited for a record.
	SymptomPeerFIN Symptom = "peer-fin"
	// SymptomPeerRST: the server reset the connection during the handshake.
	SymptomPeerRST Symptom = "peer-rst"
	// SymptomReadTimeout: the server never answered the device's flight.
	SymptomReadTimeout Symptom = "read-timeout"
	// SymptomHandshakeFragmented: a handshake message spans several records.
	SymptomHandshakeFragmented Symptom = "handshake-fragmented"
	// SymptomVerifyFailed: after the server's Certificate the device sent alert
	// 42/43/45/46/48 (certificate verification against cacert).
	SymptomVerifyFailed Symptom = "verify-failed"
	// SymptomBundleVerifyFailed: after the server's Certificate the device sent
	// access_denied(49) (certificate bundle lookup failure, chain too long).
	SymptomBundleVerifyFailed Symptom = "bundle-verify-failed"
	// SymptomVersionTooOld: the ServerHello version is below the device's minimum.
	SymptomVersionTooOld Symptom = "version-too-old"
	// SymptomServerChoseUnofferedSuite: the ServerHello picked a suite the device
	// did not offer.
	SymptomServerChoseUnofferedSuite Symptom = "server-chose-unoffered-suite"
	// SymptomMFLMismatch: the server echoed a different max_fragment_length.
	SymptomMFLMismatch Symptom = "mfl-mismatch"
	// SymptomUnsupportedExtension: the ServerHello carried an extension the device
	// did not offer.
	SymptomUnsupportedExtension Symptom = "unsupported-extension"
	// SymptomALPNMismatch: the server selected no ALPN protocol the device offered.
	SymptomALPNMismatch Symptom = "alpn-mismatch"
	// SymptomNoClientCertificate: ESP as TLS server; the client sent no certificate.
	SymptomNoClientCertificate Symptom = "no-client-certificate"
	// SymptomOwnCertTooLarge: the device's own chain does not fit OUT_CONTENT_LEN.
	SymptomOwnCertTooLarge Symptom = "own-cert-too-large"
	// SymptomAllocFailed: the handshake stops with no alert while heap is short.
	SymptomAllocFailed Symptom = "alloc-failed"
	// SymptomLocalSetupFailed: TCP connects, then the device closes without
	// sending a ClientHello.
	SymptomLocalSetupFailed Symptom = "local-setup-failed"
	// SymptomSilentCloseAfterServerFlight: the device closes with no alert right
	// after the server's Certificate flight, with records that fit.
	SymptomSilentCloseAfterServerFlight Symptom = "silent-close-after-server-flight"
	// SymptomTLS13LocalFailure: TLS 1.3 offered; the handshake fails locally after
	// the ServerHello.
	SymptomTLS13LocalFailure Symptom = "tls13-local-failure"
	// SymptomCloseNotify: the server sent close_notify.
	SymptomCloseNotify Symptom = "close-notify"
	// SymptomBadMAC: the device sent bad_record_mac(20).
	SymptomBadMAC Symptom = "bad-mac"
	// SymptomDNSFailed: DNS failed; no TCP connection was attempted.
	SymptomDNSFailed Symptom = "dns-failed"
	// SymptomConnectTimeout: the SYN got no answer.
	SymptomConnectTimeout Symptom = "connect-timeout"
	// SymptomConnectionRefused: the SYN was answered by RST.
	SymptomConnectionRefused Symptom = "connect-refused"
)

// Candidate is one device error that may go with a symptom.
type Candidate struct {
	Code int
	// Name is the macro name in the profile's mbedTLS version.
	Name string
	// Versions says where this candidate applies.
	Versions string
	// Why explains the link between the symptom and the code.
	Why string
	// Alert is the alert the device sends with it: -1 none, else the
	// description number.
	Alert  int
	Source string
}

// Version phrases used by candidates.
const (
	v228up   = "mbedTLS 2.28 and 3.x (ESP-IDF v4.3.3+, v4.4.1+, v5.x)"
	v216     = "mbedTLS 2.16 (ESP-IDF v4.0–v4.2, v4.3–v4.3.2, v4.4.0)"
	v2x      = "mbedTLS 2.x (ESP-IDF v4.x)"
	v3x      = "mbedTLS 3.x (ESP-IDF v5.x)"
	vAll     = "all mbedTLS versions"
	vESPTLS  = "ESP-TLS (ESP-IDF v4.x, v5.x)"
	v8266    = "ESP8266_RTOS_SDK mbedTLS 2.x (version not determined)"
	vDefault = "mbedTLS 3.6 (upstream)"
)

// v3le362 names the releases that cannot reassemble a handshake message and
// the ones that can (data/milestones.tsv).
var v3le362 = "mbedTLS ≤ " + reassembly.LastWithout().String() + " (ESP-IDF " + reassembly.Before() + "); mbedTLS ≥ " + reassembly.MbedTLS.String() + " (" + reassembly.Releases() + ") reassembles and succeeds"

// symptomRow maps a symptom, for the profiles in match, to candidates.
// match holds profile names, "mbedtls2"/"mbedtls3" (any profile of that
// major version) or "*"; a profile-name row beats a major row beats "*".
type symptomRow struct {
	s     Symptom
	match []string
	cands []Candidate
}

const none = -1

var (
	allP  = []string{"*"}
	idf5  = []string{"esp32-idf5"}
	idf4  = []string{"esp32-idf4"}
	e8266 = []string{"esp8266-rtos"}
	mdef  = []string{"mbedtls-default"}
	mt2   = []string{"mbedtls2"}
	mt3   = []string{"mbedtls3"}
)

const (
	whyTooLarge   = "the record header's length is larger than the input buffer: mbedtls_ssl_fetch_input \"requesting more data than fits\"; no alert, then close (measured: FIN then RST about 4 ms after the first segment of the record)"
	whyTooLarge16 = "2.16 checks the record length in ssl_parse_record_header (\"bad message length\"); no alert"
	srcTooLarge   = "MT228-msg:1842-1845; MT36-msg:2165-2168; DESIGN-measured"
	srcTooLarge16 = "MT216-tls:4370-4376"
)

var symptomRows = []symptomRow{
	{SymptomRecordTooLarge, mt3, []Candidate{{Code: -0x7100, Versions: v228up, Why: whyTooLarge, Alert: none, Source: srcTooLarge}}},
	{SymptomRecordTooLarge, idf4, []Candidate{
		{Code: -0x7100, Versions: "mbedTLS 2.28 (ESP-IDF v4.3.3–v4.3.7, v4.4.1–v4.4.8)", Why: whyTooLarge, Alert: none, Source: srcTooLarge},
		{Code: -0x7200, Versions: v216, Why: whyTooLarge16, Alert: none, Source: srcTooLarge16},
	}},
	{SymptomRecordTooLarge, e8266, []Candidate{
		{Code: -0x7200, Versions: v8266 + "; as 2.16", Why: whyTooLarge16 + "; reported on ESP8266 and fixed by IN_CONTENT_LEN 16384 (ESP8266_RTOS_SDK#461)", Alert: none, Source: srcTooLarge16 + "; ESP8266_RTOS_SDK#461"},
		{Code: -0x7100, Versions: v8266 + "; as 2.28", Why: whyTooLarge, Alert: none, Source: srcTooLarge},
	}},
	{SymptomRecordTooLargeSlightly, allP, []Candidate{{Code: -0x7200, Versions: vAll, Why: "the record fits the input buffer but its content exceeds IN_CONTENT_LEN: ssl_prepare_record_content \"bad message length\" (2.16: the record header check); no alert", Alert: none, Source: "MT228-msg:3761-3765; MT36-msg:4302-4305; MT216-tls:4370-4376"}}},

	{SymptomNotTLS, mt3, []Candidate{{Code: -0x7200, Versions: v228up, Why: "the first byte is not a TLS content type (0x14–0x17) or the version is not 3.x: invalid record; no alert", Alert: none, Source: "MT36-msg:3953; FAQ"}}},
	{SymptomNotTLS, mt2, []Candidate{{Code: -0x7200, Versions: v2x, Why: "invalid record; 2.28 sends no alert, 2.16 (ESP-IDF ≤ v4.2, v4.3–v4.3.2, v4.4.0) first sends a fatal unexpected_message(10) for an unknown record type", Alert: none, Source: "MT228-msg:3483-3488; MT216-tls:4339-4355"}}},

	{SymptomFatalAlertReceived, allP, []Candidate{{Code: -0x7780, Versions: vAll, Why: "a fatal alert from the server; the device sends nothing and closes; the cause is the alert's description", Alert: none, Source: "MT36-msg:5279-5284"}}},
	{SymptomPeerFIN, allP, []Candidate{{Code: -0x7280, Versions: vAll, Why: "recv() returned 0 while a record was expected; no alert", Alert: none, Source: "MT228-msg:1999-2001; pcbreflux/espressif#18"}}},
	{SymptomPeerRST, allP, []Candidate{{Code: -0x0050, Versions: vAll, Why: "ECONNRESET maps to MBEDTLS_ERR_NET_CONN_RESET (DERIVED); no alert", Alert: none, Source: "IDF-netsock553"}}},
	{SymptomReadTimeout, allP, []Candidate{
		{Code: 0x8006, Versions: vESPTLS, Why: "ESP-TLS gives up after timeout_ms: \"Failed to open new connection in specified timeout\" (esp_tls_cfg_t default 10 s, esp_http_client 5 s)", Alert: none, Source: "IDF-tls553:545-580; IDF-httpc553.c:169,572"},
		{Code: -0x6900, Versions: vAll, Why: "each SO_RCVTIMEO expiry is WANT_READ in ESP-IDF's net_sockets.c port, not an error by itself", Alert: none, Source: "IDF-netsock553"},
	}},
	{SymptomReadTimeout, mdef, []Candidate{{Code: -0x6800, Versions: vDefault, Why: "with a read timeout set (ssl_client2 read_timeout) mbedTLS returns TIMEOUT", Alert: none, Source: "MT36-ssl.h"}}},

	{SymptomHandshakeFragmented, idf5, []Candidate{{Code: -0x7080, Versions: v3le362, Why: "\"TLS handshake fragmentation not supported\": the handshake message is longer than its record; no alert", Alert: none, Source: "MT362-msg:3297; MT366-ChangeLog; DESIGN-measured"}}},
	{SymptomHandshakeFragmented, mt2, []Candidate{{Code: -0x7080, Versions: v2x, Why: "mbedTLS 2.x cannot reassemble a handshake message spanning records (measured with 2.28.3); no alert", Alert: none, Source: "MT228-msg:2977-2981; MT216-tls:3972; DESIGN-measured"}}},
	{SymptomHandshakeFragmented, mdef, nil}, // 3.6.3+ reassembles: no error expected (measured with 3.6.6)

	{SymptomVerifyFailed, allP, []Candidate{
		{Code: -0x2700, Versions: vAll, Why: "certificate verification failed; the alert is chosen from the verify flags (48 not trusted, 42 name mismatch, 45 expired, 46 not yet valid/other, 43 key usage)", Alert: none, Source: "MT228-tls:2788-2819; MT36-tls:10020-10050"},
		{Code: -0x7A00, Versions: vAll, Why: "secondary checks on the server certificate (EC curve not allowed, keyUsage/extendedKeyUsage) use the same alert mapping", Alert: 43, Source: "MT36-tls:9960-9985"},
	}},
	{SymptomBundleVerifyFailed, allP, []Candidate{{Code: -0x3000, Versions: vAll, Why: "the certificate bundle found no root for the issuer of the top certificate the server sent (or the chain exceeds 8 intermediates): flags 0xFFFFFFFF, alert access_denied(49)", Alert: 49, Source: "IDF-bundle448:152; IDF-bundle553:264; MT36-x509:3131-3141; esp-idf#18674"}}},
	{SymptomVersionTooOld, allP, []Candidate{{Code: -0x6E80, Versions: vAll, Why: "the ServerHello version is below the device's minimum (TLS 1.2 on ESP-IDF v5.x, TLS 1.0 on v4.x): fatal protocol_version(70)", Alert: 70, Source: "MT228-cli:2106-2123; MT36-cli12:1275-1287"}}},
	{SymptomServerChoseUnofferedSuite, mt3, []Candidate{{Code: -0x6600, Versions: v3x, Why: "the ServerHello picked a suite the device did not offer: fatal illegal_parameter(47)", Alert: 47, Source: "MT36-cli12:1397-1405"}}},
	{SymptomServerChoseUnofferedSuite, mt2, []Candidate{{Code: -0x7980, Versions: v2x, Why: "2.x reports ServerHello check failures as BAD_HS_SERVER_HELLO, with decode_error, illegal_parameter or handshake_failure depending on the check (DERIVED)", Alert: 47, Source: "MT228-cli:2082-2123"}}},
	{SymptomMFLMismatch, mt3, []Candidate{{Code: -0x6600, Versions: v3x, Why: "the server echoed a different max_fragment_length: fatal illegal_parameter(47); ESP-TLS itself never offers the extension", Alert: 47, Source: "MT36-cli12:658-679"}}},
	{SymptomMFLMismatch, mt2, []Candidate{{Code: -0x7980, Versions: v2x, Why: "ServerHello extension check failure (DERIVED); ESP-TLS itself never offers max_fragment_length", Alert: 47, Source: "MT228-cli:2082-2123"}}},
	{SymptomUnsupportedExtension, mt3, []Candidate{{Code: -0x7500, Versions: v3x, Why: "the ServerHello carried an extension the device did not offer: fatal unsupported_extension(110) (seen with early TLS 1.3, esp-idf#8515)", Alert: 110, Source: "MT36-cli12:696,748,773,799,925; esp-idf#8515"}}},
	{SymptomUnsupportedExtension, mt2, []Candidate{{Code: -0x7980, Versions: v2x, Why: "ServerHello parse failure (DERIVED)", Alert: none, Source: "MT228-cli:2082-2123"}}},
	{SymptomALPNMismatch, mt3, []Candidate{{Code: -0x7580, Versions: v3x, Why: "no ALPN protocol in common", Alert: none, Source: "MT36-ssl.h"}}},
	{SymptomALPNMismatch, mt2, []Candidate{{Code: -0x7980, Versions: v2x, Why: "ServerHello ALPN check failure (UNVERIFIED: 2.x ALPN path not read)", Alert: none, Source: "MT228-cli:2082-2123"}}},
	{SymptomNoClientCertificate, allP, []Candidate{{Code: -0x7480, Versions: vAll, Why: "ESP as TLS server with cacert set: the client sent no (or an empty) Certificate; TLS 1.2: no alert, TLS 1.3: alert 41 encrypted", Alert: none, Source: "MT36-tls:8053-8060; MT36-tls13g:656-672; IDF-mbedtls553:755-766"}}},
	{SymptomOwnCertTooLarge, mt3, []Candidate{{Code: -0x6A00, Versions: v3x, Why: "the device's own certificate chain does not fit OUT_CONTENT_LEN (default 4096); no alert", Alert: none, Source: "MT36-tls:7663-7669; MT30-migr:909-915"}}},
	{SymptomOwnCertTooLarge, mt2, []Candidate{{Code: -0x7500, Versions: v2x, Why: "the device's own certificate chain does not fit OUT_CONTENT_LEN (default 4096); no alert", Alert: none, Source: "MT228-tls:2310-2315"}}},
	{SymptomAllocFailed, allP, []Candidate{
		{Code: -0x7F00, Versions: vAll, Why: "SSL buffer allocation failed (before the ClientHello in mbedtls_ssl_setup, or per record with dynamic buffers)", Alert: none, Source: "IDF-dyn553:359-430; esp-idf#13424"},
		{Code: -0x0010, Versions: vAll, Why: "bignum allocation failed during ECDH", Alert: none, Source: "esp-aws-iot#7"},
		{Code: -0x4290, Versions: vAll, Why: "RSA public-key operation (server signature check) ran out of heap", Alert: none, Source: "esp-aliyun#99"},
		{Code: -0x4310, Versions: vAll, Why: "RSA private-key operation (device's own key) ran out of heap", Alert: none, Source: "esp-idf#1750"},
	}},
	{SymptomLocalSetupFailed, allP, []Candidate{
		{Code: 0x8017, Versions: vESPTLS + " (the verification-option check since ESP-IDF v4.3)", Why: "\"No server verification option set in esp_tls_cfg_t structure\", or mbedtls_ssl_setup failed: checked after the TCP connect, before the ClientHello", Alert: none, Source: "IDF-mbedtls553:945-990; IDF-tls553:469-525"},
		{Code: 0x8015, Versions: vESPTLS, Why: "the CA or client certificate failed to parse", Alert: none, Source: "IDF-mbedtls553:542-562"},
		{Code: 0x8019, Versions: vESPTLS, Why: "the client key failed to parse", Alert: none, Source: "IDF-esptlsh553"},
		{Code: -0x7F00, Versions: vAll, Why: "mbedtls_ssl_setup could not allocate its buffers (about 40 KB per session by default)", Alert: none, Source: "esp-idf#13424; FAQ"},
		{Code: 0x8014, Versions: vESPTLS, Why: "alpn_protos set but CONFIG_MBEDTLS_SSL_ALPN disabled", Alert: none, Source: "IDF-mbedtls553:917-928"},
	}},
	{SymptomLocalSetupFailed, mdef, []Candidate{{Code: -0x7F00, Versions: vDefault, Why: "mbedtls_ssl_setup could not allocate its buffers", Alert: none, Source: "MT36-ssl.h"}}},
	{SymptomSilentCloseAfterServerFlight, mdef, []Candidate{
		{Code: -0x5D80, Versions: "mbedTLS 2.28.10+ and 3.6.3+", Why: "VERIFY_REQUIRED without mbedtls_ssl_set_hostname(): returned before verification, so no alert", Alert: none, Source: "MT36-tls:9855-9873,9902-9906"},
	}},
	{SymptomSilentCloseAfterServerFlight, allP, []Candidate{
		{Code: -0x7F00, Versions: vAll, Why: "with CONFIG_MBEDTLS_DYNAMIC_BUFFER the buffers are allocated per record; heap ran out mid-handshake", Alert: none, Source: "IDF-dyn553:359-430"},
		{Code: -0x0010, Versions: vAll, Why: "bignum allocation failed during the key exchange", Alert: none, Source: "esp-aws-iot#7"},
		{Code: -0x5D80, Versions: "mbedTLS 2.28.10+ and 3.6.3+", Why: "VERIFY_REQUIRED without a hostname; ESP-TLS always sets one, so only custom mbedTLS code", Alert: none, Source: "MT36-tls:9855-9873; IDF-mbedtls553:879-901"},
	}},
	{SymptomTLS13LocalFailure, idf5, []Candidate{
		{Code: -0x6C00, Versions: "ESP-IDF v5.1 (PSA crypto not initialised by ESP-TLS)", Why: "TLS 1.3 needs psa_crypto_init(), which ESP-TLS calls from v5.2", Alert: none, Source: "esp-aws-iot#179; Mbed-TLS/mbedtls#8401"},
		{Code: -0x7500, Versions: "ESP-IDF v5.0 (mbedTLS 3.1–3.2 experimental TLS 1.3)", Why: "UNSUPPORTED_EXTENSION from immature TLS 1.3", Alert: 110, Source: "esp-idf#8515"},
		{Code: -0x7780, Versions: v3x, Why: "the server sent a fatal alert", Alert: none, Source: "MT36-msg:5279-5284"},
	}},
	{SymptomTLS13LocalFailure, mt2, nil},  // mbedTLS 2.x has no TLS 1.3
	{SymptomTLS13LocalFailure, mdef, nil}, // no local TLS 1.3 failure known for upstream 3.6 (PSA is initialised)
	{SymptomCloseNotify, allP, []Candidate{{Code: -0x7880, Versions: vAll, Why: "close_notify received; esp_mbedtls_read() returns 0 (EOF)", Alert: none, Source: "MT36-msg:5286-5290; IDF-mbedtls553:329-421"}}},
	{SymptomBadMAC, allP, []Candidate{{Code: -0x7180, Versions: vAll, Why: "record MAC/AEAD check failed: fatal bad_record_mac(20), encrypted", Alert: 20, Source: "MT36-msg:5172-5176; IDF-espcfg553:975"}}},
	{SymptomDNSFailed, allP, []Candidate{{Code: 0x8001, Versions: vESPTLS, Why: "getaddrinfo() returns 202 (EAI_FAIL) for any DNS failure", Alert: none, Source: "IDF-tls553:221-226; LWIP-netdb.c:345-348"}}},
	{SymptomDNSFailed, mdef, nil},
	{SymptomConnectTimeout, allP, []Candidate{{Code: 0x8006, Versions: vESPTLS, Why: "\"[sock=N] select() timeout\" after timeout_ms", Alert: none, Source: "IDF-tls553:421-424"}}},
	{SymptomConnectTimeout, mdef, nil},
	{SymptomConnectionRefused, allP, []Candidate{{Code: 0x8004, Versions: vESPTLS, Why: "\"delayed connect error: Connection reset by peer\" (DERIVED from lwIP)", Alert: none, Source: "IDF-tls553:432-442"}}},
	{SymptomConnectionRefused, mdef, nil},
}

// Symptoms lists every symptom with a mapping.
func Symptoms() []Symptom {
	seen := map[Symptom]bool{}
	var out []Symptom
	for _, r := range symptomRows {
		if !seen[r.s] {
			seen[r.s] = true
			out = append(out, r.s)
		}
	}
	return out
}

// ErrorsFor returns the device errors that go with a symptom on this
// profile, most likely first, with names for the profile's mbedTLS version.
// nil means the profile is not expected to fail with an error for it (e.g.
// a fragmented handshake on mbedtls-default, which reassembles).
func (p Profile) ErrorsFor(s Symptom) []Candidate {
	best := p.symptomRow(s)
	if best < 0 || len(symptomRows[best].cands) == 0 {
		return nil
	}
	out := make([]Candidate, len(symptomRows[best].cands))
	for i, c := range symptomRows[best].cands {
		if c.Name == "" {
			if e, ok := Lookup(c.Code); ok {
				c.Name = e.NameFor(p.MbedTLSMajor())
				if c.Name == "" {
					c.Name = e.Name()
				}
			}
		}
		out[i] = c
	}
	return out
}

// symptomRow is the index of the row of symptomRows that applies to the
// profile (a profile-name row beats a major row beats "*"), -1 if none.
func (p Profile) symptomRow(s Symptom) int {
	major := "mbedtls3"
	if p.MbedTLSMajor() == 2 {
		major = "mbedtls2"
	}
	best, bestRank := -1, 0
	for i, r := range symptomRows {
		if r.s != s {
			continue
		}
		rank := 0
		for _, m := range r.match {
			switch {
			case m == p.Name:
				rank = max(rank, 3)
			case m == major:
				rank = max(rank, 2)
			case m == "*":
				rank = max(rank, 1)
			}
		}
		if rank > bestRank {
			best, bestRank = i, rank
		}
	}
	return best
}
