package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/gin-gonic/gin"

	"github.com/tesuji/tesuji/engine"
	"github.com/tesuji/tesuji/internal/prio"
	"github.com/tesuji/tesuji/katago"
)

// The KataGo-protocol websocket, GET /api/v1/katago: KaTrain's remote engine (its
// remote_url setting, KaTrain 1.18 and later) and any other client of KataGo's JSON
// analysis engine. Each websocket text message holds one or more query lines; each
// response line goes back in a message of its own, in KataGo's format, under the client's
// id. The exchange follows katrain/core/remote_engine.py:
//
//   - queries: every field of KataGo's protocol; turns are searched as KataGo would, with
//     partial reports (isDuringSearch true) when reportDuringSearchEvery is set and one
//     final result per turn.
//   - terminate (with terminateId and optional turnNumbers) and terminate_all: turns not
//     started answer noResults before the acknowledgement, running ones end with a final
//     result after it, as KataGo does. query_version and query_models answer as KataGo.
//   - priority and priorities order the connection's queries: at most SocketQueries run
//     at once and the rest wait, highest priority first, then oldest; the priority also
//     goes to KataGo, above whole-game reviews.
//   - warnings: KaTrain takes a line without analysis data for a result and loses the
//     query, so a warning travels in the next result line of its query ("warning" and
//     "field" beside the analysis), never alone.
//   - limits: the token is checked when the connection opens (KaTrain can only put it in
//     the URL: ws://host/api/v1/katago?token=...); each turn is a position of the hourly
//     quota and holds one of the token's job slots while it is searched; maxVisits over
//     MaxVisits is capped with a warning, except for pondering (reportDuringSearchEvery
//     set, as KaTrain ponders with ten million visits), which runs until terminated or
//     for PonderTime.
//   - KaTrain reconnects after a dropped connection and sends its unanswered queries
//     again; a closed connection terminates all of its searches at once.
//
// Where the queries go: with local engines (the embedded default, and any server started
// with engines) straight to them, because only KataGo itself serves every field KaTrain
// sends (policy, avoidMoves, per-move ownership, overrideSettings) and a terminate reaches
// it at once. Without local engines (an API-only server of a Redis deployment) each turn
// becomes an interactive job in the queue for the workers; what a worker's job cannot
// carry is named in a warning once per connection (see katago_queue.go).

// katagoBackend runs single-turn queries for the websocket.
type katagoBackend interface {
	// analyze runs t.query, which has exactly one turn, calling fn for each response line.
	// Errors the client should see are *engine.QueryError.
	analyze(ctx context.Context, s *session, t *task, fn func(*katago.Response) error) error
	version(ctx context.Context) (katago.Version, error)
	models(ctx context.Context) ([]katago.ModelInfo, error)
}

// KataGo priorities of websocket queries: above reviews (0), with the client's own
// priority added so its order holds.
const (
	socketPriorityBase = 10
	socketPriorityMax  = 1 << 40
	socketLease        = 30 * time.Second
	maxWaitingQueries  = 10000
	unknownActionText  = "'action' field must be 'query_version' or 'query_models' or 'clear_cache' or 'terminate' or 'terminate_all'"
)

var (
	errTerminated     = errors.New("api: query terminated by the client")
	errSocketClosed   = errors.New("api: websocket closed")
	errSocketShutdown = errors.New("api: server shutting down")
)

func (a *API) katagoSocket(c *gin.Context) {
	if !a.beginStream() {
		a.writeError(c, errShuttingDown)
		return
	}
	defer a.streams.Done()
	c.Set(streamKey, true)
	if !strings.EqualFold(c.GetHeader("Upgrade"), "websocket") {
		a.writeError(c, &Error{Status: http.StatusUpgradeRequired, Code: "websocket_required",
			Message: "this endpoint speaks KataGo's analysis protocol over a websocket (ws://host/api/v1/katago?token=...)"})
		return
	}
	release, ok := a.openStream(c)
	if !ok {
		return
	}
	defer release()
	// The connection outlives the server's timeouts; the websocket has its own pings.
	longRequest(c)
	// Tokens are not cookies: a page of another origin cannot use a token it does not
	// have, so the library's origin check adds nothing with tokens, and it would refuse
	// KaTrain behind a proxy that rewrites the host. Open mode on loopback has its own
	// check, guardOpenMode.
	conn, err := websocket.Accept(c.Writer, c.Request, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		a.reqLog(c).Info("websocket handshake failed", "err", err)
		return
	}
	a.metrics.sockets.Inc()
	defer a.metrics.sockets.Dec()
	conn.SetReadLimit(a.cfg.MaxUploadBytes)
	s := newSession(a, conn, ownerOf(c), c.GetString(requestIDKey), a.reqLog(c), a.katagoBackend())
	s.run(c.Request.Context())
}

