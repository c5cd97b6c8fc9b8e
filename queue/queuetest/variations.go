package queuetest

import (
	"errors"
	"testing"
	"time"

	"github.com/tesuji/tesuji/queue"
)

// testVariations: what SaveVariations stores comes back as it was, the last save wins,
// in every state of the job, and a job that does not exist has none.
func testVariations(t *testing.T, newQueue func(*testing.T, Options) queue.Queue) {
	q := newQueue(t, Options{})
	ctx := testCtx(t)
	j := enqueue(t, q, review(0, 1))

	got, err := q.Variations(ctx, j.ID)
	if err != nil || got != nil {
		t.Fatalf("Variations before any save = %q, %v; want nil, nil", got, err)
	}
	save := func(data string) {
		t.Helper()
		if err := q.SaveVariations(ctx, j.ID, []byte(data)); err != nil {
			t.Fatalf("SaveVariations(%s): %v", data, err)
		}
		got, err := q.Variations(ctx, j.ID)
		if err != nil || string(got) != data {
			t.Fatalf("Variations after saving %s = %q, %v", data, got, err)
		}
	}
	save(`[{"at":0,"moves":["D4"]}]`) // queued
	_, l := claim(t, q, "w1", long)
	save(`[{"at":1,"moves":["Q16","D4"]}]`) // running
	if g := get(t, q, j.ID); g.State != queue.StateRunning || g.Attempts != 0 {
		t.Errorf("a save changed the job: %s, %d attempts", g.State, g.Attempts)
	}
	store(t, q, l, 0, `"r0"`)
	store(t, q, l, 1, `"r1"`)
	if err := q.Complete(ctx, l); err != nil {
		t.Fatal(err)
	}
	save(`[]`) // done
	save("\x00binary\xff")
	if got := results(t, q, j.ID); len(got) != 2 {
		t.Errorf("results after saves: %v", got)
	}

	other := enqueue(t, q, review(0))
	if got, err := q.Variations(ctx, other.ID); err != nil || got != nil {
		t.Errorf("another job's variations = %q, %v; want none", got, err)
	}
	err = q.SaveVariations(ctx, "no-such-job", []byte(`[]`))
	wantErr(t, "SaveVariations of a missing job", err, queue.ErrNotFound)
	_, err = q.Variations(ctx, "no-such-job")
	wantErr(t, "Variations of a missing job", err, queue.ErrNotFound)
}

// testVariationsExpire: variations go with the job when a final job's retention ends.
func testVariationsExpire(t *testing.T, newQueue func(*testing.T, Options) queue.Queue) {
	q := newQueue(t, Options{Retention: 2 * time.Second})
	ctx := testCtx(t)
	j := enqueue(t, q, review(0))
	if err := q.SaveVariations(ctx, j.ID, []byte(`[1]`)); err != nil {
		t.Fatal(err)
	}
	if err := q.Cancel(ctx, j.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the cancelled job to expire", func() bool {
		_, err := q.Variations(ctx, j.ID)
		if err != nil && !errors.Is(err, queue.ErrNotFound) {
			t.Fatalf("Variations: %v", err)
		}
		return err != nil
	})
	err := q.SaveVariations(ctx, j.ID, []byte(`[2]`))
	wantErr(t, "SaveVariations of an expired job", err, queue.ErrNotFound)
}
