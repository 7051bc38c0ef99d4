package reports

import (
	"net"
	"net/netip"
	"strings"

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
	out.Nothing = redactNothing(r.Nothing, v)
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

// redactNothing is n with the selection's value and the clients it lists
// passed through v (their MAC's vendor prefix stays: Espressif is the point).
func redactNothing(n *diagnose.Nothing, v values.Formatter) *diagnose.Nothing {
	if n == nil {
		return nil
	}
	rn := *n
	rn.Value = selection(n.Value, v)
	rn.Clients = make([]diagnose.SeenClient, len(n.Clients))
	for i, c := range n.Clients {
		c.Address = selection(c.Address, v)
		c.MAC = selection(c.MAC, v)
		rn.Clients[i] = c
	}
	rn.Fingerprints = make([]string, len(n.Fingerprints))
	for i, f := range n.Fingerprints {
		rn.Fingerprints[i] = v.Fingerprint(f)
	}
	return &rn
}

// selection is an address, MAC or fingerprint spec the user or the
// capture named, through v.
func selection(s string, v values.Formatter) string {
	if a, err := netip.ParseAddr(s); err == nil {
		return v.Addr(a)
	}
	if m, err := net.ParseMAC(s); err == nil {
		return v.MAC(m)
	}
	if k, fp, ok := strings.Cut(s, "="); ok {
		return k + "=" + v.Fingerprint(fp)
	}
	return addrPort(s, v)
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
