// Package transcript holds recorded sessions of the real KataGo (testdata/, described in
// testdata/README.md), the ground truth the protocol types, the engine driver, its fake
// and the GTP bridge are tested against. The files are embedded, so the tests need
// nothing beside the repository.
package transcript

import (
	"bufio"
	"bytes"
	"embed"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

//go:embed testdata/*.jsonl
var files embed.FS

// Line is one recorded line: what was written to KataGo ("in") or what it printed ("out"),
// at T seconds after the engine said it was ready.
type Line struct {
	Dir  string  `json:"dir"`
	T    float64 `json:"t"`
	Line string  `json:"line"`
}

// Names returns the transcript names (file names without .jsonl), sorted.
func Names(tb testing.TB) []string {
	tb.Helper()
	matches, err := fs.Glob(files, "testdata/*.jsonl")
	if err != nil || len(matches) == 0 {
		tb.Fatalf("transcript: no transcripts embedded: %v", err)
	}
	var names []string
	for _, m := range matches {
		names = append(names, strings.TrimSuffix(filepath.Base(m), ".jsonl"))
	}
	sort.Strings(names)
	return names
}

// name returns the transcript whose name starts with prefix ("01" or "01-basic-multi-turn").
func name(tb testing.TB, prefix string) string {
	tb.Helper()
	var found string
	for _, n := range Names(tb) {
		if strings.HasPrefix(n, prefix) {
			if found != "" {
				tb.Fatalf("transcript: prefix %q names both %s and %s", prefix, found, n)
			}
			found = n
		}
	}
	if found == "" {
		tb.Fatalf("transcript: no transcript named %q", prefix)
	}
	return found
}

// Bytes returns the raw file of the transcript whose name starts with prefix.
func Bytes(tb testing.TB, prefix string) []byte {
	tb.Helper()
	b, err := files.ReadFile("testdata/" + name(tb, prefix) + ".jsonl")
	if err != nil {
		tb.Fatalf("transcript: %v", err)
	}
	return b
}

// File writes the transcript whose name starts with prefix into a temporary directory
// and returns its path, for a program that reads it from disk.
func File(tb testing.TB, prefix string) string {
	tb.Helper()
	n := name(tb, prefix)
	p := filepath.Join(tb.TempDir(), n+".jsonl")
	if err := os.WriteFile(p, Bytes(tb, n), 0o644); err != nil {
		tb.Fatalf("transcript: %v", err)
	}
	return p
}

// Load returns the lines of the transcript whose name starts with prefix.
func Load(tb testing.TB, prefix string) []Line {
	tb.Helper()
	var lines []Line
	sc := bufio.NewScanner(bytes.NewReader(Bytes(tb, prefix)))
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var l Line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			tb.Fatalf("transcript: %s: %v", prefix, err)
		}
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("transcript: %s: %v", prefix, err)
	}
	return lines
}

// Select returns the lines of one direction, "in" or "out".
func Select(lines []Line, dir string) []string {
	var out []string
	for _, l := range lines {
		if l.Dir == dir {
			out = append(out, l.Line)
		}
	}
	return out
}
