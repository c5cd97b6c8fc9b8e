package setup

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// ModelSHA256 is the SHA-256 of the network at ModelURL, the digest Homebrew's katago
// formula pins for the same file.
const ModelSHA256 = "9d7a6afed8ff5b74894727e156f04f0cd36060a24824892008fbb6e0cba51f1d"

// pinnedSHA256 holds the SHA-256 of every download Install knows, by URL: the one place
// where digests are pinned. KataGo's release archives are not here, as no digest of them
// from a source beside the download itself was at hand; add each one here, by its
// ReleaseURL, once read from the release page. Until then installing a release archive
// needs InstallConfig.KataGoSHA256 (--katago-sha256).
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
