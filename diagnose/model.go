package diagnose

import (
	"fmt"
	"strings"
	"time"
)

// Schema is the version of the JSON report; bump it on incompatible changes.
const Schema = 1

// Stage is how far a connection's TLS handshake got.
type Stage string

const (
	StageTCPConnect        Stage = "tcp-connect"
	StageClientHello       Stage = "client-hello"
	StageServerHello       Stage = "server-hello"
	StageServerCertificate Stage = "server-certificate"
	StageServerDone        Stage = "server-done"
	StageClientKeyExchange Stage = "client-key-exchange"
	StageEstablished       Stage = "established"
	StageApplicationData   Stage = "application-data"
)

// stageOrder ranks stages so "reached" can only move forward.
var stageOrder = map[Stage]int{
	"": 0, StageTCPConnect: 1, StageClientHello: 2, StageServerHello: 3,
	StageServerCertificate: 4, StageServerDone: 5, StageClientKeyExchange: 6,
	StageEstablished: 7, StageApplicationData: 8,
}

// Outcome is the verdict on one connection.
type Outcome string

const (
	OutcomeOK         Outcome = "ok"
	OutcomeFailed     Outcome = "failed"
	OutcomeIncomplete Outcome = "incomplete" // the capture ended first
	OutcomeNotTLS     Outcome = "not-tls"
)

// Step is one line of a connection's timeline: what happened in which frame.
type Step struct {
	Frame int       `json:"frame"`
	Time  time.Time `json:"time"`
	From  string    `json:"from"` // "client" | "server"
	What  string    `json:"what"`
	// Kind classifies the step for ladder diagrams: "tcp", "handshake",
	// "alert", "ccs", "data", "not-tls", "gap".
	Kind string `json:"kind"`
	// Bytes is the record or payload length where that matters.
	Bytes int `json:"bytes,omitempty"`
}

// Ending says who ended a connection and how.
type Ending struct {
	By    string    `json:"by,omitempty"` // "client" | "server" | "" (nobody: capture ended)
	How   string    `json:"how"`          // "FIN", "RST", "alert handshake_failure", "silence", "capture-ended"
	Frame int       `json:"frame,omitempty"`
	Time  time.Time `json:"time,omitempty"`
}

// Certificate is a certificate the server (or client) sent, for reports.
type Certificate struct {
	Subject            string    `json:"subject"`
	Issuer             string    `json:"issuer"`
	SANs               []string  `json:"sans,omitempty"`
	NotBefore          time.Time `json:"not_before"`
	NotAfter           time.Time `json:"not_after"`
	KeyType            string    `json:"key_type"`
	KeyBits            int       `json:"key_bits"`
	SignatureAlgorithm string    `json:"signature_algorithm"`
	SHA256             string    `json:"sha256"`
	Size               int       `json:"size"`
	AIA                []string  `json:"aia,omitempty"`
	CRL                []string  `json:"crl,omitempty"`
	ParseError         string    `json:"parse_error,omitempty"`
	DER                []byte    `json:"-"`
}

// Connection is one TCP connection's verdict and evidence.
type Connection struct {
	Stream      int    `json:"tcp_stream"`
	Client      string `json:"client"`
	Server      string `json:"server"`
	SNI         string `json:"sni"`
	Version     string `json:"version,omitempty"`
	CipherSuite string `json:"cipher_suite,omitempty"`
	ALPN        string `json:"alpn,omitempty"`
	// Fingerprints of the hellos (GREASE removed): JA3 and JA4 of the
	// ClientHello, JA3S and JA4S of the ServerHello.
	JA3  string `json:"ja3,omitempty"`
	JA4  string `json:"ja4,omitempty"`
	JA3S string `json:"ja3s,omitempty"`
	JA4S string `json:"ja4s,omitempty"`
	// ClientLabel guesses what the client is (an Espressif device, an
	// mbedTLS version) and ClientEvidence says from what.
	ClientLabel    string    `json:"client_label,omitempty"`
	ClientEvidence string    `json:"client_evidence,omitempty"`
	Outcome        Outcome   `json:"outcome"`
	Stage          Stage     `json:"stage"`
	Ending         Ending    `json:"ending"`
	Start          time.Time `json:"start"`
	Duration       float64   `json:"duration_s"`
	FirstFrame     int       `json:"first_frame"`
	LastFrame      int       `json:"last_frame"`
	// Device is which side tlspcap takes to be the ESP device: "client" or "server".
	Device  string `json:"device"`
	Profile string `json:"profile"`
	// ProfileReason says why the connection was judged with Profile: given
	// with --profile, guessed from the ClientHello shape, or the default.
	ProfileReason string        `json:"profile_reason,omitempty"`
	Findings      []Finding     `json:"findings"`
	Timeline      []Step        `json:"timeline,omitempty"`
	Certificates  []Certificate `json:"certificates,omitempty"`
	// BrowserCertificates is the chain a browser got from the same server
	// (--browser-chain), to set beside Certificates.
	BrowserCertificates []Certificate `json:"browser_certificates,omitempty"`
	Records             []RecordRow   `json:"records,omitempty"`
}

