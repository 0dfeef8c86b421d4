package monitors

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gosnmp/gosnmp"
)

// This file holds the snmp built-in (GET/WALK with thresholds, in the
// spirit of snmpvar.monitor) and snmpdiskspace.monitor.

// snmpConfig is how to reach an agent; shared by both built-ins.
type snmpConfig struct {
	version   gosnmp.SnmpVersion
	community string
	port      uint16
	timeout   time.Duration // per attempt
	retries   int
	// SNMPv3 (USM)
	user, authPass, privPass, contextName string
	level                                 gosnmp.SnmpV3MsgFlags
	authProto                             gosnmp.SnmpV3AuthProtocol
	privProto                             gosnmp.SnmpV3PrivProtocol
}

var snmpAuthProtos = map[string]gosnmp.SnmpV3AuthProtocol{
	"MD5": gosnmp.MD5, "SHA": gosnmp.SHA, "SHA224": gosnmp.SHA224, "SHA256": gosnmp.SHA256,
	"SHA384": gosnmp.SHA384, "SHA512": gosnmp.SHA512,
}

var snmpPrivProtos = map[string]gosnmp.SnmpV3PrivProtocol{
	"DES": gosnmp.DES, "AES": gosnmp.AES, "AES192": gosnmp.AES192, "AES256": gosnmp.AES256,
	"AES192C": gosnmp.AES192C, "AES256C": gosnmp.AES256C,
}

// session opens a connected client for host; "host:port" overrides the
// configured port.
func (c *snmpConfig) session(ctx context.Context, host string) (*gosnmp.GoSNMP, error) {
	g := &gosnmp.GoSNMP{
		Target:             host,
		Port:               c.port,
		Community:          c.community,
		Version:            c.version,
		Timeout:            c.timeout,
		Retries:            c.retries,
		Context:            ctx,
		MaxOids:            gosnmp.MaxOids,
		MaxRepetitions:     20,
		ExponentialTimeout: false,
	}
	if h, p, ok := strings.Cut(host, ":"); ok && !strings.Contains(p, ":") {
		port, err := strconv.ParseUint(p, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("bad port in %q", host)
		}
		g.Target, g.Port = h, uint16(port)
	}
	if c.version == gosnmp.Version3 {
		g.SecurityModel = gosnmp.UserSecurityModel
		g.MsgFlags = c.level
		g.ContextName = c.contextName
		g.SecurityParameters = &gosnmp.UsmSecurityParameters{
			UserName:                 c.user,
			AuthenticationProtocol:   c.authProto,
			AuthenticationPassphrase: c.authPass,
			PrivacyProtocol:          c.privProto,
			PrivacyPassphrase:        c.privPass,
		}
	}
	if err := g.Connect(); err != nil {
		return nil, err
	}
	return g, nil
}

// walk returns the subtree under oid, with GETBULK where the version
// has it.
func snmpWalk(g *gosnmp.GoSNMP, oid string) ([]gosnmp.SnmpPDU, error) {
	if g.Version == gosnmp.Version1 {
		return g.WalkAll(oid)
	}
	return g.BulkWalkAll(oid)
}

// snmpGet fetches oids in batches the agent accepts.
func snmpGet(g *gosnmp.GoSNMP, oids []string) ([]gosnmp.SnmpPDU, error) {
	var out []gosnmp.SnmpPDU
	for len(oids) > 0 {
		n := min(len(oids), g.MaxOids)
		pkt, err := g.Get(oids[:n])
		if err != nil {
			return nil, err
		}
		if pkt.Error != gosnmp.NoError {
			return nil, fmt.Errorf("agent error %v at index %d", pkt.Error, pkt.ErrorIndex)
		}
		out = append(out, pkt.Variables...)
		oids = oids[n:]
	}
	return out, nil
}

