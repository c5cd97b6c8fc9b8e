// Package prio is the one priority queue of the code base: container/heap behind a small
// generic type, ordered as KataGo orders the turns of its queries and as the job queue
// orders jobs: the highest priority first and, among equal priorities, the oldest first.
package prio

import "container/heap"

// Queue holds values in priority order. The zero value is an empty queue. It is not safe
// for concurrent use, and a value should be in it at most once (Remove takes out the
// first it finds).
type Queue[T comparable] struct {
	h entries[T]
}

type entry[T comparable] struct {
	v        T
	priority int64
	seq      int64
}

// entries is the heap.Interface behind Queue.
type entries[T comparable] []entry[T]

func (h entries[T]) Len() int { return len(h) }
func (h entries[T]) Less(i, j int) bool {
	if h[i].priority != h[j].priority {
		return h[i].priority > h[j].priority
	}
	return h[i].seq < h[j].seq
}
func (h entries[T]) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *entries[T]) Push(x any)   { *h = append(*h, x.(entry[T])) }
func (h *entries[T]) Pop() any {
	old := *h
	n := len(old) - 1
	e := old[n]
	old[n] = entry[T]{} // let the value be collected
	*h = old[:n]
	return e
}

// Len returns how many values are queued.
func (q *Queue[T]) Len() int { return len(q.h) }

// Push queues v. Higher priorities come out first; among equal priorities, the lower seq
// (the caller's arrival counter, so a value put back keeps its place) comes out first.
func (q *Queue[T]) Push(v T, priority, seq int64) {
	heap.Push(&q.h, entry[T]{v: v, priority: priority, seq: seq})
}

// Pop takes out the first value. It panics on an empty queue, like container/heap.
func (q *Queue[T]) Pop() T {
	return heap.Pop(&q.h).(entry[T]).v
}

// Remove takes v out and reports whether it was queued.
func (q *Queue[T]) Remove(v T) bool {
	for i, e := range q.h {
		if e.v == v {
			heap.Remove(&q.h, i)
			return true
		}
	}
	return false
}

// DeleteFunc takes out every value for which del returns true. It calls del once per
// value, in no particular order.
func (q *Queue[T]) DeleteFunc(del func(T) bool) {
	kept := q.h[:0]
	for _, e := range q.h {
		if !del(e.v) {
			kept = append(kept, e)
		}
	}
	clear(q.h[len(kept):])
	q.h = kept
	heap.Init(&q.h)
}
