package gtp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/tesuji/tesuji/client"
	"github.com/tesuji/tesuji/game"
)

// DefaultVersion is what `version` answers by default: KataGo's version first, as GUIs
// read it to decide which extensions they may use.
const DefaultVersion = "1.17.2+tesuji"

// Config configures a Bridge. The zero value of every field but Server means its default.
type Config struct {
	// Server is the base URL of the tesuji server, such as "http://127.0.0.1:8080".
	// Required.
	Server string
	// Token is the API token sent as a bearer token. Default: none (a server in open mode).
	Token string
	// HTTPClient makes the requests. Default: a client whose connections must be made
	// within ConnectTimeout, so that a server that is down or still booting fails fast.
	HTTPClient *http.Client
	// ConnectTimeout bounds connecting to the server (TCP and TLS) with the default
	// HTTPClient. Default 5s.
	ConnectTimeout time.Duration
	// Logger receives notices (the server is unreachable, analysis resumed) and errors.
	// Default: none, as stdout carries only GTP.
	Logger *slog.Logger
	// Version is the answer to `version`. Default DefaultVersion.
	Version string
	// Rules are the rules a session starts with, anything kata-set-rules accepts.
	// Default "tromp-taylor", as KataGo's GTP engine starts.
	Rules string
	// AnalysisVisits is the maxVisits of the searches of kata-analyze and lz-analyze,
	// which run until the next command. Default 10000000, as KaTrain ponders: more than
	// the server's cap on visits, which makes the search open-ended there (it runs until
	// the next command, or for the server's --ponder-time). A server that refuses it is
	// asked again with its limit.
	AnalysisVisits int
	// GenmoveVisits is the maxVisits of the searches of genmove, final_score and
	// place_free_handicap. Default 0: the server's default.
	GenmoveVisits int
	// GenmoveTimeout bounds one genmove (or final_score) request, so a server that takes
	// the request but never answers cannot block the GUI for good. Default 2m.
	GenmoveTimeout time.Duration
	// RetryInterval is how long an analysis waits before it tries an unreachable server
	// again; the wait doubles after each failure up to 8 times this. Default 1s.
	RetryInterval time.Duration
}

func (c *Config) setDefaults() {
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = 5 * time.Second
	}
	if c.HTTPClient == nil {
		d := &net.Dialer{Timeout: c.ConnectTimeout, KeepAlive: 30 * time.Second}
		c.HTTPClient = &http.Client{Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         d.DialContext,
			TLSHandshakeTimeout: c.ConnectTimeout,
			MaxIdleConnsPerHost: 4,
			IdleConnTimeout:     90 * time.Second,
			ForceAttemptHTTP2:   true,
		}}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Version == "" {
		c.Version = DefaultVersion
	}
	if c.Rules == "" {
		c.Rules = "tromp-taylor"
	}
	if c.AnalysisVisits <= 0 {
		c.AnalysisVisits = 10000000
	}
	if c.GenmoveTimeout <= 0 {
		c.GenmoveTimeout = 2 * time.Minute
	}
	if c.RetryInterval <= 0 {
		c.RetryInterval = time.Second
	}
}

// Bridge is a GTP engine that forwards searches to a tesuji server. Serve runs one GTP
// session; a Bridge may serve several sessions, one after another or at once, each with
// its own board.
type Bridge struct {
	cfg       Config
	client    *client.Client
	ownClient bool // the HTTP client is the bridge's own, so its connections are too
	log       *slog.Logger
	rules     game.Ruleset
}

// New returns a bridge for cfg. It fails when Server is empty or Rules is not a ruleset.
func New(cfg Config) (*Bridge, error) {
	own := cfg.HTTPClient == nil
	cfg.setDefaults()
	if cfg.Server == "" {
		return nil, errors.New("gtp: no server URL")
	}
	r, err := game.ParseRulesWithoutKomi(cfg.Rules)
	if err != nil {
		return nil, fmt.Errorf("gtp: rules %q: %w", cfg.Rules, err)
	}
	c := client.New(cfg.Server, cfg.Token)
	c.HTTP = cfg.HTTPClient
	return &Bridge{cfg: cfg, client: c, ownClient: own, log: cfg.Logger, rules: r}, nil
}

