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
	for _, c := range doc.Connections {
		fmt.Fprintf(w, "tcp.stream %d  %s → %s", c.Stream, termSafe(c.Client), termSafe(c.Server))
		if c.SNI != "" {
			fmt.Fprintf(w, "  SNI %s", termSafe(c.SNI))
		}
		fmt.Fprintf(w, "  (%d records)\n", len(c.Records))
		if fp := fingerprintText(&diagnose.Connection{JA3: c.JA3, JA4: c.JA4, JA3S: c.JA3S, JA4S: c.JA4S}); fp != "" {
			fmt.Fprintf(w, "  %s\n", fp)
		}
		if len(c.Records) == 0 {
			fmt.Fprintln(w)
			continue
		}
		t := tablewriter.NewTable(w,
			tablewriter.WithHeader([]string{"frames", "time", "from", "type", "version", "length", "handshake", "notes"}),
			tablewriter.WithMaxWidth(width(o)),
			tablewriter.WithRowAutoWrap(tw.WrapNormal),
			tablewriter.WithHeaderAutoFormat(tw.Off),
		)
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
			if err := t.Append([]string{framesRange(rec.Frames), rec.Time.Format("15:04:05.000000"), rec.From, rec.Type, rec.Version,
				fmt.Sprint(rec.Length), strings.Join(rec.Handshakes, ", "), strings.Join(notes, ", ")}); err != nil {
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
