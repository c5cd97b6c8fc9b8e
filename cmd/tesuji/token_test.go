package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tesuji/tesuji/api"
)

// TestTokenCommands: create prints the token once, list shows it, revoke makes the
// server's store refuse it, all through the file a server would read.
func TestTokenCommands(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "tokens.json")
	getenv := func(k string) string {
		if k == "TESUJI_TOKEN_FILE" {
			return file
		}
		return ""
	}
	tesuji := func(args ...string) (string, string, error) {
		var out, errOut bytes.Buffer
		err := run(context.Background(), args, getenv, strings.NewReader(""), &out, &errOut)
		return out.String(), errOut.String(), err
	}
	out, msg, err := tesuji("token", "create", "--name", "ci-bot")
	if err != nil {
		t.Fatalf("create: %v\n%s", err, msg)
	}
	token := strings.TrimSpace(out)
	store := api.NewFileTokens(file)
	info, err := store.Check(context.Background(), token)
	if err != nil || info.Name != "ci-bot" {
		t.Fatalf("the created token does not check: %+v %v (stdout %q)", info, err, out)
	}
	if !strings.Contains(msg, info.ID) || strings.Contains(msg, token) {
		t.Errorf("create's message should name the id and not repeat the token: %q", msg)
	}
	data, _ := os.ReadFile(file)
	if strings.Contains(string(data), token[len(token)-64:]) {
		t.Error("the token file holds the token's secret")
	}
	if _, _, err := tesuji("token", "create", "--name", "ci-bot"); !errors.Is(err, api.ErrTokenName) {
		t.Errorf("second token with the same name: %v", err)
	}
	out, _, err = tesuji("token", "list")
	if err != nil || !strings.Contains(out, info.ID) || !strings.Contains(out, "ci-bot") || !strings.Contains(out, "active") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	if _, msg, err := tesuji("token", "revoke", "ci-bot"); err != nil {
		t.Fatalf("revoke: %v\n%s", err, msg)
	}
	if _, err := store.Check(context.Background(), token); !errors.Is(err, api.ErrTokenRevoked) {
		t.Errorf("after revoke: %v", err)
	}
	out, _, _ = tesuji("token", "list")
	if !strings.Contains(out, "revoked") {
		t.Errorf("list after revoke:\n%s", out)
	}
	if _, _, err := tesuji("token", "revoke", "nobody"); !errors.Is(err, api.ErrTokenNotFound) {
		t.Errorf("revoke of an unknown token: %v", err)
	}
	if _, _, err := tesuji("token", "create"); !errors.Is(err, errUsage) {
		t.Errorf("create without --name: %v", err)
	}

	// An operator token may see the fleet; list says so.
	out, msg, err = tesuji("token", "create", "--name", "ops", "--operator")
	if err != nil {
		t.Fatalf("create --operator: %v\n%s", err, msg)
	}
	ops, err := store.Check(context.Background(), strings.TrimSpace(out))
	if err != nil || !ops.Has(api.ScopeOperator) {
		t.Fatalf("the operator token checks as %+v, %v", ops, err)
	}
	out, _, _ = tesuji("token", "list")
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, ops.ID) != strings.Contains(line, "operator") {
			t.Errorf("list shows the operator scope on the wrong line: %q\n%s", line, out)
		}
	}
}

func TestLoopback(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true, "[::1]:8080": true, "localhost:80": true, "127.1.2.3:0": true,
		":8080": false, "0.0.0.0:8080": false, "[::]:8080": false, "192.168.1.5:8080": false,
		"example.com:8080": false, "nonsense": false,
	} {
		if got := loopback(addr); got != want {
			t.Errorf("loopback(%q) = %v, want %v", addr, got, want)
		}
	}
}