// pduValue renders a value as text and, when numeric, as a number.
func pduValue(p gosnmp.SnmpPDU) (string, float64, bool, error) {
	switch p.Type {
	case gosnmp.NoSuchObject, gosnmp.NoSuchInstance, gosnmp.EndOfMibView, gosnmp.Null:
		return "", 0, false, fmt.Errorf("%v", p.Type)
	case gosnmp.OctetString:
		b, _ := p.Value.([]byte)
		s := string(b)
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		return s, f, err == nil, nil
	case gosnmp.ObjectIdentifier, gosnmp.IPAddress:
		s := fmt.Sprint(p.Value)
		return s, 0, false, nil
	}
	n := gosnmp.ToBigInt(p.Value)
	f, _ := new(big.Float).SetInt(n).Float64()
	return n.String(), f, true, nil
}

// snmpCheck is one -get or -walk item.
type snmpCheck struct {
	oid      string
	walk     bool
	label    string
	min, max *float64
	eq       *string
	match    *regexp.Regexp
}

// verdict returns "" when value is fine, else the reason.
func (c *snmpCheck) verdict(text string, num float64, numeric bool) string {
	if (c.min != nil || c.max != nil) && !numeric {
		return fmt.Sprintf("%q is not a number", text)
	}
	switch {
	case c.min != nil && num < *c.min:
		return fmt.Sprintf("%s < min %s", text, fmtPerlNum(*c.min))
	case c.max != nil && num > *c.max:
		return fmt.Sprintf("%s > max %s", text, fmtPerlNum(*c.max))
	case c.eq != nil && text != *c.eq:
		return fmt.Sprintf("%q != %q", text, *c.eq)
	case c.match != nil && !c.match.MatchString(text):
		return fmt.Sprintf("%q does not match /%s/", text, c.match)
	}
	return ""
}

// parseSnmpCheck reads "OID[,name=LABEL][,min=N][,max=N][,eq=TEXT][,match=RE]".
func parseSnmpCheck(spec string, walk bool) (*snmpCheck, error) {
	parts := strings.Split(spec, ",")
	c := &snmpCheck{oid: strings.TrimPrefix(parts[0], "."), walk: walk}
	if !regexp.MustCompile(`^[0-9]+(\.[0-9]+)+$`).MatchString(c.oid) {
		return nil, fmt.Errorf("%q: want a numeric OID like 1.3.6.1.2.1.1.3.0", parts[0])
	}
	c.oid = "." + c.oid
	c.label = c.oid
	for _, kv := range parts[1:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("%q: %q is not KEY=VALUE", spec, kv)
		}
		switch k {
		case "name":
			c.label = v
		case "min", "max":
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return nil, fmt.Errorf("%q: %s=%q is not a number", spec, k, v)
			}
			if k == "min" {
				c.min = &f
			} else {
				c.max = &f
			}
		case "eq":
			c.eq = &v
		case "match":
			re, err := regexp.Compile(v)
			if err != nil {
				return nil, fmt.Errorf("%q: %w", spec, err)
			}
			c.match = re
		default:
			return nil, fmt.Errorf("%q: unknown key %q (name, min, max, eq, match)", spec, k)
		}
	}
	return c, nil
}

