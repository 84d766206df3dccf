// The dashboard of `standby serve`: reads /api/v1 with the bearer token, which arrives in the
// URL fragment (#token=…, never sent to a server), moves to sessionStorage, and leaves the
// address bar. Live failover progress comes from the event stream, read with fetch (an
// EventSource cannot send the token). All text goes in through textContent.
'use strict';

const SEED_MTTR_S = 107.9;
const PHASES = [
  ['detected', 'Detected'],
  ['final_snapshot', 'Final snapshot'],
  ['replacing', 'Fence, race for a machine, locate the snapshot'],
  ['restoring', 'Restore'],
  ['validating', 'Validate the restore'],
  ['starting', 'Start the workload'],
  ['checking', 'Health check'],
];
// The segments of a finished failover's bar: its phase columns, in order.
const SEGMENTS = [
  ['detection_ms', 'detection'],
  ['snapshot_ms', 'final snapshot'],
  ['gpu_provisioning_time_ms', 'race'],
  ['restore_ms', 'restore'],
  ['validation_ms', 'validation'],
  ['workload_start_ms', 'start'],
  ['health_check_ms', 'check'],
];

let token = null;
let live = null;  // the failover being shown: {id, instance, trigger, planned, phase, ...}
let refreshTimer = null;
let refreshInterval = null;
let streamGeneration = 0;  // one event stream at a time: a new login ends the old one

function $(id) { return document.getElementById(id); }

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') node.className = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function seconds(ms) {
  if (ms === null || ms === undefined) return '—';
  const s = ms / 1000;
  return s < 10 ? s.toFixed(1) + ' s' : s < 120 ? Math.round(s) + ' s' : (s / 60).toFixed(1) + ' min';
}

function age(s) {
  if (s < 90) return Math.round(s) + ' seconds ago';
  if (s < 90 * 60) return Math.round(s / 60) + ' minutes ago';
  if (s < 36 * 3600) return Math.round(s / 3600) + ' hours ago';
  return Math.round(s / 86400) + ' days ago';
}

function when(ms) { return new Date(ms).toLocaleString(); }

class Unauthorized extends Error {}

async function api(path, options) {
  const res = await fetch(path, {
    ...options,
    cache: 'no-store',
    headers: {Authorization: 'Bearer ' + token, ...(options && options.headers)},
  });
  if (res.status === 401) throw new Unauthorized();
  const body = res.status === 204 ? null : await res.json();
  return {status: res.status, body};
}

function needToken(message) {
  token = null;
  sessionStorage.removeItem('standby-token');
  $('app').hidden = true;
  $('login').hidden = false;
  if (message) showBanner(message);
}

function showBanner(text) {
  $('banner').textContent = text;
  $('banner').hidden = !text;
}

// ---- instances ----

function stateChip(state) {
  return el('span', {class: 'chip state-' + state}, state.replace('_', ' '));
}

function snapshotCell(i) {
  if (i.last_snapshot_at_ms === null) return el('span', {class: 'never'}, 'Last snapshot: never');
  const every = i.spec && i.spec.snapshot_every_s;
  const overdue = every > 0 && i.last_snapshot_age_s > 1.5 * every;
  const text = 'Last snapshot: ' + age(i.last_snapshot_age_s) + (overdue ? ' (overdue)' : '');
  const failures = i.snapshot_failures > 0 ? ', ' + i.snapshot_failures + ' failed since' : '';
  return el('span', {class: overdue ? 'overdue' : '', title: when(i.last_snapshot_at_ms)}, text + failures);
}

async function failOver(name, button) {
  if (!window.confirm('Fail over ' + name + ' now? Its workload moves to a new machine.')) return;
  button.disabled = true;
  try {
    const r = await api('/api/v1/instances/' + encodeURIComponent(name) + '/failover', {
      method: 'POST',
      headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({planned: false}),
    });
    $('action-result').textContent = r.status === 202
      ? 'Failover of ' + name + ' requested; the controller starts it within one probe interval.'
      : 'Not started: ' + r.body.detail;
  } catch (e) {
    if (e instanceof Unauthorized) return needToken('The token was refused.');
    $('action-result').textContent = 'Not started: ' + e.message;
  }
  refreshSoon();
}

// An old host whose fence is not confirmed: someone should know, and when the new workload
// waits for it, what to do.
function fenceLine(f) {
  const old = 'old host ' + f.ssh_host + ':' + f.ssh_port +
    (f.provider_instance_id ? ' (' + f.provider_instance_id + ')' : '');
  const text = f.fence === 'waiting'
    ? 'Fence waiting: the new workload waits until the ' + old + ' is off; then run ' +
      '`standby fence confirm ' + f.failover_id + '`'
    : 'Fence pending: the ' + old + ' may still serve; the controller keeps trying to stop it';
  return el('div', {class: 'fence small', title: f.detail || ''}, text);
}

