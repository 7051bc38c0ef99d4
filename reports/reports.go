// Package reports renders a diagnose.Report: terminal text, Markdown, JSON.
// It decides nothing; every word of judgement comes from diagnose.
package reports

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"tlspcap/diagnose"
	"tlspcap/internal/wiretext"
)

// Format names an output format.
type Format string

const (
	Text     Format = "text"
	Markdown Format = "markdown"
	JSON     Format = "json"
	HTML     Format = "html"
)

// Formats lists the formats `--format` accepts.
var Formats = []Format{Text, Markdown, JSON, HTML}

// ParseFormat checks a --format value against the formats a command
// writes (default: every format, as analyze).
func ParseFormat(s string, allowed ...Format) (Format, error) {
	if len(allowed) == 0 {
		allowed = Formats
	}
	for _, f := range allowed {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown format %q (use %s)", s, FormatList(allowed))
}

// FormatList names formats for help and errors: "text, markdown or json".
func FormatList(fs []Format) string {
	var s []string
	for _, f := range fs {
		s = append(s, string(f))
	}
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// Options for rendering.
type Options struct {
	Width int  // terminal width for wrapping; 0 = 100
	Color bool // ANSI colour (only on a terminal, never with NO_COLOR)
	All   bool // show findings of healthy connections too
}

// Write renders the analysis report.
func Write(w io.Writer, r *diagnose.Report, f Format, o Options) error {
	var err error
	switch f {
	case JSON:
		err = writeReportJSON(w, r)
	case Markdown:
		err = writeMarkdown(w, r, o)
	case HTML:
		err = writeHTML(w, r, o)
	default:
		err = writeText(w, r, o)
	}
	if err == nil {
		err = r.Err() // verdicts that could not be read back: the report is incomplete
	}
	return err
}

// jsonEncoder is the one JSON encoder of every document tlspcap writes
// (analyze, records, certs, live's lines): the same escaping everywhere.
type jsonEncoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

func newJSONEncoder() *jsonEncoder {
	e := &jsonEncoder{}
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}

// encode returns v as JSON, indented with prefix and indent ("" and "":
// one line), without the final newline. The bytes are valid until the next
// call.
func (e *jsonEncoder) encode(v any, prefix, indent string) ([]byte, error) {
	e.buf.Reset()
	e.enc.SetIndent(prefix, indent)
	if err := e.enc.Encode(v); err != nil {
		return nil, err
	}
	return escapeHidden(bytes.TrimSuffix(e.buf.Bytes(), []byte("\n"))), nil
}

// writeJSON writes v as one indented JSON document.
func writeJSON(w io.Writer, v any) error {
	b, err := newJSONEncoder().encode(v, "", "  ")
	if err == nil {
		_, err = fmt.Fprintf(w, "%s\n", b)
	}
	return err
}

// writeJSONLine writes v as JSON on one line (live's stream of objects).
func writeJSONLine(w io.Writer, v any) error {
	b, err := newJSONEncoder().encode(v, "", "")
	if err == nil {
		_, err = fmt.Fprintf(w, "%s\n", b)
	}
	return err
}

// escapeHidden writes what encoding/json leaves raw and a reader cannot
// see or a terminal acts on as \u escapes: DEL, the C1 controls (the
// one-byte CSI U+009B), bidi controls, zero-width and other format
// characters (wiretext.Hidden). The JSON means the same, and
// `cat report.json` shows "evil\u202emoc.elgoog" as it is. Outside
// strings JSON has only ASCII, so a scan of the runes is enough; encoding/json
// has already replaced bytes that are not UTF-8 by U+FFFD.
func escapeHidden(b []byte) []byte {
	hidden := func(i int) (bool, rune, int) {
		if b[i] < 0x7f { // encoding/json escaped the ASCII controls
			return false, rune(b[i]), 1
		}
		r, n := utf8.DecodeRune(b[i:])
		return wiretext.Hidden(r), r, n
	}
	i := 0
	for i < len(b) {
		h, _, n := hidden(i)
		if h {
			break
		}
		i += n
	}
	if i == len(b) {
		return b
	}
	out := append(make([]byte, 0, len(b)+16), b[:i]...)
	for i < len(b) {
		h, r, n := hidden(i)
		switch {
		case !h:
			out = append(out, b[i:i+n]...)
		case r > 0xffff:
			hi, lo := utf16.EncodeRune(r)
			out = fmt.Appendf(out, `\u%04x\u%04x`, hi, lo)
		default:
			out = fmt.Appendf(out, `\u%04x`, r)
		}
		i += n
	}
	return out
}

// writeReportJSON writes the report one connection at a time: a long
// capture's report is large, and encoding it whole holds it twice in memory
// (and past SpillAfter its connections are not in the Report value).
func writeReportJSON(w io.Writer, r *diagnose.Report) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := streamReportJSON(bw, r, true); err != nil {
		return err
	}
	bw.WriteString("\n")
	return bw.Flush()
}

// streamReportJSON writes the report object, indented (pretty) or on one
// line, without a final newline: the fields of diagnose.Report, and counts.
func streamReportJSON(bw *bufio.Writer, r *diagnose.Report, pretty bool) error {
	nl, in, sp := "", "", ""
	if pretty {
		nl, in, sp = "\n", "  ", " "
	}
	enc := newJSONEncoder()
	put := func(prefix string, v any) error {
		b, err := enc.encode(v, prefix, in)
		if err == nil {
			_, err = bw.Write(b)
		}
		return err
	}
	field := func(name string, v any, last bool) error {
		fmt.Fprintf(bw, "%s%q:%s", in, name, sp)
		if err := put(in, v); err != nil {
			return err
		}
		if !last {
			bw.WriteString(",")
		}
		bw.WriteString(nl)
		return nil
	}
	bw.WriteString("{" + nl)
	fields := []struct {
		name string
		v    any
	}{{"schema", r.Schema}, {"tool", r.Tool}, {"capture", r.Capture}, {"profile", r.Profile}}
	if r.ProfileReason != "" {
		fields = append(fields, struct {
			name string
			v    any
		}{"profile_reason", r.ProfileReason})
	}
	for _, f := range fields {
		if err := field(f.name, f.v, false); err != nil {
			return err
		}
	}
	if r.Len() == 0 {
		fmt.Fprintf(bw, "%s\"connections\":%s[],%s", in, sp, nl)
	} else {
		fmt.Fprintf(bw, "%s\"connections\":%s[%s", in, sp, nl)
		i := 0
		for c := range r.All() {
			bw.WriteString(in + in)
			if err := put(in+in, c); err != nil {
				return err
			}
			if i < r.Len()-1 {
				bw.WriteString(",")
			}
			bw.WriteString(nl)
			i++
		}
		bw.WriteString(in + "]," + nl)
	}
	if err := field("findings", r.Findings, false); err != nil {
		return err
	}
	if err := field("summary", r.Summary(), true); err != nil {
		return err
	}
	bw.WriteString("}")
	return nil
}

// maxWord is how many characters of one word (a name, a URL, a run
// without spaces) the text, Markdown and HTML reports show; maxShown bounds
// one whole value. A DNS name has at most 253 characters; a 64 KB
// certificate name is cut with a note of its length, and JSON keeps it
// whole.
const (
	maxWord  = 256
	maxShown = 4096
)

// termSafe is how every string reaches a human format: characters that act
// on a terminal, hide or reorder text (wiretext.Hidden) and bytes that are
// not UTF-8 become visible escapes, and what is longer than a screen is
// cut with a note of its length.
func termSafe(s string) string {
	return clipText(clipWords(wiretext.Escape(s), maxWord), maxShown)
}

// nameSafe is termSafe for one name (SNI, subject, issuer, SAN, URL):
// the whole value is cut past maxWord characters, spaces or not.
func nameSafe(s string) string {
	return clipText(wiretext.Escape(s), maxWord)
}

// maxCell is how much of a name a summary table's cell shows: the table
// stays within a screen; the connection's details show more.
const maxCell = 64

// cellSafe is nameSafe for a summary table's cell.
func cellSafe(s string) string {
	return clipText(wiretext.Escape(s), maxCell)
}

// namesSafe is a list of names (SANs, URLs), each through nameSafe.
func namesSafe(ns []string) string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = nameSafe(n)
	}
	return clipText(strings.Join(out, ", "), maxShown)
}

