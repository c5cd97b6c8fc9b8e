// Package spot owns how a worker on an EC2 spot instance learns that the instance is
// about to go away. A Watcher polls the instance metadata service (IMDSv2) for the
// spot instance-action notice, and optionally for rebalance recommendations, and
// reports the first notice once, so that the worker can stop claiming, hand its jobs
// back and exit well within the two minutes EC2 grants.
//
// A worker wires it like this:
//
//	w := spot.New(spot.Config{}, logger)
//	id, err := w.InstanceID(ctx) // for the registry; fails fast off EC2
//	if err == nil {
//		w.Start(ctx)
//		defer w.Stop(context.Background())
//		go func() {
//			select {
//			case <-w.Done():
//				n, _ := w.Notice()
//				cancel(n) // context.CancelCauseFunc; errors.Is(cause, spot.ErrInterrupted)
//			case <-ctx.Done():
//			}
//		}()
//	}
//
// Tests point Config.Endpoint (or AWS_EC2_METADATA_SERVICE_ENDPOINT) at the fake IMDS
// in spot/spottest.
package spot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/tesuji/tesuji/internal/startstop"
)

// Metadata paths, relative to /latest/meta-data.
const (
	pathInstanceAction = "spot/instance-action"
	pathRebalance      = "events/recommendations/rebalance"
	pathInstanceID     = "instance-id"
)

// DefaultInterval is how often the watcher polls when Config.Interval is zero. AWS
// recommends every five seconds: the notice comes two minutes ahead.
const DefaultInterval = 5 * time.Second

// ErrInterrupted is what every Notice matches with errors.Is: a worker that cancels
// its context with the notice as the cause can tell an interruption (release the jobs,
// count no attempt, exit 0) from any other shutdown.
var ErrInterrupted = errors.New("spot: instance interrupted")

// Kind tells an interruption notice from a rebalance recommendation.
type Kind string

const (
	// KindInterruption is the spot instance-action notice: EC2 stops, hibernates or
	// terminates the instance at Notice.Time.
	KindInterruption Kind = "interruption"
	// KindRebalance is a rebalance recommendation: the instance is at elevated risk of
	// interruption. It is reported only when Config.Rebalance is set.
	KindRebalance Kind = "rebalance"
)

// Notice is the first notice the watcher saw. It is an error so that it can be the
// cause of a cancelled context; it matches ErrInterrupted.
type Notice struct {
	Kind Kind
	// Action is "terminate", "stop" or "hibernate" for an interruption, "" for a
	// rebalance recommendation.
	Action string
	// Time is when EC2 acts on an interruption, or when a rebalance recommendation was
	// issued.
	Time time.Time
}

// Error describes the notice.
func (n Notice) Error() string {
	if n.Kind == KindRebalance {
		return fmt.Sprintf("spot: rebalance recommendation at %s", n.Time.UTC().Format(time.RFC3339))
	}
	return fmt.Sprintf("spot: interruption notice: %s at %s", n.Action, n.Time.UTC().Format(time.RFC3339))
}

// Is makes errors.Is(n, ErrInterrupted) true.
func (n Notice) Is(target error) bool { return target == ErrInterrupted }

// HTTPClient is the transport the metadata client uses; *http.Client satisfies it.
type HTTPClient interface {
	Do(*http.Request) (*http.Response, error)
}

// Config configures a Watcher. The zero value polls the real IMDS every five seconds
// for interruption notices only.
type Config struct {
	// Endpoint is the metadata service's base URL. Default: the environment variable
	// AWS_EC2_METADATA_SERVICE_ENDPOINT when set, else http://169.254.169.254.
	Endpoint string
	// Interval is the time between polls. Default: DefaultInterval (5s).
	Interval time.Duration
	// Rebalance, when true, also polls rebalance recommendations and treats one like an
	// interruption notice. Default: false (only the instance-action notice counts).
	Rebalance bool
	// HTTPClient carries the requests. Default: the SDK's IMDS transport, with short
	// connect and response-header timeouts.
	HTTPClient HTTPClient
}

// Watcher polls IMDSv2 for spot notices. Build it with New; Start begins polling and
// Done is closed once the first notice arrives.
type Watcher struct {
	cfg    Config
	log    *slog.Logger
	client *imds.Client

	life    startstop.Lifecycle
	mu      sync.Mutex
	notice  Notice
	done    chan struct{} // closed when a notice arrives
	failing int           // consecutive failed polls, for log throttling
}

// New returns a watcher; it makes no request until InstanceID, Check or Start.
// A nil logger discards.
func New(cfg Config, logger *slog.Logger) *Watcher {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	opts := imds.Options{
		Endpoint: cfg.Endpoint,
		// IMDSv2 only: falling back to token-less IMDSv1 requests would hide a
		// misconfigured hop limit and is refused by instances that require tokens.
		EnableFallback: aws.FalseTernary,
	}
	if cfg.HTTPClient != nil {
		opts.HTTPClient = cfg.HTTPClient
	}
	return &Watcher{
		cfg:    cfg,
		log:    logger,
		client: imds.New(opts),
		done:   make(chan struct{}),
	}
}

