package diagnose

import (
	"fmt"

	"tlspcap/decode"
	"tlspcap/diagnose/catalog"
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
	k := memoryKey{profile: p.Name, in: p.InContentLen, out: p.OutContentLen, chainBytes: chainBytes, kx: kx, largest: largest}
	t, ok := x.ctx.memoryTexts[k]
	if !ok {
		t = memoryText(k)
		if x.ctx.memoryTexts == nil || len(x.ctx.memoryTexts) >= maxMemoryTexts {
			x.ctx.memoryTexts = map[memoryKey]memoryTexts{}
		}
		x.ctx.memoryTexts[k] = t
	}
	return []Finding{{
		ID: catalog.MemoryEstimate, Severity: SeverityInfo, Frames: frames(first(x.tls.clientHello.Where)),
		Title: t.title, Explanation: t.explanation, Fix: t.fix,
	}}
}

// memoryKey is what the estimate's texts depend on; connections to the
// same server share it, so the texts are formatted once per distinct key.
type memoryKey struct {
	profile                          string
	in, out, chainBytes, kx, largest int
}

type memoryTexts struct{ title, explanation, fix string }

// maxMemoryTexts bounds the estimate texts kept for reuse.
const maxMemoryTexts = 4096

func memoryText(k memoryKey) memoryTexts {
	inBuf := k.in + mbedtlsInOverhead + 13
	outBuf := k.out + mbedtlsInOverhead + 13
	largest, chainBytes, kx := k.largest, k.chainBytes, k.kx
	peerChain := chainBytes * x509ParsedFactor
	total := inBuf + outBuf + peerChain + kx + heapFixedOverhead
	dynIn := largest + mbedtlsInOverhead + 13
	expl := fmt.Sprintf("Estimated heap for this handshake on the device (profile %s): input buffer %d B (CONFIG_MBEDTLS_SSL_IN_CONTENT_LEN %d + overhead), "+
		"output buffer %d B (OUT_CONTENT_LEN %d), the server's certificate chain kept parsed ≈ %d B (%d B on the wire), key exchange ≈ %d B, "+
		"context ≈ %d B: about %d KB. The largest record the server sent was %d B. ESP-IDF's guidance is 40-50 KB of free heap for a TLS connection; "+
		"an ESP8266 has far less to spare.",
		k.profile, inBuf, k.in, outBuf, k.out, peerChain, chainBytes, kx, heapFixedOverhead, (total+512)/1024, largest)
	fix := fmt.Sprintf("To cut it: CONFIG_MBEDTLS_DYNAMIC_BUFFER (buffers sized per record: the input buffer would need %d B for this server)", dynIn)
	fix += ", CONFIG_MBEDTLS_DYNAMIC_FREE_CONFIG_DATA and CONFIG_MBEDTLS_DYNAMIC_FREE_CA_CERT, CONFIG_MBEDTLS_DYNAMIC_FREE_PEER_CERT (ESP-IDF v4.x)"
	if largest > 4096 {
		fix += fmt.Sprintf("; do not shrink CONFIG_MBEDTLS_SSL_IN_CONTENT_LEN below %d: this server sends records that large", largest)
	} else if largest > 0 {
		fix += fmt.Sprintf("; this server's records (at most %d B) would fit CONFIG_MBEDTLS_SSL_IN_CONTENT_LEN=4096, but another server may send 16 KB records", largest)
	}
	return memoryTexts{
		title:       fmt.Sprintf("Device heap for this handshake: about %d KB", (total+512)/1024),
		explanation: expl,
		fix:         fix + ".",
	}
}
