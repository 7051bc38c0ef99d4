package diagnose

import (
	"fmt"
	"iter"
	"net/netip"
	"strconv"
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
	By    string `json:"by,omitempty"` // "client" | "server" | "" (nobody: capture ended)
	How   string `json:"how"`          // "FIN", "RST", "alert handshake_failure", "silence", "capture-ended", "idle", "connection-limit" (more than --max-connections open)
	Frame int    `json:"frame,omitempty"`
	// Time is the ending's packet's, or for an ending no packet shows
	// (capture-ended, idle, connection-limit) the capture's end or the
	// connection's last packet; omitted when the capture has no times.
	Time time.Time `json:"time,omitzero"`
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
	Frames         []int          `json:"frames"`
	Time           time.Time      `json:"time"`
	From           string         `json:"from"`
	ContentType    uint8          `json:"content_type"`
	Type           string         `json:"type"`
	Version        string         `json:"version"`
	Length         int            `json:"length"`
	HandshakeTypes HandshakeTypes `json:"handshake_types"`
	Handshakes     []string       `json:"handshakes,omitempty"`
	Truncated      bool           `json:"truncated"`
	Encrypted      bool           `json:"encrypted"`
	// Decrypted: read with a key log; InnerType is the content type inside.
	Decrypted bool   `json:"decrypted,omitempty"`
	InnerType string `json:"inner_type,omitempty"`
	Note      string `json:"note,omitempty"`
}

// HandshakeTypes are the handshake message type numbers of a record. JSON
// writes them as numbers ([2,11,14]), not as the base64 string
// encoding/json makes of a []uint8.
type HandshakeTypes []uint8

// MarshalJSON writes the types as an array of numbers.
func (h HandshakeTypes) MarshalJSON() ([]byte, error) {
	b := []byte{'['}
	for i, t := range h {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendUint(b, uint64(t), 10)
	}
	return append(b, ']'), nil
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
	ProfileReason string `json:"profile_reason,omitempty"`
	// Connections are the verdicts when the report keeps them in memory
	// (up to SpillAfter); past it they are in a temporary file and this is
	// nil. Read them with All and count them with Len.
	Connections []*Connection `json:"connections"`
	// Findings on the capture as a whole: DNS, capture quality.
	Findings []Finding `json:"findings"`
	// Nothing says why the report holds no connection; JSON has it in
	// the summary (Summary).
	Nothing *Nothing `json:"-"`

	spill *spillFile
	err   error
	// A derived report (Derived) reads its connections from src, each
	// passed through mapConn.
	src     *Report
	mapConn func(*Connection) *Connection
}

// Derived returns top with r's connections, each passed through f as it
// is read: how a report past SpillAfter is transformed (--redact) without
// holding it whole. top's own Connections are ignored.
func (r *Report) Derived(top *Report, f func(*Connection) *Connection) *Report {
	out := *top
	out.Connections, out.spill, out.err = nil, nil, nil
	out.src, out.mapConn = r, f
	return &out
}

// Len is the number of connections in the report.
func (r *Report) Len() int {
	if r.src != nil {
		return r.src.Len()
	}
	if r.spill != nil {
		return len(r.spill.index)
	}
	return len(r.Connections)
}

// All yields the connections in report order. Past SpillAfter each is read
// back from the temporary file as it is yielded: a renderer holds one at a
// time. A read error ends the sequence; Err returns it.
func (r *Report) All() iter.Seq[*Connection] {
	return func(yield func(*Connection) bool) {
		if r.src != nil {
			for c := range r.src.All() {
				if !yield(r.mapConn(c)) {
					return
				}
			}
			return
		}
		if r.spill == nil {
			for _, c := range r.Connections {
				if !yield(c) {
					return
				}
			}
			return
		}
		rd, err := r.spill.reader()
		if err != nil {
			r.setErr(err)
			return
		}
		for _, e := range r.spill.index {
			c, err := rd.read(e)
			if err != nil {
				r.setErr(err)
				return
			}
			if !yield(c) {
				return
			}
		}
	}
}

func (r *Report) setErr(err error) {
	if r.err == nil {
		r.err = err
	}
}

// Err is the first error reading verdicts back from the temporary file:
// a report rendered while it happened is incomplete.
func (r *Report) Err() error {
	if r.err == nil && r.src != nil {
		return r.src.Err()
	}
	return r.err
}

// Close releases the temporary file of a report past SpillAfter: its
// connections can no longer be read, though Len and Failed still answer.
func (r *Report) Close() error {
	if r.spill == nil {
		return nil
	}
	return r.spill.f.Close()
}

// Failed reports whether anything failed (exit code 1): a connection or
// the capture (Summary).
func (r *Report) Failed() bool { return r.Summary().Verdict() == VerdictFailed }

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
	var seen seenClients
	values := map[string]int{}
	note := func(c *Connection) {
		ap, _ := netip.ParseAddrPort(c.Client)
		mac := macOfLabel(c.ClientLabel)
		seen.add(ap.Addr(), mac, isEspressifLabel(c.ClientLabel))
		if v := field(c); v != "" && (len(values) < maxSeenClients || values[v] > 0) {
			values[v]++
		}
	}
	defer func() {
		if r.Len() == 0 && seen.conns > 0 {
			r.Nothing = seen.nothing("--client", spec)
			r.Nothing.Fingerprints = commonest(values, 5)
		}
	}()
	if r.spill != nil {
		kept := make([]spilled, 0, len(r.spill.index))
		i := 0
		for c := range r.All() {
			note(c)
			if field(c) == value {
				kept = append(kept, r.spill.index[i])
			}
			i++
		}
		r.spill.index = kept
		return r.Err()
	}
	kept := r.Connections[:0]
	for _, c := range r.Connections {
		note(c)
		if field(c) == value {
			kept = append(kept, c)
		}
	}
	r.Connections = kept
	return nil
}
