//go:build !linux

package capture

import "fmt"

// CaptureInterface captures on an interface: Linux only (AF_PACKET).
func CaptureInterface(cfg LiveConfig, h Handler, o Options) (LiveStats, error) {
	if _, err := lookupInterface(cfg.Interface); err != nil {
		return LiveStats{}, err
	}
	return LiveStats{}, fmt.Errorf("live capture on an interface works on Linux only; here, capture with tcpdump -U -w - and pipe it to tlspcap live -r -")
}