// Failed reports whether the connection has an error finding.
func (c *Connection) Failed() bool {
	for _, f := range c.Findings {
		if f.Severity == SeverityError {
			return true
		}
	}
	return false
}

// RecordRow is one TLS record for `tlspcap records`.
type RecordRow struct {
	Frames         []int     `json:"frames"`
	Time           time.Time `json:"time"`
	From           string    `json:"from"`
	ContentType    uint8     `json:"content_type"`
	Type           string    `json:"type"`
	Version        string    `json:"version"`
	Length         int       `json:"length"`
	HandshakeTypes []uint8   `json:"handshake_types"`
	Handshakes     []string  `json:"handshakes,omitempty"`
	Truncated      bool      `json:"truncated"`
	Encrypted      bool      `json:"encrypted"`
	// Decrypted: read with a key log; InnerType is the content type inside.
	Decrypted bool   `json:"decrypted,omitempty"`
	InnerType string `json:"inner_type,omitempty"`
	Note      string `json:"note,omitempty"`
}

// CaptureInfo describes the capture read.
type CaptureInfo struct {
	File        string    `json:"file"`
	Frames      int       `json:"frames"`
	Bytes       int64     `json:"bytes"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	Connections int       `json:"tcp_connections"`
	// Undecodable counts packets that were kept in the frame count but could
	// not be decoded (unknown link type, corrupt headers).
	Undecodable int `json:"undecodable_packets"`
	// Every frame is one of: a TCP packet analysed, another packet (UDP,
	// ICMP, ARP, a fragment awaiting the rest), undecodable, or a
	// duplicate ignored. TimeBackwards and FragmentConflicts count
	// capture artefacts among them.
	TCPPackets        int      `json:"tcp_packets"`
	OtherPackets      int      `json:"other_packets"`
	Duplicates        int      `json:"duplicate_packets"`
	TimeBackwards     int      `json:"timestamps_backwards"`
	FragmentConflicts int      `json:"fragment_conflicts"`
	Problems          []string `json:"problems,omitempty"`
}

// Report is everything tlspcap concluded about a capture; reports render it.
type Report struct {
	Schema  int         `json:"schema"`
	Tool    string      `json:"tool"`
	Capture CaptureInfo `json:"capture"`
	Profile string      `json:"profile"`
	// ProfileReason says why: the connections' common reason, or that
	// their profiles differ (each connection then says its own).
	ProfileReason string        `json:"profile_reason,omitempty"`
	Connections   []*Connection `json:"connections"`
	// Findings on the capture as a whole: DNS, capture quality.
	Findings []Finding `json:"findings"`
}

// Failed reports whether anything failed (exit code 1).
func (r *Report) Failed() bool {
	for _, c := range r.Connections {
		if c.Failed() {
			return true
		}
	}
	for _, f := range r.Findings {
		if f.Severity == SeverityError {
			return true
		}
	}
	return false
}

// SelectClients keeps the connections whose client fingerprint matches
// spec, "ja3=HASH", "ja4=FINGERPRINT", "ja3s=..." or "ja4s=...": the way to
// pick one device's connections out of a busy capture.
func (r *Report) SelectClients(spec string) error {
	key, value, ok := strings.Cut(spec, "=")
	if !ok || value == "" {
		return fmt.Errorf("--client %q: use ja3=HASH, ja4=FINGERPRINT, ja3s=HASH or ja4s=FINGERPRINT", spec)
	}
	field := map[string]func(*Connection) string{
		"ja3":  func(c *Connection) string { return c.JA3 },
		"ja4":  func(c *Connection) string { return c.JA4 },
		"ja3s": func(c *Connection) string { return c.JA3S },
		"ja4s": func(c *Connection) string { return c.JA4S },
	}[strings.ToLower(key)]
	if field == nil {
		return fmt.Errorf("--client %q: unknown fingerprint %q (ja3, ja4, ja3s, ja4s)", spec, key)
	}
	kept := r.Connections[:0]
	for _, c := range r.Connections {
		if field(c) == value {
			kept = append(kept, c)
		}
	}
	r.Connections = kept
	return nil
}
