package device

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// NetValue is a number the device's network stack reports next to the
// TLS codes: an lwIP getaddrinfo() return value or a socket errno.
type NetValue struct {
	Value   int
	Name    string
	Meaning string
	// ESP is what ESP-TLS (or mbedTLS's socket layer) makes of it.
	ESP    string
	Wire   string
	Fix    string
	Source string
}

// GaiErrors are lwIP's getaddrinfo() return values (lwip/netdb.h), which
// ESP-TLS prints as "couldn't get hostname for NAME: getaddrinfo()
// returns 202" before returning ESP_ERR_ESP_TLS_CANNOT_RESOLVE_HOSTNAME.
// Errnos are the socket errno values ESP-IDF's C library (newlib) uses;
// other systems number some of them differently (Linux's ETIMEDOUT is
// 110), so the numbers are read as the device's. Both: data/netvalues.tsv.
var (
	netValues = must(parseNetValues("data/netvalues.tsv", mustRead("data/netvalues.tsv"), fixes))
	GaiErrors = netValues["getaddrinfo"]
	Errnos    = netValues["errno"]
)

// MentionKind says what a number found in a log line is.
type MentionKind string

const (
	MentionCode        MentionKind = "code"        // mbedTLS, PSA or ESP-TLS error code
	MentionGetaddrinfo MentionKind = "getaddrinfo" // lwIP getaddrinfo() return value
	MentionErrno       MentionKind = "errno"       // socket errno
)

// Mention is one error value found in a pasted log line.
type Mention struct {
	Kind  MentionKind
	Text  string // as the line has it
	Value int    // the code (Lookup) or the getaddrinfo/errno value
	Known bool   // in tlspcap's tables
}

// The patterns FindCodes tries, most specific first; a match's bytes are
// not looked at again. Numbers inside words (frame123, 0x3ffb0000
// addresses, "E (12345)" timestamps) are not codes: a code is a negative
// number, a hexadecimal one, or a number after "getaddrinfo()" or
// "errno".
var (
	gaiRE   = regexp.MustCompile(`(?i)getaddrinfo\(?\)?\s*(?:returns?|returned|failed|error|err|ret|res)?\s*[:=]?\s*\(?\s*(-?\d+)`)
	errnoRE = regexp.MustCompile(`(?i)\berrno\b(?:\s+(?:is|was|string))?\s*[:=]?\s*\(?\s*(0x[0-9a-f]+|\d+)`)
	// Verify flags (esp_tls_cert_verify_flags=0x8): a bit mask, not a code.
	flagsRE = regexp.MustCompile(`(?i)verify[_ ]flags?\s*[:=]?\s*\(?\s*(?:0x[0-9a-f]+|\d+)`)
	nameRE  = regexp.MustCompile(`\b(?:MBEDTLS_ERR_[A-Z0-9_]+|ESP_ERR_[A-Z0-9_]+|PSA_ERROR_[A-Z0-9_]+|EAI_[A-Z]+)\b`)
	// A 32-bit two's complement as printed with %X: FFFF8100 is -0x7F00.
	word32RE = regexp.MustCompile(`(?i)(?:^|[^0-9a-z_])((?:0x)?ffff[0-9a-f]{4})\b`)
	hexRE    = regexp.MustCompile(`(?i)(?:^|[^0-9a-z_.])(-?\s?0x[0-9a-f]+)\b`)
	negRE    = regexp.MustCompile(`(?:^|[^0-9A-Za-z_.\-])(-\d+)\b`)
	errnoIdx = map[string]int{}
	gaiIdx   = map[string]int{}
)

func init() {
	for i, e := range Errnos {
		errnoIdx[e.Name] = i
	}
	for i, e := range GaiErrors {
		gaiIdx[e.Name] = i
	}
}

