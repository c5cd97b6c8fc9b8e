// Package katago holds KataGo's JSON analysis protocol as plain Go types: the queries
// written to `katago analysis` (analyses and actions), and the lines it answers with
// (partial and final results, move infos, root info, action answers, errors and
// warnings). Field names and JSON keys follow KataGo's docs/Analysis_Engine.md (v1.17).
//
// The types are read and written by encoding/json from the standard library. It is
// enough: the protocol is one flat JSON object per line with fixed keys, tools need
// KataGo's fields kept, not its bytes reproduced, and it routes more final results per
// second on one core than a GPU produces (see engine's BenchmarkRouteResults). Decoding
// ignores keys these types do not know, except on Query, which keeps them in Extra so
// that a query passed on to KataGo (the KaTrain websocket) reaches it whole.
//
// Every package that speaks the protocol imports this one; the process driver is engine.
// Package transcript holds recorded sessions of the real KataGo for tests.
package katago
