package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
)

// namedInput is a file the command reads, with the flag that named it.
type namedInput struct{ flag, path string }

// inputs lists every file the command reads: the capture (unless stdin),
// the key logs, the CA file and the browser's chain and key logs.
func (f *readFlags) inputs() []namedInput {
	var in []namedInput
	if f.input != "" && f.input != "-" {
		in = append(in, namedInput{"", f.input})
	}
	for _, k := range f.keylogs {
		in = append(in, namedInput{"--keylog", k})
	}
	if f.ca != "" {
		in = append(in, namedInput{"--ca", f.ca})
	}
	if f.browserChain != "" {
		in = append(in, namedInput{"--browser-chain", f.browserChain})
	}
	for _, k := range f.browserKeys {
		in = append(in, namedInput{"--browser-keylog", k})
	}
	return in
}

// checkOutputs refuses, before anything is read or written, an output
// that is one of the inputs (the same file, also through a symbolic or
// hard link) or another output.
func (f *readFlags) checkOutputs() error {
	outs := []namedInput{{"-o", f.output}, {"--export-failing", f.exportFailing}}
	for i, o := range outs {
		if o.path == "" {
			continue
		}
		if err := refuseInput(o.flag, o.path, f.inputs()); err != nil {
			return err
		}
		for _, p := range outs[:i] {
			if p.path != "" && sameFile(p.path, o.path) {
				return usageError{fmt.Errorf("%s %s: %s writes there too; give another name", o.flag, o.path, p.flag)}
			}
		}
	}
	return nil
}

// refuseInput is the error for an output path that is one of the inputs.
func refuseInput(flag, out string, ins []namedInput) error {
	for _, in := range ins {
		if sameFile(in.path, out) {
			what := "given as " + in.flag
			if in.flag == "" {
				what = "(the capture)"
			}
			if in.path != out {
				what += " " + in.path
			}
			return usageError{fmt.Errorf("%s %s: that is the input file %s; writing there would destroy it: give another name", flag, out, what)}
		}
	}
	return nil
}

// sameFile tells whether two paths name one existing file: os.Stat
// follows symbolic links, and a hard link has the same inode.
func sameFile(a, b string) bool {
	if a == b {
		return true
	}
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	return err == nil && os.SameFile(fa, fb)
}

// atomicFile writes a file the user named through a temporary file in the
// same directory, renamed over the target only when everything was
// written: a run that fails or is interrupted leaves the older file as it
// was. A target that exists and is not a regular file (/dev/stdout, a
// FIFO) is written in place: renaming over it would replace the device.
type atomicFile struct {
	*os.File
	target string // the path renamed to; "" when writing in place
	done   bool
}

// createAtomic opens path for writing. A symbolic link is followed, so
// the file it points to is replaced and the link stays.
func createAtomic(path string) (*atomicFile, error) {
	target := path
	if t, err := filepath.EvalSymlinks(path); err == nil {
		target = t
	}
	mode := fs.FileMode(0o666 &^ umask) // what os.Create gives a new file
	if fi, err := os.Stat(target); err == nil {
		if !fi.Mode().IsRegular() {
			fh, err := os.OpenFile(target, os.O_WRONLY|os.O_TRUNC, 0)
			if err != nil {
				return nil, unwrapPathError(err)
			}
			return &atomicFile{File: fh}, nil
		}
		mode = fi.Mode().Perm() // a replaced report keeps its permissions
	}
	dir, base := filepath.Dir(target), filepath.Base(target)
	tmp, err := os.CreateTemp(dir, "."+base+".tlspcap-*.tmp")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("cannot create a file in %s: %v", dir, pe.Err)
		}
		return nil, err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, err
	}
	pending.add(tmp.Name())
	return &atomicFile{File: tmp, target: target}, nil
}

// Commit puts the written file in place of the target.
func (a *atomicFile) Commit() error {
	if a.done {
		return nil
	}
	a.done = true
	err := a.File.Close()
	if a.target == "" {
		return err
	}
	defer pending.remove(a.Name())
	if err == nil {
		err = os.Rename(a.Name(), a.target)
	}
	if err != nil {
		os.Remove(a.Name())
	}
	return err
}

// Abort drops what was written; the target stays as it was. It does
// nothing after Commit, so it can be deferred.
func (a *atomicFile) Abort() {
	if a == nil || a.done {
		return
	}
	a.done = true
	a.File.Close()
	if a.target != "" {
		os.Remove(a.Name())
		pending.remove(a.Name())
	}
}

// writeFileAtomic is os.WriteFile through an atomicFile.
func writeFileAtomic(path string, data []byte) error {
	a, err := createAtomic(path)
	if err != nil {
		return err
	}
	if _, err := a.Write(data); err != nil {
		a.Abort()
		return err
	}
	return a.Commit()
}

// pending holds the temporary files not yet renamed, removed when Ctrl-C
// or SIGTERM ends the run (the process exits as the signal would have
// ended it). While none is pending the signals are left alone.
var pending tempFiles

type tempFiles struct {
	mu    sync.Mutex
	names map[string]bool
	sig   chan os.Signal
}

func (t *tempFiles) add(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.names == nil {
		t.names = map[string]bool{}
	}
	t.names[name] = true
	if t.sig == nil {
		t.sig = make(chan os.Signal, 1)
		signal.Notify(t.sig, os.Interrupt, syscall.SIGTERM)
		go t.cleanOnSignal(t.sig)
	}
}

func (t *tempFiles) remove(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.names, name)
	if len(t.names) == 0 && t.sig != nil {
		signal.Stop(t.sig)
		close(t.sig)
		t.sig = nil
	}
}

func (t *tempFiles) cleanOnSignal(c chan os.Signal) {
	s, ok := <-c
	if !ok {
		return
	}
	t.mu.Lock()
	for n := range t.names {
		os.Remove(n)
	}
	t.mu.Unlock()
	code := 128 + 2
	if s == syscall.SIGTERM {
		code = 128 + 15
	}
	os.Exit(code)
}