// Serve reads GTP commands from in and writes the answers to out until `quit`, the end
// of in, or the end of ctx. It returns nil after quit or the end of in, ctx's error when
// ctx ends first, and an error when out cannot be written. A search still running when
// Serve returns is cancelled.
func (b *Bridge) Serve(ctx context.Context, in io.Reader, out io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s := newSession(b, out)
	defer func() {
		s.endAnalysis()
		if b.ownClient {
			b.cfg.HTTPClient.CloseIdleConnections()
		}
	}()

	lines := make(chan string)
	readErr := make(chan error, 1)
	go func() {
		// The reader may stay blocked in Read after Serve returns (stdin cannot be
		// interrupted); it exits at the next line or at the end of in.
		br := bufio.NewReaderSize(in, 64<<10)
		for {
			line, err := br.ReadString('\n')
			if line != "" || err == nil {
				select {
				case lines <- line:
				case <-ctx.Done():
					return
				}
			}
			if err != nil {
				if errors.Is(err, io.EOF) {
					err = nil
				}
				readErr <- err
				close(lines)
				return
			}
		}
	}()

	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case line, ok := <-lines:
			// Any input line, even an empty one, ends a running analysis first.
			s.endAnalysis()
			if !ok {
				if err := <-readErr; err != nil {
					return fmt.Errorf("gtp: read commands: %w", err)
				}
				return s.out.err()
			}
			quit := s.handleLine(ctx, line)
			if err := s.out.err(); err != nil {
				return fmt.Errorf("gtp: write answers: %w", err)
			}
			if quit {
				return nil
			}
		}
	}
}

// output serializes writes to the GUI: answers from the command loop and info lines from
// a search running in the background. Every write is flushed at once, as the GUI waits
// for it.
type output struct {
	mu   sync.Mutex
	w    *bufio.Writer
	werr error
}

func (o *output) write(s string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.werr != nil {
		return
	}
	if _, err := o.w.WriteString(s); err != nil {
		o.werr = err
		return
	}
	o.werr = o.w.Flush()
}

func (o *output) err() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.werr
}

// failure is a GTP error answer ("? message"). Its messages copy KataGo's wording,
// capitals included, because GUIs show them to players and some match on them.
type failure struct{ msg string }

func (f *failure) Error() string { return f.msg }

func fail(format string, args ...any) error {
	return &failure{msg: fmt.Sprintf(format, args...)}
}

// errAnswered means a handler wrote its answer itself (the analysis commands, whose
// answer is a stream).
var errAnswered = errors.New("gtp: answered")

// command is one parsed GTP command.
type command struct {
	id   string // the command's number, "" when it has none
	name string
	args []string
}

type handler func(s *session, ctx context.Context, c *command) (string, error)

// cleanLine prepares a line as KataGo does: only printable ASCII and tabs are kept, a
// "#" starts a comment, tabs become spaces, and the line is trimmed.
func cleanLine(line string) string {
	line = strings.Map(func(r rune) rune {
		if r == '\t' || (r >= 32 && r <= 126) {
			return r
		}
		return -1
	}, line)
	if i := strings.IndexByte(line, '#'); i >= 0 {
		line = line[:i]
	}
	return strings.TrimSpace(strings.ReplaceAll(line, "\t", " "))
}

// parseCommand splits a cleaned, non-empty line into its number, name and arguments.
func parseCommand(line string) *command {
	c := &command{}
	i := 0
	for i < len(line) && line[i] >= '0' && line[i] <= '9' {
		i++
	}
	c.id = line[:i]
	fields := strings.Fields(line[i:])
	if len(fields) > 0 {
		c.name, c.args = fields[0], fields[1:]
	}
	return c
}

