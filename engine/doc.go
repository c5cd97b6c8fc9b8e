// Package engine drives KataGo's JSON analysis engine: it is the only code in tesuji that
// talks to KataGo.
//
// An Engine owns one `katago analysis` process (one per GPU). It writes KataGo's config
// file from typed settings, starts the process and waits for its ready line, writes one
// JSON query per line under ids it assigns, and routes every response line back to the
// query it belongs to by id and turn number: partial reports, warnings and exactly one
// final result per requested turn, in arrival order. KataGo's {"error","field","id"} lines
// become *QueryError (permanent); a dead or hung process fails every query in flight with
// an error matching ErrTransient (a line cut off by the death included) and is restarted
// with backoff. A hang is the absence of any sign of life, not a long search: a silent
// KataGo is probed with query_version. A caller whose context
// ends gets its query terminated in KataGo; one whose context Stoppable made can instead
// terminate it and still receive its finals, KataGo's noResults or its search so far.
//
// Start fits KataGo's threads and batch size to the backend `katago version` names and to
// the machine (Fit): two positions per core of one search thread each on a CPU, KataGo's
// throughput settings on a GPU, refined on a GPU's first start by a short measurement
// cached per binary, network and device in Config.CacheDir. Config.Work picks throughput
// settings for reviews or latency settings for interactive work (Config.ForInteractive);
// a process tuned for reviews that serves interactive work too gives those queries the
// latency settings' search threads (Engine.InteractiveQuery). Settings Config sets, or
// Config.ConfigFile, win. Engine.Tuning reports the choice.
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
