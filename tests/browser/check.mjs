// Browser accessibility check: opens the rendered plan documents and the hearing summary of a
// running beskplan (demo data) in headless Chromium, runs axe-core on each page, fails on any
// WCAG 2.0/2.1 A or AA violation, and saves a full-page screenshot of each page.
//
// Run by tests/browser/run.sh, which installs Chromium and the npm packages, builds and starts the
// server, and passes:
//   BESKPLAN_URL      base URL of the server, on loopback (http://127.0.0.1:PORT)
//   CHROMIUM_PROFILE  an empty temporary directory for Chromium's --user-data-dir
//   SCREENSHOT_DIR    where the PNGs go (docs/screenshots)
//   CHROMIUM          the browser (default /usr/bin/chromium)

import { readFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const AXE_VERSION = require('axe-core/package.json').version;
const AXE_OPTIONS = { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } };

const BASE = process.env.BESKPLAN_URL;
const PROFILE = process.env.CHROMIUM_PROFILE;
const SHOTS = process.env.SCREENSHOT_DIR;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const EXPECTED_PLANS = ['185', '849', '173', '201', '165'];

function die(message) {
  console.error(`browser: ${message}`);
  process.exit(2);
}

if (!BASE || !PROFILE || !SHOTS) die('BESKPLAN_URL, CHROMIUM_PROFILE and SCREENSHOT_DIR must be set (run tests/browser/run.sh)');
const base = new URL(BASE);
if (base.hostname !== '127.0.0.1') die(`refusing to talk to ${base.hostname}: loopback (127.0.0.1) only`);

/** A JSON call to the API; fails the run on anything but the expected status. */
async function api(method, pathname, { token, form, expect = 200 } = {}) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  let body;
  if (form) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(form).toString();
  }
  const response = await fetch(new URL(pathname, base), { method, headers, body });
  const text = await response.text();
  if (response.status !== expect) die(`${method} ${pathname}: HTTP ${response.status} (expected ${expect}): ${text.slice(0, 500)}`);
  return JSON.parse(text);
}

