// Package diagnose turns decoded connections into findings: how far the TLS
// handshake got, who ended it and how, the root cause, the error the device
// (ESP32/ESP8266, mbedTLS) reports, and what to change.
package diagnose

import "tlspcap/diagnose/catalog"

// Severity of a finding.
type Severity string

const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
	SeverityInfo    Severity = "info"
)

// DeviceError is a candidate mbedTLS (or ESP-TLS) error the device prints.
type DeviceError struct {
	Code     string `json:"code"`     // "-0x7100" as mbedTLS prints it
	Name     string `json:"name"`     // "MBEDTLS_ERR_SSL_BAD_INPUT_DATA"
	Versions string `json:"versions"` // "mbedTLS 2.28, 3.x (ESP-IDF v4.4.1+, v5.x)"
}

// FindingID is a finding's stable id ("record-overflow"): the constants in
// package catalog, whose table says each one's phase and what it supersedes.
type FindingID = catalog.ID

// Finding is one diagnosis with its evidence. IDs are a stable contract.
type Finding struct {
	ID              FindingID     `json:"id"`
	Severity        Severity      `json:"severity"`
	Frames          []int         `json:"frames"` // decisive evidence first
	Title           string        `json:"title"`
	Explanation     string        `json:"explanation"`
	DeviceErrors    []DeviceError `json:"device_errors"`
	Fix             string        `json:"fix"`
	WiresharkFilter string        `json:"wireshark_filter"`
}
