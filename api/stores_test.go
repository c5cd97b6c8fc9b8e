package api_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/tesuji/tesuji/api"
	"github.com/tesuji/tesuji/queue"
	"github.com/tesuji/tesuji/queue/redistest"
	"github.com/tesuji/tesuji/queue/sqlitetest"
)

// tokenStores returns a fresh store of each kind, and a function that dumps what the
// store keeps (to check that no token is stored in clear).
func tokenStores(t *testing.T) map[string]func(t *testing.T) (api.TokenStore, func() string) {
	return map[string]func(t *testing.T) (api.TokenStore, func() string){
		"sqlite": func(t *testing.T) (api.TokenStore, func() string) {
			db := sqlitetest.DB(t)
			return api.NewSQLiteTokens(db), func() string {
				var b strings.Builder
				rows, err := db.Query("SELECT id, name, hash FROM tokens")
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				for rows.Next() {
					var id, name, hash string
					if err := rows.Scan(&id, &name, &hash); err != nil {
						t.Fatal(err)
					}
					b.WriteString(id + " " + name + " " + hash + "\n")
				}
				return b.String()
			}
		},
		"redis-cluster": func(t *testing.T) (api.TokenStore, func() string) {
			rdb := redistest.Start(t, redistest.Options{Cluster: true}).Client(t)
			return api.NewRedisTokens(rdb, "t"), func() string {
				m, _ := rdb.HGetAll(context.Background(), "t:tokens").Result()
				var b strings.Builder
				for k, v := range m {
					b.WriteString(k + "=" + v + "\n")
				}
				return b.String()
			}
		},
	}
}

func TestTokenStores(t *testing.T) {
	t.Parallel()
	for name, open := range tokenStores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s, dump := open(t)
			alice, ai, err := s.Create(ctx, "alice")
			if err != nil {
				t.Fatal(err)
			}
			bob, bi, err := s.Create(ctx, "bob")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(alice, "tesuji_"+ai.ID+"_") || alice == bob || ai.ID == bi.ID {
				t.Fatalf("tokens %q (%s) and %q (%s) are not distinct tokens of the documented form", alice, ai.ID, bob, bi.ID)
			}
			if _, _, err := s.Create(ctx, "alice"); !errors.Is(err, api.ErrTokenName) {
				t.Errorf("second token named alice: err %v, want ErrTokenName", err)
			}
			if _, _, err := s.Create(ctx, " "); !errors.Is(err, api.ErrTokenName) {
				t.Errorf("blank name: err %v, want ErrTokenName", err)
			}
			stored := dump()
			for _, tok := range []string{alice, bob} {
				secret := tok[strings.LastIndex(tok, "_")+1:]
				if strings.Contains(stored, secret) {
					t.Errorf("the store keeps a token's secret in clear:\n%s", stored)
				}
			}

			wrongSecret := alice[:len(alice)-1] + string("0123456789abcdef"[(strings.IndexByte("0123456789abcdef", alice[len(alice)-1])+1)%16])
			checks := []struct {
				name  string
				token string
				want  string // the owner id, or the error
			}{
				{"alice", alice, ai.ID},
				{"bob", bob, bi.ID},
				{"wrong secret", wrongSecret, api.ErrTokenInvalid.Error()},
				{"unknown id", "tesuji_0123456789abcdef_" + strings.Repeat("ab", 32), api.ErrTokenInvalid.Error()},
				{"malformed", "Bearer " + alice, api.ErrTokenInvalid.Error()},
				{"empty", "", api.ErrTokenInvalid.Error()},
			}
			for _, c := range checks {
				info, err := s.Check(ctx, c.token)
				got := info.ID
				if err != nil {
					got = err.Error()
				}
				if got != c.want {
					t.Errorf("Check(%s) = %q, want %q", c.name, got, c.want)
				}
			}

			if _, err := s.Revoke(ctx, "alice"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Check(ctx, alice); !errors.Is(err, api.ErrTokenRevoked) {
				t.Errorf("Check(revoked alice): err %v, want ErrTokenRevoked", err)
			}
			if _, err := s.Revoke(ctx, ai.ID); err != nil {
				t.Errorf("revoking twice: %v", err)
			}
			if _, err := s.Revoke(ctx, "nobody"); !errors.Is(err, api.ErrTokenNotFound) {
				t.Errorf("Revoke(nobody): err %v, want ErrTokenNotFound", err)
			}
			// A revoked token's name is free again, and then names the live token.
			alice2, a2, err := s.Create(ctx, "alice")
			if err != nil {
				t.Fatalf("new token named like a revoked one: %v", err)
			}
			if info, err := s.Revoke(ctx, "alice"); err != nil || info.ID != a2.ID {
				t.Errorf("Revoke(alice) beside a revoked alice: %s, %v; want the live token %s", info.ID, err, a2.ID)
			}
			if _, err := s.Check(ctx, alice2); !errors.Is(err, api.ErrTokenRevoked) {
				t.Errorf("Check(the second alice, revoked by name): err %v, want ErrTokenRevoked", err)
			}
			// With no live token of the name, the revoked ones are several: the name alone
			// is ambiguous.
			if _, err := s.Revoke(ctx, "alice"); !errors.Is(err, api.ErrTokenNotFound) {
				t.Errorf("Revoke of a name two revoked tokens share: err %v, want ErrTokenNotFound", err)
			}

			list, err := s.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			type row struct {
				ID, Name string
				Revoked  bool
			}
			var got []row
			for _, ti := range list {
				got = append(got, row{ti.ID, ti.Name, ti.Revoked()})
			}
			want := []row{{ai.ID, "alice", true}, {bi.ID, "bob", false}, {a2.ID, "alice", true}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("List (-want +got):\n%s", diff)
			}
		})
	}
}

