package configfile

import (
	"bytes"
	"reflect"
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
		// Whatever loads converts to HCL and back to the same model.
		var buf bytes.Buffer
		if err := WriteHCL(&buf, c); err != nil {
			return // not valid UTF-8; HCL cannot hold it
		}
		back, err := ParseHCL("fuzz.hcl", buf.Bytes())
		if err != nil {
			t.Fatalf("converted HCL does not load: %v\n%s", err, buf.String())
		}
		stripPositions(c)
		stripPositions(back)
		if !reflect.DeepEqual(c, back) {
			t.Fatalf("conversion changed the model:\n%+v\n%+v\n%s", c, back, buf.String())
		}
	})
}

// FuzzParseHCL checks that no input makes the HCL reader panic.
func FuzzParseHCL(f *testing.F) {
	f.Add([]byte("maxprocs = 3\nwatch \"g\" {\n  service \"s\" {\n    interval = \"1m\"\n    period \"p\" { when = \"wd {Mon}\" }\n  }\n}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		c, err := ParseHCL("fuzz.hcl", src)
		if err == nil && c == nil {
			t.Fatal("nil config without error")
		}
	})
}
