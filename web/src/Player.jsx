// Player.jsx is a player's page, /player/{name}: every reviewed game of the player, an
// accuracy trend over time, mistakes per 100 moves by class, the opening / middle game /
// endgame split, and the worst moves across the games, each a link into its review. Other
// spellings of the name are merged on the page and kept in its address (?names=...), so
// the link keeps them.
import { useEffect, useState } from 'preact/hooks';
import classes from './classes.json';
import { Link } from './Library.jsx';
import { getPlayer, listAnalyses, playerPath } from './library.js';
import './library.css';

const CLASSES = classes.classes;
const SERIOUS = ['blunder', 'mistake', 'inaccuracy'];
const PLURAL = { blunder: 'Blunders', mistake: 'Mistakes', inaccuracy: 'Inaccuracies' };
const PHASES = { opening: 'Opening', middle: 'Middle game', endgame: 'Endgame' };

const fixed = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '–');

// Trend draws each game's accuracy in date order, with the running mean of the last five.
function Trend({ games, go }) {
  const list = games.slice().reverse();
  const W = 640;
  const H = 200;
  const pad = { l: 34, r: 12, t: 12, b: 26 };
  if (list.length === 0) return null;
  const x = (i) => pad.l + (list.length === 1 ? (W - pad.l - pad.r) / 2 : (i * (W - pad.l - pad.r)) / (list.length - 1));
  // The scale starts at a multiple of 10 below the worst game, so small changes show.
  const lo = Math.max(0, Math.min(90, Math.floor((Math.min(...list.map((g) => g.accuracy)) - 5) / 10) * 10));
  const y = (v) => pad.t + ((100 - v) * (H - pad.t - pad.b)) / (100 - lo);
  const ticks = [0, 1, 2, 3, 4].map((k) => lo + ((100 - lo) * k) / 4);
  const mean = list.map((_, i) => {
    const w = list.slice(Math.max(0, i - 4), i + 1);
    return w.reduce((s, g) => s + g.accuracy, 0) / w.length;
  });
  const labels = list.length <= 8 ? list.map((_, i) => i) : [0, Math.floor((list.length - 1) / 2), list.length - 1];
  return (
    <svg class="trend" id="trend" viewBox={`0 0 ${W} ${H}`} role="img" aria-label="Accuracy per game over time">
      {ticks.map((v) => (
        <g key={v}>
          <line x1={pad.l} x2={W - pad.r} y1={y(v)} y2={y(v)} class="grid" />
          <text x={pad.l - 6} y={y(v) + 4} class="axis" text-anchor="end">{Math.round(v * 10) / 10}</text>
        </g>
      ))}
      {labels.map((i) => (
        <text key={i} x={x(i)} y={H - 8} class="axis" text-anchor={list.length === 1 ? 'middle' : i === 0 ? 'start' : i === list.length - 1 ? 'end' : 'middle'}>
          {list[i].date}
        </text>
      ))}
      {list.length > 1 && <polyline class="mean" points={mean.map((v, i) => `${x(i)},${y(v)}`).join(' ')} />}
      <polyline class="line" points={list.map((g, i) => `${x(i)},${y(g.accuracy)}`).join(' ')} />
      {list.map((g, i) => (
        <a
          key={`${g.id}${g.color}`}
          href={g.links.review}
          onClick={(e) => { e.preventDefault(); go(g.links.review); }}
        >
          <circle class={`pt c${g.color}`} cx={x(i)} cy={y(g.accuracy)} r="5">
            <title>{`${g.date} vs ${g.opponent || 'unknown'}: accuracy ${fixed(g.accuracy)}`}</title>
          </circle>
        </a>
      ))}
    </svg>
  );
}

function ClassHead() {
  return CLASSES.filter((c) => SERIOUS.includes(c.name)).map((c) => (
    <th key={c.name} title={`${PLURAL[c.name]} per 100 moves`}><i class="dot" style={{ background: c.color }} />{PLURAL[c.name]}</th>
  ));
}

