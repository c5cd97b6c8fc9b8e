package game

import (
	"errors"
	"fmt"
	"strings"
)

// Error codes of *Error. They let a caller tell a file that is not an SGF game record from a
// record that is well formed but describes an illegal game, and both from records tesuji
// refuses for their size or for what KataGo cannot analyze.
const (
	// CodeInvalidSGF: the file is not an SGF game record, or its SGF is broken.
	CodeInvalidSGF = "invalid_sgf"
	// CodeIllegalMove: a move or the initial position breaks the rules of the game.
	CodeIllegalMove = "illegal_move"
	// CodeTooLarge: the file or its tree is larger than the configured limits.
	CodeTooLarge = "too_large"
	// CodeTooManyMoves: the game has more moves than ParseOptions.MaxMoves, a limit on
	// the game rather than on the upload.
	CodeTooManyMoves = "too_many_moves"
	// CodeUnsupported: a valid record that KataGo cannot analyze (board larger than 19x19,
	// another game than Go, setup stones in the middle of the game, ...).
	CodeUnsupported = "unsupported"
	// CodeInvalidPath: ParseOptions.Path does not name a line of the record.
	CodeInvalidPath = "invalid_path"
	// CodeInvalidGame: a Game built by a program (not from SGF) has an invalid field.
	CodeInvalidGame = "invalid_game"
)

// Error is the one error type this package returns for anything a player or a client sent
// wrong. Its message is written for the player and is safe to show as it is; the API answers
// it with status 400. Find it with errors.As.
type Error struct {
	Code string // one of the Code constants

	// Line and Column (1-based, in characters) locate an SGF syntax error; 0 when unknown.
	Line, Column int

	// Move is the 1-based number of the move that is wrong (0: not about a move); Color is
	// "B" or "W" and Coord the move's GTP coordinate (or its SGF text when it is not a point
	// of the board).
	Move  int
	Color string
	Coord string

	// Field names the KataGo query field of a game that is wrong, as its boardXSize,
	// komi or rules ("": no one field, or a move, which Move names).
	Field string

	Msg string // what is wrong, in a player's words
	Err error  // the rule that was broken (ErrOccupied, ErrKo, ...), when there is one
}

// Error reads like "move 37 (W Q16): the point is occupied" or
// "line 3, column 12: unexpected ']'".
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.Line > 0 && e.Column > 0:
		fmt.Fprintf(&b, "line %d, column %d: ", e.Line, e.Column)
	case e.Line > 0:
		fmt.Fprintf(&b, "line %d: ", e.Line)
	case e.Move > 0:
		fmt.Fprintf(&b, "move %d", e.Move)
		switch {
		case e.Color != "" && e.Coord != "":
			fmt.Fprintf(&b, " (%s %s)", e.Color, e.Coord)
		case e.Coord != "":
			fmt.Fprintf(&b, " (%s)", e.Coord)
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the broken rule, so errors.Is(err, ErrKo) works on a rejected record.
func (e *Error) Unwrap() error { return e.Err }

// The rules a move can break. Board.Play returns them as they are; Game.Validate and
// ParseSGF wrap them in an *Error that names the move.
var (
	ErrOffBoard = errors.New("the point is not on the board")
	ErrOccupied = errors.New("the point is occupied")
	ErrSuicide  = errors.New("the move is suicide, which these rules do not allow")
	ErrKo       = errors.New("the move retakes a ko at once")
	ErrSuperko  = errors.New("the move repeats an earlier position, which superko forbids")
	ErrNoColor  = errors.New("the move has no color")
)

func syntaxErrorf(line, col int, format string, args ...any) *Error {
	return &Error{Code: CodeInvalidSGF, Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
}

func errorf(code string, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// fieldErrorf is errorf about the query field field.
func fieldErrorf(field, code string, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Msg: fmt.Sprintf(format, args...)}
}
