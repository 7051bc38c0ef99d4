package reports

import (
	"fmt"
	"io"

	"tlspcap/diagnose"
)

// certsDoc is the JSON shape of `tlspcap certs --format json`.
type certsDoc struct {
	Schema      int         `json:"schema"`
	Connections []certsConn `json:"connections"`
}

type certsConn struct {
	Stream       int                    `json:"tcp_stream"`
	Server       string                 `json:"server"`
	SNI          string                 `json:"sni"`
	Certificates []diagnose.Certificate `json:"certificates"`
}

// WriteCerts lists the server certificate chain of every connection that
// showed one.
func WriteCerts(w io.Writer, r *diagnose.Report, f Format) error {
	doc := certsDoc{Schema: diagnose.Schema, Connections: []certsConn{}}
	for c := range r.All() {
		if len(c.Certificates) > 0 {
			doc.Connections = append(doc.Connections, certsConn{c.Stream, c.Server, c.SNI, c.Certificates})
		}
	}
	if err := r.Err(); err != nil {
		return err
	}
	if f == JSON {
		return writeJSON(w, doc)
	}
	md := f == Markdown
	for _, c := range doc.Connections {
		total := 0
		for _, ct := range c.Certificates {
			total += ct.Size
		}
		head := fmt.Sprintf("tcp.stream %d  %s  SNI %s  (%d certificates, %d bytes)", c.Stream, termSafe(c.Server), nameSafe(c.SNI), len(c.Certificates), total)
		if md {
			head = "### " + mdEscape(head) + "\n"
		}
		fmt.Fprintln(w, head)
		for i, ct := range c.Certificates {
			// v is already through nameSafe or termSafe; mdSafe adds
			// Markdown's escapes.
			line := func(k, v string) {
				if md {
					fmt.Fprintf(w, "- %s: %s\n", k, mdEscape(v))
				} else {
					fmt.Fprintf(w, "    %-20s %s\n", k+":", v)
				}
			}
			if md {
				fmt.Fprintf(w, "Certificate #%d:\n\n", i)
			} else {
				fmt.Fprintf(w, "  #%d\n", i)
			}
			if ct.ParseError != "" {
				line("parse error", termSafe(ct.ParseError))
				line("size", fmt.Sprintf("%d bytes", ct.Size))
			} else {
				line("subject", nameSafe(ct.Subject))
				line("issuer", nameSafe(ct.Issuer))
				if len(ct.SANs) > 0 {
					line("SANs", namesSafe(ct.SANs))
				}
				line("valid", ct.NotBefore.Format("2006-01-02 15:04:05Z")+" to "+ct.NotAfter.Format("2006-01-02 15:04:05Z"))
				line("key", fmt.Sprintf("%s %d bits", termSafe(ct.KeyType), ct.KeyBits))
				line("signature", termSafe(ct.SignatureAlgorithm))
				line("SHA-256", termSafe(ct.SHA256))
				line("size", fmt.Sprintf("%d bytes", ct.Size))
				if len(ct.AIA) > 0 {
					line("AIA (CA issuers)", namesSafe(ct.AIA))
				}
				if len(ct.CRL) > 0 {
					line("CRL", namesSafe(ct.CRL))
				}
			}
			if md {
				fmt.Fprintln(w)
			}
		}
		if !md {
			fmt.Fprintln(w)
		}
	}
	if len(doc.Connections) == 0 {
		fmt.Fprintln(w, "No certificates in clear text in this capture (TLS 1.3 certificates are encrypted).")
	}
	return nil
}
