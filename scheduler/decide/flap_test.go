package decide

import (
	"math"
	"testing"

	"github.com/gomon/gomon/internal/config"
)

func TestPercentStateChange(t *testing.T) {
	F, O := true, false
	for _, tc := range []struct {
		name   string
		h      []bool
		window int
		want   float64
	}{
		{"no change", []bool{O, O, O, O, O}, 5, 0},
		{"every result a change", []bool{O, F, O, F, O}, 5, 95},
		{"the newest change weighs 1.1 of 5", []bool{O, O, O, O, F}, 5, 27.5},
		{"the oldest change weighs 0.8", []bool{O, F, F, F, F}, 5, 20},
		{"a short history counts its changes as the newest", []bool{F, O}, 5, 27.5},
		{"Icinga's 21 results: one change in the middle", append(make([]bool, 10), F, F, F, F, F, F, F, F, F, F, F), 21, 4.9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := percentStateChange(tc.h, tc.window); math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("%v over %d: %.4f%%, want %.4f%%", tc.h, tc.window, got, tc.want)
			}
		})
	}
}

func flapping(window int, low, high float64) func(*config.Service) {
	return func(s *config.Service) { s.Flap = &config.FlapDetection{Window: window, Low: low, High: high} }
}

func TestFlapDetection(t *testing.T) {
	const (
		flapStart = "P0 flapping log.alert down"
		flapStop  = "P0 flapstop log.alert down"
	)
	for _, tc := range []struct {
		name   string
		svc    func(*config.Service)
		events []ev
		check  func(*testing.T, *State, []Decision)
	}{
		{name: "starts at HIGH, holds down and up alerts, stops below LOW", svc: flapping(5, 20, 50),
			events: []ev{fail(0, "x", down), ok(60, "", up), fail(120, "x", flapStart), ok(180, ""), ok(240, ""),
				ok(300, ""), ok(360, ""), ok(420, "", flapStop), fail(480, "x", down)},
			check: func(t *testing.T, st *State, ds []Decision) {
				requireTrace(t, ds[2], "flapping", "started flapping: 52.5% state change over the last 5 results, high threshold 50%")
				requireTrace(t, ds[2], "flapping", "held failure alert: the service is flapping (52.5% state change)")
				requireTrace(t, ds[3], "flapping", "held up alert")
				requireTrace(t, ds[7], "flapping", "stopped flapping: 0.0% state change over the last 5 results, low threshold 20%")
				if st.Flapping || len(st.FlapHistory()) != 5 || math.Abs(st.FlapPercent()-27.5) > 1e-9 {
					t.Errorf("flapping %v history %v percent %v", st.Flapping, st.FlapHistory(), st.FlapPercent())
				}
			}},
		{name: "hysteresis: between LOW and HIGH the state stays", svc: flapping(5, 20, 50),
			events: []ev{fail(0, "x", down), ok(60, "", up), fail(120, "x", flapStart), ok(180, ""), ok(240, ""), ok(300, "")},
			check: func(t *testing.T, st *State, ds []Decision) {
				if !st.Flapping || math.Abs(st.FlapPercent()-42.5) > 1e-9 {
					t.Errorf("flapping %v at %.2f%%", st.Flapping, st.FlapPercent())
				}
			}},
		{name: "the flapping alert carries the percentage", svc: flapping(3, 10, 90),
			events: []ev{ok(0, ""), fail(60, "x", down), ok(120, "", flapStart)},
			check: func(t *testing.T, _ *State, ds []Decision) {
				if a := ds[2].Actions[0]; a.Input != "flapping: 90% state change over the last 3 results\n" || a.Type.Flag() != "" {
					t.Errorf("input %q flag %q", a.Input, a.Type.Flag())
				}
			}},
		{name: "off unless configured", svc: func(*config.Service) {},
			events: []ev{fail(0, "x", down), ok(60, "", up), fail(120, "x", down), ok(180, "", up)},
			check: func(t *testing.T, st *State, _ []Decision) {
				if st.FlapHistory() != nil || st.Flapping {
					t.Errorf("flap state without flap_detection: %+v", st)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			svc := newService(newPeriod(t, "p"))
			tc.svc(svc)
			st := NewState(svc)
			ds := run(t, svc, st, tc.events)
			if tc.check != nil {
				tc.check(t, st, ds)
			}
		})
	}
}
