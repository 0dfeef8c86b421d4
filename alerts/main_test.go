package alerts

import (
	"os"
	"testing"
	"time"
)

// Tests compare exact dates; the scripts they are compared with run with
// TZ=UTC too.
func TestMain(m *testing.M) {
	time.Local = time.UTC
	os.Exit(m.Run())
}