// handleLine runs one input line and reports whether it was quit.
func (s *session) handleLine(ctx context.Context, line string) (quit bool) {
	line = cleanLine(line)
	if strings.TrimSpace(line) == "" {
		return false
	}
	c := parseCommand(line)
	if c.name == "" {
		s.answer(c.id, "", fail("empty command"))
		return false
	}
	h, ok := handlers[c.name]
	if !ok {
		s.answer(c.id, "", fail("unknown command"))
		return false
	}
	s.log.Debug("gtp command", "command", line)
	resp, err := h(s, ctx, c)
	if errors.Is(err, errAnswered) {
		return false
	}
	s.answer(c.id, resp, err)
	return c.name == "quit"
}

// answer writes a complete GTP answer: "=id text" or "?id message", then a blank line.
// An error message is written on one line, as a line break in it (a proxy's error page, a
// value quoted from a file) would end the answer early for the GUI.
func (s *session) answer(id, text string, err error) {
	var f *failure
	switch {
	case err == nil:
		s.out.write("=" + id + " " + text + "\n\n")
	case errors.As(err, &f):
		s.out.write("?" + id + " " + oneLine(f.msg) + "\n\n")
	default:
		s.log.Error("gtp command failed", "err", err)
		s.out.write("?" + id + " " + oneLine(err.Error()) + "\n\n")
	}
}

// oneLine joins the lines of msg with single spaces, leaving out blank ones; a message of
// one line is returned as it is, its spacing kept.
func oneLine(msg string) string {
	if !strings.ContainsAny(msg, "\r\n") {
		return msg
	}
	var parts []string
	for _, l := range strings.FieldsFunc(msg, func(r rune) bool { return r == '\r' || r == '\n' }) {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, " ")
}

// header writes the first line of a streamed answer ("=id"), as KataGo does before the
// first info line of an analysis.
func (s *session) header(id string) {
	s.out.write("=" + id + "\n")
}

// session is one GTP conversation: the game on the board, the time settings, and the
// analysis that may be running.
type session struct {
	b   *Bridge
	cfg *Config
	log *slog.Logger
	out *output

	xsize, ysize  int
	komi          float64
	rules         game.Ruleset
	initial       []game.Stone // handicap and setup stones
	initialPlayer game.Color
	moves         []game.Move
	board         *game.Board

	clocks [3]clock // by game.Color
	params params   // kata-set-param's values

	active *search // the analysis streaming now, nil when none
}

func newSession(b *Bridge, out io.Writer) *session {
	s := &session{
		b:     b,
		cfg:   &b.cfg,
		log:   b.log,
		out:   &output{w: bufio.NewWriterSize(out, 64<<10)},
		xsize: 19, ysize: 19,
		komi:   7.5,
		rules:  b.rules,
		params: params{},
	}
	s.clearBoard()
	return s
}

// clearBoard empties the board and forgets the moves, keeping size, komi and rules.
func (s *session) clearBoard() {
	s.initial = nil
	s.initialPlayer = game.Black
	s.moves = nil
	s.board = s.emptyBoard()
}

func (s *session) emptyBoard() *game.Board {
	b := game.NewBoard(s.xsize, s.ysize)
	b.SetRules(s.rules)
	return b
}

// toMove returns the player whose turn it is.
func (s *session) toMove() game.Color {
	if n := len(s.moves); n > 0 {
		return s.moves[n-1].Color.Opponent()
	}
	return s.initialPlayer
}

// replay rebuilds the board from the initial stones and moves under the session's rules,
// for undo and for rule changes.
func (s *session) replay() (*game.Board, error) {
	b := s.emptyBoard()
	for _, st := range s.initial {
		if err := b.Set(st.Point, st.Color); err != nil {
			return nil, err
		}
	}
	for i, m := range s.moves {
		if m.Pass {
			b.Pass(m.Color)
			continue
		}
		if _, err := b.Play(m.Color, m.Point); err != nil {
			return nil, fmt.Errorf("move %d (%s %s): %w", i+1, m.Color, m.Point.GTP(s.ysize), err)
		}
	}
	return b, nil
}

// play plays a move on the board and records it; an illegal move changes nothing.
func (s *session) play(m game.Move) error {
	if m.Pass {
		s.board.Pass(m.Color)
	} else if _, err := s.board.Play(m.Color, m.Point); err != nil {
		return err
	}
	s.moves = append(s.moves, m)
	return nil
}
