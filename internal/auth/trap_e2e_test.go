package auth

import (
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/gomon/gomon/internal/protocol"
)

// TestMonClientTrapAuth sends traps with the real Perl Mon::Client to a
// socket on 127.0.0.1 and authenticates them against an auth.cf, as the
// server will: decode, CheckTrap, Validate.
func TestMonClientTrapAuth(t *testing.T) {
	if err := exec.Command("perl", "-MMon::Client", "-e", "1").Run(); err != nil {
		t.Skip("Perl Mon::Client not available (apt-get install mon-client):", err)
	}
	tab := mustLoad(t, "rules-auth.cf")
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	port := strconv.Itoa(conn.LocalAddr().(*net.UDPAddr).Port)

	tests := []struct{ user, pass, wantErr string }{
		{"monuser", "secret", ""},
		{"monuser", "wrong", "received trap with bad password from user monuser, host 127.0.0.1"},
		{"other", "secret", ""},
		{"", "", "received trap from unknown user , host 127.0.0.1"},
	}
	for _, tc := range tests {
		script := `my ($port, $user, $pass) = @ARGV;
			my $c = Mon::Client->new(host => "127.0.0.1", port => $port, username => $user, password => $pass);
			$c->send_trap(group => "g", service => "s", retval => 1, opstatus => "fail", summary => "down", detail => "") or die $c->error;`
		if out, err := exec.Command("perl", "-MMon::Client", "-e", script, port, tc.user, tc.pass).CombinedOutput(); err != nil {
			t.Fatalf("send_trap: %v: %s", err, out)
		}
		buf := make([]byte, protocol.MaxTrapSize)
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		n, from, err := conn.ReadFromUDP(buf)
		if err != nil {
			t.Fatal(err)
		}
		tr, _, err := protocol.DecodeTrap(buf[:n])
		if err != nil {
			t.Fatal(err)
		}
		err = tab.CheckTrap(from.IP.String(), tr.Usr, tr.Pas)
		if err == nil {
			err = tr.Validate(from.IP.String())
		}
		if errText(err) != tc.wantErr {
			t.Errorf("trap from user %q: %v, want %q", tc.user, err, tc.wantErr)
		}
	}
}
