package diagnose

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	"tlspcap/capture"
	"tlspcap/decode"
	"tlspcap/diagnose/catalog"
	"tlspcap/diagnose/device"
)

// checks are the connection rules, each under the finding id it decides.
// When rules run, in which phase and what supersedes what is declared in
// catalog/findings.tsv; adding a diagnosis means one row there, one entry
// here and one small function below.
var checks = map[catalog.ID]func(x *ruleRun) []Finding{
	catalog.CaptureStartedMidConnection: ruleStartedMidConnection,
	catalog.CaptureOneDirection:         ruleOneDirection,
	catalog.NotTLS:                      ruleNotTLS,
	catalog.ConnectionRefused:           ruleConnectionRefused,
	catalog.NoSynAck:                    ruleNoSynAck,
	catalog.NoClientHello:               ruleNoClientHello,
	catalog.RecordOverflow:              ruleRecordOverflow,
	catalog.MFLNotAcknowledged:          ruleMFLNotAcknowledged,
	catalog.HandshakeFragmented:         ruleHandshakeFragmented,
	catalog.RecordExceedsDeviceBuffer:   ruleRecordExceedsBuffer,
	catalog.VersionMismatch:             ruleVersionMismatch,
	catalog.NoSharedCipher:              ruleNoSharedCipher,
	catalog.ClientCertificateRequired:   ruleClientCertRequired,
	catalog.ClientCertificateRejected:   ruleClientCertRejected,
	catalog.MissingSNI:                  ruleMissingSNI,
	// Also every other chain finding the device's alert names.
	catalog.ChainUntrusted:          ruleChainByAlert,
	catalog.CaptureMissingBytes:     ruleMissingBytes, // and capture-truncated-packets
	catalog.RecordTruncated:         ruleRecordTruncated,
	catalog.ServerSilent:            ruleServerSilent,
	catalog.TLS13HandshakeEncrypted: ruleTLS13Encrypted,
	catalog.ZeroWindow:              ruleZeroWindow,
	// Fallbacks: how the connection ended, when nothing above explains it.
	catalog.ServerAlert:   ruleServerAlert,
	catalog.ClientAlert:   ruleClientAlert,
	catalog.ServerReset:   ruleServerReset,
	catalog.ServerClosed:  ruleServerClosed,
	catalog.ClientAborted: ruleClientAborted,
	// Observations: warnings and info on any connection.
	catalog.CertificateNotVerified: ruleCertificateNotVerified,
	// Also every chain problem the device did not act on, and missing-sni.
	catalog.ChainDiffersFromBrowser:       ruleChainObservations,
	catalog.WeakCipher:                    ruleWeakCipher,
	catalog.SuspiciousName:                ruleSuspiciousName,
	catalog.SlowHandshake:                 ruleSlowHandshake,
	catalog.ClientCertificateNotRequested: ruleClientCertNotRequested,
	catalog.MemoryEstimate:                ruleMemoryEstimate,
	catalog.CaptureKernelDrops:            ruleKernelDrops,
	catalog.CaptureOverlapConflict:        ruleOverlapConflict,
	catalog.TlspcapLimit:                  ruleOverBound,
}

// ---- capture quality ----

func ruleStartedMidConnection(x *ruleRun) []Finding {
	if x.tcp.syn != nil || x.tcp.synAck != nil || x.tls.clientHello != nil {
		return nil
	}
	if x.tcp.payloadBytes[0]+x.tcp.payloadBytes[1] == 0 && x.tls.recordCount[0]+x.tls.recordCount[1] == 0 {
		return nil
	}
	return []Finding{{
		ID: catalog.CaptureStartedMidConnection, Severity: SeverityInfo,
		Frames: frames(x.info.First.Number),
		Title:  "The capture started after this connection was opened",
		Explanation: "No SYN and no ClientHello were captured: the connection was already open when the capture began, " +
			"so the handshake (and any failure in it) is not in this capture. Client and server roles are guessed from the ports.",
		Fix: "Start the capture before the device connects (e.g. start tcpdump, then reset the device).",
	}}
}

func ruleMissingBytes(x *ruleRun) []Finding {
	if len(x.tcp.gaps) == 0 {
		return nil
	}
	// Gaps past the first 64 count in the totals.
	more, moreBytes := x.tcp.moreGaps, x.tcp.moreGapBytes
	// Gaps in packets the capture cut short (snap length) and gaps where
	// whole packets are missing say different things about the capture.
	var cut, lost []int
	cutBytes, lostBytes := 0, 0
	for _, g := range x.tcp.gaps {
		if x.an.snaplenFrames[g.Frame.Number] {
			cut, cutBytes = append(cut, g.Frame.Number), cutBytes+g.Missing
		} else {
			lost, lostBytes = append(lost, g.Frame.Number), lostBytes+g.Missing
		}
	}
	cutBytes, lostBytes = cutBytes+moreBytes[1], lostBytes+moreBytes[0]
	nCut, nLost := len(cut)+more[1], len(lost)+more[0]
	// The cut packets themselves are the evidence (the gap shows up at the
	// next packet).
	if nCut > 0 && len(x.tcp.cutFrames) > 0 {
		cut, nCut = append([]int(nil), x.tcp.cutFrames...), x.tcp.cutCount
	}
	sort.Ints(cut)
	sort.Ints(lost)
	var out []Finding
	if nCut > 0 {
		out = append(out, Finding{
			ID: catalog.CaptureTruncatedPackets, Severity: SeverityWarning, Frames: cut,
			Title: fmt.Sprintf("%s of this connection cut short by the capture's snap length (%s not captured)",
				capitalize(plural(nCut, "packet", "packets")), plural(cutBytes, "byte", "bytes")),
			Explanation: "These packets are shorter in the file than they were on the wire: the capture was taken with a small snap length, " +
				"so the TLS records in them cannot be read, although the endpoints received them whole. Nothing can be concluded about the missing bytes.",
			Fix: "Capture with the full snap length: tcpdump -s 0 (the default of current tcpdump), dumpcap/Wireshark without a packet size limit.",
		})
	}
	if nLost > 0 {
		out = append(out, Finding{
			ID: catalog.CaptureMissingBytes, Severity: SeverityWarning, Frames: lost,
			Title: fmt.Sprintf("%s missing from the capture", capitalize(plural(lostBytes, "byte", "bytes"))),
			Explanation: fmt.Sprintf("TCP sequence numbers jump over %s in %s: the capture lost packets the endpoints did receive "+
				"(capture buffer overrun, or capturing where not all packets pass). What was in them cannot be diagnosed.",
				plural(lostBytes, "byte", "bytes"), plural(nLost, "place", "places")),
			Fix: "Capture again closer to the device (on the AP's bridge interface), with a larger buffer (tcpdump -B 8192) and full snap length (-s 0).",
		})
	}
	return out
}

// ruleOverlapConflict: a segment overlapped bytes captured before (not
// yet delivered) with other bytes. The first copy is the one read, as
// Wireshark does; the receiver may have kept the other (TCP stacks differ),
// so what was read there may not be what the device read.
func ruleOverlapConflict(x *ruleRun) []Finding {
	if x.tcp.streamFacts == nil || x.tcp.overlap == nil {
		return nil
	}
	o := x.tcp.overlap
	var parts []string
	for _, d := range []capture.Dir{x.fromServer(), x.fromClient()} {
		if o.segments[d] > 0 {
			parts = append(parts, fmt.Sprintf("%s from the %s (%s differing)", plural(o.segments[d], "segment", "segments"), d, plural(o.bytes[d], "byte", "bytes")))
		}
	}
	return []Finding{{
		ID: catalog.CaptureOverlapConflict, Severity: SeverityWarning, Frames: append([]int(nil), o.frames...),
		Title: fmt.Sprintf("Overlapping TCP segments with different bytes: %s", strings.Join(parts, ", ")),
		Explanation: "These segments repeat sequence numbers of bytes captured before, but carry other bytes there. " +
			"tlspcap reads the copy captured first (as Wireshark does); the receiving TCP stack may have kept the other one, " +
			"so the bytes it read there can differ. Retransmissions carry the same bytes: different ones point at a middlebox rewriting the stream, " +
			"a capture merged from two points, or an attack on the connection.",
		Fix:             "Capture on the device's side of any middlebox (the AP's bridge interface), one capture point per file.",
		WiresharkFilter: x.filter(nil) + " && tcp.analysis.retransmission",
	}}
}

