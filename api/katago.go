package api

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/gin-gonic/gin"

	"github.com/tesuji/tesuji/engine"
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
//     final result per turn. A query KataGo would refuse as a whole (a turn outside its
//     moves, priorities that do not pair with analyzeTurns, ...) answers one error line
//     with KataGo's field and message, and none of its turns runs.
//   - terminate (with terminateId and optional turnNumbers) and terminate_all: a turn
//     that has reported ends after the acknowledgement with its latest report as the
//     final result, KataGo's search so far. One without a report yet is terminated in
//     KataGo first, on the engine path: a turn KataGo has not started answers noResults
//     before the acknowledgement, and a search under way ends with KataGo's final result
//     after it. Through the queue, such a turn answers noResults before the
//     acknowledgement. query_version and query_models answer as KataGo.
//   - priority and priorities order the connection's turns, highest first, then oldest,
//     and go to KataGo above whole-game reviews, level with single positions at 0.
//   - warnings: KaTrain takes a line without analysis data for a result and loses the
//     query, so a warning travels in the next result line of its query ("warning" and
//     "field" beside the analysis), never alone.
//   - limits: the token is checked when the connection opens (KaTrain can only put it in
//     the URL: ws://host/api/v1/katago?token=...), and the connection is one of its
//     streams; each turn is a position of the hourly quota, charged with its query as it
//     arrives (a query that does not fit answers one error line and runs no turn) and
//     given back when the turn analyzes nothing (refused, failed, or terminated before
//     its search began); at most 10,000 turns of a connection are in progress, and a
//     query beyond that answers an error line. maxVisits
//     over MaxVisits is capped with a warning, except for pondering
//     (reportDuringSearchEvery set, as KaTrain ponders with ten million visits), which runs
//     until terminated or for PonderTime.
//   - KaTrain reconnects after a dropped connection and sends its unanswered queries
//     again; a closed connection terminates all of its searches at once.
//
// Where the turns go: with local engines (the embedded default, and any server started
// with engines) each turn goes to one of them as soon as it arrives, because only KataGo
// itself serves every field KaTrain sends (policy, avoidMoves, per-move ownership,
// overrideSettings) and a terminate reaches it at once. KataGo orders the turns waiting
// for a search thread by their priority, so the connection keeps no queue of its own.
// Without local engines (an API-only server of a Redis deployment) each turn becomes an
// interactive job in the queue for the workers; the queue runs those first come, first
// served, so the connection holds its turns back in a window (katago_queue.go) that
// queues them by priority, SocketQueries at once, each in one of the token's job slots.
// What a worker's job cannot carry is named in a warning once per connection.

// katagoBackend runs single-turn queries for one websocket connection.
type katagoBackend interface {
	// arrived is told of each turn as it arrives, before analyze runs it.
	arrived(t *task)
	// analyze runs t.query, which has exactly one turn, calling fn for each response line.
	// Errors the client should see are *engine.QueryError or *Error.
	analyze(ctx context.Context, s *session, t *task, fn func(*katago.Response) error) error
	// stop ends t's search while analyze goes on: ok when the backend could tell whether
	// the search had begun (searching: its final result is still to come), and then
	// every line the turn had before is delivered or on its way.
	stop(ctx context.Context, t *task) (searching, ok bool)
	version(ctx context.Context) (katago.Version, error)
	models(ctx context.Context) ([]katago.ModelInfo, error)
}

// KataGo priorities of websocket queries: socketPriorityBase plus the client's own
// priority, clamped to ±socketPriorityMax, so that client priorities keep their order and
// every turn stays above reviews (0) and within KataGo's ±2^62. socketPriorityBase is the
// worker's priority of interactive jobs (worker's katagoPriorityInteractive): a turn at the
// client's priority 0 is level with a single position.
const (
	socketPriorityBase = 1 << 41
	socketPriorityMax  = 1 << 40
	maxSocketTurns     = 10000 // turns in progress on one connection
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
	s := newSession(a, conn, ownerOf(c), a.reqLog(c), a.katagoBackend())
	s.run(c.Request.Context())
}

// session is one websocket connection.
type session struct {
	a       *API
	conn    *websocket.Conn
	owner   string
	log     *slog.Logger
	backend katagoBackend

	ctx    context.Context
	cancel context.CancelCauseFunc
	out    chan []byte
	tasks  sync.WaitGroup

	mu      sync.Mutex
	seq     int64
	running map[*task]bool // turns in progress
}

