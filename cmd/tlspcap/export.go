package main

import (
	"fmt"
	"io"
	"net/netip"
	"os"

	"tlspcap/capture"
	"tlspcap/diagnose"
)

// exportSelection picks, from the whole report (all connections, before
// --client narrowed it), the packets a bug ticket needs: every connection
// that failed (an error finding, as the exit code counts it), the DNS
// messages for its server name or address, and the frames of capture-level
// error findings (DNS failures). failed is the list the selection kept.
func exportSelection(all []*diagnose.Connection, failed []*diagnose.Connection, findings []diagnose.Finding) capture.ExportSelection {
	var sel capture.ExportSelection
	type ends struct{ a, b netip.AddrPort }
	key := func(c, s netip.AddrPort) ends {
		if c.Compare(s) > 0 {
			c, s = s, c
		}
		return ends{c, s}
	}
	starts := map[ends][]int{}
	parse := func(c *diagnose.Connection) (netip.AddrPort, netip.AddrPort, bool) {
		cl, err1 := netip.ParseAddrPort(c.Client)
		sv, err2 := netip.ParseAddrPort(c.Server)
		return cl, sv, err1 == nil && err2 == nil
	}
	for _, c := range all {
		if cl, sv, ok := parse(c); ok {
			k := key(cl, sv)
			starts[k] = append(starts[k], c.FirstFrame)
		}
	}
	for _, c := range failed {
		if !c.Failed() {
			continue
		}
		cl, sv, ok := parse(c)
		if !ok {
			continue
		}
		ec := capture.ExportConn{Client: cl, Server: sv, First: c.FirstFrame}
		// Port reuse: the next connection between the same endpoints
		// starts where this one's packets end.
		for _, f := range starts[key(cl, sv)] {
			if f > c.FirstFrame && (ec.Next == 0 || f < ec.Next) {
				ec.Next = f
			}
		}
		sel.Conns = append(sel.Conns, ec)
		if c.SNI != "" {
			sel.DNSNames = append(sel.DNSNames, c.SNI)
		}
		sel.DNSAddrs = append(sel.DNSAddrs, sv.Addr())
	}
	for _, f := range findings {
		if f.Severity == diagnose.SeverityError {
			sel.Frames = append(sel.Frames, f.Frames...)
		}
	}
	return sel
}

// exportFailing writes the failing connections' packets to out and says
// on stderr what it wrote.
func exportFailing(stderr io.Writer, in, out string, all []*diagnose.Connection, rep *diagnose.Report) error {
	sel := exportSelection(all, rep.Connections, rep.Findings)
	fh, err := os.Create(out)
	if err != nil {
		return fmt.Errorf("--export-failing: %v", unwrapPathError(err))
	}
	res, err := capture.Export(in, fh, sel)
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out)
		return fmt.Errorf("--export-failing: %v", err)
	}
	fmt.Fprintf(stderr, "%s: wrote %d of %d packets (%d failing connections and their DNS) to %s\n",
		programName, len(res.Frames), res.Read, len(sel.Conns), out)
	return nil
}

// checkExport refuses what --export-failing cannot do, before the
// analysis: it reads the input a second time, so the input must be a file.
func checkExport(in, out string) error {
	if out == "" {
		return nil
	}
	if in == "-" {
		return usageError{fmt.Errorf("--export-failing needs a capture file: it reads the input a second time to copy the packets, which a stream on stdin cannot give; save the stream first (tcpdump -w FILE), then analyze the file")}
	}
	if a, err := os.Stat(in); err == nil {
		if b, err := os.Stat(out); err == nil && os.SameFile(a, b) {
			return usageError{fmt.Errorf("--export-failing %s: that is the input file; give another name", out)}
		}
	}
	return nil
}
