package capture

import (
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/gopacket/gopacket/afpacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// CaptureInterface captures on cfg.Interface (AF_PACKET, promiscuous,
// cfg.Filter in the kernel) until cfg.Stop is closed, handing each packet
// to h as it arrives and writing it to cfg.Write. When it returns, every
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
	raw, err := AssembleFilter(cfg.Filter)
	if err != nil {
		return LiveStats{}, err
	}
	tp, err := afpacket.NewTPacket(
		afpacket.OptInterface(cfg.Interface),
		afpacket.OptFrameSize(liveFrameSize),
		afpacket.OptBlockSize(liveBlockSize),
		afpacket.OptNumBlocks(liveNumBlocks),
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
	// filtered here too.
	var vm *bpf.VM
	if len(raw) > 0 {
		if err := tp.SetBPF(raw); err != nil {
			return LiveStats{}, fmt.Errorf("attaching the filter on %s: %w", cfg.Interface, err)
		}
		prog, _ := CompileFilter(cfg.Filter)
		if vm, err = bpf.NewVM(prog); err != nil {
			return LiveStats{}, fmt.Errorf("filter %q: %w", cfg.Filter, err)
		}
	}
	if err := tp.SetPromiscuous(true); err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
			return LiveStats{}, &PermissionError{Interface: cfg.Interface, Err: err}
		}
		return LiveStats{}, fmt.Errorf("promiscuous mode on %s: %w", cfg.Interface, err)
	}
	defer tp.SetPromiscuous(false)

	s := newLiveSink(cfg, h, o)
	s.start = time.Now()
	s.name = cfg.Interface
	if cfg.Write != nil {
		// The file starts now, so even a capture without packets is valid.
		if _, err := s.interfaceID(uint32(lt)); err != nil {
			return LiveStats{}, fmt.Errorf("--write: %w", err)
		}
		if err := s.ng.Flush(); err != nil {
			return LiveStats{}, fmt.Errorf("--write: %w", err)
		}
	}
	var st LiveStats
	for !s.stopped() {
		data, ci, err := tp.ZeroCopyReadPacketData()
		switch {
		case err == nil:
			if vm != nil {
				if n, verr := vm.Run(data); verr != nil || n == 0 {
					break
				}
			}
			if err := s.packet(uint32(lt), data, ci.Length, ci.Timestamp); err != nil {
				s.finish()
				return st, err
			}
		case errors.Is(err, afpacket.ErrTimeout) || errors.Is(err, syscall.EINTR):
		default:
			s.finish()
			return st, fmt.Errorf("capturing on %s: %w", cfg.Interface, err)
		}
		s.maybeTick()
	}
	if ss, ss3, err := tp.SocketStats(); err == nil {
		st.KernelPackets = uint64(ss.Packets()) + uint64(ss3.Packets())
		st.KernelDrops = uint64(ss.Drops()) + uint64(ss3.Drops())
	}
	s.kernelPackets, s.kernelDrops = st.KernelPackets, st.KernelDrops
	st.Stats = s.finish()
	st.Written = s.written
	return st, s.err
}
