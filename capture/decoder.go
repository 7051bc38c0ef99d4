package capture

import "time"

// Decoder processes packets handed to it one at a time, for sources that
// are not capture files (a live interface). It numbers frames in the order
// Packet is called. It is not safe for concurrent use.
type Decoder struct {
	p *processor
}

// NewDecoder returns a Decoder reporting to h.
func NewDecoder(h Handler, o Options) *Decoder {
	return &Decoder{p: newProcessor(h, o.withDefaults())}
}

// Packet processes one packet: linkType is the LINKTYPE_* value of its
// link layer, data the captured bytes (not retained after the call),
// wireLen its length on the wire.
func (d *Decoder) Packet(linkType uint32, data []byte, wireLen int, ts time.Time) {
	d.p.packet(record{data: data, wireLen: wireLen, ts: ts, linkType: linkType, offset: -1})
}

// Tick advances the clock without a packet, so connections that went
// quiet are flushed and ended (EndIdle, EndClosed) while no traffic flows.
func (d *Decoder) Tick(now time.Time) {
	if now.After(d.p.now) {
		d.p.now = now
	}
	d.p.tick()
}

// Close flushes every connection (End(EndCaptureDone) for those still
// open) and returns the statistics.
func (d *Decoder) Close() Stats {
	d.p.finish()
	return d.p.stats
}
