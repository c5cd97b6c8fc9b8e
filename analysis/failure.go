package analysis

import (
	"encoding/json"
	"fmt"
)

// Failure is why a job failed, as a worker stores it in the queue's error field (see
// Encode) and the API reads it back to answer its clients without reading the text.
type Failure struct {
	Code string `json:"code"`
	// Field is the query field KataGo named in its refusal ("moves", "komi", ...).
	Field string `json:"field,omitempty"`
	// Message is KataGo's message for FailureRejected, else the worker's error, which may
	// name the server's files and is not for clients of the KataGo protocol.
	Message string `json:"message"`
}

// Failure codes.
const (
	// FailureRejected: KataGo refused the query; Field and Message are KataGo's.
	FailureRejected = "rejected"
	// FailureWorker: the worker could not complete the job (an engine that kept failing, a
	// panic).
	FailureWorker = "worker_error"
	// FailureInterrupted: the worker shut down before an open-ended search (Spec.Ponder)
	// made its first report. Nothing was wrong with the request: its client asks again,
	// as it does for a search the shutdown ended after a report (game.Turn.Interrupted).
	FailureInterrupted = "interrupted"
	// FailureQueue: the queue failed the job itself, as when its last lease expired.
	FailureQueue = "queue_error"
)

// Encode returns f as the text the queue stores for a failed attempt.
func (f Failure) Encode() string {
	b, _ := json.Marshal(f) // a struct of strings always encodes
	return string(b)
}

// ParseFailure reads the queue's error of a job: what Encode wrote, or a text the queue
// wrote itself (FailureQueue).
func ParseFailure(s string) Failure {
	var f Failure
	if err := json.Unmarshal([]byte(s), &f); err != nil || f.Code == "" {
		return Failure{Code: FailureQueue, Message: s}
	}
	return f
}

// Error is f as a sentence for the people who read a review.
func (f Failure) Error() string {
	switch {
	case f.Code != FailureRejected:
		return f.Message
	case f.Field != "":
		return fmt.Sprintf("katago rejected the query: field %s: %s", f.Field, f.Message)
	default:
		return "katago rejected the query: " + f.Message
	}
}
