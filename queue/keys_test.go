package queue_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tesuji/tesuji/queue"
)

// hashTag is the part of key that Redis Cluster hashes: between the first "{" and the
// next "}", when that is not empty; otherwise the whole key.
func hashTag(key string) string {
	_, rest, ok := strings.Cut(key, "{")
	if !ok {
		return key
	}
	tag, _, ok := strings.Cut(rest, "}")
	if !ok || tag == "" {
		return key
	}
	return tag
}

// TestAPIKeys: the API's key names stay byte for byte what deployments already store, and
// an owner's keys share one slot.
func TestAPIKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		prefix, owner string
		want          []string // tokens, use, busy, reply
	}{
		{"", "0123456789abcdef", []string{
			"tesuji:tokens",
			"tesuji:limits:{o:0123456789abcdef}:use",
			"tesuji:limits:{o:0123456789abcdef}:busy",
			"tesuji:limits:{o:0123456789abcdef}:reply:CALL",
		}},
		{"prod", "", []string{
			"prod:tokens",
			"prod:limits:{o:}:use",
			"prod:limits:{o:}:busy",
			"prod:limits:{o:}:reply:CALL",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.prefix+"/"+tt.owner, func(t *testing.T) {
			t.Parallel()
			k := queue.NewAPIKeys(tt.prefix)
			got := []string{k.Tokens(), k.Use(tt.owner), k.Busy(tt.owner), k.Reply(tt.owner, "CALL")}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("keys (-want +got):\n%s", diff)
			}
			tags := []string{hashTag(got[1]), hashTag(got[2]), hashTag(got[3])}
			want := "o:" + tt.owner
			if diff := cmp.Diff([]string{want, want, want}, tags); diff != "" {
				t.Errorf("an owner's hash tags (-want +got):\n%s", diff)
			}
		})
	}
}
