package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/tesuji/tesuji/queue/redistest"
)

// TestScaleOutLostRepliesLoseNothing runs `serve --redis` and two workers through a proxy
// that loses one reply of every script once, after Redis ran it: go-redis resends each of
// those calls, and the scripts must take the resend for the call it is. 100 submissions
// all finish, each as one job, each turn exactly once.
func TestScaleOutLostRepliesLoseNothing(t *testing.T) {
	t.Parallel()
	rs := redistest.Start(t, redistest.Options{})
	px := rs.Proxy(t)
	px.DropReplies(nil, nil)
	url := "redis://" + px.Addr()
	p := startServe(t, nil, "--redis", url)
	// No worker dies here: a long lease keeps a busy machine from making retries of its own.
	startWorkerProc(t, "w1", url, nil, "--jobs-per-engine", "4", "--lease", "30s")
	startWorkerProc(t, "w2", url, nil, "--jobs-per-engine", "4", "--lease", "30s")

	const n, moves = 100, 10
	ids := map[string]int{}
	var order []string
	for i := range n {
		// Each komi makes another game, so no two submissions collapse into one job.
		id := submit(t, p.url, fmt.Sprintf("(;GM[1]FF[4]SZ[19]KM[%d.5];B[pd];W[dp];B[pq];W[dd];B[fq];W[cn];B[jp];W[qo];B[qm];W[pm])", i))
		if prev, ok := ids[id]; ok {
			t.Fatalf("submissions %d and %d got the same job %s", prev, i, id)
		}
		ids[id] = i
		order = append(order, id)
	}
	pending := append([]string(nil), order...)
	waitFor(t, 10*time.Minute, "every job to finish", func() bool {
		for len(pending) > 0 {
			j := getJob(t, p.url, pending[0])
			if j.Status == "failed" || j.Status == "cancelled" {
				t.Fatalf("job %s ended %s", j.ID, j.Status)
			}
			if j.Status != "done" {
				return false
			}
			pending = pending[1:]
		}
		return true
	})
	for _, id := range order {
		checkExactlyOnce(t, p.url, id, moves+1)
	}
	// create, commit, persist, claim next, claim, index, heartbeat, store, complete at least.
	if got := len(px.Dropped()); got < 9 {
		t.Errorf("the proxy lost the replies of %d scripts, want every script the run used (9 or more)", got)
	}
}
