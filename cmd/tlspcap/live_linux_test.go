package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func nobody() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
}

// TestLivePermission: without CAP_NET_RAW the error names the capability
// and the setcap command.
func TestLivePermission(t *testing.T) {
	if os.Geteuid() != 0 {
		// Unprivileged already: try it directly.
		code, _, errs := tlspcap(t, "live", "-i", "lo", "--duration", "1s")
		if code != exitUsage || !strings.Contains(errs, "CAP_NET_RAW") || !strings.Contains(errs, "setcap cap_net_raw,cap_net_admin+eip") {
			t.Errorf("exit %d, stderr %q", code, errs)
		}
		return
	}
	// As root, run a copy of the test binary as nobody.
	dir, err := os.MkdirTemp("", "tlspcap-perm")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	self, _ := os.ReadFile(os.Args[0])
	bin := filepath.Join(dir, "tlspcap.test")
	if err := os.WriteFile(bin, self, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestLiveHelperMain$")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TLSPCAP_MAIN_ARGS=live\n-i\nlo\n--duration\n1s")
	cmd.SysProcAttr = nobody()
	out, _ := cmd.CombinedOutput()
	if cmd.ProcessState == nil {
		t.Skipf("cannot run as nobody here: %s", out)
	}
	if code := cmd.ProcessState.ExitCode(); code != exitUsage || !strings.Contains(string(out), "CAP_NET_RAW") ||
		!strings.Contains(string(out), "setcap cap_net_raw,cap_net_admin+eip $(which tlspcap)") {
		t.Errorf("exit %d: %s", code, out)
	}
}
