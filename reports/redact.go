package reports

import (
	"net/netip"

	"tlspcap/diagnose"
	"tlspcap/diagnose/values"
)

// Redact returns a copy of r fit to paste into a public bug ticket, for a
// report analysed with v as diagnose.Options.Values (--redact): the text
// of its findings and its certificate rows already name pseudonyms, and
// Redact passes each connection's client and server address and SNI
// through the same v, so a value gets the same pseudonym in the table, the
// findings and the certificate rows. The connections are named once, in
// report order, before any is rendered: every format shows the same
// pseudonyms. Ports, frames, times, sizes, versions, cipher suites, JA3/JA4
// and error codes stay. r is not changed.
func Redact(r *diagnose.Report, v values.Formatter) *diagnose.Report {
	out := *r
	if r.Connections != nil {
		out.Connections = make([]*diagnose.Connection, len(r.Connections))
		for i, c := range r.Connections {
			out.Connections[i] = redactConn(c, v)
		}
		return &out
	}
	// Past diagnose.SpillAfter: name them in report order now, then again
	// as each is read back for rendering (the same names by then).
	for c := range r.All() {
		redactConn(c, v)
	}
	return r.Derived(&out, func(c *diagnose.Connection) *diagnose.Connection { return redactConn(c, v) })
}

// redactConn is c with its addresses and SNI passed through v.
func redactConn(c *diagnose.Connection, v values.Formatter) *diagnose.Connection {
	rc := *c
	rc.Client, rc.Server = addrPort(c.Client, v), addrPort(c.Server, v)
	rc.SNI = v.Host(c.SNI)
	return &rc
}

func addrPort(s string, v values.Formatter) string {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return v.AddrPort(ap)
	}
	if s == "" {
		return s
	}
	return v.Attr(s)
}