// snmpFlags declares the agent options on fs; finish validates them.
func snmpFlags(fs *flag.FlagSet) func() (*snmpConfig, error) {
	version := fs.String("v", "2c", "SNMP version: 1, 2c or 3")
	community := fs.String("c", "public", "community (v1, v2c)")
	port := fs.Uint("p", 161, "agent UDP port")
	timeout := fs.Float64("t", 2, "timeout per attempt, seconds")
	retries := fs.Int("r", 1, "retries")
	user := fs.String("u", "", "v3 user name")
	level := fs.String("l", "", "v3 security level: noAuthNoPriv, authNoPriv or authPriv (default from -A/-X)")
	auth := fs.String("a", "SHA", "v3 authentication protocol: MD5, SHA, SHA224, SHA256, SHA384, SHA512")
	authPass := fs.String("A", "", "v3 authentication passphrase")
	priv := fs.String("x", "AES", "v3 privacy protocol: DES, AES, AES192, AES256, AES192C, AES256C")
	privPass := fs.String("X", "", "v3 privacy passphrase")
	contextName := fs.String("n", "", "v3 context name")
	return func() (*snmpConfig, error) {
		c := &snmpConfig{community: *community, retries: *retries, user: *user,
			authPass: *authPass, privPass: *privPass, contextName: *contextName}
		switch *version {
		case "1":
			c.version = gosnmp.Version1
		case "2c", "2":
			c.version = gosnmp.Version2c
		case "3":
			c.version = gosnmp.Version3
		default:
			return nil, fmt.Errorf("-v %q: want 1, 2c or 3", *version)
		}
		if *port == 0 || *port > 65535 {
			return nil, fmt.Errorf("-p %d: not a port", *port)
		}
		c.port = uint16(*port)
		if *timeout <= 0 || *retries < 0 {
			return nil, errors.New("-t must be positive and -r not negative")
		}
		c.timeout = time.Duration(*timeout * float64(time.Second))
		if c.version != gosnmp.Version3 {
			return c, nil
		}
		if c.user == "" {
			return nil, errors.New("SNMPv3 needs -u USER")
		}
		var ok bool
		if c.authProto, ok = snmpAuthProtos[strings.ToUpper(*auth)]; !ok {
			return nil, fmt.Errorf("-a %q: unknown protocol", *auth)
		}
		if c.privProto, ok = snmpPrivProtos[strings.ToUpper(*priv)]; !ok {
			return nil, fmt.Errorf("-x %q: unknown protocol", *priv)
		}
		switch strings.ToLower(*level) {
		case "":
			c.level = gosnmp.NoAuthNoPriv
			if c.authPass != "" {
				c.level = gosnmp.AuthNoPriv
				if c.privPass != "" {
					c.level = gosnmp.AuthPriv
				}
			}
		case "noauthnopriv":
			c.level = gosnmp.NoAuthNoPriv
		case "authnopriv":
			c.level = gosnmp.AuthNoPriv
		case "authpriv":
			c.level = gosnmp.AuthPriv
		default:
			return nil, fmt.Errorf("-l %q: want noAuthNoPriv, authNoPriv or authPriv", *level)
		}
		if c.level&gosnmp.AuthNoPriv != 0 && c.authPass == "" {
			return nil, errors.New("-l with authentication needs -A PASSPHRASE")
		}
		if c.level == gosnmp.AuthPriv && c.privPass == "" {
			return nil, errors.New("-l authPriv needs -X PASSPHRASE")
		}
		if c.level&gosnmp.AuthNoPriv == 0 {
			c.authProto, c.privProto = gosnmp.NoAuth, gosnmp.NoPriv
		} else if c.level != gosnmp.AuthPriv {
			c.privProto = gosnmp.NoPriv
		}
		return c, nil
	}
}

// snmpMonitor checks SNMP values against thresholds on every host.
type snmpMonitor struct {
	cfg    *snmpConfig
	checks []*snmpCheck
}

const snmpUsage = "snmp [-v 1|2c|3] [-c COMMUNITY] [-p PORT] [-t SECS] [-r RETRIES] [-u USER -l LEVEL -a AUTH -A PASS -x PRIV -X PASS -n CONTEXT] " +
	"-get OID[,name=L][,min=N][,max=N][,eq=S][,match=RE] ... -walk OID[,...] ... [host...]"

type checkList struct {
	walk   bool
	checks *[]*snmpCheck
}

func (l checkList) String() string { return "" }
func (l checkList) Set(s string) error {
	c, err := parseSnmpCheck(s, l.walk)
	if err != nil {
		return err
	}
	*l.checks = append(*l.checks, c)
	return nil
}

