package engine

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tesuji/tesuji/katago"
)

// readyLine is what katago analysis prints on stderr once it takes queries.
const readyLine = "Started, ready to begin handling requests"

// process is one running katago analysis: its pipes, the queries routed to it, and the
// goroutines that read, write and watch it. A process is never reused: when it dies its
// queries fail and the supervisor starts a new one.
type process struct {
	e       *Engine
	cmd     *exec.Cmd
	cancel  context.CancelFunc // SIGTERM, then SIGKILL after Config.KillDelay
	pid     int
	sigkill func() error // kills the OS process at once

	stdin  io.WriteCloser
	stdout *os.File
	stderr *os.File

	// The write queue: lines go to KataGo from one goroutine, so a caller never blocks on
	// a pipe KataGo stopped reading.
	wmu    sync.Mutex
	wq     [][]byte
	wclose bool // close stdin once the queue is written
	wsig   chan struct{}

	mu           sync.Mutex
	calls        map[string]*call // by engine-assigned id, barrier ids included
	pending      int              // queries and actions among calls
	awaited      int              // analysis queries among calls whose callers still wait
	idle         []chan struct{}  // closed when awaited falls to 0 (whenIdle)
	heard        time.Time        // KataGo's last output line, or when work arrived after an idle spell
	probe        string           // the id of the unanswered query_version probe; "" when none
	cutOff       string           // what the output's last, unfinished line was, once it ended mid-line
	failErr      error            // set when the process is done for: registrations fail with it
	readyAt      time.Time
	stderrTail   []string
	readySignal  chan struct{}
	readyOnce    sync.Once
	exited       chan struct{} // closed when the OS process has exited
	done         chan struct{} // closed when the process's goroutines are done and its calls failed
	exitErr      error
	readers      sync.WaitGroup // stdout, stderr, writer and watchdog
	maxLineBytes int
}

// tailLines is how many of KataGo's last stderr lines an error quotes.
const tailLines = 12

