package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"tlspcap/capture"
	"tlspcap/diagnose"
	"tlspcap/reports"
)

func liveCmd(code *int) *cobra.Command {
	var f readFlags
	var iface, readPath, writePath, rotate, buffer string
	var duration, idle time.Duration
	c := &cobra.Command{
		Use:   "live (-i IFACE | -r -) [FILTER...]",
		Short: "Capture on an interface (or read a pcap stream) and print verdicts as connections end",
		Long: `Capture on an interface (AF_PACKET, promiscuous; Linux) or read a pcap/pcapng
stream on stdin (ssh ap tcpdump -i br-lan -U -w - | tlspcap live -r -), and print
each connection's verdict as it ends or goes idle: one line for a healthy
connection, the full findings for a failing one. Ctrl-C (or --duration) ends the
capture, prints the summary and exits 0 (nothing failed), 1 (failures) or 2.

FILTER is a capture filter in tcpdump's syntax, applied in the kernel:
host ADDR|NAME, net ADDR/LEN (or ADDR mask MASK, or 192.168), port N,
portrange N-M (each with src/dst), ether host|src|dst MAC, vlan [ID], ip, ip6,
arp, rarp, tcp, udp, icmp, tcp port 443, and/or/not, parentheses. A host name
is resolved at start to all its IPv4 and IPv6 addresses.

--write F.pcapng saves the packets; with --rotate 100MB a new file starts
before one would grow past 100 MB: F.pcapng, F-1.pcapng, F-2.pcapng, ...
Each file is a complete capture; to analyse them as one, in order:
  cat F.pcapng F-1.pcapng F-2.pcapng | tlspcap analyze -

Capturing needs CAP_NET_RAW (and CAP_NET_ADMIN for promiscuous mode):
  sudo setcap cap_net_raw,cap_net_admin+eip $(which tlspcap)`,
		RunE: func(c *cobra.Command, args []string) error {
			if (iface == "") == (readPath == "") {
				return usageError{fmt.Errorf("live needs -i IFACE or -r - (a pcap stream on stdin)")}
			}
			if readPath != "" && readPath != "-" {
				return usageError{fmt.Errorf("live -r reads a stream on stdin (-r -); for a file use tlspcap analyze %s", readPath)}
			}
			fmtOut, err := f.outFormat()
			if err != nil {
				return err
			}
			if f.client != "" {
				return usageError{fmt.Errorf("live: --client %s: live reports each connection as it ends; select by fingerprint with tlspcap analyze --client on the --write file", f.client)}
			}
			if idle <= 0 {
				return usageError{fmt.Errorf("--idle %v: must be positive", idle)}
			}
			filter := strings.Join(args, " ")
			if readPath != "" && filter != "" {
				return usageError{fmt.Errorf("live -r -: filter the stream where it is captured (tcpdump ... %s)", filter)}
			}
			if _, err := capture.CompileFilter(filter); err != nil {
				return usageError{err}
			}
			cfg := capture.LiveConfig{Interface: iface, Filter: filter, WriteFile: writePath, Application: programName + " " + version}
			if rotate != "" {
				if writePath == "" {
					return usageError{fmt.Errorf("--rotate %s: goes with --write FILE", rotate)}
				}
				if cfg.Rotate, err = parseSize(rotate); err != nil || cfg.Rotate < minRotate {
					return usageError{fmt.Errorf("--rotate %q: give a size of at least 64KiB, e.g. 100MB or 1GiB", rotate)}
				}
			}
			if buffer != "" {
				n, err := parseSize(buffer)
				if err != nil || n < 128<<10 || n > 1<<30 {
					return usageError{fmt.Errorf("--buffer %q: give a ring size from 128KiB to 1GiB, e.g. 64MiB", buffer)}
				}
				if readPath != "" {
					return usageError{fmt.Errorf("--buffer is for -i (the kernel ring of a live capture)")}
				}
				cfg.RingBytes = int(n)
			}
			o, err := f.options(false)
			if err != nil {
				return err
			}
			w, closeOut, ro, err := output(c, f.output)
			if err != nil {
				return err
			}
			ro.All = f.all
			var outErr error
			o.OnConnection = func(conn *diagnose.Connection) {
				if err := reports.WriteConnection(w, conn, fmtOut, ro); err != nil && outErr == nil {
					outErr = err
				}
			}
			a, err := diagnose.NewAnalyzer(o)
			if err != nil {
				return usageError{err}
			}

			if iface != "" {
				if err := capture.CheckInterface(iface); err != nil {
					return err
				}
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if duration > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, duration)
				defer cancel()
			}
			cfg.Stop = ctx.Done()
			copts, lerr := captureLimits(f.maxConns, f.maxBuffered, f.maxMemory)
			if lerr != nil {
				return lerr
			}
			copts.IdleTimeout = idle

			var st capture.LiveStats
			name := iface
			ls := reports.LiveStats{KernelDrops: -1}
			if readPath != "" {
				name = "stdin"
				st, err = capture.ReadStream(c.InOrStdin(), name, cfg, a, copts)
			} else {
				if !f.noProgress {
					fmt.Fprintf(c.ErrOrStderr(), "capturing on %s", iface)
					if filter != "" {
						fmt.Fprintf(c.ErrOrStderr(), " (%s)", filter)
					}
					fmt.Fprintln(c.ErrOrStderr(), "; Ctrl-C to stop")
				}
				st, err = capture.CaptureInterface(cfg, a, copts)
				ls.KernelPackets, ls.KernelDrops = int64(st.KernelPackets), int64(st.KernelDrops)
			}
			ls.Files = st.Files
			// The interface went away, or the stream's compressed data is
			// damaged: the summary of what was read, then what happened
			// (exit 2).
			var gone *capture.InterfaceGoneError
			var damaged *capture.DecompressError
			ended := err
			if err != nil && !errors.As(err, &gone) && !errors.As(err, &damaged) {
				return err
			}
			rep := a.Report(name, st.Stats)
			if err := reports.WriteLiveSummary(w, rep, ls, fmtOut, ro); err != nil {
				return err
			}
			if outErr != nil {
				return outErr
			}
			if ended != nil {
				if cerr := closeOut(); cerr != nil {
					return cerr
				}
				return ended
			}
			if rep.Failed() {
				*code = exitFailed
			}
			return closeOut()
		},
	}
	// What live writes: a line or a JSON object per connection as it ends.
	f.register(c, true, []reports.Format{reports.Text, reports.JSON})
	// Connections are reported as they end, before a fingerprint could
	// select them: --client is for analyze.
	c.Flags().MarkHidden("client")
	c.Flags().StringVarP(&iface, "interface", "i", "", "capture on this interface (AF_PACKET; needs CAP_NET_RAW)")
	c.Flags().StringVarP(&readPath, "read", "r", "", "read a pcap/pcapng stream from stdin (-r -) as it arrives")
	c.Flags().StringVarP(&writePath, "write", "w", "", "also save the packets to this pcapng file")
	c.Flags().StringVar(&rotate, "rotate", "", "with --write: start a new file (F-1.pcapng, F-2.pcapng, ...) before one grows past this size (100MB, 1GiB)")
	c.Flags().StringVar(&buffer, "buffer", "", "kernel ring size for -i (default 16MiB); raise it when the summary reports dropped packets")
	c.Flags().DurationVar(&duration, "duration", 0, "stop after this long (default: until Ctrl-C)")
	c.Flags().DurationVar(&idle, "idle", 30*time.Second, "decide a connection that has been silent this long")
	return c
}

// minRotate is the smallest --rotate: room for headers and a few packets.
const minRotate = 64 << 10

// parseSize reads a size such as 100MB, 1GiB, 512k or 1000000 (bytes):
// k/M/G are powers of 1000 (as tcpdump -C), Ki/Mi/Gi powers of 1024; a
// trailing B is optional.
func parseSize(s string) (int64, error) {
	t := strings.TrimSuffix(strings.TrimSpace(s), "B")
	t = strings.TrimSuffix(t, "b")
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"k", 1e3}, {"K", 1e3}, {"M", 1e6}, {"m", 1e6}, {"G", 1e9}, {"g", 1e9}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSuffix(t, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || !(n > 0) || n*float64(mult) > 1<<50 {
		return 0, fmt.Errorf("size %q: give a number with k, M, G, KiB, MiB or GiB", s)
	}
	return int64(n * float64(mult)), nil
}
