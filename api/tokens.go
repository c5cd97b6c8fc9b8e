package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
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
	// several tokens share.
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

// TokenStore keeps API tokens, hashed. NewFileTokens keeps them in a local file (the
// embedded default), NewRedisTokens in Redis (several API servers).
type TokenStore interface {
	// Create makes a token named name, with the given scopes beyond analysing, and
	// returns it; this is the only time it is shown.
	Create(ctx context.Context, name string, scopes ...Scope) (token string, info TokenInfo, err error)
	// List returns every token, revoked ones included, oldest first.
	List(ctx context.Context) ([]TokenInfo, error)
	// Revoke revokes the token with this id or name; revoking twice is not an error.
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

// findRecord returns the index of the record with this id, or else of the one record
// with this name.
func findRecord(recs []tokenRecord, idOrName string) (int, error) {
	for i := range recs {
		if recs[i].ID == idOrName {
			return i, nil
		}
	}
	found := -1
	for i := range recs {
		if recs[i].Name == idOrName {
			if found >= 0 {
				return -1, fmt.Errorf("%w: several tokens are named %q; revoke by id", ErrTokenNotFound, idOrName)
			}
			found = i
		}
	}
	if found < 0 {
		return -1, fmt.Errorf("%w: %q", ErrTokenNotFound, idOrName)
	}
	return found, nil
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

// FileTokens is a TokenStore in a local JSON file, for the embedded default: `tesuji token`
// writes it and a running server reads it again whenever it changes, so a new or revoked
// token takes effect without a restart. Writers take a lock file beside it.
type FileTokens struct {
	path string

	mu      sync.Mutex
	modTime time.Time
	size    int64
	byID    map[string]*tokenRecord
}

// NewFileTokens returns the store in the file at path; the file need not exist yet.
func NewFileTokens(path string) *FileTokens {
	return &FileTokens{path: path}
}

// tokenFile is the file's JSON.
type tokenFile struct {
	Tokens []tokenRecord `json:"tokens"`
}

func (s *FileTokens) read() ([]tokenRecord, error) {
	data, err := os.ReadFile(s.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("api: read token file: %w", err)
	}
	var f tokenFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("api: token file %s: %w", s.path, err)
	}
	return f.Tokens, nil
}

func (s *FileTokens) write(recs []tokenRecord) error {
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return fmt.Errorf("api: token file: %w", err)
	}
	data, err := json.MarshalIndent(tokenFile{Tokens: recs}, "", "  ")
	if err != nil {
		return fmt.Errorf("api: token file: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.path), ".tokens-*")
	if err != nil {
		return fmt.Errorf("api: token file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("api: token file: %w", err)
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("api: token file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("api: token file: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("api: token file: %w", err)
	}
	return nil
}

// update runs fn on the file's records under the writers' lock and writes the result.
func (s *FileTokens) update(ctx context.Context, fn func([]tokenRecord) ([]tokenRecord, error)) error {
	unlock, err := lockFile(ctx, s.path+".lock")
	if err != nil {
		return err
	}
	defer unlock()
	recs, err := s.read()
	if err != nil {
		return err
	}
	recs, err = fn(recs)
	if err != nil {
		return err
	}
	return s.write(recs)
}

// lockFile takes an exclusive lock by creating path, waiting while another writer holds
// it. A lock older than a minute is a crashed writer's and is broken.
func lockFile(ctx context.Context, path string) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("api: token file lock: %w", err)
	}
	for {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err == nil {
			f.Close()
			return func() { os.Remove(path) }, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("api: token file lock: %w", err)
		}
		if fi, err := os.Stat(path); err == nil && time.Since(fi.ModTime()) > time.Minute {
			os.Remove(path)
			continue
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("api: token file lock %s: %w", path, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Create implements TokenStore.
func (s *FileTokens) Create(ctx context.Context, name string, scopes ...Scope) (string, TokenInfo, error) {
	token, rec := newToken(name, time.Now(), scopes)
	err := s.update(ctx, func(recs []tokenRecord) ([]tokenRecord, error) {
		if err := checkName(recs, name); err != nil {
			return nil, err
		}
		return append(recs, rec), nil
	})
	if err != nil {
		return "", TokenInfo{}, err
	}
	return token, rec.TokenInfo, nil
}

// List implements TokenStore.
func (s *FileTokens) List(ctx context.Context) ([]TokenInfo, error) {
	recs, err := s.read()
	if err != nil {
		return nil, err
	}
	return infos(recs), nil
}

func infos(recs []tokenRecord) []TokenInfo {
	out := make([]TokenInfo, len(recs))
	for i := range recs {
		out[i] = recs[i].TokenInfo
	}
	slices.SortStableFunc(out, func(a, b TokenInfo) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out
}

// Revoke implements TokenStore.
func (s *FileTokens) Revoke(ctx context.Context, idOrName string) (TokenInfo, error) {
	var info TokenInfo
	err := s.update(ctx, func(recs []tokenRecord) ([]tokenRecord, error) {
		i, err := findRecord(recs, idOrName)
		if err != nil {
			return nil, err
		}
		if !recs[i].Revoked() {
			recs[i].RevokedAt = time.Now().UTC().Truncate(time.Second)
		}
		info = recs[i].TokenInfo
		return recs, nil
	})
	return info, err
}

// Check implements TokenStore. It reads the file again only when its size or
// modification time changed.
func (s *FileTokens) Check(ctx context.Context, token string) (TokenInfo, error) {
	id, ok := tokenID(token)
	if !ok {
		return TokenInfo{}, ErrTokenInvalid
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	fi, err := os.Stat(s.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		s.byID, s.modTime, s.size = nil, time.Time{}, 0
	case err != nil:
		return TokenInfo{}, fmt.Errorf("api: token file: %w", err)
	case s.byID == nil || !fi.ModTime().Equal(s.modTime) || fi.Size() != s.size:
		recs, err := s.read()
		if err != nil {
			return TokenInfo{}, err
		}
		s.byID = make(map[string]*tokenRecord, len(recs))
		for i := range recs {
			s.byID[recs[i].ID] = &recs[i]
		}
		s.modTime, s.size = fi.ModTime(), fi.Size()
	}
	return checkRecord(s.byID[id], token)
}