// launch starts katago and waits for its ready line.
func (e *Engine) launch(ctx context.Context) (*process, error) {
	cfg := e.cfg
	fail := func(p *process, err error) (*process, error) {
		se := &StartError{Binary: cfg.Path, Model: cfg.Model, Err: err}
		if p != nil {
			se.Output = p.tail()
		}
		return nil, se
	}
	args, err := cfg.args(e.configPath)
	if err != nil {
		return fail(nil, err)
	}
	procCtx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(procCtx, cfg.Path, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = cfg.KillDelay
	cmd.Env = append(os.Environ(), cfg.Env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		cancel()
		return fail(nil, err)
	}
	// Plain pipes rather than StdoutPipe: Wait then leaves them to the readers, which
	// drain what KataGo wrote before it died.
	outR, outW, err := os.Pipe()
	if err != nil {
		cancel()
		return fail(nil, err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		cancel()
		outR.Close()
		outW.Close()
		return fail(nil, err)
	}
	cmd.Stdout = outW
	cmd.Stderr = errW
	if err := cmd.Start(); err != nil {
		cancel()
		for _, f := range []*os.File{outR, outW, errR, errW} {
			f.Close()
		}
		return fail(nil, err)
	}
	outW.Close()
	errW.Close()
	p := newProcess(e, cmd.Process.Pid, stdin, cmd.Process.Kill)
	p.cmd, p.cancel, p.stdout, p.stderr = cmd, cancel, outR, errR
	e.log.Info("engine: katago started", "pid", p.pid, "binary", cfg.Path, "model", cfg.Model)
	p.readers.Add(4)
	go p.readStdout()
	go p.readStderr()
	go p.writeLoop()
	go p.watchdog()
	go p.wait()

	timer := time.NewTimer(cfg.ReadyTimeout)
	defer timer.Stop()
	select {
	case <-p.readySignal:
		e.log.Info("engine: katago ready", "pid", p.pid)
		return p, nil
	case <-p.done:
		return fail(p, fmt.Errorf("exited before it was ready: %v", p.exitErr))
	case <-timer.C:
		p.kill()
		<-p.done
		return fail(p, fmt.Errorf("not ready after %v", cfg.ReadyTimeout))
	case <-ctx.Done():
		p.kill()
		<-p.done
		return fail(p, context.Cause(ctx))
	case <-e.life.Stopping():
		p.kill()
		<-p.done
		return fail(p, errors.New("engine stopped"))
	}
}

// newProcess returns the bookkeeping of a process whose stdin is stdin and that sigkill
// kills; launch adds the OS process and its output pipes.
func newProcess(e *Engine, pid int, stdin io.WriteCloser, sigkill func() error) *process {
	return &process{
		e:            e,
		pid:          pid,
		sigkill:      sigkill,
		stdin:        stdin,
		wsig:         make(chan struct{}, 1),
		calls:        make(map[string]*call),
		readySignal:  make(chan struct{}),
		exited:       make(chan struct{}),
		done:         make(chan struct{}),
		maxLineBytes: e.cfg.MaxLineBytes,
	}
}

// kill stops the process at once, for a process that is hung or no longer wanted.
func (p *process) kill() {
	if err := p.sigkill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		p.e.log.Warn("engine: kill katago", "pid", p.pid, "err", err)
	}
}

// wait reaps the process, lets the readers drain its output, and fails what is left.
func (p *process) wait() {
	err := p.cmd.Wait()
	p.cancel()
	p.mu.Lock()
	p.exitErr = err
	p.mu.Unlock()
	close(p.exited)
	// What KataGo wrote before it exited is still in the pipes: the readers route it
	// first. The deadline only matters if some other process still holds the pipes open.
	deadline := time.Now().Add(5 * time.Second)
	p.stdout.SetReadDeadline(deadline)
	p.stderr.SetReadDeadline(deadline)
	p.readers.Wait()
	p.stdout.Close()
	p.stderr.Close()

	p.e.processGone(p)
	msg := fmt.Sprintf("pid %d: %v", p.pid, err)
	p.mu.Lock()
	if p.cutOff != "" {
		msg += "; its output ended in the middle of " + p.cutOff
	}
	p.mu.Unlock()
	if t := p.tail(); len(t) > 0 {
		msg += "; katago said: " + strings.Join(t, " | ")
	}
	failErr := fmt.Errorf("%w: %s", ErrEngineExited, msg)
	if p.e.isStopping() {
		failErr = fmt.Errorf("%w: the engine was stopped before the query finished", ErrNotRunning)
	}
	n := p.failAll(failErr)
	if n > 0 || !p.e.isStopping() {
		p.e.log.Warn("engine: katago exited", "pid", p.pid, "err", err, "failed_queries", n)
	} else {
		p.e.log.Info("engine: katago exited", "pid", p.pid, "err", err)
	}
	close(p.done)
}

// failAll fails every call still waiting and refuses new ones; it returns how many failed.
func (p *process) failAll(err error) int {
	p.mu.Lock()
	if p.failErr == nil {
		p.failErr = err
	}
	calls := p.calls
	p.calls = make(map[string]*call)
	for _, c := range calls {
		c.awaited = false
	}
	p.pending, p.awaited = 0, 0
	p.wakeIdle()
	p.mu.Unlock()
	n := 0
	for id, c := range calls {
		if id == c.id {
			c.fail(err)
			n++
		}
	}
	return n
}

// register makes the process route responses for c.
func (p *process) register(c *call) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failErr != nil {
		return p.failErr
	}
	p.calls[c.id] = c
	if c.barrier != "" {
		p.calls[c.barrier] = c
	}
	if p.pending == 0 {
		// Silence while nothing was asked is no sign of a hang.
		p.heard = time.Now()
	}
	p.pending++
	if !c.action {
		c.awaited = true
		p.awaited++
	}
	return nil
}

// unregister forgets c. Callers hold p.mu.
func (p *process) unregister(c *call) {
	if p.calls[c.id] != c {
		return
	}
	delete(p.calls, c.id)
	if c.barrier != "" {
		delete(p.calls, c.barrier)
	}
	p.pending--
	p.release(c)
}

// released notes that c's caller no longer waits for its answer.
func (p *process) released(c *call) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.release(c)
}

// release is released for callers that hold p.mu.
func (p *process) release(c *call) {
	if !c.awaited {
		return
	}
	c.awaited = false
	p.awaited--
	if p.awaited == 0 {
		p.wakeIdle()
	}
}

