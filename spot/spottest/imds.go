// Package spottest holds a fake EC2 instance metadata service (IMDSv2 only) for tests
// of spot.Watcher and of the worker that runs one: a test starts it, points the
// watcher at it (spot.Config.Endpoint = s.URL), and calls Interrupt to deliver a
// spot interruption notice at the moment it chooses.
package spottest

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tesuji/tesuji/internal/httpfake"
)

// Paths the fake serves.
const (
	PathToken          = "/latest/api/token"
	PathInstanceID     = "/latest/meta-data/instance-id"
	PathInstanceAction = "/latest/meta-data/spot/instance-action"
	PathRebalance      = "/latest/meta-data/events/recommendations/rebalance"
)

const (
	headerToken    = "X-Aws-Ec2-Metadata-Token"
	headerTokenTTL = "X-Aws-Ec2-Metadata-Token-Ttl-Seconds"
)

// IMDS is the fake metadata service. It is an http.Handler; NewServer also serves it
// on a loopback httptest server. Like a real instance launched with HttpTokens
// required, it answers metadata requests only with a current session token (401
// otherwise), and answers 404 for a notice that has not been issued.
type IMDS struct {
	// URL is the base URL of the httptest server (NewServer only).
	URL string

	mu         sync.Mutex
	instanceID string
	tokens     map[string]time.Time // token -> expiry
	action     []byte               // instance-action body; nil means 404
	rebalance  []byte               // rebalance body; nil means 404
	failures   map[string][]int     // path -> statuses to serve before answering normally
	counts     map[string]int       // path -> requests served
	unauth     int                  // 401s served
	polls      []time.Time          // when instance-action was asked with a valid token
}

// New returns a fake with the given instance id and no notice.
func New(instanceID string) *IMDS {
	return &IMDS{
		instanceID: instanceID,
		tokens:     make(map[string]time.Time),
		failures:   make(map[string][]int),
		counts:     make(map[string]int),
	}
}

// NewServer starts the fake on a loopback httptest server, closed by t.Cleanup.
func NewServer(t testing.TB, instanceID string) *IMDS {
	t.Helper()
	m := New(instanceID)
	m.URL = httpfake.Serve(t, m)
	return m
}

// Client returns an HTTP client that calls the handler in memory, for tests inside a
// testing/synctest bubble, where a loopback connection would keep the bubble from
// ever being idle.
func (m *IMDS) Client() *httpfake.Client { return &httpfake.Client{Handler: m} }

// Interrupt issues a spot interruption notice: from now on instance-action answers
// {"action": action, "time": at}.
func (m *IMDS) Interrupt(action string, at time.Time) {
	body, err := json.Marshal(map[string]string{"action": action, "time": at.UTC().Format(time.RFC3339)})
	if err != nil {
		panic(err) // a map of strings always encodes
	}
	m.SetInstanceAction(body)
}

// SetInstanceAction makes instance-action answer 200 with body as it is (malformed
// JSON included); nil makes it answer 404 again.
func (m *IMDS) SetInstanceAction(body []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.action = body
}

// Rebalance issues a rebalance recommendation noticed at at.
func (m *IMDS) Rebalance(at time.Time) {
	body, err := json.Marshal(map[string]string{"noticeTime": at.UTC().Format(time.RFC3339)})
	if err != nil {
		panic(err)
	}
	m.SetRebalance(body)
}

// SetRebalance makes the rebalance recommendation answer 200 with body as it is; nil
// makes it answer 404 again.
func (m *IMDS) SetRebalance(body []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rebalance = body
}

// Fail makes the next len(statuses) requests to path answer those statuses (with a
// valid token or not) before the path answers normally again.
func (m *IMDS) Fail(path string, statuses ...int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failures[path] = append(m.failures[path], statuses...)
}

// ExpireTokens revokes every token issued so far, as when the service restarts or a
// token outlives its TTL: requests that carry one get 401 until a new one is fetched.
func (m *IMDS) ExpireTokens() {
	m.mu.Lock()
	defer m.mu.Unlock()
	clear(m.tokens)
}

// Requests returns how many requests path has received, answered or not.
func (m *IMDS) Requests(path string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.counts[path]
}

// Unauthorized returns how many 401s were served.
func (m *IMDS) Unauthorized() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.unauth
}

// Polls returns when instance-action was asked with a valid token, in order.
func (m *IMDS) Polls() []time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]time.Time(nil), m.polls...)
}

// ServeHTTP answers like IMDSv2 with HttpTokens required.
func (m *IMDS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.counts[r.URL.Path]++
	if st := m.failures[r.URL.Path]; len(st) > 0 {
		m.failures[r.URL.Path] = st[1:]
		http.Error(w, http.StatusText(st[0]), st[0])
		return
	}
	if r.URL.Path == PathToken {
		m.serveToken(w, r)
		return
	}
	if r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	exp, ok := m.tokens[r.Header.Get(headerToken)]
	if !ok || !time.Now().Before(exp) {
		m.unauth++
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	var body []byte
	switch r.URL.Path {
	case PathInstanceID:
		body = []byte(m.instanceID)
	case PathInstanceAction:
		m.polls = append(m.polls, time.Now())
		body = m.action
	case PathRebalance:
		body = m.rebalance
	}
	if body == nil {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Write(body)
}

func (m *IMDS) serveToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPut {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	ttl, err := strconv.Atoi(r.Header.Get(headerTokenTTL))
	if err != nil || ttl < 1 || ttl > 21600 {
		http.Error(w, "bad request: token ttl", http.StatusBadRequest)
		return
	}
	tok := rand.Text()
	m.tokens[tok] = time.Now().Add(time.Duration(ttl) * time.Second)
	w.Header().Set(headerTokenTTL, strconv.Itoa(ttl))
	fmt.Fprint(w, tok)
}
