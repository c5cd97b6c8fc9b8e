// Package engine drives KataGo's JSON analysis engine: it is the only code in tesuji that
// talks to KataGo.
//
// An Engine owns one `katago analysis` process (one per GPU). It writes KataGo's config
// file from typed settings, starts the process and waits for its ready line, writes one
// JSON query per line under ids it assigns, and routes every response line back to the
// query it belongs to by id and turn number: partial reports, warnings and exactly one
// final result per requested turn, in arrival order. KataGo's {"error","field","id"} lines
// become *QueryError (permanent); a dead or hung process fails every query in flight with
// an error matching ErrTransient and is restarted with backoff. A caller whose context
// ends gets its query terminated in KataGo.
//
// The protocol's types (Query, Response, MoveInfo, ...) are package katago's; this
// package only moves them.
//
// Typical use:
//
//	e := engine.New(engine.Config{Model: "kata1-b18.bin.gz", Logger: log})
//	if err := e.Start(ctx); err != nil { ... }
//	defer e.Stop(shutdownCtx)
//	err := e.Analyze(ctx, &katago.Query{...}, func(r *katago.Response) error {
//		if r.Final() { ... }
//		return nil
//	})
//
// Package enginetest holds a fake KataGo for tests of this package and of its users.
package engine
