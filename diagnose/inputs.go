package diagnose

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"tlspcap/diagnose/catalog"
	"tlspcap/diagnose/values"
)

// inputUse counts what the key log and the browser chain were good for,
// so a report on a key log of another run does not pass in silence.
// Touched where connections are decided (one goroutine at a time), read
// by Report after drain.
type inputUse struct {
	// Key log lines: those read from --keylog (not blank, not comments),
	// those of them taken as secrets, and those taken from the capture's
	// Decryption Secrets Blocks.
	keyLinesRead, keyLines, dsbLines int
	// TLS connections (a ClientHello seen) and those whose client random
	// the key log holds.
	tlsConns, keyMatched int
	// Connections that showed a server certificate, and those compared
	// with the browser's chain.
	certConns, browserCompared int
}

// note counts one decided connection.
func (a *Analyzer) noteInputs(c *conn, r *Connection) {
	u := &a.inputs
	if ch, ok := clientHello(c); ok {
		u.tlsConns++
		if a.keys.Lookup(ch.Random) != nil {
			u.keyMatched++
		}
	}
	if len(r.Certificates) > 0 {
		u.certConns++
		if len(r.BrowserCertificates) > 0 {
			u.browserCompared++
		}
	}
}

// keyLogMissed: a key log was given or embedded, but holds no secrets for
// this connection's ClientHello.
func (x *ruleRun) keyLogMissed() bool {
	ch, ok := clientHello(x.conn)
	return ok && x.an.keys.Len() > 0 && x.an.keys.Lookup(ch.Random) == nil
}

// keyLogAdvice starts the fix of a finding the keys would settle.
func (x *ruleRun) keyLogAdvice() string {
	if x.keyLogMissed() {
		return "The key log given holds no secrets for this connection's ClientHello: it is likely from another run (each handshake has its own client random). " +
			"Give the key log written during this capture (--keylog FILE, or keys injected into the pcapng with editcap --inject-secrets)"
	}
	return "Capture again with a key log (--keylog FILE, or keys injected into the pcapng with editcap --inject-secrets)"
}

// countKeyLogLines counts the lines of key log text that could hold a
// secret: not blank, not a comment.
func countKeyLogLines(b []byte) int {
	n := 0
	for line := range bytes.Lines(b) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			n++
		}
	}
	return n
}

// inputFindings say, on the capture, what the key log and the browser
// chain matched: info when they served, a warning when they matched
// nothing.
func (a *Analyzer) inputFindings() []Finding {
	var out []Finding
	u := a.inputs
	if len(a.opts.KeyLog) > 0 || u.dsbLines > 0 {
		var from []string
		if len(a.opts.KeyLog) > 0 {
			from = append(from, fmt.Sprintf("%s read from --keylog, %d of them key-log lines", plural(u.keyLinesRead, "line", "lines"), u.keyLines))
		}
		if u.dsbLines > 0 {
			from = append(from, fmt.Sprintf("%s from the capture's Decryption Secrets Blocks", plural(u.dsbLines, "key-log line", "key-log lines")))
		}
		f := Finding{ID: catalog.KeyLog, Severity: SeverityInfo, Frames: []int{}, DeviceErrors: []DeviceError{},
			Title: fmt.Sprintf("Key log: %s, %s, matched %d of %s", plural(u.keyLines+u.dsbLines, "line", "lines"),
				plural(a.keys.Len(), "client random", "client randoms"), u.keyMatched, plural(u.tlsConns, "TLS connection", "TLS connections")),
			Explanation: fmt.Sprintf("%s: secrets for %s. %d of the %s (a ClientHello seen) have their client random in it and can be decrypted.",
				capitalize(strings.Join(from, "; ")), plural(a.keys.Len(), "client random", "client randoms"), u.keyMatched, plural(u.tlsConns, "TLS connection", "TLS connections")),
			WiresharkFilter: "tls.handshake.type == 1"}
		switch {
		case u.keyLines+u.dsbLines == 0:
			f.Severity = SeverityWarning
			f.Title = fmt.Sprintf("Key log: no key-log line in the %s read from --keylog", plural(u.keyLinesRead, "line", "lines"))
			f.Explanation = "Nothing in the file is in the NSS key log format (SSLKEYLOGFILE: CLIENT_RANDOM, CLIENT_HANDSHAKE_TRAFFIC_SECRET, SERVER_HANDSHAKE_TRAFFIC_SECRET, ... " +
				"each followed by 64 hex digits of client random and the secret in hex), so nothing was decrypted."
			f.Fix = "Give the file the TLS stack wrote as its key log (SSLKEYLOGFILE, ssl_client2 nss_keylog_file=, mbedtls_ssl_set_export_keys_cb), not a capture or a PEM file."
		case u.keyMatched == 0 && u.tlsConns > 0:
			f.Severity = SeverityWarning
			f.Title = fmt.Sprintf("Key log: %s, matched none of the %s", plural(a.keys.Len(), "client random", "client randoms"), plural(u.tlsConns, "TLS connection", "TLS connections"))
			f.Explanation += " Every handshake has its own client random: a key log of another run (an earlier boot of the device, another test) holds none of this capture's."
			f.Fix = "Give the key log written during this capture; check that the capture and the key log come from the same run (their times)."
		}
		out = append(out, f)
	}
	if len(a.opts.BrowserChain) > 0 {
		f := Finding{ID: catalog.BrowserChain, Severity: SeverityInfo, Frames: []int{}, DeviceErrors: []DeviceError{},
			Title:       fmt.Sprintf("Browser chain: compared on %d of %s", u.browserCompared, plural(u.certConns, "connection with a server certificate", "connections with a server certificate")),
			Explanation: fmt.Sprintf("--browser-chain was set beside the chain of %d of the %s.", u.browserCompared, plural(u.certConns, "connection that showed a server certificate", "connections that showed a server certificate")),
		}
		if u.browserCompared == 0 {
			f.Severity = SeverityWarning
			f.Title = "Browser chain: matched no connection"
			switch {
			case u.certConns == 0:
				f.Explanation = "No connection in the capture shows the server's certificate (no handshake got that far, or TLS 1.3 without a key log), so there is nothing to compare the browser's chain with."
			default:
				f.Explanation = fmt.Sprintf("The browser's capture holds chains for %s; none of the %s here has that server name (SNI) or server address.",
					browserServers(a.ctx.browserBy, a.opts.Values), plural(u.certConns, "connection that showed a certificate", "connections that showed a certificate"))
			}
			f.Fix = "Give the browser's chain of the same server the device connects to (the same host name)."
		}
		out = append(out, f)
	}
	return out
}

// browserServers lists the server names, else addresses, a browser's
// capture holds chains for.
func browserServers(by map[string][]*x509.Certificate, v values.Formatter) string {
	var names, addrs []string
	for k := range by {
		if n, ok := strings.CutPrefix(k, "sni:"); ok {
			names = append(names, v.Host(n))
		} else if n, ok := strings.CutPrefix(k, "ip:"); ok {
			if a, err := netip.ParseAddr(n); err == nil {
				n = v.Addr(a)
			}
			addrs = append(addrs, n)
		}
	}
	slices.Sort(names)
	slices.Sort(addrs)
	all := append(names, addrs...)
	if len(all) > 5 {
		return strings.Join(all[:5], ", ") + fmt.Sprintf(" and %d more", len(all)-5)
	}
	return strings.Join(all, ", ")
}
