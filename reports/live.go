package reports

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"tlspcap/diagnose"
)

// LiveStats is what a live capture adds to the summary.
type LiveStats struct {
	// KernelPackets passed the filter and KernelDrops were dropped by the
	// kernel (ring full); KernelDrops is -1 when the source does not say
	// (a stream on stdin).
	KernelPackets, KernelDrops int64
	// Files are the pcapng files the packets went to, in order (several
	// with --rotate).
	Files []string
}

// WriteConnection renders one connection as it is decided during a live
// capture: one line for a healthy connection, the full block of findings
// for a failing one (text); one JSON object per line (json).
func WriteConnection(w io.Writer, c *diagnose.Connection, f Format, o Options) error {
	if f == JSON {
		return writeJSONLine(w, struct {
			Connection *diagnose.Connection `json:"connection"`
		}{c})
	}
	failing := c.Failed() || c.Outcome == diagnose.OutcomeNotTLS
	if !failing {
		line := fmt.Sprintf("%s tcp.stream %d  %s → %s", paint(o, outcomeColor(c.Outcome), string(c.Outcome)), c.Stream, termSafe(c.Client), termSafe(c.Server))
		if c.SNI != "" {
			line += "  SNI " + nameSafe(c.SNI)
		}
		if c.Version != "" {
			line += "  " + c.Version
		}
		line += fmt.Sprintf("  reached %s; ended: %s", c.Stage, endingText(c.Ending))
		_, err := fmt.Fprintln(w, line)
		if err == nil && o.All {
			for _, fd := range c.Findings {
				writeFindingText(w, fd, o)
			}
		}
		return err
	}
	fmt.Fprintf(w, "\n%s tcp.stream %d  %s → %s", paint(o, ansiBold, "■"), c.Stream, termSafe(c.Client), termSafe(c.Server))
	if c.SNI != "" {
		fmt.Fprintf(w, "  SNI %s", nameSafe(c.SNI))
	}
	fmt.Fprintf(w, "  %s\n", paint(o, outcomeColor(c.Outcome), string(c.Outcome)))
	fmt.Fprintf(w, "  reached %s; ended: %s\n", c.Stage, endingText(c.Ending))
	if c.JA4 != "" {
		fmt.Fprintf(w, "  client JA4 %s  JA3 %s\n", c.JA4, c.JA3)
	}
	for _, fd := range c.Findings {
		if fd.Severity == diagnose.SeverityInfo && !o.All {
			continue
		}
		writeFindingText(w, fd, o)
	}
	_, err := fmt.Fprintln(w)
	return err
}

// WriteLiveSummary renders the end of a live capture: the connection
// table, the findings on the capture, the failure count (text); one JSON
// object with the whole report (json).
func WriteLiveSummary(w io.Writer, r *diagnose.Report, ls LiveStats, f Format, o Options) error {
	if f == JSON {
		return writeLiveSummaryJSON(w, r, ls)
	}
	fmt.Fprintf(w, "\n%s summary: %s: %d frames, %d TCP connections, profile %s\n", paint(o, ansiBold, "■"), termSafe(r.Capture.File), r.Capture.Frames, r.Len(), r.Profile)
	switch {
	case ls.KernelDrops == 0:
		fmt.Fprintf(w, "  kernel: %d packets passed the filter, none dropped\n", ls.KernelPackets)
	case ls.KernelDrops > 0:
		fmt.Fprintf(w, "  kernel: %s: %d packets dropped (ring full) of %d that passed the filter; connections open then may miss packets. Narrow the filter (host DEVICE_IP) or raise --buffer (e.g. 64MiB)\n",
			paint(o, ansiRed, "packets lost"), ls.KernelDrops, ls.KernelPackets)
	}
	switch len(ls.Files) {
	case 0:
	case 1:
		fmt.Fprintf(w, "  written to %s\n", termSafe(ls.Files[0]))
	default:
		names := make([]string, len(ls.Files))
		for i, f := range ls.Files {
			names[i] = termSafe(f)
		}
		fmt.Fprintf(w, "  written to %d files, in order: %s\n", len(names), strings.Join(names, " "))
	}
	for _, p := range r.Capture.Problems {
		fmt.Fprintf(w, "  capture: %s\n", termSafe(p))
	}
	if err := writeSummaryTable(w, r, o); err != nil {
		return err
	}
	return writeCaptureAndTotal(w, r, o)
}

func dropsPtr(n int64) *int64 {
	if n < 0 {
		return nil
	}
	return &n
}

// writeLiveSummaryJSON is the summary line of live --format json:
// {"summary": the analyze report, then the kernel's counts and the files}.
func writeLiveSummaryJSON(w io.Writer, r *diagnose.Report, ls LiveStats) error {
	var written string
	if len(ls.Files) > 0 {
		written = ls.Files[0]
	}
	var received *int64
	if ls.KernelDrops >= 0 {
		received = &ls.KernelPackets
	}
	tail, err := newJSONEncoder().encode(struct {
		KernelPackets *int64   `json:"kernel_packets,omitempty"`
		KernelDrops   *int64   `json:"kernel_drops,omitempty"`
		Written       string   `json:"written,omitempty"`
		Files         []string `json:"files,omitempty"`
	}{received, dropsPtr(ls.KernelDrops), written, ls.Files}, "", "")
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	bw.WriteString(`{"summary":`)
	if err := streamReportJSON(bw, r, false); err != nil {
		return err
	}
	if len(tail) > 2 { // more than {}
		bw.WriteString(",")
		bw.Write(tail[1:])
	} else {
		bw.WriteString("}")
	}
	bw.WriteString("\n")
	if err := bw.Flush(); err != nil {
		return err
	}
	return r.Err()
}
