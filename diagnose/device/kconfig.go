package device

import (
	"fmt"
	"sort"
	"strings"
)

// Absent marks an option that does not exist in an ESP-IDF version.
const Absent = "(absent)"

// IDF version keys used in KconfigOption.Defaults.
const (
	IDFv44 = "v4.4" // read at v4.4.8
	IDFv5  = "v5.x" // read at v5.0.9 and v5.5.3
	IDFv60 = "v6.0" // read at v6.0.2
)

// KconfigOption is one menuconfig option with its path and defaults.
type KconfigOption struct {
	Name   string // without the CONFIG_ prefix
	Menu   string // "Component config → mbedTLS"
	Prompt string // the text menuconfig shows
	// Path is Menu → Prompt, as users navigate it.
	Path string
	// Default is the ESP-IDF v5.x default (what most devices run).
	Default string
	// Defaults per ESP-IDF version (IDFv44, IDFv5, IDFv60); Absent when the
	// option does not exist there; a missing key means not checked.
	Defaults map[string]string
	Notes    string
	Source   string
}

var (
	menus          = must(parseMenus("data/menus.tsv", mustRead("data/menus.tsv")))
	kconfigOptions = must(parseKconfig("data/kconfig.tsv", mustRead("data/kconfig.tsv"), menus))
)

var kconfigByName map[string]int

func init() {
	kconfigByName = make(map[string]int, len(kconfigOptions))
	for i := range kconfigOptions {
		o := &kconfigOptions[i]
		o.Path = o.Menu + " → " + o.Prompt
		kconfigByName[o.Name] = i
	}
}

func optionIndex(name string) (int, bool) {
	name = strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(name)), "CONFIG_")
	if kconfigByName == nil { // called during package variable initialisation
		for i := range kconfigOptions {
			if kconfigOptions[i].Name == name {
				return i, true
			}
		}
		return 0, false
	}
	i, ok := kconfigByName[name]
	return i, ok
}

// Option returns a menuconfig option by name (with or without CONFIG_).
func Option(name string) (KconfigOption, bool) {
	i, ok := optionIndex(name)
	if !ok {
		return KconfigOption{}, false
	}
	o := kconfigOptions[i]
	if o.Path == "" {
		o.Path = o.Menu + " → " + o.Prompt
	}
	return o, true
}

// Options returns all options, sorted by name.
func Options() []KconfigOption {
	out := make([]KconfigOption, 0, len(kconfigOptions))
	for _, o := range kconfigOptions {
		o, _ := Option(o.Name)
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// DefaultFor returns the option's default in an ESP-IDF version (IDFv44,
// IDFv5, IDFv60), Absent, or "" when not checked.
func (o KconfigOption) DefaultFor(idf string) string {
	if v, ok := o.Defaults[idf]; ok {
		return v
	}
	if idf == IDFv5 {
		return o.Default
	}
	return ""
}

// Fix renders a menuconfig change the way users navigate to it:
//
//	menuconfig: Component config → mbedTLS → TLS maximum incoming fragment length (CONFIG_MBEDTLS_SSL_IN_CONTENT_LEN) = 16384
func Fix(name, value string) string {
	n := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(name)), "CONFIG_")
	if o, ok := Option(n); ok {
		return fmt.Sprintf("menuconfig: %s (CONFIG_%s) = %s", o.Path, o.Name, value)
	}
	return fmt.Sprintf("menuconfig: CONFIG_%s = %s", n, value)
}

// ConfigField is a field of an ESP-IDF configuration struct that a fix may
// name.
type ConfigField struct {
	Struct string // "esp_tls_cfg_t"
	Field  string // "crt_bundle_attach", or a nested path "broker.verification.certificate"
	// Concept groups the same setting across structs (see FieldConcepts).
	Concept string
	Meaning string
	Default string
	// Versions is where the field exists, "" meaning all versions read.
	Versions string
	Source   string
}

// Concepts shared by the config structs.
const (
	ConceptServerCA      = "server-ca"
	ConceptBundle        = "crt-bundle"
	ConceptGlobalCAStore = "global-ca-store"
	ConceptSkipCN        = "skip-common-name"
	ConceptCommonName    = "common-name"
	ConceptClientCert    = "client-cert"
	ConceptClientKey     = "client-key"
	ConceptKeyPassword   = "client-key-password"
	ConceptALPN          = "alpn"
	ConceptTimeout       = "timeout"
	ConceptTLSVersion    = "tls-version"
	ConceptPSK           = "psk"
	ConceptCipherSuites  = "ciphersuites"
	ConceptClientCA      = "client-ca" // ESP as server: CA that signs client certificates
	ConceptNonBlock      = "non-block"
	ConceptAddrFamily    = "addr-family"
	ConceptDynBuf        = "dyn-buf-strategy"
	ConceptSession       = "client-session"
)

