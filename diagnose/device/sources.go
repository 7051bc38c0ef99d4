// Package device holds, as data, what an ESP32/ESP8266 (ESP-IDF, ESP-TLS,
// mbedTLS) does on the wire and what it reports: the mbedTLS and ESP-TLS error
// tables, the X.509 verify flags and the alert the mbedTLS client sends for
// them, device profiles, menuconfig options and config-struct fields, alert
// knowledge and Espressif MAC prefixes.
//
// Every fact carries a Source: citation keys of the project's knowledge file
// (shared/knowledge/esp-mbedtls.md, §12 "Source index"), optionally with line
// numbers ("MT228-msg:1842"), GitHub issue references ("esp-idf#18674"), or
// the keys of the extra sources listed in Sources (the Espressif FAQ, the
// measurements recorded in DESIGN.md, Wireshark's manuf file). Facts marked
// DERIVED were worked out from the cited code; UNVERIFIED ones have no
// primary source.
package device

import (
	"regexp"
	"strings"
)

// Sources maps every citation key used in this package to where it points.
// Keys from the knowledge file's §12 keep their spelling there.
var Sources = map[string]string{
	"MT216-tls":           "Mbed-TLS/mbedtls @ v2.16.12 library/ssl_tls.c",
	"MT228-ssl.h":         "Mbed-TLS/mbedtls @ v2.28.10 include/mbedtls/ssl.h",
	"MT228-msg":           "Mbed-TLS/mbedtls @ v2.28.10 library/ssl_msg.c",
	"MT228-tls":           "Mbed-TLS/mbedtls @ v2.28.10 library/ssl_tls.c",
	"MT228-cli":           "Mbed-TLS/mbedtls @ v2.28.10 library/ssl_cli.c",
	"MT228-x509":          "Mbed-TLS/mbedtls @ v2.28.10 library/x509_crt.c; include/mbedtls/x509.h",
	"MT228-internal":      "Mbed-TLS/mbedtls @ v2.28.10 include/mbedtls/ssl_internal.h",
	"MT228-net.h":         "Mbed-TLS/mbedtls @ v2.28.10 include/mbedtls/net_sockets.h",
	"MT228-pk.h":          "Mbed-TLS/mbedtls @ v2.28.10 include/mbedtls/pk.h",
	"MT30-ssl.h":          "Mbed-TLS/mbedtls @ v3.0.0 include/mbedtls/ssl.h",
	"MT30-migr":           "Mbed-TLS/mbedtls @ v3.0.0 docs/3.0-migration-guide.md",
	"MT362-msg":           "Mbed-TLS/mbedtls @ v3.6.2 library/ssl_msg.c",
	"MT36-ssl.h":          "Mbed-TLS/mbedtls @ v3.6.6 include/mbedtls/ssl.h",
	"MT36-msg":            "Mbed-TLS/mbedtls @ v3.6.6 library/ssl_msg.c",
	"MT36-tls":            "Mbed-TLS/mbedtls @ v3.6.6 library/ssl_tls.c",
	"MT36-cli12":          "Mbed-TLS/mbedtls @ v3.6.6 library/ssl_tls12_client.c",
	"MT36-srv12":          "Mbed-TLS/mbedtls @ v3.6.6 library/ssl_tls12_server.c",
	"MT36-client":         "Mbed-TLS/mbedtls @ v3.6.6 library/ssl_client.c",
	"MT36-tls13g":         "Mbed-TLS/mbedtls @ v3.6.6 library/ssl_tls13_generic.c",
	"MT36-x509":           "Mbed-TLS/mbedtls @ v3.6.6 library/x509_crt.c; include/mbedtls/x509.h",
	"MT36-misc":           "Mbed-TLS/mbedtls @ v3.6.6 library/ssl_misc.h",
	"MT36-err":            "Mbed-TLS/mbedtls @ v3.6.6 include/mbedtls/error.h",
	"MT36-netsock":        "Mbed-TLS/mbedtls @ v3.6.6 library/net_sockets.c",
	"MT36-net.h":          "Mbed-TLS/mbedtls @ v3.6.6 include/mbedtls/net_sockets.h",
	"MT36-pk.h":           "Mbed-TLS/mbedtls @ v3.6.6 include/mbedtls/pk.h",
	"MT36-rsa.h":          "Mbed-TLS/mbedtls @ v3.6.6 include/mbedtls/rsa.h",
	"MT36-bignum.h":       "Mbed-TLS/mbedtls @ v3.6.6 include/mbedtls/bignum.h",
	"MT366-ChangeLog":     "Mbed-TLS/mbedtls @ v3.6.6 ChangeLog (3.6.3 section)",
	"IDF-Kesptls553":      "espressif/esp-idf @ v5.5.3 components/esp-tls/Kconfig",
	"IDF-Kc448":           "espressif/esp-idf @ v4.4.8 components/mbedtls/Kconfig",
	"IDF-Kc509":           "espressif/esp-idf @ v5.0.9 components/mbedtls/Kconfig",
	"IDF-Kc553":           "espressif/esp-idf @ v5.5.3 components/mbedtls/Kconfig",
	"IDF-Kc602":           "espressif/esp-idf @ v6.0.2 components/mbedtls/Kconfig",
	"IDF-Kc-menus":        "espressif/esp-idf (stored v5.x revision 0109cfea) components/mbedtls/Kconfig: menu layout (submenus \"mbedTLS v3.x related\", \"Certificate Bundle\", \"TLS Key Exchange Methods\", \"Symmetric Ciphers\", \"Certificates\")",
	"IDF-espcfg":          "espressif/esp-idf components/mbedtls/port/include/mbedtls/esp_config.h (v4.4.8, v5.0.9, v5.5.3)",
	"IDF-espcfg448":       "espressif/esp-idf @ v4.4.8 components/mbedtls/port/include/mbedtls/esp_config.h",
	"IDF-espcfg553":       "espressif/esp-idf @ v5.5.3 components/mbedtls/port/include/mbedtls/esp_config.h",
	"IDF-mbedtls553":      "espressif/esp-idf @ v5.5.3 components/esp-tls/esp_tls_mbedtls.c",
	"IDF-mbedtls448":      "espressif/esp-idf @ v4.4.8 components/esp-tls/esp_tls_mbedtls.c",
	"IDF-mbedtls42":       "espressif/esp-idf @ v4.2 components/esp-tls/esp_tls_mbedtls.c",
	"IDF-tls553":          "espressif/esp-idf @ v5.5.3 components/esp-tls/esp_tls.c",
	"IDF-esptlsh553":      "espressif/esp-idf @ v5.5.3 components/esp-tls/esp_tls.h, esp_tls_errors.h",
	"IDF-bundle553":       "espressif/esp-idf @ v5.5.3 components/mbedtls/esp_crt_bundle/esp_crt_bundle.c",
	"IDF-bundle448":       "espressif/esp-idf @ v4.4.8 components/mbedtls/esp_crt_bundle/esp_crt_bundle.c",
	"IDF-bundle-master":   "espressif/esp-idf @ master components/mbedtls/esp_crt_bundle/esp_crt_bundle.c",
	"IDF-docs-bundle602":  "espressif/esp-idf @ v6.0.2 docs/en/api-reference/protocols/esp_crt_bundle.rst",
	"IDF-docs-mbedtls553": "espressif/esp-idf @ v5.5.3 docs/en/api-reference/protocols/mbedtls.rst, esp_tls.rst",
	"IDF-dyn553":          "espressif/esp-idf @ v5.5.3 components/mbedtls/port/dynamic/esp_mbedtls_dynamic_impl.c",
	"IDF-netsock553":      "espressif/esp-idf @ v5.5.3 components/mbedtls/port/net_sockets.c (same at v4.4.8)",
	"IDF-httpch553":       "espressif/esp-idf @ v5.5.3 components/esp_http_client/include/esp_http_client.h",
	"IDF-httpc553.c":      "espressif/esp-idf @ v5.5.3 components/esp_http_client/esp_http_client.c",
	"IDF-https553.c":      "espressif/esp-idf @ v5.5.3 components/esp_https_server/src/https_server.c",
	"IDF-https448":        "espressif/esp-idf @ v4.4.8 components/esp_https_server/Kconfig",
	"IDF-lwipKc553":       "espressif/esp-idf @ v5.5.3 components/lwip/Kconfig",
	"IDF-soc_caps":        "espressif/esp-idf @ v5.5.3 components/soc/*/include/soc/soc_caps.h",
	"LWIP-netdb.c":        "espressif/esp-lwip @ 2.1.3-esp src/api/netdb.c",
	"LWIP-tcp.c":          "espressif/esp-lwip @ 2.1.3-esp src/core/tcp.c",
	"LWIP-api_msg.c":      "espressif/esp-lwip @ 2.1.3-esp src/api/api_msg.c",
	"MQTT-bb9c":           "espressif/esp-mqtt @ bb9c8af include/mqtt_client.h",
	"MQTT-cac1":           "espressif/esp-mqtt @ cac1552 include/mqtt_client.h; lib/include/mqtt_config.h",
	"ARD-sslclient":       "espressif/arduino-esp32 libraries/NetworkClientSecure/src/ssl_client.cpp",
	"ESP8266-Kc-v2":       "espressif/ESP8266_RTOS_SDK components/mbedtls/mbedtls_v2/Kconfig",
	"ESP8266-Kc":          "espressif/ESP8266_RTOS_SDK components/mbedtls/Kconfig",
	"NEWLIB-errno":        "newlib newlib/libc/include/sys/errno.h",
	"LWIP-netdb.h":        "lwip-tcpip/lwip src/include/lwip/netdb.h (EAI_NONAME 200, EAI_SERVICE 201, EAI_FAIL 202, EAI_MEMORY 203, EAI_FAMILY 204; HOST_NOT_FOUND 210 to TRY_AGAIN 213; read at commit 196120fa), the same in espressif/esp-lwip @ 2.1.3-esp lines 68-77 (knowledge §7.1)",
	// Sources beyond the knowledge file's index.
	"MT-asn1.h":         "Mbed-TLS/mbedtls include/mbedtls/asn1.h (ASN.1 error codes -0x0060 to -0x006C; read at commit 017a3cbc, the same values in 2.x headers)",
	"MT-md.h":           "Mbed-TLS/mbedtls include/mbedtls/md.h (-0x5080 to -0x5200, the same in 2.x and 3.x)",
	"MT-psa-error":      "PSA Crypto API status values (psa_status_t -132 to -149) as Mbed-TLS/mbedtls defines them (include/psa/crypto_values.h; read in tests/psasim/include/psa/error.h)",
	"K":                 "shared/knowledge/esp-mbedtls.md (section given as K§n.n)",
	"FAQ":               "shared/seed/esp-tls-faq.rst (Espressif ESP-TLS FAQ)",
	"DESIGN-measured":   "shared/DESIGN.md \"Measured here with real mbedTLS\": ssl_client2 from Debian mbedtls 2.28.3 and 3.6.6, IN_CONTENT_LEN 4096, against openssl s_server",
	"IDF-esptlserr":     "espressif/esp-idf components/esp-tls/esp_tls_errors.h (stored revision 0819ee68: 0x8001-0x8008, 0x8010-0x801C)",
	"WS-manuf":          "Wireshark 4.0.17 /usr/share/wireshark/manuf (Debian libwireshark-data 4.0.17-0+deb12u3), generated from the IEEE OUI registry",
	"RFC5246":           "RFC 5246 (TLS 1.2) §7.2 alert descriptions",
	"RFC8446":           "RFC 8446 (TLS 1.3) §6.2 alert descriptions",
	"MT-default-config": "Mbed-TLS/mbedtls 3.6 include/mbedtls/mbedtls_config.h defaults (not read for the knowledge file: UNVERIFIED)",
}

// citeRE matches one citation: a key (optionally with :lines or a
// parenthesised note), a K§ section, or a GitHub issue reference.
var (
	issueRE = regexp.MustCompile(`^([A-Za-z0-9_.-]+/)?[A-Za-z0-9_.-]+#[0-9]+$`)
	sectRE  = regexp.MustCompile(`^K§[0-9]+(\.[0-9]+)?( #[0-9]+)?$`)
)

// CitationKeys splits a Source string ("MT228-msg:1842; MT36-msg:2166") into
// its citations and reports the ones that name no known source.
func CitationKeys(source string) (keys, unknown []string) {
	for _, part := range strings.Split(source, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		key := part
		if i := strings.IndexAny(key, ": ("); i > 0 && !strings.HasPrefix(key, "K§") {
			key = key[:i]
		}
		keys = append(keys, key)
		switch {
		case Sources[key] != "":
		case issueRE.MatchString(key):
		case sectRE.MatchString(part):
		default:
			unknown = append(unknown, part)
		}
	}
	return keys, unknown
}
