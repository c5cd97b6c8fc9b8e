package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tesuji/tesuji/fleet"
	"github.com/tesuji/tesuji/queue"
)

func runFleet(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && args[0] == "user-data" {
		return runFleetUserData(e, args[1:])
	}
	fs := flagSet(e, "fleet", "--redis URL --launch-template NAME [flags]  |  tesuji fleet user-data --region R")
	var (
		lf        logFlags
		redisURL  = fs.String("redis", "", "Redis URL the API and workers use (required)")
		name      = fs.String("name", "", "fleet name, the tesuji:fleet tag value (default tesuji)")
		ltName    = fs.String("launch-template", "", "launch template name holding the AMI from 'make ami' and the user data")
		ltID      = fs.String("launch-template-id", "", "launch template id, instead of --launch-template")
		ltVersion = fs.String("launch-template-version", "", "launch template version (default $Default)")
		types     = fs.String("instance-types", "", "comma-separated instance types (default g4dn.xlarge,g5.xlarge,g6.xlarge)")
		subnets   = fs.String("subnets", "", "comma-separated subnet ids, one per availability zone (default: the launch template's)")
		minN      = fs.Int("min", 0, "instances kept with an empty queue (0 scales to zero)")
		maxN      = fs.Int("max", 0, "most instances (default 4)")
		drain     = fs.Duration("drain-target", 0, "how long the backlog may take to drain (default 5m)")
		rate      = fs.Float64("positions-per-sec", 0, "a worker's visits per second until measured (default 1000)")
		idle      = fs.Duration("idle-timeout", 0, "retire a worker idle this long (default 10m)")
		boot      = fs.Duration("boot-grace", 0, "terminate an instance with no heartbeat this long after launch (default 10m)")
		restart   = fs.Duration("restart-grace", 0, "terminate an instance whose worker left the registry this long after its last heartbeat (default 3m)")
		budget    = fs.Float64("budget-hours", 0, "instance-hours per UTC day (default 24; negative: no cap)")
		interval  = fs.Duration("interval", 0, "time between decisions (default 30s)")
		dryRun    = fs.Bool("dry-run", false, "print each decision without launching or terminating")
		tags      = fs.String("tags", "", "extra instance tags, k=v,k=v")
		metrics   = fs.String("metrics-addr", "", "serve the fleet's Prometheus metrics on http://ADDR/metrics, e.g. 127.0.0.1:9464 (default: not served)")
	)
	lf.register(fs)
	if err := parse(fs, e, args); err != nil {
		return helpOK(err)
	}
	if *redisURL == "" {
		return errors.New("fleet: --redis (TESUJI_REDIS) is required: the fleet reads the queue and the worker registry")
	}
	log, err := lf.logger(e.stderr)
	if err != nil {
		return err
	}
	cfg := fleet.Config{
		Name: *name, LaunchTemplateName: *ltName, LaunchTemplateID: *ltID, LaunchTemplateVersion: *ltVersion,
		InstanceTypes: splitList(*types), Subnets: splitList(*subnets), Min: *minN, Max: *maxN,
		TargetDrain: *drain, DefaultPositionsPerSec: *rate, IdleTimeout: *idle, BootGrace: *boot,
		RestartGrace: *restart, BudgetHoursPerDay: *budget, Interval: *interval, DryRun: *dryRun,
	}
	if *tags != "" {
		cfg.Tags = map[string]string{}
		for _, kv := range splitList(*tags) {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return fmt.Errorf("fleet: --tags: %q is not key=value", kv)
			}
			cfg.Tags[k] = v
		}
	}
	client, err := queue.OpenRedis(*redisURL)
	if err != nil {
		return err
	}
	q := queue.NewRedis(client, queue.RedisConfig{})
	defer q.Close()

	var api fleet.EC2API
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err == nil && *dryRun {
		// Loading succeeds without credentials; a dry run without them decides as if the
		// fleet had no instance, instead of failing every step after the SDK's retries.
		err = awsReady(ctx, awsCfg)
	}
	switch {
	case err == nil:
		api = ec2.NewFromConfig(awsCfg)
	case *dryRun:
		log.Warn("no AWS configuration: the dry run sees no instances", "err", err)
	default:
		return fmt.Errorf("fleet: aws config: %w", err)
	}
	f, err := fleet.New(cfg, api, q, log)
	if err != nil {
		return err
	}
	if *metrics != "" {
		stop, err := serveMetrics(*metrics, f.Collector(), e, log)
		if err != nil {
			return err
		}
		defer stop()
	}
	if *dryRun {
		// Decide on the fleet's interval and print each decision, calling nothing that
		// changes EC2.
		t := time.NewTicker(f.Config().Interval)
		defer t.Stop()
		for {
			d, err := f.Step(ctx)
			if err != nil {
				fmt.Fprintln(e.stdout, "decision failed:", err)
			} else {
				fmt.Fprintln(e.stdout, d.String())
			}
			select {
			case <-ctx.Done():
				return nil
			case <-t.C:
			}
		}
	}
	if err := f.Start(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return f.Stop(stopCtx)
}

// awsReady reports whether cfg names a region and its credentials can be had within a
// few seconds.
func awsReady(ctx context.Context, cfg aws.Config) error {
	if cfg.Region == "" {
		return errors.New("no AWS region (AWS_REGION, or region in the shared config)")
	}
	if cfg.Credentials == nil {
		return errors.New("no AWS credentials")
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return fmt.Errorf("no AWS credentials: %w", err)
	}
	return nil
}

// serveMetrics serves the fleet's metrics, with the process's own, on addr until stop
// is called.
func serveMetrics(addr string, fleetMetrics prometheus.Collector, e *env, log *slog.Logger) (stop func(), err error) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(fleetMetrics, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("fleet: --metrics-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			log.Error("fleet: metrics server stopped", "err", err)
		}
	}()
	fmt.Fprintf(e.stderr, "tesuji: fleet metrics on http://%s/metrics\n", ln.Addr())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}

func runFleetUserData(e *env, args []string) error {
	fs := flagSet(e, "fleet user-data", "--region R [--parameter NAME]")
	region := fs.String("region", "", "AWS region of the SSM parameter (required)")
	param := fs.String("parameter", "", "SSM SecureString holding the worker's secret settings (default "+fleet.DefaultParameter+")")
	if err := parse(fs, e, args); err != nil {
		return helpOK(err)
	}
	ud, err := fleet.UserData(fleet.UserDataConfig{Region: *region, Parameter: *param})
	if err != nil {
		return err
	}
	fmt.Fprint(e.stdout, ud)
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
