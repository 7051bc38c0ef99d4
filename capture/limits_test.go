package capture

import (
	"bytes"
	"testing"

	"github.com/gopacket/gopacket/layers"
)

// footHandler's connections say they hold 100 bytes per payload byte
// received (Footprinter).
type footHandler struct{ logHandler }

type footConn struct {
	*logConn
	held int
}

func (h *footHandler) Conn(c *Conn) ConnHandler {
	return &footConn{logConn: h.logHandler.Conn(c).(*logConn)}
}

func (c *footConn) Payload(p Payload) {
	c.held += 100 * len(p.Data)
	c.logConn.Payload(p)
}

func (c *footConn) Footprint() int { return c.held }

// Past MaxMemory the least recently active connection is ended, counting
// ConnBytes per connection and what its handler says it holds.
func TestMaxMemoryEvicts(t *testing.T) {
	a := newConv4()
	b := newConv4()
	b.cport = 51001
	h := &footHandler{}
	o := Options{MaxMemory: 2*ConnBytes + 150}
	st, err := Read(bytes.NewReader(pcapOf(t, layers.LinkTypeEthernet,
		a.pkt(true, 0, tACK|tPSH, 502, "aa"), // ConnBytes + 200: within
		b.pkt(true, 0, tACK|tPSH, 502, "b"),  // a second ConnBytes: over, a goes
	)), "test.pcap", h, o)
	if err != nil {
		t.Fatal(err)
	}
	checkLines(t, h.lines, []string{
		"conn 0 192.168.1.50:51000>93.184.216.34:443 syn=false guessed=true first=1",
		`0 data client "aa" f1:0+2`,
		"conn 1 192.168.1.50:51001>93.184.216.34:443 syn=false guessed=true first=2",
		"problem 8 frame=2 offset=-1",
		"0 end 3",
		`1 data client "b" f2:0+1`,
		"1 " + endCaptureDone,
	})
	if want := "frame 2: the open connections held more than 1516B (--max-memory): tcp.stream 0 was ended early"; len(h.problems) != 1 || h.problems[0].Detail != want {
		t.Errorf("problems %+v, want %q", h.problems, want)
	}
	if st.Evicted != 1 || st.EvictedMemory != 1 || st.MaxMemory != 2*ConnBytes+150 {
		t.Errorf("stats: evicted %d (memory %d), max memory %d", st.Evicted, st.EvictedMemory, st.MaxMemory)
	}
}

func TestFormatSize(t *testing.T) {
	for n, want := range map[int64]string{96 << 20: "96MiB", 1536 << 10: "1536KiB", 1 << 30: "1GiB", 1516: "1516B", 10<<20 + 1: "10MiB"} {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
}
