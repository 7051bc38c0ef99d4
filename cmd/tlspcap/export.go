package main

import (
	"fmt"
	"io"
	"iter"
	"net/netip"

	"tlspcap/capture"
	"tlspcap/diagnose"
)

// connEnds is a connection's two endpoints, in a fixed order.
type connEnds struct{ a, b netip.AddrPort }

func endsOf(c *diagnose.Connection) (cl, sv netip.AddrPort, k connEnds, ok bool) {
	cl, err1 := netip.ParseAddrPort(c.Client)
	sv, err2 := netip.ParseAddrPort(c.Server)
	k = connEnds{cl, sv}
	if cl.Compare(sv) > 0 {
		k = connEnds{sv, cl}
	}
	return cl, sv, k, err1 == nil && err2 == nil
}

// connStarts is, per pair of endpoints, the first frames of their
// connections: where a reused port's next connection begins.
func connStarts(conns iter.Seq[*diagnose.Connection]) map[connEnds][]int {
	starts := map[connEnds][]int{}
	for c := range conns {
		if _, _, k, ok := endsOf(c); ok {
			starts[k] = append(starts[k], c.FirstFrame)
		}
	}
	return starts
}

// exportSelection picks, from the whole report (starts: all connections,
// before --client narrowed it), the packets a bug ticket needs: every
// connection that failed (an error finding, as the exit code counts it),
// the DNS messages for its server name or address, and the frames of
// capture-level error findings (DNS failures). failed is the list the
// selection kept.
func exportSelection(starts map[connEnds][]int, failed iter.Seq[*diagnose.Connection], findings []diagnose.Finding) capture.ExportSelection {
	var sel capture.ExportSelection
	for c := range failed {
		if !c.Failed() {
			continue
		}
		cl, sv, k, ok := endsOf(c)
		if !ok {
			continue
		}
		ec := capture.ExportConn{Client: cl, Server: sv, First: c.FirstFrame}
		// Port reuse: the next connection between the same endpoints
		// starts where this one's packets end.
		for _, f := range starts[k] {
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
func exportFailing(stderr io.Writer, in, out string, starts map[connEnds][]int, rep *diagnose.Report) error {
	sel := exportSelection(starts, rep.All(), rep.Findings)
	fh, err := createAtomic(out)
	if err != nil {
		return fmt.Errorf("--export-failing %s: %v", out, err)
	}
	res, err := capture.Export(in, fh, sel)
	if err != nil {
		fh.Abort() // an older file of that name stays as it was
		return fmt.Errorf("--export-failing: %v", err)
	}
	if err := fh.Commit(); err != nil {
		return fmt.Errorf("--export-failing %s: %v", out, unwrapPathError(err))
	}
	fmt.Fprintf(stderr, "%s: wrote %d of %d packets (%d failing connections and their DNS) to %s\n",
		programName, len(res.Frames), res.Read, len(sel.Conns), out)
	return nil
}

// checkExport refuses what --export-failing cannot do, before the
// analysis: it reads the input a second time, so the input must be a file
// (that it is not also the output, checkOutputs says).
func checkExport(in, out string) error {
	if out == "" {
		return nil
	}
	if in == "-" {
		return usageError{fmt.Errorf("--export-failing needs a capture file: it reads the input a second time to copy the packets, which a stream on stdin cannot give; save the stream first (tcpdump -w FILE), then analyze the file")}
	}
	return nil
}
