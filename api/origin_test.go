package api_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestOpenModeRefusesOtherSites: an open server on loopback answers web pages of other
// sites with 403, whether they come by DNS rebinding (a foreign Host) or by a
// cross-origin form or websocket; its own pages and clients that are not browsers are
// served.
func TestOpenModeRefusesOtherSites(t *testing.T) {
	t.Parallel()
	e := startEnv(t, envOptions{noTokens: true})
	host := strings.TrimPrefix(e.url, "http://")
	_, port, _ := strings.Cut(host, ":")
	// A form as a browser posts it: multipart, the game as a file.
	formType := ""
	formBody := func(visits string) string {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		fw, _ := mw.CreateFormFile("sgf", "game.sgf")
		io.WriteString(fw, game3)
		mw.WriteField("maxVisits", visits)
		mw.Close()
		formType = mw.FormDataContentType()
		return b.String()
	}
	form := formBody("10")
	cases := []struct {
		name   string
		method string
		path   string
		host   string // "" : the server's address
		origin string
		body   string
		want   int
		code   string
	}{
		{"rebound name reads an analysis", "GET", "/api/v1/analyses/x", "attacker.example:" + port, "", "", 403, "forbidden_host"},
		{"rebound name reads the web UI", "GET", "/", "attacker.example:" + port, "", "", 403, "forbidden_host"},
		{"rebound name posts from its own origin", "POST", "/api/v1/analyses", "attacker.example:" + port, "http://attacker.example:" + port, form, 403, "forbidden_host"},
		{"cross-origin form post", "POST", "/api/v1/analyses", "", "https://attacker.example", form, 403, "cross_origin"},
		{"cross-origin post from another local port", "POST", "/api/v1/positions", "", "http://127.0.0.1:1", "{}", 403, "cross_origin"},
		{"post from a sandboxed frame", "POST", "/api/v1/analyses", "", "null", form, 403, "cross_origin"},
		{"cross-origin cancel", "DELETE", "/api/v1/analyses/x", "", "https://attacker.example", "", 403, "cross_origin"},
		{"same-origin form post", "POST", "/api/v1/analyses", "", e.url, form, 202, ""},
		{"post without a browser", "POST", "/api/v1/analyses", "", "", form, 202, ""},
		{"localhost by name", "GET", "/api/v1/analyses/x", "localhost:" + port, "", "", 404, "not_found"},
		{"cross-origin read of a missing analysis", "GET", "/api/v1/analyses/x", "", "https://attacker.example", "", 404, "not_found"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := tc.body
			if tc.want == 202 {
				// Distinct games, so the two submissions are two jobs.
				body = formBody(strconv.Itoa(20 + i))
			}
			req, err := http.NewRequest(tc.method, e.url+tc.path, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.host != "" {
				req.Host = tc.host
			}
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			if strings.HasPrefix(body, "--") {
				req.Header.Set("Content-Type", formType)
			}
			resp, err := e.http.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			r := reply{status: resp.StatusCode, body: b}
			if r.status != tc.want || (tc.code != "" && r.errCode() != tc.code) {
				t.Errorf("got %d %s, want %d %s", r.status, b, tc.want, tc.code)
			}
		})
	}
}

// TestOpenModeWebsocketOrigin: the KataGo websocket of an open server on loopback opens
// for KaTrain (no Origin) and the server's own pages, not for another site's page.
func TestOpenModeWebsocketOrigin(t *testing.T) {
	t.Parallel()
	e := startEnv(t, envOptions{noTokens: true})
	ws := "ws" + strings.TrimPrefix(e.url, "http") + "/api/v1/katago"
	for _, tc := range []struct {
		name   string
		origin string
		want   int
	}{
		{"another site", "https://attacker.example", http.StatusForbidden},
		{"the server's own page", e.url, http.StatusSwitchingProtocols},
		{"no browser", "", http.StatusSwitchingProtocols},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			h := http.Header{}
			if tc.origin != "" {
				h.Set("Origin", tc.origin)
			}
			conn, resp, err := websocket.Dial(ctx, ws, &websocket.DialOptions{HTTPHeader: h})
			if conn != nil {
				conn.Close(websocket.StatusNormalClosure, "")
			}
			if resp == nil {
				t.Fatalf("no handshake answer: %v", err)
			}
			if resp.StatusCode != tc.want {
				t.Errorf("handshake %d (%v), want %d", resp.StatusCode, err, tc.want)
			}
		})
	}
}

// TestTokensIgnoreHost: with tokens the Host is not checked (a proxy may rewrite it);
// the token decides.
func TestTokensIgnoreHost(t *testing.T) {
	t.Parallel()
	e := startEnv(t, envOptions{})
	tok := e.token(t, "t")
	req, _ := http.NewRequest("GET", e.url+"/api/v1/analyses/x", nil)
	req.Host = "tesuji.example"
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Origin", "https://tesuji.example")
	resp, err := e.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("status %d, want 404", resp.StatusCode)
	}
}