// session is one websocket connection.
type session struct {
	a       *API
	conn    *websocket.Conn
	owner   string
	id      string
	log     *slog.Logger
	backend katagoBackend

	ctx    context.Context
	cancel context.CancelCauseFunc
	out    chan []byte
	wake   chan struct{}
	tasks  sync.WaitGroup

	mu      sync.Mutex
	seq     int64
	waiting prio.Queue[*task] // highest priority first, then oldest
	running map[*task]bool
	warned  map[string]bool // fields already named in a warning on this connection
}

// query is one analysis query of the client; its turns run as tasks.
type query struct {
	id string

	mu       sync.Mutex
	failed   bool     // an error line was sent; later errors of its turns are not
	warnings []string // "field\x00text" pending for the next result line
	seen     map[string]bool
}

func (q *query) warn(field, text string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	k := field + "\x00" + text
	if q.seen[k] {
		return
	}
	if q.seen == nil {
		q.seen = map[string]bool{}
	}
	q.seen[k] = true
	q.warnings = append(q.warnings, k)
}

// attachWarnings moves the pending warnings into r, a result line.
func (q *query) attachWarnings(r *katago.Response) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.warnings) == 0 {
		return
	}
	var fields, texts []string
	for _, w := range q.warnings {
		f, t, _ := bytes.Cut([]byte(w), []byte{0})
		if len(f) > 0 {
			fields = append(fields, string(f))
		}
		texts = append(texts, string(t))
	}
	q.warnings = nil
	r.Field = joinDistinct(fields, ",")
	r.Warning = joinDistinct(texts, "; ")
}

func joinDistinct(xs []string, sep string) string {
	var b bytes.Buffer
	seen := map[string]bool{}
	for _, x := range xs {
		if seen[x] {
			continue
		}
		seen[x] = true
		if b.Len() > 0 {
			b.WriteString(sep)
		}
		b.WriteString(x)
	}
	return b.String()
}

// task is one turn of a query.
type task struct {
	q        *query
	query    katago.Query // the single-turn query sent on
	turn     int
	priority int64
	ponder   bool // an open-ended search: more visits than the cap, with reports
	seq      int64
	key      string // the entry among the owner's jobs in progress

	ctx    context.Context // ends when the client terminates the task or leaves
	cancel context.CancelCauseFunc
	mu     sync.Mutex
	last   *katago.Response // the latest partial report
	final  bool
}

func newSession(a *API, conn *websocket.Conn, owner, id string, log *slog.Logger, b katagoBackend) *session {
	return &session{
		a: a, conn: conn, owner: owner, id: id, log: log, backend: b,
		out:     make(chan []byte, 256),
		wake:    make(chan struct{}, 1),
		running: map[*task]bool{},
		warned:  map[string]bool{},
	}
}

// run serves the connection until the client leaves or the server shuts down, then
// terminates every search of the connection and waits for them.
func (s *session) run(reqCtx context.Context) {
	s.ctx, s.cancel = context.WithCancelCause(context.WithoutCancel(reqCtx))
	s.log.Info("katago websocket opened")
	var bg sync.WaitGroup
	bg.Add(3)
	go func() { defer bg.Done(); s.writer() }()
	go func() { defer bg.Done(); s.dispatcher() }()
	go func() {
		defer bg.Done()
		select {
		case <-s.a.closing:
			// The searches end at once; the client hears why in the close frame, and
			// KaTrain reconnects to whichever server comes back.
			s.cancel(errSocketShutdown)
			_ = s.conn.Close(websocket.StatusGoingAway, "server shutting down")
		case <-s.ctx.Done():
		}
	}()
	s.reader()
	s.cancel(errSocketClosed)
	s.tasks.Wait()
	bg.Wait()
	_ = s.conn.CloseNow()
	s.log.Info("katago websocket closed", "cause", context.Cause(s.ctx).Error())
}

