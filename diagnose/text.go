package diagnose

import (
	"fmt"
	"strings"
	"unicode"
)

// quoteBytes shows wire bytes safely: printable ASCII as text in quotes,
// everything else as \xNN, cut at max bytes. Wire bytes are hostile: no
// control character ever reaches the terminal.
func quoteBytes(b []byte, max int) string {
	cut := false
	if len(b) > max {
		b, cut = b[:max], true
	}
	var sb strings.Builder
	sb.WriteByte('"')
	for _, c := range b {
		switch {
		case c == '\r':
			sb.WriteString(`\r`)
		case c == '\n':
			sb.WriteString(`\n`)
		case c == '"' || c == '\\':
			sb.WriteByte('\\')
			sb.WriteByte(c)
		case c >= 0x20 && c < 0x7f:
			sb.WriteByte(c)
		default:
			fmt.Fprintf(&sb, `\x%02x`, c)
		}
	}
	sb.WriteByte('"')
	if cut {
		sb.WriteString("...")
	}
	return sb.String()
}

// capitalize upper-cases the first letter.
func capitalize(s string) string {
	for i, r := range s {
		return string(unicode.ToUpper(r)) + s[i+len(string(r)):]
	}
	return s
}
