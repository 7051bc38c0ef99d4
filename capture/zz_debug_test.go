package capture

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

func TestZZDebug(t *testing.T) {
	f := os.Getenv("DBG_FILE")
	if f == "" {
		t.Skip()
	}
	if os.Getenv("DBG_ASM") != "" {
		flag.Set("assembly_debug_log", "true")
	}
	h := &logHandler{}
	if _, err := ReadFile(f, h, Options{}); err != nil {
		t.Fatal(err)
	}
	pre := os.Getenv("DBG_PREFIX")
	for _, l := range h.lines {
		if pre == "" || strings.HasPrefix(l, pre) {
			if len(l) > 300 {
				l = l[:60] + " ... " + l[len(l)-60:]
			}
			fmt.Println(l)
		}
	}
}
