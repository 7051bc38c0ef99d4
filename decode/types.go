// Package decode parses TLS from the byte streams capture hands over: an
// incremental record reader per direction, every handshake message, alerts,
// certificates, and bytes that are not TLS at all. It does no I/O.
package decode

import (
	"crypto/x509"
	"fmt"
	"time"

	"tlspcap/capture"
)

// Event is one of *Record, *Handshake, *Alert, *ChangeCipherSpec, *NotTLS,
// *DecodeError. A Conn emits events in stream order per direction.
type Event interface{ event() }

// Where is the evidence common to every event.
type Where struct {
	Dir    capture.Dir
	Frames []int     // every frame that carried part of it, ascending
	Time   time.Time // time of the first of those frames
	Offset int64     // offset of its first byte in the direction's byte stream
}

// Content types (RFC 8446 §5.1).
const (
	ContentChangeCipherSpec uint8 = 20
	ContentAlert            uint8 = 21
	ContentHandshake        uint8 = 22
	ContentApplicationData  uint8 = 23
	ContentHeartbeat        uint8 = 24
)

// Record is one TLS record as its header announced it.
type Record struct {
	Where
	ContentType uint8
	Version     uint16 // legacy_record_version from the header
	Length      int    // length the header announces (without the 5-byte header)
	Received    int    // body bytes that arrived (< Length when Truncated)
	Truncated   bool   // the stream ended (or a gap came) inside the record
	// Encrypted is set when the content is protected by negotiated keys
	// and was not read: TLS 1.3 records after the ServerHello, TLS 1.2
	// records after a ChangeCipherSpec, and handshake records that do not
	// parse as handshake messages (see HandshakeTypes). Application data
	// is always Encrypted: its content is never read. Under a
	// NULL-encryption cipher suite (TLS_*_WITH_NULL_*) the handshake and
	// alert records after ChangeCipherSpec are plaintext followed by a MAC:
	// they are read, Encrypted is false and MAC is set.
	Encrypted bool
	// MAC is the length of the MAC that ends the body of a handshake or
	// alert record read in the clear under a NULL-encryption cipher suite;
	// the content is the first Length-MAC bytes. 0 otherwise.
	MAC uint8
	// Decrypted is set on a protected record (Encrypted stays set: Length
	// and the size rules are about the ciphertext) whose content was
	// decrypted with a key log. InnerType is the content type of the
	// plaintext (TLS 1.3: from TLSInnerPlaintext; TLS 1.2: ContentType),
	// PlaintextLen its length without padding, MAC or explicit nonce (a
	// uint16 keeps Record in its allocation size class). The handshake
	// messages and alerts inside follow as events with Decrypted set, and
	// HandshakeTypes lists the messages that start in it, as for a
	// plaintext record.
	Decrypted    bool
	InnerType    uint8
	PlaintextLen uint16
	// HandshakeTypes lists the types of the handshake messages that start
	// in this record: each whose 4-byte header starts and is complete in
	// this record and whose type is a known handshake type (plaintext
	// handshake records only). A header split over two records, or a
	// bogus header at the end of a record, is not listed (its Handshake
	// event still reports it). A handshake record whose first message has
	// an unknown type or an absurd length (over 1 MiB) is not what it
	// claims: it is marked Encrypted and lists no type. For an SSLv2 record
	// it holds the SSLv2 message type (1 CLIENT-HELLO, 2 CLIENT-MASTER-KEY,
	// 4 SERVER-HELLO, 0 ERROR...), not a TLS handshake type.
	HandshakeTypes []uint8
	// SSLv2 is set on a record with an SSLv2 header: the SSLv2-compatible
	// ClientHello (HandshakeTypes [1], ContentType 22, Version the client's
	// highest), and, in a pure SSLv2 session (the server answered with an
	// SSLv2 SERVER-HELLO), every later record of both directions: Version
	// 0x0002, ContentType 22 for the plaintext handshake messages, 23 and
	// Encrypted for the records after the key exchange. Only the ClientHello
	// gives a Handshake event.
	SSLv2 bool
}

// Handshake types (RFC 8446 §4, RFC 5246 §7.4).
const (
	TypeHelloRequest        uint8 = 0
	TypeClientHello         uint8 = 1
	TypeServerHello         uint8 = 2
	TypeNewSessionTicket    uint8 = 4
	TypeEndOfEarlyData      uint8 = 5
	TypeEncryptedExtensions uint8 = 8
	TypeCertificate         uint8 = 11
	TypeServerKeyExchange   uint8 = 12
	TypeCertificateRequest  uint8 = 13
	TypeServerHelloDone     uint8 = 14
	TypeCertificateVerify   uint8 = 15
	TypeClientKeyExchange   uint8 = 16
	TypeFinished            uint8 = 20
	TypeCertificateStatus   uint8 = 22
	TypeKeyUpdate           uint8 = 24
	TypeMessageHash         uint8 = 254
)

