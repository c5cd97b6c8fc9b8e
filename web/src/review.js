// review.js holds the page's Go logic without any DOM: coordinates, positions, point loss,
// mistake classes and the per-player summary. Point loss and the summary follow the
// server's game package (game/turn.go) so a review reads the same while it fills in live
// (from turn events, which carry no point loss) as after it is done (from the whole result).
import GoBoard from '@sabaki/go-board';
import classesFile from './classes.json';

export const CLASSES = classesFile.classes;
const CLASS_BY_NAME = Object.fromEntries(CLASSES.map((c) => [c.name, c]));

export function classOf(name) {
  return CLASS_BY_NAME[name] || null;
}

// classify returns the mistake class of a move that lost `loss` points, rounded to the
// tenth the page shows (as game.Classify does): a loss shown as 6.0 is a mistake.
export function classify(loss) {
  loss = Math.round(loss * 10) / 10;
  for (const c of CLASSES) {
    if (c.minLoss == null || loss >= c.minLoss) return c.name;
  }
  return 'good';
}

const LETTERS = 'ABCDEFGHJKLMNOPQRSTUVWXYZ';

// toVertex turns a GTP coordinate ("Q16") into a Shudan vertex [x, y] with y = 0 at the
// top; a pass or anything off the board is null.
export function toVertex(gtp, width, height) {
  if (!gtp || gtp.length < 2) return null;
  const x = LETTERS.indexOf(gtp[0].toUpperCase());
  const row = Number(gtp.slice(1));
  if (x < 0 || x >= width || !Number.isInteger(row) || row < 1 || row > height) return null;
  return [x, height - row];
}

export function toGTP([x, y], height) {
  return LETTERS[x] + (height - y);
}

export const sign = (player) => (player === 'W' || player === 'w' ? -1 : 1);

// Positions replays a game and keeps every position it has built.
export class Positions {
  constructor(game) {
    this.game = game;
    const w = game.boardXSize;
    const h = game.boardYSize;
    let b = GoBoard.fromDimensions(w, h);
    for (const [color, coord] of game.initialStones || []) {
      const v = toVertex(coord, w, h);
      if (v) b.set(v, sign(color));
    }
    this.boards = [b];
  }

  // at returns the board after n moves.
  at(n) {
    const { game, boards } = this;
    n = Math.max(0, Math.min(n, game.moves.length));
    while (boards.length <= n) {
      const i = boards.length - 1;
      const [color, coord] = game.moves[i];
      boards.push(play(boards[i], sign(color), toVertex(coord, game.boardXSize, game.boardYSize)));
    }
    return boards[n];
  }
}

// play returns the board after a move; a pass, or a move the board cannot take, leaves it
// as it is (the server validated the game; a PV may run into anything).
export function play(board, s, vertex) {
  if (!vertex) return board;
  try {
    return board.makeMove(s, vertex, { preventOverwrite: true });
  } catch {
    return board;
  }
}

// toMove is the side to move after n moves.
export function toMove(game, n, turn) {
  if (turn && turn.player) return turn.player;
  if (n < game.moves.length) return game.moves[n][0];
  if (n > 0) return game.moves[n - 1][0] === 'B' ? 'W' : 'B';
  return game.initialPlayer || 'B';
}

// moveLoss is the point loss of the move that led to `after`, from the mover's side, as
// the server computes it: the score lead before minus the score lead after.
export function moveLoss(game, before, after) {
  const d = before.scoreLead - after.scoreLead;
  return game.moves[after.turn - 1][0] === 'W' ? -d : d;
}

// review fills pointLoss, mistake and bestMove of every turn whose previous turn is known,
// as the server does for the whole result. turns is indexed by turn number.
export function review(game, turns) {
  for (let t = 1; t < turns.length; t++) {
    const after = turns[t];
    const before = turns[t - 1];
    if (!after || !before || after.pointLoss != null) continue;
    const loss = moveLoss(game, before, after);
    turns[t] = {
      ...after,
      pointLoss: loss,
      mistake: classify(loss),
      bestMove: before.candidates && before.candidates.length ? before.candidates[0].move : undefined,
    };
  }
  return turns;
}

