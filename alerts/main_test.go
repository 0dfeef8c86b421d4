package alerts

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestMain doubles as a drop-in alert: the mon test links this test
// binary into an alert directory as file.alert and the real mon runs it.
// Tests compare exact dates; the scripts they are compared with run with
// TZ=UTC too.
func TestMain(m *testing.M) {
	if base := filepath.Base(os.Args[0]); base == "file.alert" {
		os.Exit(RunDropIn(base, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	time.Local = time.UTC
	os.Exit(m.Run())
}