// Handshake is one complete (or truncated) handshake message.
type Handshake struct {
	Where
	Type    uint8
	Length  int // length from the 4-byte handshake header
	Records int // number of records it spans; > 1 means fragmented over records
	// Body is the parsed message: *ClientHello, *ServerHello, *Certificate,
	// *CertificateRequest, *ServerKeyExchange, *NewSessionTicket, or nil for
	// messages kept only as type and length. ParseErr says why Body is nil
	// for a message that should have parsed.
	Body     any
	ParseErr error
	// Truncated is set when the capture ended, or bytes were missing,
	// before the whole message arrived; Body is then nil.
	Truncated bool
	// Encrypted is set for the TLS 1.2 Finished inferred from the first
	// encrypted handshake record after a ChangeCipherSpec: its content is
	// not readable, Length is then the record's length. (Under a
	// NULL-encryption suite the Finished is read: Encrypted is false.)
	Encrypted bool
	// Decrypted is set for a message read from records decrypted with a
	// key log (a TLS 1.3 Certificate, CertificateRequest, Finished...).
	Decrypted bool
}

// MaxKeptMessage bounds the handshake message tlspcap buffers to parse:
// a header may claim up to 2^24-1 bytes. A larger message is counted (the
// records after it decode as usual) and its Handshake has Body nil and a
// *LimitError as ParseErr. Real stacks refuse far smaller messages: mbedTLS
// needs a handshake message to fit its input buffer
// (MBEDTLS_SSL_IN_CONTENT_LEN, at most 16384), Go's crypto/tls takes 64 KiB
// (256 KiB for a Certificate), OpenSSL 100 KiB (SSL_MAX_CERT_LIST_DEFAULT).
// 1 MiB keeps every message any of them accepts, with room to spare.
const MaxKeptMessage = 1 << 20

// MaxCertificates bounds the certificates parsed from one Certificate
// message: a hostile 1 MiB message could list some 350 000 empty ones.
// mbedTLS gives up on a chain with more than 8 intermediates
// (MBEDTLS_X509_MAX_INTERMEDIATE_CA) and real servers send 1 to 5, so 64
// keeps every chain a device could verify and enough of a longer one to
// show why it fails. Each certificate is bounded by MaxKeptMessage.
const MaxCertificates = 64

// LimitError is the ParseErr of a handshake message longer than
// MaxKeptMessage: its bytes were counted, not buffered, and not parsed.
type LimitError struct {
	Type   uint8 // handshake type
	Length int   // from the message header
	Limit  int   // MaxKeptMessage
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%s of %d bytes is too large to keep (tlspcap keeps up to %d bytes)", HandshakeTypeName(e.Type), e.Length, e.Limit)
}

// Extension type numbers the parsers use.
const (
	ExtServerName             uint16 = 0
	ExtMaxFragmentLength      uint16 = 1
	ExtStatusRequest          uint16 = 5
	ExtSupportedGroups        uint16 = 10
	ExtECPointFormats         uint16 = 11
	ExtSignatureAlgorithms    uint16 = 13
	ExtALPN                   uint16 = 16
	ExtSCT                    uint16 = 18
	ExtEncryptThenMAC         uint16 = 22
	ExtExtendedMasterSecret   uint16 = 23
	ExtRecordSizeLimit        uint16 = 28
	ExtSessionTicket          uint16 = 35
	ExtPreSharedKey           uint16 = 41
	ExtEarlyData              uint16 = 42
	ExtSupportedVersions      uint16 = 43
	ExtCookie                 uint16 = 44
	ExtPSKModes               uint16 = 45
	ExtCertificateAuthorities uint16 = 47
	ExtKeyShare               uint16 = 51
	ExtRenegotiationInfo      uint16 = 0xff01
)

// Protocol versions.
const (
	VersionSSL30 uint16 = 0x0300
	VersionTLS10 uint16 = 0x0301
	VersionTLS11 uint16 = 0x0302
	VersionTLS12 uint16 = 0x0303
	VersionTLS13 uint16 = 0x0304
)

// IsTLS13 reports whether a negotiated version is TLS 1.3 or one of its
// drafts (0x7fNN, as deployed 2016-2018), which encrypt the same way.
func IsTLS13(v uint16) bool { return v == VersionTLS13 || v&0xff00 == 0x7f00 }

// ClientHello holds what diagnosis and fingerprints need, in wire order.
type ClientHello struct {
	Version              uint16 // legacy_version
	Random               []byte
	SessionID            []byte
	CipherSuites         []uint16 // as sent, GREASE included
	CompressionMethods   []uint8
	Extensions           []uint16 // extension types in order, GREASE included
	ServerName           string   // SNI host_name; "" when absent
	SupportedVersions    []uint16
	SupportedGroups      []uint16
	ECPointFormats       []uint8
	SignatureAlgorithms  []uint16
	ALPN                 []string
	MaxFragmentLength    uint8  // 0 absent, 1..4 = 2^9..2^12
	RecordSizeLimit      uint16 // 0 absent
	KeyShareGroups       []uint16
	PSKModes             []uint8
	EncryptThenMAC       bool
	ExtendedMasterSecret bool
	SessionTicket        bool
	SSLv2                bool // arrived as an SSLv2-compatible hello
	// SSLv2CipherSpecs are the 3-byte SSLv2-only cipher kinds of an SSLv2
	// hello (first byte non-zero); the others are in CipherSuites.
	SSLv2CipherSpecs []uint32
}

