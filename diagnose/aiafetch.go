package diagnose

import (
	"bufio"
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"

	"tlspcap/capture"
	"tlspcap/diagnose/chain"
)

// maxFetchBytes bounds what is kept of one plain-HTTP connection while
// looking for a certificate download; maxFetchTotal what all open ones keep.
// Silence is fine: a CA certificate is 1-2 KB, and only a browser capture
// with 128 such downloads open at once could miss one; the report still
// names the AIA URL from the certificate itself.
const (
	maxFetchBytes = 64 << 10
	maxFetchTotal = 8 << 20
)

// fetchTee passes a browser's capture to the Analyzer and keeps, on the
// way, the certificates downloaded over plain HTTP: what a browser fetches
// from a certificate's AIA caIssuers URL when the server omits an
// intermediate (CAs publish them on http:// URLs, so the capture shows them).
type fetchTee struct {
	*Analyzer
	fetched []chain.Fetched
	held    int // bytes buffered by open connections
}

// Conn implements capture.Handler.
func (t *fetchTee) Conn(info *capture.Conn) capture.ConnHandler {
	return &fetchConn{ConnHandler: t.Analyzer.Conn(info), tee: t, stream: info.Stream}
}

type fetchConn struct {
	capture.ConnHandler
	tee    *fetchTee
	stream int
	buf    [2][]byte
	frame  int // first frame of the server's answer
	off    bool
}

func (c *fetchConn) Payload(p capture.Payload) {
	c.ConnHandler.Payload(p)
	if c.off {
		return
	}
	d := p.Dir
	switch {
	case len(c.buf[capture.FromClient]) == 0 && (d != capture.FromClient || !bytes.HasPrefix(p.Data, []byte("GET "))),
		len(c.buf[d])+len(p.Data) > maxFetchBytes, c.tee.held+len(p.Data) > maxFetchTotal:
		c.release()
		c.off = true
		return
	}
	if d == capture.FromServer && c.frame == 0 && len(p.Spans) > 0 {
		c.frame = p.Spans[0].Number
	}
	c.buf[d] = append(c.buf[d], p.Data...)
	c.tee.held += len(p.Data)
}

// release gives the connection's buffered bytes back to the tee's budget.
func (c *fetchConn) release() {
	c.tee.held -= len(c.buf[0]) + len(c.buf[1])
	c.buf = [2][]byte{}
}

func (c *fetchConn) End(r capture.EndReason) {
	c.ConnHandler.End(r)
	defer c.release()
	if c.off || len(c.buf[capture.FromServer]) == 0 {
		return
	}
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(c.buf[capture.FromClient])))
	if err != nil {
		return
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(c.buf[capture.FromServer])), req)
	if err != nil || resp.StatusCode != http.StatusOK {
		return
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxFetchBytes))
	if blk, _ := pem.Decode(body); blk != nil && blk.Type == "CERTIFICATE" {
		body = blk.Bytes
	}
	cert, err := x509.ParseCertificate(body)
	if err != nil {
		return
	}
	c.tee.fetched = append(c.tee.fetched, chain.Fetched{Cert: cert, URL: "http://" + req.Host + req.URL.RequestURI(), Stream: c.stream, Frame: c.frame})
}
