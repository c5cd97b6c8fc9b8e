package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// API tokens. A token reads "tesuji_<id>_<secret>": id is 16 hex digits that name the
// token in logs, in `tesuji token list` and as the owner of its jobs; secret is 256 random
// bits. Stores keep only the SHA-256 of the whole token, so a leaked store grants nothing,
// and Check compares that hash in constant time. A high-entropy token needs no slow hash.

// Token errors. Check returns them (wrapped); the API answers both with 401.
var (
	ErrTokenInvalid = errors.New("api: unknown or malformed token")
	ErrTokenRevoked = errors.New("api: token revoked")
	// ErrTokenNotFound is Revoke of an id or name that no token has, or a name that
	// several live tokens share, or several revoked ones and no live one.
	ErrTokenNotFound = errors.New("api: no such token")
	// ErrTokenName is Create with an empty name, or one that a token already has.
	ErrTokenName = errors.New("api: token name empty or taken")
)

const tokenPrefix = "tesuji_"

// TokenInfo describes a token; the token itself is shown once, by Create, and never
// stored.
type TokenInfo struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Scopes    []Scope   `json:"scopes,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	RevokedAt time.Time `json:"revokedAt,omitzero"`
}

// Revoked reports whether the token was revoked.
func (t TokenInfo) Revoked() bool { return !t.RevokedAt.IsZero() }

// TokenStore keeps API tokens, hashed. NewSQLiteTokens keeps them in the embedded
// default's database, NewRedisTokens in Redis (several API servers).
type TokenStore interface {
	// Create makes a token named name, with the given scopes beyond analysing, and
	// returns it; this is the only time it is shown.
	Create(ctx context.Context, name string, scopes ...Scope) (token string, info TokenInfo, err error)
	// List returns every token, revoked ones included, oldest first.
	List(ctx context.Context) ([]TokenInfo, error)
	// Revoke revokes the token with this id or name; revoking twice is not an error. A
	// name names the live token that has it, or else the revoked one.
	Revoke(ctx context.Context, idOrName string) (TokenInfo, error)
	// Check returns the token's info when it is valid: ErrTokenInvalid when no token
	// matches, ErrTokenRevoked when it was revoked. Other errors are the store's.
	Check(ctx context.Context, token string) (TokenInfo, error)
}

// tokenRecord is what a store keeps of a token.
type tokenRecord struct {
	TokenInfo
	Hash string `json:"hash"` // hex SHA-256 of the whole token
}

// newToken returns a fresh token and its record.
func newToken(name string, now time.Time, scopes []Scope) (string, tokenRecord) {
	var id [8]byte
	var secret [32]byte
	_, _ = rand.Read(id[:])
	_, _ = rand.Read(secret[:])
	token := tokenPrefix + hex.EncodeToString(id[:]) + "_" + hex.EncodeToString(secret[:])
	return token, tokenRecord{
		TokenInfo: TokenInfo{ID: hex.EncodeToString(id[:]), Name: name, Scopes: slices.Clone(scopes), CreatedAt: now.UTC()},
		Hash:      hashToken(token),
	}
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// tokenID returns the id part of a well-formed token.
func tokenID(token string) (string, bool) {
	rest, ok := strings.CutPrefix(token, tokenPrefix)
	if !ok {
		return "", false
	}
	id, secret, ok := strings.Cut(rest, "_")
	if !ok || len(id) != 16 || len(secret) != 64 {
		return "", false
	}
	if _, err := hex.DecodeString(id); err != nil {
		return "", false
	}
	return id, true
}

// checkRecord decides a presented token against the record its id names (nil: none).
func checkRecord(rec *tokenRecord, token string) (TokenInfo, error) {
	if rec == nil {
		// Hash anyway, so an unknown id costs the same time as a wrong secret.
		_ = hashToken(token)
		return TokenInfo{}, ErrTokenInvalid
	}
	if subtle.ConstantTimeCompare([]byte(hashToken(token)), []byte(rec.Hash)) != 1 {
		return TokenInfo{}, ErrTokenInvalid
	}
	if rec.Revoked() {
		return rec.TokenInfo, ErrTokenRevoked
	}
	return rec.TokenInfo, nil
}

// findRecord returns the index of the record with this id, or else of the one live
// record with this name, or else of the one revoked record with it: a revoked token's
// name is free for a new token (checkName), which the name then names.
func findRecord(recs []tokenRecord, idOrName string) (int, error) {
	for i := range recs {
		if recs[i].ID == idOrName {
			return i, nil
		}
	}
	for _, revoked := range []bool{false, true} {
		found := -1
		for i := range recs {
			if recs[i].Name != idOrName || recs[i].Revoked() != revoked {
				continue
			}
			if found >= 0 {
				return -1, fmt.Errorf("%w: several tokens are named %q; revoke by id", ErrTokenNotFound, idOrName)
			}
			found = i
		}
		if found >= 0 {
			return found, nil
		}
	}
	return -1, fmt.Errorf("%w: %q", ErrTokenNotFound, idOrName)
}

func checkName(recs []tokenRecord, name string) error {
	if strings.TrimSpace(name) == "" {
		return fmt.Errorf("%w: a token needs a name", ErrTokenName)
	}
	for i := range recs {
		if recs[i].Name == name && !recs[i].Revoked() {
			return fmt.Errorf("%w: a token named %q exists (id %s)", ErrTokenName, name, recs[i].ID)
		}
	}
	return nil
}

// infos returns the records' infos, oldest first.
func infos(recs []tokenRecord) []TokenInfo {
	out := make([]TokenInfo, len(recs))
	for i := range recs {
		out[i] = recs[i].TokenInfo
	}
	slices.SortStableFunc(out, func(a, b TokenInfo) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out
}
