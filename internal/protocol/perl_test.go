package protocol

import (
	"encoding/hex"
	"os/exec"
	"strings"
	"testing"
)

// perlTestLines are tricky inputs for the differential tests below.
var perlTestLines = []string{
	"list state", "LiSt state", "list", "list ", " list", "listx", "list\tstate",
	"setview", "setviewx", "SETVIEW a b", "get g s v", "protid 9745", "login  a  b c ",
	"quit\x0bx", "list\x00", "ack g s 'a\\20b'", "", "blah", "versionversion", "é list",
	`\41\4a\\41\zz\0`, "\\\\20", "end\\2",
}

// runPerl feeds hex-encoded lines to a Perl snippet that prints one
// result line per input line.
func runPerl(t *testing.T, body string, lines []string) []string {
	t.Helper()
	if _, err := exec.LookPath("perl"); err != nil {
		t.Skip("perl not installed")
	}
	var in strings.Builder
	for _, l := range lines {
		in.WriteString(hex.EncodeToString([]byte(l)) + "\n")
	}
	cmd := exec.Command("perl", "-e", `while (<STDIN>) { chomp; my $l = pack("H*", $_); `+body+` }`)
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("perl: %v", err)
	}
	return strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
}

// TestParseRequestMatchesMon compares ParseRequest with mon's dispatch
// regular expression, run by Perl itself.
func TestParseRequestMatchesMon(t *testing.T) {
	got := runPerl(t, `
		if ($l !~ /^(dump|login|disable|enable|quit|list|set|get|setview|getview|
		    stop|start|loadstate|savestate|reset|clear|checkauth|
		    reload|term|test|servertime|ack|version|protid)(\s+(.*))?$/ix) { print "invalid\n"; next }
		print unpack("H*", "\L$1"), " ", unpack("H*", defined $3 ? $3 : ""), "\n";`, perlTestLines)
	for i, line := range perlTestLines {
		cmd, args, ok := ParseRequest(line)
		want := "invalid"
		if ok {
			want = hex.EncodeToString([]byte(cmd)) + " " + hex.EncodeToString([]byte(args))
		}
		if got[i] != want {
			t.Errorf("ParseRequest(%q): gomon %q, mon %q", line, want, got[i])
		}
	}
}

// TestEscapeMatchesMon compares Escape, EscapeRaw and Unescape with
// Mon::Client's copies of mon's esc_str and un_esc_str.
func TestEscapeMatchesMon(t *testing.T) {
	if err := exec.Command("perl", "-MMon::Client", "-e", "1").Run(); err != nil {
		t.Skip("Perl Mon::Client not available (apt-get install mon-client):", err)
	}
	lines := append(append([]string(nil), perlTestLines...), "\x7f\x80\xff\"'~ \t\r")
	got := runPerl(t, `require Mon::Client;
		print unpack("H*", Mon::Client::_esc_str($l, 1)), " ", unpack("H*", Mon::Client::_esc_str($l, 0)), " ",
			unpack("H*", Mon::Client::_un_esc_str($l)), "\n";`, lines)
	for i, line := range lines {
		want := hex.EncodeToString([]byte(Escape(line))) + " " + hex.EncodeToString([]byte(EscapeRaw(line))) + " " +
			hex.EncodeToString([]byte(Unescape(line)))
		if got[i] != want {
			t.Errorf("escaping %q: gomon %q, mon %q", line, want, got[i])
		}
	}
}