// reader handles the client's messages until the connection closes. Its reads have no
// context of their own: a cancelled context would make the library drop the connection
// before the close frame that tells the client why.
func (s *session) reader() {
	for {
		typ, data, err := s.conn.Read(context.Background())
		if err != nil {
			var ce websocket.CloseError
			if !errors.As(err, &ce) && s.ctx.Err() == nil {
				s.log.Debug("websocket read ended", "err", err)
			}
			return
		}
		if typ != websocket.MessageText && typ != websocket.MessageBinary {
			continue
		}
		for line := range bytes.SplitSeq(data, []byte{'\n'}) {
			line = bytes.TrimSpace(line)
			if len(line) > 0 {
				s.handle(line)
			}
		}
	}
}

// writer sends response lines, one per message, and pings the client every KeepAlive so
// that proxies keep a quiet connection open and a vanished client is noticed.
func (s *session) writer() {
	ping := time.NewTicker(s.a.cfg.KeepAlive)
	defer ping.Stop()
	for {
		select {
		case b := <-s.out:
			// Not bound to s.ctx, for the reason reader gives; a client that takes no
			// line for 30s is gone.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			err := s.conn.Write(ctx, websocket.MessageText, b)
			cancel()
			if err != nil {
				s.cancel(errSocketClosed)
				_ = s.conn.CloseNow()
				return
			}
		case <-ping.C:
			ctx, cancel := context.WithTimeout(context.Background(), s.a.cfg.KeepAlive)
			err := s.conn.Ping(ctx)
			cancel()
			if err != nil && s.ctx.Err() == nil {
				s.log.Info("websocket ping failed", "err", err)
				s.cancel(errSocketClosed)
				_ = s.conn.CloseNow()
				return
			}
		case <-s.ctx.Done():
			return
		}
	}
}

// send queues one response line for the client.
func (s *session) send(r *katago.Response) {
	b, err := json.Marshal(r)
	if err != nil {
		s.log.Error("encode katago response", "err", err)
		return
	}
	select {
	case s.out <- b:
	case <-s.ctx.Done():
	}
}

func (s *session) sendError(id, field, msg string) {
	s.send(&katago.Response{ID: id, Field: field, Error: msg})
}

// handle answers one query line.
func (s *session) handle(line []byte) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(line, &raw); err != nil {
		s.send(&katago.Response{Error: "could not parse input line as json request: " + err.Error()})
		return
	}
	var id string
	if err := json.Unmarshal(raw["id"], &id); err != nil || raw["id"] == nil {
		s.send(&katago.Response{Error: `Request must have a string "id" field`})
		return
	}
	if act, ok := raw["action"]; ok {
		var action string
		if err := json.Unmarshal(act, &action); err != nil {
			s.send(&katago.Response{Error: unknownActionText})
			return
		}
		s.action(id, action, raw)
		return
	}
	var q katago.Query
	if err := json.Unmarshal(line, &q); err != nil {
		s.sendError(id, "", "could not parse query: "+err.Error())
		return
	}
	s.submit(id, &q)
}

func (s *session) action(id, action string, raw map[string]json.RawMessage) {
	ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
	defer cancel()
	switch action {
	case "query_version":
		v, err := s.backend.version(ctx)
		if err != nil {
			s.sendError(id, "action", "the engine's version is not known yet: "+safeMessage(err))
			return
		}
		s.send(&katago.Response{ID: id, Action: action, Version: v.Version, GitHash: v.GitHash})
	case "query_models":
		ms, err := s.backend.models(ctx)
		if err != nil {
			s.sendError(id, "action", "the engine's models are not known yet: "+safeMessage(err))
			return
		}
		s.send(&katago.Response{ID: id, Action: action, Models: ms})
	case "clear_cache":
		s.sendError(id, "action", "clear_cache is not available: the engines are shared with other clients")
	case "terminate", "terminate_all":
		var target string
		if action == "terminate" {
			if err := json.Unmarshal(raw["terminateId"], &target); err != nil || raw["terminateId"] == nil {
				s.sendError(id, "terminateId", `Requests for a terminate action must have a string "terminateId" field`)
				return
			}
		}
		var turns []int
		if v, ok := raw["turnNumbers"]; ok {
			if err := json.Unmarshal(v, &turns); err != nil {
				s.sendError(id, "turnNumbers", "If provided, must be an array of integers indicating turns to terminate")
				return
			}
		}
		s.terminate(id, action, target, turns)
	default:
		s.send(&katago.Response{Error: unknownActionText})
	}
}

