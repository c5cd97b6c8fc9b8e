package spot_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/tesuji/tesuji/spot"
	"github.com/tesuji/tesuji/spot/spottest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func testLogger(t *testing.T) *slog.Logger {
	t.Helper()
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// newInMemory returns a watcher wired to the fake through an in-memory client, for use
// inside a synctest bubble.
func newInMemory(t *testing.T, cfg spot.Config) (*spot.Watcher, *spottest.IMDS) {
	t.Helper()
	m := spottest.New("i-0123456789abcdef0")
	cfg.Endpoint = "http://imds.invalid"
	cfg.HTTPClient = m.Client()
	w := spot.New(cfg, testLogger(t))
	t.Cleanup(func() {
		if err := w.Stop(context.Background()); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return w, m
}

var noticeTime = time.Date(2026, 3, 1, 12, 2, 0, 0, time.UTC)

type checkResult struct {
	Notice spot.Notice
	Found  bool
	Err    bool
}

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		rebalance bool
		setup     func(m *spottest.IMDS)
		want      checkResult
	}{
		{name: "no notice", setup: func(*spottest.IMDS) {}},
		{
			name:  "terminate notice",
			setup: func(m *spottest.IMDS) { m.Interrupt("terminate", noticeTime) },
			want:  checkResult{Notice: spot.Notice{Kind: spot.KindInterruption, Action: "terminate", Time: noticeTime}, Found: true},
		},
		{
			name:  "stop notice",
			setup: func(m *spottest.IMDS) { m.Interrupt("stop", noticeTime) },
			want:  checkResult{Notice: spot.Notice{Kind: spot.KindInterruption, Action: "stop", Time: noticeTime}, Found: true},
		},
		{
			name:  "malformed json",
			setup: func(m *spottest.IMDS) { m.SetInstanceAction([]byte(`{"action": "terminate", "time": `)) },
			want:  checkResult{Err: true},
		},
		{
			name:  "json without time",
			setup: func(m *spottest.IMDS) { m.SetInstanceAction([]byte(`{"action": "terminate"}`)) },
			want:  checkResult{Err: true},
		},
		{
			name: "server error retried by the client",
			setup: func(m *spottest.IMDS) {
				m.Fail(spottest.PathInstanceAction, http.StatusInternalServerError)
				m.Interrupt("terminate", noticeTime)
			},
			want: checkResult{Notice: spot.Notice{Kind: spot.KindInterruption, Action: "terminate", Time: noticeTime}, Found: true},
		},
		{
			name: "server errors outlast the retries",
			setup: func(m *spottest.IMDS) {
				m.Fail(spottest.PathInstanceAction, 500, 500, 500, 500, 500)
			},
			want: checkResult{Err: true},
		},
		{
			name:  "rebalance ignored unless configured",
			setup: func(m *spottest.IMDS) { m.Rebalance(noticeTime) },
		},
		{
			name:      "rebalance when configured",
			rebalance: true,
			setup:     func(m *spottest.IMDS) { m.Rebalance(noticeTime) },
			want:      checkResult{Notice: spot.Notice{Kind: spot.KindRebalance, Time: noticeTime}, Found: true},
		},
		{
			name:      "interruption wins over rebalance",
			rebalance: true,
			setup: func(m *spottest.IMDS) {
				m.Rebalance(noticeTime.Add(-time.Minute))
				m.Interrupt("hibernate", noticeTime)
			},
			want: checkResult{Notice: spot.Notice{Kind: spot.KindInterruption, Action: "hibernate", Time: noticeTime}, Found: true},
		},
		{
			name:      "malformed rebalance",
			rebalance: true,
			setup:     func(m *spottest.IMDS) { m.SetRebalance([]byte(`{"noticeTime": "yesterday"}`)) },
			want:      checkResult{Err: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// synctest: the SDK's retry backoff runs on the bubble's clock.
			synctest.Test(t, func(t *testing.T) {
				w, m := newInMemory(t, spot.Config{Rebalance: tt.rebalance})
				tt.setup(m)
				n, found, err := w.Check(t.Context())
				got := checkResult{Notice: n, Found: found, Err: err != nil}
				if err != nil {
					t.Logf("check error (expected: %v): %v", tt.want.Err, err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("check (-want +got):\n%s", diff)
				}
			})
		})
	}
}

func TestToken(t *testing.T) {
	t.Parallel()
	t.Run("reused across polls", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			w, m := newInMemory(t, spot.Config{})
			for range 3 {
				if _, _, err := w.Check(t.Context()); err != nil {
					t.Fatal(err)
				}
			}
			if got := m.Requests(spottest.PathToken); got != 1 {
				t.Errorf("token requests = %d, want 1", got)
			}
		})
	})
	t.Run("revoked token gets a 401 and is replaced", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			w, m := newInMemory(t, spot.Config{})
			if _, _, err := w.Check(t.Context()); err != nil {
				t.Fatal(err)
			}
			m.ExpireTokens()
			m.Interrupt("terminate", noticeTime)
			n, found, err := w.Check(t.Context())
			if err != nil || !found || n.Action != "terminate" {
				t.Fatalf("check after revocation = %v, %v, %v; want the notice", n, found, err)
			}
			if got := m.Unauthorized(); got != 1 {
				t.Errorf("401s served = %d, want 1", got)
			}
			if got := m.Requests(spottest.PathToken); got != 2 {
				t.Errorf("token requests = %d, want 2", got)
			}
		})
	})
	t.Run("token past its ttl is renewed before use", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			w, m := newInMemory(t, spot.Config{})
			if _, _, err := w.Check(t.Context()); err != nil {
				t.Fatal(err)
			}
			time.Sleep(6 * time.Hour) // beyond any TTL the client asks for
			if _, _, err := w.Check(t.Context()); err != nil {
				t.Fatal(err)
			}
			if got := m.Requests(spottest.PathToken); got != 2 {
				t.Errorf("token requests = %d, want 2", got)
			}
			if got := m.Unauthorized(); got != 0 {
				t.Errorf("401s served = %d, want 0 (the client knows the TTL)", got)
			}
		})
	})
	t.Run("no token means no request: never falls back to IMDSv1", func(t *testing.T) {
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			w, m := newInMemory(t, spot.Config{})
			m.Fail(spottest.PathToken, http.StatusForbidden)
			if _, _, err := w.Check(t.Context()); err == nil {
				t.Fatal("check succeeded without a token")
			}
			if got := m.Requests(spottest.PathInstanceAction); got != 0 {
				t.Errorf("instance-action requests = %d, want 0", got)
			}
		})
	})
}

