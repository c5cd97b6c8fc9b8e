package api_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tesuji/tesuji/api"
)

// TestWorkersNeedOperator: where tokens are on, the fleet is shown only to operator
// tokens; in open mode to everyone who can reach the server.
func TestWorkersNeedOperator(t *testing.T) {
	t.Parallel()
	e := startEnv(t, envOptions{})
	plain := e.token(t, "plain")
	ops, info, err := e.tokens.Create(context.Background(), "ops", api.ScopeOperator)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]api.Scope{api.ScopeOperator}, info.Scopes); diff != "" {
		t.Errorf("created scopes (-want +got):\n%s", diff)
	}
	checked, err := e.tokens.Check(context.Background(), ops)
	if err != nil || !checked.Has(api.ScopeOperator) {
		t.Fatalf("the operator token checks as %+v, %v", checked, err)
	}
	open := startEnv(t, envOptions{noTokens: true})
	for _, tc := range []struct {
		name  string
		e     *env
		token string
		want  int
		code  string
	}{
		{"no token", e, "", 401, "unauthorized"},
		{"a token without the operator scope", e, plain, 403, "forbidden"},
		{"an operator token", e, ops, 200, ""},
		{"open mode", open, "", 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.e.do(t, "GET", "/api/v1/workers", tc.token, nil)
			if r.status != tc.want || r.errCode() != tc.code {
				t.Errorf("got %d %s, want %d %s", r.status, r.body, tc.want, tc.code)
			}
		})
	}
}