// TestTokenStoresKeepScopes: a token's scopes come back from Check and List as Create
// was given them, in every store, and a token made without scopes has none.
func TestTokenStoresKeepScopes(t *testing.T) {
	t.Parallel()
	for name, open := range tokenStores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s, _ := open(t)
			ops, oi, err := s.Create(ctx, "ops", api.ScopeOperator)
			if err != nil {
				t.Fatal(err)
			}
			plain, pi, err := s.Create(ctx, "plain")
			if err != nil {
				t.Fatal(err)
			}
			want := map[string][]api.Scope{oi.ID: {api.ScopeOperator}, pi.ID: nil}
			got := map[string][]api.Scope{}
			for _, tok := range []string{ops, plain} {
				info, err := s.Check(ctx, tok)
				if err != nil {
					t.Fatal(err)
				}
				got[info.ID] = info.Scopes
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("scopes from Check (-want +got):\n%s", diff)
			}
			list, err := s.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got = map[string][]api.Scope{}
			for _, info := range list {
				got[info.ID] = info.Scopes
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("scopes from List (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSQLiteTokensSeesOtherWriters: `tesuji token` writes the database while a server
// checks tokens through its own handle; the server must see new and revoked tokens at once.
func TestSQLiteTokensSeesOtherWriters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tesuji.db")
	q, err := queue.OpenSQLite(ctx, queue.SQLiteConfig{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	db, err := queue.OpenSQLiteDB(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	server, cli := api.NewSQLiteTokens(q.DB()), api.NewSQLiteTokens(db)
	if _, err := server.Check(ctx, "tesuji_0123456789abcdef_"+strings.Repeat("00", 32)); !errors.Is(err, api.ErrTokenInvalid) {
		t.Fatalf("check of an unknown token: %v", err)
	}
	for i := range 3 {
		tok, info, err := cli.Create(ctx, "t"+string(rune('a'+i)))
		if err != nil {
			t.Fatal(err)
		}
		got, err := server.Check(ctx, tok)
		if err != nil || got.ID != info.ID {
			t.Fatalf("server check of a token made by another writer: %+v, %v", got, err)
		}
		if _, err := cli.Revoke(ctx, info.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := server.Check(ctx, tok); !errors.Is(err, api.ErrTokenRevoked) {
			t.Fatalf("server check after another writer revoked: %v", err)
		}
	}
}

func limitStores(t *testing.T) map[string]func(t *testing.T) api.LimitStore {
	return map[string]func(t *testing.T) api.LimitStore{
		"sqlite": func(t *testing.T) api.LimitStore { return api.NewSQLiteLimits(sqlitetest.DB(t)) },
		"redis-cluster": func(t *testing.T) api.LimitStore {
			return api.NewRedisLimits(redistest.Start(t, redistest.Options{Cluster: true}).Client(t), "")
		},
	}
}

func TestLimitStores(t *testing.T) {
	t.Parallel()
	for name, open := range limitStores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := open(t)
			t0 := time.Unix(1_800_000_000, 0).Truncate(time.Minute)

			// Quota 10 per hour: 4 at t0, 4 at t0+10m, then 4 more fits only when the t0
			// minute has left the hour, at t0+60m.
			charge := func(owner string, n int64, at time.Time) (bool, time.Time) {
				t.Helper()
				ok, fits, err := s.Charge(ctx, owner, n, 10, at)
				if err != nil {
					t.Fatal(err)
				}
				return ok, fits
			}
			if ok, _ := charge("a", 4, t0); !ok {
				t.Fatal("first charge refused")
			}
			if ok, _ := charge("a", 4, t0.Add(10*time.Minute)); !ok {
				t.Fatal("second charge refused")
			}
			ok, fits := charge("a", 4, t0.Add(20*time.Minute+30*time.Second))
			if ok || !fits.Equal(t0.Add(60*time.Minute)) {
				t.Errorf("third charge: ok %v fits at %v, want refused until %v", ok, fits, t0.Add(60*time.Minute))
			}
			ok, fits = charge("a", 9, t0.Add(20*time.Minute))
			if ok || !fits.Equal(t0.Add(70*time.Minute)) {
				t.Errorf("charge of 9: ok %v fits at %v, want refused until %v", ok, fits, t0.Add(70*time.Minute))
			}
			if ok, _ := charge("b", 10, t0.Add(20*time.Minute)); !ok {
				t.Error("another owner's charge refused")
			}
			if ok, _ := charge("a", 2, t0.Add(59*time.Minute)); !ok {
				t.Error("charge within the quota refused")
			}
			if ok, _ := charge("a", 1, t0.Add(59*time.Minute)); ok {
				t.Error("charge over the quota accepted")
			}
			if err := s.Refund(ctx, "a", 2, t0.Add(59*time.Minute)); err != nil {
				t.Fatal(err)
			}
			if ok, _ := charge("a", 2, t0.Add(59*time.Minute)); !ok {
				t.Error("charge after a refund refused")
			}
			if ok, _ := charge("a", 4, t0.Add(60*time.Minute)); !ok {
				t.Error("charge after the oldest minute left the hour refused")
			}

			// Two slots.
			admit := func(id string) bool {
				t.Helper()
				ok, err := s.Admit(ctx, "a", id, 2)
				if err != nil {
					t.Fatal(err)
				}
				return ok
			}
			jobs := func() []string {
				t.Helper()
				ids, err := s.Jobs(ctx, "a")
				if err != nil {
					t.Fatal(err)
				}
				return slices.Sorted(slices.Values(ids))
			}
			if !admit("job1") || !admit("job2") {
				t.Fatal("admissions within the limit refused")
			}
			if admit("job3") {
				t.Error("third admission accepted")
			}
			if !admit("job2") {
				t.Error("admitting a held job again refused")
			}
			if diff := cmp.Diff([]string{"job1", "job2"}, jobs()); diff != "" {
				t.Errorf("Jobs (-want +got):\n%s", diff)
			}
			if ok, err := s.Admit(ctx, "b", "job1", 1); err != nil || !ok {
				t.Errorf("another owner's admission: %v %v", ok, err)
			}
			if err := s.Remove(ctx, "a", "job1"); err != nil {
				t.Fatal(err)
			}
			if !admit("job3") {
				t.Error("admission refused after Remove")
			}
			if diff := cmp.Diff([]string{"job2", "job3"}, jobs()); diff != "" {
				t.Errorf("Jobs after Remove (-want +got):\n%s", diff)
			}
			if ok, err := s.Admit(ctx, "a", "x", 0); err != nil || !ok {
				t.Errorf("admission without a limit: %v %v", ok, err)
			}
		})
	}
}

// TestRedisLimitsDropsLeases: members of an owner's busy set with a score above 0 are
// websocket leases an earlier version left, which nothing renews; Jobs leaves them out
// and an admission drops them, so they hold no slot, lapsed or not.
func TestRedisLimitsDropsLeases(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := redistest.Start(t, redistest.Options{}).Client(t)
	s := api.NewRedisLimits(rdb, "")
	key := queue.NewAPIKeys("").Busy("a")
	ahead := float64(time.Now().Add(time.Hour).UnixMilli()) // a lease that has not lapsed
	if err := rdb.ZAdd(ctx, key,
		redis.Z{Score: 0, Member: "job1"},
		redis.Z{Score: 1, Member: "ws:1:1"}, // a lease that lapsed long ago
		redis.Z{Score: ahead, Member: "ws:1:2"},
	).Err(); err != nil {
		t.Fatal(err)
	}
	jobs, err := s.Jobs(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"job1"}, jobs); diff != "" {
		t.Errorf("Jobs with leases left (-want +got):\n%s", diff)
	}
	if ok, err := s.Admit(ctx, "a", "job2", 2); err != nil || !ok {
		t.Fatalf("admission with one job and two leases at a limit of 2: %v %v, want admitted", ok, err)
	}
	got, err := rdb.ZRangeWithScores(ctx, key, 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	want := []redis.Z{{Score: 0, Member: "job1"}, {Score: 0, Member: "job2"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("busy set after the admission (-want +got):\n%s", diff)
	}
}
