package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// authenticate is the middleware of every /api/v1 route but the OpenAPI document. With a
// TokenStore it requires a valid token and makes its id the owner of the request's jobs;
// without one (open mode) everything belongs to "". The token comes as
// "Authorization: Bearer <token>", or as the query parameter token for the clients that
// cannot set headers: KaTrain's websocket (its remote_url) and the browser's EventSource.
func (a *API) authenticate(c *gin.Context) {
	if a.cfg.Tokens == nil {
		c.Set(ownerKey, "")
		c.Next()
		return
	}
	token, ok := bearer(c)
	if !ok {
		a.unauthorized(c, "unauthorized", "this server needs an API token: send \"Authorization: Bearer <token>\" (or ?token=<token> where headers cannot be set)", nil)
		return
	}
	info, err := a.cfg.Tokens.Check(c.Request.Context(), token)
	switch {
	case errors.Is(err, ErrTokenRevoked):
		a.unauthorized(c, "token_revoked", "this API token was revoked", err)
		return
	case errors.Is(err, ErrTokenInvalid):
		a.unauthorized(c, "invalid_token", "the API token is not valid", err)
		return
	case err != nil:
		a.writeError(c, err)
		return
	}
	c.Set(ownerKey, info.ID)
	c.Set(tokenKey, info)
	c.Set(loggerKey, a.reqLog(c).With("token_id", info.ID))
	c.Next()
}

func bearer(c *gin.Context) (string, bool) {
	if h := c.GetHeader("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "Bearer") && strings.TrimSpace(token) != "" {
			return strings.TrimSpace(token), true
		}
		return "", false
	}
	if t := c.Query("token"); t != "" {
		return t, true
	}
	return "", false
}

func (a *API) unauthorized(c *gin.Context, code, msg string, cause error) {
	c.Header("WWW-Authenticate", `Bearer realm="tesuji"`)
	err := &Error{Status: http.StatusUnauthorized, Code: code, Message: msg}
	if cause != nil {
		a.reqLog(c).Info("request refused", "code", code, "err", cause)
	}
	a.writeError(c, err)
}
