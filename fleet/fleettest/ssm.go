package fleettest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/tesuji/tesuji/internal/httpfake"
)

// SSM is a fake SSM endpoint that answers GetParameter in the AWS JSON 1.1 protocol
// (POST /, X-Amz-Target: AmazonSSM.GetParameter), the way Parameter Store does: a
// SecureString comes back decrypted only WithDecryption.
type SSM struct {
	// URL is the base URL of the httptest server (NewSSMServer only).
	URL string

	mu       sync.Mutex
	params   map[string]ssmParam
	requests []GetParameterRequest
}

type ssmParam struct{ typ, value string }

// GetParameterRequest is one GetParameter call the fake received.
type GetParameterRequest struct {
	Name           string
	WithDecryption bool
}

// NewSSMServer starts a fake SSM on a loopback httptest server, closed by t.Cleanup.
func NewSSMServer(t testing.TB) *SSM {
	t.Helper()
	s := &SSM{params: make(map[string]ssmParam)}
	s.URL = httpfake.Serve(t, s)
	return s
}

// Put stores a parameter; typ is "String", "StringList" or "SecureString".
func (s *SSM) Put(name, typ, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.params[name] = ssmParam{typ, value}
}

// Requests returns the GetParameter calls received, in order.
func (s *SSM) Requests() []GetParameterRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]GetParameterRequest(nil), s.requests...)
}

// ServeHTTP answers one JSON 1.1 request.
func (s *SSM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
		ssmError(w, http.StatusBadRequest, "SerializationException", "expected a POST of application/x-amz-json-1.1")
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=") {
		ssmError(w, http.StatusBadRequest, "MissingAuthenticationTokenException", "Missing Authentication Token")
		return
	}
	if target := r.Header.Get("X-Amz-Target"); target != "AmazonSSM.GetParameter" {
		ssmError(w, http.StatusBadRequest, "UnknownOperationException", "the fake answers AmazonSSM.GetParameter only, not "+target)
		return
	}
	var req GetParameterRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		ssmError(w, http.StatusBadRequest, "SerializationException", err.Error())
		return
	}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	p, ok := s.params[req.Name]
	s.mu.Unlock()
	if !ok {
		ssmError(w, http.StatusBadRequest, "ParameterNotFound", "")
		return
	}
	value := p.value
	if p.typ == "SecureString" && !req.WithDecryption {
		// Without decryption Parameter Store returns the KMS ciphertext.
		value = base64.StdEncoding.EncodeToString([]byte("kms-ciphertext:" + req.Name))
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	json.NewEncoder(w).Encode(map[string]any{
		"Parameter": map[string]any{
			"ARN":              fmt.Sprintf("arn:aws:ssm:us-east-1:123456789012:parameter/%s", strings.TrimPrefix(req.Name, "/")),
			"DataType":         "text",
			"LastModifiedDate": 1.7e9,
			"Name":             req.Name,
			"Type":             p.typ,
			"Value":            value,
			"Version":          1,
		},
	})
}

func ssmError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
}
