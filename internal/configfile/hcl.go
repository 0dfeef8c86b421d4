package configfile

import (
	"github.com/gomon/gomon/internal/config"

	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// The HCL format (docs/config-hcl.md) describes the same model as mon.cf:
// top-level attributes are the globals, blocks are hostgroup, view, alias
// and watch; a watch holds service blocks, a service holds period blocks.
// Attribute names are the mon.cf keywords. The reader feeds every value to
// the same builder steps as the mon.cf parser, so validation and error
// texts are shared.

// globalKinds lists the global attributes and how a list value is joined
// into mon's text ("" = a list is not accepted).
var globalKinds = map[string]string{
	"alertdir": ":", "mondir": ":", "clientallow": " ", "authtype": " ", "snmptrap_community": ",",
}

var globalNames = wordSet("alertdir mondir basedir cfbasedir logdir statedir histlength serverport trapport " +
	"serverbind trapbind clientallow pidfile randstart maxprocs authfile authtype pamservice userfile " +
	"historicfile historictime cltimeout monerrfile dtlogfile dtlogging dep_recur_limit dep_behavior " +
	"dep_memory unack_summary syslog_facility startupalerts_on_reset monremote exclude_period " +
	"monitor_timeout maxclients status_listen alert_retries snmptrap_listen snmptrap_community snmptrap_user " +
	"snmptrap_engineid")

// lineKeywords may be given more than once; in HCL they are lists with
// one element per mon.cf line.
var lineKeywords = wordSet("snmptrap_user snmptrap downtime")

// flagKeywords take no argument in mon.cf; in HCL they are booleans.
var flagKeywords = wordSet("allow_empty_group keep_children no_comp_alerts alerts_dont_count " +
	"host_verdicts alert_per_host alert_on_period_start")

// alertKeywords are lists of alert lines in HCL.
var alertKeywords = wordSet("alert upalert startupalert ackalert disablealert")

var (
	periodLabelOnlyRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	envNameRE         = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)
)

func schemaFor(attrs map[string]bool, blocks ...hcl.BlockHeaderSchema) *hcl.BodySchema {
	s := &hcl.BodySchema{Blocks: blocks}
	for _, name := range sortedKeys(attrs) {
		s.Attributes = append(s.Attributes, hcl.AttributeSchema{Name: name})
	}
	return s
}

var (
	rootSchema = schemaFor(globalNames,
		hcl.BlockHeaderSchema{Type: "hostgroup", LabelNames: []string{"name"}},
		hcl.BlockHeaderSchema{Type: "view", LabelNames: []string{"name"}},
		hcl.BlockHeaderSchema{Type: "alias", LabelNames: []string{"name"}},
		hcl.BlockHeaderSchema{Type: "watch", LabelNames: []string{"name"}},
		hcl.BlockHeaderSchema{Type: "cluster"},
	)
	// clusterSchema's attributes are the cluster_* globals without the
	// prefix: cluster { etcd = [...] node = "d1" }.
	clusterSchema   = schemaFor(wordSet("etcd node lease prefix advertise etcd_cacert etcd_cert etcd_key etcd_user etcd_password_file"))
	hostgroupSchema = schemaFor(wordSet("hosts"))
	viewSchema      = schemaFor(wordSet("members"))
	aliasSchema     = schemaFor(wordSet("lines"))
	watchSchema     = schemaFor(nil, hcl.BlockHeaderSchema{Type: "service", LabelNames: []string{"name"}})
	serviceSchema   = schemaFor(union(serviceKeywords, wordSet("env")),
		hcl.BlockHeaderSchema{Type: "period", LabelNames: []string{"name"}})
	periodSchema = schemaFor(union(periodKeywords, wordSet("when")))
)

func union(sets ...map[string]bool) map[string]bool {
	u := map[string]bool{}
	for _, s := range sets {
		for k := range s {
			u[k] = true
		}
	}
	return u
}

// ParseHCL reads a configuration in gomon's HCL format. Errors are *Error,
// with HCL's own diagnostics turned into positioned problems.
func ParseHCL(name string, src []byte) (*config.Config, error) {
	return parseHCL(name, src, LoadOptions{})
}

func parseHCL(name string, src []byte, opts LoadOptions) (*config.Config, error) {
	r := &hclReader{b: newBuilder(name, opts)}
	f, diags := hclparse.NewParser().ParseHCL(src, name)
	if !r.report(diags) {
		r.root(f.Body)
	}
	return r.b.finish()
}

type hclReader struct {
	b *builder
}

