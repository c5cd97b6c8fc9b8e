package envfile_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tesuji/tesuji/fleet/envfile"
)

const secretValue = "rediss://:hunter2@redis.internal:6380/0"

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want map[string]string
		err  bool
	}{
		{name: "empty", in: "", want: map[string]string{}},
		{name: "comments and blank lines", in: "# c\n\n   \n; also a comment\nA=1\n", want: map[string]string{"A": "1"}},
		{name: "unquoted trimmed", in: "A =  hello world  \n", want: map[string]string{"A": "hello world"}},
		{name: "trailing comment", in: "A=1 # one\nB=x#y\n", want: map[string]string{"A": "1", "B": "x#y"}},
		{name: "export prefix", in: "export A=1\nexportB=2\n", want: map[string]string{"A": "1", "exportB": "2"}},
		{name: "double quotes", in: `A="a \"b\" \\ \$c \n"`, want: map[string]string{"A": "a \"b\" \\ $c \n"}},
		{name: "double quotes keep unknown escapes", in: `A="C:\dir"`, want: map[string]string{"A": `C:\dir`}},
		{name: "single quotes are literal", in: `A='$x \n "y"' # c`, want: map[string]string{"A": `$x \n "y"`}},
		{name: "empty value", in: "A=\nB=\"\"\n", want: map[string]string{"A": "", "B": ""}},
		{name: "equals in value", in: "A=b=c\n", want: map[string]string{"A": "b=c"}},
		{name: "crlf", in: "A=1\r\nB=2\r\n", want: map[string]string{"A": "1", "B": "2"}},
		{name: "later wins", in: "A=1\nA=2\n", want: map[string]string{"A": "2"}},
		{name: "no equals", in: "A\n", err: true},
		{name: "bad key", in: "1A=x\n", err: true},
		{name: "key with dash", in: "A-B=x\n", err: true},
		{name: "unterminated double", in: `A="x`, err: true},
		{name: "unterminated single", in: `A='x`, err: true},
		{name: "text after quote", in: `A="x" y`, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := envfile.Parse(strings.NewReader(tt.in))
			if tt.err {
				if !errors.Is(err, envfile.ErrSyntax) {
					t.Errorf("Parse(%q) error = %v, want ErrEnvSyntax", tt.in, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

// quote renders a value the way an operator writes any secret into the parameter:
// double-quoted with the escapes ParseEnv reads.
func quote(v string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\t", `\t`, "$", `\$`, "`", "\\`")
	return `"` + r.Replace(v) + `"`
}

func FuzzParse(f *testing.F) {
	f.Add("A=1\n# c\nB=\"x\\\"y\"\nexport C='z'\n", "KEY", "va\"l#ue $x")
	f.Add("A=\"\n", "A", "")
	f.Add("A='x' #", "TESUJI_REDIS", secretValue)
	f.Fuzz(func(t *testing.T, doc, key, value string) {
		// Any input: no panic, and errors never quote the document.
		if _, err := envfile.Parse(strings.NewReader(doc)); err != nil && len(doc) > 8 && strings.Contains(err.Error(), doc) {
			t.Errorf("error quotes the input: %v", err)
		}
		// A quoted value comes back exactly.
		if !validKey(key) || strings.ContainsAny(value, "\r\x00") {
			return
		}
		got, err := envfile.Parse(strings.NewReader(key + "=" + quote(value) + "\n"))
		if err != nil {
			t.Fatalf("quoted %q: %v", value, err)
		}
		if got[key] != value {
			t.Errorf("quoted %q came back as %q", value, got[key])
		}
	})
}

func validKey(k string) bool {
	if k == "" || k[0] >= '0' && k[0] <= '9' {
		return false
	}
	for _, c := range k {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func TestGetenv(t *testing.T) {
	t.Parallel()
	env := map[string]string{"TESUJI_LOG_FORMAT": "text", "EMPTY": ""}
	get := envfile.Getenv(func(k string) string { return env[k] }, map[string]string{
		"TESUJI_REDIS": secretValue, "TESUJI_LOG_FORMAT": "json", "EMPTY": "filled",
	})
	got := map[string]string{}
	for _, k := range []string{"TESUJI_REDIS", "TESUJI_LOG_FORMAT", "EMPTY", "UNSET"} {
		got[k] = get(k)
	}
	want := map[string]string{"TESUJI_REDIS": secretValue, "TESUJI_LOG_FORMAT": "text", "EMPTY": "filled", "UNSET": ""}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("layered env (-want +got):\n%s", diff)
	}
}
