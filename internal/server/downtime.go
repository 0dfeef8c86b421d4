package server

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gomon/gomon/internal/configfile"
	"github.com/gomon/gomon/scheduler"
)

// The gomon extensions of disable and ack (issue 16, docs/downtimes.md):
//
//	disable service G S [for DURATION | until UNIXTIME] [reason TEXT...]
//	disable watch G     [for DURATION | until UNIXTIME] [reason TEXT...]
//	disable host H...   [for DURATION | until UNIXTIME] [reason TEXT...]
//	ack G S (for DURATION | until UNIXTIME) [COMMENT...]
//
// Without these words the commands are mon's. In a cluster the line the
// other nodes replay says `until` with the absolute time, so that every
// node ends the downtime at the same instant.

// holdWords are the words that start the extension.
var holdWords = map[string]bool{"for": true, "until": true, "reason": true}

// parseHold reads the extension words at the start of words. found is
// false when there are none.
func parseHold(words []string, now time.Time) (h scheduler.Hold, found bool, err error) {
	if len(words) == 0 || !holdWords[words[0]] {
		return h, false, nil
	}
	i := 0
	switch words[0] {
	case "for", "until":
		if len(words) < 2 {
			return h, true, fmt.Errorf("%s needs a value", words[0])
		}
		if h.Until, err = parseUntil(words[0], words[1], now); err != nil {
			return h, true, err
		}
		i = 2
	}
	if i < len(words) {
		if words[i] != "reason" || i+1 == len(words) {
			return h, true, fmt.Errorf("expected reason TEXT after %s", strings.Join(words[:i], " "))
		}
		h.Reason = unquote(strings.Join(words[i+1:], " "))
	}
	return h, true, nil
}

// parseUntil reads `for DURATION` (mon's timeval: 30m, 2h, 1d) or
// `until UNIXTIME`.
func parseUntil(kw, v string, now time.Time) (time.Time, error) {
	if kw == "until" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return time.Time{}, fmt.Errorf("until %s is not a Unix time", v)
		}
		return time.Unix(n, 0), nil
	}
	d, err := configfile.ParseTimeval(v)
	if err != nil || d <= 0 {
		return time.Time{}, fmt.Errorf("for %s is not a duration such as 30m, 2h or 1d", v)
	}
	return now.Add(d), nil
}

// holdSuffix renders a hold as the words the other cluster nodes replay:
// an absolute end, and the reason.
func holdSuffix(h scheduler.Hold) string {
	var b strings.Builder
	if !h.Until.IsZero() {
		b.WriteString(" until " + strconv.FormatInt(h.Until.Unix(), 10))
	}
	if h.Reason != "" {
		b.WriteString(" reason " + h.Reason)
	}
	return b.String()
}

// unquote drops one pair of quotes around a reason typed on one line.
func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

// who names the user a downtime is recorded for.
func who(sess *session) string {
	if sess.user != "" {
		return sess.user
	}
	return "anonymous@" + sess.ip
}

// cmdAckFor handles `ack G S for|until ...`; handled is false for mon's
// own ack.
func (srv *Server) cmdAckFor(sess *session, group, service, rest string) (r reply, handled bool) {
	words := strings.Fields(rest)
	if len(words) < 2 || (words[0] != "for" && words[0] != "until") {
		return reply{}, false
	}
	until, err := parseUntil(words[0], words[1], srv.sched.Now())
	if err != nil {
		return fail("520 ack error, " + err.Error()), true
	}
	comment := unquote(strings.Join(words[2:], " "))
	switch srv.sched.AckFor(group, service, sess.user, comment, until) {
	case nil:
		r = ok("220 ack completed")
		r.replicate = "ack " + group + " " + service + " until " + strconv.FormatInt(until.Unix(), 10) + " " + comment
		return r, true
	case scheduler.ErrUnknownGroup:
		return fail("520 unknown group"), true
	case scheduler.ErrUnknownService:
		return fail("520 unknown service"), true
	}
	return fail("520 service is in a non-failure state"), true
}

// listDowntimes answers `list downtimes`: one line per downtime in force.
func (srv *Server) listDowntimes() reply {
	var data []string
	for _, d := range srv.sched.Downtimes() {
		data = append(data, d.Line())
	}
	return ok("220 list downtimes completed", data...)
}
