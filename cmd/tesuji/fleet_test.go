package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestFleetFlagsMatchREADME asserts that the settings table of fleet/README.md names
// exactly the flags `tesuji fleet` has, besides --redis and the logging flags.
func TestFleetFlagsMatchREADME(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../fleet/README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(readme), "| field | flag | default | what |")
	if !ok {
		t.Fatal("fleet/README.md has no settings table with a flag column")
	}
	table, _, _ = strings.Cut(table, "\n\n")
	var documented []string
	for _, row := range strings.Split(table, "\n") {
		if cells := strings.Split(row, "|"); len(cells) > 2 {
			for _, m := range regexp.MustCompile("`--([a-z0-9-]+)`").FindAllStringSubmatch(cells[2], -1) {
				documented = append(documented, m[1])
			}
		}
	}

	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"fleet", "--help"}, func(string) string { return "" }, strings.NewReader(""), &out, &errOut); err != nil {
		t.Fatalf("fleet --help: %v\n%s", err, errOut.String())
	}
	common := []string{"redis"}
	var lf logFlags
	fs := flag.NewFlagSet("log", flag.ContinueOnError)
	lf.register(fs)
	fs.VisitAll(func(f *flag.Flag) { common = append(common, f.Name) })
	var flags []string
	for _, m := range regexp.MustCompile(`(?m)^  -([a-z0-9-]+)`).FindAllStringSubmatch(out.String(), -1) {
		if !slices.Contains(common, m[1]) {
			flags = append(flags, m[1])
		}
	}
	slices.Sort(documented)
	slices.Sort(flags)
	if !slices.Equal(documented, flags) {
		t.Errorf("fleet/README.md's settings table names the flags\n%v\nbut tesuji fleet has\n%v", documented, flags)
	}
}
