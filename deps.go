//go:build tools

package tools

import (
	_ "github.com/dreadl0ck/tlsx"
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/gopacket/gopacket/afpacket"
	_ "github.com/gopacket/gopacket/pcapgo"
	_ "github.com/gopacket/gopacket/reassembly"
	_ "github.com/klauspost/compress/gzip"
	_ "github.com/olekukonko/tablewriter"
	_ "github.com/schollz/progressbar/v3"
	_ "github.com/spf13/cobra"
	_ "golang.org/x/crypto/cryptobyte"
	_ "golang.org/x/crypto/x509roots/fallback/bundle"
	_ "golang.org/x/net/bpf"
	_ "golang.org/x/term"
)