// clipText cuts s after n characters: "aaaa… (65536 characters)".
func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	k := utf8.RuneCountInString(s)
	if k <= n {
		return s
	}
	cut := 0
	for i := 0; i < n; i++ {
		_, w := utf8.DecodeRuneInString(s[cut:])
		cut += w
	}
	return fmt.Sprintf("%s… (%d characters)", s[:cut], k)
}

// clipWords cuts every word (a run without spaces) longer than n
// characters, as clipText does.
func clipWords(s string, n int) string {
	if len(s) <= n {
		return s
	}
	long, run := false, 0 // any run of more than n bytes without a space?
	for i := 0; i < len(s) && !long; i++ {
		if s[i] == ' ' || s[i] == '\t' || s[i] == '\n' {
			run = 0
		} else if run++; run > n {
			long = true
		}
	}
	if !long {
		return s
	}
	var b strings.Builder
	start := -1
	for i, r := range s + " " {
		if r != ' ' && r != '\t' && r != '\n' {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			b.WriteString(clipText(s[start:i], n))
			start = -1
		}
		if i < len(s) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// mdSafe escapes text for a Markdown table cell or paragraph.
func mdSafe(s string) string { return mdEscape(termSafe(s)) }

var mdEscaper = strings.NewReplacer(`\`, `\\`, "|", `\|`, "<", "&lt;", ">", "&gt;", "*", `\*`, "_", `\_`, "`", "\\`", "[", `\[`, "]", `\]`, "\n", " ")

// mdEscape is Markdown's escaping alone, for text already through termSafe
// or nameSafe.
func mdEscape(s string) string { return mdEscaper.Replace(s) }

// codeSafe is for text inside Markdown backticks: no backticks, no newlines.
func codeSafe(s string) string { return codeEscape(termSafe(s)) }

var codeEscaper = strings.NewReplacer("`", "'", "\n", " ", "|", `\|`)

// codeEscape is codeSafe for text already through termSafe or nameSafe.
func codeEscape(s string) string { return codeEscaper.Replace(s) }

// plain is the escaping of the text format: none past termSafe and nameSafe.
func plain(s string) string { return s }

func errorCodes(f diagnose.Finding) string {
	var s []string
	for _, e := range f.DeviceErrors {
		s = append(s, e.Code+" "+e.Name)
	}
	return strings.Join(s, "; ")
}

func framesList(fs []int) string {
	var s []string
	for _, f := range fs {
		s = append(s, fmt.Sprint(f))
	}
	return strings.Join(s, ", ")
}

// detailed decides which connections every format details: the failed and
// not-TLS ones, and those with a warning (a handshake that completed with
// verification off, a chain a device would refuse) even when they
// succeeded; --all shows every connection.
func detailed(c *diagnose.Connection, o Options) bool {
	if c.Failed() || c.Outcome == diagnose.OutcomeNotTLS || o.All {
		return true
	}
	for _, f := range c.Findings {
		if f.Severity == diagnose.SeverityWarning {
			return true
		}
	}
	return false
}