// ruleOneDirection: one side's packets are all missing while the other side
// goes on as if answered: the capture saw only one direction (asymmetric
// routing, a mirror port of one direction).
func ruleOneDirection(x *ruleRun) []Finding {
	for _, d := range []capture.Dir{x.fromClient(), x.fromServer()} {
		other := d.Reverse()
		if x.tcp.lastFrame[other].Number != 0 || x.tls.recordCount[d] < 2 {
			continue
		}
		return []Finding{{
			ID: catalog.CaptureOneDirection, Severity: SeverityWarning, Frames: frames(x.info.First.Number),
			Title: fmt.Sprintf("The capture holds only the %s's packets", x.who(d)),
			Explanation: fmt.Sprintf("The %s sent %s, which need answers, but not a single packet from the %s is in the capture, not even a TCP ACK: "+
				"the capture point saw one direction only (asymmetric routing, or a mirror port copying one direction). What the %s did cannot be seen.",
				x.who(d), plural(x.tls.recordCount[d], "TLS record", "TLS records"), x.who(other), x.who(other)),
			Fix: "Capture where both directions pass: on the device's access point (its bridge interface), or mirror both directions of the port.",
		}}
	}
	return nil
}

// ruleKernelDrops: during a live capture the kernel dropped packets (ring
// full) while this failing connection was open, so its verdict may rest on
// packets that are missing.
func ruleKernelDrops(x *ruleRun) []Finding {
	ds, ok := x.an.drops[x.info.Stream]
	if !ok || !x.hasError() {
		return nil
	}
	n := plural(int(min(ds.dropped, 1<<31)), "packet", "packets")
	fr := frames(ds.first.Number)
	if ds.last.Number != ds.first.Number {
		fr = append(fr, ds.last.Number)
	}
	return []Finding{{
		ID: catalog.CaptureKernelDrops, Severity: SeverityWarning, Frames: fr,
		Title: fmt.Sprintf("The kernel dropped %s while this connection was open: the verdict may rest on missing packets", n),
		Explanation: fmt.Sprintf("The capture's ring buffer was full and the kernel dropped %s (counted before frame %d) while this failing connection was open. "+
			"Some may have been this connection's: an alert, a record or a retransmission the verdict above does not see.", n, ds.first.Number),
		Fix: "Lose fewer packets: capture only the device (tlspcap live -i IFACE 'host DEVICE_IP'), give the kernel a bigger ring (--buffer 64MiB), " +
			"and reproduce the failure again.",
	}}
}

// ---- not TLS, TCP setup ----

func ruleNotTLS(x *ruleRun) []Finding {
	nt := x.tls.notTLS[x.peer]
	from := x.peerName()
	if nt == nil {
		nt = x.tls.notTLS[x.dev]
		from = x.who(x.dev)
		if nt == nil {
			return nil
		}
	}
	f := Finding{
		ID: catalog.NotTLS, Severity: SeverityError, Frames: frames(first(nt.Where)),
		Title: fmt.Sprintf("The %s answered with %s, not TLS", from, protoName(nt.Protocol)),
		Explanation: fmt.Sprintf("Frame %d carries bytes that are not a TLS record: %s. "+
			"The first byte of a TLS record is 0x14-0x17 followed by version 0x03 0x0N; mbedTLS rejects anything else as an invalid record and closes without an alert.",
			first(nt.Where), x.ctx.opts.Values.Wire(quoteBytes(nt.Prefix, 48))),
		DeviceErrors: x.notTLSErrors(nt),
		Fix: "Connect to the TLS port with the TLS scheme: https:// on 443 (not http:// or port 80), mqtts:// on 8883 (not 1883), wss:// (not ws://); " +
			"or check that the server has TLS enabled on this port.",
	}
	if from == x.who(x.dev) {
		f.Title = fmt.Sprintf("The %s sent %s where the peer expected TLS", from, protoName(nt.Protocol))
		f.Fix = "The device speaks plaintext to a TLS port: use the TLS transport (esp_http_client with an https:// URL, MQTT with mqtts://)."
		f.DeviceErrors = []DeviceError{}
	}
	return []Finding{f}
}

// notTLSErrors: mbedTLS reads a 5-byte record header first. A reply shorter
// than that followed by the peer's FIN ends the read with EOF (-0x7280, as
// measured with an MQTT CONNACK); otherwise the header is invalid (-0x7200).
func (x *ruleRun) notTLSErrors(nt *decode.NotTLS) []DeviceError {
	if x.tcp.payloadBytes[x.peer] < 5 {
		if fin := x.tcp.fin[x.peer]; fin != nil {
			return append(x.errs(device.SymptomPeerFIN), x.errs(device.SymptomNotTLS)...)
		}
	}
	return x.errs(device.SymptomNotTLS)
}

func protoName(p string) string {
	switch p {
	case "", "unknown":
		return "non-TLS bytes"
	}
	return "plaintext " + p
}

func ruleConnectionRefused(x *ruleRun) []Finding {
	rst := x.tcp.rst[x.fromServer()]
	if x.tcp.syn == nil || x.tcp.synAck != nil || rst == nil {
		return nil
	}
	return []Finding{{
		ID: catalog.ConnectionRefused, Severity: SeverityError, Frames: frames(rst.Frame.Number, x.tcp.syn.Frame.Number),
		Title: fmt.Sprintf("Connection refused: %s answered the SYN with RST", x.ctx.opts.Values.AddrPort(x.serverAddrPort())),
		Explanation: fmt.Sprintf("The SYN in frame %d was answered by a RST in frame %d: nothing listens on port %d at %s "+
			"(or a firewall rejects it). No TLS was attempted.", x.tcp.syn.Frame.Number, rst.Frame.Number, x.serverPort(), x.ctx.opts.Values.Addr(x.serverAddr())),
		DeviceErrors: x.errs(device.SymptomConnectionRefused),
		Fix:          "Check the host and port in the URI (8883 for MQTT over TLS, 443 for HTTPS) and that the server is running and reachable from the device's network.",
	}}
}

func (c *conn) serverPort() uint16 { return c.serverAddrPort().Port() }

func (c *conn) serverAddrPort() netip.AddrPort {
	if c.swap {
		return c.info.Client
	}
	return c.info.Server
}

func ruleNoSynAck(x *ruleRun) []Finding {
	if x.tcp.syn == nil || x.tcp.synAck != nil || x.tcp.rst[x.fromServer()] != nil || x.tcp.payloadBytes[0]+x.tcp.payloadBytes[1] > 0 {
		return nil
	}
	span := x.tcp.lastFrame[x.fromClient()].Time.Sub(x.tcp.syn.Frame.Time)
	// One SYN just before the capture ended is a connection still opening.
	if x.tcp.synRetries == 0 && (x.ctx.captureEnd.IsZero() || x.ctx.captureEnd.Sub(x.tcp.syn.Frame.Time) < synAnswerWait) {
		return nil
	}
	return []Finding{{
		ID: catalog.NoSynAck, Severity: SeverityError, Frames: frames(x.tcp.syn.Frame.Number),
		Title: fmt.Sprintf("No answer to the SYN (%s over %s)", plural(x.tcp.synRetries+1, "SYN", "SYNs"), roundDur(span)),
		Explanation: fmt.Sprintf("The client sent %s to %s starting in frame %d and never got a SYN-ACK or RST: the server is unreachable "+
			"(wrong address, routing, a firewall dropping packets, or the server is down).", plural(x.tcp.synRetries+1, "SYN", "SYNs"), x.ctx.opts.Values.AddrPort(x.serverAddrPort()), x.tcp.syn.Frame.Number),
		DeviceErrors: x.errs(device.SymptomConnectTimeout),
		Fix:          "Check the server address the device resolved (see DNS findings), routing from the device's network, and firewalls between them.",
	}}
}