// terminate ends the matching tasks as KataGo does: those not started answer noResults
// before the acknowledgement, running ones get their final result after it.
func (s *session) terminate(id, action, target string, turns []int) {
	match := func(t *task) bool {
		if action == "terminate" && t.q.id != target {
			return false
		}
		if turns == nil {
			return true
		}
		for _, n := range turns {
			if n == t.turn {
				return true
			}
		}
		return false
	}
	var stop []*task
	s.mu.Lock()
	s.waiting.DeleteFunc(func(t *task) bool {
		if match(t) {
			s.send(noResults(t.q.id, t.turn))
			return true
		}
		return false
	})
	for t := range s.running {
		if match(t) {
			stop = append(stop, t)
		}
	}
	s.mu.Unlock()
	s.send(&katago.Response{ID: id, Action: action, TerminateID: target, TurnNumbers: turns})
	for _, t := range stop {
		t.cancel(errTerminated)
	}
}

func noResults(id string, turn int) *katago.Response {
	f := false
	return &katago.Response{ID: id, TurnNumber: &turn, IsDuringSearch: &f, NoResults: true}
}

// submit checks a query against the limits and queues its turns.
func (s *session) submit(id string, in *katago.Query) {
	cfg := &s.a.cfg
	if len(in.Moves) > cfg.MaxMoves {
		s.sendError(id, "moves", fmt.Sprintf("the position has %d moves; this server's limit is %d", len(in.Moves), cfg.MaxMoves))
		return
	}
	q := &query{id: id}
	visits := cfg.DefaultVisits
	if in.MaxVisits != nil {
		visits = *in.MaxVisits
	}
	// A query that reports during its search and asks for more than the cap is
	// pondering: it runs until the client terminates it (or for PonderTime).
	ponder := visits > cfg.MaxVisits && in.ReportDuringSearchEvery != nil && *in.ReportDuringSearchEvery > 0
	if visits > cfg.MaxVisits && !ponder {
		q.warn("maxVisits", fmt.Sprintf("maxVisits %d capped at %d, this server's limit", visits, cfg.MaxVisits))
		visits = cfg.MaxVisits
	}
	if t, _ := in.OverrideSettings["maxTime"].(float64); ponder && s.a.ponderTime(t) != t {
		if in.OverrideSettings == nil {
			in.OverrideSettings = map[string]any{}
		}
		in.OverrideSettings["maxTime"] = s.a.ponderTime(t)
	}
	if in.OverrideSettings != nil {
		settings := make(map[string]any, len(in.OverrideSettings))
		for k, v := range in.OverrideSettings {
			if n, ok := v.(float64); ok && !ponder && (k == "maxVisits" || k == "maxPlayouts") && n > float64(cfg.MaxVisits) {
				q.warn("overrideSettings", fmt.Sprintf("%s %g capped at %d, this server's limit", k, n, cfg.MaxVisits))
				v = float64(cfg.MaxVisits)
			}
			settings[k] = v
		}
		in.OverrideSettings = settings
	}
	in.MaxVisits = &visits
	turns := in.Turns()
	s.mu.Lock()
	if s.waiting.Len()+len(turns) > maxWaitingQueries {
		s.mu.Unlock()
		s.sendError(id, "", fmt.Sprintf("too many queries are waiting on this connection (limit %d); terminate some first", maxWaitingQueries))
		return
	}
	defer s.mu.Unlock()
	for _, turn := range turns {
		p := int64(0)
		if in.Priority != nil {
			p = int64(*in.Priority)
		}
		if len(in.Priorities) == len(in.AnalyzeTurns) && len(in.AnalyzeTurns) > 0 {
			// priorities pairs with analyzeTurns as sent, duplicates included.
			for j, at := range in.AnalyzeTurns {
				if at == turn {
					p = int64(in.Priorities[j])
					break
				}
			}
		}
		one := *in
		one.AnalyzeTurns = []int{turn}
		one.Priorities = nil
		kp := int(socketPriorityBase + min(max(p, 1-socketPriorityBase), socketPriorityMax))
		one.Priority = &kp
		s.seq++
		t := &task{q: q, query: one, turn: turn, priority: p, ponder: ponder, seq: s.seq,
			key: "ws:" + s.id + ":" + strconv.FormatInt(s.seq, 10)}
		s.waiting.Push(t, t.priority, t.seq)
	}
	s.poke()
}

