//go:build !unix

package main

// umask: no creation mask to read here; the usual 022.
var umask uint32 = 0o022