const (
	sTLS   = "esp_tls_cfg_t"
	sHTTP  = "esp_http_client_config_t"
	sMQTT5 = "esp_mqtt_client_config_t (ESP-IDF v5.x)"
	sMQTT4 = "esp_mqtt_client_config_t (ESP-IDF v4.4)"
	sSrv   = "esp_tls_cfg_server_t"
	sHTTPD = "httpd_ssl_config_t"
)

// configFields: the ESP-IDF and ESP-MQTT configuration structs; each field
// cites the header it was read in.
var configFields = []ConfigField{
	{Struct: sTLS, Field: "cacert_buf", Concept: ConceptServerCA, Meaning: "CA chain to trust (PEM with the terminating NUL counted in cacert_bytes, or DER); sets VERIFY_REQUIRED; must be the root or an intermediate CA, not the server's leaf", Source: "IDF-mbedtls553:542-562; esp-idf#11320"},
	{Struct: sTLS, Field: "crt_bundle_attach", Concept: ConceptBundle, Meaning: "esp_crt_bundle_attach: verify against the certificate bundle (needs CONFIG_MBEDTLS_CERTIFICATE_BUNDLE)", Source: "IDF-mbedtls553:945-953"},
	{Struct: sTLS, Field: "use_global_ca_store", Concept: ConceptGlobalCAStore, Meaning: "use the CA set with esp_tls_set_global_ca_store(); ESP_ERR_INVALID_STATE if none", Source: "IDF-mbedtls553:643-654"},
	{Struct: sTLS, Field: "skip_common_name", Concept: ConceptSkipCN, Meaning: "no CN/SAN check and no SNI in the ClientHello", Default: "false", Source: "IDF-mbedtls553:898-900; IDF-mbedtls448:558-575"},
	{Struct: sTLS, Field: "common_name", Concept: ConceptCommonName, Meaning: "name used for the CN/SAN check and for SNI instead of the connect host", Source: "IDF-mbedtls553:879-896"},
	{Struct: sTLS, Field: "clientcert_buf", Concept: ConceptClientCert, Meaning: "client certificate for mutual TLS (sent only if the server sends CertificateRequest)", Source: "IDF-esptlsh553"},
	{Struct: sTLS, Field: "clientkey_buf", Concept: ConceptClientKey, Meaning: "client private key for mutual TLS", Source: "IDF-esptlsh553"},
	{Struct: sTLS, Field: "clientkey_password", Concept: ConceptKeyPassword, Meaning: "password of an encrypted client key (with clientkey_password_len)", Source: "IDF-esptlsh553"},
	{Struct: sTLS, Field: "alpn_protos", Concept: ConceptALPN, Meaning: "ALPN protocol list (needs CONFIG_MBEDTLS_SSL_ALPN)", Source: "IDF-mbedtls553:917-928"},
	{Struct: sTLS, Field: "timeout_ms", Concept: ConceptTimeout, Meaning: "TCP connect timeout, SO_RCVTIMEO/SO_SNDTIMEO and overall synchronous handshake timeout", Default: "10000 (when 0)", Source: "IDF-tls553:113,275-292,401-424,545-580"},
	{Struct: sTLS, Field: "tls_version", Concept: ConceptTLSVersion, Meaning: "ESP_TLS_VER_ANY / ESP_TLS_VER_TLS_1_2 / ESP_TLS_VER_TLS_1_3: pins min=max; TLS 1.3 needs CONFIG_MBEDTLS_SSL_PROTO_TLS1_3", Default: "ESP_TLS_VER_ANY", Versions: "ESP-IDF v5.2+ (later v5.1.x patches)", Source: "IDF-mbedtls553:156-173"},
	{Struct: sTLS, Field: "psk_hint_key", Concept: ConceptPSK, Meaning: "PSK identity and key (needs CONFIG_ESP_TLS_PSK_VERIFICATION); used only when no certificate option is set", Source: "IDF-mbedtls553:945-990"},
	{Struct: sTLS, Field: "ciphersuites_list", Concept: ConceptCipherSuites, Meaning: "zero-terminated list of IANA cipher suite IDs passed to mbedtls_ssl_conf_ciphersuites", Versions: "ESP-IDF v5.2+", Source: "IDF-mbedtls553:1117-1120"},
	{Struct: sTLS, Field: "non_block", Concept: ConceptNonBlock, Meaning: "leave the socket non-blocking; connect with esp_tls_conn_new_async", Default: "false", Source: "IDF-esptlsh553; FAQ"},
	{Struct: sTLS, Field: "addr_family", Concept: ConceptAddrFamily, Meaning: "ESP_TLS_AF_UNSPEC / INET / INET6, the getaddrinfo hint (A first, AAAA only if A yields nothing)", Default: "ESP_TLS_AF_UNSPEC", Versions: "ESP-IDF v5.1+", Source: "IDF-tls553:201-211"},
	{Struct: sTLS, Field: "client_session", Concept: ConceptSession, Meaning: "session ticket to resume (needs CONFIG_ESP_TLS_CLIENT_SESSION_TICKETS)", Source: "IDF-esptlsh553"},
	{Struct: sTLS, Field: "esp_tls_dyn_buf_strategy", Concept: ConceptDynBuf, Meaning: "with CONFIG_MBEDTLS_DYNAMIC_BUFFER: ESP_TLS_DYN_BUF_RX_STATIC keeps the RX buffer after the handshake", Source: "IDF-esptlsh553"},

	{Struct: sHTTP, Field: "cert_pem", Concept: ConceptServerCA, Meaning: "server CA (PEM; cert_len) passed as cacert; with it set, the server certificate is verified even when skipping is enabled in menuconfig", Source: "IDF-httpch553; FAQ"},
	{Struct: sHTTP, Field: "crt_bundle_attach", Concept: ConceptBundle, Meaning: "esp_crt_bundle_attach", Source: "IDF-httpch553"},
	{Struct: sHTTP, Field: "use_global_ca_store", Concept: ConceptGlobalCAStore, Meaning: "use the global CA store", Source: "IDF-httpch553"},
	{Struct: sHTTP, Field: "skip_cert_common_name_check", Concept: ConceptSkipCN, Meaning: "no CN/SAN check and no SNI", Default: "false", Source: "IDF-httpch553"},
	{Struct: sHTTP, Field: "common_name", Concept: ConceptCommonName, Meaning: "name for the CN/SAN check and SNI", Source: "IDF-httpch553"},
	{Struct: sHTTP, Field: "client_cert_pem", Concept: ConceptClientCert, Meaning: "client certificate (client_cert_len)", Source: "IDF-httpch553"},
	{Struct: sHTTP, Field: "client_key_pem", Concept: ConceptClientKey, Meaning: "client key (client_key_len)", Source: "IDF-httpch553"},
	{Struct: sHTTP, Field: "client_key_password", Concept: ConceptKeyPassword, Meaning: "password of an encrypted client key (client_key_password_len)", Source: "IDF-httpch553"},
	{Struct: sHTTP, Field: "alpn_protos", Concept: ConceptALPN, Meaning: "ALPN protocol list", Source: "IDF-httpch553"},
	{Struct: sHTTP, Field: "timeout_ms", Concept: ConceptTimeout, Meaning: "network timeout", Default: "5000", Source: "IDF-httpc553.c:169,572"},
	{Struct: sHTTP, Field: "tls_version", Concept: ConceptTLSVersion, Meaning: "pin TLS 1.2 or 1.3", Versions: "ESP-IDF v5.2+", Source: "IDF-httpch553"},
	{Struct: sHTTP, Field: "tls_dyn_buf_strategy", Concept: ConceptDynBuf, Meaning: "dynamic buffer strategy", Source: "IDF-httpch553"},

	{Struct: sMQTT5, Field: "broker.verification.certificate", Concept: ConceptServerCA, Meaning: "server CA (certificate_len)", Source: "MQTT-cac1"},
	{Struct: sMQTT5, Field: "broker.verification.crt_bundle_attach", Concept: ConceptBundle, Meaning: "esp_crt_bundle_attach", Source: "MQTT-cac1"},
	{Struct: sMQTT5, Field: "broker.verification.use_global_ca_store", Concept: ConceptGlobalCAStore, Meaning: "use the global CA store", Source: "MQTT-cac1"},
	{Struct: sMQTT5, Field: "broker.verification.skip_cert_common_name_check", Concept: ConceptSkipCN, Meaning: "no CN/SAN check and no SNI", Default: "false", Source: "MQTT-cac1; FAQ"},
	{Struct: sMQTT5, Field: "broker.verification.common_name", Concept: ConceptCommonName, Meaning: "name for the CN/SAN check and SNI", Source: "MQTT-cac1"},
	{Struct: sMQTT5, Field: "broker.verification.alpn_protos", Concept: ConceptALPN, Meaning: "ALPN protocol list", Source: "MQTT-cac1"},
	{Struct: sMQTT5, Field: "broker.verification.psk_hint_key", Concept: ConceptPSK, Meaning: "PSK", Source: "MQTT-cac1"},
	{Struct: sMQTT5, Field: "credentials.authentication.certificate", Concept: ConceptClientCert, Meaning: "client certificate (certificate_len)", Source: "MQTT-cac1"},
	{Struct: sMQTT5, Field: "credentials.authentication.key", Concept: ConceptClientKey, Meaning: "client key (key_len)", Source: "MQTT-cac1"},
	{Struct: sMQTT5, Field: "credentials.authentication.key_password", Concept: ConceptKeyPassword, Meaning: "password of an encrypted client key (key_password_len)", Source: "MQTT-cac1"},
	{Struct: sMQTT5, Field: "network.timeout_ms", Concept: ConceptTimeout, Meaning: "network timeout", Default: "10000", Source: "MQTT-cac1"},

	{Struct: sMQTT4, Field: "cert_pem", Concept: ConceptServerCA, Meaning: "server CA (cert_len)", Source: "MQTT-bb9c"},
	{Struct: sMQTT4, Field: "crt_bundle_attach", Concept: ConceptBundle, Meaning: "esp_crt_bundle_attach", Source: "MQTT-bb9c"},
	{Struct: sMQTT4, Field: "use_global_ca_store", Concept: ConceptGlobalCAStore, Meaning: "use the global CA store", Source: "MQTT-bb9c"},
	{Struct: sMQTT4, Field: "skip_cert_common_name_check", Concept: ConceptSkipCN, Meaning: "no CN/SAN check and no SNI", Default: "false", Source: "MQTT-bb9c"},
	{Struct: sMQTT4, Field: "alpn_protos", Concept: ConceptALPN, Meaning: "ALPN protocol list", Source: "MQTT-bb9c"},
	{Struct: sMQTT4, Field: "psk_hint_key", Concept: ConceptPSK, Meaning: "PSK", Source: "MQTT-bb9c"},
	{Struct: sMQTT4, Field: "client_cert_pem", Concept: ConceptClientCert, Meaning: "client certificate (client_cert_len)", Source: "MQTT-bb9c"},
	{Struct: sMQTT4, Field: "client_key_pem", Concept: ConceptClientKey, Meaning: "client key (client_key_len)", Source: "MQTT-bb9c"},
	{Struct: sMQTT4, Field: "clientkey_password", Concept: ConceptKeyPassword, Meaning: "password of an encrypted client key (clientkey_password_len)", Source: "MQTT-bb9c"},

	{Struct: sSrv, Field: "cacert_buf", Concept: ConceptClientCA, Meaning: "CA that signs client certificates: set → VERIFY_REQUIRED and a CertificateRequest; unset → client certificates are not requested or verified", Source: "IDF-mbedtls553:755-766; IDF-mbedtls448:505-514; FAQ"},
	{Struct: sSrv, Field: "tls_handshake_timeout_ms", Concept: ConceptTimeout, Meaning: "server handshake timeout", Default: "10000", Source: "IDF-esptlsh553"},
	{Struct: sHTTPD, Field: "cacert_pem", Concept: ConceptClientCA, Meaning: "CA used to sign clients, or the client certificate itself (cacert_len); copied into cacert_buf", Source: "IDF-https553.c:289-300; FAQ"},
}

