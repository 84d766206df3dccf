// A fake Vast.ai REST API for tests, in the dialect of ../shared/reference/vast-api.md, on
// 127.0.0.1:PORT. Usage: node fake_vast.js PORT API_KEY SSH_PORT
//
// Machines follow a boot script set through POST /_control (JSON):
//   {"offers": N, "boot_ms": MS, "boot": {"<machine_id>": MS | "never" | {"exit_ms": MS}},
//    "stale": ["<offer_id>"], "thresholds_ms": {"<METHOD> <route>": MS},
//    "drop_next_create": true, "padded": true, "outage": 503 (0 ends it),
//    "stubborn_destroy_ms": MS (a destroy is acknowledged but the instance stays listed this
//    long)}
// and misbehaves like the real API: 429 with the plain-text "API requests too frequent
// endpoint threshold=X" (no Retry-After) when an endpoint is called again sooner than its
// threshold; 404 no_such_ask for stale offers; instances stuck in "loading" or going
// "exited" with a status_msg; `instances: null` when there are none; strings padded with
// whitespace and newlines. Running instances point their direct SSH (public_ipaddr +
// ports["22/tcp"][0].HostPort, a string) at 127.0.0.1:SSH_PORT, a real sshd of the test.
// GET /_control returns {"live": [...ids], "created": N, "destroyed": N, "rate_limited": N}.
'use strict';
const http = require('http');
const [port, apiKey, sshPort] = process.argv.slice(2);

let scenario = {offers: 8, boot_ms: 300, boot: {}, stale: [], thresholds_ms: {}, padded: true};
let offers = [];
const instances = new Map();  // id -> instance (destroyed ones removed)
const last = new Map();       // endpoint -> last request time (ms)
let nextId = 7835610, created = 0, destroyed = 0, rateLimited = 0;

function makeOffers(n) {
  offers = [];
  for (let i = 0; i < n; i++) {
    offers.push({
      id: 4000000 + i, ask_contract_id: 4000000 + i, machine_id: 30000 + i, host_id: 900 + i,
      gpu_name: i % 4 === 3 ? 'RTX 3090' : 'RTX 4090', num_gpus: 1, gpu_ram: 24564,
      cpu_cores: i % 5 === 0 ? null : 16, cpu_ram: 64000, disk_space: 200.5,
      dph_total: 0.30 + 0.01 * i, reliability: 0.99 - 0.001 * i, reliability2: 0.99 - 0.001 * i,
      inet_down: 900 - i, inet_up: 500, direct_port_count: 10, geolocation: 'Oregon, US',
      verified: true, rentable: true, rented: false, external: false,
    });
  }
}
makeOffers(scenario.offers);

const pad = (s) => (scenario.padded ? `  ${s} \n` : s);