function renderInstances(report) {
  const body = $('instances').tBodies[0];
  body.replaceChildren();
  for (const i of report.instances) {
    const busy = i.failover_id !== null || i.state === 'failing_over' || i.state === 'placing';
    const button = el('button', {type: 'button'}, 'Fail over now');
    button.disabled = busy || i.state === 'paused';
    button.addEventListener('click', () => failOver(i.name, button));
    const host = i.ssh_host ? i.ssh_host + ':' + i.ssh_port : 'no host';
    body.append(el('tr', {'data-instance': i.name},
      el('th', {scope: 'row'}, i.name),
      el('td', {}, stateChip(i.state), i.health_detail ? el('div', {class: 'muted small'}, i.health_detail) : '',
        ...(i.fence_pending || []).map(fenceLine)),
      el('td', {}, host, el('div', {class: 'muted small'}, i.gpu_name || '')),
      el('td', {}, i.price_per_hour ? '$' + i.price_per_hour.toFixed(3) : '—'),
      el('td', {}, snapshotCell(i)),
      el('td', {}, String(i.failovers)),
      el('td', {}, seconds(i.last_mttr_ms)),
      el('td', {}, button)));
    if (i.failover_id && (!live || live.id !== i.failover_id)) showFailover(i.failover_id);
  }
  $('no-instances').hidden = report.instances.length > 0;
  showBanner(report.controller ? '' : 'No controller is running: nothing is watched. Start `standby serve`.');
  $('updated').textContent = 'Updated ' + new Date(report.now_ms).toLocaleTimeString();
}

// ---- the live failover ----

function renderLive() {
  $('live').hidden = !live;
  if (!live) return;
  const list = $('live-phases');
  list.replaceChildren();
  const current = PHASES.findIndex(([name]) => name === live.phase);
  const finished = live.phase === 'done' || live.phase === 'failed';
  for (const [index, [name, label]] of PHASES.entries()) {
    if (name === 'final_snapshot' && !live.planned) continue;
    let status = 'waiting';
    if (finished) status = live.phase === 'done' || index < PHASES.findIndex(([n]) => n === live.failure_phase) ? 'done' : 'failed';
    else if (index < current) status = 'done';
    else if (index === current) status = 'running';
    if (live.phase === 'failed' && !PHASES.some(([n]) => n === live.failure_phase)) status = 'failed';
    let text = label;
    if (name === 'restoring' && status === 'running' && live.progress > 0) text += ' — ' + Math.round(live.progress) + '%';
    list.append(el('li', {class: 'phase-' + status, 'data-phase': name}, el('span', {class: 'mark'}, status), ' ' + text));
  }
  let summary = live.instance + ': failover ' + live.id + ' (' + live.trigger + ')';
  if (live.phase === 'done') summary += ' — success, MTTR ' + seconds(live.total_ms);
  else if (live.phase === 'failed') summary += ' — failed: ' + (live.failure_reason || 'see the history');
  else summary += ' — running for ' + seconds(live.elapsed_ms);
  $('live-summary').textContent = summary;
}

function fromRow(row) {
  return {
    id: row.failover_id, instance: row.instance_id, trigger: row.trigger, planned: !!row.planned,
    phase: row.phase, progress: row.progress, elapsed_ms: Date.now() - row.started_at,
    total_ms: row.total_ms, failure_phase: row.failure_phase, failure_reason: row.failure_reason,
  };
}

async function showFailover(id) {
  try {
    const r = await api('/api/v1/failovers/' + encodeURIComponent(id));
    if (r.status === 200) {
      live = fromRow(r.body);
      renderLive();
      pollProgress();
    }
  } catch (e) {
    if (e instanceof Unauthorized) needToken('The token was refused.');
  }
}

// The event stream says when a phase changes; the restore percentage is read meanwhile.
async function pollProgress() {
  while (live && live.phase === 'restoring') {
    await new Promise((done) => setTimeout(done, 1000));
    if (!live || live.phase !== 'restoring') return;
    try {
      const r = await api('/api/v1/failovers/' + encodeURIComponent(live.id));
      if (r.status === 200 && live && live.id === r.body.failover_id && r.body.phase === 'restoring') {
        live.progress = r.body.progress;
        renderLive();
      }
    } catch (e) {
      return;
    }
  }
}

function onEvent(type, data) {
  if (type === 'reset') return refresh();
  if (type.startsWith('failover.')) {
    if (!live || live.id !== data.failover_id) {
      live = {id: data.failover_id, instance: data.instance, trigger: data.trigger};
    }
    Object.assign(live, {
      planned: data.planned, phase: data.phase, progress: data.progress, elapsed_ms: data.elapsed_ms,
    });
    if (type === 'failover.finished') {
      Object.assign(live, {
        phase: data.success ? 'done' : 'failed', total_ms: data.total_ms,
        failure_phase: data.failure_phase, failure_reason: data.failure_reason,
      });
      refresh();
    }
    renderLive();
    if (live.phase === 'restoring') pollProgress();
  } else if (type === 'instance.health' || type === 'snapshot.finished') {
    refreshSoon();
  }
}