func ruleNoClientHello(x *ruleRun) []Finding {
	if x.tls.clientHello != nil || x.tcp.payloadBytes[x.fromClient()] > 0 || x.tcp.synAck == nil {
		return nil
	}
	cl := x.closeOf(x.fromClient())
	if cl == nil {
		return nil
	}
	// The server spoke first (SMTP/FTP banner): not-tls covers that. What it
	// says after the client's close (OpenSSL's decode_error alert) is not.
	if fp := x.tcp.firstPayload[x.fromServer()]; fp.Number > 0 && fp.Number < cl.Frame.Number {
		return nil
	}
	sev := SeverityError
	if cl.Frame.Time.Sub(x.tcp.synAck.Frame.Time) > idleSpare {
		sev = SeverityWarning // a preconnected spare connection closed unused
	}
	return []Finding{{
		ID: catalog.NoClientHello, Severity: sev, Frames: frames(cl.Frame.Number),
		Title: fmt.Sprintf("The client connected, then closed (%s) without sending a ClientHello", cl.Kind),
		Explanation: fmt.Sprintf("The TCP connection was set up (SYN-ACK in frame %d) but the client sent no TLS bytes and closed it in frame %d, %s later. "+
			"On an ESP this means TLS setup failed on the device before the handshake: no server verification option set, "+
			"a CA/client certificate or key that does not parse, or not enough heap for the TLS buffers.",
			x.tcp.synAck.Frame.Number, cl.Frame.Number, roundDur(cl.Frame.Time.Sub(x.tcp.synAck.Frame.Time))),
		DeviceErrors: x.errs(device.SymptomLocalSetupFailed),
		Fix: "Read the device log just before the connection: set cert_pem/crt_bundle_attach (or enable Component config → ESP-TLS → Allow potentially insecure options → Skip server certificate verification by default, for testing only), " +
			"check that PEM buffers include the terminating NUL, and check free heap (40-50 KB needed for a TLS handshake).",
	}}
}

// ---- records ----

// recordLimits: RFC 8446 §5.2 / RFC 5246 §6.2.3.
const (
	maxPlaintext       = 1 << 14
	maxCiphertextTLS12 = maxPlaintext + 2048
	maxCiphertextTLS13 = maxPlaintext + 256
	mbedtlsInOverhead  = 16 + 48 + 256 // MBEDTLS_SSL_PAYLOAD_OVERHEAD: IV + MAC + CBC padding (ssl_misc.h)
)

func ruleRecordOverflow(x *ruleRun) []Finding {
	limit := maxCiphertextTLS12
	if x.tls13() {
		limit = maxCiphertextTLS13
	}
	for _, d := range []capture.Dir{x.peer, x.dev} {
		r := x.firstRecordFrom(d, func(r *decode.Record) bool {
			return r.Length > limit || (!r.Encrypted && r.ContentType != decode.ContentApplicationData && r.Length > maxPlaintext)
		})
		if r == nil {
			continue
		}
		return []Finding{{
			ID: catalog.RecordOverflow, Severity: SeverityError, Frames: frames(first(r.Where)),
			Title: fmt.Sprintf("The %s sent a %d-byte record, more than TLS allows", x.who(d), r.Length),
			Explanation: fmt.Sprintf("The record header in frame %d announces %d bytes; TLS allows at most %d bytes of plaintext (%d of ciphertext in TLS 1.2, %d in TLS 1.3). "+
				"No conforming stack accepts it: mbedTLS fails with a bad-input error without sending an alert.", first(r.Where), r.Length, maxPlaintext, maxCiphertextTLS12, maxCiphertextTLS13),
			DeviceErrors: x.errs(device.SymptomRecordTooLarge),
			Fix:          fmt.Sprintf("The %s's TLS implementation is broken (or something in the path rewrites records): fix or replace it; no device setting helps.", x.who(d)),
		}}
	}
	return nil
}

func ruleRecordExceedsBuffer(x *ruleRun) []Finding {
	limit := x.ctx.profile.InContentLen
	if limit <= 0 {
		return nil
	}
	r := x.firstRecordFrom(x.peer, func(r *decode.Record) bool {
		if r.Encrypted || r.ContentType == decode.ContentApplicationData {
			return r.Length > limit+mbedtlsInOverhead
		}
		return r.Length > limit
	})
	if r == nil {
		return nil
	}
	sev := SeverityError
	if x.handshakeDone() {
		sev = SeverityWarning
	}
	sym := x.ctx.profile.RecordSizeSymptom(r.Length)
	what := "record"
	if len(r.HandshakeTypes) > 0 {
		var names []string
		for _, t := range r.HandshakeTypes {
			names = append(names, decode.HandshakeTypeName(t))
		}
		what = "record (" + joinNames(names) + ")"
	}
	f := Finding{
		ID: catalog.RecordExceedsDeviceBuffer, Severity: sev, Frames: frames(first(r.Where)),
		Title: fmt.Sprintf("%s record of %d bytes exceeds the device's %d-byte input buffer", capitalize(x.peerName()), r.Length, limit),
		Explanation: fmt.Sprintf("Frame %d starts a %s of %d bytes from the %s. The device reads each record whole into its input buffer, "+
			"CONFIG_MBEDTLS_SSL_IN_CONTENT_LEN = %d bytes (profile %s), so it cannot receive this record and aborts the handshake without sending an alert "+
			"(on the wire: the device closes, usually FIN then RST, right after the first segment of the record).",
			first(r.Where), what, r.Length, x.peerName(), limit, x.ctx.profile.Name),
		DeviceErrors: x.errs(sym),
		Fix: device.Fix("MBEDTLS_SSL_IN_CONTENT_LEN", "16384") + "; or make the server send smaller records (a shorter certificate chain, or a server that honours max_fragment_length). " +
			"With CONFIG_MBEDTLS_DYNAMIC_BUFFER the buffer is sized per record, which saves heap between handshakes.",
	}
	if sev == SeverityWarning {
		f.Title = fmt.Sprintf("%s record of %d bytes would not fit a %d-byte device input buffer", capitalize(x.peerName()), r.Length, limit)
		f.Explanation = fmt.Sprintf("Frame %d starts a %s of %d bytes from the %s. This connection succeeded, but a device built with CONFIG_MBEDTLS_SSL_IN_CONTENT_LEN = %d would fail on it.",
			first(r.Where), what, r.Length, x.peerName(), limit)
	}
	return []Finding{f}
}

func ruleHandshakeFragmented(x *ruleRun) []Finding {
	for _, h := range x.tls.handshakes {
		if h.Dir != x.peer || h.Records <= 1 {
			continue
		}
		sev := SeverityWarning
		if cl := x.closeOf(x.dev); !x.handshakeDone() && x.devClosedSilently() && cl != nil && cl.Frame.Number > first(h.Where) {
			sev = SeverityError
		}
		errs := x.errs(device.SymptomHandshakeFragmented)
		// mbedTLS 3.6.3+ reassembles the message in its input buffer, so a
		// message larger than the buffer still fails, as a size error.
		if h.Length > x.ctx.profile.InContentLen {
			big := x.errs(device.SymptomRecordTooLarge)
			if x.ctx.profile.HandshakeReassembly == device.ReassemblyAlways {
				errs = append(big, errs...)
			} else {
				errs = append(errs, big...)
			}
		}
		return []Finding{{
			ID: catalog.HandshakeFragmented, Severity: sev, Frames: frames(first(h.Where)),
			Title: fmt.Sprintf("%s message (%d bytes) split over %d records", decode.HandshakeTypeName(h.Type), h.Length, h.Records),
			Explanation: fmt.Sprintf("The %s's %s message starting in frame %d is %d bytes long and is spread over %d TLS records. "+
				"mbedTLS before 3.6.3 (ESP-IDF v4.x and v5.x releases older than v5.0.9, v5.1.7, v5.2.6, v5.3.4, v5.4.2) cannot reassemble a handshake message "+
				"from several records and fails with \"TLS handshake fragmentation not supported\".",
				x.peerName(), decode.HandshakeTypeName(h.Type), first(h.Where), h.Length, h.Records),
			DeviceErrors: errs,
			Fix: "Update ESP-IDF to a release with mbedTLS 3.6.3 or later (v5.0.9, v5.1.7, v5.2.6, v5.3.4, v5.4.2, v5.5+), or make the server send each handshake message in one record " +
				"(do not request max_fragment_length; on OpenSSL servers do not set -max_send_frag).",
		}}
	}
	return nil
}

