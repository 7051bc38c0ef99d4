// Command malformed writes small hostile or damaged captures for the
// robustness tests: truncated files, wrong magic, impossible pcapng block
// lengths, snaplen cuts inside TLS records, zero-length and 256 KiB packets,
// mixed byte orders, timestamps going backwards, duplicated packets, IPv4
// options, overlapping IPv4 fragments, TCP with bogus data offsets, gzip
// with a damaged byte (checksum error) and pcapng packets naming an
// interface the file does not describe.
//
// Every file holds at least one complete, well-formed TLS connection before
// the damage, so a test can check that it is still reported. The output is
// deterministic: running the command again rewrites the same bytes.
//
//	go run ./internal/malformed -out testdata/malformed
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/gopacket/gopacket/pcapgo"

	"tlspcap/internal/pcapbuild"
)

func main() {
	out := flag.String("out", "testdata/malformed", "directory to write the captures to")
	flag.Parse()
	if err := write(*out); err != nil {
		fmt.Fprintln(os.Stderr, "malformed:", err)
		os.Exit(1)
	}
}

func write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	files := Generate()
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), files[n], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Generate returns every malformed capture by file name.
func Generate() map[string][]byte {
	return map[string][]byte{
		"truncated-file-header.pcap":        truncatedFileHeader(),
		"truncated-packet.pcap":             truncatedPacket(),
		"wrong-magic.pcap":                  wrongMagic(),
		"pcapng-impossible-length.pcapng":   pcapngImpossibleLength(),
		"snaplen-cut-mid-record.pcap":       snaplenCut(),
		"zero-and-huge-packets.pcap":        zeroAndHuge(),
		"mixed-byte-order.pcapng":           mixedByteOrder(),
		"timestamps-backwards.pcap":         timestampsBackwards(),
		"duplicated-packets.pcap":           duplicated(),
		"ipv4-options.pcap":                 ipv4Options(),
		"ipv4-overlapping-fragments.pcap":   overlappingFragments(),
		"tcp-bogus-data-offset.pcap":        bogusDataOffset(),
		"garbage-after-valid-packets.pcap":  garbageRecordHeader(),
		"gzip-checksum-error.pcap.gz":       gzipChecksumError(),
		"pcapng-undefined-interface.pcapng": undefinedInterface(),
	}
}

// Building blocks.

const (
	ethLen  = 14
	ipv4Len = 20
)

// frame is one packet of a template conversation.
type frame struct {
	ts   time.Time
	data []byte
}

// clientHello is a small, deterministic TLS 1.2 ClientHello with an SNI.
func clientHello(sni string) []byte {
	var b []byte
	b = append(b, 0x03, 0x03)
	for i := range 32 {
		b = append(b, byte(i))
	}
	b = append(b, 0)                            // session id
	b = append(b, 0, 4, 0xc0, 0x2f, 0xc0, 0x2b) // cipher suites
	b = append(b, 1, 0)                         // compression: null
	name := []byte(sni)
	sniExt := []byte{0, 0} // server_name
	list := append([]byte{0, byte(len(name) >> 8), byte(len(name))}, name...)
	body := append([]byte{byte(len(list) >> 8), byte(len(list))}, list...)
	sniExt = append(sniExt, byte(len(body)>>8), byte(len(body)))
	sniExt = append(sniExt, body...)
	b = append(b, byte(len(sniExt)>>8), byte(len(sniExt)))
	b = append(b, sniExt...)
	return pcapbuild.Record(22, 0x0301, pcapbuild.Handshake(1, b))
}

// serverHello is the matching ServerHello record.
func serverHello() []byte {
	var b []byte
	b = append(b, 0x03, 0x03)
	for i := range 32 {
		b = append(b, byte(0x80+i))
	}
	b = append(b, 0, 0xc0, 0x2f, 0, 0, 0) // no session id, suite, null compression, no extensions
	return pcapbuild.Record(22, 0x0303, pcapbuild.Handshake(2, b))
}

// bigRecord is a 5000-byte handshake record the server sends in several
// segments, so cutting it leaves a record incomplete in the capture.
func bigRecord() []byte {
	body := make([]byte, 4996)
	for i := range body {
		body[i] = byte(i * 7)
	}
	return pcapbuild.Record(22, 0x0303, pcapbuild.Handshake(11, body))
}

// conversation writes one TLS connection that the server refuses with a
// handshake_failure alert after its ServerHello and a large record.
func conversation(c *pcapbuild.Capture, client, server, sni string) {
	t := c.Conn(client, server)
	t.Handshake()
	t.Send(pcapbuild.C2S, clientHello(sni))
	t.Send(pcapbuild.S2C, serverHello())
	t.SendSegments(pcapbuild.S2C, bigRecord(), 1448)
	t.Send(pcapbuild.C2S, pcapbuild.Alert(2, 40))
	t.FIN(pcapbuild.C2S)
	t.FIN(pcapbuild.S2C)
}

