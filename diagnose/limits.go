package diagnose

import (
	"errors"
	"fmt"

	"tlspcap/capture"
	"tlspcap/decode"
	"tlspcap/diagnose/catalog"
)

// tlspcap-limit: a bound tlspcap sets on what it keeps was hit, so part of
// the capture was counted but not read. One id for every such bound; the
// text names the bound, the frame and the numbers.

// maxOverBound bounds the over-bound messages kept per connection (each one
// a finding); the rest are counted in the last finding.
const maxOverBound = 8

// overBound reports whether a decoded message hit a bound of decode.
func overBound(h *decode.Handshake) bool {
	var le *decode.LimitError
	if errors.As(h.ParseErr, &le) {
		return true
	}
	c, ok := h.Body.(*decode.Certificate)
	return ok && c.Count > len(c.Entries)
}

// ruleOverBound: a handshake message larger than decode.MaxKeptMessage, a
// Certificate listing more than decode.MaxCertificates certificates, or
// more records than maxKeptRecords.
func ruleOverBound(x *ruleRun) []Finding {
	var out []Finding
	if l := x.tls.late; l != nil && l.dropped > 0 {
		total := x.tls.recordCount[0] + x.tls.recordCount[1]
		out = append(out, Finding{ID: catalog.TlspcapLimit, Severity: SeverityInfo, Frames: frames(l.first.Number),
			Title: fmt.Sprintf("This connection carried %d TLS records: tlspcap lists %d of them", total, len(x.tls.records)),
			Explanation: fmt.Sprintf("tlspcap keeps the first %d records of a connection for its rules, the timeline and `tlspcap records`. "+
				"From frame %d on it kept only the last %d of each direction and those its rules look for (a truncated record, one larger than all before it), "+
				"and counted the other %d: the diagnosis is complete, the records listing is not.",
				maxKeptRecords, l.first.Number, tailRecords, l.dropped),
			Fix: "Open the later records in Wireshark (the filter below).",
		})
	}
	for _, h := range x.tls.overBound {
		from := x.who(h.Dir)
		name := decode.HandshakeTypeName(h.Type)
		f := Finding{ID: catalog.TlspcapLimit, Severity: SeverityWarning, Frames: frames(first(h.Where))}
		var le *decode.LimitError
		if errors.As(h.ParseErr, &le) {
			f.Title = fmt.Sprintf("The %s's %s claims %d bytes, more than tlspcap's %d-byte limit: it was not read", from, name, le.Length, le.Limit)
			f.Explanation = fmt.Sprintf("The handshake header in frame %d announces a %s of %d bytes. tlspcap keeps handshake messages of up to %d bytes, "+
				"so it counted this one (%s) without parsing it: what the message holds (certificates, extensions) is not in this report. "+
				"The records after it were decoded. No TLS stack takes a message this large: mbedTLS needs a handshake message to fit its input buffer "+
				"(CONFIG_MBEDTLS_SSL_IN_CONTENT_LEN, at most 16384 bytes).",
				first(h.Where), name, le.Length, le.Limit, plural(h.Records, "record", "records"))
			f.Fix = fmt.Sprintf("Look at what the %s sends in Wireshark (the filter opens it): a message of this size is a broken or hostile peer, or bytes that are not a handshake.", from)
		} else {
			c := h.Body.(*decode.Certificate)
			f.Title = fmt.Sprintf("The %s's Certificate lists %d certificates: tlspcap kept the first %d", from, c.Count, len(c.Entries))
			f.Explanation = fmt.Sprintf("The Certificate message in frame %d lists %d certificates. tlspcap parses at most %d per message, "+
				"so the chain checks saw only the first %d; %s counted but not read. "+
				"mbedTLS refuses a chain with more than 8 intermediate certificates (MBEDTLS_X509_MAX_INTERMEDIATE_CA → -0x3000).",
				first(h.Where), c.Count, decode.MaxCertificates, len(c.Entries), plural(c.Count-len(c.Entries), "more was", "more were"))
			f.Fix = fmt.Sprintf("Configure the %s to send its own certificate and the intermediates to the root, nothing else.", from)
		}
		out = append(out, f)
	}
	if n := x.tls.overBoundN - len(x.tls.overBound); n > 0 && len(out) > 0 {
		out[len(out)-1].Explanation += fmt.Sprintf(" %s beyond tlspcap's bounds followed on this connection and are not listed.",
			capitalize(plural(n, "more message", "more messages")))
	}
	return out
}

