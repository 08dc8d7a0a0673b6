package shell

import (
	"os/exec"
	"testing"
)

func TestQuoteWordJoin(t *testing.T) {
	for _, tc := range []struct{ in, quote, word string }{
		{"", "''", "''"},
		{"plain-1.2_x=y/z,a:b+c@d", "'plain-1.2_x=y/z,a:b+c@d'", "plain-1.2_x=y/z,a:b+c@d"},
		{"it's", `'it'\''s'`, `'it'\''s'`},
		{"a b", "'a b'", "'a b'"},
		{"$(reboot)", "'$(reboot)'", "'$(reboot)'"},
		{"`id`;rm -rf /", "'`id`;rm -rf /'", "'`id`;rm -rf /'"},
		{"x\ny", "'x\ny'", "'x\ny'"},
		{"*", "'*'", "'*'"},
		{"''", `''\'''\'''`, `''\'''\'''`},
	} {
		if got := Quote(tc.in); got != tc.quote {
			t.Errorf("Quote(%q) = %s, want %s", tc.in, got, tc.quote)
		}
		if got := Word(tc.in); got != tc.word {
			t.Errorf("Word(%q) = %s, want %s", tc.in, got, tc.word)
		}
	}
	if got, want := Join("k0s", "install", "--profile=a b", ""), "k0s install '--profile=a b' ''"; got != want {
		t.Errorf("Join = %s, want %s", got, want)
	}
	if got, want := Sudo("echo 'x' > /f"), `sh -c 'echo '\''x'\'' > /f'`; got != want {
		t.Errorf("Sudo = %s, want %s", got, want)
	}
}

// What the real sh makes of a quoted word is the word itself.
func FuzzQuote(f *testing.F) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		f.Skip("no sh")
	}
	for _, s := range []string{"", "a", "it's", "$(id)", "x\ny", "'\\''"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for i := 0; i < len(s); i++ {
			if s[i] == 0 {
				t.Skip("no NUL in an argv")
			}
		}
		out, err := exec.Command(sh, "-c", "printf %s "+Word(s)).Output()
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != s {
			t.Fatalf("sh made %q of %q", out, s)
		}
	})
}
