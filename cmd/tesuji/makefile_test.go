package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The Makefile's recipes, printed by make -n: run asks `katago which` about the KataGo and
// network it was given before deciding to install, and bench installs the Redis its
// benchmarks start.
func TestMakefileRecipes(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	for _, tc := range []struct {
		name string
		args []string
		want []string // in this order
	}{
		{"run with both paths", []string{"run", "KATAGO=kg", "MODEL=net.bin.gz"},
			[]string{"katago which --katago kg --model net.bin.gz", "katago install", "serve"}},
		{"run with a network", []string{"run", "MODEL=net.bin.gz"},
			[]string{"katago which --model net.bin.gz", "katago install", "serve"}},
		{"run with neither", []string{"run"},
			[]string{"katago which >/dev/null", "katago install", "serve"}},
		{"bench", []string{"bench"},
			[]string{"redis-server", "apt-get install", "-bench"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command("make", append([]string{"-n", "-C", "../.."}, tc.args...)...)
			cmd.Env = append(os.Environ(), "MAKEFLAGS=", "MAKELEVEL=", "KATAGO=", "MODEL=")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("make -n %s: %v\n%s", strings.Join(tc.args, " "), err, out)
			}
			rest := strings.Join(strings.Fields(string(out)), " ")
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("make -n %s: no %q in order %q\n%s", strings.Join(tc.args, " "), w, tc.want, out)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}
