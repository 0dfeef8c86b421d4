package alerts

import (
	"os/exec"
	"strings"
	"testing"
)

func wrapCases() []string {
	long := strings.Repeat("x", 120)
	var many []string
	for i := range 40 {
		many = append(many, "web"+strings.Repeat("0", i%5)+"host"+string(rune('a'+i%26)))
	}
	return []string{
		"",
		"h1 h2 h3",
		strings.Join(many, " "),
		long + " short " + long,
		"a  b   c" + strings.Repeat(" word", 30),
		"trailing space ",
	}
}

func TestPerlWrapKnown(t *testing.T) {
	got := perlWrap("", "\t\t\t", "Members               : h1 h2")
	if want := "Members \t      : h1 h2"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// perlWrap matches Text::Wrap itself (skipped without perl).
func TestPerlWrapMatchesPerl(t *testing.T) {
	if _, err := exec.LookPath("perl"); err != nil {
		t.Skip("perl not installed")
	}
	for _, hosts := range wrapCases() {
		text := "Members               : " + hosts
		cmd := exec.Command("perl", "-MText::Wrap", "-e", `print wrap("", "\t\t\t", $ARGV[0])`, text)
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		if got := perlWrap("", "\t\t\t", text); got != string(out) {
			t.Errorf("wrap %q:\n got %q\nwant %q", hosts, got, out)
		}
	}
}

func FuzzPerlWrap(f *testing.F) {
	for _, c := range wrapCases() {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, hosts string) {
		perlWrap("", "\t\t\t", "Members               : "+hosts) // must end, must not panic
	})
}
