package monitors

import (
	"context"
	"sort"
	"strings"
	"time"
)

// This file builds the text the bundled scripts print, so that alerts and
// clients see the same summary and detail from a built-in.

// failedHosts returns the hosts whose check failed, sorted, as the
// scripts list them on the summary line.
func failedHosts(hosts []HostResult) []string {
	var failed []string
	for _, h := range hosts {
		if !h.OK {
			failed = append(failed, h.Host)
		}
	}
	sort.Strings(failed)
	return failed
}

// anyFailed reports whether some host failed.
func anyFailed(hosts []HostResult) bool {
	for _, h := range hosts {
		if !h.OK {
			return true
		}
	}
	return false
}

// exitFor is the scripts' exit status: 1 if any host failed.
func exitFor(hosts []HostResult) int {
	if anyFailed(hosts) {
		return 1
	}
	return 0
}

// conversation is one host's exchange in the format ftp.monitor and
// smtp.monitor report.
type conversation struct {
	Host   string
	OK     bool
	Err    string // the failure text after "failed with error "
	Detail string // transcript; "" prints "no detail"
}

// failed returns c as a failure with the transcript so far and msg, or
// "timeout" when err is a deadline running out.
func (c conversation) failed(transcript, msg string, err error) conversation {
	c.Detail, c.Err = transcript, msg
	if isTimeout(err) {
		c.Err = "timeout"
	}
	return c
}

// ruler separates a host's header from its transcript.
var ruler = strings.Repeat("=", 78)

// conversationReport formats results like ftp.monitor and smtp.monitor:
// the summary line, a block per failed host, an empty line, a block per
// good host. The scripts order blocks by Perl hash order; we sort.
func conversationReport(convs []conversation) string {
	var b strings.Builder
	var bad, good []conversation
	for _, c := range convs {
		if c.OK {
			good = append(good, c)
		} else {
			bad = append(bad, c)
		}
	}
	byHost := func(cs []conversation) {
		sort.SliceStable(cs, func(i, j int) bool { return cs[i].Host < cs[j].Host })
	}
	byHost(bad)
	byHost(good)
	names := make([]string, len(bad))
	for i, c := range bad {
		names[i] = c.Host
	}
	b.WriteString(strings.Join(names, " ") + "\n")
	block := func(c conversation, head string) {
		b.WriteString(head + "\n")
		b.WriteString("detail for " + c.Host + "\n")
		b.WriteString(ruler + "\n")
		if c.Detail != "" {
			b.WriteString(c.Detail)
		} else {
			b.WriteString("no detail\n")
		}
		b.WriteString("\n")
	}
	for _, c := range bad {
		block(c, c.Host+" failed with error "+c.Err)
	}
	b.WriteString("\n")
	for _, c := range good {
		block(c, c.Host+" succeeded")
	}
	return b.String()
}

// conversationResult turns conversations into a Result.
// checkConversations talks to every host under the run's timeout and
// reports in the ftp/smtp scripts' format.
func checkConversations(ctx context.Context, req Request, perHost time.Duration, check func(context.Context, string) conversation) Result {
	ctx, cancel := withRunTimeout(ctx, req)
	defer cancel()
	start := time.Now()
	res := conversationResult(checkHosts(ctx, req.Hosts, perHost, check))
	res.Duration = time.Since(start)
	return res
}

func conversationResult(convs []conversation) Result {
	hosts := make([]HostResult, len(convs))
	for i, c := range convs {
		detail := "ok"
		if !c.OK {
			detail = c.Err
		}
		hosts[i] = HostResult{Host: c.Host, OK: c.OK, Detail: detail}
	}
	return Result{Exit: exitFor(hosts), Output: []byte(conversationReport(convs)), Hosts: hosts}
}
