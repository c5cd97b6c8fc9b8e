// Review.jsx is the review of one analysis at its stable address /review/{id}: it loads
// what is done, follows the rest over Server-Sent Events, and lets the player step through
// the game with buttons, arrow keys, the graph and the move list.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { analyzePosition, cancelAnalysis, downloadSGF, eventsURL, explainJobError, getAnalysis, getVariations, putVariations, sgfURL } from './api.js';
import { Board } from './Board.jsx';
import { Graph } from './Graph.jsx';
import { Mistakes, VariationList } from './Mistakes.jsx';
import { Candidates, MoveList, Position, Summary } from './Panels.jsx';
import { progressWords, quickVisits, reviewProgress } from './Upload.jsx';
import { Positions, classify, isTopMove, mistakeMoves, nextMistake, play, review, sign, summarize, toGTP, toMove, toVertex } from './review.js';

const LIVE = ['queued', 'running'];

function indexTurns(list, total) {
  const turns = Array(total).fill(undefined);
  for (const t of list || []) if (t.turn >= 0 && t.turn < total) turns[t.turn] = t;
  return turns;
}

const Icon = ({ d }) => (
  <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true"><path d={d} fill="currentColor" stroke="currentColor" stroke-width="1.5" stroke-linejoin="round" /></svg>
);

// reviewed adds point loss, class and KataGo's preferred move to the analysis after a
// variation's move, against the analysis before it, as review() does for the game's.
function reviewed(before, after, color) {
  if (!after || !before) return after;
  const d = before.scoreLead - after.scoreLead;
  const loss = color === 'W' ? -d : d;
  return { ...after, pointLoss: loss, mistake: classify(loss), bestMove: before.candidates && before.candidates[0] ? before.candidates[0].move : undefined };
}

// stored is a variation as the API keeps it: final analyses only, without the ownership
// map (the largest part, and the review's size is limited).
const stored = (v) => ({
  at: v.at,
  moves: v.moves,
  turns: v.turns.map((t) => (t && !t.partial ? { ...t, ownership: undefined } : null)),
});

