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

const (
	menuTLS   = "Component config → ESP-TLS"
	menuMbed  = "Component config → mbedTLS"
	menuV3    = menuMbed + " → mbedTLS v3.x related"
	menuTLS13 = menuV3 + " → TLS 1.3 related configurations"
	menuKex   = menuMbed + " → TLS Key Exchange Methods"
	menuSym   = menuMbed + " → Symmetric Ciphers"
	menuCert  = menuMbed + " → Certificates"
	menuBndl  = menuMbed + " → Certificate Bundle"
)

func d(v44, v5, v60 string) map[string]string {
	m := map[string]string{}
	if v44 != "" {
		m[IDFv44] = v44
	}
	if v5 != "" {
		m[IDFv5] = v5
	}
	if v60 != "" {
		m[IDFv60] = v60
	}
	return m
}

const kc = "IDF-Kc448; IDF-Kc509; IDF-Kc553; IDF-Kc602; IDF-Kc-menus"

// kconfigOptions: knowledge §3.1–§3.4 (names, prompts, defaults); the
// submenu layout is that of ESP-IDF v5.x (IDF-Kc-menus); v4.4 and v6.0 may
// nest some options differently.
var kconfigOptions = []KconfigOption{
	// ESP-TLS (§3.1)
	{Name: "ESP_TLS_USING_MBEDTLS", Menu: menuTLS + " → Choose SSL/TLS library for ESP-TLS", Prompt: "mbedTLS", Default: "y", Notes: "choice with ESP_TLS_USING_WOLFSSL", Source: "IDF-Kesptls553; K§3.1"},
	{Name: "ESP_TLS_USE_SECURE_ELEMENT", Menu: menuTLS, Prompt: "Use Secure Element (ATECC608A) with ESP-TLS", Default: "n", Notes: "v4.4: ESP32 only", Source: "IDF-Kesptls553; K§3.1"},
	{Name: "ESP_TLS_USE_DS_PERIPHERAL", Menu: menuTLS, Prompt: "Use Digital Signature (DS) Peripheral with ESP-TLS", Default: "y", Notes: "on targets with the DS peripheral", Source: "IDF-Kesptls553; K§3.1"},
	{Name: "ESP_TLS_CLIENT_SESSION_TICKETS", Menu: menuTLS, Prompt: "Enable client session tickets", Default: "n", Source: "IDF-Kesptls553; K§3.1"},
	{Name: "ESP_TLS_SERVER", Menu: menuTLS, Prompt: "Enable ESP-TLS Server", Default: "n", Defaults: d("n", "", ""), Notes: "v4.x/v5.0 only (selected by ESP_HTTPS_SERVER_ENABLE in v4.4); removed by v5.5", Source: "IDF-Kesptls553; IDF-https448; K§3.1"},
	{Name: "ESP_TLS_SERVER_SESSION_TICKETS", Menu: menuTLS, Prompt: "Enable server session tickets", Default: "n", Source: "IDF-Kesptls553; K§3.1"},
	{Name: "ESP_TLS_SERVER_SESSION_TICKET_TIMEOUT", Menu: menuTLS + " → Enable server session tickets", Prompt: "session ticket timeout (seconds)", Default: "86400", Notes: "prompt text not recorded in the knowledge file", Source: "IDF-Kesptls553; K§3.1"},
	{Name: "ESP_TLS_SERVER_CERT_SELECT_HOOK", Menu: menuTLS, Prompt: "Certificate selection hook", Default: "n", Source: "IDF-Kesptls553; K§3.1"},
	{Name: "ESP_TLS_SERVER_MIN_AUTH_MODE_OPTIONAL", Menu: menuTLS, Prompt: "ESP-TLS Server: Set minimum Certificate Verification mode to Optional", Default: "n", Notes: "y: the ESP server sends CertificateRequest but verification failures do not abort", Source: "IDF-Kesptls553; K§5.5"},
	{Name: "ESP_TLS_PSK_VERIFICATION", Menu: menuTLS, Prompt: "Enable PSK verification", Default: "n", Source: "IDF-Kesptls553; K§3.1"},
	{Name: "ESP_TLS_INSECURE", Menu: menuTLS, Prompt: "Allow potentially insecure options", Default: "n", Defaults: d("n", "n", ""), Notes: "since ESP-IDF v4.3", Source: "IDF-Kesptls553; K§3.1; FAQ"},
	{Name: "ESP_TLS_SKIP_SERVER_CERT_VERIFY", Menu: menuTLS + " → Allow potentially insecure options", Prompt: "Skip server certificate verification by default (WARNING: ONLY FOR TESTING PURPOSE, READ HELP)", Default: "n", Defaults: d("n", "n", ""),
		Notes: "depends on ESP_TLS_INSECURE; applies only when no verification option is set in esp_tls_cfg_t (a cacert/cert_pem still verifies); since ESP-IDF v4.3", Source: "IDF-Kesptls553; K§3.1; FAQ"},

	// mbedTLS buffers and memory (§3.2)
	{Name: "MBEDTLS_MEM_ALLOC_MODE", Menu: menuMbed, Prompt: "Memory allocation strategy", Default: "Internal memory (MBEDTLS_INTERNAL_MEM_ALLOC)", Notes: "choice: Internal memory, External SPIRAM (MBEDTLS_EXTERNAL_MEM_ALLOC), Default alloc mode, Custom alloc mode, Internal IRAM", Source: "IDF-Kc553; IDF-Kc-menus; K§3.2"},
	{Name: "MBEDTLS_ASYMMETRIC_CONTENT_LEN", Menu: menuMbed, Prompt: "Asymmetric in/out fragment length", Default: "y", Source: kc + "; K§3.2"},
	{Name: "MBEDTLS_SSL_IN_CONTENT_LEN", Menu: menuMbed, Prompt: "TLS maximum incoming fragment length", Default: "16384", Defaults: d("16384", "16384", "16384"),
		Notes: "range 512–16384; 16384 is the only value safe against any server (ESP-TLS never offers max_fragment_length); smaller values give -0x7100 (mbedTLS 2.28/3.x) or -0x7200", Source: kc + "; K§2.6; K§3.2"},
	{Name: "MBEDTLS_SSL_OUT_CONTENT_LEN", Menu: menuMbed, Prompt: "TLS maximum outgoing fragment length", Default: "4096", Defaults: d("4096", "4096", "4096"),
		Notes: "limits the device's own certificate chain (mutual TLS client, ESP as server): -0x7500 (2.x) / -0x6A00 (3.x) when too small", Source: kc + "; K§3.2"},
	{Name: "MBEDTLS_SSL_MAX_CONTENT_LEN", Menu: menuMbed, Prompt: "TLS maximum message content length", Default: "16384", Notes: "only when ASYMMETRIC_CONTENT_LEN=n; help: too low gives MBEDTLS_ERR_SSL_INVALID_RECORD (-0x7200)", Source: kc + "; K§3.2"},
	{Name: "MBEDTLS_DYNAMIC_BUFFER", Menu: menuMbed, Prompt: "Using dynamic TX/RX buffer", Default: "n", Notes: "RX buffer allocated per record from the record header length, so heap shortage shows as -0x7F00 mid-handshake; not with TLS 1.3 in v5.x", Source: kc + "; IDF-dyn553:359-430; FAQ"},
	{Name: "MBEDTLS_DYNAMIC_FREE_PEER_CERT", Menu: menuMbed + " → Using dynamic TX/RX buffer", Prompt: "Free SSL peer certificate after its usage", Default: Absent, Defaults: d("n", Absent, Absent), Notes: "ESP-IDF v4.x and ESP8266_RTOS_SDK only", Source: "IDF-Kc448; IDF-Kc509; IDF-Kc553; ESP8266-Kc-v2; FAQ"},
	{Name: "MBEDTLS_DYNAMIC_FREE_CONFIG_DATA", Menu: menuMbed + " → Using dynamic TX/RX buffer", Prompt: "Free private key and DHM data after its usage", Default: "n", Notes: "ESP8266_RTOS_SDK (FAQ) prompt: \"Free certificate, key and DHM data after its usage\"", Source: kc + "; FAQ"},
	{Name: "MBEDTLS_DYNAMIC_FREE_CA_CERT", Menu: menuMbed + " → Using dynamic TX/RX buffer", Prompt: "Free SSL CA certificate after its usage", Default: "y", Notes: "depends on DYNAMIC_FREE_CONFIG_DATA", Source: kc + "; K§3.2"},
	{Name: "MBEDTLS_SSL_VARIABLE_BUFFER_LENGTH", Menu: menuV3, Prompt: "Variable SSL buffer length", Default: "n", Source: kc + "; K§3.2"},
	{Name: "MBEDTLS_SSL_KEEP_PEER_CERTIFICATE", Menu: menuV3, Prompt: "Keep peer certificate after handshake completion", Default: "y", Defaults: d("y", "y", "n"), Notes: "disabling saves about 4 KB heap; v6.0 default n (selected by TLS 1.3)", Source: kc + "; K§3.2"},
	{Name: "MBEDTLS_DEBUG", Menu: menuMbed, Prompt: "Enable mbedTLS debugging", Default: "n", Notes: "needs mbedtls_esp_enable_debug_log() at run time; shows the server's chain and the exact failing check", Source: kc + "; K§3.2; FAQ"},
	{Name: "MBEDTLS_DEBUG_LEVEL", Menu: menuMbed, Prompt: "Set mbedTLS debugging level", Default: "Verbose (4)", Source: kc + "; K§3.2"},

	// protocol versions, ciphers, key exchange (§3.3)
	{Name: "MBEDTLS_SSL_PROTO_TLS1", Menu: menuMbed, Prompt: "Support TLS 1.0 protocol", Default: Absent, Defaults: d("y", Absent, Absent), Notes: "prompt text not recorded in the knowledge file; mbedTLS 3 has no TLS 1.0", Source: "IDF-Kc448; K§3.3"},
	{Name: "MBEDTLS_SSL_PROTO_TLS1_1", Menu: menuMbed, Prompt: "Support TLS 1.1 protocol", Default: Absent, Defaults: d("y", Absent, Absent), Notes: "prompt text not recorded in the knowledge file; mbedTLS 3 has no TLS 1.1", Source: "IDF-Kc448; K§3.3"},
	{Name: "MBEDTLS_SSL_PROTO_TLS1_2", Menu: menuMbed, Prompt: "Support TLS 1.2 protocol", Default: "y", Defaults: d("y", "y", "y"), Source: kc + "; K§3.3"},
	{Name: "MBEDTLS_SSL_PROTO_TLS1_3", Menu: menuV3, Prompt: "Support TLS 1.3 protocol", Default: "n", Defaults: d(Absent, "n", "n"), Notes: "needs KEEP_PEER_CERTIFICATE=y and DYNAMIC_BUFFER=n; immature before ESP-IDF v5.2 / mbedTLS 3.6", Source: kc + "; K§3.3; K§8 #24"},
	{Name: "MBEDTLS_SSL_TLS1_3_COMPATIBILITY_MODE", Menu: menuTLS13, Prompt: "TLS 1.3 middlebox compatibility mode", Default: "y", Defaults: d(Absent, "y", "y"), Source: kc + "; K§3.3"},
	{Name: "MBEDTLS_SSL_PROTO_DTLS", Menu: menuMbed, Prompt: "Support DTLS protocol (all versions)", Default: "n", Source: kc + "; K§3.3"},
	{Name: "MBEDTLS_SSL_ALPN", Menu: menuMbed, Prompt: "Support ALPN (Application Layer Protocol Negotiation)", Default: "y", Notes: "without it, alpn_protos fails before the ClientHello", Source: kc + "; K§3.3; IDF-mbedtls553:917-928"},
	{Name: "MBEDTLS_CLIENT_SSL_SESSION_TICKETS", Menu: menuMbed, Prompt: "TLS: Client Support for RFC 5077 SSL session tickets", Default: "y", Source: kc + "; K§3.3"},
	{Name: "MBEDTLS_SERVER_SSL_SESSION_TICKETS", Menu: menuMbed, Prompt: "TLS: Server Support for RFC 5077 SSL session tickets", Default: "y", Source: kc + "; K§3.3"},
	{Name: "MBEDTLS_SSL_RENEGOTIATION", Menu: menuMbed, Prompt: "Support TLS renegotiation", Default: "y", Source: kc + "; K§3.3"},
	{Name: "MBEDTLS_DHM_C", Menu: menuMbed, Prompt: "Diffie-Hellman-Merkle key exchange (DHM)", Default: "n", Defaults: d(Absent, "n", "n"), Notes: "v4.4: not a Kconfig option, DHM always on (esp_config.h); n means no DHE-RSA suites", Source: kc + "; IDF-espcfg448:1801; K§3.3"},
	{Name: "MBEDTLS_PSK_MODES", Menu: menuKex, Prompt: "Enable pre-shared-key ciphersuites", Default: "n", Source: kc + "; K§3.3"},
	{Name: "MBEDTLS_KEY_EXCHANGE_RSA", Menu: menuKex, Prompt: "Enable RSA-only based ciphersuite modes", Default: "y", Source: kc + "; K§3.3"},
	{Name: "MBEDTLS_KEY_EXCHANGE_DHE_RSA", Menu: menuKex, Prompt: "Enable DHE-RSA based ciphersuite modes", Default: "y", Notes: "v5.x: effective only with MBEDTLS_DHM_C=y", Source: kc + "; K§3.3"},
	{Name: "MBEDTLS_KEY_EXCHANGE_ECDHE_RSA", Menu: menuKex, Prompt: "Enable ECDHE-RSA based ciphersuite modes", Default: "y", Source: kc + "; K§3.3"},
	{Name: "MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA", Menu: menuKex, Prompt: "Enable ECDHE-ECDSA based ciphersuite modes", Default: "y", Source: kc + "; K§3.3"},
	{Name: "MBEDTLS_KEY_EXCHANGE_ECDH_ECDSA", Menu: menuKex, Prompt: "Enable ECDH-ECDSA based ciphersuite modes", Default: "y", Source: kc + "; K§3.3"},
	{Name: "MBEDTLS_KEY_EXCHANGE_ECDH_RSA", Menu: menuKex, Prompt: "Enable ECDH-RSA based ciphersuite modes", Default: "y", Source: kc + "; K§3.3"},
	{Name: "MBEDTLS_AES_C", Menu: menuSym, Prompt: "AES block cipher", Default: "y", Source: kc + "; K§3.3"},
	{Name: "MBEDTLS_GCM_C", Menu: menuSym, Prompt: "GCM (Galois/Counter) block cipher modes", Default: "y", Source: kc + "; K§3.3"},
	{Name: "MBEDTLS_CCM_C", Menu: menuSym, Prompt: "CCM (Counter with CBC-MAC) block cipher modes", Default: "y", Source: kc + "; K§3.3"},
	{Name: "MBEDTLS_DES_C", Menu: menuSym, Prompt: "DES block cipher (legacy, insecure)", Default: "n", Notes: "3DES suites", Source: kc + "; K§3.3"},
	{Name: "MBEDTLS_CAMELLIA_C", Menu: menuSym, Prompt: "Camellia block cipher", Default: "n", Source: kc + "; K§3.3"},
	{Name: "MBEDTLS_CHACHA20_C", Menu: menuMbed, Prompt: "Chacha20 stream cipher", Default: "n", Source: kc + "; K§3.3"},
	{Name: "MBEDTLS_POLY1305_C", Menu: menuMbed, Prompt: "Poly1305 MAC algorithm", Default: "n", Source: "IDF-Kc-menus"},
	{Name: "MBEDTLS_CHACHAPOLY_C", Menu: menuMbed, Prompt: "ChaCha20-Poly1305 AEAD algorithm", Default: "n", Notes: "depends on CHACHA20_C and POLY1305_C; needed for the ChaCha20-Poly1305 suites (0xCCA8/0xCCA9, TLS 1.3 0x1303)", Source: kc + "; K§3.3"},
	{Name: "MBEDTLS_HAVE_TIME", Menu: menuMbed, Prompt: "Enable mbedtls time support", Default: "y", Notes: "puts the device clock into ClientHello.random[0:4] (TLS 1.2)", Source: kc + "; K§3.3"},
	{Name: "MBEDTLS_HAVE_TIME_DATE", Menu: menuMbed, Prompt: "Enable mbedtls certificate expiry check", Default: "n", Defaults: d("n", "n", "n"), Notes: "n: validity dates are not checked; y needs the clock set (SNTP) before TLS", Source: kc + "; K§3.3"},
	{Name: "MBEDTLS_ALLOW_WEAK_CERTIFICATE_VERIFICATION", Menu: menuMbed, Prompt: "Allow weak certificate verification", Default: "n", Defaults: d(Absent, "n", "n"), Notes: "with mbedTLS ≥ 3.6.3; maps to MBEDTLS_SSL_CLI_ALLOW_WEAK_CERTIFICATE_VERIFICATION_WITHOUT_HOSTNAME; submenu not recorded", Source: "IDF-Kc553; IDF-espcfg553:2148; K§3.3"},
	{Name: "MBEDTLS_SSL_MAX_FRAGMENT_LENGTH", Menu: menuMbed, Prompt: "Max Fragment Length extension support", Default: Absent, Defaults: d(Absent, Absent, "y"), Notes: "hard-coded on before v6.0; prompt text not recorded; ESP-TLS never sends the extension", Source: "IDF-Kc602:754-758; K§2.6"},
	{Name: "MBEDTLS_HARDWARE_MPI", Menu: menuMbed, Prompt: "Enable hardware MPI (bignum) acceleration", Default: "y", Source: kc + "; K§3.3"},
	{Name: "MBEDTLS_LARGE_KEY_SOFTWARE_MPI", Menu: menuMbed + " → Enable hardware MPI (bignum) acceleration", Prompt: "Fallback to software implementation for larger MPI values", Default: "y if SOC_RSA_MAX_BIT_LEN ≤ 3072", Source: kc + "; K§3.5"},
	{Name: "MBEDTLS_X509_CHECK_KEY_USAGE", Menu: menuCert, Prompt: "Enable verification of the keyUsage extension", Default: Absent, Defaults: d("y", Absent, Absent), Notes: "v4.4 only; prompt text not recorded", Source: "IDF-Kc448; K§3.3"},
	{Name: "MBEDTLS_X509_CHECK_EXTENDED_KEY_USAGE", Menu: menuCert, Prompt: "Enable verification of the extendedKeyUsage extension", Default: Absent, Defaults: d("y", Absent, Absent), Notes: "v4.4 only; prompt text not recorded", Source: "IDF-Kc448; K§3.3"},
	{Name: "MBEDTLS_SSL_CID_PADDING_GRANULARITY", Menu: menuV3, Prompt: "Record plaintext padding", Default: "16", Notes: "TLS 1.3 encrypted alert from the ESP is 32 bytes (17 03 03 00 20)", Source: kc + "; K§2.5"},

	// certificate bundle (§3.4)
	{Name: "MBEDTLS_CERTIFICATE_BUNDLE", Menu: menuBndl, Prompt: "Enable trusted root certificate bundle", Default: "y", Defaults: d("y", "y", "y"), Notes: "since v4.2; without it crt_bundle_attach fails before the ClientHello", Source: kc + "; K§3.4"},
	{Name: "MBEDTLS_DEFAULT_CERTIFICATE_BUNDLE", Menu: menuBndl, Prompt: "Default certificate bundle options", Default: "Use the full default certificate bundle", Notes: "choice: FULL / CMN (most common) / NONE", Source: kc + "; K§3.4"},
	{Name: "MBEDTLS_CUSTOM_CERTIFICATE_BUNDLE", Menu: menuBndl, Prompt: "Add custom certificates to the default bundle", Default: "n", Source: kc + "; K§3.4"},
	{Name: "MBEDTLS_CUSTOM_CERTIFICATE_BUNDLE_PATH", Menu: menuBndl + " → Add custom certificates to the default bundle", Prompt: "Custom certificate bundle path", Default: "", Notes: "relative to the project root; a private CA or a missing intermediate can be added here", Source: kc + "; K§4"},
	{Name: "MBEDTLS_CERTIFICATE_BUNDLE_DEPRECATED_LIST", Menu: menuBndl, Prompt: "Add deprecated root certificates", Default: "n", Source: kc + "; K§3.4"},
	{Name: "MBEDTLS_CERTIFICATE_BUNDLE_MAX_CERTS", Menu: menuBndl, Prompt: "Maximum no of certificates allowed in certificate bundle", Default: "200", Source: kc + "; K§3.4"},
	{Name: "MBEDTLS_CERTIFICATE_BUNDLE_CROSS_SIGNED_VERIFY", Menu: menuBndl, Prompt: "Support cross-signed certificate verification in certificate bundle", Default: Absent, Defaults: d(Absent, Absent, "n"), Notes: "v6.0+ only; verification then equals mbedTLS's default behaviour", Source: "IDF-Kc602:514-523; IDF-docs-bundle602:80-109"},

	// other components named by the FAQ
	{Name: "ESP_HTTPS_OTA_ALLOW_HTTP", Menu: "Component config → ESP HTTPS OTA", Prompt: "Allow HTTP for OTA", Default: "n", Source: "FAQ"},
}

