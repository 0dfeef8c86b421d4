package web

import (
	"time"

	"github.com/gomon/gomon/scheduler"
)

// report is the /api/status document.
type report struct {
	Now          time.Time  `json:"now"`
	Stopped      bool       `json:"stopped"`
	StoppedSince *time.Time `json:"stopped_since,omitempty"`
	Services     []service  `json:"services"`
}

type service struct {
	Group           string     `json:"group"`
	Service         string     `json:"service"`
	Description     string     `json:"description,omitempty"`
	Status          string     `json:"status"`
	StatusCode      int        `json:"status_code"`
	Failing         bool       `json:"failing"`
	Summary         string     `json:"summary"`
	Detail          string     `json:"detail,omitempty"`
	LastCheck       *time.Time `json:"last_check,omitempty"`
	DurationSeconds *float64   `json:"duration_seconds,omitempty"`
	Running         bool       `json:"running"`
	Overdue         bool       `json:"overdue,omitempty"`
	// AlertFailure is the last alert that could not be delivered.
	AlertFailure    *alertFailure `json:"alert_failure,omitempty"`
	IntervalSeconds float64       `json:"interval_seconds"`
	NextCheck       *float64      `json:"next_check_seconds,omitempty"`
	Disabled        bool          `json:"disabled"`
	Acked           bool          `json:"acked"`
	AckComment      string        `json:"ack_comment,omitempty"`
	ConsecFailures  int           `json:"consecutive_failures"`
	AlertsSent      int           `json:"alerts_sent"`
	LastSuccess     int64         `json:"last_success,omitempty"` // epoch seconds
	LastFailure     int64         `json:"last_failure,omitempty"`
	// gomon extensions, present when configured: per-host verdicts
	// (host_verdicts, alert_per_host) and flap detection.
	FailingHosts []failingHost `json:"failing_hosts,omitempty"`
	Flapping     bool          `json:"flapping,omitempty"`
	FlapPercent  *float64      `json:"flap_percent,omitempty"`
	// The console's view: one state of failing, acked, warn,
	// suppressed, untested, disabled, ok (docs/api.md).
	State         string     `json:"state"`
	Hosts         []host     `json:"hosts"`
	DownSince     *time.Time `json:"down_since,omitempty"`
	AckTime       *time.Time `json:"ack_time,omitempty"`
	WatchDisabled bool       `json:"watch_disabled,omitempty"`
	DisabledBy    string     `json:"disabled_by,omitempty"`
	DisabledAt    *time.Time `json:"disabled_at,omitempty"`
	DisableReason string     `json:"disable_reason,omitempty"`
	// The ends of a timed disable or ack (docs/downtimes.md).
	DisabledUntil *time.Time `json:"disabled_until,omitempty"`
	AckUntil      *time.Time `json:"ack_until,omitempty"`
}

// failingHost is the verdict on one failing host of a service.
type failingHost struct {
	Host                string `json:"host"`
	FirstFailure        int64  `json:"first_failure"` // epoch seconds
	ConsecutiveFailures int    `json:"consecutive_failures"`
	Output              string `json:"output,omitempty"`
}

// host is a member of the service's host group.
type host struct {
	Name     string `json:"name"`
	Failing  bool   `json:"failing"` // named in the failing summary
	Disabled bool   `json:"disabled"`
}

func statusReport(src Source) report {
	all := src.StatusAll()
	stopped, since := src.Stopped()
	r := report{Now: time.Now().UTC(), Stopped: stopped, Services: make([]service, len(all))}
	if stopped {
		s := since.UTC()
		r.StoppedSince = &s
	}
	w := newWorld(src)
	for i, st := range all {
		r.Services[i] = w.serviceOf(st)
	}
	return r
}

func (w world) serviceOf(st scheduler.Status) service {
	s := st.State
	v := w.view(st)
	out := service{
		Group:           st.Group,
		Service:         st.Service,
		Description:     st.Description,
		Status:          s.OpStatus.String(),
		StatusCode:      int(s.OpStatus),
		Failing:         s.OpStatus.IsFailure(),
		Summary:         s.LastSummary,
		Detail:          s.LastDetail,
		Running:         st.Running,
		Overdue:         st.Overdue,
		AlertFailure:    alertFailureOf(st.AlertFailure),
		IntervalSeconds: s.Interval.Seconds(),
		Disabled:        s.Disabled,
		Acked:           s.Ack != 0,
		AckComment:      s.AckComment,
		ConsecFailures:  s.ConsecFailures,
		AlertsSent:      st.AlertsSent,
		LastSuccess:     s.LastSuccess,
		LastFailure:     s.LastFailure,
	}
	if !st.LastCheck.IsZero() {
		t := st.LastCheck.UTC()
		out.LastCheck = &t
	}
	if st.Ran {
		d := st.Duration.Seconds()
		out.DurationSeconds = &d
	}
	if st.Timer > 0 {
		n := st.Timer.Seconds()
		out.NextCheck = &n
	}
	out.FailingHosts, out.Flapping, out.FlapPercent = v.FailingHosts, v.Flapping, v.FlapPercent
	out.State, out.WatchDisabled, out.Hosts = v.Kind, v.WatchDisabled, []host{}
	for _, h := range v.Hosts {
		out.Hosts = append(out.Hosts, host(h))
	}
	out.DownSince, out.AckTime = utcOrNil(v.DownSince), utcOrNil(v.AckTime)
	if n := v.Disabled; n != nil {
		out.DisabledBy, out.DisabledAt, out.DisableReason = n.By, utcOrNil(n.Time), n.Reason
	}
	out.DisabledUntil, out.AckUntil = utcOrNil(v.DisabledUntil), utcOrNil(v.AckUntil)
	return out
}

// utcOrNil is t in UTC, or nil for the zero time (omitted in JSON).
func utcOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// alertFailure is scheduler.AlertFailure in the API.
type alertFailure struct {
	Alert    string    `json:"alert"`
	Type     string    `json:"type"`
	Error    string    `json:"error"`
	Time     time.Time `json:"time"`
	Attempts int       `json:"attempts"`
	GaveUp   bool      `json:"gave_up"`
}

func alertFailureOf(f *scheduler.AlertFailure) *alertFailure {
	if f == nil {
		return nil
	}
	return &alertFailure{Alert: f.Alert, Type: f.Type, Error: f.Err, Time: f.Time.UTC(), Attempts: f.Attempts, GaveUp: f.Final}
}