// query is one analysis query of the client; its turns run as tasks.
type query struct {
	id     string
	charge *quotaCharge // one position per turn; a turn that analyzed nothing gives its own back

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

// task is one turn of a query, in progress from its query's arrival to its final result.
// While a terminate asks the backend whether its search had begun, its lines are held,
// to go out in KataGo's order around the acknowledgement.
type task struct {
	q        *query
	query    katago.Query // the single-turn query sent on
	turn     int
	priority int64 // the client's
	ponder   bool  // an open-ended search: more visits than the cap, with reports
	seq      int64
	place    *place // in the queue backend's window

	ctx      context.Context // ends when the client terminates the task or leaves
	cancel   context.CancelCauseFunc
	mu       sync.Mutex
	last     *katago.Response // the latest partial report
	final    bool             // the turn's last line went out: a final result or an error
	analyzed bool             // a result line (partial or final, not noResults) went out
	refunded bool             // the turn's position went back to the quota
	holding  bool             // lines go to held, not to the client
	held     []*katago.Response
	stop     *engine.Stop  // stops the search in KataGo (engine path), once it is sent
	done     chan struct{} // closed when the task has ended
}

// settle gives the turn's position back to the quota when it analyzed nothing (failed,
// refused, or terminated before its search began), once no more lines of it can go out.
func (t *task) settle() {
	t.mu.Lock()
	refund := !t.analyzed && !t.refunded
	t.refunded = true
	t.mu.Unlock()
	if refund {
		t.q.charge.refund(1)
	}
}

// hold starts holding t's lines unless it has reported or ended; it reports whether it
// did.
func (t *task) hold() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.final || t.last != nil {
		return false
	}
	t.holding = true
	return true
}

// release sends t's held lines and stops holding them.
func (s *session) release(t *task) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, r := range t.held {
		s.send(r)
	}
	t.held, t.holding = nil, false
}

// end marks t's last line as sent and returns its latest partial report; false when its
// last line went out already.
func (t *task) end() (*katago.Response, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.final {
		return nil, false
	}
	t.final = true
	return t.last, true
}

func newSession(a *API, conn *websocket.Conn, owner string, log *slog.Logger, b katagoBackend) *session {
	return &session{
		a: a, conn: conn, owner: owner, log: log, backend: b,
		out:     make(chan []byte, 256),
		running: map[*task]bool{},
	}
}

// run serves the connection until the client leaves or the server shuts down, then
// terminates every search of the connection and waits for them.
func (s *session) run(reqCtx context.Context) {
	s.ctx, s.cancel = context.WithCancelCause(context.WithoutCancel(reqCtx))
	s.log.Info("katago websocket opened")
	var bg sync.WaitGroup
	bg.Add(2)
	go func() { defer bg.Done(); s.writer() }()
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

// send queues one response line about the client's request r.ID, written even when it is
// empty, as KataGo writes it.
func (s *session) send(r *katago.Response) {
	s.write(requestLine{ID: r.ID, Response: r})
}

// requestLine is a response line with its id always written.
type requestLine struct {
	ID string `json:"id"`
	*katago.Response
}

// sendAnonymous queues KataGo's error line for an input line it cannot tie to a request:
// one without an id.
func (s *session) sendAnonymous(msg string) {
	s.write(&katago.Response{Error: msg})
}

// write queues one response line for the client.
func (s *session) write(r any) {
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
		s.sendAnonymous("could not parse input line as json request: " + err.Error())
		return
	}
	id, ok := jsonString(raw["id"])
	if !ok {
		s.sendAnonymous(`Request must have a string "id" field`)
		return
	}
	if action, ok := jsonString(raw["action"]); ok {
		if action == "query_version" || action == "query_models" {
			// These wait for an engine, which may be restarting, or for the queue: the
			// lines after them (a terminate above all) must not wait with them, as KataGo
			// answers each line as it reads it.
			s.tasks.Go(func() { s.action(id, action, raw) })
			return
		}
		s.action(id, action, raw)
		return
	}
	if _, ok := raw["action"]; ok {
		// KataGo takes a line whose action is no string for a query, the action ignored.
		delete(raw, "action")
		line, _ = json.Marshal(raw)
	}
	var q katago.Query
	if err := json.Unmarshal(line, &q); err != nil {
		field, msg := parseError(err)
		s.sendError(id, field, msg)
		return
	}
	if field, msg := checkQuery(raw, &q); msg != "" {
		s.sendError(id, field, msg)
		return
	}
	s.submit(id, &q)
}

// action answers an action line. query_version and query_models run beside the reader
// (handle) and wait for an engine that can answer as long as the connection lasts, as a
// query's turns do while an engine restarts; a terminate waits at most 30 s for the
// engines to stop what it ends.
func (s *session) action(id, action string, raw map[string]json.RawMessage) {
	ctx := s.ctx
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
			var ok bool
			if target, ok = jsonString(raw["terminateId"]); !ok {
				s.sendError(id, "terminateId", `Requests for a terminate action must have a string "terminateId" field`)
				return
			}
		}
		var turns []int
		if v, ok := raw["turnNumbers"]; ok {
			if err := json.Unmarshal(v, &turns); err != nil || turns == nil {
				s.sendError(id, "turnNumbers", "If provided, must be an array of integers indicating turns to terminate")
				return
			}
		}
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		s.terminate(ctx, id, action, target, turns)
	default:
		s.sendAnonymous(unknownActionText)
	}
}