func (s *session) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// dispatcher starts waiting tasks, highest priority first, while the connection has
// fewer than SocketQueries running and the token has a free job slot; it renews the
// running tasks' slots.
func (s *session) dispatcher() {
	retry := time.NewTicker(time.Second)
	defer retry.Stop()
	lastRenew := time.Now()
	for {
		s.startReady()
		if time.Since(lastRenew) > socketLease/3 {
			s.renew()
			lastRenew = time.Now()
		}
		select {
		case <-s.wake:
		case <-retry.C:
		case <-s.ctx.Done():
			return
		}
	}
}

func (s *session) startReady() {
	for s.ctx.Err() == nil {
		s.mu.Lock()
		if s.waiting.Len() == 0 || len(s.running) >= s.a.cfg.SocketQueries {
			s.mu.Unlock()
			return
		}
		// The task counts as running from here, so a terminate finds it while its slot
		// is being taken.
		t := s.waiting.Pop()
		t.ctx, t.cancel = context.WithCancelCause(s.ctx)
		s.running[t] = true
		s.mu.Unlock()
		ok, err := s.a.tryAdmit(s.ctx, s.owner, t.key, time.Now().Add(socketLease))
		if err != nil {
			s.drop(t)
			s.fail(t.q, "", "the server cannot take the query now: "+safeMessage(err))
			continue
		}
		if !ok {
			// The token's slots are all taken: wait for one of ours to end, or retry soon.
			s.mu.Lock()
			delete(s.running, t)
			terminated := t.ctx.Err() != nil
			if !terminated {
				s.waiting.Push(t, t.priority, t.seq)
			}
			s.mu.Unlock()
			t.cancel(nil)
			if terminated {
				s.send(noResults(t.q.id, t.turn))
			}
			return
		}
		refund, err := s.a.chargeQuota(s.ctx, s.log, s.owner, 1)
		if err != nil {
			s.a.releaseJob(s.ctx, s.log, s.owner, t.key)
			s.drop(t)
			s.fail(t.q, "", safeMessage(err))
			continue
		}
		s.start(t, refund)
	}
}

// drop forgets a task that will not run.
func (s *session) drop(t *task) {
	s.mu.Lock()
	delete(s.running, t)
	s.mu.Unlock()
	t.cancel(nil)
}

// renew extends the job-slot leases of the running tasks.
func (s *session) renew() {
	if s.a.cfg.JobsPerToken <= 0 {
		return
	}
	s.mu.Lock()
	keys := make([]string, 0, len(s.running))
	for t := range s.running {
		keys = append(keys, t.key)
	}
	s.mu.Unlock()
	for _, k := range keys {
		if _, err := s.a.limits.Admit(s.ctx, s.owner, k, time.Now().Add(socketLease), 0, time.Now()); err != nil && s.ctx.Err() == nil {
			s.log.Warn("renew websocket job slot", "err", err)
		}
	}
}

func (s *session) start(t *task, refund func()) {
	s.tasks.Add(1)
	go func() {
		defer s.tasks.Done()
		defer t.cancel(nil)
		s.runTask(t.ctx, t, refund)
		s.mu.Lock()
		delete(s.running, t)
		s.mu.Unlock()
		s.a.releaseJob(context.Background(), s.log, s.owner, t.key)
		s.poke()
	}()
}

func (s *session) runTask(ctx context.Context, t *task, refund func()) {
	for attempt := 0; ; attempt++ {
		err := s.backend.analyze(ctx, s, t, func(r *katago.Response) error { return s.deliver(t, r) })
		cause := context.Cause(ctx)
		var qe *engine.QueryError
		switch {
		case err == nil:
			return
		case errors.Is(cause, errTerminated):
			s.terminated(t)
			return
		case s.ctx.Err() != nil:
			return
		case errors.As(err, &qe):
			refund()
			s.fail(t.q, qe.Field, qe.Message)
			return
		case errors.Is(err, engine.ErrTransient) && attempt < 2 && !t.hasFinal():
			s.log.Warn("katago query failed; trying again", "query_id", t.q.id, "turn", t.turn, "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Duration(attempt+1) * 200 * time.Millisecond):
			}
			continue
		default:
			s.log.Error("katago query failed", "query_id", t.q.id, "turn", t.turn, "err", err)
			s.fail(t.q, "", "the analysis failed on the server; try again")
			return
		}
	}
}

