package protocol

import "testing"

// The want strings are records captured from mon 1.3.6 (protocol.md §5).
func TestRecord(t *testing.T) {
	tests := []struct {
		s    OpStatus
		want string
	}{
		{
			OpStatus{Group: "g1", Service: "s2", OpStatus: 7, LastOpStatus: 7, ExitVal: "undef", Timer: 2,
				Monitor: "ctl.monitor", HasInterval: true, Interval: 5, MonitorDuration: -1},
			"group=g1 service=s2 opstatus=7 last_opstatus=7 exitval=undef timer=2 last_success=0 last_trap=0 last_traphost= last_check= ack=0 ackcomment= alerts_sent=0 depstatus= depend= hostdepend= monitordepend= alertdepend= monitor=ctl.monitor last_summary= last_detail= interval=5 monitor_duration=-1 monitor_running=0",
		},
		{
			OpStatus{Group: "g1", Service: "s1", OpStatus: 0, LastOpStatus: 7, ExitVal: "1", LastCheck: 1795394886,
				AlertsSent: 1, Monitor: "ctl.monitor", LastSummary: "h1 h2 failed",
				LastDetail: "detail line 1\ndetail line 2\n", LastFailure: 1795394883, HasInterval: true,
				Interval: 3, MonitorDuration: 1, MonitorRunning: true, LastAlert: 1795394883,
				FirstFailure: 1795394883, FailureDuration: 3},
			`group=g1 service=s1 opstatus=0 last_opstatus=7 exitval=1 timer=0 last_success=0 last_trap=0 last_traphost= last_check=1795394886 ack=0 ackcomment= alerts_sent=1 depstatus= depend= hostdepend= monitordepend= alertdepend= monitor=ctl.monitor last_summary=h1\20h2\20failed last_detail=detail\20line\201\0adetail\20line\202\0a last_failure=1795394883 interval=3 monitor_duration=1 monitor_running=1 last_alert=1795394883 first_failure=1795394883 failure_duration=3`,
		},
		{
			OpStatus{Group: "tg", Service: "t1", OpStatus: 0, LastOpStatus: 7, ExitVal: "1", LastTrap: 1795394966,
				AlertsSent: 1, LastSummary: "trap summary", LastDetail: "\ntrap detail line",
				LastFailure: 1795394966, LastAlert: 1795394966, FirstFailure: 1795394966, FailureDuration: 3},
			`group=tg service=t1 opstatus=0 last_opstatus=7 exitval=1 timer=0 last_success=0 last_trap=1795394966 last_traphost= last_check= ack=0 ackcomment= alerts_sent=1 depstatus= depend= hostdepend= monitordepend= alertdepend= monitor= last_summary=trap\20summary last_detail=\0atrap\20detail\20line last_failure=1795394966 last_alert=1795394966 first_failure=1795394966 failure_duration=3`,
		},
		{
			OpStatus{Group: "b1", Service: "st", OpStatus: 0, LastOpStatus: 7, ExitVal: "1", LastCheck: 1795395182,
				Ack: 1795395185, AckComment: "admin: acked by me", AlertsSent: 3, Monitor: "ctl.monitor",
				LastSummary: "st failing", LastDetail: "st detail\n", LastFailure: 1795395183,
				HasInterval: true, Interval: 3, MonitorDuration: 1},
			`group=b1 service=st opstatus=0 last_opstatus=7 exitval=1 timer=0 last_success=0 last_trap=0 last_traphost= last_check=1795395182 ack=1795395185 ackcomment=admin:\20acked\20by\20me alerts_sent=3 depstatus= depend= hostdepend= monitordepend= alertdepend= monitor=ctl.monitor last_summary=st\20failing last_detail=st\20detail\0a last_failure=1795395183 interval=3 monitor_duration=1 monitor_running=0`,
		},
		{
			OpStatus{Group: "hg2", Service: "s2", OpStatus: 7, LastOpStatus: 7, ExitVal: "undef", Timer: 87,
				Depend: "hg2:s3 && hg2:s3", Monitor: "ctl.monitor arg1 ;;", HasInterval: true, Interval: 90,
				MonitorDuration: -1, ExcludePeriod: "hr {0-1}", ExcludeHosts: []string{"z", "x"}, RandSkew: 5},
			`group=hg2 service=s2 opstatus=7 last_opstatus=7 exitval=undef timer=87 last_success=0 last_trap=0 last_traphost= last_check= ack=0 ackcomment= alerts_sent=0 depstatus= depend=hg2:s3\20&&\20hg2:s3 hostdepend= monitordepend= alertdepend= monitor=ctl.monitor\20arg1\20;; last_summary= last_detail= interval=90 monitor_duration=-1 monitor_running=0 exclude_period=hr\20{0-1} exclude_hosts=z\20x randskew=5`,
		},
	}
	for _, tc := range tests {
		if got := Record(tc.s); got != tc.want {
			t.Errorf("Record mismatch\n got: %s\nwant: %s", got, tc.want)
		}
	}
}

func TestRecordEscaping(t *testing.T) {
	got := Record(OpStatus{Group: "g", Service: "s", ExitVal: "0", AckComment: "hidden", DepStatus: "1",
		Monitor: `m -x "a b" c\d`, ExcludePeriod: `wd {Sat}\x`})
	want := `group=g service=s opstatus=0 last_opstatus=0 exitval=0 timer=0 last_success=0 last_trap=0 last_traphost= last_check= ack=0 ackcomment= alerts_sent=0 depstatus=1 depend= hostdepend= monitordepend= alertdepend= monitor=m\20-x\20\22a\20b\22\20c\\d last_summary= last_detail= exclude_period=wd\20{Sat}\x`
	if got != want {
		t.Errorf("Record mismatch\n got: %s\nwant: %s", got, want)
	}
}
