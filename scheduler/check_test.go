package scheduler

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/gomon/gomon/internal/configfile"
)

// TestCheckProgramsWarnsWithoutMailTransport: --check-config warns about
// a mail alert that could not deliver now, and errs on a built-in whose
// arguments are wrong, each at its line.
func TestCheckProgramsWarnsWithoutMailTransport(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().String()
	ln.Close()
	cf := "hostgroup g h\n\nwatch g\n  service s\n    interval 1m\n    monitor tcp.monitor\n    period\n" +
		"      alert mail.alert --smtp " + closed + " root\n" +
		"      upalert mail.alert --bogus root\n"
	cfg, err := configfile.Parse("t.cf", []byte(cf), configfile.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	errs, _ := CheckPrograms(cfg)
	warns := CheckDelivery(context.Background(), cfg)
	if len(errs) != 1 || !strings.HasPrefix(errs[0].String(), "t.cf:9: alert mail.alert: ") || !strings.Contains(errs[0].String(), "unknown option --bogus") {
		t.Errorf("errors %q", errs)
	}
	if len(warns) != 1 || !strings.HasPrefix(warns[0].String(), "t.cf:8: mail alert: no sendmail") {
		t.Errorf("warnings %q", warns)
	}
}
