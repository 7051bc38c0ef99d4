package reports

import (
	"fmt"
	"io"
	"strings"

	"tlspcap/diagnose"
)

func writeMarkdown(w io.Writer, r *diagnose.Report, o Options) error {
	fmt.Fprintf(w, "## tlspcap report: `%s`\n\n", codeSafe(r.Capture.File))
	fmt.Fprintf(w, "%d frames, %d TCP connections, device profile `%s`", r.Capture.Frames, r.Len(), r.Profile)
	if r.ProfileReason != "" {
		fmt.Fprintf(w, " (%s)", mdSafe(r.ProfileReason))
	}
	fmt.Fprintf(w, ".\n\n")
	for _, p := range r.Capture.Problems {
		fmt.Fprintf(w, "- capture: %s\n", mdSafe(p))
	}
	if len(r.Capture.Problems) > 0 {
		// A table right after a list item would be folded into it (GFM
		// continues the item's paragraph): a blank line ends the list.
		fmt.Fprintln(w)
	}
	if r.Len() > 0 {
		rows, rest := summaryRows(r, mdEscape)
		mdTable(w, summaryHeader, rows)
		if s := rest.String(); s != "" {
			fmt.Fprintf(w, "\n%s\n", s)
		}
	}
	for c := range r.All() {
		if !detailed(c, o) {
			continue
		}
		fmt.Fprintf(w, "\n### tcp.stream %d: %s → %s", c.Stream, mdSafe(c.Client), mdSafe(c.Server))
		if c.SNI != "" {
			fmt.Fprintf(w, " (SNI %s)", mdEscape(nameSafe(c.SNI)))
		}
		fmt.Fprintf(w, " — **%s**\n\n", c.Outcome)
		fmt.Fprintf(w, "Reached `%s`; ended: %s.\n\n", c.Stage, mdSafe(endingText(c.Ending)))
		if c.ClientLabel != "" && c.ClientLabel != "unknown" {
			fmt.Fprintf(w, "Client: %s.\n\n", mdSafe(c.ClientLabel))
		}
		if p := connProfileText(r, c); p != "" {
			fmt.Fprintf(w, "Profile: %s.\n\n", mdSafe(p))
		}
		if fp := fingerprintMarkdown(c); fp != "" {
			fmt.Fprintf(w, "Fingerprints: %s.\n\n", fp)
		}
		if len(c.Timeline) > 0 {
			var rows [][]string
			for _, s := range c.Timeline {
				t := ""
				if !c.Start.IsZero() {
					t = fmt.Sprintf("%.3f", s.Time.Sub(c.Start).Seconds())
				}
				rows = append(rows, []string{fmt.Sprint(s.Frame), t, s.From, mdSafe(s.What)})
			}
			mdTable(w, []string{"frame", "time (s)", "from", "what"}, rows)
			fmt.Fprintln(w)
		}
		listed := false
		for _, f := range c.Findings {
			if f.Severity == diagnose.SeverityInfo && !o.All {
				continue
			}
			writeFindingMarkdown(w, f)
			listed = true
		}
		if listed {
			fmt.Fprintln(w) // end the list: what follows is not part of its last item
		}
		if len(c.BrowserCertificates) > 0 {
			fmt.Fprintf(w, "Certificates: the device's view and the browser's\n\n")
			mdTable(w, []string{"#", "device got", "browser got", "same"}, chainRows(c, mdEscape))
			fmt.Fprintln(w)
		}
		if len(c.Certificates) > 0 {
			fmt.Fprintf(w, "<details><summary>Server certificates (%d)</summary>\n\n", len(c.Certificates))
			for i, ct := range c.Certificates {
				fmt.Fprintf(w, "%d. subject `%s`, issuer `%s`, valid %s to %s, %s %d bits, %d bytes, SHA-256 `%s`\n", i+1,
					codeEscape(nameSafe(ct.Subject)), codeEscape(nameSafe(ct.Issuer)), ct.NotBefore.Format("2006-01-02"), ct.NotAfter.Format("2006-01-02"),
					mdSafe(ct.KeyType), ct.KeyBits, ct.Size, codeSafe(ct.SHA256))
			}
			fmt.Fprintf(w, "\n</details>\n")
		}
	}
	if len(r.Findings) > 0 {
		fmt.Fprintf(w, "\n### Capture\n\n")
		for _, f := range r.Findings {
			writeFindingMarkdown(w, f)
		}
	}
	// One paragraph: the lines run on as the sentences they are.
	fmt.Fprintln(w)
	for _, l := range r.Summary().Lines() {
		fmt.Fprintln(w, mdSafe(l))
	}
	return nil
}

func writeFindingMarkdown(w io.Writer, f diagnose.Finding) {
	fmt.Fprintf(w, "- **%s** `%s`: %s (frames %s)\n", strings.ToUpper(string(f.Severity)), f.ID, mdSafe(f.Title), framesList(f.Frames))
	fmt.Fprintf(w, "  - %s\n", mdSafe(f.Explanation))
	if len(f.DeviceErrors) > 0 {
		fmt.Fprintf(w, "  - Device error: %s\n", mdSafe(errorCodes(f)))
	}
	if f.Fix != "" {
		fmt.Fprintf(w, "  - Fix: %s\n", mdSafe(f.Fix))
	}
	if f.WiresharkFilter != "" {
		fmt.Fprintf(w, "  - Wireshark: `%s`\n", codeSafe(f.WiresharkFilter))
	}
}

func mdTable(w io.Writer, header []string, rows [][]string) {
	fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(header, " | "), strings.Repeat(" --- |", len(header)))
	for _, r := range rows {
		for i, c := range r {
			if c == "" {
				r[i] = " "
			}
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(r, " | "))
	}
}