// Addresses of the template connections; the tests look for them.
const (
	ClientA = "192.168.4.20:50001"
	ServerA = "203.0.113.10:443"
	SNIA    = "first.example"
	ClientB = "192.168.4.20:50002"
	ServerB = "203.0.113.11:443"
	SNIB    = "second.example"
)

// frames reads a pcap written by pcapbuild back into frames.
func frames(b []byte) []frame {
	r, err := pcapgo.NewReader(bytes.NewReader(b))
	if err != nil {
		panic(err)
	}
	var out []frame
	for {
		data, ci, err := r.ReadPacketData()
		if err == io.EOF {
			return out
		}
		if err != nil {
			panic(err)
		}
		out = append(out, frame{ts: ci.Timestamp, data: append([]byte(nil), data...)})
	}
}

// twoConns returns the frames of connection A followed by connection B.
func twoConns() (a, b []frame) {
	c := pcapbuild.New()
	conversation(c, ClientA, ServerA, SNIA)
	n := c.Frames()
	c.Wait(time.Second)
	conversation(c, ClientB, ServerB, SNIB)
	all := frames(c.Bytes())
	return all[:n], all[n:]
}

// pcap writing with full control over header fields.

func pcapHeader(order binary.ByteOrder, snaplen uint32) []byte {
	h := make([]byte, 24)
	order.PutUint32(h[0:], 0xa1b2c3d4)
	order.PutUint16(h[4:], 2)
	order.PutUint16(h[6:], 4)
	order.PutUint32(h[16:], snaplen)
	order.PutUint32(h[20:], 1) // Ethernet
	return h
}

func pcapRecord(order binary.ByteOrder, ts time.Time, data []byte, wireLen int) []byte {
	h := make([]byte, 16, 16+len(data))
	order.PutUint32(h[0:], uint32(ts.Unix()))
	order.PutUint32(h[4:], uint32(ts.Nanosecond()/1000))
	order.PutUint32(h[8:], uint32(len(data)))
	order.PutUint32(h[12:], uint32(wireLen))
	return append(h, data...)
}

func pcapFile(fs ...[]frame) []byte {
	b := pcapHeader(binary.LittleEndian, 65535)
	for _, f := range fs {
		for _, p := range f {
			b = append(b, pcapRecord(binary.LittleEndian, p.ts, p.data, len(p.data))...)
		}
	}
	return b
}

// pcapng writing in either byte order.

func ngBlock(order binary.AppendByteOrder, typ uint32, body []byte) []byte {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	total := uint32(12 + len(body))
	b := order.AppendUint32(make([]byte, 0, total), typ)
	b = order.AppendUint32(b, total)
	b = append(b, body...)
	return order.AppendUint32(b, total)
}

func ngSection(order binary.AppendByteOrder, fs []frame) []byte {
	shb := order.AppendUint32(nil, 0x1a2b3c4d)
	shb = order.AppendUint16(shb, 1)
	shb = order.AppendUint16(shb, 0)
	shb = order.AppendUint64(shb, ^uint64(0)) // section length unknown
	out := ngBlock(order, 0x0a0d0d0a, shb)
	idb := order.AppendUint16(nil, 1) // Ethernet
	idb = order.AppendUint16(idb, 0)
	idb = order.AppendUint32(idb, 65535)
	out = append(out, ngBlock(order, 1, idb)...)
	for _, f := range fs {
		out = append(out, ngEPB(order, f)...)
	}
	return out
}

func ngEPB(order binary.AppendByteOrder, f frame) []byte {
	us := uint64(f.ts.UnixMicro())
	epb := order.AppendUint32(nil, 0)
	epb = order.AppendUint32(epb, uint32(us>>32))
	epb = order.AppendUint32(epb, uint32(us))
	epb = order.AppendUint32(epb, uint32(len(f.data)))
	epb = order.AppendUint32(epb, uint32(len(f.data)))
	epb = append(epb, f.data...)
	return ngBlock(order, 6, epb)
}

// IPv4 helpers on Ethernet frames.