// report records HCL's error diagnostics and reports whether there were any.
func (r *hclReader) report(diags hcl.Diagnostics) bool {
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		pos := config.Pos{File: r.b.cfg.Source}
		if d.Subject != nil {
			pos.Line = d.Subject.Start.Line
		}
		r.b.fail(pos, errf("%s", d.Summary).withHint("%s", d.Detail))
	}
	return diags.HasErrors()
}

func (r *hclReader) pos(rng hcl.Range) config.Pos {
	return config.Pos{File: r.b.cfg.Source, Line: rng.Start.Line}
}

// content decodes body against schema; attributes come back in file order.
func (r *hclReader) content(body hcl.Body, schema *hcl.BodySchema) ([]*hcl.Attribute, hcl.Blocks) {
	c, diags := body.Content(schema)
	r.report(diags)
	attrs := make([]*hcl.Attribute, 0, len(c.Attributes))
	for _, a := range c.Attributes {
		attrs = append(attrs, a)
	}
	sort.Slice(attrs, func(i, j int) bool { return attrs[i].Range.Start.Byte < attrs[j].Range.Start.Byte })
	return attrs, c.Blocks
}

// text evaluates an attribute to mon's text form: strings as they are,
// numbers in decimal, booleans as 1/0, lists joined with sep (when sep is
// "", a list is an error).
func (r *hclReader) text(a *hcl.Attribute, sep string) (string, bool) {
	v, diags := a.Expr.Value(nil)
	if r.report(diags) {
		return "", false
	}
	if v.IsNull() || !v.IsWhollyKnown() {
		r.b.fail(r.pos(a.NameRange), errf("attribute %s has no value", a.Name))
		return "", false
	}
	t := v.Type()
	if sep != "" && (t.IsListType() || t.IsTupleType() || t.IsSetType()) {
		words, ok := r.stringList(a)
		return strings.Join(words, sep), ok
	}
	if t == cty.Bool {
		if v.True() {
			return "1", true
		}
		return "0", true
	}
	s, err := convert.Convert(v, cty.String)
	if err != nil {
		r.b.fail(r.pos(a.NameRange), errf("attribute %s must be a string", a.Name).withHint("%v", err))
		return "", false
	}
	return s.AsString(), true
}

// flag evaluates a boolean attribute.
func (r *hclReader) flag(a *hcl.Attribute) (bool, bool) {
	v, diags := a.Expr.Value(nil)
	if r.report(diags) {
		return false, false
	}
	b, err := convert.Convert(v, cty.Bool)
	if err != nil || b.IsNull() {
		r.b.fail(r.pos(a.NameRange), errf("attribute %s must be true or false", a.Name))
		return false, false
	}
	return b.True(), true
}

// stringList evaluates a list of strings.
func (r *hclReader) stringList(a *hcl.Attribute) ([]string, bool) {
	v, diags := a.Expr.Value(nil)
	if r.report(diags) {
		return nil, false
	}
	l, err := convert.Convert(v, cty.List(cty.String))
	if err != nil || l.IsNull() || !l.IsWhollyKnown() {
		r.b.fail(r.pos(a.NameRange), errf("attribute %s must be a list of strings", a.Name))
		return nil, false
	}
	var out []string
	for _, e := range l.AsValueSlice() {
		if e.IsNull() {
			r.b.fail(r.pos(a.NameRange), errf("attribute %s must not contain null", a.Name))
			return nil, false
		}
		out = append(out, e.AsString())
	}
	return out, true
}

func (r *hclReader) root(body hcl.Body) {
	attrs, blocks := r.content(body, rootSchema)
	// Globals first: dep_behavior, dep_memory and unack_summary then
	// apply to every service, whatever their place in the file.
	for _, a := range attrs {
		if lineKeywords[a.Name] {
			r.lines(a, r.b.setGlobal)
			continue
		}
		if v, ok := r.text(a, globalKinds[a.Name]); ok {
			r.b.setGlobal(r.pos(a.NameRange), a.Name, v)
		}
	}
	for _, blk := range blocks {
		if blk.Type == "cluster" {
			attrs, _ := r.content(blk.Body, clusterSchema)
			for _, a := range attrs {
				if v, ok := r.text(a, ","); ok {
					r.b.setGlobal(r.pos(a.NameRange), "cluster_"+a.Name, v)
				}
			}
			continue
		}
		pos, name := r.pos(blk.DefRange), blk.Labels[0]
		if !nameRE.MatchString(name) {
			r.b.fail(pos, errf("invalid %s name '%s'", blk.Type, name).withHint("a name uses only A-Z a-z 0-9 _ . -"))
		}
		switch blk.Type {
		case "hostgroup":
			r.b.hostgroup(pos, name, r.listAttr(blk.Body, hostgroupSchema, "hosts"))
		case "view":
			r.b.startView(pos, name, r.listAttr(blk.Body, viewSchema, "members"))
		case "alias":
			r.b.startAlias(pos, name)
			for _, l := range r.listAttr(blk.Body, aliasSchema, "lines") {
				r.b.aliasLine(l)
			}
		case "watch":
			r.watch(pos, name, blk.Body)
		}
		r.b.endBlock()
	}
}

