//go:build unix

package main

import "syscall"

// umask is the process's file mode creation mask, read once at start
// (before any goroutine could create a file while it is changed), so a
// report written through a temporary file gets the mode os.Create gives.
var umask = func() uint32 {
	m := syscall.Umask(0)
	syscall.Umask(m)
	return uint32(m)
}()
