// Package reports renders a diagnose.Report: terminal text, Markdown, JSON.
// It decides nothing; every word of judgement comes from diagnose.
package reports

import (
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
	switch f {
	case JSON:
		return writeJSON(w, r)
	case Markdown:
		return writeMarkdown(w, r, o)
	case HTML:
		return writeHTML(w, r, o)
	default:
		return writeText(w, r, o)
	}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
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
