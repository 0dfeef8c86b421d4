package configfile

import (
	"strings"
	"testing"
)

// TestExtensionKeywordErrors: the gomon keywords of docs/extensions.md
// reject what they cannot mean, with their syntax.
func TestExtensionKeywordErrors(t *testing.T) {
	period := svcHeader + "        interval 1m\n        period wd {Sun-Sat}\n            "
	for _, tc := range []struct{ src, want string }{
		{svcHeader + "        host_verdicts maybe\n", "invalid host_verdicts value 'maybe' (syntax: host_verdicts [yes|no])"},
		{svcHeader + "        flap_detection 20 25\n", "invalid flap_detection '20 25'"},
		{svcHeader + "        flap_detection 2 25 50\n", "from 3 to 100"},
		{svcHeader + "        flap_detection 101 25 50\n", "from 3 to 100"},
		{svcHeader + "        flap_detection 20 60 50\n", "0 <= LOW <= HIGH <= 100"},
		{svcHeader + "        flap_detection 20 5 150\n", "0 <= LOW <= HIGH <= 100"},
		{period + "alert_per_host sometimes\n", "invalid alert_per_host value 'sometimes'"},
		{period + "alert_on_period_start x\n", "invalid alert_on_period_start value 'x'"},
	} {
		e := parseErr(t, tc.src)
		if !strings.Contains(e.Error(), tc.want) {
			t.Errorf("%q: %v\nwant %q", tc.src, e, tc.want)
		}
	}
}
