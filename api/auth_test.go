package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestAuth covers every way a request can fail to authenticate, and that a job is
// invisible to any token but the one that made it.
func TestAuth(t *testing.T) {
	t.Parallel()
	e := startEnv(t, envOptions{})
	ctx := context.Background()
	alice := e.token(t, "alice")
	bob := e.token(t, "bob")
	carol := e.token(t, "carol")
	if _, err := e.tokens.Revoke(ctx, "carol"); err != nil {
		t.Fatal(err)
	}
	id := e.submit(t, alice, game3, nil)
	e.follow(t, alice, id)
	last := alice[len(alice)-1:]
	other := "0"
	if last == "0" {
		other = "1"
	}
	wrongSecret := alice[:len(alice)-1] + other

	job := "/api/v1/analyses/" + id
	tests := []struct {
		name       string
		method     string
		path       string
		header     string // the Authorization header
		wantStatus int
		wantCode   string
	}{
		{"no token", "GET", job, "", 401, "unauthorized"},
		{"no token on submit", "POST", "/api/v1/analyses", "", 401, "unauthorized"},
		{"no token on positions", "POST", "/api/v1/positions", "", 401, "unauthorized"},
		{"no token on websocket", "GET", "/api/v1/katago", "", 401, "unauthorized"},
		{"no token on workers", "GET", "/api/v1/workers", "", 401, "unauthorized"},
		{"basic auth", "GET", job, "Basic YWxpY2U6cGFzcw==", 401, "unauthorized"},
		{"malformed token", "GET", job, "Bearer hunter2", 401, "invalid_token"},
		{"wrong secret", "GET", job, "Bearer " + wrongSecret, 401, "invalid_token"},
		{"unknown token", "GET", job, "Bearer tesuji_0123456789abcdef_" + strings.Repeat("5a", 32), 401, "invalid_token"},
		{"revoked token", "GET", job, "Bearer " + carol, 401, "token_revoked"},
		{"another owner's job", "GET", job, "Bearer " + bob, 404, "not_found"},
		{"another owner's events", "GET", job + "/events", "Bearer " + bob, 404, "not_found"},
		{"another owner's sgf", "GET", job + "/sgf", "Bearer " + bob, 404, "not_found"},
		{"another owner's cancel", "DELETE", job, "Bearer " + bob, 404, "not_found"},
		{"owner", "GET", job, "Bearer " + alice, 200, ""},
		{"owner's sgf", "GET", job + "/sgf", "Bearer " + alice, 200, ""},
		{"bearer scheme in lower case", "GET", job, "bearer " + alice, 200, ""},
		{"token as query parameter", "GET", job + "?token=" + alice, "", 200, ""},
		{"health needs no token", "GET", "/healthz", "", 200, ""},
		{"readiness needs no token", "GET", "/readyz", "", 200, ""},
		{"metrics need no token", "GET", "/metrics", "", 200, ""},
		{"openapi needs no token", "GET", "/api/v1/openapi.json", "", 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(tt.method, e.url+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			r := e.send(t, req)
			if r.status != tt.wantStatus || r.errCode() != tt.wantCode {
				t.Fatalf("%s %s: %d %q, want %d %q (%s)", tt.method, tt.path, r.status, r.errCode(), tt.wantStatus, tt.wantCode, r.body)
			}
			if r.status == 401 && r.header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			if r.header.Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id")
			}
		})
	}
}

// TestRevokeTakesEffectAtOnce: a token revoked while in use fails its next request.
func TestRevokeTakesEffectAtOnce(t *testing.T) {
	t.Parallel()
	e := startEnv(t, envOptions{})
	dave := e.token(t, "dave")
	if r := e.do(t, "GET", "/api/v1/analyses/nosuch", dave, nil); r.status != 404 {
		t.Fatalf("before revoking: %d %s", r.status, r.body)
	}
	if _, err := e.tokens.Revoke(context.Background(), "dave"); err != nil {
		t.Fatal(err)
	}
	if r := e.do(t, "GET", "/api/v1/analyses/nosuch", dave, nil); r.status != 401 || r.errCode() != "token_revoked" {
		t.Fatalf("after revoking: %d %s", r.status, r.body)
	}
}

// TestOpenMode: without a token store every request is served, and jobs belong to
// nobody in particular.
func TestOpenMode(t *testing.T) {
	t.Parallel()
	e := startEnv(t, envOptions{noTokens: true})
	id := e.submit(t, "", game3, nil)
	events := e.follow(t, "", id)
	if got := events[len(events)-1].typ; got != "done" {
		t.Fatalf("last event %q, want done", got)
	}
	if r := e.do(t, "GET", "/api/v1/analyses/"+id, "anything", nil); r.status != 200 {
		t.Fatalf("GET in open mode with a stray token: %d %s", r.status, r.body)
	}
}
