package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tesuji/tesuji/fleet/fleettest"
	"github.com/tesuji/tesuji/queue/redistest"
)

// TestFleetFlagsMatchREADME asserts that the settings table of fleet/README.md names
// exactly the flags `tesuji fleet` has for fleet.Config: all but --redis,
// --metrics-addr and the logging flags.
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
	common := []string{"redis", "metrics-addr"}
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

// startFleet starts `tesuji fleet --dry-run` on the queue at redisURL, deciding every
// 100ms, with an AWS configuration of env alone: none of the machine's AWS_ or TESUJI_
// variables, no shared config file and no instance metadata service. p.log() is its
// stderr; the channel has its stdout's lines.
func startFleet(t *testing.T, redisURL string, env []string, args ...string) (*proc, <-chan string) {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(tesujiBinary(t), append([]string{"fleet", "--redis", redisURL, "--dry-run", "--interval", "100ms"}, args...)...)
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "AWS_") || strings.HasPrefix(kv, "TESUJI_")
	})
	cmd.Env = append(cmd.Env, "AWS_CONFIG_FILE="+filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "credentials"), "AWS_EC2_METADATA_DISABLED=true")
	cmd.Env = append(cmd.Env, env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := startProc(t, cmd, nil)
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default: // the test reads the first few
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		if err := <-p.exited; err != nil {
			t.Errorf("tesuji fleet exited with %v after SIGTERM\n%s", err, p.log())
		}
	})
	return p, lines
}

// firstDecision returns the first line the dry run prints.
func firstDecision(t *testing.T, p *proc, lines <-chan string) string {
	t.Helper()
	select {
	case line := <-lines:
		return line
	case err := <-p.exited:
		p.exited <- err // for the cleanup
		t.Fatalf("tesuji fleet exited: %v\n%s", err, p.log())
	case <-time.After(30 * time.Second):
		t.Fatalf("tesuji fleet printed no decision\n%s", p.log())
	}
	return ""
}

var fleetMetricsRE = regexp.MustCompile(`fleet metrics on (http://\S+)`)

// TestFleetServesMetrics asserts that `tesuji fleet --metrics-addr` serves the fleet's
// metrics on /metrics.
func TestFleetServesMetrics(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t, redistest.Options{})
	ec2 := fleettest.NewEC2Server(t)
	p, lines := startFleet(t, rs.URL(), []string{"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test",
		"AWS_REGION=us-east-1", "AWS_ENDPOINT_URL_EC2=" + ec2.URL}, "--metrics-addr", "127.0.0.1:0", "--budget-hours", "5")
	firstDecision(t, p, lines)
	m := fleetMetricsRE.FindStringSubmatch(p.log())
	if m == nil {
		t.Fatalf("tesuji fleet --metrics-addr names no metrics address\n%s", p.log())
	}
	resp, err := http.Get(m[1])
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{`tesuji_fleet_budget_instance_hours{fleet="tesuji"} 5`, `tesuji_fleet_desired_instances{fleet="tesuji"} 0`} {
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %s, want %q in\n%s", m[1], resp.Status, want, body)
		}
	}
}

// TestFleetDryRunWithoutAWS asserts that a dry run with no AWS credentials or no region
// decides as if the fleet had no instance, instead of failing every step.
func TestFleetDryRunWithoutAWS(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t, redistest.Options{})
	tests := []struct {
		name string
		env  []string
	}{
		{"no credentials", []string{"AWS_REGION=us-east-1"}},
		{"no region", []string{"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, lines := startFleet(t, rs.URL(), tt.env)
			if line := firstDecision(t, p, lines); !strings.HasPrefix(line, "[dry-run] ") {
				t.Errorf("first line %q, want a dry-run decision\n%s", line, p.log())
			}
			if !strings.Contains(p.log(), "the dry run sees no instances") {
				t.Errorf("no warning that the dry run sees no instances:\n%s", p.log())
			}
		})
	}
}
