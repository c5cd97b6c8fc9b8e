// Board.jsx draws the position with Shudan: the stones, the last move, KataGo's candidate
// moves coloured by the points they lose (as KaTrain colours them), the principal
// variation of the candidate under the pointer, and the ownership map.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { BoundedGoban } from '@sabaki/shudan';
import { CLASSES, candidateLoss, classify, pct, pvBoard, shortCount, shownCandidates, toVertex } from './review.js';

// Candidate heat strengths: one per mistake class (1 = blunder ... 6 = good) and 9 for
// KataGo's top move, which the stylesheet rings.
const STRENGTH = Object.fromEntries(CLASSES.map((c, i) => [c.name, i + 1]));
const TOP = 9;

const emptyMap = (w, h, v) => Array.from({ length: h }, () => Array(w).fill(v));

// candidateLabel is the text on a candidate: its winrate or score lead for the side to
// move, then its visits.
export function candidateLabel(turn, c, mode) {
  const me = turn.player === 'W' ? -1 : 1;
  const top = mode === 'score' ? (me * c.scoreLead >= 0 ? '+' : '') + (me * c.scoreLead).toFixed(1) : pct(me > 0 ? c.winrate : 1 - c.winrate).replace('%', '');
  return `${top}\n${shortCount(c.visits)}`;
}

// Board props beyond the position: pvBase is the position and side a pinned line starts
// from when it is not the one shown (KataGo's line at a mistake starts before the move);
// ghost marks KataGo's preferred move beside the played one; onPlay gets a click on an
// empty point (a tap on a candidate first shows its line, as on a phone hovering cannot).
export function Board({ game, board, turn, lastMove, pv, pinned, pvBase, ghost, labelMode, ownership, onHover, onPin, onPlay }) {
  const w = game.boardXSize;
  const h = game.boardYSize;
  const box = useRef(null);
  const pointer = useRef('mouse'); // the kind of the last pointer pressed on the board
  const [size, setSize] = useState({ width: 360, height: 360 });

  useEffect(() => {
    const el = box.current;
    const measure = () => {
      // The board takes the column's width, but no more height than the window has
      // below the board's top, less the navigation under it: on a laptop the whole
      // board and its buttons are in sight without scrolling.
      const width = el.clientWidth;
      const top = el.getBoundingClientRect().top + scrollY;
      const height = Math.max(240, Math.min(width, innerHeight - top - 84));
      setSize((s) => (s.width === width && s.height === height ? s : { width, height }));
    };
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    addEventListener('resize', measure);
    return () => { ro.disconnect(); removeEventListener('resize', measure); };
  }, []);

  const cands = useMemo(() => shownCandidates(turn), [turn]);

  const maps = useMemo(() => {
    const markerMap = emptyMap(w, h, null);
    const heatMap = emptyMap(w, h, null);
    let signMap = board.signMap;
    const ghostMap = emptyMap(w, h, null);
    if (pv) {
      const base = pvBase || { board, player: turn.player };
      const r = pvBoard(base.board, base.player, pv.pv || [pv.move], w, h);
      signMap = r.board.signMap;
      for (const [[x, y], label] of r.labels) {
        if (signMap[y][x] !== 0) markerMap[y][x] = { type: 'label', label };
      }
    } else {
      const lv = lastMove && toVertex(lastMove, w, h);
      if (lv) markerMap[lv[1]][lv[0]] = { type: 'circle' };
      const gv = ghost && toVertex(ghost.move, w, h);
      if (gv && board.signMap[gv[1]][gv[0]] === 0) {
        ghostMap[gv[1]][gv[0]] = { sign: ghost.sign, type: 'good' };
        markerMap[gv[1]][gv[0]] = { type: 'label', label: '★' };
      }
      cands.forEach((c, i) => {
        const v = toVertex(c.move, w, h);
        if (!v || board.signMap[v[1]][v[0]] !== 0) return;
        const strength = i === 0 ? TOP : STRENGTH[classify(candidateLoss(turn, c))];
        heatMap[v[1]][v[0]] = { strength, text: candidateLabel(turn, c, labelMode) };
      });
    }
    let paintMap = null;
    if (ownership && turn && turn.ownership && turn.ownership.length === w * h) {
      paintMap = emptyMap(w, h, 0);
      // Paint the territory and the dead stones; a living stone needs no paint, and
      // painting it would only muddy it.
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const o = turn.ownership[y * w + x];
          const stone = signMap[y][x];
          paintMap[y][x] = stone !== 0 && Math.sign(o) === stone ? 0 : o;
        }
      }
    }
    return { signMap, markerMap, heatMap, paintMap, ghostMap };
  }, [board, turn, cands, pv, pvBase, ghost, lastMove, labelMode, ownership, w, h]);

  const candAt = (v) => cands.find((c) => {
    const cv = toVertex(c.move, w, h);
    return cv && cv[0] === v[0] && cv[1] === v[1];
  });

  return (
    <div
      class={`board${pv ? ' pv-on' : ''}${maps.paintMap ? ' ownership-on' : ''}`}
      ref={box}
      onPointerDownCapture={(e) => { pointer.current = e.pointerType; }}
      onTouchStartCapture={() => { pointer.current = 'touch'; }}
    >
      <BoundedGoban
        id="goban"
        maxWidth={size.width}
        maxHeight={size.height}
        showCoordinates
        signMap={maps.signMap}
        markerMap={maps.markerMap}
        heatMap={maps.heatMap}
        paintMap={maps.paintMap}
        ghostStoneMap={maps.ghostMap}
        onVertexMouseEnter={(e, v) => { const c = candAt(v); if (c) onHover(c); }}
        onVertexMouseLeave={(e, v) => { if (candAt(v)) onHover(null); }}
        onVertexClick={(e, v) => {
          const c = candAt(v);
          const tap = pointer.current === 'touch';
          if (c && (!onPlay || (tap && !(pinned && pinned.move === c.move)))) onPin(c);
          else if (onPlay && board.signMap[v[1]][v[0]] === 0) onPlay(v);
        }}
      />
    </div>
  );
}
