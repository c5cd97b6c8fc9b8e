// Review.jsx is the review of one analysis at its stable address /review/{id}: it loads
// what is done, follows the rest over Server-Sent Events, and lets the player step through
// the game with buttons, arrow keys, the graph and the move list.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { cancelAnalysis, eventsURL, explainJobError, getAnalysis, sgfURL } from './api.js';
import { Board } from './Board.jsx';
import { Graph } from './Graph.jsx';
import { Candidates, MoveList, Position, Summary } from './Panels.jsx';
import { Positions, review, summarize } from './review.js';

const LIVE = ['queued', 'running'];

function indexTurns(list, total) {
  const turns = Array(total).fill(undefined);
  for (const t of list || []) if (t.turn >= 0 && t.turn < total) turns[t.turn] = t;
  return turns;
}

const Icon = ({ d }) => (
  <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true"><path d={d} fill="currentColor" stroke="currentColor" stroke-width="1.5" stroke-linejoin="round" /></svg>
);

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
  const source = useRef(null);

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
      setInfo({ status: r.status, progress: r.progress, maxVisits: r.maxVisits, error: r.error });
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
    // the page a few times a second, not once per event.
    const flush = () => {
      timer = 0;
      const batch = pending;
      pending = [];
      setTurns((prev) => {
        const next = prev.slice();
        for (const t of batch) if (t.turn >= 0 && t.turn < next.length && !next[t.turn]) next[t.turn] = t;
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
      } catch (e) {
        if (!gone) setError(e.message);
      }
    })();
    return () => {
      gone = true;
      clearTimeout(timer);
      source.current && source.current.close();
    };
  }, [id]);

  const positions = useMemo(() => (game ? new Positions(game) : null), [game]);
  const cur = Math.max(0, Math.min(n, Math.max(0, total - 1)));
  const go = (k) => {
    setN((old) => Math.max(0, Math.min(typeof k === 'function' ? k(old) : k, Math.max(0, total - 1))));
    setHover(null);
    setPin(null);
  };

  // Arrow keys step through the game, as in KaTrain, Lizzie and Sabaki.
  useEffect(() => {
    const onKey = (e) => {
      // Keys typed into a text field are the field's; a focused button or checkbox
      // leaves the arrows to the board.
      if (e.altKey || e.ctrlKey || e.metaKey || e.target.closest?.('input:not([type=checkbox]):not([type=radio]), textarea, select')) return;
      const steps = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -10, ArrowDown: 10, PageUp: -10, PageDown: 10 };
      if (e.key in steps) go((k) => k + steps[e.key]);
      else if (e.key === 'Home') go(0);
      else if (e.key === 'End') go(Infinity);
      else return;
      e.preventDefault();
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, [total]);

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
  const done = turns.filter(Boolean).length;
  const turn = turns[cur];
  const move = cur > 0 ? game.moves[cur - 1] : null;
  const pv = hover || pin;
  const summary = serverSummary || summarize(game, turns);
  const link = `${location.origin}/review/${id}`;
  const percent = total ? Math.round((done / total) * 100) : 0;

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(link);
    } catch {
      document.getElementById('share-link').select();
    }
    setCopied(true);
  };

  return (
    <main class="review">
      <div class="head">
        <h1>
          <span class="stone sb" /> {game.black || 'Black'}{game.blackRank ? ` ${game.blackRank}` : ''}
          <span class="vs">vs</span>
          <span class="stone sw" /> {game.white || 'White'}{game.whiteRank ? ` ${game.whiteRank}` : ''}
        </h1>
        <p class="muted">
          {game.boardXSize}×{game.boardYSize} · komi {game.komi} · {game.rules}
          {game.handicap ? ` · handicap ${game.handicap}` : ''}
          {game.result ? ` · ${game.result}` : ''} · {info.maxVisits} visits
        </p>
      </div>

      <div class={`status s-${status}`} id="status">
        <div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax={total} aria-valuenow={done}>
          <div id="progress-fill" style={{ width: `${percent}%` }} />
        </div>
        <span id="progress-text">
          {status === 'queued' && 'Waiting for a free engine…'}
          {status === 'running' && `KataGo is reading: ${done} of ${total} positions (${percent}%)`}
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
            board={positions.at(cur)}
            turn={turn}
            lastMove={move && move[1]}
            pv={pv}
            labelMode={labelMode}
            ownership={ownership}
            onHover={setHover}
            onPin={(c) => setPin((p) => (p && p.move === c.move ? null : c))}
          />
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
          <Position game={game} n={cur} turn={turn} move={move} />
          <Candidates turn={turn} pv={pv} onHover={setHover} onPin={(c) => setPin((p) => (p && p.move === c.move ? null : c))} />
          <MoveList game={game} turns={turns} current={cur} onSelect={go} />
          <Summary game={game} summary={done > 1 ? summary : null} />
          <section class="share">
            <a class="button primary" id="download" href={sgfURL(id)} download={`tesuji-${id}.sgf`}>Download annotated SGF</a>
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