function parseEvent(block) {
  const ev = {event: 'message', data: '', id: null};
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') ev.event = value;
    else if (field === 'data') ev.data += value;
    else if (field === 'id') ev.id = value;
  }
  return ev;
}

async function streamEvents(generation) {
  let lastId = null;
  while (token && generation === streamGeneration) {
    try {
      const headers = {Authorization: 'Bearer ' + token};
      if (lastId) headers['Last-Event-ID'] = lastId;
      const res = await fetch('/api/v1/events', {headers, cache: 'no-store'});
      if (res.status === 401) return needToken('The token was refused.');
      if (res.ok) {
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const {value, done} = await reader.read();
          if (done) break;
          if (generation !== streamGeneration) {
            reader.cancel();
            return;
          }
          buffer += value;
          for (let end; (end = buffer.indexOf('\n\n')) >= 0;) {
            const ev = parseEvent(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
            if (ev.id) lastId = ev.id;
            if (ev.event !== 'message') onEvent(ev.event, ev.data ? JSON.parse(ev.data) : {});
          }
        }
      }
    } catch (e) {
      // The server went away: reconnect below, asking for what was missed.
    }
    await new Promise((done) => setTimeout(done, 3000));
  }
}

// ---- history ----

function svg(tag, attrs, text) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function quantile(sorted, q) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

