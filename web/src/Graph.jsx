// Graph.jsx plots Black's winrate and score lead over the game with uPlot, filling in as
// turns arrive; the current move is a vertical line, mistakes are dots in their class's
// colour, and a click moves to the move under the pointer.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { classOf } from './review.js';

const WINRATE = '#2f6db5';
const SCORE = '#d9822b';

function data(total, turns) {
  const xs = [];
  const wr = [];
  const sc = [];
  for (let i = 0; i < total; i++) {
    const t = turns[i];
    xs.push(i);
    wr.push(t ? t.winrate * 100 : null);
    sc.push(t ? t.scoreLead : null);
  }
  return [xs, wr, sc];
}

export function Graph({ total, turns, current, onSelect }) {
  const box = useRef(null);
  const plot = useRef(null);
  // The draw hook reads the latest props through this ref, not through a stale closure.
  const now = useRef({});
  now.current = { turns, current, onSelect, total };

  useEffect(() => {
    const el = box.current;
    const scoreRange = (u, min, max) => {
      const m = Math.max(5, Math.abs(min ?? 0), Math.abs(max ?? 0));
      return [-m * 1.1, m * 1.1];
    };
    const opts = {
      width: el.clientWidth || 300,
      height: 150,
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { show: false }, y: false },
      padding: [8, 4, 0, 4],
      scales: {
        x: { time: false, auto: false, range: () => [0, Math.max(1, now.current.total - 1)] },
        wr: { auto: false, range: [0, 100] },
        pts: { range: scoreRange },
      },
      axes: [
        { size: 26, font: '11px system-ui, sans-serif', grid: { show: false }, ticks: { size: 3 } },
        { scale: 'wr', size: 42, font: '11px system-ui, sans-serif', values: (u, v) => v.map((x) => `${x}%`), splits: () => [0, 25, 50, 75, 100], stroke: WINRATE, grid: { stroke: '#0000000f' } },
        { scale: 'pts', side: 1, size: 40, font: '11px system-ui, sans-serif', grid: { show: false }, stroke: SCORE, values: (u, v) => v.map((x) => (x > 0 ? `+${x}` : `${x}`)) },
      ],
      series: [
        {},
        { label: 'Black winrate', scale: 'wr', stroke: WINRATE, width: 2, spanGaps: false, points: { size: 4 } },
        { label: 'Score lead (Black)', scale: 'pts', stroke: SCORE, width: 1.5, spanGaps: false, points: { size: 4 } },
      ],
      hooks: {
        draw: [(u) => {
          const { turns: ts, current: cur } = now.current;
          const ctx = u.ctx;
          const { left, top, width, height } = u.bbox;
          const dpr = devicePixelRatio || 1;
          ctx.save();
          // The 50% line: who leads.
          const y50 = u.valToPos(50, 'wr', true);
          ctx.strokeStyle = '#00000030';
          ctx.lineWidth = dpr;
          ctx.setLineDash([4 * dpr, 4 * dpr]);
          ctx.beginPath(); ctx.moveTo(left, y50); ctx.lineTo(left + width, y50); ctx.stroke();
          ctx.setLineDash([]);
          // Mistakes along the bottom, as KaTrain's graph marks them.
          for (let i = 1; i < ts.length; i++) {
            const c = ts[i] && classOf(ts[i].mistake);
            if (!c || c.name === 'good' || c.name === 'minor') continue;
            ctx.fillStyle = c.color;
            ctx.beginPath();
            ctx.arc(u.valToPos(i, 'x', true), top + height - 4 * dpr, 3 * dpr, 0, 2 * Math.PI);
            ctx.fill();
          }
          // The current move.
          const x = u.valToPos(cur, 'x', true);
          ctx.strokeStyle = '#c0392b';
          ctx.lineWidth = 1.5 * dpr;
          ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + height); ctx.stroke();
          ctx.restore();
        }],
      },
    };
    const u = new uPlot(opts, data(now.current.total, now.current.turns), el);
    plot.current = u;
    const click = (e) => {
      const r = u.over.getBoundingClientRect();
      const i = Math.round(u.posToVal(e.clientX - r.left, 'x'));
      now.current.onSelect(Math.max(0, Math.min(now.current.total - 1, i)));
    };
    u.over.addEventListener('click', click);
    const ro = new ResizeObserver(() => {
      if (el.clientWidth && el.clientWidth !== u.width) u.setSize({ width: el.clientWidth, height: 150 });
    });
    ro.observe(el);
    return () => { ro.disconnect(); u.destroy(); plot.current = null; };
  }, []);

  useEffect(() => {
    plot.current && plot.current.setData(data(total, turns));
  }, [turns, total]);

  useEffect(() => {
    plot.current && plot.current.redraw(false, false);
  }, [current]);

  return (
    <div class="graph">
      <div class="legend" id="graph-legend">
        <strong>Black’s view:</strong>
        <span style={{ color: WINRATE }}>━ winrate</span>
        <span style={{ color: SCORE }}>━ score lead</span>
      </div>
      <div id="graph" ref={box} />
    </div>
  );
}
