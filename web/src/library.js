// library.js reads the review library and the player reports from the API.
import { request } from './api.js';

const BASE = '/api/v1/analyses';

// listAnalyses returns a page of the caller's reviews, newest first: { analyses, next }.
export function listAnalyses({ player, cursor, limit } = {}) {
  const q = new URLSearchParams();
  if (player) q.set('player', player);
  if (cursor) q.set('cursor', cursor);
  if (limit) q.set('limit', String(limit));
  const qs = q.toString();
  return request(qs ? `${BASE}?${qs}` : BASE);
}

// deleteAnalysis deletes a finished review with its results; a review still queued or
// running is stopped with api.js's cancelAnalysis instead, which never deletes one.
export const deleteAnalysis = (id) => request(`${BASE}/${encodeURIComponent(id)}`, { method: 'DELETE' });

// getPlayer returns a player's report, counting the other spellings in names too.
export function getPlayer(name, names) {
  const q = new URLSearchParams();
  for (const n of names || []) q.append('names', n);
  const qs = q.toString();
  return request(`/api/v1/players/${encodeURIComponent(name)}${qs ? `?${qs}` : ''}`);
}

// playerPath is the address of a player's page; names are merged spellings.
export function playerPath(name, names) {
  const q = new URLSearchParams();
  for (const n of names || []) q.append('names', n);
  const qs = q.toString();
  return `/player/${encodeURIComponent(name)}${qs ? `?${qs}` : ''}`;
}

// gameDate is the day a review's game was played, or else the day it was reviewed.
export function gameDate(a) {
  const m = /^\s*(\d{4}-\d{2}-\d{2})/.exec(a.date || '');
  if (m) return m[1];
  return a.date || (a.createdAt || '').slice(0, 10);
}