// A line chart: points [{x, y}], horizontal markers [{y, label}], vertical ones [{x, label}].
function chart(points, markers, verticals, xLabel, yLabel, yUnit, dots) {
  const W = 640, H = 200, L = 48, B = 28, T = 10, R = 10;
  const xs = points.map((p) => p.x).concat(verticals.map((v) => v.x));
  const ys = points.map((p) => p.y).concat(markers.map((m) => m.y));
  const x0 = Math.min(...xs), x1 = Math.max(...xs, x0 + 1);
  const y1 = Math.max(...ys, 1) * 1.1;
  const X = (x) => L + (W - L - R) * (x - x0) / (x1 - x0);
  const Y = (y) => H - B - (H - B - T) * y / y1;
  const root = svg('svg', {viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': yLabel + ' by ' + xLabel});
  root.append(svg('line', {x1: L, y1: H - B, x2: W - R, y2: H - B, class: 'axis'}));
  root.append(svg('line', {x1: L, y1: T, x2: L, y2: H - B, class: 'axis'}));
  root.append(svg('text', {x: L, y: H - 8, class: 'label'}, xLabel));
  root.append(svg('text', {x: 2, y: T + 10, class: 'label'}, Math.round(y1) + yUnit));
  for (const m of markers) {
    root.append(svg('line', {x1: L, y1: Y(m.y), x2: W - R, y2: Y(m.y), class: 'marker ' + (m.cls || '')}));
    root.append(svg('text', {x: W - R - 4, y: Y(m.y) - 3, class: 'label end'}, m.label));
  }
  for (const v of verticals) {
    root.append(svg('line', {x1: X(v.x), y1: T, x2: X(v.x), y2: H - B, class: 'marker ' + (v.cls || '')}));
    root.append(svg('text', {x: X(v.x) + 3, y: T + 10, class: 'label'}, v.label));
  }
  if (points.length) {
    root.append(svg('polyline', {points: points.map((p) => X(p.x) + ',' + Y(p.y)).join(' '), class: 'line'}));
    if (dots) for (const p of points) root.append(svg('circle', {cx: X(p.x), cy: Y(p.y), r: 3, class: 'dot'}));
  }
  return root;
}

function phaseBar(f) {
  const parts = SEGMENTS.map(([column, label]) => ({label, ms: f[column] || 0})).filter((p) => p.ms > 0);
  const sum = parts.reduce((s, p) => s + p.ms, 0);
  if (!sum) return el('span', {class: 'muted'}, f.success ? 'no phase timings' : '—');
  const bar = el('div', {class: 'bar', role: 'img',
    'aria-label': parts.map((p) => p.label + ' ' + seconds(p.ms)).join(', ')});
  for (const p of parts) {
    const seg = el('span', {class: 'seg seg-' + p.label.replace(' ', '-'), title: p.label + ': ' + seconds(p.ms)},
      p.ms / sum > 0.12 ? p.label : '');
    seg.style.width = (100 * p.ms / sum).toFixed(2) + '%';
    bar.append(seg);
  }
  return bar;
}

function renderHistory(list) {
  const body = $('history').tBodies[0];
  body.replaceChildren();
  for (const f of list) {
    const running = f.completed_at === 0;
    const result = running ? 'running (' + f.phase + ')' : f.success ? 'success' : 'failed';
    body.append(el('tr', {'data-failover': f.failover_id},
      el('td', {}, when(f.started_at)),
      el('td', {}, f.instance_id),
      el('td', {}, f.trigger),
      el('td', {class: 'result-' + (running ? 'running' : f.success ? 'success' : 'failed')}, result,
        !running && !f.success && f.failure_reason ? el('div', {class: 'muted small'}, f.failure_reason) : ''),
      el('td', {}, running || !f.success ? '—' : seconds(f.total_ms)),
      el('td', {class: 'wide'}, running ? '' : phaseBar(f))));
  }
  $('no-history').hidden = list.length > 0;
  const done = list.filter((f) => f.completed_at > 0 && f.success && f.trigger !== 'initial').reverse();
  const sorted = done.map((f) => f.total_ms / 1000).sort((a, b) => a - b);
  const p50 = quantile(sorted, 0.5), p90 = quantile(sorted, 0.9);
  $('mttr-stats').textContent = sorted.length
    ? `MTTR over ${sorted.length} successful failovers: p50 ${p50.toFixed(1)} s, p90 ${p90.toFixed(1)} s ` +
      `(the seed's system: ${SEED_MTTR_S} s)`
    : 'No successful failover yet; the seed\'s system measured ' + SEED_MTTR_S + ' s.';
  const markers = [{y: SEED_MTTR_S, label: 'seed ' + SEED_MTTR_S + ' s', cls: 'seed'}];
  if (sorted.length) {
    markers.push({y: p50, label: 'p50 ' + p50.toFixed(1) + ' s'}, {y: p90, label: 'p90 ' + p90.toFixed(1) + ' s', cls: 'p90'});
  }
  $('trend').replaceChildren(chart(done.map((f, i) => ({x: i + 1, y: f.total_ms / 1000})), markers, [],
    'failover (oldest to newest)', 'MTTR', ' s', true));
  $('legend').replaceChildren(...SEGMENTS.map(([, label]) =>
    el('li', {}, el('span', {class: 'swatch seg-' + label.replace(' ', '-')}), label)));
}

function renderReadiness(r) {
  if (!r.ready_samples) {
    $('readiness-stats').textContent = 'No machine of ' + (r.provider || 'this provider') +
      ' has booted under standby yet: races use the defaults (hedge after ' + r.hedge_after_s +
      ' s, give a round up after ' + r.round_timeout_s + ' s).';
    $('readiness').replaceChildren();
    return;
  }
  $('readiness-stats').textContent = `${r.provider}: ${r.samples} machines (${r.ready_samples} booted), ` +
    `p50 ${r.p50_s.toFixed(1)} s, p90 ${r.p90_s.toFixed(1)} s; a race round gives up after ` +
    (r.from_model ? `p90 + 10 s = ${r.round_timeout_s.toFixed(1)} s`
      : `${r.round_timeout_s.toFixed(1)} s (the default until ${r.min_samples} machines are measured)`) +
    (r.never_ready_share > 0 ? `; about ${Math.round(100 * r.never_ready_share)}% never boot` : '');
  $('readiness').replaceChildren(chart(
    r.curve.map((c) => ({x: c.t_s, y: 100 * c.ready_share})), [],
    [{x: r.p90_s, label: 'p90'}, {x: r.round_timeout_s, label: 'timeout', cls: 'seed'}],
    'seconds from rent to SSH-ready', '% ready', '%', false));
}

// ---- refresh ----

async function refresh() {
  if (!token) return;
  try {
    const [instances, history, readiness] = await Promise.all([
      api('/api/v1/instances'), api('/api/v1/failovers?limit=50'), api('/api/v1/readiness')]);
    if (instances.status === 200) renderInstances(instances.body);
    if (history.status === 200) renderHistory(history.body.failovers);
    if (readiness.status === 200) renderReadiness(readiness.body);
  } catch (e) {
    if (e instanceof Unauthorized) return needToken('The token was refused.');
    showBanner('The API does not answer (' + e.message + '); retrying.');
  }
}

function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, 300);
}

function start() {
  $('login').hidden = true;
  $('app').hidden = false;
  refresh();
  if (!refreshInterval) refreshInterval = setInterval(refresh, 5000);
  streamEvents(++streamGeneration);
}

document.addEventListener('DOMContentLoaded', () => {
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get('token')) {
    sessionStorage.setItem('standby-token', fragment.get('token'));
    history.replaceState(null, '', location.pathname + location.search);
  }
  token = sessionStorage.getItem('standby-token');
  $('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    token = $('token-input').value.trim();
    sessionStorage.setItem('standby-token', token);
    showBanner('');
    start();
  });
  if (token) start();
  else needToken();
});
