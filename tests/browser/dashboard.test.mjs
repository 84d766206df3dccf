// The dashboard in a real browser (Debian's chromium driven by playwright-core): `standby
// serve` on the local market with a protected instance whose hosts are real sshd hosts,
// run on a terminal (`script` gives it one) so that it prints the dashboard's address with
// the token in the fragment; the page is opened at exactly that address. Any console error
// or CSP violation fails the test. A missing browser fails, never skips.
//
//   STANDBY_BIN=build/standby STANDBY_ARTIFACTS=build/artifacts node --test tests/browser
import {test, after} from 'node:test';
import assert from 'node:assert/strict';
import {spawn, execFileSync} from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {chromium} from 'playwright-core';

const BIN = process.env.STANDBY_BIN;
const ARTIFACTS = process.env.STANDBY_ARTIFACTS || os.tmpdir();
const CHROMIUM = '/usr/bin/chromium';
assert.ok(BIN && fs.existsSync(BIN), 'STANDBY_BIN names the built standby binary');
assert.ok(fs.existsSync(CHROMIUM), 'chromium is installed (scripts/setup.sh installs it)');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'standby-browser-'));
const env = {...process.env, STANDBY_STATE_DIR: path.join(dir, 'state'), STANDBY_REPO: path.join(dir, 'repo')};
let serve = null;
let browser = null;

function standby(...args) {
  return execFileSync(BIN, args, {env, encoding: 'utf8', timeout: 120000, stdio: ['ignore', 'pipe', 'pipe']});
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address();
      server.close(() => resolve(port));
    });
  });
}

// Starts serve on a pseudo-terminal and resolves with the dashboard address it printed there
// (30 s at most).
function startServe() {
  const command = [BIN, 'serve', '--probe-interval', '500', '--listen', '127.0.0.1:0']
    .map((word) => "'" + word + "'").join(' ');
  serve = spawn('script', ['-qefc', 'exec ' + command, '/dev/null'], {env, stdio: ['ignore', 'pipe', 'pipe']});
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('serve printed no dashboard address in 30 s:\n' + out)), 30000);
    serve.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/dashboard: (http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    serve.on('exit', (code) => reject(new Error('serve exited ' + code + ':\n' + out)));
  });
}

// SIGTERM to serve itself (script would hang it up instead), then waits for both to end.
async function stopServe() {
  if (!serve || serve.exitCode !== null) return;
  const exited = new Promise((resolve) => serve.once('exit', resolve));
  const children = `/proc/${serve.pid}/task/${serve.pid}/children`;
  const pids = fs.existsSync(children) ? fs.readFileSync(children, 'utf8').trim().split(/\s+/) : [];
  for (const pid of pids.filter(Boolean)) process.kill(Number(pid), 'SIGTERM');
  const timer = setTimeout(() => serve.kill('SIGKILL'), 60000);
  await exited;
  clearTimeout(timer);
}

after(async () => {
  if (browser) await browser.close();
  await stopServe();
  try {
    const listed = JSON.parse(standby('instances', '--all', '--json'));
    for (const i of listed.instances) {
      try { standby('destroy', i.instance_id); } catch (e) { /* reported by the market */ }
    }
  } catch (e) { /* nothing was placed */ }
  fs.rmSync(dir, {recursive: true, force: true});
});

// Console errors, page errors and CSP violations of `page` (the last also reported by the
// page itself, not only as Chromium's console message).
async function watchErrors(page) {
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push('console: ' + m.text()); });
  page.on('pageerror', (e) => errors.push('page: ' + e.message));
  await page.exposeFunction('reportCspViolation', (text) => errors.push('csp: ' + text));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation',
      (e) => window.reportCspViolation(e.violatedDirective + ' ' + e.blockedURI));
  });
  return errors;
}