// summarize reviews each player's moves as game.Summarize does.
export function summarize(game, turns) {
  const empty = (name) => ({
    name,
    moves: 0,
    classes: Object.fromEntries(CLASSES.map((c) => [c.name, 0])),
    avgPointLoss: 0,
    topMoves: 0,
    topMoveAgreement: 0,
  });
  const s = { black: empty(game.black), white: empty(game.white) };
  const lossSum = { black: 0, white: 0 };
  const withCands = { black: 0, white: 0 };
  for (let t = 1; t <= game.moves.length && t < turns.length; t++) {
    const after = turns[t];
    const before = turns[t - 1];
    if (!after || !before) continue;
    const [color, coord] = game.moves[t - 1];
    const k = color === 'W' ? 'white' : 'black';
    const loss = moveLoss(game, before, after);
    s[k].moves++;
    s[k].classes[classify(loss)]++;
    lossSum[k] += Math.max(0, loss);
    if (before.candidates && before.candidates.length) {
      withCands[k]++;
      if (before.candidates[0].move === coord) s[k].topMoves++;
    }
  }
  for (const k of ['black', 'white']) {
    if (s[k].moves) s[k].avgPointLoss = lossSum[k] / s[k].moves;
    if (withCands[k]) s[k].topMoveAgreement = s[k].topMoves / withCands[k];
  }
  return s;
}

// candidateLoss is what playing a candidate instead of KataGo's expectation of the
// position costs the side to move, in points.
export function candidateLoss(turn, c) {
  const d = turn.scoreLead - c.scoreLead;
  return turn.player === 'W' ? -d : d;
}

// shownCandidates picks the candidates worth drawing: the best always, then those with
// a fair share of the search, at most `limit`.
export function shownCandidates(turn, limit = 12) {
  const cands = (turn && turn.candidates) || [];
  if (!cands.length) return [];
  const top = Math.max(...cands.map((c) => c.visits));
  return cands
    .filter((c, i) => i === 0 || c.visits >= Math.max(1, top * 0.02))
    .filter((c) => c.move && c.move !== 'pass')
    .slice(0, limit);
}

// pvBoard plays a principal variation from a position and returns the board and the
// move number label of each stone it placed.
export function pvBoard(board, player, pv, width, height) {
  let b = board;
  let s = sign(player);
  const labels = [];
  for (let i = 0; i < pv.length; i++) {
    const v = toVertex(pv[i], width, height);
    if (v) {
      b = play(b, s, v);
      labels.push([v, String(i + 1)]);
    }
    s = -s;
  }
  return { board: b, labels };
}

// Formatting, from the side to move where the value is Black's.
export const pct = (x) => `${(x * 100).toFixed(1)}%`;
export const signed = (x) => (x >= 0 ? '+' : '−') + Math.abs(x).toFixed(1);
export function shortCount(n) {
  if (n >= 10000) return `${Math.round(n / 1000)}k`;
  if (n >= 1000) return `${(n / 1000).toFixed(1)}k`;
  return String(n);
}

// rank is a class's place from the worst (0 = blunder); unknown classes rank last.
export function rank(name) {
  const i = CLASSES.findIndex((c) => c.name === name);
  return i < 0 ? CLASSES.length : i;
}

// mover is the colour ("B" or "W") of move n (1-based) of the game.
export const mover = (game, n) => (n >= 1 && n <= game.moves.length ? game.moves[n - 1][0] : '');

// mistakeMoves lists the moves (numbers, in game order) of at least the class `atLeast`
// by the chosen player ("both", "B" or "W").
export function mistakeMoves(game, turns, atLeast, who) {
  const limit = rank(atLeast);
  const out = [];
  for (let n = 1; n < turns.length; n++) {
    const t = turns[n];
    if (!t || !t.mistake || rank(t.mistake) > limit) continue;
    if (who !== 'both' && mover(game, n) !== who) continue;
    out.push(n);
  }
  return out;
}

// nextMistake is the first listed move after `from` (dir 1) or before it (dir -1), or
// null when there is none that way.
export function nextMistake(list, from, dir) {
  if (dir > 0) return list.find((n) => n > from) ?? null;
  for (let i = list.length - 1; i >= 0; i--) if (list[i] < from) return list[i];
  return null;
}

// worstMoves lists the moves that lost the most points, worst first, at most `limit`.
export function worstMoves(game, turns, who, limit = 10) {
  const out = [];
  for (let n = 1; n < turns.length; n++) {
    const t = turns[n];
    if (!t || t.pointLoss == null || t.pointLoss < 0.05) continue;
    if (who !== 'both' && mover(game, n) !== who) continue;
    out.push({ n, loss: t.pointLoss, mistake: t.mistake, color: mover(game, n), move: game.moves[n - 1][1] });
  }
  out.sort((a, b) => b.loss - a.loss || a.n - b.n);
  return out.slice(0, limit);
}

// isTopMove reports whether the move that led to the turn was KataGo's top move.
export const isTopMove = (turn) => !!(turn && turn.bestMove && turn.move && turn.bestMove.toUpperCase() === turn.move.toUpperCase());
