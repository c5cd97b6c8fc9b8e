// Panels.jsx holds the review's side panels: the current position, KataGo's candidates,
// the move list with mistakes marked by class, and the per-player summary.
import { useEffect, useRef, useState } from 'preact/hooks';
import { CLASSES, candidateLoss, classOf, classify, isTopMove, pct, shortCount, shownCandidates, signed } from './review.js';

function Badge({ name, short }) {
  const c = classOf(name);
  if (!c) return null;
  return (
    <span class={`badge m-${c.name}`} title={c.label}>
      <i style={{ background: c.color }} />
      {short ? null : c.label}
    </span>
  );
}

// Position describes the current move and who leads. On a move that was not KataGo's
// top move it names KataGo's preferred move and the line that follows it; hovering or
// tapping that line shows it on the board. The winrate bar is Black's view.
export function Position({ game, n, turn, move, title, best, bestOn, onBest, comment }) {
  const black = game.black || 'Black';
  const white = game.white || 'White';
  const top = isTopMove(turn);
  return (
    <section class="position" id="position">
      <div class="movehead">
        {title ? (
          <strong id="move-label">{title}</strong>
        ) : n === 0 ? (
          <strong>Start of the game</strong>
        ) : (
          <strong id="move-label">Move {n} · {move[0]} {move[1]}</strong>
        )}
        {turn && turn.mistake && <Badge name={turn.mistake} />}
      </div>
      {turn && turn.pointLoss != null && (
        <p class="loss" id="loss">
          {top
            ? 'KataGo’s top move'
            : `${turn.pointLoss >= 0.05 ? `Lost ${turn.pointLoss.toFixed(1)} points` : 'Lost no points'}${turn.bestMove ? `; KataGo preferred ${turn.bestMove}` : ''}`}
        </p>
      )}
      {!top && best && best.pv && best.pv.length > 0 && (
        <p
          class={`bestline${bestOn ? ' on' : ''}`}
          id="best-line"
          title="Show KataGo’s line on the board"
          onMouseEnter={() => onBest(true)}
          onMouseLeave={() => onBest(false)}
          onClick={() => onBest('toggle')}
        >
          <span class="muted">KataGo’s line:</span> {best.pv.slice(0, 10).join(' ')}
        </p>
      )}
      {turn ? (
        <>
          <div class="bar" id="winrate-bar" title={`Black’s view: ${black} ${pct(turn.winrate)} · ${white} ${pct(1 - turn.winrate)}`}>
            <span class="b" style={{ width: `${turn.winrate * 100}%` }}>{pct(turn.winrate)}</span>
            <span class="w">{pct(1 - turn.winrate)}</span>
          </div>
          <p class="lead">
            <span class="muted">Black’s winrate · </span>
            {Math.abs(turn.scoreLead) < 0.05 ? 'Even game' : `${turn.scoreLead > 0 ? 'B' : 'W'}+${Math.abs(turn.scoreLead).toFixed(1)}`}
            <span class="muted" id="turn-visits" title={turn.visitsSpent > turn.visits ? `Searched again after a quick look at ${turn.visitsSpent - turn.visits} visits` : undefined}>
              {' '}· {shortCount(turn.visits)} visits{turn.visitsSpent > turn.visits ? ' (searched deeply)' : ''}
            </span>
          </p>
        </>
      ) : (
        <p class="muted" id="waiting">Waiting for KataGo…</p>
      )}
      {comment && <p class="comment" id="comment">{comment}</p>}
    </section>
  );
}

