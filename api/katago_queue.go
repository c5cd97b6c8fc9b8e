package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tesuji/tesuji/analysis"
	"github.com/tesuji/tesuji/engine"
	"github.com/tesuji/tesuji/game"
	"github.com/tesuji/tesuji/internal/prio"
	"github.com/tesuji/tesuji/katago"
	"github.com/tesuji/tesuji/queue"
)

// queueBackend runs a connection's websocket queries as interactive jobs in the queue,
// for API servers without engines of their own. A job carries what analysis.Spec
// carries: the position, maxVisits, the include flags, avoidMoves and allowMoves, the
// overrideSettings of analysis.JobSettings and reportDuringSearchEvery; the worker's
// engine reports from Black's side. Results come back as the stored game.Turn, turned
// into KataGo's response shape: moveInfos, rootInfo, ownership, ownershipStdev and policy
// as KataGo wrote them. Other fields a query sets are named once per connection in a
// warning.
type queueBackend struct {
	a      *API
	window window

	mu     sync.Mutex
	warned map[string]bool // fields already named in a warning on this connection
}

func newQueueBackend(a *API) *queueBackend {
	return &queueBackend{a: a, window: window{limit: a.cfg.SocketQueries, freed: make(chan struct{}, 1)},
		warned: map[string]bool{}}
}

// stop cannot tell whether a worker's search has begun: the session answers for the turn.
func (*queueBackend) stop(context.Context, *task) (searching, ok bool) { return false, false }

// arrived gives the turn its place in the window.
func (b *queueBackend) arrived(t *task) { t.place = b.window.join(t.priority, t.seq) }

func (b *queueBackend) analyze(ctx context.Context, s *session, t *task, fn func(*katago.Response) error) error {
	a := b.a
	defer t.place.leave()
	q, turn := &t.query, t.turn
	g, err := game.GameFromQuery(*q)
	if err == nil {
		err = g.Validate()
	}
	if err != nil {
		var ge *game.Error
		if errors.As(err, &ge) {
			field := ge.Field
			if ge.Move > 0 {
				field = "moves"
			}
			return &engine.QueryError{Field: field, Message: ge.Error()}
		}
		return err
	}
	if unused := unsupportedFields(q); len(unused) > 0 {
		b.warnOnce(t.q, unused)
	}
	spec := queryRequest(q).Spec(g, t.ponder)
	payload, err := spec.Encode()
	if err != nil {
		return err
	}
	job := &queue.Job{
		ID: newJobID(), Owner: s.owner, Priority: queue.PriorityInteractive, Payload: payload,
		Turns: []int{turn}, Positions: int64(min(spec.MaxVisits, a.cfg.MaxVisits)),
	}
	err = t.place.enter(ctx, func() (bool, error) { return a.tryAdmit(ctx, s.owner, job.ID) })
	if err != nil {
		return err
	}
	defer a.releaseJob(ctx, s.log, s.owner, job.ID)
	if err := context.Cause(ctx); err != nil {
		return err
	}
	j, _, err := a.enqueueCharged(ctx, s.log, job, "katago")
	if err != nil {
		return err
	}
	defer func() {
		// The client terminated the query or left: the worker stops at its next heartbeat.
		if ctx.Err() != nil {
			a.cancelAbandoned(ctx, s.log, j.ID)
		}
	}()
	return a.follow(ctx, j.ID, "", 0, follower{event: func(e queue.Event) (bool, error) {
		switch e.Type {
		case queue.EventPartial, queue.EventTurn:
			var gt game.Turn
			if err := json.Unmarshal(e.Data, &gt); err != nil {
				return true, fmt.Errorf("api: job %s: decode turn: %w", j.ID, err)
			}
			return e.Type == queue.EventTurn, fn(turnResponse(&gt, e.Type == queue.EventPartial))
		case queue.EventFailed:
			f := failureOf(e.Data)
			if f.Code == analysis.FailureInterrupted {
				// The worker's shutdown ended the search before it reported: KataGo's
				// answer for a turn ended before its search began.
				return true, fn(noResults("", turn))
			}
			if f.Code != analysis.FailureRejected {
				// The worker's own errors may name the server's files.
				return true, &engine.QueryError{Message: "the analysis failed on the worker"}
			}
			return true, &engine.QueryError{Field: f.Field, Message: f.Message}
		case queue.EventCancelled:
			return true, fmt.Errorf("api: job %s was cancelled: %w", j.ID, queue.ErrFinal)
		}
		return false, nil
	}})
}

// window is what a connection adds to the queue, which runs interactive jobs first come,
// first served: its turns enter the queue highest client priority first, then oldest, at
// most limit (SocketQueries) at once, each with one of the token's job slots.
type window struct {
	limit int
	freed chan struct{} // one of the connection's turns left the queue

	mu        sync.Mutex
	waiting   prio.Queue[*place]
	queued    int  // turns in the queue
	admitting bool // a chosen turn is taking its slot
}

// place is one turn's place in its connection's window, from the turn's arrival until
// it leaves.
type place struct {
	w          *window
	p, seq     int64
	ready      chan struct{} // closed when the turn is chosen to take a slot
	chosen, in bool
}

// join gives a turn its place on arrival, with its priority p and arrival seq.
func (w *window) join(p, seq int64) *place {
	pl := &place{w: w, p: p, seq: seq, ready: make(chan struct{})}
	w.mu.Lock()
	w.waiting.Push(pl, p, seq)
	w.mu.Unlock()
	w.next()
	return pl
}

