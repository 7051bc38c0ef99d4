package capture

import (
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"github.com/gopacket/gopacket/afpacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// CaptureInterface captures on cfg.Interface (AF_PACKET, promiscuous,
// cfg.Filter in the kernel) until cfg.Stop is closed, handing each packet
// to h as it arrives and writing it to cfg.WriteFile. When it returns, every
// connection has been ended and reported to h.
func CaptureInterface(cfg LiveConfig, h Handler, o Options) (LiveStats, error) {
	ifc, err := lookupInterface(cfg.Interface)
	if err != nil {
		return LiveStats{}, err
	}
	lt := interfaceLinkType(ifc)
	if cfg.Filter != "" && lt != layers.LinkTypeEthernet {
		return LiveStats{}, fmt.Errorf("%s carries no Ethernet headers: capture filters work on Ethernet interfaces only", cfg.Interface)
	}
	// Compiled once: host names are resolved once, for the kernel's
	// program and the check below alike.
	// prog reads packets as the ring hands them over (VLAN tags put back
	// into the data); kprog is the kernel's, which may find the outer tag
	// apart from the data.
	prog, kprog, err := compileFilters(cfg.Filter)
	if err != nil {
		return LiveStats{}, err
	}
	// On loopback AF_PACKET sees each packet twice, leaving (outgoing) and
	// arriving: libpcap drops the outgoing copy, and so does the kernel
	// program here.
	loopback := ifc.Flags&net.FlagLoopback != 0
	var raw []bpf.RawInstruction
	if prog != nil || loopback {
		if loopback {
			kprog = withoutOutgoing(prog)
		}
		if raw, err = bpf.Assemble(kprog); err != nil {
			return LiveStats{}, fmt.Errorf("filter %q: %w", cfg.Filter, err)
		}
	}
	ring := cfg.RingBytes
	if ring <= 0 {
		ring = DefaultRingBytes
	}
	// Blocks of 1 MiB; a ring under 1 MiB is one block of whole frames.
	block, blocks := liveBlockSize, ring/liveBlockSize
	if blocks < 1 {
		block, blocks = max(1, (ring+liveFrameSize-1)/liveFrameSize)*liveFrameSize, 1
	}
	tp, err := afpacket.NewTPacket(
		afpacket.OptInterface(cfg.Interface),
		afpacket.OptFrameSize(liveFrameSize),
		afpacket.OptBlockSize(block),
		afpacket.OptNumBlocks(blocks),
		afpacket.OptPollTimeout(100*time.Millisecond),
		afpacket.OptAddVLANHeader(true),
	)
	if err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
			return LiveStats{}, &PermissionError{Interface: cfg.Interface, Err: err}
		}
		return LiveStats{}, fmt.Errorf("capturing on %s: %w", cfg.Interface, err)
	}
	// The handle is used and closed by this goroutine only.
	defer tp.Close()
	// Packets that reached the ring before the filter was attached are
	// filtered here.
	var vm *bpf.VM
	var attached time.Time
	if len(raw) > 0 {
		if err := tp.SetBPF(raw); err != nil {
			return LiveStats{}, fmt.Errorf("attaching the filter on %s: %w", cfg.Interface, err)
		}
		attached = time.Now()
		if prog != nil {
			if vm, err = bpf.NewVM(prog); err != nil {
				return LiveStats{}, fmt.Errorf("filter %q: %w", cfg.Filter, err)
			}
		}
	}
	if err := tp.SetPromiscuous(true); err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
			return LiveStats{}, &PermissionError{Interface: cfg.Interface, Err: err}
		}
		return LiveStats{}, fmt.Errorf("promiscuous mode on %s: %w", cfg.Interface, err)
	}
	defer tp.SetPromiscuous(false)

	s, err := newLiveSink(cfg, cfg.Interface, h, o)
	if err != nil {
		return LiveStats{}, err
	}
	// The counters are cumulative here (afpacket adds up the kernel's
	// read-and-reset values).
	s.readKernel = func() (uint64, uint64, bool) {
		ss, ss3, err := tp.SocketStats()
		if err != nil {
			return 0, 0, false
		}
		return uint64(ss.Packets()) + uint64(ss3.Packets()), uint64(ss.Drops()) + uint64(ss3.Drops()), true
	}
	if s.out != nil {
		// The file starts now, so even a capture without packets is valid.
		if err := s.out.startWith(uint32(lt)); err != nil {
			s.finish()
			return LiveStats{}, fmt.Errorf("--write %s: %w", s.out.current(), err)
		}
	}
	for !s.stopped() {
		data, ci, err := tp.ZeroCopyReadPacketData()
		switch {
		case err == nil:
			// The packet type is not in the ring's data: a loopback packet
			// queued before the program was attached may be an outgoing
			// copy, and the capture starts at the attachment.
			if loopback && ci.Timestamp.Before(attached) {
				break
			}
			// Only packets queued before the kernel's program was attached
			// need the check here: the kernel passed the others, reading
			// the outer VLAN tag where it keeps it, which the ring's data
			// (the tag put back) no longer shows.
			if vm != nil && ci.Timestamp.Before(attached) {
				if n, verr := vm.Run(data); verr != nil || n == 0 {
					break
				}
			}
			s.packet(uint32(lt), data, ci.Length, ci.Timestamp)
		case errors.Is(err, afpacket.ErrTimeout) || errors.Is(err, syscall.EINTR):
		default:
			at := time.Now()
			st := s.finish()
			if gone := interfaceGone(ifc, at, st, err); gone != nil {
				return st, gone
			}
			return st, fmt.Errorf("capturing on %s: %w", cfg.Interface, err)
		}
		s.maybeTick()
	}
	return s.finish(), s.err
}

// packetOutgoing is the kernel's PACKET_OUTGOING packet type (linux/if_packet.h).
const packetOutgoing = 4

// withoutOutgoing prefixes prog (nil: accept everything) with a check of
// the packet type that rejects packets the host sends.
func withoutOutgoing(prog []bpf.Instruction) []bpf.Instruction {
	if prog == nil {
		prog = []bpf.Instruction{bpf.RetConstant{Val: FilterSnaplen}}
	}
	return append([]bpf.Instruction{
		bpf.LoadExtension{Num: bpf.ExtType},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: packetOutgoing, SkipFalse: 1},
		bpf.RetConstant{Val: 0},
	}, prog...)
}

// interfaceGone tells whether a read error came from the interface going
// away (deleted, or down) under the capture.
func interfaceGone(ifc *net.Interface, at time.Time, st LiveStats, err error) *InterfaceGoneError {
	now, lerr := net.InterfaceByName(ifc.Name)
	gone := &InterfaceGoneError{Interface: ifc.Name, At: at, Packets: st.Frames, Files: st.Files, Err: err}
	switch {
	case lerr != nil || now.Index != ifc.Index:
		return gone
	case now.Flags&net.FlagUp == 0:
		gone.Down = true
		return gone
	}
	return nil
}
