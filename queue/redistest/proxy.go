package redistest

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/tidwall/redcon"
)

// Proxy forwards TCP connections to a server and can stall them: a client that dials the
// proxy is cut off from Redis (its commands wait, unanswered) while other clients go on, as
// in a network partition. It can also lose the reply of a script call after Redis ran it
// (DropReplies), as a connection that breaks at the wrong moment does.
type Proxy struct {
	ln       net.Listener
	upstream string
	done     chan struct{} // closed by close
	wg       sync.WaitGroup

	mu     sync.Mutex
	open   chan struct{} // closed while forwarding; replaced by Stall
	conns  map[net.Conn]struct{}
	closed bool

	// What DropReplies set up, and what came of it.
	pick    func(sha string) bool
	between func(sha string)
	pending map[string]bool // scripts whose call waits for its reply to be lost
	spent   map[string]bool // scripts whose reply was lost
	dropped []string
}

// link is one client connection and its connection to Redis.
type link struct {
	client, server net.Conn
	armed          string // the script whose reply this link loses next; guarded by Proxy.mu
}

// Proxy starts a proxy to the server, closed when the test ends. Not for unix sockets.
func (s *Server) Proxy(t testing.TB) *Proxy {
	t.Helper()
	if s.sock != "" {
		t.Fatal("redistest: Proxy forwards TCP; this server listens on a unix socket")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("redistest: proxy: %v", err)
	}
	p := &Proxy{ln: ln, upstream: s.Addr(), done: make(chan struct{}), open: make(chan struct{}),
		conns: map[net.Conn]struct{}{}}
	close(p.open)
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// Addr is the proxy's host:port, for the client to cut off.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Stall stops forwarding in both directions; connections stay open and bytes wait.
func (p *Proxy) Stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.open:
		p.open = make(chan struct{})
	default:
	}
}

// Resume forwards again, the waiting bytes first.
func (p *Proxy) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.open:
	default:
		close(p.open)
	}
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.upstream)
		if err != nil {
			c.Close()
			continue
		}
		if !p.track(c, up) {
			return
		}
		l := &link{client: c, server: up}
		p.wg.Add(2)
		go p.commands(l)
		go p.replies(l)
	}
}

// DropReplies makes the proxy lose one reply of each script that pick accepts (nil: every
// script), named by the SHA1 of its source as EVALSHA names it: the first call of the
// script that Redis runs has its connection cut after Redis has answered and before the
// answer reaches the client. A client that resends the call (go-redis does) runs the script
// a second time. between, when not nil, runs on the proxy's goroutine after Redis has run
// the call and before the connection is cut, so a test can change something before the
// resend. A call that Redis answers with NOSCRIPT did not run: the next call of the script
// is the one.
func (p *Proxy) DropReplies(pick func(sha string) bool, between func(sha string)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pick == nil {
		pick = func(string) bool { return true }
	}
	p.pick, p.between = pick, between
	p.pending, p.spent = map[string]bool{}, map[string]bool{}
}

// Dropped returns the SHA1s of the scripts whose reply the proxy lost, in that order.
func (p *Proxy) Dropped() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.dropped...)
}

// scriptSHA names the script a command runs, or "" for a command that runs none.
func scriptSHA(args [][]byte) string {
	if len(args) < 2 {
		return ""
	}
	switch strings.ToUpper(string(args[0])) {
	case "EVALSHA", "EVALSHA_RO":
		return strings.ToLower(string(args[1]))
	case "EVAL", "EVAL_RO":
		sum := sha1.Sum(args[1])
		return hex.EncodeToString(sum[:])
	}
	return ""
}

// arm marks the link to lose the reply of this command if it is a script call to drop.
func (p *Proxy) arm(l *link, args [][]byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pick == nil || l.armed != "" {
		return
	}
	sha := scriptSHA(args)
	if sha == "" || p.spent[sha] || p.pending[sha] || !p.pick(sha) {
		return
	}
	p.pending[sha] = true
	l.armed = sha
}

// commands forwards the client's commands to Redis one by one, arming the link on the way.
func (p *Proxy) commands(l *link) {
	defer p.wg.Done()
	defer l.server.Close()
	defer l.client.Close()
	rd := redcon.NewReader(l.client)
	for {
		cmds, err := rd.ReadCommands()
		for _, c := range cmds {
			if !p.wait() {
				return
			}
			p.arm(l, c.Args)
			if _, err := l.server.Write(c.Raw); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

var noScript = []byte("-NOSCRIPT")

// replies forwards Redis's replies to the client, except the one the link is armed to lose:
// then it cuts both connections.
func (p *Proxy) replies(l *link) {
	defer p.wg.Done()
	defer l.client.Close()
	defer l.server.Close()
	buf := make([]byte, 32<<10)
	var held []byte
	for {
		n, err := l.server.Read(buf)
		if n > 0 {
			if !p.wait() {
				return
			}
			out := buf[:n]
			p.mu.Lock()
			sha := l.armed
			p.mu.Unlock()
			if sha != "" {
				held = append(held, out...)
				if len(held) < len(noScript) && bytes.HasPrefix(noScript, held) {
					continue // too little to tell a NOSCRIPT error yet
				}
				if !bytes.HasPrefix(held, noScript) {
					p.lose(l, sha)
					return
				}
				p.mu.Lock()
				l.armed = ""
				delete(p.pending, sha)
				p.mu.Unlock()
				out, held = held, nil
			}
			if _, err := l.client.Write(out); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// lose records the lost reply and runs the test's between; the caller then cuts the link.
func (p *Proxy) lose(l *link, sha string) {
	p.mu.Lock()
	l.armed = ""
	delete(p.pending, sha)
	p.spent[sha] = true
	p.dropped = append(p.dropped, sha)
	between := p.between
	p.mu.Unlock()
	if between != nil {
		between(sha)
	}
}

// wait holds the caller while the proxy is stalled; false once the proxy is closed.
func (p *Proxy) wait() bool {
	p.mu.Lock()
	open := p.open
	p.mu.Unlock()
	select {
	case <-open:
		return true
	case <-p.done:
		return false
	}
}

func (p *Proxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		for _, c := range conns {
			c.Close()
		}
		return false
	}
	for _, c := range conns {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *Proxy) close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	close(p.done)
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.ln.Close()
	p.wg.Wait()
}