// devClosedSilently: the device ended the connection without an alert, or
// the capture shows nothing more from it.
func (x *ruleRun) devClosedSilently() bool {
	return x.alertFrom(x.dev) == nil && x.alertFrom(x.peer) == nil
}

func ruleMFLNotAcknowledged(x *ruleRun) []Finding {
	ch, ok := clientHello(x.conn)
	if !ok || ch.MaxFragmentLength == 0 || x.tls.serverHello == nil {
		return nil
	}
	sh, _ := serverHello(x.conn)
	if sh != nil && sh.MaxFragmentLength != 0 {
		return nil
	}
	mfl := 1 << (8 + int(ch.MaxFragmentLength))
	r := x.firstRecordFrom(x.fromServer(), func(r *decode.Record) bool {
		return r.Length > mfl+mbedtlsInOverhead || (!r.Encrypted && r.Length > mfl)
	})
	if r == nil {
		return nil
	}
	sev := SeverityWarning
	if !x.handshakeDone() {
		sev = SeverityError
	}
	return []Finding{{
		ID: catalog.MFLNotAcknowledged, Severity: sev, Frames: frames(first(r.Where), first(x.tls.serverHello.Where)),
		Title: fmt.Sprintf("Server ignored max_fragment_length=%d and sent a %d-byte record", mfl, r.Length),
		Explanation: fmt.Sprintf("The ClientHello asked for records of at most %d bytes (max_fragment_length), but the ServerHello in frame %d does not echo the extension, "+
			"so the server is free to send full-size records, and frame %d starts one of %d bytes. Many servers (Go, nginx/OpenSSL before 1.1.1 by default, AWS, Azure) ignore the extension.",
			mfl, first(x.tls.serverHello.Where), first(r.Where), r.Length),
		DeviceErrors: x.errs(device.SymptomRecordTooLarge),
		Fix:          device.Fix("MBEDTLS_SSL_IN_CONTENT_LEN", "16384") + ": a smaller input buffer only works with servers that honour max_fragment_length.",
	}}
}

// ---- negotiation ----

func ruleVersionMismatch(x *ruleRun) []Finding {
	ch, _ := clientHello(x.conn)
	offered := offeredVersions(ch)
	if al := x.alertFrom(x.fromServer()); al != nil && al.Description == 70 {
		return []Finding{{
			ID: catalog.VersionMismatch, Severity: SeverityError, Frames: frames(first(al.Where)),
			Title: "Server refused the TLS version: alert protocol_version",
			Explanation: fmt.Sprintf("The client offered %s; the server answered with a fatal protocol_version alert in frame %d: it supports none of them "+
				"(typically a TLS 1.3-only server and a device with TLS 1.3 disabled, or a server that still requires TLS 1.0/1.1).", versionList(offered), first(al.Where)),
			DeviceErrors: x.errs(device.SymptomFatalAlertReceived),
			Fix:          "Enable TLS 1.3 on the device: " + device.Fix("MBEDTLS_SSL_PROTO_TLS1_3", "y") + " (ESP-IDF v5.2 or later recommended), or allow TLS 1.2 on the server.",
		}}
	}
	sh, ok := serverHello(x.conn)
	if !ok {
		return nil
	}
	chosen := sh.Version
	if sh.SelectedVersion != 0 {
		chosen = sh.SelectedVersion
	}
	shFrame := first(x.tls.serverHello.Where)
	if al := x.alertFrom(x.fromClient()); al != nil && al.Description == 70 {
		return []Finding{{
			ID: catalog.VersionMismatch, Severity: SeverityError, Frames: frames(first(al.Where), shFrame),
			Title: fmt.Sprintf("Client rejected the server's choice of %s: alert protocol_version", decode.VersionName(chosen)),
			Explanation: fmt.Sprintf("The ServerHello in frame %d selects %s; the client offered %s and answered with a fatal protocol_version alert in frame %d. "+
				"ESP-IDF v5.x (mbedTLS 3.x) supports only TLS 1.2 and 1.3.", shFrame, decode.VersionName(chosen), versionList(offered), first(al.Where)),
			DeviceErrors: x.errs(device.SymptomVersionTooOld),
			Fix:          "Upgrade the server to TLS 1.2 or later (TLS 1.0/1.1 are deprecated by RFC 8996). ESP-IDF v4.4 still offered TLS 1.0/1.1 but that is no fix for production.",
		}}
	}
	// The client here accepted the version; the device profile would not.
	if chosen != 0 && chosen < decode.VersionTLS12 && !x.ctx.profile.OffersVersion(chosen) {
		return []Finding{{
			ID: catalog.VersionMismatch, Severity: SeverityWarning, Frames: frames(shFrame),
			Title: fmt.Sprintf("Server chose %s, which a %s device does not support", decode.VersionName(chosen), x.ctx.profile.Name),
			Explanation: fmt.Sprintf("The ServerHello in frame %d selects %s (the client offered %s). A device with profile %s offers only %s, "+
				"so it would reject this ServerHello with a protocol_version alert.", shFrame, decode.VersionName(chosen), versionList(offered), x.ctx.profile.Name, versionList(x.ctx.profile.Versions)),
			DeviceErrors: x.errs(device.SymptomVersionTooOld),
			Fix:          "Upgrade the server to TLS 1.2 or later (TLS 1.0/1.1 are deprecated by RFC 8996).",
		}}
	}
	return nil
}