// wakeIdle releases whenIdle's waiters. Callers hold p.mu.
func (p *process) wakeIdle() {
	for _, ch := range p.idle {
		close(ch)
	}
	p.idle = nil
}

// whenIdle returns a channel closed once no caller waits for an analysis query's answer.
func (p *process) whenIdle() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	ch := make(chan struct{})
	if p.awaited == 0 {
		close(ch)
	} else {
		p.idle = append(p.idle, ch)
	}
	return ch
}

// inFlight returns how many queries still wait for responses.
func (p *process) inFlight() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for id, c := range p.calls {
		if id == c.id {
			n++
		}
	}
	return n
}

// send queues lines for KataGo's stdin.
func (p *process) send(lines ...[]byte) {
	p.wmu.Lock()
	if !p.wclose {
		p.wq = append(p.wq, lines...)
	}
	p.wmu.Unlock()
	select {
	case p.wsig <- struct{}{}:
	default:
	}
}

func (p *process) writeLoop() {
	defer p.readers.Done()
	w := bufio.NewWriterSize(p.stdin, 64<<10)
	for {
		p.wmu.Lock()
		batch, closing := p.wq, p.wclose
		p.wq = nil
		p.wmu.Unlock()
		for _, l := range batch {
			if _, err := w.Write(l); err != nil {
				p.e.log.Debug("engine: write to katago", "pid", p.pid, "err", err)
				return
			}
		}
		if len(batch) > 0 {
			if err := w.Flush(); err != nil {
				p.e.log.Debug("engine: write to katago", "pid", p.pid, "err", err)
				return
			}
		}
		if closing {
			// KataGo finishes the queries it has, then exits.
			p.stdin.Close()
			return
		}
		select {
		case <-p.wsig:
		case <-p.exited:
			return
		}
	}
}

// closeStdin asks KataGo to finish its queued work and exit.
func (p *process) closeStdin() {
	p.wmu.Lock()
	p.wclose = true
	p.wmu.Unlock()
	select {
	case p.wsig <- struct{}{}:
	default:
	}
}

// closeWhenIdle closes stdin, which asks KataGo to finish what it has and exit, once no
// caller waits for a query's answer (queries given up and terminated need no probes),
// ctx is done or the process has exited. Until then stdin stays open for the watchdog's
// probes: without them a search that reports nothing for longer than TurnTimeout would
// count as hung and be killed while KataGo finishes it.
func (p *process) closeWhenIdle(ctx context.Context) {
	select {
	case <-p.whenIdle():
	case <-ctx.Done():
	case <-p.exited:
	}
	p.closeStdin()
}

// shutdown lets KataGo finish its queries and exit (closeWhenIdle) and waits for it; once
// ctx is done it is signalled, then killed after Config.KillDelay.
func (p *process) shutdown(ctx context.Context) error {
	p.closeWhenIdle(ctx)
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
	}
	p.cancel()
	<-p.done
	return fmt.Errorf("engine: stop: katago (pid %d) did not exit in time and was killed: %w", p.pid, context.Cause(ctx))
}