// listAttr returns the single list attribute of a simple block.
func (r *hclReader) listAttr(body hcl.Body, schema *hcl.BodySchema, name string) []string {
	attrs, _ := r.content(body, schema)
	for _, a := range attrs {
		if l, ok := r.stringList(a); ok {
			return l
		}
	}
	return nil
}

func (r *hclReader) watch(pos config.Pos, name string, body hcl.Body) {
	r.b.startWatch(pos, name)
	_, services := r.content(body, watchSchema)
	for _, s := range services {
		r.service(s)
	}
}

func (r *hclReader) service(blk *hcl.Block) {
	b := r.b
	b.startService(r.pos(blk.DefRange), blk.Labels[0])
	attrs, periods := r.content(blk.Body, serviceSchema)
	for _, a := range attrs {
		pos := r.pos(a.NameRange)
		switch {
		case a.Name == "env":
			r.env(a)
		case lineKeywords[a.Name]:
			r.lines(a, func(pos config.Pos, kw, v string) { b.serviceKeyword(pos, kw, v) })
		case flagKeywords[a.Name]:
			if on, ok := r.flag(a); ok && on {
				b.serviceKeyword(pos, a.Name, "")
			}
		default:
			sep := ""
			if a.Name == "exclude_hosts" {
				sep = " "
			}
			if v, ok := r.text(a, sep); ok {
				b.serviceKeyword(pos, a.Name, v)
			}
		}
	}
	for _, p := range periods {
		r.period(p)
	}
}

// env reads `env = { NAME = "value", ... }`, keeping the written order.
func (r *hclReader) env(a *hcl.Attribute) {
	pairs, diags := hcl.ExprMap(a.Expr)
	if r.report(diags) {
		return
	}
	for _, kv := range pairs {
		pos := r.pos(kv.Key.Range())
		k, kd := kv.Key.Value(nil)
		v, vd := kv.Value.Value(nil)
		if r.report(append(kd, vd...)) {
			continue
		}
		ks, err1 := convert.Convert(k, cty.String)
		vs, err2 := convert.Convert(v, cty.String)
		if err1 != nil || err2 != nil || ks.IsNull() || vs.IsNull() || !envNameRE.MatchString(ks.AsString()) {
			r.b.fail(pos, errf("invalid environment variable in env").withHint("names are A-Z, 0-9 and _ and do not start with a digit; values are strings"))
			continue
		}
		r.b.env(pos, ks.AsString(), vs.AsString())
	}
}

func (r *hclReader) period(blk *hcl.Block) {
	b := r.b
	attrs, _ := r.content(blk.Body, periodSchema)
	pos, label, spec := r.pos(blk.DefRange), "", blk.Labels[0]
	for _, a := range attrs {
		if a.Name != "when" {
			continue
		}
		if !periodLabelOnlyRE.MatchString(blk.Labels[0]) {
			b.fail(pos, errf("invalid period label '%s'", blk.Labels[0]).withHint("a label is a letter or _ followed by letters, digits or _"))
		}
		label = blk.Labels[0]
		spec, _ = r.text(a, "")
	}
	b.startPeriod(pos, label, spec)
	for _, a := range attrs {
		pos := r.pos(a.NameRange)
		switch {
		case a.Name == "when":
		case alertKeywords[a.Name]:
			r.lines(a, func(pos config.Pos, kw, v string) { b.periodKeyword(pos, kw, v) })
		case flagKeywords[a.Name]:
			if on, ok := r.flag(a); ok && on {
				b.periodKeyword(pos, a.Name, "")
			}
		default:
			if v, ok := r.text(a, ""); ok {
				b.periodKeyword(pos, a.Name, v)
			}
		}
	}
}

// lines reads a list of mon.cf lines of one keyword (alert lines,
// snmptrap rules…) and applies each, with its own position.
func (r *hclReader) lines(a *hcl.Attribute, apply func(pos config.Pos, kw, v string)) {
	elems, diags := hcl.ExprList(a.Expr)
	if r.report(diags) {
		return
	}
	for _, e := range elems {
		v, d := e.Value(nil)
		if r.report(d) {
			continue
		}
		s, err := convert.Convert(v, cty.String)
		if err != nil || s.IsNull() {
			r.b.fail(r.pos(e.Range()), errf("%s lines must be strings", a.Name))
			continue
		}
		apply(r.pos(e.Range()), a.Name, s.AsString())
	}
}