func offeredVersions(ch *decode.ClientHello) []uint16 {
	if ch == nil {
		return nil
	}
	var vs []uint16
	for _, v := range ch.SupportedVersions {
		if !decode.IsGREASE(v) {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		for v := decode.VersionTLS10; v <= ch.Version && v <= decode.VersionTLS12; v++ {
			vs = append(vs, v)
		}
	}
	return vs
}

func versionList(vs []uint16) string {
	if len(vs) == 0 {
		return "no version we could read"
	}
	var names []string
	for _, v := range vs {
		names = append(names, decode.VersionName(v))
	}
	return joinNames(names)
}

func ruleNoSharedCipher(x *ruleRun) []Finding {
	al := x.alertFrom(x.fromServer())
	if al == nil || x.tls.serverHello != nil || (al.Description != 40 && al.Description != 71 && al.Description != 47) {
		return nil
	}
	ch, _ := clientHello(x.conn)
	var suites []string
	if ch != nil {
		for _, s := range ch.CipherSuites {
			if !decode.IsGREASE(s) {
				suites = append(suites, decode.CipherSuiteName(s))
			}
		}
	}
	expl := fmt.Sprintf("The server answered the ClientHello with a fatal %s alert in frame %d, before any ServerHello: it found nothing acceptable in the offer. "+
		"The usual cause is no cipher suite (or elliptic curve) in common: the client offered %s.", decode.AlertName(al.Description), first(al.Where), plural(len(suites), "suite", "suites"))
	if len(suites) > 0 {
		n := len(suites)
		if n > 12 {
			n = 12
		}
		expl += " Offered: " + strings.Join(suites[:n], ", ")
		if len(suites) > n {
			expl += fmt.Sprintf(" and %d more", len(suites)-n)
		}
		expl += "."
	}
	return []Finding{{
		ID: catalog.NoSharedCipher, Severity: SeverityError, Frames: frames(first(al.Where)),
		Title:        fmt.Sprintf("Server rejected the ClientHello: alert %s (no shared cipher suite)", decode.AlertName(al.Description)),
		Explanation:  expl,
		DeviceErrors: x.errs(device.SymptomFatalAlertReceived),
		Fix: "Compare with the server's accepted suites (e.g. nmap --script ssl-enum-ciphers): ESP-IDF v5 offers no ChaCha20-Poly1305 and no DHE by default. " +
			"Enable what the server needs under Component config → mbedTLS (e.g. CONFIG_MBEDTLS_CHACHAPOLY_C, CONFIG_MBEDTLS_SSL_PROTO_TLS1_3), or widen the server's list.",
	}}
}

// clientCertSent returns the client's Certificate message and whether it was empty.
func (x *ruleRun) clientCert() (h *decode.Handshake, empty bool) {
	h = x.tls.certificate[x.fromClient()]
	if h == nil {
		return nil, true
	}
	if c, ok := h.Body.(*decode.Certificate); ok {
		return h, len(c.Entries) == 0
	}
	return h, h.Length <= 3
}

func ruleClientCertRequired(x *ruleRun) []Finding {
	if x.tls.certRequest == nil || x.handshakeDone() {
		return nil
	}
	h, empty := x.clientCert()
	if !empty {
		return nil
	}
	al := x.alertFrom(x.fromServer())
	var fs []int
	if al != nil {
		fs = frames(first(al.Where), first(x.tls.certRequest.Where))
	} else if cl := x.closeOf(x.fromServer()); cl != nil {
		fs = frames(cl.Frame.Number, first(x.tls.certRequest.Where))
	} else {
		return nil
	}
	sent := "sent no Certificate message"
	if h != nil {
		sent = fmt.Sprintf("answered with an empty Certificate message in frame %d", first(h.Where))
	}
	how := "closed the connection"
	if al != nil {
		how = "sent a fatal " + decode.AlertName(al.Description) + " alert"
	}
	f := Finding{
		ID: catalog.ClientCertificateRequired, Severity: SeverityError, Frames: fs,
		Title: "Server requires a client certificate; the client sent none",
		Explanation: fmt.Sprintf("The server asked for a client certificate (CertificateRequest in frame %d); the client %s, and the server %s. "+
			"The server is set up for mutual TLS.", first(x.tls.certRequest.Where), sent, how),
		DeviceErrors: x.errs(device.SymptomFatalAlertReceived),
		Fix: "Give the device its certificate and key: esp_tls_cfg_t.clientcert_buf/clientkey_buf, esp_http_client_config_t.client_cert_pem/client_key_pem, " +
			"or for MQTT credentials.authentication.certificate/key; check the cloud policy attached to the certificate (AWS IoT).",
	}
	if x.r.Device == "server" {
		// The device is the server: it rejects the empty certificate, so
		// that message is the evidence; mbedTLS 1.2 sends no alert then.
		f.DeviceErrors = x.errs(device.SymptomNoClientCertificate)
		if h != nil {
			f.Frames = append(frames(first(h.Where)), f.Frames...)
		}
		f.Title = "The device requires a client certificate; the client sent none"
		f.Fix = "Give the client a certificate signed by the CA the device verifies with (cacert_pem of esp_tls_cfg_server_t / httpd_ssl_config_t), or drop cacert_pem on the device if clients need not be authenticated."
	}
	return []Finding{f}
}

func ruleClientCertRejected(x *ruleRun) []Finding {
	h, empty := x.clientCert()
	if h == nil || empty || x.handshakeDone() {
		return nil
	}
	al := x.alertFrom(x.fromServer())
	if al == nil || first(al.Where) < first(h.Where) {
		return nil
	}
	switch al.Description {
	case 42, 43, 44, 45, 46, 48, 49, 51, 116:
	default:
		return nil
	}
	desc := ""
	if c, ok := h.Body.(*decode.Certificate); ok && len(c.Entries) > 0 && c.Entries[0].Cert != nil {
		v := x.ctx.opts.Values
		desc = fmt.Sprintf(" (subject %q, issuer %q)", v.Name(c.Entries[0].Cert.Subject), v.Name(c.Entries[0].Cert.Issuer))
	}
	return []Finding{{
		ID: catalog.ClientCertificateRejected, Severity: SeverityError, Frames: frames(first(al.Where), first(h.Where)),
		Title: fmt.Sprintf("Server rejected the client certificate: alert %s", decode.AlertName(al.Description)),
		Explanation: fmt.Sprintf("The client sent its certificate in frame %d%s; the server answered with a fatal %s alert in frame %d. "+
			"The server does not trust the CA that issued it, or the certificate is expired, revoked or not allowed for client authentication.",
			first(h.Where), desc, decode.AlertName(al.Description), first(al.Where)),
		DeviceErrors: x.errs(device.SymptomFatalAlertReceived),
		Fix: "Register the device certificate (or its CA) with the server/cloud, check its validity dates and that it has the clientAuth extended key usage; " +
			"make sure the device sends the intended certificate (clientcert_buf) with its intermediate if the server needs it.",
	}}
}

// ---- how it ended (fallbacks) ----

func ruleServerAlert(x *ruleRun) []Finding {
	al := x.alertFrom(x.fromServer())
	if al == nil || x.handshakeDone() && al.Description == 0 {
		return nil
	}
	info := device.AlertFromServer(al.Description)
	return []Finding{{
		ID: catalog.ServerAlert, Severity: SeverityError, Frames: frames(first(al.Where)),
		Title: fmt.Sprintf("Server sent fatal alert %s (%d)", decode.AlertName(al.Description), al.Description),
		Explanation: fmt.Sprintf("Frame %d: the server ended the handshake with a fatal %s alert, after the client's %s. %s",
			first(al.Where), decode.AlertName(al.Description), x.lastSentBy(x.fromClient(), first(al.Where)), info.Causes),
		DeviceErrors: toDeviceErrors(info.Candidates),
		Fix:          info.Fix,
	}}
}

// lastSentBy names the last record side d sent before frame n.
func (x *ruleRun) lastSentBy(d capture.Dir, n int) string {
	last := x.lastRecordFrom(d, n)
	if last == nil {
		return "nothing"
	}
	return fmt.Sprintf("%s (frame %d)", recordWhat(x.conn, last), last.Frames[0])
}

func ruleClientAlert(x *ruleRun) []Finding {
	al := x.alertFrom(x.fromClient())
	if al == nil {
		return nil
	}
	info := device.AlertFromDevice(al.Description)
	return []Finding{{
		ID: catalog.ClientAlert, Severity: SeverityError, Frames: frames(first(al.Where)),
		Title: fmt.Sprintf("Client sent fatal alert %s (%d)", decode.AlertName(al.Description), al.Description),
		Explanation: fmt.Sprintf("Frame %d: the client ended the handshake with a fatal %s alert after receiving %s. %s",
			first(al.Where), decode.AlertName(al.Description), x.lastReceivedBefore(x.fromClient(), first(al.Where)), info.Causes),
		DeviceErrors: toDeviceErrors(x.ctx.profile.OrderFor(info.Candidates)),
		Fix:          info.Fix,
	}}
}

func ruleServerReset(x *ruleRun) []Finding {
	rst := x.tcp.rst[x.fromServer()]
	if rst == nil || x.handshakeDone() {
		return nil
	}
	// A RST answering the client's own close is TCP tidying up.
	if cl := x.closeOf(x.fromClient()); cl != nil && cl.Frame.Number < rst.Frame.Number {
		return nil
	}
	if x.tcp.synAck == nil && x.tcp.payloadBytes[x.fromServer()] == 0 && x.tls.clientHello == nil {
		return nil // connection-refused covers a RST to the SYN
	}
	after := x.lastSentBy(x.fromClient(), rst.Frame.Number)
	return []Finding{{
		ID: catalog.ServerReset, Severity: SeverityError, Frames: frames(rst.Frame.Number),
		Title: "Server reset the connection during the handshake",
		Explanation: fmt.Sprintf("Frame %d: the server sent a TCP RST after the client's %s, without a TLS alert. "+
			"Servers and load balancers do this when they reject the ClientHello outright: SNI not allowed or missing, client IP filtered, "+
			"no TLS on this port, or a crash.", rst.Frame.Number, after),
		DeviceErrors: x.errs(device.SymptomPeerRST),
		Fix:          "Check the server's logs for this connection; set the SNI the server expects (esp_tls_cfg_t.common_name / do not skip_common_name), and check IP allow-lists.",
	}}
}

func ruleServerClosed(x *ruleRun) []Finding {
	fin := x.tcp.fin[x.fromServer()]
	if fin == nil || x.handshakeDone() {
		return nil
	}
	if x.tls.clientHello == nil {
		return nil
	}
	// The client closed first: that is client-aborted, not the server.
	if cl := x.closeOf(x.fromClient()); cl != nil && cl.Frame.Number < fin.Frame.Number {
		return nil
	}
	if cn := x.closeNotifyBefore(x.fromServer(), fin.Frame.Number); cn != nil {
		at := first(cn.Where)
		return []Finding{{
			ID: catalog.ServerClosed, Severity: SeverityError, Frames: frames(at, fin.Frame.Number),
			Title: "Server closed the connection with close_notify during the handshake",
			Explanation: fmt.Sprintf("Frame %d: the server sent a close_notify alert after the client's %s, then closed the connection (FIN, frame %d). "+
				"close_notify is an orderly close, so the server names no reason: mbedtls_ssl_handshake() stops with MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY, "+
				"which ESP-TLS logs as the handshake's error. Servers do this when they refuse the handshake politely: the SNI is not served, "+
				"the client's address or certificate is not allowed, or the server is shutting down.", at, x.lastSentBy(x.fromClient(), at), fin.Frame.Number),
			DeviceErrors: x.errs(device.SymptomCloseNotify),
			Fix:          "Check the server's logs for this connection (it chose to close), the SNI (esp_tls_cfg_t.common_name), the port, and IP allow-lists.",
		}}
	}
	return []Finding{{
		ID: catalog.ServerClosed, Severity: SeverityError, Frames: frames(fin.Frame.Number),
		Title: "Server closed the connection (FIN) during the handshake without an alert",
		Explanation: fmt.Sprintf("Frame %d: the server closed the connection after the client's %s, without a TLS alert. "+
			"The device sees the connection end while it waits for the next record. Typical causes: the server rejects the SNI or the client's address, "+
			"the server expects another protocol on this port, or a proxy gave up.", fin.Frame.Number, x.lastSentBy(x.fromClient(), fin.Frame.Number)),
		DeviceErrors: x.errs(device.SymptomPeerFIN),
		Fix:          "Check the server's logs for this connection, the SNI (esp_tls_cfg_t.common_name), the port, and IP allow-lists.",
	}}
}

// closeNotifyBefore is the first readable close_notify d sent before frame
// n, or nil.
func (x *ruleRun) closeNotifyBefore(d capture.Dir, n int) *decode.Alert {
	for _, al := range x.tls.alerts {
		if al.Dir == d && !al.Encrypted && !al.Guessed && al.Description == 0 && first(al.Where) <= n {
			return al
		}
	}
	return nil
}

func ruleServerSilent(x *ruleRun) []Finding {
	chh := x.tls.clientHello
	if chh == nil || chh.Dir != x.fromClient() {
		return nil
	}
	srv := x.fromServer()
	end := x.closeOf(x.fromClient())
	if fp := x.tcp.firstPayload[srv]; fp.Number > first(chh.Where) && (end == nil || fp.Number < end.Frame.Number) {
		return nil
	}
	// A server that closes only after the client gave up is silent; one that
	// closes first is server-closed / server-reset.
	if sc := x.closeOf(srv); sc != nil && (end == nil || sc.Frame.Number < end.Frame.Number) {
		return nil
	}
	var until capture.Frame
	gaveUp := end != nil
	if gaveUp {
		until = end.Frame
	} else {
		until = capture.Frame{Time: x.lastTime()}
		if x.ctx.captureEnd.After(until.Time) {
			until.Time = x.ctx.captureEnd
		}
		if until.Time.Sub(chh.Time) < x.ctx.opts.SilenceAfter {
			return nil
		}
	}
	wait := until.Time.Sub(chh.Time)
	if wait < abandonedWithin {
		return nil // client-aborted: the client gave up before a server could answer
	}
	expl := fmt.Sprintf("The client sent its ClientHello in frame %d and the server sent nothing back", first(chh.Where))
	if gaveUp {
		expl += fmt.Sprintf(" for %s, until the client gave up (%s in frame %d).", roundDur(wait), end.Kind, end.Frame.Number)
	} else {
		expl += fmt.Sprintf(" for the %s until the capture ended.", roundDur(wait))
	}
	expl += " A server that does not answer a ClientHello is overloaded, filters the client, or expects something else on this port; a middlebox may also be dropping the ClientHello."
	return []Finding{{
		ID: catalog.ServerSilent, Severity: SeverityError, Frames: frames(first(chh.Where)),
		Title:        fmt.Sprintf("Server silent for %s after the ClientHello", roundDur(wait)),
		Explanation:  expl,
		DeviceErrors: x.errs(device.SymptomReadTimeout),
		Fix:          "Check that the server speaks TLS on this port and accepts this client; if the server is just slow, raise esp_tls_cfg_t.timeout_ms (default 10 s) / esp_http_client_config_t.timeout_ms.",
	}}
}

func ruleClientAborted(x *ruleRun) []Finding {
	if x.handshakeDone() || x.tls.clientHello == nil {
		return nil
	}
	cl := x.closeOf(x.fromClient())
	if cl == nil {
		return nil
	}
	received := x.lastReceivedBefore(x.fromClient(), cl.Frame.Number)
	if received == "nothing" && cl.Frame.Time.Sub(x.tls.clientHello.Time) < abandonedWithin {
		return []Finding{{
			ID: catalog.ClientAborted, Severity: SeverityWarning, Frames: frames(cl.Frame.Number),
			Title: fmt.Sprintf("Client abandoned the connection %s after its ClientHello", roundDur(cl.Frame.Time.Sub(x.tls.clientHello.Time))),
			Explanation: fmt.Sprintf("Frame %d: the client closed the connection (%s) before the server could answer its ClientHello. "+
				"Browsers and apps open several connections at once and drop the spare ones; a device does not, so on a device look at what it logged.", cl.Frame.Number, cl.Kind),
			Fix: "Nothing to fix if the client used another connection to the same server.",
		}}
	}
	// The server stopped mid-flight (TLS 1.2: no ServerHelloDone yet) and
	// stayed silent until the client closed: the client was waiting and
	// timed out (measured: ssl_client2 read_timeout → -0x6800).
	srv := x.fromServer()
	if lp := x.tcp.lastPayload[srv]; !x.tls13() && x.tls.serverDone == nil && lp.Number > 0 && lp.Number < cl.Frame.Number &&
		cl.Frame.Time.Sub(lp.Time) >= abandonedWithin {
		return []Finding{{
			ID: catalog.ClientAborted, Severity: SeverityError, Frames: frames(cl.Frame.Number, lp.Number),
			Title: fmt.Sprintf("Client gave up after the server stalled mid-handshake for %s", roundDur(cl.Frame.Time.Sub(lp.Time))),
			Explanation: fmt.Sprintf("The server's last bytes (frame %d) left its flight unfinished: the last record received was %s and no ServerHelloDone followed. "+
				"The server then sent nothing for %s, until the client closed the connection (%s in frame %d) without a TLS alert: the client's read timed out.",
				lp.Number, received, roundDur(cl.Frame.Time.Sub(lp.Time)), cl.Kind, cl.Frame.Number),
			DeviceErrors: x.errs(device.SymptomReadTimeout),
			Fix:          "Find out why the server stops mid-handshake (its logs, an overloaded TLS offload, a middlebox holding the Certificate); if it is just slow, raise esp_tls_cfg_t.timeout_ms / esp_http_client_config_t.timeout_ms.",
		}}
	}
	f := Finding{
		ID: catalog.ClientAborted, Severity: SeverityError, Frames: frames(cl.Frame.Number),
		Title: fmt.Sprintf("Client ended the handshake with %s and no alert", cl.Kind),
		Explanation: fmt.Sprintf("Frame %d: the client closed the connection (%s) without a TLS alert; the last thing it received was %s. "+
			"mbedTLS aborts without an alert when a record does not fit its buffer, on an out-of-memory error, or when its own configuration is incomplete.",
			cl.Frame.Number, cl.Kind, received),
		DeviceErrors: x.errs(device.SymptomSilentCloseAfterServerFlight),
		Fix:          "Read the device's log for the mbedtls_ssl_handshake return value; enable CONFIG_MBEDTLS_DEBUG to see which step failed; check free heap.",
	}
	x.suspectBuffer(&f, cl.Frame.Number)
	return []Finding{f}
}

// smallInContentLen is the input buffer many ESP-IDF projects set
// (CONFIG_MBEDTLS_SSL_IN_CONTENT_LEN = 4096, to save heap), where the
// profiles assume the stock 16384 (knowledge/esp-mbedtls.md §3).
const smallInContentLen = 4096

// suspectBuffer: when the device closed (frame closed) without an alert
// while a peer record too big for a smallInContentLen buffer was still
// arriving, and the buffer size was not given (--in-content-len), the
// buffer is the likeliest cause: its device errors go first (-0x7100, or
// -0x7200 as RecordSizeSymptom says for the profile), and f says how to
// confirm it. With --in-content-len, record-exceeds-device-buffer judges.
func (x *ruleRun) suspectBuffer(f *Finding, closed int) {
	if x.ctx.opts.InContentLen > 0 || x.dev != x.fromClient() {
		return
	}
	// The first big peer record before the close, after which the device
	// sent nothing more: mbedTLS reads the header, finds the record too
	// big and gives up, whether the rest of it has arrived or not.
	small := smallInContentLen
	var r *decode.Record
	for _, rec := range x.tls.records {
		switch {
		case len(rec.Frames) == 0 || rec.Frames[0] >= closed:
		case rec.Dir == x.dev && r != nil:
			return // the device went on after it
		case rec.Dir == x.peer && r == nil && rec.Length > small:
			r = rec
		}
	}
	if r == nil || small >= x.ctx.profile.InContentLen {
		return
	}
	// The biggest buffer the record overflows: 8192, 4096, ... 512.
	n := 8192
	for n > small && r.Length <= n {
		n /= 2
	}
	p := x.ctx.profile
	p.InContentLen = n
	errs := toDeviceErrors(p.ErrorsFor(p.RecordSizeSymptom(r.Length)))
	for _, e := range f.DeviceErrors {
		if !slicesContainsCode(errs, e.Code) {
			errs = append(errs, e)
		}
	}
	f.DeviceErrors = errs
	f.Explanation += fmt.Sprintf(" The %s's %d-byte record starting in frame %d came before the device gave up: it fits the profile's %d-byte input buffer, "+
		"but not a device built with CONFIG_MBEDTLS_SSL_IN_CONTENT_LEN = %d, as many are to save heap, and that is the likeliest cause.",
		x.peerName(), r.Length, first(r.Where), x.ctx.profile.InContentLen, n)
	f.Fix = fmt.Sprintf("If the device's sdkconfig sets CONFIG_MBEDTLS_SSL_IN_CONTENT_LEN below %d, or you do not know, rerun with `--in-content-len %d` (or the sdkconfig's value): "+
		"tlspcap then names the record that did not fit and the menuconfig fix. Otherwise: %s", r.Length, n, f.Fix)
	if !slices.Contains(f.Frames, first(r.Where)) {
		f.Frames = append(f.Frames, first(r.Where))
	}
}

func slicesContainsCode(es []DeviceError, code string) bool {
	for _, e := range es {
		if e.Code == code {
			return true
		}
	}
	return false
}

func ruleTLS13Encrypted(x *ruleRun) []Finding {
	if !x.tls13() {
		return nil
	}
	if x.handshakeDone() {
		return tls13LateRejection(x)
	}
	// mbedTLS 3.6 sends its TLS 1.3 alerts in the clear (measured): when an
	// alert is readable it names the cause, and the key log would only add
	// the certificate details.
	sev := SeverityError
	if x.fatalAlert() != nil {
		sev = SeverityWarning
	}
	var lastEnc *decode.Record
	for _, r := range x.tls.records {
		if r.Decrypted {
			return nil // a key log matched: the decrypted messages name the cause
		}
		if r.Encrypted {
			lastEnc = r
		}
	}
	ends := x.closeOf(x.fromClient()) != nil || x.closeOf(x.fromServer()) != nil
	if !ends {
		return nil
	}
	fs := []int{}
	by := "one side"
	if lastEnc != nil {
		fs = frames(first(lastEnc.Where))
		by = "the " + x.who(lastEnc.Dir)
	}
	expl := "The server selected TLS 1.3, so everything after the ServerHello (the certificate, a certificate request, and the alert that says why the handshake failed) is encrypted. " +
		"The handshake did not complete"
	if lastEnc != nil {
		expl += fmt.Sprintf("; the last encrypted record came from %s in frame %d (%d bytes", by, first(lastEnc.Where), lastEnc.Length)
		if lastEnc.Length <= 40 {
			expl += ", the size of an encrypted alert"
		}
		expl += ")"
	}
	expl += ". With the session keys (SSLKEYLOGFILE or the ESP's mbedtls key export) tlspcap can decrypt it and name the cause: an untrusted or mismatched server certificate, a required client certificate, or a handshake failure."
	f := Finding{
		ID: catalog.TLS13HandshakeEncrypted, Severity: sev, Frames: fs,
		Title:        "TLS 1.3 handshake failed; the cause is in encrypted records",
		Explanation:  expl,
		DeviceErrors: x.errs(device.SymptomVerifyFailed),
		Fix: x.keyLogAdvice() + ", or force TLS 1.2 on the device for the test " +
			"(esp_tls_cfg_t.tls_version = ESP_TLS_VER_TLS_1_2) to see the certificate and alert in the clear.",
	}
	if cl := x.closeOf(x.fromClient()); cl != nil && sev == SeverityError && x.alertFrom(x.dev) == nil {
		x.suspectBuffer(&f, cl.Frame.Number)
	}
	return []Finding{f}
}

// tls13LateRejection: the handshake looks complete without keys, yet the
// server's only answer to the client's Finished was an alert-sized record
// before it closed (see conn.tls13LateRejection).
func tls13LateRejection(x *ruleRun) []Finding {
	rec := x.conn.tls13LateRejection()
	if rec == nil {
		return nil
	}
	for _, r := range x.tls.records {
		if r.Decrypted {
			return nil
		}
	}
	f := first(rec.Where)
	return []Finding{{
		ID: catalog.TLS13HandshakeEncrypted, Severity: SeverityError, Frames: frames(f),
		Title: "TLS 1.3: the server answered the client's Finished with an encrypted alert and closed",
		Explanation: fmt.Sprintf("The client finished its side of the TLS 1.3 handshake, but the only record the server sent afterwards (frame %d, %d bytes) has the size of an encrypted alert, "+
			"and then the server closed the connection without sending any data. A TLS 1.3 server checks the client's certificate only after the client's Finished, "+
			"so a rejection (certificate_required for a missing client certificate, bad_certificate or unknown_ca for one it does not accept) arrives when the device already considers the handshake done; "+
			"the device reports it on its next read. The alert is encrypted: with the session keys tlspcap can decrypt it and name it.", f, rec.Length),
		DeviceErrors: x.errs(device.SymptomFatalAlertReceived),
		Fix: x.keyLogAdvice() + ", or force TLS 1.2 on the device for the test " +
			"(esp_tls_cfg_t.tls_version = ESP_TLS_VER_TLS_1_2) to see the alert in the clear. If the server requires client certificates, check the device's client certificate and key " +
			"(esp_tls_cfg_t.clientcert_buf / clientkey_buf) and that the server trusts their CA.",
	}}
}

// ---- observations ----

func ruleWeakCipher(x *ruleRun) []Finding {
	sh, ok := serverHello(x.conn)
	if !ok || sh.SelectedVersion == decode.VersionTLS13 {
		return nil
	}
	name := decode.CipherSuiteName(sh.CipherSuite)
	var why []string
	for _, w := range []struct{ sub, why string }{
		{"NULL", "no encryption"}, {"EXPORT", "export-grade"}, {"RC4", "RC4"}, {"3DES", "3DES"}, {"DES_", "DES"},
		{"_CBC_", "CBC mode (padding-oracle prone; no AEAD)"}, {"_MD5", "MD5 MAC"},
	} {
		if strings.Contains(name, w.sub) {
			why = append(why, w.why)
		}
	}
	if strings.HasSuffix(name, "_SHA") {
		why = append(why, "SHA-1 MAC")
	}
	if strings.HasPrefix(name, "TLS_RSA_") {
		why = append(why, "static RSA key exchange (no forward secrecy)")
	}
	if len(why) == 0 {
		return nil
	}
	return []Finding{{
		ID: catalog.WeakCipher, Severity: SeverityWarning, Frames: frames(first(x.tls.serverHello.Where)),
		Title:       "Weak cipher suite negotiated: " + name,
		Explanation: fmt.Sprintf("The ServerHello in frame %d selects %s: %s.", first(x.tls.serverHello.Where), name, joinNames(why)),
		Fix:         "Prefer ECDHE with AES-GCM (e.g. TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256) on the server, or restrict the device with esp_tls_cfg_t.ciphersuites_list.",
	}}
}

func ruleZeroWindow(x *ruleRun) []Finding {
	ev := x.tcp.zeroWindow[x.dev]
	if ev == nil {
		return nil
	}
	// The device stopped taking data and the handshake never finished: that
	// is the failure. During a healthy transfer it is flow control.
	sev := SeverityWarning
	if !x.handshakeDone() && !x.hasError() && x.closeOf(x.dev) != nil {
		sev = SeverityError
	}
	return []Finding{{
		ID: catalog.ZeroWindow, Severity: sev, Frames: frames(ev.Frame.Number),
		Title: fmt.Sprintf("The %s advertised a zero TCP window", x.who(x.dev)),
		Explanation: fmt.Sprintf("Frame %d: the %s's receive window dropped to zero: it was not reading, or had no memory left for received data. "+
			"On an ESP this is heap pressure (lwIP receive buffers) or an application that stopped reading the socket.", ev.Frame.Number, x.who(x.dev)),
		Fix: "Check free heap during the handshake; reduce CONFIG_LWIP_TCP_WND_DEFAULT/CONFIG_LWIP_TCP_RECVMBOX_SIZE only if memory is the issue, and keep reading the connection.",
	}}
}

// synAnswerWait: a SYN unanswered for this long without a retry is lost (the
// first retransmission comes after 1 s on Linux and lwIP, 3 s on older stacks).
const synAnswerWait = 3 * time.Second

// idleSpare: a connection left unused this long before the client closed it
// without a ClientHello was a spare (browsers preconnect); a device whose TLS
// setup fails closes within moments.
const idleSpare = 5 * time.Second

// abandonedWithin: a client that closes this soon after its ClientHello,
// having received nothing, gave up on purpose (a spare parallel connection),
// not after waiting for a silent server.
const abandonedWithin = time.Second

// slowStep is the threshold above which one handshake step is reported.
const slowStep = 2 * time.Second

func ruleSlowHandshake(x *ruleRun) []Finding {
	type step struct {
		name string
		a, b decode.Where
	}
	var buf [2]step
	steps := buf[:0]
	t := &x.tls
	if t.clientHello != nil && t.serverHello != nil {
		steps = append(steps, step{"server's answer to the ClientHello", t.clientHello.Where, t.serverHello.Where})
	}
	if t.serverDone != nil && t.clientKX != nil {
		steps = append(steps, step{"client's answer to the server's flight (certificate verification and key exchange on the client)", t.serverDone.Where, t.clientKX.Where})
	}
	for _, s := range steps {
		d := s.b.Time.Sub(s.a.Time)
		if d < slowStep {
			continue
		}
		return []Finding{{
			ID: catalog.SlowHandshake, Severity: SeverityWarning, Frames: frames(first(s.b), first(s.a)),
			Title: fmt.Sprintf("Slow handshake: the %s took %s", strings.SplitN(s.name, " (", 2)[0], roundDur(d)),
			Explanation: fmt.Sprintf("From frame %d to frame %d: the %s took %s. ESP-TLS gives up after esp_tls_cfg_t.timeout_ms (10 s by default).",
				first(s.a), first(s.b), s.name, roundDur(d)),
			Fix: "On the device, RSA/ECC operations can take seconds without hardware acceleration (CONFIG_MBEDTLS_HARDWARE_MPI) or with large keys; prefer ECDSA P-256 certificates. " +
				"On the server side, check load. Raise timeout_ms if needed.",
		}}
	}
	return nil
}

func ruleClientCertNotRequested(x *ruleRun) []Finding {
	if x.r.Device != "server" || !x.handshakeDone() || x.tls.certRequest != nil || x.tls13() {
		return nil
	}
	return []Finding{{
		ID: catalog.ClientCertificateNotRequested, Severity: SeverityWarning, Frames: frames(first(x.serverFlightEnd().Where)),
		Title:       "The device (as TLS server) did not ask for a client certificate",
		Explanation: "The device acts as the TLS server and completed the handshake without a CertificateRequest: any client can connect; it verifies nobody.",
		Fix: "If clients must be authenticated, set the CA to verify them (esp_tls_cfg_server_t.cacert_buf / httpd_ssl_config_t.cacert_pem); " +
			"see CONFIG_ESP_TLS_SERVER_MIN_AUTH_MODE_OPTIONAL.",
	}}
}

func roundDur(d time.Duration) string {
	switch {
	case d <= 0:
		return "0 s"
	case d < time.Millisecond:
		return fmt.Sprintf("%d µs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

func ruleRecordTruncated(x *ruleRun) []Finding {
	for _, d := range []capture.Dir{x.peer, x.dev} {
		r := x.firstRecordFrom(d, func(r *decode.Record) bool { return r.Truncated })
		if r == nil {
			continue
		}
		cl := x.closeOf(d)
		if cl == nil || cl.Kind == capture.RST {
			// The capture ended inside the record: nothing to conclude. A
			// RST is the sender aborting: server-reset names that.
			return nil
		}
		sym := device.SymptomPeerFIN
		if cl.Kind == capture.RST {
			sym = device.SymptomPeerRST
		}
		return []Finding{{
			ID: catalog.RecordTruncated, Severity: SeverityError, Frames: frames(first(r.Where), cl.Frame.Number),
			Title: fmt.Sprintf("The %s closed the connection inside a %d-byte record", x.who(d), r.Length),
			Explanation: fmt.Sprintf("The record starting in frame %d announces %d bytes, but only %d arrived before the %s sent %s in frame %d. "+
				"The receiver waits for the rest of the record and then sees the connection end.",
				first(r.Where), r.Length, r.Received, x.who(d), cl.Kind, cl.Frame.Number),
			DeviceErrors: x.errs(sym),
			Fix:          fmt.Sprintf("The %s crashed or gave up while sending: check its logs (process restarts, write timeouts, a proxy with a size limit).", x.who(d)),
		}}
	}
	return nil
}

// serverFlightEnd is the message that ends the server's first flight: where a
// CertificateRequest would have had to come before.
func (x *ruleRun) serverFlightEnd() *decode.Handshake {
	if x.tls.serverDone != nil {
		return x.tls.serverDone
	}
	return x.tls.serverHello
}
