package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
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
	var iface, readPath, writePath string
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
host ADDR, net ADDR/LEN, port N (with src/dst), ip, ip6, arp, tcp, udp, icmp,
tcp port 443, and/or/not, parentheses.

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
			if fmtOut != reports.Text && fmtOut != reports.JSON {
				return usageError{fmt.Errorf("live: --format %s: use text or json", fmtOut)}
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
			cfg := capture.LiveConfig{Interface: iface, Filter: filter, Application: programName + " " + version}
			var wf *os.File
			if writePath != "" {
				if wf, err = os.Create(writePath); err != nil {
					return usageError{fmt.Errorf("--write: %v", unwrapPathError(err))}
				}
				cfg.Write = wf
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if duration > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, duration)
				defer cancel()
			}
			cfg.Stop = ctx.Done()
			copts := capture.Options{IdleTimeout: idle}

			var st capture.LiveStats
			name := iface
			ls := reports.LiveStats{KernelDrops: -1, Written: writePath}
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
				ls.KernelDrops = int64(st.KernelDrops)
			}
			if wf != nil {
				if cerr := wf.Close(); cerr != nil && err == nil {
					err = fmt.Errorf("--write: %v", cerr)
				}
			}
			if err != nil {
				var pe *capture.PermissionError
				if wf != nil && st.Frames == 0 && errors.As(err, &pe) {
					os.Remove(writePath)
				}
				return err
			}
			rep := a.Report(name, st.Stats)
			if err := reports.WriteLiveSummary(w, rep, ls, fmtOut, ro); err != nil {
				return err
			}
			if outErr != nil {
				return outErr
			}
			if rep.Failed() {
				*code = exitFailed
			}
			return closeOut()
		},
	}
	f.register(c, true)
	c.Flags().StringVarP(&iface, "interface", "i", "", "capture on this interface (AF_PACKET; needs CAP_NET_RAW)")
	c.Flags().StringVarP(&readPath, "read", "r", "", "read a pcap/pcapng stream from stdin (-r -) as it arrives")
	c.Flags().StringVarP(&writePath, "write", "w", "", "also save the packets to this pcapng file")
	c.Flags().DurationVar(&duration, "duration", 0, "stop after this long (default: until Ctrl-C)")
	c.Flags().DurationVar(&idle, "idle", 30*time.Second, "decide a connection that has been silent this long")
	return c
}