func newSnmp(args []string) (Monitor, error) {
	fs := flag.NewFlagSet("snmp", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	finish := snmpFlags(fs)
	m := &snmpMonitor{}
	fs.Var(checkList{walk: false, checks: &m.checks}, "get", "OID to GET, with thresholds (repeatable)")
	fs.Var(checkList{walk: true, checks: &m.checks}, "walk", "subtree to WALK; thresholds apply to every value (repeatable)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	var err error
	if m.cfg, err = finish(); err != nil {
		return nil, err
	}
	if len(m.checks) == 0 {
		return nil, errors.New("nothing to check: give -get OID or -walk OID")
	}
	return withHostArgs(m, fs.Args()), nil
}

// Exit codes of snmpvar.monitor and snmpdiskspace.monitor.
const (
	snmpExitViolation = 1
	snmpExitError     = 2
)

// snmpHostReport is one host's outcome.
type snmpHostReport struct {
	violations []string
	err        error
	metrics    map[string]float64
}

func (m *snmpMonitor) Check(ctx context.Context, req Request) Result {
	start := time.Now()
	ctx, cancel := withRunTimeout(ctx, req)
	defer cancel()
	reports := snmpEachHost(ctx, req.Hosts, m.checkHost)
	return snmpResult(req.Hosts, reports, start)
}

// snmpEachHost runs check on every host concurrently.
func snmpEachHost(ctx context.Context, hosts []string, check func(context.Context, string) snmpHostReport) []snmpHostReport {
	reports := make([]snmpHostReport, len(hosts))
	sem := make(chan struct{}, maxParallel)
	var wg sync.WaitGroup
	for i, h := range hosts {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			reports[i] = check(ctx, h)
		}()
	}
	wg.Wait()
	return reports
}

// snmpResult formats reports the way the SNMP scripts do: the sorted
// failing hosts, an empty line, one line per problem; exit 1 for a
// violation (it wins), else 2 for an SNMP error.
func snmpResult(hosts []string, reports []snmpHostReport, start time.Time) Result {
	var res Result
	var failed, lines []string
	for i, r := range reports {
		hr := HostResult{Host: hosts[i], OK: true}
		res.Values = append(res.Values, values(hosts[i], r.metrics)...)
		problems := r.violations
		if r.err != nil {
			problems = append(problems, r.err.Error())
			if res.Exit == 0 {
				res.Exit = snmpExitError
			}
		}
		if len(r.violations) > 0 {
			res.Exit = snmpExitViolation
		}
		if len(problems) > 0 {
			hr.OK = false
			hr.Detail = strings.Join(problems, "; ")
			failed = append(failed, hosts[i])
			for _, p := range problems {
				lines = append(lines, hosts[i]+": "+p)
			}
		}
		res.Hosts = append(res.Hosts, hr)
	}
	if len(failed) > 0 {
		sort.Strings(failed)
		res.Output = []byte(strings.Join(failed, " ") + "\n\n" + strings.Join(lines, "\n") + "\n")
	}
	res.Duration = time.Since(start)
	return res
}

func (m *snmpMonitor) checkHost(ctx context.Context, host string) snmpHostReport {
	rep := snmpHostReport{metrics: map[string]float64{}}
	g, err := m.cfg.session(ctx, host)
	if err != nil {
		rep.err = fmt.Errorf("could not create session: %w", err)
		return rep
	}
	defer g.Conn.Close()

	var getOIDs []string
	for _, c := range m.checks {
		if !c.walk {
			getOIDs = append(getOIDs, c.oid)
		}
	}
	got := map[string]gosnmp.SnmpPDU{}
	if len(getOIDs) > 0 {
		pdus, err := snmpGet(g, getOIDs)
		if err != nil {
			rep.err = fmt.Errorf("could not get SNMP info: %w", err)
			return rep
		}
		for _, p := range pdus {
			got[p.Name] = p
		}
	}
	for _, c := range m.checks {
		var pdus []gosnmp.SnmpPDU
		if c.walk {
			if pdus, err = snmpWalk(g, c.oid); err != nil {
				rep.err = fmt.Errorf("could not walk %s: %w", c.oid, err)
				return rep
			}
			if len(pdus) == 0 {
				rep.err = fmt.Errorf("%s: no such subtree", c.label)
				return rep
			}
		} else {
			pdus = []gosnmp.SnmpPDU{got[c.oid]}
			pdus[0].Name = c.oid
		}
		for _, p := range pdus {
			label := c.label
			if c.walk {
				label += strings.TrimPrefix(p.Name, c.oid)
			}
			text, num, numeric, err := pduValue(p)
			if err != nil {
				rep.err = fmt.Errorf("%s: %w", label, err)
				return rep
			}
			if numeric {
				rep.metrics[label] = num
			}
			if why := c.verdict(text, num, numeric); why != "" {
				rep.violations = append(rep.violations, label+" = "+why)
			}
		}
	}
	return rep
}

// snmpdiskspaceMonitor replaces snmpdiskspace.monitor.
type snmpdiskspaceMonitor struct {
	cfg       *snmpConfig
	free      float64 // > 0 bytes, < 0 percent free, 0 = no check
	ifree     float64 // percent of inodes free, 0 = no check
	rules     []diskRule
	useHost   bool
	useUCD    bool
	mibsUsage string
}

type diskRule struct {
	host, fs *regexp.Regexp
	free     float64
	ifree    float64
}

const snmpdiskspaceUsage = "snmpdiskspace.monitor [--community C] [--timeout S] [--retries N] [--config FILE] [--free N|N%|Nmb|Ngb] [--ifree N] [--usemib \"host ucd\"] [-v 1|2c] host..."

// diskSize reads the script's size syntax: N (bytes), Nkb, Nmb, Ngb, or N%
// (returned negative, meaning percent free).
func diskSize(s string) (float64, error) {
	m := regexp.MustCompile(`(?i)^([0-9]+(?:\.[0-9]+)?)(kb|mb|gb|%|)$`).FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q: want N, Nkb, Nmb, Ngb or N%%", s)
	}
	n, _ := strconv.ParseFloat(m[1], 64)
	switch strings.ToLower(m[2]) {
	case "%":
		return -math.Trunc(n), nil
	case "kb":
		n *= 1 << 10
	case "mb":
		n *= 1 << 20
	case "gb":
		n *= 1 << 30
	}
	return math.Trunc(n), nil
}