/** "Lyngby-Taarbæk Kommune" → "lyngby-taarbaek". */
function slug(name) {
  return name
    .replace(/\s+Kommune$/i, '')
    .toLowerCase()
    .replace(/æ/g, 'ae').replace(/ø/g, 'oe').replace(/å/g, 'aa')
    .normalize('NFKD').replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

async function pagesToCheck() {
  const { access_token: token } = await api('POST', '/api/v1/auth/token', {
    form: { grant_type: 'password', username: 'admin', password: 'demo-admin-password' },
  });
  if (!token) die('no access_token in the token response');

  const { items: plans } = await api('GET', '/api/v1/plans?limit=100', { token });
  const found = plans.map((p) => p.municipality).sort();
  if (JSON.stringify(found) !== JSON.stringify([...EXPECTED_PLANS].sort())) {
    die(`expected the five demo plans (${EXPECTED_PLANS.join(', ')}), found: ${found.join(', ') || 'none'}`);
  }

  const pages = [];
  let hearingPage;
  for (const code of EXPECTED_PLANS) {
    const plan = plans.find((p) => p.municipality === code);
    const version = plan.adopted_version ?? plan.latest_version;
    if (version == null) die(`plan ${plan.id} (municipality ${code}) has no version`);
    const { name } = await api('GET', `/api/v1/municipalities/${code}`, { token });
    pages.push({
      name: `plan-${code}-${slug(name)}-${plan.year}`,
      label: `${name} ${plan.year}, version ${version}${plan.adopted_version == null ? ' (draft)' : ' (adopted)'}`,
      url: `/api/v1/plans/${plan.id}/versions/${version}/document`,
      headers: {},
    });
    const { items: hearings } = await api('GET', `/api/v1/plans/${plan.id}/hearings`, { token });
    for (const hearing of hearings) {
      if (hearingPage) die(`expected one hearing, found another: ${hearing.id} (municipality ${code})`);
      hearingPage = {
        name: `hearing-summary-${code}`,
        label: `hearing summary, ${name} ${plan.year}`,
        url: `/api/v1/hearings/${hearing.id}/summary`,
        headers: { Accept: 'text/html' },
      };
    }
  }
  if (!hearingPage) die('expected one hearing in the demo data, found none');
  pages.push(hearingPage);
  return { token, pages };
}

function lowerCaseKeys(headers) {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

function printViolations(violations) {
  for (const v of violations) {
    console.log(`    ✗ ${v.id} [${v.impact}] ${v.help}`);
    console.log(`      ${v.helpUrl}`);
    for (const node of v.nodes) {
      console.log(`      - ${JSON.stringify(node.target)}`);
      if (node.failureSummary) console.log(`        ${node.failureSummary.replace(/\n/g, '\n        ')}`);
    }
  }
}

const { token, pages } = await pagesToCheck();
mkdirSync(SHOTS, { recursive: true });

const context = await chromium.launchPersistentContext(PROFILE, {
  executablePath: CHROMIUM,
  headless: true,
  chromiumSandbox: false,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-proxy-server',
    // Nothing but the server on loopback resolves.
    '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
  ],
  viewport: { width: 1280, height: 800 },
  deviceScaleFactor: 1,
  locale: 'da-DK',
  timezoneId: 'Europe/Copenhagen',
  // Draft versions need the bearer token; it goes with every request from this context.
  extraHTTPHeaders: { Authorization: `Bearer ${token}` },
});

let passed = 0;
let failed = 0;
try {
  // Belt and braces: any request that is not for the server on loopback is refused.
  await context.route(
    (url) => url.origin !== base.origin,
    (route) => {
      console.error(`browser: blocked a request off loopback: ${route.request().url()}`);
      return route.abort('blockedbyclient');
    },
  );

  for (const spec of pages) {
    const page = await context.newPage();
    console.log(`\n${spec.name}: ${spec.label}\n  ${spec.url}`);
    try {
      if (Object.keys(spec.headers).length) {
        // Set on the request itself: Chromium's own Accept on a navigation wins over extra headers.
        await page.route(
          (url) => url.origin === base.origin,
          (route) => route.continue({ headers: { ...route.request().headers(), ...lowerCaseKeys(spec.headers) } }),
        );
      }
      const response = await page.goto(new URL(spec.url, base).href, { waitUntil: 'load' });
      const status = response?.status();
      const type = response?.headers()['content-type'] ?? '';
      if (status !== 200 || !type.startsWith('text/html')) {
        throw new Error(`HTTP ${status}, content-type ${type || 'none'}: ${(await page.content()).slice(0, 300)}`);
      }
      // Evaluated through the DevTools protocol, so no Content-Security-Policy can stop it.
      await page.evaluate(AXE_SOURCE);
      const results = await page.evaluate((options) => window.axe.run(document, options), AXE_OPTIONS);
      const shot = path.join(SHOTS, `${spec.name}.png`);
      await page.screenshot({ path: shot, fullPage: true });
      const { violations, passes, incomplete } = results;
      console.log(`  axe: ${violations.length} violations, ${passes.length} rules passed, ${incomplete.length} to review by hand; screenshot ${shot}`);
      for (const item of incomplete) console.log(`    ? ${item.id} [${item.impact ?? 'n/a'}] ${item.help} (${item.nodes.length} nodes)`);
      if (violations.length) {
        printViolations(violations);
        failed += 1;
      } else {
        passed += 1;
      }
    } catch (error) {
      console.log(`  ✗ ${error.message}`);
      failed += 1;
    } finally {
      await page.close();
    }
  }
} finally {
  await context.close();
}

console.log(`\naxe-core ${AXE_VERSION}, rules tagged ${AXE_OPTIONS.runOnly.values.join(', ')}`);
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed === pages.length ? 0 : 1);
