package reports

import (
	"fmt"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"tlspcap/diagnose"
)

const (
	ansiRed    = "\x1b[31m"
	ansiYellow = "\x1b[33m"
	ansiGreen  = "\x1b[32m"
	ansiBold   = "\x1b[1m"
	ansiReset  = "\x1b[0m"
)

func paint(o Options, code, s string) string {
	if !o.Color {
		return s
	}
	return code + s + ansiReset
}

func sevColor(s diagnose.Severity) string {
	switch s {
	case diagnose.SeverityError:
		return ansiRed
	case diagnose.SeverityWarning:
		return ansiYellow
	}
	return ""
}

func outcomeColor(o diagnose.Outcome) string {
	switch o {
	case diagnose.OutcomeOK:
		return ansiGreen
	case diagnose.OutcomeFailed, diagnose.OutcomeNotTLS:
		return ansiRed
	}
	return ansiYellow
}

func width(o Options) int {
	if o.Width <= 20 {
		return 100
	}
	return o.Width
}

// maxTableRows bounds the summary table of the human formats: a table of
// a SYN flood's million rows helps nobody and would be held whole to lay it
// out. The rest are counted below it (unlisted); JSON lists every one.
const maxTableRows = 5000

// unlisted counts the connections past maxTableRows, by outcome.
type unlisted struct {
	n         int
	byOutcome map[diagnose.Outcome]int
}

func (u *unlisted) add(c *diagnose.Connection) {
	if u.byOutcome == nil {
		u.byOutcome = map[diagnose.Outcome]int{}
	}
	u.n++
	u.byOutcome[c.Outcome]++
}

// String is the line under a capped table ("" when nothing was left out).
func (u unlisted) String() string {
	if u.n == 0 {
		return ""
	}
	var parts []string
	for _, o := range []diagnose.Outcome{diagnose.OutcomeFailed, diagnose.OutcomeNotTLS, diagnose.OutcomeIncomplete, diagnose.OutcomeOK} {
		if k := u.byOutcome[o]; k > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", k, o))
		}
	}
	return fmt.Sprintf("%s not listed in this table (the first %d are): %s; --format json lists every connection.",
		capitalize(plural(u.n, "more connection", "more connections")), maxTableRows, strings.Join(parts, ", "))
}

// summaryRows is the connection table shared by text and Markdown: its
// first maxTableRows rows and what is left out; esc is the format's own
// escaping (plain, mdEscape).
func summaryRows(r *diagnose.Report, esc func(string) string) ([][]string, unlisted) {
	var rows [][]string
	var rest unlisted
	for c := range r.All() {
		if len(rows) == maxTableRows {
			rest.add(c)
			continue
		}
		cause := ""
		for _, f := range c.Findings {
			if f.Severity == diagnose.SeverityError {
				cause = string(f.ID)
				break
			}
		}
		rows = append(rows, []string{
			fmt.Sprint(c.Stream), esc(termSafe(c.Client)), esc(termSafe(c.Server)), esc(cellSafe(c.SNI)), esc(termSafe(c.Version)),
			string(c.Stage), string(c.Outcome), cause,
		})
	}
	return rows, rest
}

var summaryHeader = []string{"stream", "client", "server", "SNI", "version", "stage", "outcome", "root cause"}

func writeText(w io.Writer, r *diagnose.Report, o Options) error {
	conns := fmt.Sprintf("%d TCP connections", r.Len())
	if r.Len() == 1 {
		conns = "1 TCP connection"
	}
	fmt.Fprintf(w, "%s: %d frames, %s, profile %s\n", termSafe(r.Capture.File), r.Capture.Frames, conns, profileText(r.Profile, r.ProfileReason))
	writePacketCounts(w, r.Capture)
	for _, p := range r.Capture.Problems {
		fmt.Fprintf(w, "  capture: %s\n", termSafe(p))
	}
	if err := writeSummaryTable(w, r, o); err != nil {
		return err
	}
	for c := range r.All() {
		if !detailed(c, o) {
			continue
		}
		fmt.Fprintf(w, "\n%s tcp.stream %d  %s → %s", paint(o, ansiBold, "■"), c.Stream, termSafe(c.Client), termSafe(c.Server))
		if c.SNI != "" {
			fmt.Fprintf(w, "  SNI %s", nameSafe(c.SNI))
		}
		fmt.Fprintf(w, "  %s\n", paint(o, outcomeColor(c.Outcome), string(c.Outcome)))
		fmt.Fprintf(w, "  reached %s; ended: %s\n", c.Stage, endingText(c.Ending))
		if c.ClientLabel != "" && c.ClientLabel != "unknown" {
			fmt.Fprintf(w, "  client: %s\n", termSafe(c.ClientLabel))
		}
		if p := connProfileText(r, c); p != "" {
			fmt.Fprintf(w, "  profile: %s\n", p)
		}
		if fp := fingerprintText(c); fp != "" {
			fmt.Fprintf(w, "  %s\n", fp)
		}
		for _, f := range c.Findings {
			if f.Severity == diagnose.SeverityInfo && !o.All {
				continue
			}
			writeFindingText(w, f, o)
		}
		if len(c.BrowserCertificates) > 0 {
			fmt.Fprintln(w, "\n  Certificates: the device's view and the browser's")
			t := tablewriter.NewTable(w, tablewriter.WithHeader([]string{"#", "device got", "browser got", "same"}),
				tablewriter.WithMaxWidth(width(o)), tablewriter.WithRowAutoWrap(tw.WrapNormal))
			for _, row := range chainRows(c, plain) {
				if err := t.Append(row); err != nil {
					return err
				}
			}
			if err := t.Render(); err != nil {
				return err
			}
		}
	}
	return writeCaptureAndTotal(w, r, o)
}

