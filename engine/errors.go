package engine

import (
	"errors"
	"fmt"
	"strings"
)

// The error kinds every caller of this package sorts errors into. A permanent error fails
// the same way again (KataGo rejected the query); a transient one may succeed on a retry
// (KataGo died, hung or is restarting).
var (
	ErrPermanent = errors.New("engine: permanent error")
	ErrTransient = errors.New("engine: transient error")
)

// Transient errors, each matching ErrTransient with errors.Is.
var (
	// ErrEngineExited: the KataGo process died while the query was in flight.
	ErrEngineExited error = &kindError{"engine: katago exited", ErrTransient}
	// ErrTimeout: KataGo wrote nothing and answered no query_version for
	// Config.TurnTimeout while queries waited; it is killed and restarted.
	ErrTimeout error = &kindError{"engine: katago stopped responding", ErrTransient}
	// ErrNotRunning: the engine is not started, is stopped, or could not restart KataGo.
	ErrNotRunning error = &kindError{"engine: katago is not running", ErrTransient}
)

// ErrProtocol matches ErrPermanent: KataGo wrote a line for the query that this package
// cannot read, which a retry would not change.
var ErrProtocol error = &kindError{"engine: unreadable katago output", ErrPermanent}

type kindError struct {
	msg  string
	kind error
}

func (e *kindError) Error() string        { return e.msg }
func (e *kindError) Is(target error) bool { return target == e.kind }

// QueryError is KataGo's refusal of a query: an {"error","field","id"} line. It is
// permanent: the same query fails the same way again.
type QueryError struct {
	// Field is the query field KataGo names ("moves", "komi", ...), empty when it names none.
	Field string
	// Message is KataGo's message, as it wrote it.
	Message string
}

func (e *QueryError) Error() string {
	if e.Field == "" {
		return "engine: katago rejected the query: " + e.Message
	}
	return fmt.Sprintf("engine: katago rejected the query: field %s: %s", e.Field, e.Message)
}

// Is makes a QueryError match ErrPermanent.
func (e *QueryError) Is(target error) bool { return target == ErrPermanent }

// StartError is a KataGo process that could not be started or never became ready: a
// missing binary, a missing or corrupt model, a GPU library that does not load.
type StartError struct {
	Binary string   // the katago binary
	Model  string   // the network file
	Output []string // the last lines KataGo printed on stderr, oldest first
	Err    error    // what went wrong
}

func (e *StartError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "engine: start katago (binary %s, model %s): %v", e.Binary, e.Model, e.Err)
	if len(e.Output) > 0 {
		b.WriteString("; katago said:")
		for _, l := range e.Output {
			b.WriteString("\n\t")
			b.WriteString(l)
		}
	} else {
		b.WriteString("; katago printed nothing")
	}
	return b.String()
}

func (e *StartError) Unwrap() error { return e.Err }
