package web

import (
	"net/http"
	"time"
)

// The downtimes in force (docs/downtimes.md): every timed or reasoned
// disable and ack, and the configured windows, with who set them and
// why — `list downtimes` as a page and as JSON.

// downtime is one scheduler.Downtime in the API and on the page.
type downtime struct {
	Kind    string     `json:"kind"` // service, watch, host, ack
	Group   string     `json:"group,omitempty"`
	Service string     `json:"service,omitempty"`
	Host    string     `json:"host,omitempty"`
	Until   *time.Time `json:"until,omitempty"` // absent: until enabled
	Set     *time.Time `json:"set,omitempty"`
	By      string     `json:"by"`
	Source  string     `json:"source"` // command (the protocol or the console) or config
	Reason  string     `json:"reason,omitempty"`
}

func downtimesOf(src Source) []downtime {
	out := []downtime{}
	for _, d := range src.Downtimes() {
		out = append(out, downtime{Kind: d.Kind, Group: d.Group, Service: d.Service, Host: d.Host,
			Until: utcOrNil(d.Until), Set: utcOrNil(d.Set), By: d.Who, Source: d.Source, Reason: d.Reason})
	}
	return out
}

var downtimesPage = page("downtimes.html")

func (c *console) downtimes(w http.ResponseWriter, r *http.Request) {
	render(w, downtimesPage, http.StatusOK, struct {
		base
		Downtimes []downtime
	}{c.base(w, r, "downtimes — gomon"), downtimesOf(c.src)})
}
