package api_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/tesuji/tesuji/api"
	"github.com/tesuji/tesuji/queue/redistest"
)

// TestRedisStoresResentScriptRunsOnce loses the reply of a script call after Redis ran it
// (a proxy cuts the connection before the reply gets through), so go-redis resends the call:
// the resent call must answer as the first did, and change nothing a second time.
func TestRedisStoresResentScriptRunsOnce(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{})
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, through, direct redis.UniversalClient)
	}{
		{"token create", func(t *testing.T, through, direct redis.UniversalClient) {
			if _, _, err := api.NewRedisTokens(through, "create").Create(ctx, "alice"); err != nil {
				t.Fatalf("Create: %v, want the token created", err)
			}
			list, err := api.NewRedisTokens(direct, "create").List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, ti := range list {
				names = append(names, ti.Name)
			}
			if diff := cmp.Diff([]string{"alice"}, names); diff != "" {
				t.Errorf("tokens (-want +got):\n%s", diff)
			}
		}},
		{"quota charge", func(t *testing.T, through, direct redis.UniversalClient) {
			now := time.Unix(1_800_000_000, 0)
			ok, _, err := api.NewRedisLimits(through, "charge").Charge(ctx, "o", 4, 10, now)
			if err != nil || !ok {
				t.Fatalf("Charge of 4: ok %v, %v; want charged", ok, err)
			}
			ok, _, err = api.NewRedisLimits(direct, "charge").Charge(ctx, "o", 6, 10, now)
			if err != nil || !ok {
				t.Errorf("Charge of the 6 left of the quota: ok %v, %v; want charged (the 4 counted once)", ok, err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			proxy := srv.Proxy(t)
			through := redis.NewClient(&redis.Options{Addr: proxy.Addr()})
			t.Cleanup(func() { through.Close() })
			proxy.DropReplies(nil, nil)
			tt.run(t, through, srv.Client(t))
			if n := len(proxy.Dropped()); n != 1 {
				t.Errorf("%d replies lost, want the one of the script", n)
			}
		})
	}
}