func ipChecksum(h []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(h); i += 2 {
		s += uint32(h[i])<<8 | uint32(h[i+1])
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

func fixIPChecksum(ip []byte) {
	ihl := int(ip[0]&0x0f) * 4
	ip[10], ip[11] = 0, 0
	binary.BigEndian.PutUint16(ip[10:], ipChecksum(ip[:ihl]))
}

// withIPv4Options inserts 8 bytes of options (Router Alert, then NOPs and
// End of List) into the IPv4 header of an Ethernet frame.
func withIPv4Options(data []byte) []byte {
	opts := []byte{0x94, 0x04, 0x00, 0x00, 0x01, 0x01, 0x01, 0x00}
	total := int(binary.BigEndian.Uint16(data[ethLen+2:])) // before Ethernet padding
	data = data[:ethLen+total]
	out := append([]byte(nil), data[:ethLen+ipv4Len]...)
	out = append(out, opts...)
	out = append(out, data[ethLen+ipv4Len:]...)
	ip := out[ethLen:]
	ip[0] = 0x40 | byte((ipv4Len+len(opts))/4)
	binary.BigEndian.PutUint16(ip[2:], uint16(len(out)-ethLen))
	fixIPChecksum(ip)
	return out
}

// The malformed captures.

func truncatedFileHeader() []byte {
	a, _ := twoConns()
	return pcapFile(a)[:13]
}

// truncatedPacket: connection A whole, connection B cut inside the
// ServerHello's frame (the file ends mid-record).
func truncatedPacket() []byte {
	a, b := twoConns()
	full := pcapFile(a, b[:5])
	return full[:len(full)-30]
}

func wrongMagic() []byte {
	a, _ := twoConns()
	b := pcapFile(a)
	copy(b, "PCAP")
	return b
}

// pcapngImpossibleLength: a valid section with connection A, then an
// Enhanced Packet Block claiming 0xfffffff0 bytes, then connection B.
func pcapngImpossibleLength() []byte {
	a, b := twoConns()
	out := ngSection(binary.LittleEndian, a)
	bad := ngEPB(binary.LittleEndian, b[0])
	binary.LittleEndian.PutUint32(bad[4:], 0xfffffff0)
	out = append(out, bad...)
	for _, f := range b[1:] {
		out = append(out, ngEPB(binary.LittleEndian, f)...)
	}
	return out
}

// snaplenCut: connection A whole; in connection B every segment of the
// server's 5000-byte record is cut to 200 bytes on disk (snaplen 200).
func snaplenCut() []byte {
	a, b := twoConns()
	out := pcapHeader(binary.LittleEndian, 65535)
	for _, f := range a {
		out = append(out, pcapRecord(binary.LittleEndian, f.ts, f.data, len(f.data))...)
	}
	for _, f := range b {
		data := f.data
		if len(data) > 1000 {
			data = data[:200]
		}
		out = append(out, pcapRecord(binary.LittleEndian, f.ts, data, len(f.data))...)
	}
	return out
}

// zeroAndHuge: a zero-length record and a 256 KiB record (an Ethernet frame
// claiming IPv4 with a 65535-byte datagram, followed by filler) between the
// packets of connection A, then connection B.
func zeroAndHuge() []byte {
	a, b := twoConns()
	out := pcapHeader(binary.LittleEndian, 262144)
	for i, f := range a {
		out = append(out, pcapRecord(binary.LittleEndian, f.ts, f.data, len(f.data))...)
		switch i {
		case 2:
			out = append(out, pcapRecord(binary.LittleEndian, f.ts, nil, 0)...)
		case 4:
			huge := make([]byte, 256<<10)
			copy(huge, a[0].data[:ethLen+ipv4Len])
			binary.BigEndian.PutUint16(huge[ethLen+2:], 0xffff)
			fixIPChecksum(huge[ethLen:])
			for j := ethLen + ipv4Len; j < len(huge); j++ {
				huge[j] = byte(j)
			}
			out = append(out, pcapRecord(binary.LittleEndian, f.ts, huge, len(huge))...)
		}
	}
	for _, f := range b {
		out = append(out, pcapRecord(binary.LittleEndian, f.ts, f.data, len(f.data))...)
	}
	return out
}

// mixedByteOrder: a little-endian section with connection A, then a
// big-endian section with connection B.
func mixedByteOrder() []byte {
	a, b := twoConns()
	return append(ngSection(binary.LittleEndian, a), ngSection(binary.BigEndian, b)...)
}

// timestampsBackwards: connection A, then connection B whose packets are
// each one second earlier than the one before (and before A's).
func timestampsBackwards() []byte {
	a, b := twoConns()
	start := a[0].ts
	for i := range b {
		b[i].ts = start.Add(-time.Duration(i+1) * time.Second)
	}
	return pcapFile(a, b)
}

// duplicated: every packet of both connections twice in a row, as a
// capture on a bridge and its port has them: each packet with its own
// IPv4 ID (an ID of 0 would not tell a copy from a second packet).
func duplicated() []byte {
	a, b := twoConns()
	var d []frame
	for i, f := range append(a, b...) {
		data := append([]byte(nil), f.data...)
		binary.BigEndian.PutUint16(data[ethLen+4:], uint16(0x100+i))
		fixIPChecksum(data[ethLen : ethLen+ipv4Len])
		f.data = data
		d = append(d, f, f)
	}
	return pcapFile(d)
}

// ipv4Options: connection A plain, connection B with IPv4 options in every packet.
func ipv4Options() []byte {
	a, b := twoConns()
	for i := range b {
		b[i].data = withIPv4Options(b[i].data)
	}
	return pcapFile(a, b)
}

// overlappingFragments: connection A plain; in connection B the ClientHello
// packet is sent as three IPv4 fragments where the second overlaps the
// first by 16 bytes with different (zero) content.
func overlappingFragments() []byte {
	a, b := twoConns()
	var out []frame
	for i, f := range b {
		if i != 3 { // SYN, SYN-ACK, ACK, then the ClientHello
			out = append(out, f)
			continue
		}
		eth := f.data[:ethLen]
		ip := f.data[ethLen : ethLen+ipv4Len]
		payload := f.data[ethLen+ipv4Len : ethLen+int(binary.BigEndian.Uint16(ip[2:]))]
		frag := func(off, end int, more bool, fill byte) frame {
			h := append([]byte(nil), ip...)
			binary.BigEndian.PutUint16(h[4:], 0x1234)
			fo := uint16(off / 8)
			if more {
				fo |= 0x2000
			}
			binary.BigEndian.PutUint16(h[6:], fo)
			body := append([]byte(nil), payload[off:end]...)
			if fill != 0xff {
				for j := range body {
					body[j] = fill
				}
			}
			binary.BigEndian.PutUint16(h[2:], uint16(ipv4Len+len(body)))
			fixIPChecksum(h)
			d := append(append(append([]byte(nil), eth...), h...), body...)
			return frame{ts: f.ts, data: d}
		}
		out = append(out,
			frag(0, 48, true, 0xff),
			frag(32, 64, true, 0), // overlaps [32,48) with zeros
			frag(64, len(payload), false, 0xff))
	}
	return pcapFile(a, out)
}

// bogusDataOffset: connection A, then packets of connection B whose TCP
// data offsets are 2 (below the minimum of 5) and 15 (60 bytes, past the
// end of the 20-byte segment),
// then the rest of connection B intact.
func bogusDataOffset() []byte {
	a, b := twoConns()
	bad := func(f frame, off byte) frame {
		d := append([]byte(nil), f.data...)
		tcp := d[ethLen+ipv4Len:]
		tcp[12] = off<<4 | tcp[12]&0x0f
		return frame{ts: f.ts, data: d}
	}
	var out []frame
	for i, f := range b {
		if i == 2 { // the handshake's last ACK, without payload
			out = append(out, bad(f, 2), bad(f, 15))
		}
		out = append(out, f)
	}
	return pcapFile(a, out)
}

// garbageRecordHeader: connection A, then a record header claiming 1 GiB.
func garbageRecordHeader() []byte {
	a, b := twoConns()
	out := pcapFile(a)
	rec := pcapRecord(binary.LittleEndian, b[0].ts, b[0].data, len(b[0].data))
	binary.LittleEndian.PutUint32(rec[8:], 1<<30)
	return append(out, rec...)
}

// gzipChecksumError: connections A and B gzipped without compression
// (stored blocks, so one changed byte decompresses without complaint),
// then the length in B's first record header changed to 779315561: the
// garbage decompresses, and only the checksum at the end tells.
func gzipChecksumError() []byte {
	a, b := twoConns()
	plain := pcapFile(a, b)
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.NoCompression)
	if err != nil {
		panic(err)
	}
	zw.Write(plain)
	zw.Close()
	gz := buf.Bytes()
	hdr := pcapRecord(binary.LittleEndian, b[0].ts, b[0].data, len(b[0].data))[:16]
	at := bytes.Index(gz, hdr)
	if at < 0 {
		panic("record header not found in the stored gzip data")
	}
	binary.LittleEndian.PutUint32(gz[at+8:], 779315561)
	return gz
}

// undefinedInterface: a pcapng section with one interface description and
// connection A, then connection B's packets naming interface 1.
func undefinedInterface() []byte {
	a, b := twoConns()
	out := ngSection(binary.LittleEndian, a)
	for _, f := range b {
		epb := ngEPB(binary.LittleEndian, f)
		binary.LittleEndian.PutUint32(epb[8:], 1)
		out = append(out, epb...)
	}
	return out
}