function ClassCells({ f }) {
  return SERIOUS.map((c) => <td key={c}>{fixed(f.mistakesPer100[c])}</td>);
}

// Spellings lists the merged spellings and adds more, from the names in the library.
function Spellings({ name, names, go }) {
  const [known, setKnown] = useState([]);
  const [text, setText] = useState('');
  useEffect(() => {
    listAnalyses({ limit: 500 })
      .then((p) => {
        const seen = new Set();
        for (const a of p.analyses) for (const n of [a.black, a.white]) if (n) seen.add(n);
        setKnown([...seen].sort((a, b) => a.localeCompare(b)));
      })
      .catch(() => {});
  }, []);
  const all = [name, ...names];
  const has = (n) => all.some((m) => m.toLowerCase() === n.toLowerCase());
  const lower = name.toLowerCase().split(/\s+/)[0];
  const suggested = known.filter((n) => !has(n) && lower && n.toLowerCase().includes(lower)).slice(0, 6);
  const add = (n) => {
    n = n.trim();
    if (n && !has(n)) go(playerPath(name, [...names, n]), true);
    setText('');
  };
  return (
    <div class="spellings">
      <span class="muted">Counted as this player:</span>
      {all.map((n, i) => (
        <span class="chip" key={n}>
          {n}
          {i > 0 && (
            <button class="x" title={`Stop counting “${n}”`} onClick={() => go(playerPath(name, names.filter((m) => m !== n)), true)}>×</button>
          )}
        </span>
      ))}
      <form class="addname" onSubmit={(e) => { e.preventDefault(); add(text); }}>
        <input id="add-spelling" list="known-names" placeholder="Another spelling" value={text} onInput={(e) => setText(e.currentTarget.value)} />
        <datalist id="known-names">{known.filter((n) => !has(n)).map((n) => <option key={n} value={n} />)}</datalist>
        <button type="submit">Merge</button>
      </form>
      {suggested.length > 0 && (
        <span class="suggest muted">
          Same player?{' '}
          {suggested.map((n) => <button key={n} class="link suggestion" onClick={() => add(n)}>{n}</button>)}
        </span>
      )}
    </div>
  );
}

