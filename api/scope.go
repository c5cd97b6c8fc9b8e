package api

import (
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"
)

// Scope is a right a token has beyond analysing its own games.
type Scope string

// ScopeOperator lets a token see the fleet: the workers, their machines and their jobs
// (GET /api/v1/workers). Operators make such tokens with `tesuji token create --operator`.
const ScopeOperator Scope = "operator"

// Has reports whether the token has scope s.
func (t TokenInfo) Has(s Scope) bool { return slices.Contains(t.Scopes, s) }

// tokenKey is the gin context key of the request's TokenInfo, set by authenticate when
// tokens are on.
const tokenKey = "token"

// requireScope is the middleware of routes that only some tokens may use. Without tokens
// (open mode) it lets everything through, as authenticate does.
func (a *API) requireScope(s Scope) gin.HandlerFunc {
	return func(c *gin.Context) {
		if a.cfg.Tokens == nil {
			c.Next()
			return
		}
		info, _ := c.Get(tokenKey)
		if t, ok := info.(TokenInfo); !ok || !t.Has(s) {
			a.writeError(c, &Error{Status: http.StatusForbidden, Code: "forbidden",
				Message: "this needs a token with the " + string(s) + " scope (tesuji token create --" + string(s) + ")"})
			c.Abort()
			return
		}
		c.Next()
	}
}