test('the dashboard fails an instance over and shows its phases and history', {timeout: 240000}, async () => {
  const port = await freePort();
  fs.mkdirSync(path.join(dir, 'seed'), {recursive: true});
  fs.writeFileSync(path.join(dir, 'seed', 'model.txt'), 'weights '.repeat(4096));
  fs.writeFileSync(path.join(dir, 'seed', 'health.txt'), 'ok');
  standby('snapshot', 'create', '--instance', 'llm-1', '--workspace', path.join(dir, 'seed'));
  standby('protect', 'llm-1', '--provision', '--gpu', 'RTX 4090',
    '--workload', `exec python3 -m http.server --bind 127.0.0.1 ${port}`,
    '--health-url', `http://127.0.0.1:${port}/health.txt`, '--probe-interval', '500',
    '--snapshot-every', '0', '--json');
  const printed = await startServe();
  const url = printed.slice(0, printed.indexOf('/#token='));
  assert.equal(printed.slice(printed.indexOf('#token=') + 7), standby('token', 'show').trim());

  browser = await chromium.launch({executablePath: CHROMIUM, headless: true});
  const context = await browser.newContext({viewport: {width: 1280, height: 800}});

  // Without the token: a clear page saying so, and no request that fails.
  const stranger = await context.newPage();
  const strangerErrors = await watchErrors(stranger);
  await stranger.goto(url + '/');
  await stranger.getByRole('heading', {name: 'Token required'}).waitFor({timeout: 10000});
  assert.equal(await stranger.locator('#app').isVisible(), false);
  assert.deepEqual(strangerErrors, []);
  await stranger.close();

  const page = await context.newPage();
  const errors = await watchErrors(page);
  await page.goto(printed);
  const row = page.locator('#instances tr[data-instance="llm-1"]');
  await row.locator('.chip', {hasText: 'healthy'}).waitFor({timeout: 30000});
  assert.equal(new URL(page.url()).hash, '', 'the token left the address bar');
  assert.match(await row.textContent(), /Last snapshot: /);

  page.once('dialog', (d) => d.accept());
  await row.getByRole('button', {name: 'Fail over now'}).click();
  // The phases fill in as the events arrive: one is seen running before all are done.
  const seen = new Set();
  for (let i = 0; i < 1200; ++i) {
    const marks = await page.locator('#live-phases li').evaluateAll(
      (items) => items.map((li) => li.dataset.phase + ':' + li.querySelector('.mark').textContent));
    for (const m of marks) seen.add(m);
    if (marks.length > 0 && marks.every((m) => m.endsWith(':done'))) break;
    await page.waitForTimeout(100);
  }
  assert.ok([...seen].some((m) => m.endsWith(':running')), 'a phase was shown running: ' + [...seen]);
  assert.ok(seen.has('checking:done'), 'every phase ended done: ' + [...seen]);
  await page.locator('#live-summary', {hasText: 'success, MTTR'}).waitFor({timeout: 10000});
  const first = page.locator('#history tbody tr').first();
  await first.locator('td', {hasText: 'success'}).waitFor({timeout: 10000});
  assert.match(await first.textContent(), /llm-1/);
  assert.ok(await first.locator('.bar .seg').count() >= 3, 'a stacked bar of the phases');
  await page.locator('#mttr-stats', {hasText: 'p50'}).waitFor({timeout: 10000});
  await row.locator('.chip', {hasText: 'healthy'}).waitFor({timeout: 30000});
  assert.match(await row.locator('td').nth(4).textContent(), /^1$/, 'one failover counted');
  fs.mkdirSync(ARTIFACTS, {recursive: true});
  await page.screenshot({path: path.join(ARTIFACTS, 'dashboard.png'), fullPage: true});

  // A phone's width: the page itself does not scroll sideways (tables scroll in place).
  await page.setViewportSize({width: 390, height: 844});
  await page.waitForTimeout(200);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, 'no sideways scroll at 390 px: ' + overflow);
  await page.screenshot({path: path.join(ARTIFACTS, 'dashboard-phone.png'), fullPage: true});
  assert.deepEqual(errors, []);
});