function startMove() {
  const m = location.hash.match(/^#(\d+)$/);
  return m ? Number(m[1]) : 0;
}

export function Review({ id, warnings }) {
  const [game, setGame] = useState(null);
  const [info, setInfo] = useState(null); // status, progress, maxVisits, error
  const [turns, setTurns] = useState([]);
  const [serverSummary, setServerSummary] = useState(null);
  const [error, setError] = useState('');
  const [notice, setNotice] = useState('');
  const [n, setN] = useState(startMove);
  const [hover, setHover] = useState(null);
  const [pin, setPin] = useState(null);
  const [labelMode, setLabelMode] = useState('winrate');
  const [ownership, setOwnership] = useState(false);
  const [copied, setCopied] = useState(false);
  const [who, setWho] = useState('both');
  const [cls, setCls] = useState('mistake');
  const [bestOn, setBestOn] = useState(false);
  const [jumpNote, setJumpNote] = useState('');
  const [bestPinned, setBestPinned] = useState(false);
  // own: the player's variations; view: the variation on screen ({kind: 'own' or
  // 'record', index, pos: moves shown}), null for the game.
  const [own, setOwn] = useState([]);
  const ownRef = useRef([]);
  const [view, setView] = useState(null);
  const source = useRef(null);
  const aborts = useRef([]);

  const total = game ? game.moves.length + 1 : 0;

  // Load the analysis, then follow its events until it ends.
  useEffect(() => {
    let gone = false;
    let pending = [];
    let timer = 0;
    let g = null;

    const apply = (r) => {
      g = r.game;
      setGame(r.game);
      setInfo({ status: r.status, progress: r.progress, maxVisits: r.maxVisits, adaptive: r.adaptive, error: r.error });
      setTurns(indexTurns(r.turns, r.game.moves.length + 1));
      setServerSummary(r.status === 'done' ? r.summary || null : null);
      if (r.status === 'failed') setError(explainJobError(r.error));
      if (r.status === 'cancelled') setNotice('This analysis was cancelled; the moves analyzed before are kept.');
    };

    const reload = async () => {
      try {
        const r = await getAnalysis(id);
        if (!gone) apply(r);
      } catch (e) {
        if (!gone) setError(e.message);
      }
    };

    // Turns arrive in bursts (hundreds at once when the stream replays); fold them into
    // the page a few times a second, not once per event. A turn sent again (an adaptive
    // review's deeper search) replaces the one before, and the point loss of the move
    // after it, judged against the old one, is judged again.
    const flush = () => {
      timer = 0;
      const batch = pending;
      pending = [];
      setTurns((prev) => {
        const next = prev.slice();
        const fresh = (t) => t && { ...t, pointLoss: undefined, mistake: undefined, bestMove: undefined };
        for (const t of batch) {
          if (t.turn < 0 || t.turn >= next.length) continue;
          next[t.turn] = fresh(t);
          if (t.turn + 1 < next.length) next[t.turn + 1] = fresh(next[t.turn + 1]);
        }
        return review(g, next);
      });
      setInfo((i) => ({ ...i, status: i.status === 'queued' ? 'running' : i.status }));
    };

    const follow = () => {
      const es = new EventSource(eventsURL(id));
      source.current = es;
      es.addEventListener('turn', (e) => {
        pending.push(JSON.parse(e.data));
        if (!timer) timer = setTimeout(flush, 80);
        setNotice('');
      });
      const end = (e) => {
        es.close();
        if (timer) { clearTimeout(timer); flush(); }
        if (e.type === 'failed') {
          try { setError(explainJobError(JSON.parse(e.data).error)); } catch { setError(explainJobError('')); }
        }
        reload();
      };
      es.addEventListener('done', end);
      es.addEventListener('failed', end);
      es.addEventListener('cancelled', end);
      es.addEventListener('retry', () => setNotice('A worker stopped; the analysis continues on another. Nothing is lost.'));
      es.addEventListener('error', (e) => {
        // An "error" event the server sent, or the connection dropping: EventSource
        // reconnects by itself, resuming after the last event it saw.
        if (es.readyState === EventSource.CLOSED) setNotice('Lost the connection to the server. Reload the page to continue.');
        else if (e.data || es.readyState === EventSource.CONNECTING) setNotice('Reconnecting to the server…');
      });
      es.addEventListener('open', () => setNotice(''));
    };

    (async () => {
      try {
        const r = await getAnalysis(id);
        if (gone) return;
        apply(r);
        if (LIVE.includes(r.status)) follow();
        const vs = await getVariations(id);
        if (gone) return;
        const list = (vs.variations || []).map((v) => ({ ...v, turns: v.moves.map((_, i) => (v.turns && v.turns[i]) || null) }));
        ownRef.current = list;
        setOwn(list);
      } catch (e) {
        if (!gone) setError(e.message);
      }
    })();
    return () => {
      gone = true;
      for (const a of aborts.current) a.abort();
      clearTimeout(timer);
      source.current && source.current.close();
    };
  }, [id]);

  const positions = useMemo(() => (game ? new Positions(game) : null), [game]);
  const cur = Math.max(0, Math.min(n, Math.max(0, total - 1)));
  const viewed = view && game ? (view.kind === 'own' ? own[view.index] : (game.variations || [])[view.index]) : null;
  const boardShown = useMemo(() => {
    if (!positions) return null;
    if (!viewed) return positions.at(cur);
    let b = positions.at(viewed.at);
    for (const [color, coord] of viewed.moves.slice(0, view.pos)) b = play(b, sign(color), toVertex(coord, game.boardXSize, game.boardYSize));
    return b;
  }, [positions, cur, viewed, view && view.pos]);
  const go = (k) => {
    setN((old) => Math.max(0, Math.min(typeof k === 'function' ? k(old) : k, Math.max(0, total - 1))));
    setHover(null);
    setPin(null);
    setView(null);
    setJumpNote('');
    setBestPinned(false);
    setBestOn(false);
  };

  // The variation on screen, its position and analysis.
  const variation = view && game ? (view.kind === 'own' ? own[view.index] : (game.variations || [])[view.index]) : null;
  const vpos = variation ? Math.min(view.pos, variation.moves.length) : 0;

  const commitOwn = (next, save = true) => {
    ownRef.current = next;
    setOwn(next);
    if (save) putVariations(id, next.map(stored)).catch((e) => setNotice(`Your variations could not be saved: ${e.message}`));
  };

  // analyze asks KataGo about the position after move k of own variation `index`, and
  // keeps what it reports while the variation still has that move.
  const analyze = (index, v, k) => {
    const ctl = new AbortController();
    aborts.current.push(ctl);
    const m = v.moves[k];
    const query = {
      moves: game.moves.slice(0, v.at).concat(v.moves.slice(0, k + 1)),
      initialStones: game.initialStones || [],
      initialPlayer: game.initialPlayer,
      boardXSize: game.boardXSize,
      boardYSize: game.boardYSize,
      komi: game.komi,
      rules: game.rules,
      maxVisits: info.maxVisits,
      includeOwnership: turns.some((t) => t && t.ownership),
      reportEvery: 0.25,
    };
    const keep = (t, final) => {
      const list = ownRef.current.slice();
      const cur = list[index];
      if (!cur || cur.at !== v.at || !cur.moves[k] || cur.moves[k][1] !== m[1] || cur.moves.length <= k) return;
      const ts = cur.turns.slice();
      ts[k] = final ? t : { ...t, partial: true };
      list[index] = { ...cur, turns: ts };
      commitOwn(list, final);
    };
    analyzePosition(query, keep, ctl.signal).catch((e) => {
      if (!ctl.signal.aborted) setNotice(e.message);
    });
  };

  // playAt plays a stone where the player clicked, in a new variation from the position
  // on screen or further along the one shown.
  const playAt = (vertex) => {
    if (!game) return;
    const base = boardShown;
    const color = vpos > 0 ? (variation.moves[vpos - 1][0] === 'B' ? 'W' : 'B') : toMove(game, view ? variation.at : cur, view ? null : turns[cur]);
    try {
      base.makeMove(sign(color), vertex, { preventOverwrite: true, preventSuicide: true, preventKo: true });
    } catch {
      setNotice('That move is not legal here.');
      return;
    }
    setNotice('');
    const m = [color, toGTP(vertex, game.boardYSize)];
    const list = ownRef.current.slice();
    let index;
    let v;
    if (view && view.kind === 'own') {
      index = view.index;
      const cur0 = list[index];
      if (cur0.moves[vpos] && cur0.moves[vpos][1] === m[1] && cur0.moves[vpos][0] === m[0]) {
        setView({ ...view, pos: vpos + 1 });
        return;
      }
      v = { at: cur0.at, moves: [...cur0.moves.slice(0, vpos), m], turns: [...cur0.turns.slice(0, vpos), null] };
      list[index] = v;
    } else {
      const at = view ? variation.at : cur;
      const from = view ? variation.moves.slice(0, vpos) : [];
      v = { at, moves: [...from, m], turns: [...from.map(() => null), null] };
      index = list.length;
      list.push(v);
    }
    commitOwn(list, false);
    setView({ kind: 'own', index, pos: v.moves.length });
    setHover(null);
    setPin(null);
    analyze(index, v, v.moves.length - 1);
  };

  const undo = () => {
    if (!view || view.kind !== 'own' || vpos === 0) return;
    const list = ownRef.current.slice();
    const v = list[view.index];
    if (vpos <= 1) {
      list.splice(view.index, 1);
      commitOwn(list);
      setN(v.at);
      setView(null);
      return;
    }
    list[view.index] = { ...v, moves: v.moves.slice(0, vpos - 1), turns: v.turns.slice(0, vpos - 1) };
    commitOwn(list);
    setView({ ...view, pos: vpos - 1 });
  };

  const leave = () => {
    if (!view) return;
    setN(variation ? variation.at : cur);
    setView(null);
    setHover(null);
    setPin(null);
  };

  const stepMistake = (dir) => {
    const list = mistakeMoves(game, turns, cls, who);
    const to = nextMistake(list, view && variation ? variation.at : cur, dir);
    if (to == null) setJumpNote(`No ${dir > 0 ? 'later' : 'earlier'} move of this class${who === 'both' ? '' : ` by ${who === 'B' ? 'Black' : 'White'}`}.`);
    else go(to);
  };

  // Arrow keys step through the game, as in KaTrain, Lizzie and Sabaki; n and p jump
  // between mistakes, as in KaTrain. The listener calls the handler of the latest render,
  // so a key pressed right after another sees the position that one made.
  const keyHandler = useRef(null);
  useEffect(() => {
    const onKey = (e) => keyHandler.current && keyHandler.current(e);
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, []);
  keyHandler.current = (e) => {
    // Keys typed into a text field are the field's; a focused button or checkbox
    // leaves the arrows to the board.
    if (e.altKey || e.ctrlKey || e.metaKey || e.target.closest?.('input:not([type=checkbox]):not([type=radio]), textarea, select')) return;
    const steps = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -10, ArrowDown: 10, PageUp: -10, PageDown: 10 };
    if (view && variation && (e.key === 'ArrowLeft' || e.key === 'ArrowRight')) {
      setView({ ...view, pos: Math.max(0, Math.min(variation.moves.length, vpos + steps[e.key])) });
      setHover(null);
      setPin(null);
    } else if (e.key === 'Escape') leave();
    else if (e.key === 'Backspace' && view) undo();
    else if (e.key === 'n' || e.key === 'p') stepMistake(e.key === 'n' ? 1 : -1);
    else if (e.key in steps) go((k) => k + steps[e.key]);
    else if (e.key === 'Home') go(0);
    else if (e.key === 'End') go(Infinity);
    else return;
    e.preventDefault();
  };

  // The address names the move on screen, so a copied link opens it.
  useEffect(() => {
    if (!game) return;
    history.replaceState(history.state, '', `/review/${id}${cur > 0 ? `#${cur}` : ''}`);
  }, [cur, game]);

  useEffect(() => {
    if (game) document.title = `${game.black || 'Black'} vs ${game.white || 'White'} · tesuji`;
  }, [game]);

  if (!game) {
    return (
      <main class="review">
        {error ? <p class="error" id="review-error" role="alert">{error}</p> : <p class="muted">Loading the review…</p>}
      </main>
    );
  }

  const status = info.status;
  const progress = reviewProgress(turns, total, info.maxVisits, info.adaptive);
  const done = progress.done;
  // The visits of every search made for the review, as GET /api/v1/analyses/{id} counts
  // them (visitsSpent): a deepened turn's include its quick search.
  const spent = turns.reduce((a, t) => a + (t ? t.visitsSpent || t.visits : 0), 0);
  let turn = turns[cur];
  let move = cur > 0 ? game.moves[cur - 1] : null;
  let title = '';
  let comment = (game.comments || [])[cur] || '';
  let board = boardShown;
  if (variation) {
    const before = vpos > 1 ? variation.turns && variation.turns[vpos - 2] : turns[variation.at];
    move = vpos > 0 ? variation.moves[vpos - 1] : null;
    turn = vpos > 0 ? reviewed(before, variation.turns && variation.turns[vpos - 1], move[0]) : turns[variation.at];
    title = `${view.kind === 'own' ? 'Your variation' : 'The record’s variation'} from move ${variation.at}${move ? ` · ${vpos}: ${move[0]} ${move[1]}` : ''}`;
    comment = view.kind === 'record' && vpos > 0 ? (variation.comments || [])[vpos - 1] || '' : '';
  }
  // On a game move that KataGo would not have played: its preferred move and line.
  const prev = !variation && cur > 0 ? turns[cur - 1] : null;
  const best = prev && turn && turn.mistake && turn.mistake !== 'good' && !isTopMove(turn) && prev.candidates && prev.candidates[0];
  const ghost = best && best.move !== 'pass' ? { move: best.move, sign: sign(move[0]) } : null;
  const showBest = best && (bestOn || bestPinned);
  const pv = hover || pin || (showBest ? best : null);
  const pvBase = !hover && !pin && showBest ? { board: positions.at(cur - 1), player: prev.player } : null;
  const summary = serverSummary || summarize(game, turns);
  const link = `${location.origin}/review/${id}`;
  const percent = status === 'done' ? 100 : progress.percent;

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(link);
    } catch {
      document.getElementById('share-link').select();
    }
    setCopied(true);
  };

  // download fetches the SGF itself, with the token in a header; a click that opens the
  // link elsewhere (a new tab, a modifier) is the browser's.
  const download = (e) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    downloadSGF(id).catch((err) => setNotice(`The SGF could not be downloaded: ${err.message}`));
  };

  return (
    <main class="review">
      <div class="head">
        <h1>
          <span class="stone sb" /> {game.black || 'Black'}{game.blackRank ? ` ${game.blackRank}` : ''}
          <span class="vs">vs</span>
          <span class="stone sw" /> {game.white || 'White'}{game.whiteRank ? ` ${game.whiteRank}` : ''}
        </h1>
        {(game.gameName || game.event || game.date) && (
          <p class="gameinfo" id="game-info">
            {[game.gameName, game.event, game.date].filter(Boolean).join(' · ')}
          </p>
        )}
        <p class="muted">
          {game.boardXSize}×{game.boardYSize} · komi {game.komi} · {game.rules}
          {game.handicap ? ` · handicap ${game.handicap}` : ''}
          {game.result ? <> · <span id="game-result">{game.result}</span></> : ''} ·{' '}
          {info.adaptive ? (
            <span id="review-depth" title="A quick look at every move, a deep search of the moves it is least sure of">
              smart review: {quickVisits(info.maxVisits)} visits a move, {info.maxVisits} for the moves in doubt ·{' '}
              <span id="visits-spent">{spent.toLocaleString('en')}</span> visits spent
            </span>
          ) : (
            <span id="review-depth">{info.maxVisits} visits</span>
          )}
        </p>
      </div>

      <div class={`status s-${status}`} id="status">
        <div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow={percent}>
          <div id="progress-fill" style={{ width: `${percent}%` }} />
        </div>
        <span id="progress-text">
          {status === 'queued' && 'Waiting for a free engine…'}
          {status === 'running' && `KataGo is reading: ${progressWords(progress)} (${percent}%)`}
          {status === 'done' && `Review complete: ${total} positions`}
          {status === 'failed' && `Stopped after ${done} of ${total} positions`}
          {status === 'cancelled' && `Cancelled after ${done} of ${total} positions`}
        </span>
        {LIVE.includes(status) && (
          <button class="link" id="cancel" onClick={() => cancelAnalysis(id).catch((e) => setError(e.message))}>Cancel</button>
        )}
      </div>
      {error && <p class="error" id="review-error" role="alert">{error}</p>}
      {notice && <p class="notice" id="notice">{notice}</p>}
      {(warnings || []).map((w) => <p class="notice" key={w}>{w}</p>)}

      <div class="layout">
        <div class="main">
          <Board
            game={game}
            board={board}
            turn={turn}
            lastMove={move && move[1]}
            pv={pv}
            pinned={pin}
            pvBase={pvBase}
            ghost={pv ? null : ghost}
            onPlay={playAt}
            labelMode={labelMode}
            ownership={ownership}
            onHover={setHover}
            onPin={(c) => setPin((p) => (p && p.move === c.move ? null : c))}
          />
          {variation && (
            <div class="varbar" id="variation-bar">
              <span>{view.kind === 'own' ? 'Your variation' : 'The record’s variation'} from move {variation.at} · {vpos} of {variation.moves.length}</span>
              {view.kind === 'own' && <button id="undo" onClick={undo} title="Take back the last move (Backspace)">Undo</button>}
              <button id="leave" class="primary" onClick={leave} title="Back to the game (Esc)">Back to the game</button>
            </div>
          )}
          {!variation && <p class="hint muted" id="play-hint">Click the board to try your own move; KataGo analyzes it at once.</p>}
          <nav class="navbar">
            <button id="nav-first" onClick={() => go(0)} title="First move (Home)" aria-label="First move"><Icon d="M5 4v16M19 4 8 12l11 8z" /></button>
            <button id="nav-back10" onClick={() => go((k) => k - 10)} title="10 moves back (↑)" aria-label="10 moves back"><Icon d="M12 4 2 12l10 8zM22 4l-10 8 10 8z" /></button>
            <button id="nav-prev" onClick={() => go((k) => k - 1)} title="Previous move (←)" aria-label="Previous move"><Icon d="M17 4 6 12l11 8z" /></button>
            <span class="counter" id="counter">{cur} / {total - 1}</span>
            <button id="nav-next" onClick={() => go((k) => k + 1)} title="Next move (→)" aria-label="Next move"><Icon d="m7 4 11 8-11 8z" /></button>
            <button id="nav-fwd10" onClick={() => go((k) => k + 10)} title="10 moves forward (↓)" aria-label="10 moves forward"><Icon d="m2 4 10 8-10 8zM12 4l10 8-10 8z" /></button>
            <button id="nav-last" onClick={() => go(Infinity)} title="Last move (End)" aria-label="Last move"><Icon d="M19 4v16M5 4l11 8-11 8z" /></button>
          </nav>
          <div class="toggles">
            <span class="seg" role="group" aria-label="Candidate labels">
              <button id="label-winrate" class={labelMode === 'winrate' ? 'on' : ''} onClick={() => setLabelMode('winrate')}>Winrate</button>
              <button id="label-score" class={labelMode === 'score' ? 'on' : ''} onClick={() => setLabelMode('score')}>Score</button>
            </span>
            <span class="muted small" id="label-note">labels: {turn ? (turn.player === 'W' ? 'White' : 'Black') : 'the side to move'}’s view</span>
            <label class="check">
              <input
                id="ownership"
                type="checkbox"
                checked={ownership}
                disabled={!turns.some((t) => t && t.ownership)}
                onChange={(e) => setOwnership(e.currentTarget.checked)}
              />
              Territory
            </label>
          </div>
        </div>

        <aside class="side">
          <Graph total={total} turns={turns} current={cur} onSelect={go} />
          <Position
            game={game}
            n={cur}
            turn={turn}
            move={move}
            title={title}
            best={best}
            bestOn={showBest}
            comment={comment}
            onBest={(on) => (on === 'toggle' ? setBestPinned((p) => !p) : setBestOn(on))}
          />
          <Candidates turn={turn} pv={pv} onHover={setHover} onPin={(c) => setPin((p) => (p && p.move === c.move ? null : c))} />
          <Mistakes game={game} turns={turns} current={cur} who={who} setWho={setWho} cls={cls} setCls={setCls} onSelect={go} onStep={stepMistake} note={jumpNote} />
          <VariationList
            id="own-variations"
            title="Your variations"
            list={own}
            open={view && view.kind === 'own' ? view.index : -1}
            onOpen={(i) => { setView({ kind: 'own', index: i, pos: own[i].moves.length }); setHover(null); setPin(null); }}
            onDelete={(i) => { const list = own.slice(); list.splice(i, 1); commitOwn(list); setView(null); }}
          />
          <VariationList
            id="record-variations"
            title="Variations in the record"
            list={game.variations || []}
            open={view && view.kind === 'record' ? view.index : -1}
            onOpen={(i) => { setView({ kind: 'record', index: i, pos: 1 }); setHover(null); setPin(null); }}
          />
          <MoveList game={game} turns={turns} current={cur} onSelect={go} />
          <Summary game={game} summary={done > 1 ? summary : null} />
          <section class="share">
            <a class="button primary" id="download" href={sgfURL(id)} onClick={download}>Download annotated SGF</a>
            <div class="linkrow">
              <input id="share-link" readOnly value={link} onFocus={(e) => e.currentTarget.select()} aria-label="Link to this review" />
              <button onClick={copy}>{copied ? 'Copied' : 'Copy link'}</button>
            </div>
          </section>
        </aside>
      </div>
    </main>
  );
}
