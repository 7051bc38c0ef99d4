package capture

import (
	"encoding/binary"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// pppoe wraps an IP packet in a PPPoE session header announcing plen bytes
// of PPP payload (the PPP protocol field included), followed by pad bytes.
func pppoe(src, dst []byte, ip []byte, plen, pad int) []byte {
	h := []byte{0x11, 0x00, 0x0f, 0x07, byte(plen >> 8), byte(plen), 0x00, 0x21}
	b := append(h, ip...)
	b = append(b, make([]byte, pad)...)
	return ether(src, dst, etherPPPoE, b, etherVLAN, etherVLAN)
}

// A PPPoE frame whose IP header claims the link padding (zeek's
// pppoe-over-qinq.pcap, frame 19: IP total length 46, PPPoE carrying 40
// bytes of IP, 6 bytes of zeros after them). The padding is no TCP payload:
// the server's next record, at the same sequence number, is delivered whole.
func TestPPPoELengthBoundsIP(t *testing.T) {
	c := newConv4()
	ack := tcpSeg(srvPort, cliPort, c.srvSeq+1, c.cliSeq+1, tACK, 509, "")
	ip := ipv4(srvIP, cliIP, protoTCP, 7, 0, false, ack)
	binary.BigEndian.PutUint16(ip[2:4], uint16(len(ip)+6)) // claims the padding
	data := tcpSeg(srvPort, cliPort, c.srvSeq+1, c.cliSeq+1, tACK|tPSH, 509, "\x14\x03\x03\x00\x01\x01")
	pkts := [][]byte{
		c.pkt(true, 0, tSYN, 64240, ""),         // 1
		c.pkt(false, 0, tSYN|tACK, 65160, ""),   // 2
		c.pkt(true, 0, tACK, 502, ""),           // 3
		pppoe(srvMAC, cliMAC, ip, 2+len(ip), 6), // 4
		pppoe(srvMAC, cliMAC, ipv4(srvIP, cliIP, protoTCP, 8, 0, false, data), 2+20+len(data), 0), // 5
	}
	h, st := readBytes(t, pcapOf(t, layers.LinkTypeEthernet, pkts...), Options{})
	checkLines(t, h.lines, []string{
		"conn 0 192.168.1.50:51000>93.184.216.34:443 syn=true guessed=false first=1",
		"0 SYN client f1",
		"0 SYN-ACK server f2",
		"problem 1 frame=4 offset=234",
		`0 data server "\x14\x03\x03\x00\x01\x01" f5:0+6`,
		"0 end 2",
	})
	if st.Undecodable != 0 {
		t.Errorf("%d undecodable frames", st.Undecodable)
	}
}

// TCP Fast Open refused (suricata-verify tcp-fastopen-10-syn-data-ignore):
// the ClientHello rides on the SYN, the server answers SYN-ACKs with two
// ISNs, and the client goes on with the second one, resending the
// ClientHello after the handshake. The SYN's data is delivered once, and the
// server's bytes, which follow the second ISN, are delivered too.
func TestSYNACKRetriedWithNewISN(t *testing.T) {
	c := newConv4()
	const isnB = 90000 // the server's second ISN
	cli := func(seq, ack uint32, fl uint8, data string) []byte {
		return ether(cliMAC, srvMAC, etherIPv4, ipv4(cliIP, srvIP, protoTCP, 1, 0, false, tcpSeg(cliPort, srvPort, seq, ack, fl, 502, data)))
	}
	srv := func(seq, ack uint32, fl uint8, data string) []byte {
		return ether(srvMAC, cliMAC, etherIPv4, ipv4(srvIP, cliIP, protoTCP, 1, 0, false, tcpSeg(srvPort, cliPort, seq, ack, fl, 509, data)))
	}
	pkts := [][]byte{
		cli(c.cliSeq, 0, tSYN, "hello"),             // 1 TFO data
		srv(c.srvSeq, c.cliSeq+1, tSYN|tACK, ""),    // 2 first ISN, ignores the data
		cli(c.cliSeq, 0, tSYN, ""),                  // 3 SYN retried without data
		srv(isnB, c.cliSeq+1, tSYN|tACK, ""),        // 4 second ISN
		srv(c.srvSeq, c.cliSeq+1, tSYN|tACK, ""),    // 5 first ISN again
		cli(c.cliSeq+1, isnB+1, tACK|tPSH, "hello"), // 6 the client took the second
		srv(isnB+1, c.cliSeq+6, tACK, ""),           // 7
		srv(isnB+1, c.cliSeq+6, tACK|tPSH, "world"), // 8
		cli(c.cliSeq+6, isnB+6, tACK|tPSH, "again"), // 9
		srv(isnB+6, c.cliSeq+11, tACK|tPSH, "!"),    // 10
		srv(isnB+1, c.cliSeq+6, tACK|tPSH, "world"), // 11 retransmission
	}
	h, _ := readBytes(t, pcapOf(t, layers.LinkTypeEthernet, pkts...), Options{})
	checkLines(t, h.lines, []string{
		"conn 0 192.168.1.50:51000>93.184.216.34:443 syn=true guessed=false first=1",
		"0 SYN client f1",
		`0 data client "hello" f1:0+5`,
		"0 SYN-ACK server f2",
		"0 SYN client f3",
		"0 retransmission client f3",
		"0 SYN-ACK server f4",
		"0 SYN-ACK server f5",
		"0 retransmission server f5",
		"0 retransmission client f6",
		`0 data server "world" f8:0+5`,
		`0 data client "again" f9:0+5`,
		`0 data server "!" f10:0+1`,
		"0 retransmission server f11",
		"0 end 2",
	})
}

// A segment that arrives after missing bytes and is then retransmitted:
// its bytes are cited with the frame that first carried them (nDPI
// wechat.pcap stream 55: frame 1644, not the copy in 1653), whether the
// missing bytes come later or never.
func TestFirstCopyCitedAfterGap(t *testing.T) {
	c := newConv4()
	pkts := [][]byte{
		c.pkt(true, 0, tSYN, 64240, ""),               // 1
		c.pkt(false, 0, tSYN|tACK, 65160, ""),         // 2
		c.pkt(true, 0, tACK, 502, ""),                 // 3
		c.pkt(true, 5, tACK|tPSH, 502, "world"),       // 4 after 5 missing bytes
		c.pkt(true, 5, tACK|tPSH, 502, "world"),       // 5 the same again
		c.pkt(true, 0, tACK|tPSH, 502, "hello"),       // 6 the missing bytes
		c.pkt(false, 5, tACK|tPSH, 509, "there"),      // 7 after 5 missing bytes, never sent
		c.pkt(false, 5, tACK|tPSH|tFIN, 509, "there"), // 8 the same again, with FIN
	}
	h, _ := readBytes(t, pcapOf(t, layers.LinkTypeEthernet, pkts...), Options{})
	checkLines(t, h.lines, []string{
		"conn 0 192.168.1.50:51000>93.184.216.34:443 syn=true guessed=false first=1",
		"0 SYN client f1",
		"0 SYN-ACK server f2",
		"0 retransmission client f5",
		`0 data client "helloworld" f6:0+5 f4:5+5`,
		"0 retransmission server f8",
		"0 FIN server f8",
		"0 gap server f7 missing=5",
		`0 data server "there" f7:0+5`,
		"0 end 2",
	})
}

// Bare ACKs and SYN-ACKs whose IP length counts the zero Ethernet padding
// as 2 to 6 bytes of payload (nDPI heuristic_tcp_ack_payload.pcap): it is
// not data, so the ClientHello sent next at the same sequence number is
// delivered whole. A PSH segment of zeros stays data.
func TestZeroPaddingOnACKIsNotData(t *testing.T) {
	c := newConv4()
	pkts := [][]byte{
		c.pkt(true, 0, tSYN, 64240, ""),                        // 1
		c.pkt(false, 0, tSYN|tACK, 65160, "\x00\x00"),          // 2 padding
		c.pkt(true, 0, tACK, 502, "\x00\x00"),                  // 3 padding
		c.pkt(true, 0, tACK|tPSH, 502, "\x16\x03\x01"),         // 4
		c.pkt(false, 0, tACK, 509, "\x00\x00\x00\x00\x00\x00"), // 5 padding
		c.pkt(false, 0, tACK|tPSH, 509, "\x00\x00"),            // 6 data
	}
	h, _ := readBytes(t, pcapOf(t, layers.LinkTypeEthernet, pkts...), Options{})
	checkLines(t, h.lines, []string{
		"conn 0 192.168.1.50:51000>93.184.216.34:443 syn=true guessed=false first=1",
		"0 SYN client f1",
		"0 SYN-ACK server f2",
		`0 data client "\x16\x03\x01" f4:0+3`,
		`0 data server "\x00\x00" f6:0+2`,
		"0 end 2",
	})
}

// A server captured twice, before and after a sequence-rewriting middlebox
// (mercury capture2.pcap): two SYN-ACKs with different ISNs, then every
// segment in both numberings. The first segment without SYN settles the
// numbering followed: it is the first ISN's, so its bytes are delivered
// and the other copy's are not.
func TestSYNACKTwoISNsFirstSegmentSettles(t *testing.T) {
	c := newConv4()
	const isnB = 2000 // below the first ISN: the copy's bytes look old
	srvB := func(seq uint32, fl uint8, data string) []byte {
		return ether(srvMAC, cliMAC, etherIPv4, ipv4(srvIP, cliIP, protoTCP, 1, 0, false, tcpSeg(srvPort, cliPort, seq, c.cliSeq+1, fl, 509, data)))
	}
	pkts := [][]byte{
		c.pkt(true, 0, tSYN, 64240, ""),        // 1
		c.pkt(false, 0, tSYN|tACK, 65160, ""),  // 2
		srvB(isnB, tSYN|tACK, ""),              // 3
		c.pkt(false, 0, tACK, 509, ""),         // 4 the first ISN's numbering
		srvB(isnB+1, tACK, ""),                 // 5
		c.pkt(false, 0, tACK|tPSH, 509, "one"), // 6
		srvB(isnB+1, tACK|tPSH, "uno"),         // 7
		c.pkt(false, 3, tACK|tPSH, 509, "two"), // 8
	}
	h, _ := readBytes(t, pcapOf(t, layers.LinkTypeEthernet, pkts...), Options{})
	checkLines(t, h.lines, []string{
		"conn 0 192.168.1.50:51000>93.184.216.34:443 syn=true guessed=false first=1",
		"0 SYN client f1",
		"0 SYN-ACK server f2",
		"0 SYN-ACK server f3",
		"0 retransmission server f3",
		`0 data server "one" f6:0+3`,
		"0 retransmission server f7",
		`0 data server "two" f8:0+3`,
		"0 end 2",
	})
}
