// Package game owns tesuji's model of a Go game: the game record a player uploads (SGF in,
// annotated SGF out), the Go rules needed to reject an illegal record before it is queued
// (captures, occupied points, suicide and ko as each KataGo ruleset treats them), GTP and SGF
// coordinates, the conversion of a game into one KataGo analysis query, and the reading of
// KataGo's answers into per-turn results with point loss and mistake classes.
//
// # Uploads
//
// ParseSGF turns the bytes a player uploaded into a Record: the decoded tree (for annotation),
// the chosen line and the Game that KataGo will analyze. It either succeeds or fails at once
// with an *Error whose message names the line and column, or the move and coordinate, that is
// wrong. The SGF grammar is read by github.com/toikarin/sgf, wrapped as follows, because the
// library on its own panics on some malformed trees, is quadratic in the length of a
// property value, destroys text that is not UTF-8 and rejects a BOM or text before "(;":
//
//   - the size limit (ParseOptions.MaxBytes) is checked before anything else;
//   - the text is decoded to UTF-8 first: a BOM wins, then the root's CA property
//     (GB2312, GBK, Big5, Shift_JIS, EUC-KR, ISO-8859-x, ... through golang.org/x/text);
//   - text before the first "(;" and after the last game tree is dropped;
//   - a linear pre-scan checks the grammar (with line and column in its errors), the node
//     limit (ParseOptions.MaxNodes), unescapes every property value and normalizes FF[3]
//     property names (lower-case letters dropped, as the SGF specification asks);
//   - the library then parses a normalized skeleton of the tree (nodes and variations
//     only, single-child nesting flattened), so its cost stays linear and small, and the
//     decoded properties are attached to its nodes in document order;
//   - a panic inside the library is recovered into an "invalid_sgf" error.
//
// Any input within the default limits parses in well under 100 ms (see the benchmarks).
//
// # Other formats
//
// Parse is the entry point for uploads: it recognizes by content Tygem .gib and WBaduk
// .ngf records (read as KaTrain and Sabaki read them, in EUC-KR, GB2312 or UTF-8) and
// turns them into the SGF tree of the same game, so everything below applies to them;
// a file of another kind (PDF, image, archive, HTML, JSON, UGF, ...) is named in its error.
//
// # Export
//
// Annotate also writes each analyzed position in the forms other programs read back:
// KaTrain's KT (and KTV), Lizzie 0.7.4's LZ and Sabaki's SBKV and SBKS.
//
// # Variations
//
// The main line (the first child at every node) is analyzed unless ParseOptions.Path
// chooses another line: Path lists, for each fork met along the way from the root (a node
// with two or more children), the index of the child to follow, 0 being the main line.
// ParsePath reads the same list written as "1,0,2". After the last entry the first child is
// followed to the end.
//
// # Setup stones
//
// AB, AW and AE before the first move (in the root or in any later node) build the initial
// position that KataGo receives as initialStones. KataGo cannot take setup stones once moves
// have been played, so a record that adds or removes stones after a move is rejected with an
// "unsupported" error naming the move; the player can remove the setup or start a new record
// from that position.
//
// # Perspective
//
// Turn, Review, Summarize and Annotate expect KataGo to report winrates and scores from
// Black's point of view (reportAnalysisWinratesAs = BLACK, as tesuji configures KataGo);
// everything this package stores is from Black's point of view too.
package game