func TestWatcherPollsEveryFiveSeconds(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w, m := newInMemory(t, spot.Config{})
		start := time.Now()
		if err := w.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(12 * time.Second)
		m.Interrupt("terminate", start.Add(2*time.Minute))
		<-w.Done()
		if got := time.Since(start); got != 15*time.Second {
			t.Errorf("notice seen after %v, want 15s (the next poll)", got)
		}
		var offsets []time.Duration
		for _, p := range m.Polls() {
			offsets = append(offsets, p.Sub(start))
		}
		want := []time.Duration{0, 5 * time.Second, 10 * time.Second, 15 * time.Second}
		if diff := cmp.Diff(want, offsets); diff != "" {
			t.Errorf("poll times (-want +got):\n%s", diff)
		}
		n, ok := w.Notice()
		if !ok || n.Kind != spot.KindInterruption || !n.Time.Equal(start.Add(2*time.Minute)) {
			t.Errorf("notice = %+v, %v", n, ok)
		}
		// Delivered once: the loop is over, nothing polls any more.
		time.Sleep(time.Minute)
		if got := len(m.Polls()); got != 4 {
			t.Errorf("polls after the notice: %d, want 4", got)
		}
	})
}

func TestWatcherToleratesFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fault func(m *spottest.IMDS)
	}{
		{"server errors", func(m *spottest.IMDS) {
			statuses := make([]int, 40)
			for i := range statuses {
				statuses[i] = http.StatusInternalServerError
			}
			m.Fail(spottest.PathInstanceAction, statuses...)
		}},
		{"malformed json", func(m *spottest.IMDS) { m.SetInstanceAction([]byte("<html>oops</html>")) }},
		{"token service down", func(m *spottest.IMDS) {
			m.Fail(spottest.PathToken, 500, 500, 500, 500, 500, 500, 500, 500, 500, 500)
		}},
		{"tokens revoked", func(m *spottest.IMDS) { m.ExpireTokens() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				w, m := newInMemory(t, spot.Config{})
				tt.fault(m)
				if err := w.Start(t.Context()); err != nil {
					t.Fatal(err)
				}
				time.Sleep(time.Minute)
				synctest.Wait()
				if _, ok := w.Notice(); ok {
					t.Fatal("a fault was taken for a notice")
				}
				m.SetInstanceAction(nil)
				at := time.Now().Add(2 * time.Minute)
				m.Interrupt("terminate", at)
				<-w.Done()
				n, _ := w.Notice()
				want := spot.Notice{Kind: spot.KindInterruption, Action: "terminate", Time: at.UTC().Truncate(time.Second)}
				if diff := cmp.Diff(want, n); diff != "" {
					t.Errorf("notice (-want +got):\n%s", diff)
				}
			})
		})
	}
}