func newSnmpdiskspace(args []string) (Monitor, error) {
	fs := flag.NewFlagSet("snmpdiskspace", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	version := fs.String("v", "2c", "SNMP version: 1 or 2c")
	community := fs.String("community", "", "community (default $COMMUNITY or public)")
	timeout := fs.Float64("timeout", 2, "timeout per attempt, seconds")
	retries := fs.Int("retries", 5, "retries")
	config := fs.String("config", "", "threshold file (default /etc/mon/snmpdiskspace.cf if present)")
	free := fs.String("free", "5%", "default minimum free space")
	ifree := fs.Float64("ifree", 5, "default minimum free inodes, percent")
	usemib := fs.String("usemib", "host perf ucd", "MIBs to try, in order")
	port := fs.Uint("port", 161, "agent UDP port")
	fs.Bool("debug", false, "ignored")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	m := &snmpdiskspaceMonitor{ifree: *ifree, mibsUsage: *usemib}
	cfg := &snmpConfig{community: *community, retries: *retries, port: uint16(*port),
		timeout: time.Duration(*timeout * float64(time.Second))}
	switch *version {
	case "1":
		cfg.version = gosnmp.Version1
	case "2c", "2":
		cfg.version = gosnmp.Version2c
	default:
		return nil, fmt.Errorf("-v %q: want 1 or 2c", *version)
	}
	if cfg.timeout <= 0 || cfg.retries < 0 || *port == 0 || *port > 65535 {
		return nil, errors.New("bad --timeout, --retries or --port")
	}
	m.cfg = cfg
	var err error
	if m.free, err = diskSize(*free); err != nil {
		return nil, fmt.Errorf("--free %w", err)
	}
	m.useHost = strings.Contains(strings.ToLower(*usemib), "host")
	m.useUCD = strings.Contains(strings.ToLower(*usemib), "ucd")
	if !m.useHost && !m.useUCD {
		return nil, fmt.Errorf("--usemib %q: the built-in knows host and ucd", *usemib)
	}
	path, explicit := *config, *config != ""
	if !explicit {
		path = "/etc/mon/snmpdiskspace.cf"
	}
	if m.rules, err = readDiskRules(path); err != nil && (explicit || !errors.Is(err, os.ErrNotExist)) {
		return nil, err
	}
	return withHostArgs(m, fs.Args()), nil
}

// readDiskRules reads "HOSTRE FSRE FREE [IFREE]" lines; the regexes are
// anchored at both ends as in the script.
func readDiskRules(path string) ([]diskRule, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rules []diskRule
	for i, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if len(f) < 3 {
			return nil, fmt.Errorf("%s:%d: want HOST FILESYSTEM FREE [IFREE]", path, i+1)
		}
		var r diskRule
		if r.host, err = regexp.Compile("^(?:" + f[0] + ")$"); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, i+1, err)
		}
		if r.fs, err = regexp.Compile("^(?:" + f[1] + ")$"); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, i+1, err)
		}
		if r.free, err = diskSize(f[2]); err != nil {
			return nil, fmt.Errorf("%s:%d: error free specification: %w", path, i+1, err)
		}
		if len(f) > 3 {
			if r.ifree, err = strconv.ParseFloat(strings.TrimSuffix(f[3], "%"), 64); err != nil {
				return nil, fmt.Errorf("%s:%d: bad inode threshold %q", path, i+1, f[3])
			}
		}
		rules = append(rules, r)
	}
	return rules, nil
}

