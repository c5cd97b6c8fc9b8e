// Package gtp owns the GTP engine behind `tesuji gtp`: it speaks GTP version 2 on a
// reader and a writer (stdin and stdout) to Lizzie, Sabaki and other GUIs exactly as
// KataGo's own `katago gtp` does, and forwards every search to a tesuji server.
//
// # The board
//
// The bridge keeps the game itself (board size, komi, rules, handicap and setup stones,
// the moves) on a game.Board, so board commands (play, undo, clear_board, showboard, ...)
// are checked for legality and answered at once, whether the server is fast, slow or
// down. Every request to the server carries the whole move list.
//
// # Analysis
//
// kata-analyze and lz-analyze answer "=id" at once and open one streaming
// POST /api/v1/positions request whose partial reports (one every interval) become
// `info move ...` lines in KataGo's format: kata-analyze's field names and order and C++
// number formatting, lz-analyze's integers times 10000, winrates and scores from the side
// to move (the server reports Black's view). The next input line, even an empty one,
// ends the stream with a blank line and closes the request, which makes the server stop
// KataGo's search at once. genmove asks for one final result and plays its best legal
// move; lz-genmove_analyze and kata-genmove_analyze stream the search first.
//
// # A server that is down
//
// A server that cannot be reached, or that is restarting (a spot instance booting),
// never blocks the GUI: board commands keep answering, an analysis command answers "="
// and logs a notice, then retries until the server is back and the info lines begin;
// genmove and final_score answer a "? " error that says the server is unreachable.
//
// # Output
//
// Nothing but GTP goes to the writer. Notices and errors go to Config.Logger, which
// `tesuji gtp` sends to a file, or to stderr only when asked (Lizzie shows stderr in its
// console).
package gtp