// InstanceID returns this instance's id (i-...), which a worker puts in its registry
// entry so that the fleet can match workers to instances. It fails within a few
// seconds when no metadata service answers (not on EC2).
func (w *Watcher) InstanceID(ctx context.Context) (string, error) {
	body, found, err := w.get(ctx, pathInstanceID)
	if err != nil {
		return "", fmt.Errorf("spot: instance id: %w", err)
	}
	id := strings.TrimSpace(string(body))
	if !found || id == "" {
		return "", errors.New("spot: instance id: metadata service has none")
	}
	return id, nil
}

// Check polls once: the instance-action notice, then (with Config.Rebalance) the
// rebalance recommendation. found is false when neither is present. It does not
// deliver the notice to Done; the poll loop does.
func (w *Watcher) Check(ctx context.Context) (n Notice, found bool, err error) {
	body, found, err := w.get(ctx, pathInstanceAction)
	if err != nil {
		return Notice{}, false, fmt.Errorf("spot: poll instance-action: %w", err)
	}
	if found {
		var doc struct {
			Action string    `json:"action"`
			Time   time.Time `json:"time"`
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			return Notice{}, false, fmt.Errorf("spot: poll instance-action: malformed notice: %w", err)
		}
		if doc.Action == "" || doc.Time.IsZero() {
			return Notice{}, false, fmt.Errorf("spot: poll instance-action: malformed notice: action %q time %v", doc.Action, doc.Time)
		}
		return Notice{Kind: KindInterruption, Action: doc.Action, Time: doc.Time}, true, nil
	}
	if !w.cfg.Rebalance {
		return Notice{}, false, nil
	}
	body, found, err = w.get(ctx, pathRebalance)
	if err != nil {
		return Notice{}, false, fmt.Errorf("spot: poll rebalance: %w", err)
	}
	if !found {
		return Notice{}, false, nil
	}
	var doc struct {
		NoticeTime time.Time `json:"noticeTime"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return Notice{}, false, fmt.Errorf("spot: poll rebalance: malformed recommendation: %w", err)
	}
	if doc.NoticeTime.IsZero() {
		return Notice{}, false, errors.New("spot: poll rebalance: malformed recommendation: no noticeTime")
	}
	return Notice{Kind: KindRebalance, Time: doc.NoticeTime}, true, nil
}

// get fetches one metadata path. A 404 is found=false, not an error: it is how IMDS
// says there is no notice. The SDK client fetches the session token, and on a 401
// (expired or revoked token) drops it and retries with a new one.
func (w *Watcher) get(ctx context.Context, path string) (body []byte, found bool, err error) {
	out, err := w.client.GetMetadata(ctx, &imds.GetMetadataInput{Path: path})
	if err != nil {
		var re *smithyhttp.ResponseError
		if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound {
			return nil, false, nil
		}
		return nil, false, err
	}
	defer out.Content.Close()
	body, err = io.ReadAll(out.Content)
	if err != nil {
		return nil, false, err
	}
	return body, true, nil
}

// Start begins polling at once and then every Config.Interval until a notice arrives,
// ctx ends or Stop is called. Errors (server errors, malformed notices, an unreachable
// service) are logged and polling goes on.
func (w *Watcher) Start(ctx context.Context) error {
	ctx, err := w.life.Begin(ctx)
	if err != nil {
		return fmt.Errorf("spot: watcher %w", err)
	}
	w.life.Go(func() { w.loop(ctx) })
	w.life.Started()
	return nil
}

// Stop ends polling and waits for the poll in flight, or for ctx. It is idempotent and
// safe before Start. Done stays open unless a notice arrived.
func (w *Watcher) Stop(ctx context.Context) error {
	if err := w.life.Stop(ctx, nil); err != nil {
		return fmt.Errorf("spot: stop: %w", err)
	}
	return nil
}

// Done is closed when the first notice arrives; Notice then returns it.
func (w *Watcher) Done() <-chan struct{} { return w.done }

// Notice returns the notice that closed Done, and false before one arrived.
func (w *Watcher) Notice() (Notice, bool) {
	select {
	case <-w.done:
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.notice, true
	default:
		return Notice{}, false
	}
}

func (w *Watcher) loop(ctx context.Context) {
	tick := time.NewTicker(w.cfg.Interval)
	defer tick.Stop()
	for {
		if w.poll(ctx) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// poll checks once and reports whether a notice was delivered.
func (w *Watcher) poll(ctx context.Context) bool {
	n, found, err := w.Check(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return false
		}
		w.failing++
		// The first failure of a run is a warning; the rest would repeat it every few
		// seconds for as long as the service misbehaves.
		level := slog.LevelWarn
		if w.failing > 1 {
			level = slog.LevelDebug
		}
		w.log.Log(ctx, level, "spot: metadata poll failed", "err", err, "consecutive_failures", w.failing)
		return false
	}
	if w.failing > 0 {
		w.log.Info("spot: metadata poll recovered", "failed_polls", w.failing)
		w.failing = 0
	}
	if !found {
		return false
	}
	w.mu.Lock()
	w.notice = n
	close(w.done)
	w.mu.Unlock()
	w.log.Warn("spot: notice received", "kind", string(n.Kind), "action", n.Action, "action_time", n.Time)
	return true
}