var kconfigByName map[string]int

func init() {
	kconfigByName = make(map[string]int, len(kconfigOptions))
	for i := range kconfigOptions {
		o := &kconfigOptions[i]
		o.Path = o.Menu + " → " + o.Prompt
		if _, dup := kconfigByName[o.Name]; dup {
			panic("device: duplicate Kconfig option " + o.Name)
		}
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

// configFields: knowledge §5.1 (esp_tls_cfg_t), §5.3 (esp_http_client),
// §5.4 (MQTT), §5.5 (ESP as server).
var configFields = []ConfigField{
	{Struct: sTLS, Field: "cacert_buf", Concept: ConceptServerCA, Meaning: "CA chain to trust (PEM with the terminating NUL counted in cacert_bytes, or DER); sets VERIFY_REQUIRED; must be the root or an intermediate CA, not the server's leaf", Source: "IDF-mbedtls553:542-562; esp-idf#11320"},
	{Struct: sTLS, Field: "crt_bundle_attach", Concept: ConceptBundle, Meaning: "esp_crt_bundle_attach: verify against the certificate bundle (needs CONFIG_MBEDTLS_CERTIFICATE_BUNDLE)", Source: "IDF-mbedtls553:945-953"},
	{Struct: sTLS, Field: "use_global_ca_store", Concept: ConceptGlobalCAStore, Meaning: "use the CA set with esp_tls_set_global_ca_store(); ESP_ERR_INVALID_STATE if none", Source: "IDF-mbedtls553:643-654"},
	{Struct: sTLS, Field: "skip_common_name", Concept: ConceptSkipCN, Meaning: "no CN/SAN check and no SNI in the ClientHello", Default: "false", Source: "IDF-mbedtls553:898-900; IDF-mbedtls448:558-575"},
	{Struct: sTLS, Field: "common_name", Concept: ConceptCommonName, Meaning: "name used for the CN/SAN check and for SNI instead of the connect host", Source: "IDF-mbedtls553:879-896"},
	{Struct: sTLS, Field: "clientcert_buf", Concept: ConceptClientCert, Meaning: "client certificate for mutual TLS (sent only if the server sends CertificateRequest)", Source: "IDF-esptlsh553; K§5.1"},
	{Struct: sTLS, Field: "clientkey_buf", Concept: ConceptClientKey, Meaning: "client private key for mutual TLS", Source: "IDF-esptlsh553; K§5.1"},
	{Struct: sTLS, Field: "clientkey_password", Concept: ConceptKeyPassword, Meaning: "password of an encrypted client key (with clientkey_password_len)", Source: "IDF-esptlsh553; K§5.1"},
	{Struct: sTLS, Field: "alpn_protos", Concept: ConceptALPN, Meaning: "ALPN protocol list (needs CONFIG_MBEDTLS_SSL_ALPN)", Source: "IDF-mbedtls553:917-928"},
	{Struct: sTLS, Field: "timeout_ms", Concept: ConceptTimeout, Meaning: "TCP connect timeout, SO_RCVTIMEO/SO_SNDTIMEO and overall synchronous handshake timeout", Default: "10000 (when 0)", Source: "IDF-tls553:113,275-292,401-424,545-580"},
	{Struct: sTLS, Field: "tls_version", Concept: ConceptTLSVersion, Meaning: "ESP_TLS_VER_ANY / ESP_TLS_VER_TLS_1_2 / ESP_TLS_VER_TLS_1_3: pins min=max; TLS 1.3 needs CONFIG_MBEDTLS_SSL_PROTO_TLS1_3", Default: "ESP_TLS_VER_ANY", Versions: "ESP-IDF v5.2+ (later v5.1.x patches)", Source: "IDF-mbedtls553:156-173"},
	{Struct: sTLS, Field: "psk_hint_key", Concept: ConceptPSK, Meaning: "PSK identity and key (needs CONFIG_ESP_TLS_PSK_VERIFICATION); used only when no certificate option is set", Source: "IDF-mbedtls553:945-990"},
	{Struct: sTLS, Field: "ciphersuites_list", Concept: ConceptCipherSuites, Meaning: "zero-terminated list of IANA cipher suite IDs passed to mbedtls_ssl_conf_ciphersuites", Versions: "ESP-IDF v5.2+", Source: "IDF-mbedtls553:1117-1120"},
	{Struct: sTLS, Field: "non_block", Concept: ConceptNonBlock, Meaning: "leave the socket non-blocking; connect with esp_tls_conn_new_async", Default: "false", Source: "IDF-esptlsh553; FAQ"},
	{Struct: sTLS, Field: "addr_family", Concept: ConceptAddrFamily, Meaning: "ESP_TLS_AF_UNSPEC / INET / INET6, the getaddrinfo hint (A first, AAAA only if A yields nothing)", Default: "ESP_TLS_AF_UNSPEC", Versions: "ESP-IDF v5.1+", Source: "IDF-tls553:201-211"},
	{Struct: sTLS, Field: "client_session", Concept: ConceptSession, Meaning: "session ticket to resume (needs CONFIG_ESP_TLS_CLIENT_SESSION_TICKETS)", Source: "IDF-esptlsh553; K§5.1"},
	{Struct: sTLS, Field: "esp_tls_dyn_buf_strategy", Concept: ConceptDynBuf, Meaning: "with CONFIG_MBEDTLS_DYNAMIC_BUFFER: ESP_TLS_DYN_BUF_RX_STATIC keeps the RX buffer after the handshake", Source: "IDF-esptlsh553; K§5.1"},

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
