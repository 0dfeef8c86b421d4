package decide

import "fmt"

// flap is Icinga's flap detection (flap_detection N LOW HIGH): the
// weighted percent state change over the last N results; the service
// starts flapping at HIGH or above and stops below LOW. Starting and
// stopping each send one alert; in between, down and up alerts are held
// (heldByFlapping).
func (c *decider) flap(failed bool) {
	f := c.svc.Flap
	if f == nil {
		return
	}
	st, r := c.st, c.st.edit()
	r.FlapHistory = append(r.FlapHistory, failed)
	if n := len(r.FlapHistory) - f.Window; n > 0 {
		r.FlapHistory = append(r.FlapHistory[:0], r.FlapHistory[n:]...)
	}
	r.FlapPercent = percentStateChange(r.FlapHistory, f.Window)
	exit := st.ExitVal
	switch {
	case !st.Flapping && r.FlapPercent >= f.High:
		st.Flapping = true
		c.trace("", false, "flapping", "started flapping: %.1f%% state change over the last %d results, high threshold %g%%",
			r.FlapPercent, f.Window, f.High)
		c.doAlert(alertCall{typ: FlappingAlert, retval: &exit,
			output: fmt.Sprintf("flapping: %.0f%% state change over the last %d results\n", r.FlapPercent, f.Window)})
	case st.Flapping && r.FlapPercent < f.Low:
		st.Flapping = false
		c.trace("", false, "flapping", "stopped flapping: %.1f%% state change over the last %d results, low threshold %g%%",
			r.FlapPercent, f.Window, f.Low)
		c.doAlert(alertCall{typ: FlapStopAlert, retval: &exit,
			output: fmt.Sprintf("stopped flapping: %.0f%% state change over the last %d results\n", r.FlapPercent, f.Window)})
	}
}

// heldByFlapping holds down and up alerts while the service flaps.
func (c *decider) heldByFlapping(a alertCall) bool {
	if !c.st.Flapping || !(a.isFailure() || a.typ == UpAlert) {
		return false
	}
	c.trace("", false, "flapping", "held %s alert: the service is flapping (%.1f%% state change)", a.typ, c.st.FlapPercent())
	return true
}

// percentStateChange is Icinga's weighted percent state change: of the
// window-1 transitions between consecutive results, the x-th (0 =
// oldest) counts, when it is a change, with weight 0.8+0.4x/(window-1)
// (0.80, 0.82 … 1.18 for Icinga's 21 results), so recent changes weigh
// more. Transitions a short history has not seen yet count as no
// change: a fresh service cannot flap on its first few results.
func percentStateChange(h []bool, window int) float64 {
	k := window - 1
	missing := k - (len(h) - 1)
	total := 0.0
	for j := 1; j < len(h); j++ {
		if h[j] != h[j-1] {
			x := missing + j - 1 // 0 = the oldest transition of the window
			total += 0.8 + 0.4*float64(x)/float64(k)
		}
	}
	return total * 100 / float64(k)
}
