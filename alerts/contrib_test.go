package alerts

import (
	"bufio"
	"context"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/gomon/gomon/alerts/ipvs"
	"github.com/gomon/gomon/internal/shellwords"
)

// The lvs lines of contrib/lvs/mon.cf do what its comments say, against
// an in-memory table (no packets go anywhere).
func TestContribLVSExample(t *testing.T) {
	f, err := os.Open("../contrib/lvs/mon.cf")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	table := ipvs.NewFake()
	alerts := map[string]*LVS{} // "alert" / "upalert"
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		words, err := shellwords.Split(sc.Text())
		if err != nil || len(words) < 2 || words[1] != "lvs.alert" {
			continue
		}
		l, err := ParseLVS(words[2:])
		if err != nil {
			t.Fatalf("%s: %v", sc.Text(), err)
		}
		l.Open = func() (ipvs.Director, func(), error) { return table, func() {}, nil }
		alerts[words[0]] = l
	}
	if alerts["alert"] == nil || alerts["upalert"] == nil {
		t.Fatal("mon.cf has no lvs alert/upalert lines")
	}
	members := []string{"192.168.0.1", "192.168.0.2"}
	output := "192.168.0.2\nHOST 192.168.0.2: HTTP response code failure\n"
	ctx := context.Background()
	if err := alerts["upalert"].Send(ctx, Event{Hosts: members, Type: Up, Input: []byte("192.168.0.1 192.168.0.2\n")}); err != nil {
		t.Fatal(err)
	}
	if err := alerts["alert"].Send(ctx, Event{Hosts: members, Type: Failure, Input: []byte(output)}); err != nil {
		t.Fatal(err)
	}
	if err := alerts["upalert"].Send(ctx, Event{Hosts: members, Type: Up, Input: []byte(output)}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"add-service tcp 10.0.0.3:80 wlc",
		"add-real tcp 10.0.0.3:80 192.168.0.1:80 dr 1",
		"add-real tcp 10.0.0.3:80 192.168.0.2:80 dr 1",
		"delete-real tcp 10.0.0.3:80 192.168.0.2:80",
		"add-real tcp 10.0.0.3:80 192.168.0.2:80 dr 1",
	}
	if got := table.Ops(); !reflect.DeepEqual(got, want) {
		t.Errorf("ops:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	list, _ := table.Services(ctx)
	if len(list) != 1 || list[0].Addr != netip.MustParseAddrPort("10.0.0.3:80") || len(list[0].Reals) != 2 {
		t.Errorf("table %+v", list)
	}
}
