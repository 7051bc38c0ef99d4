package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"tlspcap/diagnose"
)

// TestTLS13Twins: every TLS 1.3 ground-truth capture NAME-tls13 that carries
// a key log (a pcapng Decryption Secrets Block, or --keylog in its sidecar)
// and has a TLS 1.2 twin NAME is diagnosed, with the keys, to the twin's
// root cause and device error; without them (the secrets block cut out
// here) tlspcap lists no certificate and claims no cause it cannot see; with
// a wrong key log the report says the keys do not match.
func TestTLS13Twins(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/pcaps/*-tls13.expect.json")
	tested := 0
	for _, sc13 := range files {
		name := strings.TrimSuffix(filepath.Base(sc13), ".expect.json")
		sc12 := filepath.Join(filepath.Dir(sc13), strings.TrimSuffix(name, "-tls13")+".expect.json")
		if _, err := os.Stat(sc12); err != nil {
			continue
		}
		s13, s12 := readSidecar(t, sc13), readSidecar(t, sc12)
		if s13.Expect.Outcome != "failed" {
			continue // the twins of failures
		}
		pcap13 := strings.TrimSuffix(sc13, ".expect.json") + ".pcapng"
		raw, err := os.ReadFile(pcap13)
		if err != nil {
			t.Fatal(err)
		}
		stripped, secrets, err := stripSecrets(raw)
		if err != nil {
			t.Fatalf("%s: %v", pcap13, err)
		}
		args, keyFiles := splitKeylogArgs(s13.Args)
		if secrets == nil && len(keyFiles) == 0 {
			continue // no key log: not a decryption twin
		}
		for _, k := range keyFiles {
			b, err := os.ReadFile(k)
			if err != nil {
				t.Fatal(err)
			}
			secrets = append(secrets, b...)
		}
		tested++
		t.Run(name, func(t *testing.T) {
			keyed := twinConn(t, analyzeArgs(t, append(repoArgs(s13.Args), pcap13)...), s13.Expect.Stream)
			twin := twinConn(t, analyzeArgs(t, append(repoArgs(s12.Args), strings.TrimSuffix(sc12, ".expect.json")+".pcapng")...), s12.Expect.Stream)
			r13, r12 := firstError(keyed.Findings), firstError(twin.Findings)
			if r13 == nil || r12 == nil || r13.ID != r12.ID {
				t.Fatalf("root cause with keys %s, TLS 1.2 twin %s (findings %s / %s)", idOf(r13), idOf(r12), ids(keyed.Findings), ids(twin.Findings))
			}
			if s13.Expect.DeviceError != "" && s12.Expect.DeviceError != "" {
				if c13, c12 := firstCode(r13), firstCode(r12); !strings.EqualFold(c13, c12) || !strings.EqualFold(c13, s13.Expect.DeviceError) {
					t.Errorf("device error with keys %s, TLS 1.2 twin %s, the device printed %s", c13, c12, s13.Expect.DeviceError)
				}
			}
			if slices.ContainsFunc(keyed.Findings, func(f diagnose.Finding) bool { return f.ID == "tls13-handshake-encrypted" }) {
				t.Errorf("tls13-handshake-encrypted with the key log: %s", ids(keyed.Findings))
			}
			if len(keyed.Certificates) == 0 {
				t.Error("the decrypted server chain is not in the report")
			}

			// Without the keys.
			blindFile := filepath.Join(t.TempDir(), name+".pcapng")
			if err := os.WriteFile(blindFile, stripped, 0o644); err != nil {
				t.Fatal(err)
			}
			blind := twinConn(t, analyzeArgs(t, append(slices.Clone(args), blindFile)...), s13.Expect.Stream)
			t.Logf("with keys %s; without %s (%s)", ids(keyed.Findings), ids(blind.Findings), blind.Outcome)
			if len(blind.Certificates) != 0 {
				t.Errorf("%d certificates listed without keys", len(blind.Certificates))
			}
			for _, f := range blind.Findings {
				// A cause named from the device's plaintext alert says the
				// certificate was not seen and a key log would show it.
				if f.Severity == diagnose.SeverityError && f.ID != "tls13-handshake-encrypted" && !strings.Contains(f.Explanation, "--keylog") {
					t.Errorf("without keys %s claims the cause: %s", f.ID, f.Explanation)
				}
			}
			// Every twin failed: without keys it must still fail and say the
			// cause is encrypted; when that is the root cause (the
			// client-certificate twins: the server's alert after the
			// client's Finished) it points at the record that carries it.
			var enc *diagnose.Finding
			for i := range blind.Findings {
				if blind.Findings[i].ID == "tls13-handshake-encrypted" {
					enc = &blind.Findings[i]
				}
			}
			if blind.Outcome != diagnose.OutcomeFailed || enc == nil {
				t.Errorf("without keys: outcome %s, findings %s; want failed with tls13-handshake-encrypted", blind.Outcome, ids(blind.Findings))
			} else if enc.Severity == diagnose.SeverityError && !slices.Equal(enc.Frames, s13.Expect.Frames) {
				t.Errorf("without keys tls13-handshake-encrypted at frames %v, the decrypted cause at %v", enc.Frames, s13.Expect.Frames)
			}

			// A wrong key log: one hex digit of the server's handshake
			// secret changed.
			wrong := filepath.Join(t.TempDir(), "wrong.keys")
			if err := os.WriteFile(wrong, flipSecret(t, secrets, "SERVER_HANDSHAKE_TRAFFIC_SECRET "), 0o644); err != nil {
				t.Fatal(err)
			}
			rep := analyzeArgs(t, append(slices.Clone(args), "--keylog", wrong, blindFile)...)
			if !slices.ContainsFunc(rep.Capture.Problems, func(p string) bool {
				return strings.Contains(p, "tcp.stream 0: the key log has secrets for this connection, but they do not match")
			}) {
				t.Errorf("wrong key log: no mismatch reported; problems %q", rep.Capture.Problems)
			}
			if c := twinConn(t, rep, s13.Expect.Stream); len(c.Certificates) != 0 {
				t.Errorf("wrong key log: %d certificates listed", len(c.Certificates))
			}
		})
	}
	if tested < 6 {
		t.Errorf("%d TLS 1.3 twins with key logs, want at least 6", tested)
	}
}

func readSidecar(t *testing.T, path string) sidecar {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s sidecar
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return s
}

// splitKeylogArgs returns the sidecar's args without --keylog FILE, and
// the key log files.
func splitKeylogArgs(args []string) (rest, keys []string) {
	args = repoArgs(args)
	for i := 0; i < len(args); i++ {
		if args[i] == "--keylog" && i+1 < len(args) {
			keys = append(keys, args[i+1])
			i++
			continue
		}
		rest = append(rest, args[i])
	}
	return rest, keys
}

func analyzeArgs(t *testing.T, args ...string) *diagnose.Report {
	t.Helper()
	var out, errb bytes.Buffer
	full := append([]string{"analyze", "--format", "json", "--no-progress"}, args...)
	if code := run(full, nil, &out, &errb); code == exitUsage {
		t.Fatalf("tlspcap %s: exit %d: %s", strings.Join(full, " "), code, errb.String())
	}
	var rep diagnose.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("bad JSON: %v", err)
	}
	return &rep
}

func twinConn(t *testing.T, rep *diagnose.Report, stream int) *diagnose.Connection {
	t.Helper()
	for _, c := range rep.Connections {
		if c.Stream == stream {
			return c
		}
	}
	t.Fatalf("no connection %d in the report", stream)
	return nil
}

func firstCode(f *diagnose.Finding) string {
	if len(f.DeviceErrors) == 0 {
		return ""
	}
	return f.DeviceErrors[0].Code
}

// flipSecret changes the last hex digit of the secret on each line of a
// key log that starts with label.
func flipSecret(t *testing.T, kl []byte, label string) []byte {
	t.Helper()
	lines := strings.SplitAfter(string(kl), "\n")
	n := 0
	for i, l := range lines {
		if !strings.HasPrefix(l, label) {
			continue
		}
		b := []byte(strings.TrimRight(l, "\r\n"))
		if b[len(b)-1] == '0' {
			b[len(b)-1] = '1'
		} else {
			b[len(b)-1] = '0'
		}
		lines[i] = string(b) + "\n"
		n++
	}
	if n == 0 {
		t.Fatalf("no %s line in the key log", label)
	}
	return []byte(strings.Join(lines, ""))
}

// stripSecrets returns a pcapng without its Decryption Secrets Blocks
// (type 0x0000000A) and the TLS key logs they held (nil when none).
func stripSecrets(b []byte) (out, secrets []byte, err error) {
	var bo binary.ByteOrder = binary.LittleEndian
	for len(b) > 0 {
		if len(b) < 12 {
			return nil, nil, errShort
		}
		if binary.LittleEndian.Uint32(b) == 0x0A0D0D0A { // section header: its byte order
			if binary.BigEndian.Uint32(b[8:]) == 0x1A2B3C4D {
				bo = binary.BigEndian
			} else {
				bo = binary.LittleEndian
			}
		}
		typ, n := bo.Uint32(b), int(bo.Uint32(b[4:]))
		if n < 12 || n > len(b) || n%4 != 0 {
			return nil, nil, errShort
		}
		if typ == 0x0A && n >= 16 {
			if st, sl := bo.Uint32(b[8:]), int(bo.Uint32(b[12:])); st == 0x544c534b && 16+sl <= n { // "TLSK"
				secrets = append(secrets, b[16:16+sl]...)
			}
		} else {
			out = append(out, b[:n]...)
		}
		b = b[n:]
	}
	return out, secrets, nil
}

var errShort = &os.PathError{Op: "read", Path: "pcapng", Err: os.ErrInvalid}
