package server

import (
	"fmt"
	"testing"

	"github.com/gomon/gomon/internal/protocol"
)

// TestTargetAttrs: an operator-action record names the group, service
// and hosts its command line names, and nothing else.
func TestTargetAttrs(t *testing.T) {
	for line, want := range map[string]string{
		"disable service g s":                   "[group g service s]",
		"disable service g s for 2h reason x y": "[group g service s]",
		"enable watch g":                        "[group g]",
		"disable host h1 h2 until 1900000000":   "[hosts [h1 h2]]",
		"enable host h1":                        "[hosts [h1]]",
		"ack g s kernel upgrade":                "[group g service s]",
		"set g s opstatus ok":                   "[group g service s]",
		"set maxkeep 10":                        "[]",
		"test monitor g s":                      "[group g service s]",
		"test alert g s 1 wd":                   "[group g service s]",
		"test config":                           "[]",
		"clear timers g s":                      "[group g service s]",
		"disable service":                       "[]",
		"stop":                                  "[]",
		"reset keepstate":                       "[]",
	} {
		cmd, args, _ := protocol.ParseRequest(line)
		if got := fmt.Sprint(targetAttrs(cmd, args)); got != want {
			t.Errorf("%q: %s, want %s", line, got, want)
		}
	}
}
