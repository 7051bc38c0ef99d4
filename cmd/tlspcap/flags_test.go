package main

import (
	"strings"
	"testing"
)

// Numeric flags are checked against their ranges when parsed: a value
// outside is a usage error (exit 2) naming the flag and the range.
func TestNumericFlagRanges(t *testing.T) {
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"analyze", "--in-content-len", "0"}, `invalid argument "0" for "--in-content-len" flag: 0 is outside 512 to 16384`},
		{[]string{"analyze", "--in-content-len", "100"}, "100 is outside 512 to 16384 (CONFIG_MBEDTLS_SSL_IN_CONTENT_LEN"},
		{[]string{"analyze", "--in-content-len", "511"}, "511 is outside 512 to 16384"},
		{[]string{"analyze", "--in-content-len", "16385"}, "16385 is outside 512 to 16384"},
		{[]string{"analyze", "--in-content-len", "-4096"}, "-4096 is outside 512 to 16384"},
		{[]string{"analyze", "--in-content-len", "4k"}, "give a whole number from 512 to 16384"},
		{[]string{"analyze", "--in-content-len", "99999999999999999999"}, "give a whole number from 512 to 16384"},
		{[]string{"live", "-r", "-", "--in-content-len", "0"}, "0 is outside 512 to 16384"},
		{[]string{"analyze", "--max-connections", "0"}, `"--max-connections" flag: 0 is outside 1 to`},
		{[]string{"records", "--max-connections", "-5"}, "-5 is outside 1 to"},
		{[]string{"analyze", "--max-buffered", "0"}, `--max-buffered "0": give a size from 4KiB to 1GiB`},
		{[]string{"analyze", "--max-buffered", "2GiB"}, `--max-buffered "2GiB": give a size from 4KiB to 1GiB`},
	} {
		code, out, errs := tlspcap(t, append(c.args, bigChain)...)
		if code != exitUsage || !strings.Contains(errs, c.msg) || out != "" {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, errs, c.msg)
		}
	}
	// The ends of the ranges are accepted.
	for _, args := range [][]string{
		{"analyze", "--in-content-len", "512"},
		{"analyze", "--in-content-len", "16384"},
		{"analyze", "--max-connections", "1"},
		{"analyze", "--max-buffered", "4KiB"},
		{"analyze", "--max-buffered", "1GiB"},
	} {
		if code, _, errs := tlspcap(t, append(args, bigChain)...); code == exitUsage {
			t.Errorf("%v: exit 2: %s", args, errs)
		}
	}
	// 512 judges the 6573-byte record against a 512-byte buffer.
	if _, out, _ := tlspcap(t, "analyze", "--in-content-len", "512", bigChain); !strings.Contains(out, "exceeds the device's 512-byte input buffer") {
		t.Errorf("--in-content-len 512:\n%s", out)
	}
}
