package setup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// ModelSHA256 is the SHA-256 of the network at ModelURL, the digest Homebrew's katago
// formula pins for the same file.
const ModelSHA256 = "9d7a6afed8ff5b74894727e156f04f0cd36060a24824892008fbb6e0cba51f1d"

// pinnedSHA256 holds the SHA-256 of every download Install knows, by URL: the one place
// where digests are pinned. KataGo's release archives are not here, as no digest of them
// from a source beside the download itself was at hand; add each one here, by its
// ReleaseURL. Until then the digest GitHub publishes for the asset is used
// (releaseSHA256); InstallConfig.KataGoSHA256 (--katago-sha256) overrides both.
var pinnedSHA256 = map[string]string{
	ModelURL: ModelSHA256,
}

// ErrChecksum is a download whose SHA-256 is not the expected one, or one that has no
// expected digest to check it against. Install refuses both.
var ErrChecksum = errors.New("setup: checksum")

// expectedSHA256 returns the digest a download from url must have: the one given, else
// the pinned one. flag names the option that gives it, for the error.
func expectedSHA256(url, given, what, flag string) (string, error) {
	want := strings.ToLower(strings.TrimSpace(given))
	if want == "" {
		want = pinnedSHA256[url]
	}
	if want == "" {
		return "", fmt.Errorf("%w: no SHA-256 is pinned for the %s at %s, so it cannot be verified: pass its digest with %s",
			ErrChecksum, what, url, flag)
	}
	if b, err := hex.DecodeString(want); err != nil || len(b) != sha256.Size {
		return "", fmt.Errorf("%w: %s %q is not a SHA-256 (64 hex digits)", ErrChecksum, flag, given)
	}
	return want, nil
}

// releaseAPI is GitHub's description of the pinned release, which publishes a SHA-256
// for each of its assets.
const releaseAPI = "https://api.github.com/repos/lightvector/KataGo/releases/tags/" + KataGoVersion

// releaseSHA256 returns the digest GitHub publishes for the release asset at url, for a
// release archive with no digest pinned here: GitHub computes it when the asset is
// uploaded, so a download altered on its way or on a mirror is still refused. It returns
// "" when the asset or its digest is not listed.
func (cfg *InstallConfig) releaseSHA256(ctx context.Context, url string) (string, error) {
	api := cfg.ReleaseAPI
	if api == "" {
		api = releaseAPI
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, api, nil)
	if err != nil {
		return "", fmt.Errorf("setup: %w", err)
	}
	req.Header.Set("Accept", "application/vnd.github+json")
	resp, err := cfg.HTTP.Do(req)
	if err != nil {
		return "", fmt.Errorf("setup: read the release's digests: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("setup: read the release's digests: %s answered %s", api, resp.Status)
	}
	var rel struct {
		Assets []struct {
			URL    string `json:"browser_download_url"`
			Digest string `json:"digest"`
		} `json:"assets"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&rel); err != nil {
		return "", fmt.Errorf("setup: read the release's digests: %w", err)
	}
	for _, a := range rel.Assets {
		if a.URL == url {
			if hexSum, ok := strings.CutPrefix(a.Digest, "sha256:"); ok {
				return hexSum, nil
			}
		}
	}
	return "", nil
}
