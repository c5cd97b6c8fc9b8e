// Mistakes.jsx finds the mistakes fast: the worst moves by point loss for both players or
// one, and the class that the n and p keys (as in KaTrain) jump between.
import { CLASSES, classOf, worstMoves } from './review.js';

const CHOICES = CLASSES.filter((c) => c.name !== 'good' && c.name !== 'minor');

export function Mistakes({ game, turns, current, who, setWho, cls, setCls, onSelect, onStep, note }) {
  const worst = worstMoves(game, turns, who);
  return (
    <section class="mistakes">
      <div class="sechead">
        <h2>Worst moves</h2>
        <select id="mistake-who" value={who} onChange={(e) => setWho(e.currentTarget.value)} aria-label="Whose moves">
          <option value="both">Both players</option>
          <option value="B">{game.black || 'Black'} (B)</option>
          <option value="W">{game.white || 'White'} (W)</option>
        </select>
      </div>
      <ol id="worst-moves">
        {worst.map((m) => (
          <li key={m.n} data-move={m.n} class={`m-${m.mistake}${m.n === current ? ' on' : ''}`} onClick={() => onSelect(m.n)}>
            <span class="num">{m.n}</span>
            <span class={`stone ${m.color === 'B' ? 'sb' : 'sw'}`} />
            <span class="coord">{m.move}</span>
            <span class="pl">−{m.loss.toFixed(1)}</span>
            <i class="dot" style={{ background: classOf(m.mistake)?.color }} title={classOf(m.mistake)?.label} />
          </li>
        ))}
        {worst.length === 0 && <li class="muted">No move lost points yet.</li>}
      </ol>
      <div class="jump">
        <button id="mistake-prev" onClick={() => onStep(-1)} title="Previous (p)">‹ p</button>
        <label>
          <select id="mistake-class" value={cls} onChange={(e) => setCls(e.currentTarget.value)} aria-label="Jump between moves of at least this class">
            {CHOICES.map((c) => <option key={c.name} value={c.name}>{c.label}s{c.name === 'blunder' ? '' : ' and worse'}</option>)}
          </select>
        </label>
        <button id="mistake-next" onClick={() => onStep(1)} title="Next (n)">n ›</button>
      </div>
      {note && <p class="muted small" id="jump-note" role="status">{note}</p>}
    </section>
  );
}

// VariationList lists lines to open: the player's own, or the record's.
export function VariationList({ id, title, list, open, onOpen, onDelete }) {
  if (!list.length) return null;
  return (
    <section class="variations">
      <h2>{title}</h2>
      <ol id={id}>
        {list.map((v, i) => (
          <li key={i} class={open === i ? 'on' : ''}>
            <button class="link" onClick={() => onOpen(i)}>
              From move {v.at}: {v.moves.slice(0, 6).map((m) => m[1]).join(' ')}{v.moves.length > 6 ? ' …' : ''}
            </button>
            {onDelete && <button class="link del" title="Delete this variation" aria-label="Delete this variation" onClick={() => onDelete(i)}>×</button>}
          </li>
        ))}
      </ol>
    </section>
  );
}
