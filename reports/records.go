package reports

import (
	"fmt"
	"io"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"tlspcap/diagnose"
)

// recordsDoc is the JSON shape of `tlspcap records --format json`.
type recordsDoc struct {
	Schema      int           `json:"schema"`
	Connections []recordsConn `json:"connections"`
}

type recordsConn struct {
	Stream  int                  `json:"tcp_stream"`
	Client  string               `json:"client"`
	Server  string               `json:"server"`
	SNI     string               `json:"sni"`
	Records []diagnose.RecordRow `json:"records"`

	// Fingerprints of the hellos, as in the analyze report.
	JA3  string `json:"ja3,omitempty"`
	JA4  string `json:"ja4,omitempty"`
	JA3S string `json:"ja3s,omitempty"`
	JA4S string `json:"ja4s,omitempty"`
}

// WriteRecords renders every record of every connection (`tlspcap records`).
func WriteRecords(w io.Writer, r *diagnose.Report, f Format, o Options) error {
	doc := recordsDoc{Schema: diagnose.Schema, Connections: []recordsConn{}}
	for c := range r.All() {
		rs := c.Records
		if rs == nil {
			rs = []diagnose.RecordRow{}
		}
		doc.Connections = append(doc.Connections, recordsConn{Stream: c.Stream, Client: c.Client, Server: c.Server, SNI: c.SNI, Records: rs,
			JA3: c.JA3, JA4: c.JA4, JA3S: c.JA3S, JA4S: c.JA4S})
	}
	if err := r.Err(); err != nil {
		return err
	}
	if f == JSON {
		return writeJSON(w, doc)
	}
	md := f == Markdown
	for _, c := range doc.Connections {
		head := fmt.Sprintf("tcp.stream %d  %s → %s", c.Stream, termSafe(c.Client), termSafe(c.Server))
		if c.SNI != "" {
			head += "  SNI " + nameSafe(c.SNI)
		}
		head += fmt.Sprintf("  (%d records)", len(c.Records))
		fp := fingerprintText(&diagnose.Connection{JA3: c.JA3, JA4: c.JA4, JA3S: c.JA3S, JA4S: c.JA4S})
		if md {
			fmt.Fprintf(w, "### %s\n\n", mdEscape(head))
			if fp := fingerprintMarkdown(&diagnose.Connection{JA3: c.JA3, JA4: c.JA4, JA3S: c.JA3S, JA4S: c.JA4S}); fp != "" {
				fmt.Fprintf(w, "Fingerprints: %s.\n\n", fp)
			}
		} else {
			fmt.Fprintln(w, head)
			if fp != "" {
				fmt.Fprintf(w, "  %s\n", fp)
			}
		}
		if len(c.Records) == 0 {
			fmt.Fprintln(w)
			continue
		}
		safe := termSafe
		if md {
			safe = mdSafe
		}
		rows := make([][]string, 0, len(c.Records))
		for _, rec := range c.Records {
			var notes []string
			if rec.Encrypted {
				notes = append(notes, "encrypted")
			}
			if rec.Truncated {
				notes = append(notes, "truncated")
			}
			if rec.Note != "" {
				notes = append(notes, rec.Note)
			}
			rows = append(rows, []string{framesRange(rec.Frames), rec.Time.Format("15:04:05.000000"), safe(rec.From), safe(rec.Type), safe(rec.Version),
				fmt.Sprint(rec.Length), safe(strings.Join(rec.Handshakes, ", ")), safe(strings.Join(notes, ", "))})
		}
		if md {
			mdTable(w, recordsHeader, rows)
			fmt.Fprintln(w)
			continue
		}
		t := tablewriter.NewTable(w,
			tablewriter.WithHeader(recordsHeader),
			tablewriter.WithMaxWidth(width(o)),
			tablewriter.WithRowAutoWrap(tw.WrapNormal),
			tablewriter.WithHeaderAutoFormat(tw.Off),
		)
		for _, row := range rows {
			if err := t.Append(row); err != nil {
				return err
			}
		}
		if err := t.Render(); err != nil {
			return err
		}
		fmt.Fprintln(w)
	}
	return nil
}

var recordsHeader = []string{"frames", "time", "from", "type", "version", "length", "handshake", "notes"}

// framesRange shows "6" or "6-9" or "6,8".
func framesRange(fs []int) string {
	switch {
	case len(fs) == 0:
		return ""
	case len(fs) == 1:
		return fmt.Sprint(fs[0])
	case fs[len(fs)-1]-fs[0] == len(fs)-1:
		return fmt.Sprintf("%d-%d", fs[0], fs[len(fs)-1])
	}
	return framesList(fs)
}