// terminate ends the matching tasks as KataGo does. One with a report gets its latest
// report as the final result after the acknowledgement, its search stopping as its
// context ends. One without goes to the backend to stop first: on the engine path KataGo
// answers a turn it has not started with noResults, before the acknowledgement, and ends
// a started search with its final result so far, after it; where the backend cannot
// tell, the task answers noResults before the acknowledgement and its context ends.
func (s *session) terminate(ctx context.Context, id, action, target string, turns []int) {
	var stop []*task
	s.mu.Lock()
	for t := range s.running {
		if (action == "terminate" && t.q.id != target) || (turns != nil && !slices.Contains(turns, t.turn)) {
			continue
		}
		stop = append(stop, t)
	}
	s.mu.Unlock()
	// KataGo walks its open queries in the order they came.
	slices.SortFunc(stop, func(a, b *task) int { return cmp.Compare(a.seq, b.seq) })
	type outcome struct{ asked, searching, ok bool }
	outcomes := make([]outcome, len(stop))
	var wg sync.WaitGroup
	for i, t := range stop {
		if t.hold() {
			outcomes[i].asked = true
			wg.Go(func() { outcomes[i].searching, outcomes[i].ok = s.backend.stop(ctx, t) })
		}
	}
	wg.Wait()
	var finals []*katago.Response
	var searching []*task
	for i, t := range stop {
		switch o := outcomes[i]; {
		case o.ok && o.searching:
			searching = append(searching, t)
			continue
		case o.ok:
			// KataGo answered the turn before its acknowledgement: noResults, or the final
			// result of a search that was ending. The task delivers it, and ends.
			select {
			case <-t.done:
			case <-ctx.Done():
			}
			s.release(t)
			continue
		case o.asked:
			s.release(t)
		}
		last, ok := t.end()
		t.cancel(errTerminated)
		switch {
		case !ok:
		case last == nil:
			// Given back before the client hears of it.
			t.settle()
			s.send(noResults(t.q.id, t.turn))
		default:
			f := *last
			no := false
			f.IsDuringSearch = &no
			t.q.attachWarnings(&f)
			finals = append(finals, &f)
		}
	}
	s.send(&katago.Response{ID: id, Action: action, TerminateID: target, TurnNumbers: turns})
	for _, f := range finals {
		s.send(f)
	}
	for _, t := range searching {
		s.release(t)
	}
}

// jsonString returns the string v holds; false when v is no JSON string (null included).
func jsonString(v json.RawMessage) (string, bool) {
	var s string
	if len(v) == 0 || v[0] != '"' || json.Unmarshal(v, &s) != nil {
		return "", false
	}
	return s, true
}

// settingNumber reads an overrideSettings value as KataGo does: a number, or a text that
// holds one ("100000"), since KataGo reads every setting from its text.
func settingNumber(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case string:
		n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		return n, err == nil
	}
	return 0, false
}

func noResults(id string, turn int) *katago.Response {
	f := false
	return &katago.Response{ID: id, TurnNumber: &turn, IsDuringSearch: &f, NoResults: true}
}

// submit checks a query against the limits and starts its turns.
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
			if n, ok := settingNumber(v); ok && !ponder && (k == "maxVisits" || k == "maxPlayouts") && n > float64(cfg.MaxVisits) {
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
	full := len(s.running)+len(turns) > maxSocketTurns
	s.mu.Unlock()
	if full {
		s.sendError(id, "", fmt.Sprintf("too many queries are in progress on this connection (limit %d turns); terminate some first", maxSocketTurns))
		return
	}
	// The query's turns are charged together, so that a query beyond the quota answers one
	// error line, as KataGo answers a query it refuses, not some of its turns.
	charge, err := s.a.chargePositions(s.ctx, s.log, s.owner, len(turns))
	if err != nil {
		s.fail(q, "", s.failure(err))
		return
	}
	q.charge = charge
	s.mu.Lock()
	defer s.mu.Unlock()
	// priorities pairs with analyzeTurns as sent (checkQuery saw to their lengths); a turn
	// listed twice takes its last priority, as in KataGo.
	priorities := map[int]int64{}
	for j, p := range in.Priorities {
		priorities[in.AnalyzeTurns[j]] = int64(p)
	}
	for _, turn := range turns {
		p := int64(0)
		if in.Priority != nil {
			p = int64(*in.Priority)
		}
		if pt, ok := priorities[turn]; ok {
			p = pt
		}
		one := *in
		one.AnalyzeTurns = []int{turn}
		one.Priorities = nil
		kp := int(socketPriorityBase + min(max(p, -socketPriorityMax), socketPriorityMax))
		one.Priority = &kp
		s.seq++
		t := &task{q: q, query: one, turn: turn, priority: p, ponder: ponder, seq: s.seq, done: make(chan struct{})}
		t.ctx, t.cancel = context.WithCancelCause(s.ctx)
		s.running[t] = true
		s.backend.arrived(t)
		s.tasks.Add(1)
		go s.runTask(t)
	}
}