func TestWatcherRebalance(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		off, offIMDS := newInMemory(t, spot.Config{})
		on, onIMDS := newInMemory(t, spot.Config{Rebalance: true})
		for _, w := range []*spot.Watcher{off, on} {
			if err := w.Start(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		at := time.Now()
		offIMDS.Rebalance(at)
		onIMDS.Rebalance(at)
		<-on.Done()
		n, _ := on.Notice()
		if n.Kind != spot.KindRebalance || !errors.Is(n, spot.ErrInterrupted) {
			t.Errorf("notice = %+v, want a rebalance matching ErrInterrupted", n)
		}
		time.Sleep(time.Minute)
		if _, ok := off.Notice(); ok {
			t.Error("a watcher without Rebalance reported a rebalance recommendation")
		}
		if got := offIMDS.Requests(spottest.PathRebalance); got != 0 {
			t.Errorf("rebalance polled %d times without Rebalance", got)
		}
	})
}

func TestNoticeAsCause(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancelCause(t.Context())
	cancel(spot.Notice{Kind: spot.KindInterruption, Action: "terminate", Time: noticeTime})
	cause := context.Cause(ctx)
	if !errors.Is(cause, spot.ErrInterrupted) {
		t.Fatalf("cause %v does not match ErrInterrupted", cause)
	}
	var n spot.Notice
	if !errors.As(cause, &n) || n.Action != "terminate" {
		t.Fatalf("cause %v does not unwrap to the notice", cause)
	}
	if errors.Is(context.Canceled, spot.ErrInterrupted) {
		t.Fatal("a plain cancellation matches ErrInterrupted")
	}
}

func TestLifecycle(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w, m := newInMemory(t, spot.Config{Interval: time.Second})
		if err := w.Stop(t.Context()); err != nil {
			t.Fatalf("stop before start: %v", err)
		}
		if err := w.Start(t.Context()); err == nil {
			t.Fatal("start after stop succeeded")
		}

		w2, m2 := newInMemory(t, spot.Config{Interval: time.Second})
		if err := w2.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := w2.Start(t.Context()); err == nil {
			t.Fatal("second start succeeded")
		}
		time.Sleep(3 * time.Second)
		for range 2 {
			if err := w2.Stop(t.Context()); err != nil {
				t.Fatalf("stop: %v", err)
			}
		}
		polls := len(m2.Polls())
		time.Sleep(time.Minute)
		if got := len(m2.Polls()); got != polls {
			t.Errorf("polled %d times after stop", got-polls)
		}
		if m.Requests(spottest.PathInstanceAction) != 0 {
			t.Error("a watcher that never started polled")
		}
	})
}

func TestInstanceID(t *testing.T) {
	t.Parallel()
	m := spottest.NewServer(t, "i-0abc")
	w := spot.New(spot.Config{Endpoint: m.URL}, testLogger(t))
	id, err := w.InstanceID(t.Context())
	if err != nil || id != "i-0abc" {
		t.Fatalf("instance id = %q, %v", id, err)
	}
}

// TestOverHTTP drives a running watcher through a real loopback server, as a worker's
// end-to-end test does.
func TestOverHTTP(t *testing.T) {
	t.Parallel()
	m := spottest.NewServer(t, "i-0abc")
	w := spot.New(spot.Config{Endpoint: m.URL, Interval: 5 * time.Millisecond}, testLogger(t))
	if err := w.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Stop(context.Background()) })
	waitFor(t, 10*time.Second, func() bool { return len(m.Polls()) >= 2 })
	m.ExpireTokens()
	m.Interrupt("terminate", noticeTime)
	select {
	case <-w.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("no notice within 10s")
	}
	if n, _ := w.Notice(); n.Action != "terminate" || !n.Time.Equal(noticeTime) {
		t.Errorf("notice = %+v", n)
	}
}

// TestEndpointFromEnvironment cannot run in parallel: it sets a process-wide variable.
func TestEndpointFromEnvironment(t *testing.T) {
	m := spottest.NewServer(t, "i-0env")
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", m.URL)
	id, err := spot.New(spot.Config{}, testLogger(t)).InstanceID(t.Context())
	if err != nil || id != "i-0env" {
		t.Fatalf("instance id = %q, %v", id, err)
	}
}

// waitFor polls cond until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", d)
		}
		select {
		case <-time.After(5 * time.Millisecond):
		case <-t.Context().Done():
			t.Fatal(t.Context().Err())
		}
	}
}
