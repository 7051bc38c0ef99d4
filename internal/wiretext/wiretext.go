// Package wiretext says which characters of a string from the wire hide or
// reorder what a reader sees, and writes them as visible escapes. A host
// or certificate name never needs them: "evil\u202Emoc.elgoog" shows as
// "evilgoogle.com" wherever it is printed raw. diagnose flags such names;
// reports escapes them in every format.
package wiretext

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Hidden reports whether r acts on a terminal or is invisible or reorders
// text: C0 and C1 controls and DEL, format characters (Cf: the bidi
// embeddings, overrides and isolates, LRM/RLM/ALM, zero-width space and
// joiners, BOM, soft hyphen, tags), line and paragraph separators, and the
// other default-ignorable code points (Hangul fillers, variation
// selectors), which render as nothing.
func Hidden(r rune) bool {
	switch {
	case r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f:
		return true
	case r < 0xa0:
		return false
	}
	return unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector)
}

// Suspicious reports whether s holds a hidden character or bytes that are
// not UTF-8: what no host name needs.
func Suspicious(s string) bool {
	for i, r := range s {
		if Hidden(r) || r == utf8.RuneError && invalidAt(s, i) {
			return true
		}
	}
	return false
}

// invalidAt: the U+FFFD ranging over s yielded at i stands for a byte that is
// not UTF-8, not for an encoded U+FFFD.
func invalidAt(s string, i int) bool {
	_, n := utf8.DecodeRuneInString(s[i:])
	return n == 1
}

// Escape writes every hidden character as a visible escape: \xNN for the
// ASCII controls, DEL and bytes that are not UTF-8, \uXXXX (\UXXXXXXXX
// past the BMP) for the rest, so "evil\u202Emoc.elgoog" reads as written.
// Anything else is kept; s is returned as is when nothing needs escaping.
func Escape(s string) string {
	if !Suspicious(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i, r := range s {
		switch {
		case r == utf8.RuneError && invalidAt(s, i):
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x80 && Hidden(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case r <= 0xffff && Hidden(r):
			fmt.Fprintf(&b, `\u%04X`, r)
		case Hidden(r):
			fmt.Fprintf(&b, `\U%08X`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Describe names the hidden characters and stray bytes of s, the first
// five distinct ones: "U+202E (bidi control), byte 0xFF (not UTF-8)".
func Describe(s string) string {
	var parts []string
	seen := map[string]bool{}
	more := 0
	for i, r := range s {
		var d string
		switch {
		case r == utf8.RuneError && invalidAt(s, i):
			d = fmt.Sprintf("byte 0x%02X (not UTF-8)", s[i])
		case !Hidden(r):
			continue
		default:
			d = fmt.Sprintf("U+%04X (%s)", r, class(r))
		}
		if seen[d] {
			continue
		}
		seen[d] = true
		if len(parts) == 5 {
			more++
			continue
		}
		parts = append(parts, d)
	}
	if more > 0 {
		parts = append(parts, fmt.Sprintf("and %d more", more))
	}
	return strings.Join(parts, ", ")
}

// class says what kind of hidden character r is.
func class(r rune) string {
	switch {
	case r == 0x1b:
		return "escape, starts terminal sequences"
	case r < 0x20 || r == 0x7f:
		return "control character"
	case r == 0x9b:
		return "C1 control, starts terminal sequences"
	case r < 0xa0:
		return "C1 control character"
	case r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 || r == 0x200e || r == 0x200f || r == 0x061c:
		return "bidi control, reorders text"
	case r >= 0x200b && r <= 0x200d || r == 0x2060 || r == 0xfeff:
		return "zero-width"
	case r == 0x2028 || r == 0x2029:
		return "line separator"
	}
	return "invisible"
}
