package config

import (
	"strings"
	"testing"
)

// FuzzParse checks that no input makes the mon.cf reader panic, and that
// every rejection carries mon-style text. The checked-in corpus is in
// testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add([]byte(svcHeader + "        interval 5m\n        monitor m.monitor\n        period a: wd {Mon-Fri}\n            alert exit=1-2 mail.alert \"x y\"\n            alertafter 2 30m\n"))
	f.Add([]byte("hostgroup g a \\\n  b\n\nview v g\n\nalias a\ntext\n\nwatch g\n service s\n  depend SELF:s g:s\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		c, err := Parse("fuzz.cf", src, LoadOptions{})
		if err != nil {
			e, ok := err.(*Error)
			if !ok || len(e.Diags) == 0 {
				t.Fatalf("error %T %v is not a non-empty *Error", err, err)
			}
			for _, d := range e.Diags {
				if !strings.HasPrefix(d.Legacy, "cf error: ") || d.Pos.Line < 1 {
					t.Fatalf("bad diagnostic %+v", d)
				}
			}
			return
		}
		if c == nil {
			t.Fatal("nil config without error")
		}
	})
}
