package main

import (
	"bytes"
	"context"
	"runtime/debug"
	"strings"
	"testing"
)

// A usage asked for with --help goes to stdout; one after a mistake goes to stderr, and
// stdout (GTP for gtp, the token for token create) stays empty.
func TestUsageGoesToStderrUnlessAskedFor(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args     []string
		toStdout bool // else stderr
		err      bool
	}{
		{[]string{"--help"}, true, false},
		{[]string{"gtp", "--help"}, true, false},
		{[]string{"worker", "-h"}, true, false},
		{[]string{"token", "create", "--help"}, true, false},
		{[]string{"katago", "--help"}, true, false},
		{[]string{"token", "--help"}, true, false},
		{nil, false, true},
		{[]string{"gtp", "--no-such-flag"}, false, true},
		{[]string{"gtp", "--genmove-visits", "many"}, false, true},
		{[]string{"gtp"}, false, true},
		{[]string{"token", "create", "--no-such-flag"}, false, true},
		{[]string{"token", "create"}, false, true},
		{[]string{"token"}, false, true},
		{[]string{"token", "frob"}, false, true},
		{[]string{"katago"}, false, true},
		{[]string{"analyze", "--visits", "x"}, false, true},
		{[]string{"analyze"}, false, true},
		{[]string{"frob"}, false, true},
	} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), tc.args, func(string) string { return "" }, strings.NewReader(""), &stdout, &stderr)
		if (err != nil) != tc.err {
			t.Errorf("tesuji %q: err = %v, want an error: %v", tc.args, err, tc.err)
		}
		want, other := &stderr, &stdout
		if tc.toStdout {
			want, other = &stdout, &stderr
		}
		if !strings.Contains(want.String(), "Usage: tesuji") || other.Len() > 0 {
			t.Errorf("tesuji %q: stdout %q, stderr %q; want the usage on %s alone", tc.args, stdout.String(), stderr.String(),
				map[bool]string{true: "stdout", false: "stderr"}[tc.toStdout])
		}
	}
}

// Without a version set at build time, `tesuji version` names the module version or the
// commit the Go toolchain recorded, and "dev" only when it recorded neither.
func TestBuildVersion(t *testing.T) {
	t.Parallel()
	const rev = "42e8c1f7b8afedf92f120db947632ca439428cb6"
	vcs := func(modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}
	}
	for _, tc := range []struct {
		name string
		info *debug.BuildInfo
		ok   bool
		want string
	}{
		{"go install of a tag", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, true, "v1.2.3"},
		{"go build stamps a pseudo-version", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261207235900-42e8c1f7b8af+dirty"}, Settings: vcs("true")}, true, "v0.0.0-20261207235900-42e8c1f7b8af+dirty"},
		{"a clean commit", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("false")}, true, rev},
		{"uncommitted changes", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("true")}, true, rev + "+dirty"},
		{"no version control", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, true, "dev"},
		{"no build information", nil, false, "dev"},
	} {
		if got := buildVersion(tc.info, tc.ok); got != tc.want {
			t.Errorf("%s: buildVersion = %q, want %q", tc.name, got, tc.want)
		}
	}
}
