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
	"unicode"

	"tlspcap/diagnose"
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

// ParseFormat checks a --format value.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown format %q (use text, markdown, json or html)", s)
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

func writeJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(escapeC1(buf.Bytes()))
	return err
}

// escapeC1 writes DEL and the C1 controls (U+0080–U+009F, e.g. the
// one-byte CSI a terminal may act on) that encoding/json leaves raw as
// \u escapes: the JSON means the same, and `cat report.json` is safe.
// Outside strings JSON has no such bytes, so a byte scan is enough.
func escapeC1(b []byte) []byte {
	i := 0
	for i < len(b) && b[i] != 0x7f && !(b[i] == 0xc2 && i+1 < len(b) && b[i+1] >= 0x80 && b[i+1] <= 0x9f) {
		i++
	}
	if i == len(b) {
		return b
	}
	out := append(make([]byte, 0, len(b)+16), b[:i]...)
	for ; i < len(b); i++ {
		switch {
		case b[i] == 0x7f:
			out = append(out, `\u007f`...)
		case b[i] == 0xc2 && i+1 < len(b) && b[i+1] >= 0x80 && b[i+1] <= 0x9f:
			out = fmt.Appendf(out, `\u%04x`, b[i+1])
			i++
		default:
			out = append(out, b[i])
		}
	}
	return out
}

// writeReportJSON writes the report one connection at a time: a long
// capture's report is large, and encoding it whole holds it twice in memory.
// The output is the same as encoding the Report value in one go.
func writeReportJSON(w io.Writer, r *diagnose.Report) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	put := func(prefix string, v any) error {
		buf.Reset()
		enc.SetIndent(prefix, "  ")
		if err := enc.Encode(v); err != nil {
			return err
		}
		_, err := bw.Write(escapeC1(bytes.TrimSuffix(buf.Bytes(), []byte("\n"))))
		return err
	}
	field := func(name string, v any, last bool) error {
		fmt.Fprintf(bw, "  %q: ", name)
		if err := put("  ", v); err != nil {
			return err
		}
		if !last {
			bw.WriteString(",")
		}
		bw.WriteString("\n")
		return nil
	}
	bw.WriteString("{\n")
	for _, f := range []struct {
		name string
		v    any
	}{{"schema", r.Schema}, {"tool", r.Tool}, {"capture", r.Capture}, {"profile", r.Profile}} {
		if err := field(f.name, f.v, false); err != nil {
			return err
		}
	}
	if r.Len() == 0 {
		bw.WriteString("  \"connections\": [],\n")
	} else {
		bw.WriteString("  \"connections\": [\n")
		i := 0
		for c := range r.All() {
			bw.WriteString("    ")
			if err := put("    ", c); err != nil {
				return err
			}
			if i < r.Len()-1 {
				bw.WriteString(",")
			}
			bw.WriteString("\n")
			i++
		}
		bw.WriteString("  ],\n")
	}
	if err := field("findings", r.Findings, false); err != nil {
		return err
	}
	if err := field("summary", r.Summary(), true); err != nil {
		return err
	}
	bw.WriteString("}\n")
	return bw.Flush()
}

// termSafe removes what could act on a terminal: control characters and
// invalid UTF-8 become visible escapes.
func termSafe(s string) string {
	clean := true
	for _, r := range s {
		if r == unicode.ReplacementChar || unicode.IsControl(r) || r == 0x1b {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == unicode.ReplacementChar && (len(s) <= i+2 || s[i:i+3] != "\uFFFD"):
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unicode.IsControl(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// mdSafe escapes text for a Markdown table cell or paragraph.
func mdSafe(s string) string {
	s = termSafe(s)
	r := strings.NewReplacer(`\`, `\\`, "|", `\|`, "<", "&lt;", ">", "&gt;", "*", `\*`, "_", `\_`, "`", "\\`", "[", `\[`, "]", `\]`, "\n", " ")
	return r.Replace(s)
}

// codeSafe is for text inside Markdown backticks: no backticks, no newlines.
func codeSafe(s string) string {
	return strings.NewReplacer("`", "'", "\n", " ", "|", `\|`).Replace(termSafe(s))
}

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