func (p *process) readStderr() {
	defer p.readers.Done()
	r := bufio.NewReader(p.stderr)
	for {
		frag, err := r.ReadSlice('\n')
		if len(frag) > 0 {
			line := strings.TrimRight(string(frag[:min(len(frag), 1000)]), "\r\n")
			for errors.Is(err, bufio.ErrBufferFull) { // drop the rest of an overlong line
				_, err = r.ReadSlice('\n')
			}
			p.mu.Lock()
			p.stderrTail = append(p.stderrTail, line)
			if len(p.stderrTail) > tailLines {
				p.stderrTail = p.stderrTail[len(p.stderrTail)-tailLines:]
			}
			p.mu.Unlock()
			p.e.log.Debug("engine: katago stderr", "pid", p.pid, "line", line)
			if strings.Contains(line, readyLine) {
				p.readyOnce.Do(func() {
					p.mu.Lock()
					p.readyAt = time.Now()
					p.mu.Unlock()
					close(p.readySignal)
				})
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *process) tail() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.stderrTail...)
}

// errLineTooLong reports a response line over Config.MaxLineBytes.
var errLineTooLong = errors.New("line too long")

// readLine returns the next line without its newline. The line aliases r's buffer or buf
// and is valid until the next call. A line longer than max is skipped; its first bytes are
// returned with errLineTooLong.
func readLine(r *bufio.Reader, buf *[]byte, max int) ([]byte, error) {
	frag, err := r.ReadSlice('\n')
	if !errors.Is(err, bufio.ErrBufferFull) {
		// The whole line fits r's buffer, which may hold more than max.
		if line := trimEOL(frag); len(line) > max {
			if err == nil {
				err = errLineTooLong
			}
			return line[:min(len(line), 4096)], err
		}
		return trimEOL(frag), err
	}
	b := append((*buf)[:0], frag...)
	tooLong := false
	for {
		frag, err = r.ReadSlice('\n')
		if !tooLong {
			if len(b)+len(frag) > max {
				tooLong = true
			} else {
				b = append(b, frag...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		*buf = b
		if tooLong {
			if err == nil {
				err = errLineTooLong
			}
			return b[:min(len(b), 4096)], err
		}
		return trimEOL(b), err
	}
}

func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

func (p *process) readStdout() {
	defer p.readers.Done()
	if err := p.consume(p.stdout); err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, os.ErrClosed) {
		p.e.log.Warn("engine: read katago output", "pid", p.pid, "err", err)
	}
}

// consume reads response lines from r and routes them until r ends.
func (p *process) consume(rd io.Reader) error {
	r := bufio.NewReaderSize(rd, 256<<10)
	var buf []byte
	for {
		line, err := readLine(r, &buf, p.maxLineBytes)
		if err == nil || errors.Is(err, errLineTooLong) {
			p.mu.Lock()
			p.heard = time.Now()
			p.mu.Unlock()
		}
		if errors.Is(err, errLineTooLong) {
			p.oversize(line)
			continue
		}
		if err != nil {
			// A line without its newline is one KataGo was writing when its output
			// ended: it died mid-line. The line is part of the crash, which fails its
			// query as an engine exit (transient), not as unreadable output (permanent).
			if len(bytes.TrimSpace(line)) > 0 {
				p.cut(line)
			}
			return err
		}
		if len(bytes.TrimSpace(line)) > 0 {
			p.route(line)
		}
		if cap(buf) > 1<<20 {
			buf = nil // do not keep a huge buffer for ordinary lines
		}
	}
}

// cut records the unfinished last line of KataGo's output for the exit error.
func (p *process) cut(line []byte) {
	id := katago.PeekID(line)
	what := fmt.Sprintf("a %d-byte line", len(line))
	if id != "" {
		what = fmt.Sprintf("a %d-byte line for query %s", len(line), id)
	}
	p.e.log.Warn("engine: katago output ended mid-line", "pid", p.pid, "query_id", id, "bytes", len(line))
	p.mu.Lock()
	p.cutOff = what
	p.mu.Unlock()
}

// oversize fails the query a too-long line belongs to, found from the line's start.
func (p *process) oversize(prefix []byte) {
	id := katago.PeekID(prefix)
	p.e.log.Error("engine: katago response line too long", "pid", p.pid, "query_id", id, "max_bytes", p.maxLineBytes)
	p.failLine(id, fmt.Errorf("%w: a response line exceeds %d bytes", ErrProtocol, p.maxLineBytes))
}

// failLine fails the query with the given id (none when empty) with err, for an output
// line that cannot be delivered, and terminates the rest of its turns: they would be
// wasted work.
func (p *process) failLine(id string, err error) {
	if id == "" {
		return
	}
	p.mu.Lock()
	c := p.calls[id]
	if c != nil {
		p.unregister(c)
	}
	p.mu.Unlock()
	if c == nil {
		return
	}
	c.fail(err)
	if !c.action {
		p.e.terminate(p, c.id)
	}
}

// route decodes one line and hands it to the query it belongs to. It is the only decode
// of the line: the call receives the decoded Response.
func (p *process) route(line []byte) {
	r := new(katago.Response)
	if err := json.Unmarshal(line, r); err != nil {
		id := katago.PeekID(line)
		p.e.log.Error("engine: unreadable katago output", "pid", p.pid, "query_id", id, "err", err, "line", clip(line))
		p.failLine(id, fmt.Errorf("%w: %v", ErrProtocol, err))
		return
	}
	p.dispatch(r)
}

func (p *process) dispatch(r *katago.Response) {
	if r.ID == "" {
		p.routeAnonymous(r)
		return
	}
	p.mu.Lock()
	if r.ID == p.probe {
		p.probe = "" // the answer to a probe: KataGo is alive, as the line itself shows
		p.mu.Unlock()
		return
	}
	c := p.calls[r.ID]
	if c == nil {
		p.mu.Unlock()
		if r.Action == "terminate" {
			return // the answer to a terminate this engine sent
		}
		p.e.log.Debug("engine: katago response for no waiting query", "pid", p.pid, "query_id", r.ID)
		return
	}
	done, note := c.accept(r)
	if done {
		p.unregister(c)
	}
	p.mu.Unlock()
	if note != "" {
		p.e.log.Warn("engine: unexpected katago response", "pid", p.pid, "query_id", r.ID, "note", note)
	}
}

// routeAnonymous handles a line without an id: an error KataGo could not tie to a query
// (the line did not parse, or had no id). KataGo quotes the offending line, so the query
// whose id appears in the message is the one to fail.
func (p *process) routeAnonymous(r *katago.Response) {
	if r.Error == "" {
		p.e.log.Warn("engine: katago line without id", "pid", p.pid, "warning", r.Warning)
		return
	}
	p.mu.Lock()
	var c *call
	for id, cc := range p.calls {
		if strings.Contains(r.Error, `"id":"`+id+`"`) {
			c = cc
			break
		}
	}
	if c != nil {
		p.unregister(c)
	}
	p.mu.Unlock()
	if c == nil {
		p.e.log.Error("engine: katago error for no known query", "pid", p.pid, "error", r.Error)
		return
	}
	p.e.log.Warn("engine: katago error without id, attributed by its text", "pid", p.pid, "query_id", c.id, "error", r.Error)
	c.fail(&QueryError{Field: r.Field, Message: r.Error})
}

// watchdog kills a process that shows no sign of life for TurnTimeout while work waits.
// Any output line is a sign of life. KataGo is silent while it searches a turn without
// reportDuringSearchEvery, however long that takes, so after a quarter of TurnTimeout of
// silence the watchdog asks it for its version: KataGo's input loop answers that at once
// while its search threads work, so a live engine always answers, and a hung one (deadlocked,
// or no longer reading its input) does not.
func (p *process) watchdog() {
	defer p.readers.Done()
	select {
	case <-p.readySignal:
	case <-p.exited:
		return
	}
	limit := p.e.cfg.TurnTimeout
	t := time.NewTicker(watchdogTick(limit))
	defer t.Stop()
	for {
		select {
		case <-p.exited:
			return
		case now := <-t.C:
			probe, reason := p.check(now, limit)
			if reason != "" {
				p.hung(reason)
				return
			}
			if probe != "" {
				line, _ := json.Marshal(katago.Query{ID: probe, Action: "query_version"})
				p.send(append(line, '\n'))
			}
		}
	}
}

// watchdogTick is how often the watchdog looks at a process guarded by limit.
func watchdogTick(limit time.Duration) time.Duration {
	return min(max(limit/16, 5*time.Millisecond), time.Second)
}

// check says why the process counts as hung at now, or "" when it does not; when KataGo
// has been silent long enough to be asked for a sign of life, it returns the id of the
// probe to send.
func (p *process) check(now time.Time, limit time.Duration) (probe, reason string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pending == 0 {
		return "", ""
	}
	silent := now.Sub(p.heard)
	switch {
	case silent > limit:
		what := "no output"
		if p.probe != "" {
			what = "no output and no answer to query_version"
		}
		return "", fmt.Sprintf("%s for %v while %d queries waited", what, limit, p.pending)
	case silent >= limit/4 && p.probe == "":
		p.probe = p.e.newID('p')
		return p.probe, ""
	}
	return "", ""
}

func (p *process) hung(reason string) {
	err := fmt.Errorf("%w: pid %d: %s", ErrTimeout, p.pid, reason)
	p.e.log.Error("engine: katago hung; killing it", "pid", p.pid, "reason", reason)
	p.e.processGone(p)
	p.failAll(err)
	p.kill()
}

func clip(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}
