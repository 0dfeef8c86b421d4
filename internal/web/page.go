package web

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// The overview: every service grouped by watch, with counts by state,
// worst watches first; ?failing=1 keeps failing services only, ?q=TEXT
// those whose name or description contains TEXT.

type overviewData struct {
	base
	Counts  []kindCount
	Total   int
	Failing int
	Watches []watchView
	OnlyBad bool
	Query   string
	Shown   int
}

type kindCount struct {
	Kind, Label string
	N           int
}

type watchView struct {
	Name     string
	Disabled bool
	Counts   []kindCount
	Services []svcView
	worst    int
}

var overviewPage = page("overview.html")

func (c *console) overview(w http.ResponseWriter, r *http.Request) {
	d := overviewData{OnlyBad: r.URL.Query().Get("failing") != "", Query: strings.TrimSpace(r.URL.Query().Get("q"))}
	d.base = c.base(w, r, "gomon")
	d.Live = true
	wd := newWorld(c.src)
	all := map[string]int{}
	byWatch := map[string]*watchView{}
	for _, st := range c.src.StatusAll() {
		v := wd.view(st)
		all[v.Kind]++
		d.Total++
		if v.Kind == kindFailing || v.Kind == kindAcked {
			d.Failing++
		}
		if d.OnlyBad && v.Kind != kindFailing && v.Kind != kindAcked {
			continue
		}
		if q := strings.ToLower(d.Query); q != "" && !strings.Contains(strings.ToLower(v.Name()+" "+v.Description), q) {
			continue
		}
		wv := byWatch[v.Group]
		if wv == nil {
			wv = &watchView{Name: v.Group, Disabled: v.WatchDisabled, worst: len(kinds)}
			byWatch[v.Group] = wv
			d.Watches = append(d.Watches, *wv) // placeholder, keeps config order
		}
		wv.Services = append(wv.Services, v)
		wv.worst = min(wv.worst, kindRank(v.Kind))
		d.Shown++
	}
	for i := range d.Watches {
		wv := byWatch[d.Watches[i].Name]
		wv.Counts = countKinds(wv.Services)
		d.Watches[i] = *wv
	}
	slices.SortStableFunc(d.Watches, func(a, b watchView) int { return cmp.Compare(a.worst, b.worst) })
	for _, k := range kinds {
		if all[k.Kind] > 0 {
			d.Counts = append(d.Counts, kindCount{k.Kind, k.Label, all[k.Kind]})
		}
	}
	if d.Failing > 0 {
		d.Title = fmt.Sprintf("%d failing — gomon", d.Failing)
	}
	render(w, overviewPage, http.StatusOK, d)
}

func countKinds(svcs []svcView) []kindCount {
	var out []kindCount
	for _, k := range kinds {
		n := 0
		for _, v := range svcs {
			if v.Kind == k.Kind {
				n++
			}
		}
		if n > 0 {
			out = append(out, kindCount{k.Kind, k.Label, n})
		}
	}
	return out
}