// ServerHello also represents a HelloRetryRequest (RFC 8446 §4.1.3).
type ServerHello struct {
	Version              uint16 // legacy_version
	Random               []byte
	SessionID            []byte
	CipherSuite          uint16
	CompressionMethod    uint8
	Extensions           []uint16
	SelectedVersion      uint16 // from supported_versions; 0 when absent
	MaxFragmentLength    uint8  // echoed max_fragment_length; 0 when absent
	RecordSizeLimit      uint16
	ALPN                 string
	KeyShareGroup        uint16
	EncryptThenMAC       bool
	ExtendedMasterSecret bool
	HelloRetryRequest    bool
}

// CertificateEntry is one certificate as sent, parsed when possible.
type CertificateEntry struct {
	Raw      []byte
	Cert     *x509.Certificate // nil when ParseErr != nil
	ParseErr error
	// SHA256 of Raw, computed with the parse (once per distinct DER): what
	// identifies the certificate without hashing its DER again.
	SHA256 [32]byte
}

// Certificate is the Certificate message (TLS 1.2, or TLS 1.3 once decrypted).
type Certificate struct {
	Context []byte // TLS 1.3 certificate_request_context
	// Entries are the first MaxCertificates certificates of the message;
	// Count is how many it holds (more than len(Entries) when tlspcap's
	// bound dropped the rest).
	Entries []CertificateEntry
	Count   int
}

// CertificateRequest carries what the server asks of a client certificate.
type CertificateRequest struct {
	CertificateTypes    []uint8
	SignatureAlgorithms []uint16
	CANames             [][]byte // DER-encoded distinguished names
}

// ServerKeyExchange keeps the key exchange group (ECDHE) or DH size.
type ServerKeyExchange struct {
	CurveType  uint8  // 3 = named_curve
	NamedGroup uint16 // 0 when not ECDHE
	DHBits     int    // DHE prime size in bits, 0 when not DHE
}

// NewSessionTicket keeps the ticket lifetime.
type NewSessionTicket struct {
	LifetimeHint uint32
	TicketLen    int
}

// Alert levels.
const (
	AlertWarning uint8 = 1
	AlertFatal   uint8 = 2
)

// Alert is a TLS alert. Encrypted alerts whose content could not be read
// have Encrypted set and Level/Description zero.
type Alert struct {
	Where
	Level       uint8
	Description uint8
	Encrypted   bool
	// Guessed is set when the alert was inferred from an encrypted record's
	// size and position rather than read.
	Guessed bool
	// Decrypted is set when the alert was read from a record decrypted
	// with a key log.
	Decrypted bool
}

// ChangeCipherSpec marks the point after which a TLS 1.2 direction is
// encrypted, when the handshake state makes that plausible: a ServerHello
// chose TLS 1.2 or lower. A ChangeCipherSpec in a TLS 1.3 negotiation is
// middlebox compatibility and changes nothing; one before any ServerHello
// (or whose ServerHello is not in the capture) leaves the next handshake
// record to be judged by its content: handshake messages that parse are
// read, anything else is the encrypted Finished.
type ChangeCipherSpec struct {
	Where
}

// NotTLS reports bytes that do not parse as TLS: what they look like and the
// first bytes (raw: escape before printing).
type NotTLS struct {
	Where
	Protocol string // "HTTP", "MQTT", "SSH", "SMTP", "unknown"...
	Prefix   []byte // first up to 64 bytes
}

// DecodeErrorKind says what went wrong in decoding, for the layers that
// act on it (Detail is only the sentence for the user).
type DecodeErrorKind uint8

const (
	// DecodeTruncated: the stream ends inside a record header or a
	// handshake message header.
	DecodeTruncated DecodeErrorKind = iota + 1
	// DecodeResynced: bytes that are not a record were skipped up to the
	// next plausible record header.
	DecodeResynced
	// DecodeStopped: no plausible record header followed bad bytes; the
	// rest of that direction is not decoded.
	DecodeStopped
	// DecodeMalformed: a decrypted record whose content does not parse.
	DecodeMalformed
	// DecodeKeyLog: the key log does not serve this connection (reported
	// once per connection); its records stay encrypted from there on.
	DecodeKeyLog
)

// DecodeError reports a record or message that could not be parsed, or
// secrets that do not decrypt; Where holds its frames and stream offset.
type DecodeError struct {
	Where
	Kind   DecodeErrorKind
	Detail string
}

func (e *DecodeError) Error() string { return e.Detail }

func (*Record) event()           {}
func (*Handshake) event()        {}
func (*Alert) event()            {}
func (*ChangeCipherSpec) event() {}
func (*NotTLS) event()           {}
func (*DecodeError) event()      {}