function send(res, status, body, type = 'application/json') {
  res.writeHead(status, {'Content-Type': type});
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

function matches(offer, q) {
  for (const [field, cond] of Object.entries(q)) {
    if (['order', 'type', 'limit', 'allocated_storage'].includes(field)) continue;
    if (typeof cond !== 'object' || cond === null) continue;
    let v = offer[field];
    for (const [op, want] of Object.entries(cond)) {
      let w = want;
      if (field === 'geolocation') {  // two-letter code against "City, CC"
        v = String(offer.geolocation).slice(-2);
      } else if (typeof v === 'number' && typeof w === 'string') {
        w = Number(w);
      }
      const ok = {eq: v === w, neq: v !== w, gt: v > w, gte: v >= w, lt: v < w, lte: v <= w,
                  in: Array.isArray(w) && w.includes(v), notin: Array.isArray(w) && !w.includes(v)}[op];
      if (!ok) return false;
    }
  }
  return true;
}

function view(inst) {
  const age = Date.now() - inst.created;
  const fate = inst.fate;
  let status = age < 80 ? null : 'loading', msg = 'Pulling image';
  if (fate === 'never') {
    // stuck in loading forever
  } else if (typeof fate === 'object' && age >= fate.exit_ms) {
    status = 'exited';
    msg = 'Error: container process exited unexpectedly';
  } else if (typeof fate === 'number' && age >= fate) {
    status = 'running';
    msg = 'success, running vastai/base-image/ssh';
  }
  const out = {
    id: inst.id, machine_id: inst.machine_id, host_id: 900, actual_status: status,
    intended_status: 'running', cur_state: 'running', status_msg: pad(msg), label: inst.label,
    gpu_name: pad(inst.gpu_name), num_gpus: 1, dph_total: inst.dph_total, start_date: inst.created / 1000,
    ssh_host: pad('ssh4.vast.invalid'), ssh_idx: '4', ssh_port: 10000 + (inst.id % 1000),
    image_runtype: 'ssh ssh_direc ssh_proxy', extra_env: [], onstart: inst.onstart,
  };
  if (status === 'running') {
    out.public_ipaddr = pad('127.0.0.1');
    out.ports = {'22/tcp': [{HostIp: '0.0.0.0', HostPort: String(sshPort)}]};
  }
  return out;
}

function route(method, url) {
  const path = url.split('?')[0];
  let m;
  if (method === 'POST' && path === '/api/v0/bundles/') return ['POST bundles', {}];
  if (method === 'PUT' && (m = path.match(/^\/api\/v0\/asks\/(\d+)\/$/))) return ['PUT asks', {id: m[1]}];
  if (method === 'GET' && path === '/api/v0/instances/') return ['GET instances', {}];
  if (method === 'GET' && (m = path.match(/^\/api\/v0\/instances\/(\d+)\/$/))) return ['GET instance', {id: m[1]}];
  if (method === 'DELETE' && (m = path.match(/^\/api\/v0\/instances\/(\d+)\/$/))) return ['DELETE instance', {id: m[1]}];
  if (path === '/api/v0/ssh/') return [`${method} ssh`, {}];
  return [null, {}];
}

const accounts = {keys: []};

const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => {
    if (req.url.startsWith('/_control')) {
      if (req.method === 'POST') {
        scenario = Object.assign({}, scenario, JSON.parse(body || '{}'));
        if (JSON.parse(body || '{}').offers !== undefined) makeOffers(scenario.offers);
      }
      return send(res, 200, {live: [...instances.keys()], created, destroyed, rate_limited: rateLimited});
    }
    const query = new URL(req.url, 'http://x').searchParams;
    const auth = req.headers.authorization || '';
    if (auth !== `Bearer ${apiKey}` && query.get('api_key') !== apiKey) {
      return send(res, 401, {success: false, error: 'auth_error', msg: 'Invalid user key'});
    }
    if (scenario.outage) {  // the API is down: every endpoint answers this status
      return send(res, scenario.outage, 'Service Unavailable', 'text/plain');
    }
    const [endpoint, params] = route(req.method, req.url);
    if (!endpoint) return send(res, 404, {success: false, error: 'not_found', msg: 'no such endpoint'});
    const threshold = scenario.thresholds_ms[endpoint] || 0;
    const now = Date.now();
    if (last.has(endpoint) && now - last.get(endpoint) < threshold) {
      rateLimited += 1;
      return send(res, 429, `API requests too frequent endpoint threshold=${threshold / 1000}`, 'text/plain');
    }
    last.set(endpoint, now);
    const json = body ? JSON.parse(body) : {};
    switch (endpoint) {
      case 'POST bundles': {
        let found = offers.filter((o) => !o.rented && matches(o, json));
        found.sort((a, b) => a.dph_total - b.dph_total);
        if (json.limit) found = found.slice(0, json.limit);
        return send(res, 200, {offers: found.map((o) => Object.assign({}, o, {gpu_name: pad(o.gpu_name)}))});
      }
      case 'PUT asks': {
        const offer = offers.find((o) => String(o.id) === params.id);
        if (!offer || offer.rented || scenario.stale.includes(params.id)) {
          return send(res, 404, {success: false, error: 'invalid_args',
                                 msg: `error 404/3603: no_such_ask Instance type by id ${params.id} is not available.`,
                                 ask_id: Number(params.id)});
        }
        offer.rented = true;
        const id = nextId++;
        const fate = scenario.boot[String(offer.machine_id)] ?? scenario.boot_ms;
        instances.set(String(id), {id, machine_id: offer.machine_id, label: json.label || '',
                                   gpu_name: offer.gpu_name, dph_total: offer.dph_total,
                                   onstart: json.onstart || '', created: Date.now(), fate});
        created += 1;
        if (scenario.drop_next_create) {
          scenario.drop_next_create = false;
          req.socket.destroy();  // the instance exists; its creator never hears of it
          return;
        }
        return send(res, 200, {success: true, new_contract: id});
      }
      case 'GET instances': {
        const list = [...instances.values()].map(view);
        return send(res, 200, {instances_found: list.length, instances: list.length ? list : null});
      }
      case 'GET instance': {
        const inst = instances.get(params.id);
        return send(res, 200, {instances: inst ? view(inst) : null});
      }
      case 'DELETE instance': {
        if (!instances.has(params.id)) {
          return send(res, 404, {success: false, error: 'not_found', msg: 'Instance not found'});
        }
        if (scenario.stubborn_destroy_ms > 0) {
          // Acknowledged, not done: the instance stays listed as it was for a while.
          const id = params.id;
          if (!instances.get(id).stubborn) {
            instances.get(id).stubborn = true;
            setTimeout(() => { instances.delete(id); destroyed += 1; }, scenario.stubborn_destroy_ms);
          }
          return send(res, 200, {success: true});
        }
        instances.delete(params.id);
        destroyed += 1;
        return send(res, 200, {success: true});
      }
      case 'GET ssh':
        return send(res, 200, accounts.keys);
      case 'POST ssh': {
        const key = {id: accounts.keys.length + 1, user_id: 1, public_key: json.ssh_key,
                     created_at: now / 1000, deleted_at: null};
        accounts.keys.push(key);
        return send(res, 200, {success: true, key});
      }
      default:
        return send(res, 405, {success: false, error: 'invalid_args', msg: 'method not allowed'});
    }
  });
});
server.listen(Number(port), '127.0.0.1');
