package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/tesuji/tesuji/engine"
	"github.com/tesuji/tesuji/server"
	"github.com/tesuji/tesuji/setup"
)

func runKataGo(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		w := e.stdout
		if len(args) == 0 {
			w = e.stderr // no command: a mistake, not a request for help
		}
		fmt.Fprintln(w, "Usage: tesuji katago install [flags]   download KataGo and a network into the user cache\n       tesuji katago which [flags]     print the KataGo binary and network tesuji would use\n       tesuji katago tune [flags]      choose KataGo's settings for this machine as a worker does, measuring once on a GPU, and print them")
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	switch args[0] {
	case "install":
		return runKataGoInstall(ctx, e, args[1:])
	case "tune":
		return runKataGoTune(ctx, e, args[1:])
	case "which":
		fs := flagSet(e, "katago which", "[--katago PATH] [--model FILE]")
		katago := fs.String("katago", "", "KataGo binary")
		model := fs.String("model", "", "KataGo network")
		if err := parse(fs, e, args[1:]); err != nil {
			return helpOK(err)
		}
		k, m, err := setup.Locate(*katago, *model)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "katago  %s\nnetwork %s\n", k, m)
		return nil
	}
	return fmt.Errorf("katago: unknown command %q (want install, which or tune)", args[0])
}

// runKataGoTune starts KataGo once per GPU with the settings a worker would choose and
// stops it again: on a GPU the first start measures a few thread counts and caches the
// result per binary, network and device in the user cache, so a worker started later (on
// an instance launched from an image that ran this) starts tuned at once.
func runKataGoTune(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "katago tune", "[flags]")
	var (
		lf   logFlags
		ef   engineFlags
		gpus = fs.Int("gpus", 0, "KataGo processes a worker runs, one per GPU (default: on a GPU backend, one per GPU nvidia-smi lists; else 1)")
	)
	lf.register(fs)
	ef.register(fs)
	if err := parse(fs, e, args); err != nil {
		return helpOK(err)
	}
	if *gpus < 0 {
		return fmt.Errorf("katago tune: --gpus %d: want 0 (one per GPU) or more", *gpus)
	}
	log, ecfg, err := engineLogger(&lf, &ef, e.stderr)
	if err != nil {
		return err
	}
	engines, _, err := server.StartEngines(ctx, ecfg, engineCount(ctx, &ecfg, *gpus), server.InteractiveOff, log)
	for _, en := range engines {
		defer en.Stop(context.Background())
	}
	if err != nil {
		return err
	}
	for _, en := range engines {
		fmt.Fprintln(e.stdout, en.Tuning())
	}
	return nil
}

// installWaysOut ends a failed install (offline, a release that moved) with what works
// without it.
const installWaysOut = `KataGo is not installed. Two ways out:
  make run KATAGO=/path/to/katago MODEL=/path/to/model.bin.gz    (a KataGo and a network you already have)
  tesuji katago install --katago-url URL --model-url URL         (download them from a place you can reach)`

func runKataGoInstall(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "katago install", "[flags]")
	var (
		backend   = fs.String("backend", "auto", "KataGo build: auto (CUDA when nvidia-smi sees a GPU, else CPU), cpu, cuda, tensorrt")
		katagoURL = fs.String("katago-url", "", "download KataGo from this release archive (.zip) instead of the pinned "+setup.KataGoVersion+" release")
		modelURL  = fs.String("model-url", "", "download this network instead of "+setup.ModelURL)
		katagoSum = fs.String("katago-sha256", "", "SHA-256 the KataGo archive must have (default: the pinned one; required where none is pinned)")
		modelSum  = fs.String("model-sha256", "", "SHA-256 the network must have (default: the pinned one; required with --model-url)")
		dir       = fs.String("dir", "", "install here instead of the user cache")
		force     = fs.Bool("force", false, "download again what is already installed")
		timeout   = fs.Duration("check-timeout", 10*time.Minute, "how long the first start may take (GPU builds tune themselves on first start)")
	)
	if err := parse(fs, e, args); err != nil {
		return helpOK(err)
	}
	b := setup.Backend(*backend)
	if *backend == "auto" {
		b = setup.BackendAuto
	}
	terminal := false
	if f, ok := e.stderr.(*os.File); ok {
		terminal = term.IsTerminal(int(f.Fd()))
	}
	katago, model, err := setup.Install(ctx, setup.InstallConfig{
		Dir: *dir, Backend: b, KataGoURL: *katagoURL, ModelURL: *modelURL, Force: *force,
		KataGoSHA256: *katagoSum, ModelSHA256: *modelSum,
		Progress: e.stderr, Terminal: terminal,
		Check: func(ctx context.Context, katago, model string) error {
			fmt.Fprintln(e.stderr, "starting KataGo once to check it (a GPU build tunes itself now; this can take minutes)")
			return checkEngine(ctx, katago, model, *timeout)
		},
	})
	if err != nil {
		return fmt.Errorf("%w\n%s", err, installWaysOut)
	}
	fmt.Fprintf(e.stdout, "katago  %s\nnetwork %s\n", katago, model)
	return nil
}

// checkEngine starts KataGo, asks its version and stops it.
func checkEngine(ctx context.Context, katago, model string, timeout time.Duration) error {
	en := engine.New(engine.Config{Path: katago, Model: model, ReadyTimeout: timeout})
	if err := en.Start(ctx); err != nil {
		return err
	}
	defer en.Stop(context.Background())
	vctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	v, err := en.Version(vctx)
	if err != nil {
		return err
	}
	if v.Version == "" {
		return errors.New("katago answered no version")
	}
	return nil
}
