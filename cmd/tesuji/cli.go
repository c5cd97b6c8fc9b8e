package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"

	"golang.org/x/term"
)

// errUsage means the usage was already printed; main exits 2 without another message.
var errUsage = errors.New("usage")

func exitCode(err error) int {
	if errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

// env is what a subcommand sees of the outside world, so run is testable.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// fromEnv names the flags that took their value from the environment rather than the
	// command line, so settings read later may still override them.
	fromEnv map[string]bool
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "run the API and web UI (with no --redis: the whole system in one process)", runServe},
		{"worker", "claim jobs from Redis and analyze them with local KataGo processes", runWorker},
		{"fleet", "scale GPU workers on EC2 spot with the queue (--dry-run prints decisions only)", runFleet},
		{"analyze", "analyze SGF files (in this process or on a server) and write annotated SGFs", runAnalyze},
		{"gtp", "a GTP engine on stdin/stdout for Lizzie and Sabaki, analyzing on a tesuji server", runGTP},
		{"katago", "install KataGo and a network into the user cache, or show which ones tesuji uses", runKataGo},
		{"token", "create, list and revoke the API tokens a server beyond localhost requires", runToken},
		{"version", "print the version", runVersion},
	}
}

// version is set at build time with -ldflags "-X main.version=..."; without it `tesuji
// version` prints what the Go toolchain recorded in the binary (buildVersion).
var version string

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := &env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		usage(stderr)
		return errUsage
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		return nil
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, e, args[1:])
		}
	}
	usage(stderr)
	return fmt.Errorf("unknown command %q", args[0])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "tesuji: KataGo as a service\n\nUsage: tesuji COMMAND [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'tesuji COMMAND --help' for a command's flags. Every flag can also be set with an\nenvironment variable TESUJI_<FLAG> (upper case, '-' as '_'), e.g. TESUJI_KATAGO for --katago.")
}

// flagSet returns a FlagSet for a subcommand whose usage goes to stderr, and to stdout
// for --help (see parse).
func flagSet(e *env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: tesuji %s %s\n\nFlags (each also read from TESUJI_<FLAG>):\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args, then fills every flag not given on the command line from its
// environment variable TESUJI_<NAME>. The usage that --help asks for goes to stdout; a
// flag error and the usage after it go to stderr, as stdout may carry the command's
// output (the token that token create prints, gtp's GTP).
func parse(fs *flag.FlagSet, e *env, args []string) error {
	var out bytes.Buffer
	fs.SetOutput(&out)
	err := fs.Parse(args)
	fs.SetOutput(e.stderr)
	if errors.Is(err, flag.ErrHelp) {
		_, _ = out.WriteTo(e.stdout)
		return flag.ErrHelp
	}
	_, _ = out.WriteTo(e.stderr)
	if err != nil {
		return errUsage
	}
	return e.applyEnv(fs, e.getenv)
}

// applyEnv sets every flag not given on the command line from getenv(TESUJI_<NAME>).
// Calling it again with another getenv (settings read later, from SSM) overrides what an
// earlier call set, so the later getenv must itself prefer the real environment.
func (e *env) applyEnv(fs *flag.FlagSet, getenv func(string) string) error {
	if e.fromEnv == nil {
		e.fromEnv = map[string]bool{}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] && !e.fromEnv[f.Name] {
			return
		}
		name := envName(f.Name)
		if v := getenv(name); v != "" {
			if err := fs.Set(f.Name, v); err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: %w", name, v, err))
			}
			e.fromEnv[f.Name] = true
		}
	})
	return errors.Join(errs...)
}

func envName(flagName string) string {
	return "TESUJI_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// helpOK turns --help into a clean exit.
func helpOK(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

// logFlags are shared by every long-running command.
type logFlags struct {
	format string
	level  string
	file   string
}

func (l *logFlags) register(fs *flag.FlagSet) { l.registerLevel(fs, "info") }

// registerLevel registers the flags with level as --log-level's default.
func (l *logFlags) registerLevel(fs *flag.FlagSet, level string) {
	fs.StringVar(&l.format, "log-format", "auto", "log format: text, json, or auto (text on a terminal, JSON otherwise)")
	fs.StringVar(&l.level, "log-level", level, "log level: debug, info, warn, error")
}

// logger builds the slog logger the flags ask for, writing to w.
func (l *logFlags) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(l.level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", l.level)
	}
	opts := &slog.HandlerOptions{Level: level}
	format := l.format
	if format == "auto" {
		format = "json"
		if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			format = "text"
		}
	}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text, json or auto", l.format)
}

func runVersion(_ context.Context, e *env, args []string) error {
	fs := flagSet(e, "version", "")
	if err := parse(fs, e, args); err != nil {
		return helpOK(err)
	}
	v := version
	if v == "" {
		v = buildVersion(debug.ReadBuildInfo())
	}
	fmt.Fprintln(e.stdout, "tesuji", v)
	return nil
}

// buildVersion is the version a binary's build information names: the module's version
// (a release tag, or the pseudo-version `go build` stamps from the checkout), else the
// commit it was built from, with "+dirty" for uncommitted changes; "dev" without either.
func buildVersion(info *debug.BuildInfo, ok bool) string {
	if !ok {
		return "dev"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var revision, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if revision == "" {
		return "dev"
	}
	if modified == "true" {
		revision += "+dirty"
	}
	return revision
}
