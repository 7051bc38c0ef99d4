package diagnose

import (
	"fmt"

	"tlspcap/decode"
)

// Heap figures: the FAQ's 40-50 KB for one TLS client handshake on ESP32,
// the https_request example's 42196 B default vs 22013 B with dynamic
// buffers and freed config (knowledge/esp-mbedtls.md §3.2).
const (
	heapFixedOverhead = 6 * 1024 // ssl context, config, session, handshake state (DERIVED estimate)
	x509ParsedFactor  = 2        // a parsed certificate keeps its DER plus parsed fields (DERIVED estimate)
)

// ruleMemoryEstimate estimates the heap this handshake needs on the device.
func ruleMemoryEstimate(x *ruleRun) []Finding {
	if x.tls.clientHello == nil || !x.deviceIsClient() {
		return nil
	}
	p := x.ctx.profile
	inBuf := p.InContentLen + mbedtlsInOverhead + 13
	outBuf := p.OutContentLen + mbedtlsInOverhead + 13
	largest := 0
	if r := x.tls.largest[x.peer]; r != nil {
		largest = r.Length
	}
	chainBytes := 0
	for _, c := range x.r.Certificates {
		chainBytes += c.Size
	}
	kx := 0
	if sh, ok := serverHello(x.conn); ok {
		kx = 1024 // ECDHE context and shared secret (DERIVED estimate)
		if sh.SelectedVersion == decode.VersionTLS13 {
			kx = 2048
		}
	}
	peerChain := chainBytes * x509ParsedFactor
	total := inBuf + outBuf + peerChain + kx + heapFixedOverhead
	dynIn := largest + mbedtlsInOverhead + 13
	expl := fmt.Sprintf("Estimated heap for this handshake on the device (profile %s): input buffer %d B (CONFIG_MBEDTLS_SSL_IN_CONTENT_LEN %d + overhead), "+
		"output buffer %d B (OUT_CONTENT_LEN %d), the server's certificate chain kept parsed ≈ %d B (%d B on the wire), key exchange ≈ %d B, "+
		"context ≈ %d B: about %d KB. The largest record the server sent was %d B. ESP-IDF's guidance is 40-50 KB of free heap for a TLS connection; "+
		"an ESP8266 has far less to spare.",
		p.Name, inBuf, p.InContentLen, outBuf, p.OutContentLen, peerChain, chainBytes, kx, heapFixedOverhead, (total+512)/1024, largest)
	fix := fmt.Sprintf("To cut it: CONFIG_MBEDTLS_DYNAMIC_BUFFER (buffers sized per record: the input buffer would need %d B for this server)", dynIn)
	fix += ", CONFIG_MBEDTLS_DYNAMIC_FREE_CONFIG_DATA and CONFIG_MBEDTLS_DYNAMIC_FREE_CA_CERT, CONFIG_MBEDTLS_DYNAMIC_FREE_PEER_CERT (ESP-IDF v4.x)"
	if largest > 4096 {
		fix += fmt.Sprintf("; do not shrink CONFIG_MBEDTLS_SSL_IN_CONTENT_LEN below %d: this server sends records that large", largest)
	} else if largest > 0 {
		fix += fmt.Sprintf("; this server's records (at most %d B) would fit CONFIG_MBEDTLS_SSL_IN_CONTENT_LEN=4096, but another server may send 16 KB records", largest)
	}
	return []Finding{{
		ID: "memory-estimate", Severity: SeverityInfo, Frames: frames(first(x.tls.clientHello.Where)),
		Title:       fmt.Sprintf("Device heap for this handshake: about %d KB", (total+512)/1024),
		Explanation: expl,
		Fix:         fix + ".",
	}}
}