// Candidates lists KataGo's moves for the position; hovering one shows its variation on
// the board, as hovering it on the board does.
export function Candidates({ turn, pv, onHover, onPin }) {
  const cands = shownCandidates(turn);
  if (!cands.length) return null;
  const me = turn.player === 'W' ? -1 : 1;
  return (
    <section class="cands">
      <table id="candidates">
        <thead>
          <tr><th>Move</th><th title="The side to move’s winrate">Win ({turn.player})</th><th title="The side to move’s score lead">Score ({turn.player})</th><th>Loss</th><th>Visits</th></tr>
        </thead>
        <tbody>
          {cands.map((c) => {
            const loss = candidateLoss(turn, c);
            return (
              <tr
                key={c.move}
                class={pv && pv.move === c.move ? 'on' : ''}
                onMouseEnter={() => onHover(c)}
                onMouseLeave={() => onHover(null)}
                onClick={() => onPin(c)}
              >
                <td><i class="dot" style={{ background: classOf(classify(loss)).color }} />{c.move}</td>
                <td>{pct(me > 0 ? c.winrate : 1 - c.winrate)}</td>
                <td>{signed(me * c.scoreLead)}</td>
                <td>{Math.max(0, loss).toFixed(1)}</td>
                <td>{shortCount(c.visits)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {pv && (
        <p class="pv" id="pv">
          <strong>{pv.move}</strong> {(pv.pv || []).slice(1).join(' ')}
        </p>
      )}
    </section>
  );
}

// MoveList lists the game's moves with their mistake class; the current one stays in view.
export function MoveList({ game, turns, current, onSelect }) {
  const list = useRef(null);
  const [onlyMistakes, setOnlyMistakes] = useState(false);
  useEffect(() => {
    const ul = list.current;
    const li = ul && ul.querySelector('li.on');
    if (!li) return;
    // Scroll the list only: scrollIntoView would scroll the whole page on a phone.
    if (li.offsetTop < ul.scrollTop) ul.scrollTop = li.offsetTop;
    else if (li.offsetTop + li.offsetHeight > ul.scrollTop + ul.clientHeight) ul.scrollTop = li.offsetTop + li.offsetHeight - ul.clientHeight;
  }, [current, onlyMistakes]);
  const bad = (t) => t && t.mistake && !['good', 'minor'].includes(t.mistake);
  return (
    <section class="moves">
      <div class="sechead">
        <h2>Moves</h2>
        <label class="check small">
          <input type="checkbox" checked={onlyMistakes} onChange={(e) => setOnlyMistakes(e.currentTarget.checked)} />
          mistakes only
        </label>
      </div>
      <ol id="move-list" ref={list}>
        {game.moves.map(([color, coord], i) => {
          const n = i + 1;
          const t = turns[n];
          if (onlyMistakes && !bad(t) && n !== current) return null;
          return (
            <li
              key={n}
              data-move={n}
              class={`${n === current ? 'on ' : ''}${t && t.mistake ? `m-${t.mistake}` : 'pending'}`}
              onClick={() => onSelect(n)}
            >
              <span class="num">{n}</span>
              <span class={`stone ${color === 'B' ? 'sb' : 'sw'}`} />
              <span class="coord">{coord}</span>
              {t && t.pointLoss != null ? (
                <>
                  <span class="pl">{t.pointLoss >= 0.05 ? `−${t.pointLoss.toFixed(1)}` : ''}</span>
                  <Badge name={t.mistake} short={!bad(t)} />
                </>
              ) : (
                <span class="pl muted">…</span>
              )}
            </li>
          );
        })}
      </ol>
    </section>
  );
}

// Summary compares the players: moves per mistake class, average point loss, and how
// often each played KataGo's top move.
export function Summary({ game, summary }) {
  if (!summary) return null;
  const { black, white } = summary;
  return (
    <section class="summary">
      <h2>Summary</h2>
      <table id="summary">
        <thead>
          <tr>
            <th />
            <th><span class="stone sb" /> {game.black || 'Black'}</th>
            <th><span class="stone sw" /> {game.white || 'White'}</th>
          </tr>
        </thead>
        <tbody>
          {CLASSES.map((c) => (
            <tr key={c.name} class={`m-${c.name}`}>
              <td><i class="dot" style={{ background: c.color }} />{c.label}</td>
              <td>{black.classes[c.name] || 0}</td>
              <td>{white.classes[c.name] || 0}</td>
            </tr>
          ))}
          <tr class="sum">
            <td>Average point loss</td>
            <td id="avg-loss-black">{black.avgPointLoss.toFixed(2)}</td>
            <td id="avg-loss-white">{white.avgPointLoss.toFixed(2)}</td>
          </tr>
          <tr class="sum">
            <td>KataGo’s top move</td>
            <td id="agree-black">{pct(black.topMoveAgreement)}</td>
            <td id="agree-white">{pct(white.topMoveAgreement)}</td>
          </tr>
          <tr class="sum">
            <td>Moves reviewed</td>
            <td>{black.moves}</td>
            <td>{white.moves}</td>
          </tr>
        </tbody>
      </table>
    </section>
  );
}
