package prio_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tesuji/tesuji/internal/prio"
)

type item struct {
	name          string
	priority, seq int64
}

// drain pops every value in order.
func drain(q *prio.Queue[*item]) []string {
	var out []string
	for q.Len() > 0 {
		out = append(out, q.Pop().name)
	}
	return out
}

// TestOrder: highest priority first, then lowest seq, whatever the order of the pushes.
func TestOrder(t *testing.T) {
	t.Parallel()
	items := []*item{
		{"low-old", -5, 1},
		{"mid-new", 0, 9},
		{"mid-old", 0, 2},
		{"high", 7, 8},
		{"mid-oldest", 0, 0},
		{"low-new", -5, 3},
	}
	want := []string{"high", "mid-oldest", "mid-old", "mid-new", "low-old", "low-new"}
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 20 {
		shuffled := slices.Clone(items)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		var q prio.Queue[*item]
		for _, it := range shuffled {
			q.Push(it, it.priority, it.seq)
		}
		if diff := cmp.Diff(want, drain(&q)); diff != "" {
			t.Fatalf("shuffle %d: order (-want +got):\n%s", n, diff)
		}
	}
}

// TestPutBackKeepsPlace: a value popped and pushed again with its seq comes out before
// later values of its priority.
func TestPutBackKeepsPlace(t *testing.T) {
	t.Parallel()
	var q prio.Queue[*item]
	a, b := &item{"a", 1, 1}, &item{"b", 1, 2}
	q.Push(a, a.priority, a.seq)
	q.Push(b, b.priority, b.seq)
	got := q.Pop()
	q.Push(got, got.priority, got.seq)
	if diff := cmp.Diff([]string{"a", "b"}, drain(&q)); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}

// TestRemove: Remove and DeleteFunc take out exactly the values named and keep the order
// of the rest.
func TestRemove(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		remove func(q *prio.Queue[*item], items []*item) bool
		want   []string
		found  bool
	}{
		{"one", func(q *prio.Queue[*item], items []*item) bool { return q.Remove(items[3]) }, []string{"i7", "i6", "i5", "i2", "i1", "i0"}, true},
		{"absent", func(q *prio.Queue[*item], _ []*item) bool { return q.Remove(&item{name: "x"}) }, []string{"i7", "i6", "i5", "i3", "i2", "i1", "i0"}, false},
		{"even", func(q *prio.Queue[*item], _ []*item) bool {
			q.DeleteFunc(func(it *item) bool { return it.priority%2 == 0 })
			return true
		}, []string{"i7", "i5", "i3", "i1"}, true},
		{"all", func(q *prio.Queue[*item], _ []*item) bool {
			q.DeleteFunc(func(*item) bool { return true })
			return true
		}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var q prio.Queue[*item]
			var items []*item
			for i := range 8 {
				if i == 4 {
					continue
				}
				it := &item{name: "i" + string(rune('0'+i)), priority: int64(i), seq: int64(i)}
				items = append(items, it)
				q.Push(it, it.priority, it.seq)
			}
			if found := tt.remove(&q, items); found != tt.found {
				t.Errorf("found %v, want %v", found, tt.found)
			}
			if diff := cmp.Diff(tt.want, drain(&q)); diff != "" {
				t.Errorf("left (-want +got):\n%s", diff)
			}
		})
	}
}
