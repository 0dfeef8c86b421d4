package protocol

import (
	"net"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gomon/gomon/scheduler/decide"
)

// capturedTrap is the byte-exact packet Mon::Client::send_trap produced
// (protocol.md §9.2).
const capturedTrap = `pro='0.3807'
usr='monuser'
pas='p@ss\20w'
spc='0'
seq='0'
typ='trap'
grp='g\20x'
svc='s1'
sta='3'
spc='0'
tsp='1795394986'
sum='sum\20\22q\22\20it\27s'
dtl='line1\0aline2\\z\0a'
`

var capturedTrapFields = Trap{
	Pro: "0.3807", Usr: "monuser", Pas: "p@ss w", Spc: "0", Seq: "0", Typ: "trap", Grp: "g x", Svc: "s1",
	Sta: "3", HasSta: true, Tsp: "1795394986", Sum: `sum "q" it's`,
	// The client doubles the backslash and the server does not undouble
	// it (Q-PRO-3), so the detail arrives with two backslashes.
	Dtl: "line1\nline2\\\\z\n",
}

func TestEncodeTrapCaptured(t *testing.T) {
	tr := capturedTrapFields
	tr.Dtl = "line1\nline2\\z\n" // what the sender passed to send_trap
	if got := string(EncodeTrap(tr)); got != capturedTrap {
		t.Errorf("EncodeTrap mismatch\n got: %q\nwant: %q", got, capturedTrap)
	}
}

func TestEncodeTrapNoUser(t *testing.T) {
	got := string(EncodeTrap(Trap{Pro: "0.3807", Pas: "ignored", Sta: "0"}))
	if strings.Contains(got, "pas=") || !strings.HasPrefix(got, "pro='0.3807'\nusr=''\nspc=''\n") {
		t.Errorf("packet without user = %q", got)
	}
}