// boundFindings: the capture layer's bounds (--max-connections,
// --max-buffered) were hit; the report says where, how often and what it
// means for the verdicts.
func (a *Analyzer) boundFindings(st capture.Stats) []Finding {
	var out []Finding
	if n := st.Evicted; n > 0 {
		at := a.firstProblem[capture.ProblemConnLimit].Frame
		f := Finding{ID: catalog.TlspcapLimit, Severity: SeverityWarning, Frames: frames(at), DeviceErrors: []DeviceError{},
			Title: fmt.Sprintf("%s ended early: more than %d TCP connections were open at once", capitalize(plural(n, "connection was", "connections were")), st.MaxConns),
			Explanation: fmt.Sprintf("tlspcap follows at most %d TCP connections at once (--max-connections). From frame %d on, each connection beyond it ended the one that had been quiet longest: "+
				"that one was judged with what the capture had shown of it so far, and its ending says connection-limit rather than how the peers ended it. "+
				"So many connections open at once is a SYN flood, a port scan or a whole network's traffic, rarely one device's.", st.MaxConns, at),
			Fix:             "Capture only the device (tcpdump host DEVICE_IP), cut the capture (editcap), or raise --max-connections (about 3.8 KB of memory per open connection that sent a ClientHello).",
			WiresharkFilter: fmt.Sprintf("tcp.flags.syn == 1 && tcp.flags.ack == 0 && frame.number >= %d", at),
		}
		if st.EvictedMemory > 0 {
			size := capture.FormatSize(st.MaxMemory)
			f.Title = fmt.Sprintf("%s ended early: the open TCP connections held more than %s of memory", capitalize(plural(n, "connection was", "connections were")), size)
			f.Explanation = fmt.Sprintf("tlspcap gives the connections open at once at most %s of memory, 3/8 of its budget (--max-memory, by default an eighth of the machine's memory). "+
				"From frame %d on, each connection beyond it ended the one that had been quiet longest: "+
				"that one was judged with what the capture had shown of it so far, and its ending says connection-limit rather than how the peers ended it. "+
				"So many connections open at once is a SYN flood, a port scan or a whole network's traffic, rarely one device's.", size, at)
			f.Fix = "Capture only the device (tcpdump host DEVICE_IP), cut the capture (editcap), or raise --max-memory (about 3.8 KB per open connection that sent a ClientHello)."
		}
		out = append(out, f)
	}
	if n := st.BufferLimited; n > 0 {
		at := a.firstProblem[capture.ProblemBufferLimit].Frame
		what := fmt.Sprintf("%d bytes", st.MaxBufferedPerDir)
		if st.SegmentLimited == n {
			what = fmt.Sprintf("%d segments", st.MaxHeldSegments)
		}
		out = append(out, Finding{ID: catalog.TlspcapLimit, Severity: SeverityWarning, Frames: frames(at), DeviceErrors: []DeviceError{},
			Title: fmt.Sprintf("More than %s waited behind a missing TCP segment (%s): the missing bytes were reported lost", what, plural(n, "time", "times")),
			Explanation: fmt.Sprintf("tlspcap holds up to %d out-of-order bytes, in at most %d segments, per direction of a connection while a missing segment may still come (--max-buffered). "+
				"From frame %d on, that was exceeded: the bytes still missing were reported as a gap so those behind them could be read. "+
				"If the segment came later (a long retransmission delay), the records around the gap may be reported as cut although the device received them.", st.MaxBufferedPerDir, st.MaxHeldSegments, at),
			Fix:             "Raise --max-buffered (e.g. --max-buffered 64MiB) and analyse again.",
			WiresharkFilter: fmt.Sprintf("tcp.analysis.lost_segment && frame.number >= %d", at),
		})
	}
	return out
}
