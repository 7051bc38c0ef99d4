package reports

import (
	"strings"

	"tlspcap/diagnose"
)

// profileText is the profile with the reason it was used:
// "esp32-idf4 (guessed from the ClientHello shape of mbedTLS 2.28; give --profile to override)".
func profileText(name, reason string) string {
	if reason == "" {
		return name
	}
	return name + " (" + reason + ")"
}

// connProfileText is a connection's profile line when the report's header
// does not already say it: its profile or its reason differs from the
// report's. "" otherwise.
func connProfileText(r *diagnose.Report, c *diagnose.Connection) string {
	if c.Profile == "" || (c.Profile == r.Profile && c.ProfileReason == r.ProfileReason) {
		return ""
	}
	return profileText(c.Profile, c.ProfileReason)
}

// fingerprintText is "client JA4 …  JA3 …  server JA4S …  JA3S …", with the
// parts the connection has; "" when it has none. Fingerprints are hex,
// digits, letters and '_' computed by decode: nothing to escape.
func fingerprintText(c *diagnose.Connection) string {
	return fingerprintLine(c, orNone, "  ", "  ")
}

// fingerprintMarkdown is the same with each fingerprint in a code span, so
// '_' needs no escaping.
func fingerprintMarkdown(c *diagnose.Connection) string {
	return fingerprintLine(c, func(s string) string { return "`" + codeSafe(orNone(s)) + "`" }, ", ", "; ")
}

// fingerprintLine joins the client's and the server's fingerprints, each
// value through quote.
func fingerprintLine(c *diagnose.Connection, quote func(string) string, within, between string) string {
	var parts []string
	if c.JA4 != "" || c.JA3 != "" {
		parts = append(parts, "client JA4 "+quote(c.JA4)+within+"JA3 "+quote(c.JA3))
	}
	if c.JA4S != "" || c.JA3S != "" {
		parts = append(parts, "server JA4S "+quote(c.JA4S)+within+"JA3S "+quote(c.JA3S))
	}
	return strings.Join(parts, between)
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
