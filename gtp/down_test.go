package gtp

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestServerDownAndBack runs a GTP session against a server that is not there yet, then
// starts, then restarts: board commands never wait for it, genmove says clearly that it
// is unreachable, and an analysis started while it is down begins streaming as soon as
// it is up, and goes on after a restart.
func TestServerDownAndBack(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	g := startBridge(t, Config{Server: "http://" + addr, GenmoveVisits: 10})

	run(t, g, []exchange{
		{"1 boardsize 19", "=1 "},
		{"2 komi 7.5", "=2 "},
		{"3 play B Q16", "=3 "},
		{"4 play W D4", "=4 "},
	})
	if got := g.do("5 genmove B"); !strings.HasPrefix(got, "?5 tesuji server unreachable at http://"+addr) {
		t.Fatalf("genmove with the server down answered %q", got)
	}
	if got := g.do("6 showboard"); !strings.Contains(got, "MoveNum: 2 ") || !strings.Contains(got, "Next player: Black") {
		t.Fatalf("showboard after the failed genmove: %q", got)
	}

	g.send("7 kata-analyze 10")
	if h := g.next(5 * time.Second).text; h != "=7" {
		t.Fatalf("kata-analyze answered %q first, want =7", h)
	}
	waitFor(t, 10*time.Second, "the notice that the server is unreachable", func() bool {
		return strings.Contains(g.logs.String(), "tesuji server unreachable; analysis will resume")
	})

	up := time.Now()
	srv := startServer(t, addr)
	l := g.next(30 * time.Second)
	if !strings.HasPrefix(l.text, "info move ") || l.at.Before(up) {
		t.Fatalf("after the server came up the bridge wrote %q", l.text)
	}

	// A restart: the stream breaks, the bridge retries, and info lines come again from the
	// new server.
	stopServer(t, srv)
	// Once the bridge has noticed, every line of the old stream has been written.
	waitFor(t, 10*time.Second, "the notice that the server went away", func() bool {
		return strings.Count(g.logs.String(), "analysis will resume when it is back") >= 2
	})
	up = time.Now()
	startServer(t, addr)
	for {
		l := g.next(30 * time.Second)
		if !strings.HasPrefix(l.text, "info move ") {
			t.Fatalf("during the restart the bridge wrote %q", l.text)
		}
		if l.at.After(up) {
			break
		}
	}
	if !strings.Contains(g.logs.String(), "analysis resumed") {
		t.Errorf("no notice that the analysis resumed in the log:\n%s", g.logs.String())
	}

	// The next command ends the stream with its blank line.
	g.send("8 name")
	for {
		l := g.next(10 * time.Second)
		if l.text == "" {
			break
		}
		if !strings.HasPrefix(l.text, "info move ") {
			t.Fatalf("before the blank line the bridge wrote %q", l.text)
		}
	}
	if got := g.answer(10 * time.Second); len(got) != 1 || got[0] != "=8 KataGo" {
		t.Fatalf("name answered %q", got)
	}
	if got := g.do("9 genmove B"); !genmoveAnswer.MatchString(got) {
		t.Fatalf("genmove with the server back answered %q", got)
	}
}

var genmoveAnswer = regexp.MustCompile(`^=\d* ([A-HJ-T](1[0-9]|[1-9])|pass)$`)