// runTask runs one turn on the backend and answers its failure, if any.
func (s *session) runTask(t *task) {
	defer s.tasks.Done()
	defer close(t.done)
	defer func() {
		s.mu.Lock()
		delete(s.running, t)
		s.mu.Unlock()
		t.cancel(nil)
	}()
	err := s.backend.analyze(t.ctx, s, t, func(r *katago.Response) error { return s.deliver(t, r) })
	t.settle()
	if err == nil || t.ctx.Err() != nil {
		// Done, or terminated (terminate answered for the turn), or the client left.
		return
	}
	if _, ok := t.end(); !ok {
		return
	}
	var qe *engine.QueryError
	if errors.As(err, &qe) {
		s.fail(t.q, qe.Field, qe.Message)
		return
	}
	s.fail(t.q, "", s.failure(err, "query_id", t.q.id, "turn", t.turn))
}

// failure is the message of an error line for err: its own for an *Error, else a
// generic one, with err logged beside args.
func (s *session) failure(err error, args ...any) string {
	var ae *Error
	if errors.As(err, &ae) {
		return ae.Message
	}
	s.log.Error("katago query failed", append(args, "err", err)...)
	return "the analysis failed on the server; try again"
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

// deliver forwards one response line of a task to the client under the client's id,
// unless the task's last line went out already (the client terminated it).
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
	// The line goes out under t.mu, so that a terminate's final result comes after it.
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.final {
		return nil
	}
	if r.IsDuringSearch == nil || !*r.IsDuringSearch {
		t.final = true
	} else {
		last := out
		t.last = &last
	}
	if !out.NoResults {
		// KaTrain would keep waiting for a noResults line that carries a warning.
		t.q.attachWarnings(&out)
		t.analyzed = true
	}
	if t.holding {
		t.held = append(t.held, &out)
		return nil
	}
	s.send(&out)
	return nil
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

// analyze sends the turn to an engine at once: KataGo queues it by its priority and
// answers a terminate of a turn it has not started. A turn that KataGo's crash cut short
// runs again, twice at most, once the engine has restarted it.
func (b directBackend) analyze(ctx context.Context, s *session, t *task, fn func(*katago.Response) error) error {
	ctx, stop := engine.Stoppable(ctx)
	t.mu.Lock()
	t.stop = stop
	t.mu.Unlock()
	count := func(r *katago.Response) error {
		if r.Final() && !r.NoResults {
			// No worker counts these.
			b.a.metrics.socketFinals.Add(1)
		}
		return fn(r)
	}
	var err error
	for attempt := 0; ; attempt++ {
		// KaTrain's turns are interactive work: on a review engine they ask for the
		// latency settings' threads.
		e := b.pick()
		err = e.Analyze(ctx, engine.Interactive(e, &t.query), count)
		if !errors.Is(err, engine.ErrTransient) || attempt == 2 || ctx.Err() != nil || stop.Stopped() {
			break
		}
		s.log.Warn("katago query failed; trying again", "query_id", t.q.id, "turn", t.turn, "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(attempt+1) * 200 * time.Millisecond):
		}
	}
	return err
}

func (directBackend) arrived(*task) {}

// stop terminates the turn in KataGo, which tells whether its search had begun.
func (directBackend) stop(ctx context.Context, t *task) (searching, ok bool) {
	t.mu.Lock()
	stop := t.stop
	t.mu.Unlock()
	if stop == nil {
		return false, false
	}
	return stop.Stop(ctx)
}

func (b directBackend) version(ctx context.Context) (katago.Version, error) {
	return b.pick().Version(ctx)
}

func (b directBackend) models(ctx context.Context) ([]katago.ModelInfo, error) {
	return b.pick().Models(ctx)
}

// katagoBackend is where a connection's KataGo-protocol requests go: the local engines
// when there are any, else the queue's workers.
func (a *API) katagoBackend() katagoBackend {
	if len(a.cfg.Engines) > 0 {
		return directBackend{a: a}
	}
	return newQueueBackend(a)
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
