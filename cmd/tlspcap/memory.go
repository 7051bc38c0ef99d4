package main

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"tlspcap/capture"
)

// The memory budget (--max-memory) is what an analysis aims to stay
// within. It is two bounds: the Go collector's soft memory limit (unless
// GOMEMLIMIT says otherwise), and 3/8 of it for what the open TCP
// connections hold (capture.Options.MaxMemory), beyond which the least
// recently active connection is decided early: the rest is room for the
// collector and the index of the verdicts already made (a million SYNs'
// verdicts take 24 MB). The collector's default
// lets a heap whose live part is L grow to 2L between collections; under
// the limit it runs before the heap reaches it. Ordinary captures hold far
// less and never notice.
//
// By default the budget is an eighth of the machine's memory (MemTotal,
// or the cgroup's limit when lower), from 16 MiB (a 128 MB lab AP gets
// that: 6 MiB of connections, 1,741 open that sent a ClientHello, 3.8 KB
// each) to 256 MiB (a PC: 96 MiB, 27,846 of them; measured with
// TestHelloFloodMemory).
const (
	minBudget = 16 << 20
	maxBudget = 256 << 20
)

// budget is the soft memory limit in force (0: none set by tlspcap).
var budget atomic.Int64

// machineMemory is the memory this process may use: MemTotal from
// /proc/meminfo, or the cgroup (v2 memory.max, v1 memory.limit_in_bytes)
// limit when lower; 0 when neither is known.
func machineMemory() int64 {
	var m int64
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		m = memTotal(b)
	}
	for _, f := range cgroupLimitFiles() {
		if b, err := os.ReadFile(f); err == nil {
			if n, ok := cgroupLimit(b); ok && (m == 0 || n < m) {
				m = n
			}
		}
	}
	return m
}

// memTotal reads MemTotal (kB) from /proc/meminfo's text, in bytes.
func memTotal(meminfo []byte) int64 {
	sc := bufio.NewScanner(bytes.NewReader(meminfo))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil || n <= 0 || n > math.MaxInt64>>10 {
				return 0
			}
			return n << 10
		}
	}
	return 0
}

// cgroupLimit reads a cgroup memory limit file: a number of bytes, or
// "max" (v2) or a huge number (v1) for none.
func cgroupLimit(b []byte) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n <= 0 || n >= 1<<60 {
		return 0, false
	}
	return n, true
}

// cgroupLimitFiles are the files that may hold this process's cgroup
// memory limit: its own cgroup's (from /proc/self/cgroup) and the mount
// root's (a container sees its own cgroup there).
func cgroupLimitFiles() []string {
	b, _ := os.ReadFile("/proc/self/cgroup")
	return cgroupFiles(b)
}

// cgroupFiles are the limit files for the /proc/self/cgroup text b: the
// mount root's, then those of the cgroups b names (v2 "0::/path", v1
// "N:...,memory,...:/path").
func cgroupFiles(b []byte) []string {
	files := []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}
	for _, l := range strings.Split(string(b), "\n") {
		// hierarchy-ID:controllers:path
		parts := strings.SplitN(l, ":", 3)
		if len(parts) != 3 || !strings.HasPrefix(parts[2], "/") || parts[2] == "/" || strings.Contains(parts[2], "..") {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "":
			files = append(files, filepath.Join("/sys/fs/cgroup", parts[2], "memory.max"))
		case strings.Contains(","+parts[1]+",", ",memory,"):
			files = append(files, filepath.Join("/sys/fs/cgroup/memory", parts[2], "memory.limit_in_bytes"))
		}
	}
	return files
}

// defaultBudget is the budget for a machine with mem bytes (0: unknown).
func defaultBudget(mem int64) int64 {
	if mem <= 0 {
		return maxBudget
	}
	return min(max(mem/8, minBudget), maxBudget)
}

// memoryLimits sets o's bound on the open connections' memory from
// --max-memory (maxMemory), or from the default budget unless
// --max-connections gave a count instead, and makes the budget the soft
// memory limit.
func memoryLimits(o *capture.Options, maxMemory string) error {
	b := defaultBudget(machineMemory())
	if maxMemory != "" {
		n, err := parseSize(maxMemory)
		if err != nil || n < 4<<20 || n > 1<<40 {
			return usageError{fmt.Errorf("--max-memory %q: give a size from 4MiB to 1024GiB, e.g. 64MiB", maxMemory)}
		}
		b = n
	}
	setBudget(b)
	if maxMemory == "" && o.MaxConns > 0 {
		return nil // a count, as asked
	}
	o.MaxMemory = b / 8 * 3
	if o.MaxConns == 0 {
		o.MaxConns = math.MaxInt
	}
	return nil
}

// setBudget makes n the soft memory limit, unless GOMEMLIMIT set one.
func setBudget(n int64) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	budget.Store(n)
	debug.SetMemoryLimit(n)
}

// followLive: when the live heap passes 3/4 of the limit (a capture that
// really holds that much), the limit moves up to 1.5× the live heap, so
// the collector never has to run flat out to stay under it.
const followEvery = 100 * time.Millisecond

// withMemoryBudget sets the default budget's limit for the duration of a
// command (an analysis sets its own with setBudget) and returns what
// restores the previous one.
func withMemoryBudget() (restore func()) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	prev := debug.SetMemoryLimit(-1)
	setBudget(defaultBudget(machineMemory()))
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		t := time.NewTicker(followEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			metrics.Read(sample)
			if sample[0].Value.Kind() != metrics.KindUint64 {
				return // not measurable on this runtime: keep the limit
			}
			live := sample[0].Value.Uint64()
			if live > math.MaxInt64/2 {
				continue
			}
			if limit := budget.Load(); int64(live) > limit/4*3 {
				limit = int64(live) / 2 * 3
				budget.Store(limit)
				debug.SetMemoryLimit(limit)
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
		budget.Store(0)
		debug.SetMemoryLimit(prev)
	}
}