// remoteDisk is one filesystem as an agent reports it.
type remoteDisk struct {
	descr        string
	free         float64 // bytes
	usedPct      float64
	inodeUsedPct float64 // < 0: not reported
}

// MIB columns.
const (
	hrStorageType      = ".1.3.6.1.2.1.25.2.3.1.2"
	hrStorageDescr     = ".1.3.6.1.2.1.25.2.3.1.3"
	hrStorageAllocUnit = ".1.3.6.1.2.1.25.2.3.1.4"
	hrStorageSize      = ".1.3.6.1.2.1.25.2.3.1.5"
	hrStorageUsed      = ".1.3.6.1.2.1.25.2.3.1.6"
	hrStorageFixedDisk = ".1.3.6.1.2.1.25.2.1.4"
	dskPath            = ".1.3.6.1.4.1.2021.9.1.2"
	dskDevice          = ".1.3.6.1.4.1.2021.9.1.3"
	dskAvail           = ".1.3.6.1.4.1.2021.9.1.7"
	dskPercent         = ".1.3.6.1.4.1.2021.9.1.9"
	dskPercentNode     = ".1.3.6.1.4.1.2021.9.1.10"
)

// Local disks by device name. The script knows md, hd, wd, sd, ida and
// raid; virtio, Xen, NVMe and device-mapper disks are added.
var ucdLocalDevice = regexp.MustCompile(`\b(md|hd|wd|sd|ida|raid|vd|xvd|nvme|dm-|mapper/)`)

// walkColumns walks table columns and indexes the values by row.
func walkColumns(g *gosnmp.GoSNMP, cols ...string) (map[string]map[string]gosnmp.SnmpPDU, error) {
	rows := map[string]map[string]gosnmp.SnmpPDU{}
	for _, col := range cols {
		pdus, err := snmpWalk(g, col)
		if err != nil {
			return nil, err
		}
		for _, p := range pdus {
			idx := strings.TrimPrefix(p.Name, col)
			if rows[idx] == nil {
				rows[idx] = map[string]gosnmp.SnmpPDU{}
			}
			rows[idx][col] = p
		}
	}
	return rows, nil
}

func num(p gosnmp.SnmpPDU) float64 {
	_, f, _, _ := pduValue(p)
	return f
}

func text(p gosnmp.SnmpPDU) string {
	s, _, _, _ := pduValue(p)
	return s
}

// sortedRows returns row indexes in numeric order.
func sortedRows(rows map[string]map[string]gosnmp.SnmpPDU) []string {
	idx := make([]string, 0, len(rows))
	for k := range rows {
		idx = append(idx, k)
	}
	sort.Slice(idx, func(i, j int) bool {
		a, _ := strconv.Atoi(strings.TrimPrefix(idx[i], "."))
		b, _ := strconv.Atoi(strings.TrimPrefix(idx[j], "."))
		return a < b
	})
	return idx
}