// ConfigFields returns all config-struct fields.
func ConfigFields() []ConfigField { return append([]ConfigField(nil), configFields...) }

// Field finds a field of a struct; structName may omit the "(ESP-IDF ...)"
// qualifier, in which case the first match (v5.x) wins.
func Field(structName, field string) (ConfigField, bool) {
	for _, f := range configFields {
		if f.Field == field && (f.Struct == structName || strings.HasPrefix(f.Struct, structName+" (")) {
			return f, true
		}
	}
	return ConfigField{}, false
}

// FieldsFor returns the fields that carry one concept in each struct.
func FieldsFor(concept string) []ConfigField {
	var out []ConfigField
	for _, f := range configFields {
		if f.Concept == concept {
			out = append(out, f)
		}
	}
	return out
}

// FieldFix renders a config change for every struct that carries the
// concept, ESP-TLS first:
//
//	esp_tls_cfg_t.crt_bundle_attach = esp_crt_bundle_attach (esp_http_client_config_t.crt_bundle_attach, ...)
func FieldFix(concept, value string) string {
	fs := FieldsFor(concept)
	if len(fs) == 0 {
		return ""
	}
	var alt []string
	for _, f := range fs[1:] {
		alt = append(alt, structShort(f.Struct)+"."+f.Field)
	}
	s := structShort(fs[0].Struct) + "." + fs[0].Field + " = " + value
	if len(alt) > 0 {
		s += " (" + strings.Join(alt, ", ") + ")"
	}
	return s
}

func structShort(s string) string {
	switch s {
	case sMQTT5:
		return "MQTT v5 esp_mqtt_client_config_t"
	case sMQTT4:
		return "MQTT v4.4 esp_mqtt_client_config_t"
	}
	return s
}
