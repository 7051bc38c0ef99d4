package capture

import (
	"bytes"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

type dropsRecorder struct {
	quietHandler
	got []KernelDrops
}

func (d *dropsRecorder) KernelDrops(k KernelDrops) { d.got = append(d.got, k) }

// The kernel counters a live capture writes between its packets (interface
// statistics blocks) come back as KernelDrops at the same frames: only
// increases count, per interface.
func TestPcapngStatisticsGiveKernelDrops(t *testing.T) {
	var buf bytes.Buffer
	w, err := pcapgo.NewNgWriter(&buf, layers.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	frame := make([]byte, 60) // not IPv4: counted, nothing else
	pkt := func(n int) {
		for i := 0; i < n; i++ {
			if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: t0, CaptureLength: len(frame), Length: len(frame)}, frame); err != nil {
				t.Fatal(err)
			}
		}
	}
	isb := func(recv, drop uint64) {
		if err := w.WriteInterfaceStats(0, pcapgo.NgInterfaceStatistics{LastUpdate: t0.Add(time.Second), PacketsReceived: recv, PacketsDropped: drop}); err != nil {
			t.Fatal(err)
		}
	}
	pkt(3)
	isb(8, 5)
	pkt(2)
	isb(10, 5) // no new drops
	isb(14, 9)
	pkt(1)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	h := &dropsRecorder{quietHandler: quietHandler{t: t}}
	st, err := Read(bytes.NewReader(buf.Bytes()), "drops.pcapng", h, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Frames != 6 {
		t.Errorf("%d frames, want 6", st.Frames)
	}
	want := []KernelDrops{
		{Frame: Frame{Number: 3, Time: t0.Add(time.Second)}, Dropped: 5, Total: 5},
		{Frame: Frame{Number: 5, Time: t0.Add(time.Second)}, Dropped: 4, Total: 9},
	}
	if len(h.got) != len(want) {
		t.Fatalf("got %+v, want %+v", h.got, want)
	}
	for i := range want {
		g, w := h.got[i], want[i]
		if g.Frame.Number != w.Frame.Number || !g.Frame.Time.Equal(w.Frame.Time) || g.Dropped != w.Dropped || g.Total != w.Total {
			t.Errorf("reading %d: got %+v, want %+v", i, g, w)
		}
	}
}