// enter waits until the turn is chosen and admit has taken its job slot; it returns
// ctx's cause if ctx ends first.
func (pl *place) enter(ctx context.Context, admit func() (bool, error)) error {
	w := pl.w
	for {
		select {
		case <-pl.ready:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		ok, err := admit()
		if err == nil && !ok {
			// The token's slots are all taken: try again in a second, or as soon as one
			// of the connection's own turns leaves the queue, whichever turn is best then.
			select {
			case <-time.After(time.Second):
			case <-w.freed:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		}
		w.mu.Lock()
		w.admitting, pl.chosen = false, false
		if ok {
			pl.in = true
			w.queued++
		} else if err == nil {
			pl.ready = make(chan struct{})
			w.waiting.Push(pl, pl.p, pl.seq)
		}
		w.mu.Unlock()
		w.next()
		if ok || err != nil {
			return err
		}
	}
}

// leave gives the place up, whether the turn's job has ended or the turn never got
// into the queue.
func (pl *place) leave() {
	w := pl.w
	w.mu.Lock()
	switch {
	case pl.in:
		w.queued--
		select {
		case w.freed <- struct{}{}:
		default:
		}
	case pl.chosen:
		w.admitting = false
	default:
		w.waiting.Remove(pl)
	}
	w.mu.Unlock()
	w.next()
}

// next chooses the best waiting turn to take a slot, when there is room.
func (w *window) next() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.admitting || w.queued >= w.limit || w.waiting.Len() == 0 {
		return
	}
	pl := w.waiting.Pop()
	pl.chosen, w.admitting = true, true
	close(pl.ready)
}

// queryRequest is what of a websocket query q a job carries (see queueBackend), as the
// position request it amounts to.
func queryRequest(q *katago.Query) *analysis.PositionRequest {
	req := &analysis.PositionRequest{IncludeOwnership: q.IncludeOwnership, SearchOptions: analysis.OptionsOf(q)}
	if q.MaxVisits != nil {
		req.MaxVisits = *q.MaxVisits
	}
	for k, v := range q.OverrideSettings {
		switch {
		case k == "maxTime":
			if t, ok := v.(float64); ok && t > 0 {
				req.MaxTime = t
			}
		case analysis.JobSettings[k]:
			if req.OverrideSettings == nil {
				req.OverrideSettings = map[string]any{}
			}
			req.OverrideSettings[k] = v
		}
	}
	if r := q.ReportDuringSearchEvery; r != nil && *r > 0 {
		req.ReportEvery = max(*r, 0.05)
	}
	return req
}

// turnResponse is a stored turn in the shape of KataGo's response (Black's view).
func turnResponse(t *game.Turn, partial bool) *katago.Response {
	turn := t.Turn
	root := t.Root
	if root == nil {
		root = &katago.RootInfo{Winrate: t.Winrate, ScoreLead: t.ScoreLead, Visits: t.Visits,
			CurrentPlayer: t.Player}
	}
	return &katago.Response{
		TurnNumber:     &turn,
		IsDuringSearch: &partial,
		MoveInfos:      t.Candidates,
		RootInfo:       root,
		Ownership:      t.Ownership,
		OwnershipStdev: t.OwnershipStdev,
		Policy:         t.Policy,
		HumanPolicy:    t.HumanPolicy,
	}
}

// unsupportedFields names the fields of q that a queue job does not carry.
func unsupportedFields(q *katago.Query) []string {
	var out []string
	add := func(set bool, name string) {
		if set {
			out = append(out, name)
		}
	}
	add(q.RootPolicyTemperature != nil, "rootPolicyTemperature")
	add(q.RootFpuReductionMax != nil, "rootFpuReductionMax")
	add(q.AnalysisPVLen != nil, "analysisPVLen")
	add(q.WhiteHandicapBonus != "", "whiteHandicapBonus")
	add(q.FirstReportDuringSearchAfter != nil, "firstReportDuringSearchAfter")
	for k, v := range q.OverrideSettings {
		switch {
		case analysis.JobSettings[k]:
		case k == "reportAnalysisWinratesAs":
			if s, _ := v.(string); !strings.EqualFold(s, "BLACK") {
				out = append(out, "overrideSettings."+k)
			}
		default:
			out = append(out, "overrideSettings."+k)
		}
	}
	for k := range q.Extra {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// warnOnce attaches to q a warning for the fields not yet named on this connection.
func (b *queueBackend) warnOnce(q *query, fields []string) {
	b.mu.Lock()
	var fresh []string
	for _, f := range fields {
		if !b.warned[f] {
			b.warned[f] = true
			fresh = append(fresh, f)
		}
	}
	b.mu.Unlock()
	if len(fresh) > 0 {
		q.warn(strings.Join(fresh, ","),
			"this server runs queries on remote workers, which do not apply "+strings.Join(fresh, ", "))
	}
}

func (b *queueBackend) workers(ctx context.Context) ([]queue.WorkerInfo, error) {
	ws, err := b.a.q.Workers(ctx)
	if err != nil {
		return nil, err
	}
	if len(ws) == 0 {
		return nil, errors.New("api: no worker is registered")
	}
	return ws, nil
}

func (b *queueBackend) version(ctx context.Context) (katago.Version, error) {
	ws, err := b.workers(ctx)
	if err != nil {
		return katago.Version{}, err
	}
	for _, w := range ws {
		if w.KataGoVersion != "" {
			return katago.Version{Version: w.KataGoVersion, GitHash: "<omitted>"}, nil
		}
	}
	return katago.Version{}, errors.New("api: no worker reported its KataGo version")
}

func (b *queueBackend) models(ctx context.Context) ([]katago.ModelInfo, error) {
	ws, err := b.workers(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, w := range ws {
		if w.Model != "" && !slices.Contains(names, w.Model) {
			names = append(names, w.Model)
		}
	}
	ms := make([]katago.ModelInfo, len(names))
	for i, n := range names {
		ms[i] = katago.ModelInfo{Name: n}
	}
	return ms, nil
}