export function Player({ name, names, go }) {
  const [rep, setRep] = useState(null);
  const [error, setError] = useState('');
  useEffect(() => {
    let gone = false;
    setRep(null);
    setError('');
    getPlayer(name, names)
      .then((r) => !gone && setRep(r))
      .catch((e) => !gone && setError(e.message));
    return () => { gone = true; };
  }, [name, names.join('\n')]);

  const t = rep?.totals;
  return (
    <main class="player-page">
      <div class="head">
        <h1 id="player-name">{name}</h1>
        <Spellings name={name} names={names} go={go} />
      </div>
      {error && <p class="error" role="alert">{error}</p>}
      {!rep && !error && <p class="muted">Reading the reviews…</p>}
      {rep && rep.games.length === 0 && (
        <p class="muted" id="no-games">No finished review has a player of this name. Reviews still running count once they are done.</p>
      )}
      {rep && rep.games.length > 0 && (
        <>
          <section class="pcard totals" id="totals">
            <div class="stat"><strong id="games-count">{t.games}</strong><span>games</span></div>
            <div class="stat"><strong id="accuracy-total">{fixed(t.accuracy)}</strong><span>accuracy</span></div>
            <div class="stat"><strong>{fixed(t.avgPointLoss, 2)}</strong><span>points lost per move</span></div>
            {CLASSES.filter((c) => SERIOUS.includes(c.name)).map((c) => (
              <div class="stat" key={c.name}>
                <strong style={{ color: c.color }}>{fixed(t.mistakesPer100[c.name])}</strong>
                <span>{PLURAL[c.name].toLowerCase()} / 100 moves</span>
              </div>
            ))}
          </section>
          {rep.truncated && <p class="notice">Only the newest {rep.games.length} games are counted.</p>}
          <div class="pgrid">
            <section class="pcard">
              <h2>Accuracy over time</h2>
              <Trend games={rep.games} go={go} />
              <p class="muted small">
                Each dot is a game, black or white as the side played (click to open it); the dashed line is the mean of the last five. Accuracy is
                100 × 0.75<sup>loss</sup>, the loss being the points lost per move, weighted by how complex each position was.
              </p>
            </section>
            <section class="pcard">
              <h2>By phase of the game</h2>
              <div class="scroll"><table class="ptable" id="phases">
                <thead><tr><th />{t.phases.map((p) => <th key={p.phase}>{PHASES[p.phase]}</th>)}</tr></thead>
                <tbody>
                  <tr><td>Moves</td>{t.phases.map((p) => <td key={p.phase}>{p.moves}</td>)}</tr>
                  <tr><td>Accuracy</td>{t.phases.map((p) => <td key={p.phase}>{p.moves ? fixed(p.accuracy) : '–'}</td>)}</tr>
                  <tr><td>Points lost per move</td>{t.phases.map((p) => <td key={p.phase}>{p.moves ? fixed(p.avgPointLoss, 2) : '–'}</td>)}</tr>
                  {CLASSES.filter((c) => SERIOUS.includes(c.name)).map((c) => (
                    <tr key={c.name}>
                      <td><i class="dot" style={{ background: c.color }} />{PLURAL[c.name]} / 100</td>
                      {t.phases.map((p) => <td key={p.phase}>{p.moves ? fixed(p.mistakesPer100[c.name]) : '–'}</td>)}
                    </tr>
                  ))}
                </tbody>
              </table></div>
              <p class="muted small">The opening is the first ninth of the board's points in moves (40 on 19×19), the endgame begins after half of them (move 181).</p>
            </section>
          </div>
          <section class="pcard">
            <h2>Games</h2>
            <div class="scroll">
              <table class="ptable" id="player-games">
                <thead>
                  <tr><th>Date</th><th>Opponent</th><th>Result</th><th>Moves</th><th>Accuracy</th><th>Loss</th><ClassHead />
                    {Object.values(PHASES).map((p) => <th key={p}>{p}</th>)}</tr>
                </thead>
                <tbody>
                  {rep.games.map((g) => (
                    <tr key={`${g.id}${g.color}`} data-id={g.id}>
                      <td><Link href={g.links.review} go={go} class="open-review" title="Open the review">{g.date}</Link></td>
                      <td>
                        <span class={`stone ${g.color === 'B' ? 'sb' : 'sw'}`} title={`${g.name} had ${g.color === 'B' ? 'Black' : 'White'}`} />{' '}
                        {g.opponent ? <Link href={playerPath(g.opponent)} go={go}>{g.opponent}</Link> : <span class="muted">unknown</span>}
                        {g.opponentRank && <span class="rank"> {g.opponentRank}</span>}</td>
                      <td>{g.result}</td>
                      <td>{g.moves}</td>
                      <td class="acc">{fixed(g.accuracy)}</td>
                      <td>{fixed(g.avgPointLoss, 2)}</td>
                      <ClassCells f={g} />
                      {g.phases.map((p) => <td key={p.phase}>{p.moves ? fixed(p.accuracy) : '–'}</td>)}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>
          <section class="pcard">
            <h2>Worst moves</h2>
            <ol class="worst" id="worst-moves">
              {rep.worstMoves.map((w) => {
                const c = CLASSES.find((k) => k.name === w.mistake);
                return (
                  <li key={`${w.id}-${w.turn}`}>
                    <Link href={w.review} go={go} class="worst-link" title={`Open the review at move ${w.turn} (${PHASES[w.phase].toLowerCase()})`}>
                      <span class="loss" style={{ color: c?.color }}>−{fixed(w.pointLoss)}</span>
                      <span>move {w.turn} <strong>{w.move}</strong>{w.bestMove && w.bestMove !== w.move && <> (KataGo: {w.bestMove})</>}</span>
                      <span class="muted" title={PHASES[w.phase]}>{w.date} vs {w.opponent || 'unknown'}</span>
                    </Link>
                  </li>
                );
              })}
            </ol>
          </section>
        </>
      )}
    </main>
  );
}