// writeSummaryTable is the connection table (analyze, and live's summary).
func writeSummaryTable(w io.Writer, r *diagnose.Report, o Options) error {
	if r.Len() == 0 {
		return nil
	}
	fmt.Fprintln(w)
	t := tablewriter.NewTable(w,
		tablewriter.WithHeader(summaryHeader),
		tablewriter.WithMaxWidth(width(o)),
		tablewriter.WithRowAutoWrap(tw.WrapNormal),
		tablewriter.WithHeaderAutoFormat(tw.Off),
	)
	rows, rest := summaryRows(r, plain)
	for _, row := range rows {
		if err := t.Append(row); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	if s := rest.String(); s != "" {
		fmt.Fprintln(w, s)
	}
	return nil
}

// writeCaptureAndTotal ends a text report: capture-level findings and the
// count of failed connections.
func writeCaptureAndTotal(w io.Writer, r *diagnose.Report, o Options) error {
	if len(r.Findings) > 0 {
		fmt.Fprintf(w, "\n%s capture\n", paint(o, ansiBold, "■"))
		for _, f := range r.Findings {
			writeFindingText(w, f, o)
		}
	}
	fmt.Fprintln(w)
	for _, l := range r.Summary().Lines() {
		if _, err := fmt.Fprintln(w, termSafe(l)); err != nil {
			return err
		}
	}
	return nil
}

func endingText(e diagnose.Ending) string {
	s := e.How
	if e.By != "" {
		s = e.By + " " + s
	}
	if e.Frame > 0 {
		s += fmt.Sprintf(" (frame %d)", e.Frame)
	}
	return s
}

func writeFindingText(w io.Writer, f diagnose.Finding, o Options) {
	wd := width(o) - 4
	fmt.Fprintf(w, "\n  %s %s  [%s] frames %s\n", paint(o, sevColor(f.Severity), strings.ToUpper(string(f.Severity))), f.ID, termSafe(f.Title), framesList(f.Frames))
	fmt.Fprint(w, indent(wrap(termSafe(f.Explanation), wd), "    "))
	if len(f.DeviceErrors) > 0 {
		fmt.Fprintln(w, "    Device error:")
		for _, e := range f.DeviceErrors {
			fmt.Fprintf(w, "      %s %s (%s)\n", e.Code, e.Name, e.Versions)
		}
	}
	if f.Fix != "" {
		fmt.Fprint(w, indent(wrap("Fix: "+termSafe(f.Fix), wd), "    "))
	}
	if f.WiresharkFilter != "" {
		fmt.Fprintf(w, "    Wireshark: %s\n", termSafe(f.WiresharkFilter))
	}
}

// wrap breaks text at spaces to the width.
func wrap(s string, width int) string {
	var b strings.Builder
	line := 0
	for i, word := range strings.Fields(s) {
		if i > 0 {
			if line+1+len(word) > width {
				b.WriteByte('\n')
				line = 0
			} else {
				b.WriteByte(' ')
				line++
			}
		}
		b.WriteString(word)
		line += len(word)
	}
	b.WriteByte('\n')
	return b.String()
}

func indent(s, pre string) string {
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		if l == "" {
			continue
		}
		b.WriteString(pre + l)
	}
	return b.String()
}

// chainRows sets the device's chain beside the browser's, position by
// position; esc is the format's own escaping.
func chainRows(c *diagnose.Connection, esc func(string) string) [][]string {
	n := max(len(c.Certificates), len(c.BrowserCertificates))
	cell := func(cs []diagnose.Certificate, i int) (string, string) {
		if i >= len(cs) {
			return "(none)", ""
		}
		fp := cs[i].SHA256
		if len(fp) > 16 {
			fp = fp[:16]
		}
		return esc(nameSafe(cs[i].Subject)) + " ← " + esc(nameSafe(cs[i].Issuer)) + " [" + fp + "]", cs[i].SHA256
	}
	var rows [][]string
	for i := 0; i < n; i++ {
		d, dfp := cell(c.Certificates, i)
		b, bfp := cell(c.BrowserCertificates, i)
		same := "no"
		if dfp != "" && dfp == bfp {
			same = "yes"
		}
		rows = append(rows, []string{fmt.Sprint(i), d, b, same})
	}
	return rows
}

// writePacketCounts accounts for every frame: analysed as TCP, something
// else, undecodable or a duplicate ignored.
func writePacketCounts(w io.Writer, c diagnose.CaptureInfo) {
	fmt.Fprintf(w, "  packets: %d TCP, %d other (UDP, ICMP, ARP, fragments)", c.TCPPackets, c.OtherPackets)
	if c.Undecodable > 0 {
		fmt.Fprintf(w, ", %d undecodable", c.Undecodable)
	}
	if c.Duplicates > 0 {
		fmt.Fprintf(w, ", %d duplicates ignored", c.Duplicates)
	}
	if c.TimeBackwards > 0 {
		fmt.Fprintf(w, ", %d with timestamps going backwards", c.TimeBackwards)
	}
	if c.FragmentConflicts > 0 {
		fmt.Fprintf(w, ", %d conflicting IPv4 fragments", c.FragmentConflicts)
	}
	if c.Undecodable+c.Duplicates+c.TimeBackwards+c.FragmentConflicts > 0 {
		fmt.Fprint(w, " (see the capture problems below)")
	}
	fmt.Fprintln(w)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
