package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// The default budget follows the machine: an eighth of its memory (or of
// the cgroup's limit), from 16 MiB to 256 MiB.
func TestDefaultBudget(t *testing.T) {
	meminfo := []byte("MemTotal:       24684380 kB\nMemFree:        23302448 kB\n")
	if got := memTotal(meminfo); got != 24684380<<10 {
		t.Errorf("memTotal %d, want %d", got, 24684380<<10)
	}
	if got := memTotal([]byte("MemFree: 12 kB\n")); got != 0 {
		t.Errorf("memTotal without MemTotal: %d", got)
	}
	for _, tc := range []struct {
		text string
		n    int64
		ok   bool
	}{
		{"134217728\n", 128 << 20, true},
		{"max\n", 0, false},                 // cgroup v2: no limit
		{"9223372036854771712\n", 0, false}, // cgroup v1: no limit
		{"", 0, false},
	} {
		if n, ok := cgroupLimit([]byte(tc.text)); n != tc.n || ok != tc.ok {
			t.Errorf("cgroupLimit(%q) = %d, %v; want %d, %v", tc.text, n, ok, tc.n, tc.ok)
		}
	}
	for _, tc := range []struct{ mem, budget int64 }{
		{128 << 20, 16 << 20}, // a lab AP
		{512 << 20, 64 << 20}, // a bigger AP, a small container
		{24 << 30, 256 << 20}, // a PC
		{0, 256 << 20},        // unknown
		{64 << 20, 16 << 20},  // never below 16 MiB
	} {
		if got := defaultBudget(tc.mem); got != tc.budget {
			t.Errorf("defaultBudget(%d MiB) = %d MiB, want %d MiB", tc.mem>>20, got>>20, tc.budget>>20)
		}
	}
}

// --max-memory sets the bound on the open connections (3/8 of the budget);
// --max-connections alone is a count instead; both together are both.
func TestMemoryLimitFlags(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "1GiB") // leave this process's limit alone
	for _, tc := range []struct {
		maxConns  int
		maxMemory string
		conns     int
		memory    int64
	}{
		{0, "64MiB", 0, 24 << 20},
		{1000, "", 1000, 0},
		{1000, "64MiB", 1000, 24 << 20},
		{0, "", 0, defaultBudget(machineMemory()) / 8 * 3},
	} {
		o, err := captureLimits(tc.maxConns, "", tc.maxMemory)
		if err != nil {
			t.Fatal(err)
		}
		if tc.conns == 0 && tc.memory > 0 {
			tc.conns = o.MaxConns // no count bound: whatever stands for none
			if o.MaxConns < 1<<30 {
				t.Errorf("%+v: MaxConns %d with the memory bound alone", tc, o.MaxConns)
			}
		}
		if o.MaxConns != tc.conns || o.MaxMemory != tc.memory {
			t.Errorf("--max-connections %d --max-memory %q: MaxConns %d, MaxMemory %d; want %d, %d", tc.maxConns, tc.maxMemory, o.MaxConns, o.MaxMemory, tc.conns, tc.memory)
		}
	}
	for _, bad := range []string{"1MiB", "lots", "-5MiB"} {
		if _, err := captureLimits(0, "", bad); err == nil {
			t.Errorf("--max-memory %q accepted", bad)
		}
	}
}

// helloFloodList is the connections of writeHelloFlood(n).
func helloFloodList(n int) []malformedConn {
	out := make([]malformedConn, n)
	for i := range out {
		out[i] = malformedConn{fmt.Sprintf("10.%d.0.1:%d", i/50000, 10000+i%50000), "203.0.113.10:443", "mqtt.example.com"}
	}
	return out
}

// The cgroup's own limit file is found from /proc/self/cgroup, v2 and v1.
func TestCgroupFiles(t *testing.T) {
	root := []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"0::/user.slice/app.scope\n", append(slices.Clone(root), "/sys/fs/cgroup/user.slice/app.scope/memory.max")},
		{"5:devices:/\n4:memory:/process_api/c777\n0::/\n", append(slices.Clone(root), "/sys/fs/cgroup/memory/process_api/c777/memory.limit_in_bytes")},
		{"4:cpu,memory:/a\n", append(slices.Clone(root), "/sys/fs/cgroup/memory/a/memory.limit_in_bytes")},
		{"0::/../../etc\n0::relative\n", root},
		{"", root},
	} {
		if got := cgroupFiles([]byte(tc.text)); !slices.Equal(got, tc.want) {
			t.Errorf("cgroupFiles(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

// The files read to size the budget are text the machine gives: whatever
// they hold, no panic, no negative size, no path outside /sys/fs/cgroup.
func FuzzMemoryFiles(f *testing.F) {
	f.Add([]byte("MemTotal:       24684380 kB\n"), []byte("9223372036854771712\n"), []byte("4:memory:/process_api/c777\n0::/\n"))
	f.Add([]byte("MemTotal: 126000 kB\nMemFree: 1 kB\n"), []byte("max\n"), []byte("0::/user.slice\n"))
	f.Fuzz(func(t *testing.T, meminfo, limit, cgroup []byte) {
		if n := memTotal(meminfo); n < 0 {
			t.Errorf("memTotal %d", n)
		}
		if n, ok := cgroupLimit(limit); ok && n <= 0 || !ok && n != 0 {
			t.Errorf("cgroupLimit %d, %v", n, ok)
		}
		for _, p := range cgroupFiles(cgroup) {
			if !strings.HasPrefix(p, "/sys/fs/cgroup/") || strings.Contains(p, "..") {
				t.Errorf("cgroupFiles(%q): %q", cgroup, p)
			}
		}
		if b := defaultBudget(memTotal(meminfo)); b < minBudget || b > maxBudget {
			t.Errorf("budget %d", b)
		}
	})
}
