package auth

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func mustLoad(t *testing.T, name string) *Table {
	t.Helper()
	tab, err := Load(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestDefaultAuthFile(t *testing.T) {
	tab := mustLoad(t, "default-auth.cf")
	// Unauthenticated clients may list and ask the time; everything else
	// needs a login.
	for cmd, want := range map[string]bool{"list": true, "servertime": true, "version": true, "ack": false, "disable": false, "term": false, "unknowncmd": false} {
		if got, _ := tab.Allowed("", false, cmd); got != want {
			t.Errorf("anonymous %s: %v, want %v", cmd, got, want)
		}
	}
	for _, cmd := range []string{"list", "ack", "disable", "term", "reload"} {
		if ok, _ := tab.Allowed("admin", true, cmd); !ok {
			t.Errorf("authenticated %s denied", cmd)
		}
	}
	if ok, _ := tab.Allowed("admin", true, "LIST"); ok {
		t.Error("command names are compared as given (checkauth does not lower-case)")
	}
	// An empty trap section rejects every trap.
	if err := tab.CheckTrap("127.0.0.1", "", ""); errText(err) != "received trap from unauthorized host: 127.0.0.1" {
		t.Errorf("CheckTrap = %v", err)
	}
	if len(tab.Warnings()) != 0 {
		t.Errorf("warnings %q", tab.Warnings())
	}
}

func TestCheckRules(t *testing.T) {
	tab := mustLoad(t, "rules-auth.cf")
	tests := []struct {
		user   string
		authed bool
		cmd    string
		want   string // "ok" or why
	}{
		{"", false, "list", "ok"},
		{"", false, "disable", "not authenticated"},
		{"admin", true, "disable", "ok"},
		{"ops", true, "disable", "denied"}, // ! wins
		{"bob", true, "disable", "not authenticated"},
		{"bob", true, "enable", "ok"},
		{"mallory", true, "enable", "denied"},
		{"admin", true, "set", "ok"}, // repeated lines add
		{"ops", true, "set", "ok"},
		{"bob", true, "set", "not authenticated"},
		{"", false, "reset", "ok"},         // !AUTH_ANY: anonymous judged by all...
		{"admin", true, "reset", "denied"}, // ...logged-in users denied
		{"admin", true, "stop", "not authenticated"},
		{"", false, "get", "not authenticated"},
		{"bob", true, "test", "ok"}, // command section again after the trap section
		{"bob", true, "quit", "not authenticated"},
	}
	for _, tc := range tests {
		ok, why := tab.Allowed(tc.user, tc.authed, tc.cmd)
		if ok {
			why = "ok"
		}
		if why != tc.want {
			t.Errorf("Allowed(%q, %v, %q) = %q, want %q", tc.user, tc.authed, tc.cmd, why, tc.want)
		}
	}
}

func TestCheckTrap(t *testing.T) {
	tab := mustLoad(t, "rules-auth.cf")
	tests := []struct{ ip, user, pass, wantErr string }{
		{"127.0.0.1", "monuser", "secret", ""},
		{"127.0.0.1", "monuser", "wrong", "received trap with bad password from user monuser, host 127.0.0.1"},
		{"127.0.0.1", "other", "secret", ""}, // the localhost line resolved to 127.0.0.1 too
		{"127.0.0.1", "lh", "secret", ""},
		{"127.0.0.1", "nobody", "secret", "received trap from unknown user nobody, host 127.0.0.1"},
		{"127.0.0.1", "", "", "received trap from unknown user , host 127.0.0.1"},
		{"127.0.0.2", "", "", ""}, // user * needs no credentials
		{"127.0.0.3", "monuser", "secret", "received trap from unauthorized host: 127.0.0.3"},
	}
	for _, tc := range tests {
		if got := errText(tab.CheckTrap(tc.ip, tc.user, tc.pass)); got != tc.wantErr {
			t.Errorf("CheckTrap(%q, %q, %q) = %q, want %q", tc.ip, tc.user, tc.pass, got, tc.wantErr)
		}
	}
	path := filepath.Join("testdata", "rules-auth.cf")
	wantWarn := []string{
		"invalid entry in trap sect of " + path + ", line 17",
		"invalid entry in trap sect of " + path + ", line 18",
		"invalid host in " + path + ", line 19",
		"invalid host in " + path + ", line 20",
		"invalid entry in trap sect of " + path + ", line 21",
	}
	if !reflect.DeepEqual(tab.Warnings(), wantWarn) {
		t.Errorf("warnings\n got %q\nwant %q", tab.Warnings(), wantWarn)
	}
}

// One "*" host line makes the per-IP lines irrelevant (Q-AUTH-2).
func TestCheckTrapStarHost(t *testing.T) {
	tab := mustLoad(t, "star-auth.cf")
	if err := tab.CheckTrap("127.0.0.1", "monuser", "secret"); err != nil {
		t.Error(err)
	}
	if got := errText(tab.CheckTrap("127.0.0.1", "x", "")); got != "received trap from unknown user x, host *" {
		t.Errorf("CheckTrap = %q", got)
	}
}

func TestLoadErrors(t *testing.T) {
	_, err := Load(filepath.Join("testdata", "nocolon-auth.cf"))
	if want := "testdata/nocolon-auth.cf:3: could not parse line 3 of auth file"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Load = %v, want %q...", err, want)
	}
	_, err = Load(filepath.Join(t.TempDir(), "missing.cf"))
	if err == nil || !strings.HasSuffix(err.Error(), "missing.cf: no such file or directory") || !strings.HasPrefix(err.Error(), "could not open ") {
		t.Errorf("Load(missing) = %v", err)
	}
	empty := filepath.Join(t.TempDir(), "empty.cf")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tab, err := Load(empty)
	anon, _ := tab.Allowed("", false, "list")
	authed, _ := tab.Allowed("admin", true, "list")
	if err != nil || anon || authed {
		t.Errorf("an empty auth.cf must deny every gated command (err %v)", err)
	}
}
