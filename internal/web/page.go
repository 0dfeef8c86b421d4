package web

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"time"

	"github.com/gomon/gomon/internal/cluster"

	"github.com/gomon/gomon/scheduler"
)

// pageRow is one service on the HTML page.
type pageRow struct {
	Name, Description string
	Status, Class     string
	Checked, Summary  string
	Decisions         string // URL of the decision trace
}

type pageData struct {
	Time           string
	Total, Failing int
	Stopped        bool
	Rows           []pageRow
	Cluster        []string // `list cluster` lines; nil when alone
	Refusal        string   // why this node owns nothing
}

// writePage renders the status page: self-contained (inline CSS, no
// scripts, no external assets) and refreshed by the browser every 10s.
func writePage(w http.ResponseWriter, src Source, node *cluster.Node, now time.Time) {
	all := src.StatusAll()
	stopped, _ := src.Stopped()
	d := pageData{Time: now.Format("2006-01-02 15:04:05 MST"), Total: len(all), Stopped: stopped}
	if node != nil {
		st := node.Status()
		d.Cluster, d.Refusal = st.Lines(), st.Refusal
	}
	for _, st := range failingFirst(all) {
		if st.State.OpStatus.IsFailure() {
			d.Failing++
		}
		d.Rows = append(d.Rows, rowOf(st, now))
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	pageTemplate.Execute(w, d)
}

func rowOf(st scheduler.Status, now time.Time) pageRow {
	r := pageRow{
		Name:        st.Group + "/" + st.Service,
		Description: st.Description,
		Status:      st.State.OpStatus.String(),
		Class:       "ok",
		Checked:     "never",
		Summary:     st.State.LastSummary,
		Decisions:   "api/decisions?" + url.Values{"group": {st.Group}, "service": {st.Service}}.Encode(),
	}
	switch severity(st.State.OpStatus) {
	case 0:
		r.Class = "fail"
	case 1:
		r.Class = "warn"
	}
	if st.State.Disabled {
		r.Status += " (disabled)"
	}
	if st.State.Ack != 0 {
		r.Status += " (acked)"
	}
	if !st.LastCheck.IsZero() {
		r.Checked = now.Sub(st.LastCheck).Truncate(time.Second).String() + " ago"
	}
	if st.Running {
		r.Checked += ", running"
	}
	if f := st.AlertFailure; f != nil {
		state := "retrying"
		if f.Final {
			state = "gave up"
		}
		r.Summary += fmt.Sprintf(" [%s alert %s failed %d× (%s): %s]", f.Type, f.Alert, f.Attempts, state, f.Err)
	}
	if st.Overdue {
		r.Checked += " for " + now.Sub(st.LastCheck).Truncate(time.Second).String() + " (overdue: not being checked)"
	}
	return r
}

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="10">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{if .Failing}}{{.Failing}} failing — {{end}}gomon</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.3em; margin: 0 0 .2em; }
p.sum { margin: 0 0 1em; color: #555; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .35em .7em; border-bottom: 1px solid #ddd; vertical-align: top; }
th { background: #f4f4f4; }
td.st { font-weight: bold; white-space: nowrap; }
tr.fail td.st { color: #fff; background: #c0392b; }
tr.warn td.st { background: #f1c40f; }
tr.ok td.st { color: #1e7e34; }
.desc { color: #777; font-size: .85em; }
.stopped { background: #c0392b; color: #fff; padding: .4em .7em; margin-bottom: 1em; }
a { color: #555; font-size: .85em; }
</style>
</head>
<body>
<h1>gomon status</h1>
<p class="sum">{{.Time}} — {{.Total}} services, {{.Failing}} failing</p>
{{if .Stopped}}<div class="stopped">The scheduler is stopped: no alerts are sent.</div>{{end}}
{{if .Refusal}}<div class="stopped">Cluster: {{.Refusal}}</div>{{end}}
{{if .Cluster}}<details><summary>Cluster</summary><pre>{{range .Cluster}}{{.}}
{{end}}</pre></details>{{end}}
<table>
<tr><th>Watch/Service</th><th>Status</th><th>Last check</th><th>Summary</th><th></th></tr>
{{range .Rows}}<tr class="{{.Class}}">
<td>{{.Name}}{{if .Description}}<div class="desc">{{.Description}}</div>{{end}}</td>
<td class="st">{{.Status}}</td>
<td>{{.Checked}}</td>
<td>{{.Summary}}</td>
<td><a href="{{.Decisions}}">decisions</a></td>
</tr>
{{end}}</table>
</body>
</html>
`))