// fail sends a query's error line once, however many of its turns fail.
func (s *session) fail(q *query, field, msg string) {
	q.mu.Lock()
	first := !q.failed
	q.failed = true
	q.mu.Unlock()
	if first {
		s.sendError(q.id, field, msg)
	}
}

// deliver forwards one response line of a task to the client under the client's id.
func (s *session) deliver(t *task, r *katago.Response) error {
	if r.Error != "" {
		// Analyze reports errors as its return value; a line like this would be KataGo's.
		return nil
	}
	if r.Warning != "" && r.RootInfo == nil && !r.NoResults {
		t.q.warn(r.Field, r.Warning)
		return nil
	}
	out := *r
	out.ID = t.q.id
	out.Warning, out.Field = "", ""
	final := r.IsDuringSearch == nil || !*r.IsDuringSearch
	t.mu.Lock()
	if final {
		t.final = true
	} else {
		last := out
		t.last = &last
	}
	t.mu.Unlock()
	t.q.attachWarnings(&out)
	s.send(&out)
	if final && !r.NoResults {
		if _, direct := s.backend.(directBackend); direct {
			s.a.metrics.socketFinals.Add(1)
		}
	}
	return nil
}

func (t *task) hasFinal() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.final
}

// terminated sends the final result of a task the client terminated while it ran: its
// latest partial report as final, as KataGo's own final is the search so far; noResults
// when no report came.
func (s *session) terminated(t *task) {
	t.mu.Lock()
	if t.final {
		t.mu.Unlock()
		return
	}
	t.final = true
	last := t.last
	t.mu.Unlock()
	if last == nil {
		s.send(noResults(t.q.id, t.turn))
		return
	}
	f := *last
	no := false
	f.IsDuringSearch = &no
	t.q.attachWarnings(&f)
	s.send(&f)
}

// safeMessage is the message of err that a client may see.
func safeMessage(err error) string {
	return classify(err).Message
}

// directBackend sends queries to this process's engines.
type directBackend struct{ a *API }

// pick returns the ready engine with the fewest queries in flight, among the engines
// with the latency settings (engine.WorkInteractive) when one of them is ready: a review
// engine searches each position with one thread, and its reviews would hold it.
func (b directBackend) pick() Engine {
	var best Engine
	bestInteractive := false
	for _, e := range b.a.cfg.Engines {
		if !e.Ready() {
			continue
		}
		w, ok := e.(interface{ Work() engine.Work })
		interactive := ok && w.Work() == engine.WorkInteractive
		if best == nil || (interactive && !bestInteractive) ||
			(interactive == bestInteractive && e.InFlight() < best.InFlight()) {
			best, bestInteractive = e, interactive
		}
	}
	if best == nil {
		// None is ready: Analyze waits for the first one's restart.
		best = b.a.cfg.Engines[0]
	}
	return best
}

func (b directBackend) analyze(ctx context.Context, _ *session, t *task, fn func(*katago.Response) error) error {
	return b.pick().Analyze(ctx, &t.query, fn)
}

func (b directBackend) version(ctx context.Context) (katago.Version, error) {
	return b.pick().Version(ctx)
}

func (b directBackend) models(ctx context.Context) ([]katago.ModelInfo, error) {
	return b.pick().Models(ctx)
}

// katagoBackend is where KataGo-protocol requests go: the local engines when there are
// any, else the queue's workers.
func (a *API) katagoBackend() katagoBackend {
	if len(a.cfg.Engines) > 0 {
		return directBackend{a: a}
	}
	return queueBackend{a: a}
}

// listModels answers GET /api/v1/models: the networks that analyze, as KataGo's
// query_models describes them (from the workers' registry, by name alone, when the
// server has no engines of its own).
func (a *API) listModels(c *gin.Context) {
	ms, err := a.katagoBackend().models(c.Request.Context())
	if err != nil {
		a.writeError(c, err)
		return
	}
	if ms == nil {
		ms = []katago.ModelInfo{}
	}
	c.JSON(http.StatusOK, gin.H{"models": ms})
}
