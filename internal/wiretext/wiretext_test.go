package wiretext

import (
	"testing"
	"unicode/utf8"
)

func TestEscape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"broker.example.com", "broker.example.com"},
		{"évian.example · ünïcode ✓ \uFFFD", "évian.example · ünïcode ✓ \uFFFD"},
		{"evil\u202Emoc.elgoog", `evil\u202Emoc.elgoog`},
		{"a\u202Ab\u202Bc\u202Cd\u202De", `a\u202Ab\u202Bc\u202Cd\u202De`},
		{"\u2066\u2067\u2068\u2069", `\u2066\u2067\u2068\u2069`},
		{"l\u200Er\u200Fa\u061C", `l\u200Er\u200Fa\u061C`},
		{"zero\u200Bwidth\u200C\u200D\uFEFF", `zero\u200Bwidth\u200C\u200D\uFEFF`},
		{"soft\u00ADhyphen\u2060joiner\u180E", `soft\u00ADhyphen\u2060joiner\u180E`},
		{"line\u2028para\u2029", `line\u2028para\u2029`},
		{"hangul\u3164filler\uFE0Fvs", `hangul\u3164filler\uFE0Fvs`},
		{"tag\U000E0041\U000E007F", `tag\U000E0041\U000E007F`},
		{"\x1b[31mred\x00\x07\t\n\x7f", `\x1b[31mred\x00\x07\x09\x0a\x7f`},
		{"c1 \u009b31m \u0085", `c1 \u009B31m \u0085`},
		{"bad\xff\xfeutf8\xc3", `bad\xff\xfeutf8\xc3`},
	} {
		if got := Escape(tc.in); got != tc.want {
			t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if Suspicious(tc.in) != (tc.in != tc.want) {
			t.Errorf("Suspicious(%q) = %v", tc.in, Suspicious(tc.in))
		}
	}
}

// FuzzEscape: whatever the input, the escape is UTF-8 with nothing hidden.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"evil\u202Emoc.elgoog", "\x1b]0;x\x07", "bad\xff", "\U000E0041", "ok.example"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := Escape(s)
		if !utf8.ValidString(e) || Suspicious(e) {
			t.Fatalf("Escape(%q) = %q still hides something", s, e)
		}
		if !Suspicious(s) && e != s {
			t.Fatalf("Escape changed the clean %q to %q", s, e)
		}
	})
}

func TestDescribe(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"ok.example", ""},
		{"evil\u202Emoc.elgoog\u202E", "U+202E (bidi control, reorders text)"},
		{"a\u200Bb\x1b[31m\xff\u009b", "U+200B (zero-width), U+001B (escape, starts terminal sequences), byte 0xFF (not UTF-8), U+009B (C1 control, starts terminal sequences)"},
		{"\x01\x02\x03\x04\x05\x06\x07", "U+0001 (control character), U+0002 (control character), U+0003 (control character), U+0004 (control character), U+0005 (control character), and 2 more"},
		{"\u00AD\u3164", "U+00AD (invisible), U+3164 (invisible)"},
	} {
		if got := Describe(tc.in); got != tc.want {
			t.Errorf("Describe(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