// disks fetches the filesystems from the first MIB that has any.
func (m *snmpdiskspaceMonitor) disks(g *gosnmp.GoSNMP) ([]remoteDisk, error) {
	var out []remoteDisk
	if m.useHost {
		rows, err := walkColumns(g, hrStorageType, hrStorageDescr, hrStorageAllocUnit, hrStorageSize, hrStorageUsed)
		if err != nil {
			return nil, err
		}
		for _, i := range sortedRows(rows) {
			r := rows[i]
			if text(r[hrStorageType]) != hrStorageFixedDisk {
				continue
			}
			d := remoteDisk{descr: text(r[hrStorageDescr]), inodeUsedPct: -1}
			size, used := num(r[hrStorageSize]), num(r[hrStorageUsed])
			d.free = (size - used) * num(r[hrStorageAllocUnit])
			if size != 0 {
				d.usedPct = used / size * 100
			}
			out = append(out, d)
		}
		if len(out) > 0 {
			return out, nil
		}
	}
	if m.useUCD {
		rows, err := walkColumns(g, dskPath, dskDevice, dskAvail, dskPercent, dskPercentNode)
		if err != nil {
			return nil, err
		}
		for _, i := range sortedRows(rows) {
			r := rows[i]
			// Rows missing a column (like swap) are skipped, as in the script.
			if len(r) < 5 || !ucdLocalDevice.MatchString(text(r[dskDevice])) {
				continue
			}
			out = append(out, remoteDisk{
				descr:        text(r[dskPath]),
				free:         num(r[dskAvail]) * 1024,
				usedPct:      num(r[dskPercent]),
				inodeUsedPct: num(r[dskPercentNode]),
			})
		}
	}
	return out, nil
}

func (m *snmpdiskspaceMonitor) Check(ctx context.Context, req Request) Result {
	start := time.Now()
	ctx, cancel := withRunTimeout(ctx, req)
	defer cancel()
	cfg := *m.cfg
	if cfg.community == "" {
		cfg.community = envValue(req.Env, "COMMUNITY")
	}
	if cfg.community == "" {
		cfg.community = os.Getenv("COMMUNITY")
	}
	if cfg.community == "" {
		cfg.community = "public"
	}
	reports := snmpEachHost(ctx, req.Hosts, func(ctx context.Context, host string) snmpHostReport {
		return m.checkHost(ctx, &cfg, host)
	})
	return snmpResult(req.Hosts, reports, start)
}

func (m *snmpdiskspaceMonitor) checkHost(ctx context.Context, cfg *snmpConfig, host string) snmpHostReport {
	rep := snmpHostReport{metrics: map[string]float64{}}
	g, err := cfg.session(ctx, host)
	if err != nil {
		rep.err = fmt.Errorf("could not create session: %w", err)
		return rep
	}
	defer g.Conn.Close()
	disks, err := m.disks(g)
	if err != nil {
		rep.err = fmt.Errorf("could not get SNMP info: %w", err)
		return rep
	}
	if len(disks) == 0 {
		rep.err = fmt.Errorf("Disk space OIDs not found in MIB(s): %s", m.mibsUsage)
		return rep
	}
	for _, d := range disks {
		free, ifree := m.free, m.ifree
		for _, r := range m.rules {
			if r.host.MatchString(host) && r.fs.MatchString(d.descr) {
				free, ifree = r.free, r.ifree
				break
			}
		}
		rep.metrics[d.descr+":free_bytes"] = d.free
		switch {
		case free > 0 && d.free < free:
			rep.violations = append(rep.violations, fmt.Sprintf("filesystem %s is (%1.1f%% full), %1.0fMB free (below threshold %1.0fMB free)",
				d.descr, d.usedPct, d.free/(1<<20), free/(1<<20)))
		case free < 0 && d.usedPct-free >= 100:
			rep.violations = append(rep.violations, fmt.Sprintf("filesystem %s is (%1.1f%% full), %1.0fMB free (below threshold %s%% free)",
				d.descr, d.usedPct, d.free/(1<<20), fmtPerlNum(-free)))
		}
		if ifree > 0 && d.inodeUsedPct >= 0 && 100-d.inodeUsedPct < ifree {
			rep.violations = append(rep.violations, fmt.Sprintf("filesystem %s has %1.1f%% inodes free (below threshold %s%% inodes free)",
				d.descr, 100-d.inodeUsedPct, fmtPerlNum(ifree)))
		}
	}
	return rep
}

func init() {
	Register(&Builtin{Name: "snmp", Usage: snmpUsage, New: newSnmp})
	Register(&Builtin{Name: "snmpdiskspace", Aliases: []string{"snmpdiskspace.monitor"}, Usage: snmpdiskspaceUsage, New: newSnmpdiskspace})
}