// FindCodes finds the error values in a line a user pasted from the
// device's log: "E (12345) esp-tls-mbedtls: mbedtls_ssl_handshake
// returned -0x2700", "getaddrinfo() returns 202", "Last errno: 104",
// "res=FFFF8100", "returned [0x8017]", "(-12288)", macro names. Each value
// is given once, in the order of the line.
func FindCodes(line string) []Mention {
	type hit struct {
		at int
		m  Mention
	}
	var hits []hit
	used := make([]bool, len(line)+1)
	free := func(a, b int) bool {
		for i := a; i < b; i++ {
			if used[i] {
				return false
			}
		}
		return true
	}
	take := func(re *regexp.Regexp, group int, f func(text string) (Mention, bool)) {
		for _, ix := range re.FindAllStringSubmatchIndex(line, -1) {
			a, b := ix[2*group], ix[2*group+1]
			if !free(ix[0], ix[1]) {
				continue
			}
			for i := ix[0]; i < ix[1]; i++ {
				used[i] = true
			}
			if m, ok := f(line[a:b]); ok {
				hits = append(hits, hit{a, m})
			}
		}
	}
	take(flagsRE, 0, func(string) (Mention, bool) { return Mention{}, false })
	take(gaiRE, 1, func(t string) (Mention, bool) {
		v, err := strconv.Atoi(t)
		_, ok := gaiValue(v)
		return Mention{Kind: MentionGetaddrinfo, Text: t, Value: v, Known: ok}, err == nil
	})
	take(errnoRE, 1, func(t string) (Mention, bool) {
		v, err := strconv.ParseInt(t, 0, 32)
		_, ok := errnoValue(int(v))
		return Mention{Kind: MentionErrno, Text: t, Value: int(v), Known: ok}, err == nil
	})
	take(nameRE, 0, func(t string) (Mention, bool) {
		if i, ok := gaiIdx[t]; ok {
			return Mention{Kind: MentionGetaddrinfo, Text: t, Value: GaiErrors[i].Value, Known: true}, true
		}
		c, err := ParseCode(t)
		return Mention{Kind: MentionCode, Text: t, Value: c, Known: true}, err == nil
	})
	take(word32RE, 1, func(t string) (Mention, bool) {
		u, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(t), "0x"), 16, 32)
		c := int(int32(uint32(u)))
		_, known := Lookup(c)
		return Mention{Kind: MentionCode, Text: t, Value: c, Known: known}, err == nil && known
	})
	take(hexRE, 1, func(t string) (Mention, bool) {
		t = strings.ReplaceAll(t, " ", "")
		c, err := ParseCode(t)
		_, known := Lookup(c)
		// An unsigned hex number that names no code (an address, a
		// length) is not taken for one; a negative one is a code.
		return Mention{Kind: MentionCode, Text: t, Value: c, Known: known}, err == nil && (known || strings.HasPrefix(t, "-"))
	})
	take(negRE, 1, func(t string) (Mention, bool) {
		c, err := ParseCode(t)
		_, known := Lookup(c)
		return Mention{Kind: MentionCode, Text: t, Value: c, Known: known}, err == nil && known
	})
	// Line order, each value once.
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].at < hits[j].at })
	var out []Mention
	seen := map[Mention]bool{}
	for _, h := range hits {
		k := Mention{Kind: h.m.Kind, Value: h.m.Value}
		if !seen[k] {
			seen[k] = true
			out = append(out, h.m)
		}
	}
	return out
}

func gaiValue(v int) (NetValue, bool) {
	for _, e := range GaiErrors {
		if e.Value == v {
			return e, true
		}
	}
	return NetValue{}, false
}

func errnoValue(v int) (NetValue, bool) {
	for _, e := range Errnos {
		if e.Value == v {
			return e, true
		}
	}
	return NetValue{}, false
}

// ExplainMention is the text `tlspcap explain` prints for one value.
func ExplainMention(m Mention) string {
	switch m.Kind {
	case MentionGetaddrinfo:
		e, ok := gaiValue(m.Value)
		if !ok {
			return fmt.Sprintf("getaddrinfo() %d: not an lwIP getaddrinfo() value tlspcap knows (lwIP's are EAI_NONAME 200 to EAI_FAMILY 204)\n", m.Value)
		}
		return explainNet(fmt.Sprintf("getaddrinfo() %d  %s (lwIP)", e.Value, e.Name), e)
	case MentionErrno:
		e, ok := errnoValue(m.Value)
		if !ok {
			return fmt.Sprintf("errno %d: not a socket errno tlspcap knows\n", m.Value)
		}
		return explainNet(fmt.Sprintf("errno %d  %s (newlib, as ESP-IDF numbers it)", e.Value, e.Name), e)
	}
	return Explain(m.Value)
}

func explainNet(head string, e NetValue) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n  meaning: %s\n", head, e.Meaning)
	if e.ESP != "" {
		fmt.Fprintf(&b, "  reported as: %s\n", e.ESP)
	}
	writeTail(&b, "on the wire", e.Wire, e.Fix, e.Source)
	return b.String()
}

// String names a mention as the summary line lists it.
func (m Mention) String() string {
	switch m.Kind {
	case MentionGetaddrinfo:
		return fmt.Sprintf("getaddrinfo() %d", m.Value)
	case MentionErrno:
		return fmt.Sprintf("errno %d", m.Value)
	}
	return FormatCode(m.Value)
}
