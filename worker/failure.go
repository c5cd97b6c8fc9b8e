package worker

import (
	"errors"

	"github.com/tesuji/tesuji/analysis"
	"github.com/tesuji/tesuji/engine"
)

// failureOf is the failure a job's error is stored as: KataGo's refusal under its own
// field and words, anything else as the worker's error.
func failureOf(err error) analysis.Failure {
	if qe, ok := errors.AsType[*engine.QueryError](err); ok {
		return analysis.Failure{Code: analysis.FailureRejected, Field: qe.Field, Message: qe.Message}
	}
	return analysis.Failure{Code: analysis.FailureWorker, Message: err.Error()}
}
