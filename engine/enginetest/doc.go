// Package enginetest holds a fake KataGo analysis engine for tests: of package engine, and
// of every package that runs analyses (its tests can start `tesuji serve --katago` with
// the fake's path).
//
// The fake is a separate program, fakekatago, built by Path. It is invoked exactly like
// KataGo (fakekatago analysis -config C -model M [-override-config k=v,...]
// [-analysis-threads N] [-quit-without-waiting], or fakekatago version) and speaks the same
// protocol, checked against the recorded sessions in package katago/transcript:
//
//   - it reads the config file (numAnalysisThreads, reportAnalysisWinratesAs, maxVisits,
//     analysisPVLen, nnMaxBatchSize) and fails at start like KataGo when the model file
//     does not exist;
//   - it prints KataGo's log lines on stderr, ending with the ready line;
//   - it validates queries as KataGo does, in the same order, and answers with the same
//     error and warning lines, nlohmann's JSON parse errors included;
//   - it runs numAnalysisThreads searches at once, takes queued turns by priority (higher
//     first, then earlier), writes partial reports every reportDuringSearchEvery seconds
//     while a turn is searched and one final result per turn, out of turn order;
//   - it answers query_version (as v1.17.2), query_models, clear_cache, terminate and
//     terminate_all as KataGo does: a terminated turn that never started gets a noResults
//     final before the acknowledgement, a running one its final after it;
//   - on end of input it finishes the queued work and exits.
//
// Results have KataGo's keys, key order and number formats. They are invented but
// deterministic for a position and sensible: values from the side the config names
// (tesuji configures BLACK), winrate and score leaning to whoever has more stones and the
// move, legal candidate moves with visits summing to maxVisits-1 and orders 0..n-1 (none
// for a search of one visit, which evaluates the root alone, as in KataGo),
// principal variations of open points, ownership and policy arrays of the board's size,
// the right player to move after handicap stones, and symmetric moves reported with
// isSymmetryOf on symmetric positions.
//
// Environment variables switch its behaviour (Config passes them through engine.Config.Env):
//
//	TESUJI_FAKE_SPEED=P              positions per second for the whole engine (0 or unset:
//	                                 as fast as it can); searches vary ±40% around it
//	TESUJI_FAKE_VISITS_PER_SECOND=V  visits per second per analysis thread, so a search
//	                                 takes maxVisits/V seconds (the larger of the two wins);
//	                                 with no maxVisits anywhere a search runs until terminated
//	TESUJI_FAKE_CRASH_AFTER=N        exit abruptly after writing N final results (0: on the
//	                                 first analysis query)
//	TESUJI_FAKE_CRASH_ONCE=FILE      crash only if FILE does not exist, creating it, so a
//	                                 restarted engine then works (implies CRASH_AFTER=0 if unset)
//	TESUJI_FAKE_CRASH_MID_LINE=1     the crash comes halfway through writing the next line
//	                                 (after N whole final results, or on the first analysis
//	                                 query's first line), as a process killed mid-write
//	TESUJI_FAKE_HANG_AFTER=N         write nothing more after N final results (0: at once)
//	TESUJI_FAKE_HANG_ONCE=FILE       like CRASH_ONCE, for the hang
//	TESUJI_FAKE_LINE_BYTES=B         pad every final result to at least B bytes with a long
//	                                 principal variation of passes
//	TESUJI_FAKE_READY_DELAY=D        wait D (a Go duration or seconds) before the ready line
//	TESUJI_FAKE_START_ERROR=TEXT     print TEXT on stderr and exit 1 before becoming ready,
//	                                 as KataGo does when a GPU library is missing
//	TESUJI_FAKE_IGNORE_EOF=1         keep running after stdin closes
//	TESUJI_FAKE_IGNORE_SIGTERM=1     ignore SIGTERM, so only SIGKILL ends it
//	TESUJI_FAKE_TRACE=FILE           append every line read from stdin to FILE
//	TESUJI_FAKE_BACKEND=NAME         the backend `fakekatago version` names, as KataGo's
//	                                 build would (CUDA, TensorRT, OpenCL, Eigen(CPU));
//	                                 default dummy
//
// Typical use in a test:
//
//	e := enginetest.Start(t, enginetest.Config(t, enginetest.EnvSpeed+"=100"))
//	err := e.Analyze(ctx, query, fn)
package enginetest
