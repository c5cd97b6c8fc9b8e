package api

import (
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
)

// guardOpenMode keeps web pages of other sites away from an open server on loopback.
// Such a server trusts whoever can reach it, and a browser on this machine can reach it
// for any page it shows: by a form or fetch that sends a request across origins, or by
// DNS rebinding, which points a name of the page's own at 127.0.0.1 and then reads the
// answers as the same origin. So, in open mode on loopback:
//
//   - every request must name this machine in Host (localhost or a loopback address):
//     a rebound name does not;
//   - a request that changes state, and the websocket's handshake, must come from the
//     server's own origin or from no browser at all (no Origin header): a cross-origin
//     form or script sends its page's origin.
//
// With tokens a page cannot use a token it does not have, and a server beyond loopback
// was opened to everyone on purpose, so neither check applies there.
func (a *API) guardOpenMode(c *gin.Context) {
	if !a.cfg.Loopback || a.cfg.Tokens != nil {
		c.Next()
		return
	}
	r := c.Request
	if r.Host != "" && !loopbackHost(r.Host) {
		a.writeError(c, &Error{Status: http.StatusForbidden, Code: "forbidden_host",
			Message: "this server runs without API tokens on loopback and answers only requests addressed to localhost or a loopback address"})
		c.Abort()
		return
	}
	if changesState(r) && !sameOrigin(r) {
		a.reqLog(c).Info("request refused", "code", "cross_origin", "origin", r.Header.Get("Origin"))
		a.writeError(c, &Error{Status: http.StatusForbidden, Code: "cross_origin",
			Message: "this server runs without API tokens and accepts requests that change state only from its own pages or from clients that are not browsers"})
		c.Abort()
		return
	}
	c.Next()
}

// loopbackHost reports whether a Host header names this machine.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// changesState reports whether a request may change state: any method but GET, HEAD and
// OPTIONS, and the websocket's handshake, after which the page could send queries.
func changesState(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
	}
	return true
}

// sameOrigin reports whether a request comes from no browser page (no Origin header) or
// from a page this server served (an Origin naming the Host the request was sent to).
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false // "null" among them: a sandboxed frame or a file
	}
	return strings.EqualFold(u.Host, r.Host)
}
