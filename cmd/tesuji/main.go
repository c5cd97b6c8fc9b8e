// Command tesuji is KataGo as a service: one binary that plays every role (API server,
// GPU worker, GTP bridge, fleet autoscaler, batch analyzer). main only maps flags and
// environment variables onto each package's Config.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		if err != errUsage {
			fmt.Fprintln(os.Stderr, "tesuji:", err)
		}
		os.Exit(exitCode(err))
	}
}