func TestDecodeTrapCaptured(t *testing.T) {
	tr, warnings, err := DecodeTrap([]byte(capturedTrap))
	if err != nil || len(warnings) != 0 {
		t.Fatalf("DecodeTrap: %v, warnings %q", err, warnings)
	}
	if !reflect.DeepEqual(tr, capturedTrapFields) {
		t.Errorf("DecodeTrap =\n%+v\nwant\n%+v", tr, capturedTrapFields)
	}
	if err := tr.Validate("127.0.0.1"); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestDecodeTrapRules(t *testing.T) {
	pkt := "grp=unquoted\\20value\n" +
		"bad line\n" +
		"\n" +
		"svc='first'\n" +
		"svc='second'\n" + // later duplicates overwrite
		"sum='\n" + // a lone quote is kept
		"dtl='a'b'\n" + // only the outer quotes go
		"sta=''\n" + // empty but present
		"x-y=1\n" +
		"aut=ignored\n\n\n"
	tr, warnings, err := DecodeTrap([]byte(pkt))
	if err != nil {
		t.Fatal(err)
	}
	want := Trap{Grp: "unquoted value", Svc: "second", Sum: "'", Dtl: "a'b", HasSta: true}
	if !reflect.DeepEqual(tr, want) {
		t.Errorf("DecodeTrap = %+v, want %+v", tr, want)
	}
	wantWarn := []string{"unspecified tag in trap: bad line", "unspecified tag in trap: ", "unspecified tag in trap: x-y=1"}
	if !reflect.DeepEqual(warnings, wantWarn) {
		t.Errorf("warnings = %q, want %q", warnings, wantWarn)
	}
	if _, _, err := DecodeTrap(nil); err == nil {
		t.Error("empty packet accepted")
	}
	if _, _, err := DecodeTrap(make([]byte, MaxTrapSize+1)); err == nil {
		t.Error("oversized packet accepted")
	}
}

func TestTrapValidate(t *testing.T) {
	tests := []struct {
		pro     string
		hasSta  bool
		wantErr string
	}{
		{"0.3807", true, ""},
		{"1", true, ""},
		{"0.3807xyz", true, ""},
		{" 0.4", true, ""},
		{"0.3806", true, "cannot handle traps from version less than 0.3807"},
		{"", true, "cannot handle traps from version less than 0.3807"},
		{"abc", true, "cannot handle traps from version less than 0.3807"},
		{"0.3807", false, "no trap sta value specified from 10.0.0.9"},
	}
	for _, tc := range tests {
		err := Trap{Pro: tc.pro, HasSta: tc.hasSta}.Validate("10.0.0.9")
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.wantErr {
			t.Errorf("Validate(pro=%q, sta=%v) = %q, want %q", tc.pro, tc.hasSta, got, tc.wantErr)
		}
	}
}

// listenUDP opens a UDP socket on 127.0.0.1 for a test.
func listenUDP(t *testing.T) *net.UDPConn {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func receiveTrap(t *testing.T, conn *net.UDPConn) []byte {
	t.Helper()
	buf := make([]byte, MaxTrapSize)
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	n, _, err := conn.ReadFromUDP(buf)
	if err != nil {
		t.Fatalf("receiving trap: %v", err)
	}
	return buf[:n]
}

// TestMonClientInterop has the real Perl Mon::Client send traps and
// checks that gomon decodes them, and that gomon's encoding of the same
// traps is byte-identical.
func TestMonClientInterop(t *testing.T) {
	if err := exec.Command("perl", "-MMon::Client", "-e", "1").Run(); err != nil {
		t.Skip("Perl Mon::Client not available (apt-get install mon-client):", err)
	}
	conn := listenUDP(t)
	port := conn.LocalAddr().(*net.UDPAddr).Port
	script := `
		my ($port, $user) = @ARGV;
		my $c = Mon::Client->new(host => "127.0.0.1", port => $port, username => $user, password => "p\@ss w\\x");
		$c->send_trap(group => "g x", service => "s1", retval => 3, opstatus => "fail",
			summary => "sum \"q\" it's \x{e9}", detail => "line1\nline2\\z\n") or die $c->error;`
	for _, user := range []string{"monuser", ""} {
		out, err := exec.Command("perl", "-MMon::Client", "-e", script, strconv.Itoa(port), user).CombinedOutput()
		if err != nil {
			t.Fatalf("Mon::Client send_trap: %v: %s", err, out)
		}
		pkt := receiveTrap(t, conn)
		tr, warnings, err := DecodeTrap(pkt)
		if err != nil || len(warnings) != 0 {
			t.Fatalf("DecodeTrap: %v, %q", err, warnings)
		}
		wantPas := ""
		if user != "" {
			wantPas = `p@ss w\\x`
		}
		if tr.Usr != user || tr.Pas != wantPas || tr.Grp != "g x" || tr.Svc != "s1" || tr.Sta != "3" ||
			tr.Spc != "0" || tr.Typ != "trap" || tr.Sum != "sum \"q\" it's \xe9" || tr.Dtl != "line1\nline2\\\\z\n" {
			t.Errorf("decoded Mon::Client trap: %+v", tr)
		}
		if err := tr.Validate("127.0.0.1"); err != nil {
			t.Error(err)
		}

		mine, err := NewTrap(user, `p@ss w\x`, "g x", "s1", 3, decide.Fail, "sum \"q\" it's \xe9", "line1\nline2\\z\n")
		if err != nil {
			t.Fatal(err)
		}
		mine.Tsp = tr.Tsp
		if got := string(EncodeTrap(mine)); got != string(pkt) {
			t.Errorf("EncodeTrap differs from Mon::Client\n got: %q\nwant: %q", got, pkt)
		}
	}
}

func TestSendTrap(t *testing.T) {
	conn := listenUDP(t)
	tr, err := NewTrap("", "", "g", "s", 0, decide.OK, "all fine", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := SendTrap(conn.LocalAddr().String(), tr); err != nil {
		t.Fatal(err)
	}
	got, _, err := DecodeTrap(receiveTrap(t, conn))
	if err != nil || got != tr {
		t.Errorf("received %+v (%v), sent %+v", got, err, tr)
	}
	if _, err := NewTrap("", "", "g", "s", 0, decide.Warn, "", ""); err == nil {
		t.Error("NewTrap accepted warn, which Mon::Client cannot send")
	}
}
