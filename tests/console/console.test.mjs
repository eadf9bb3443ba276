// The web console in headless Chromium against the real server (started by
// scripts/test-console.sh): add one credential of each type, reload, check that
// no secret is in the DOM or in any response the page received, edit, restore a version,
// delete; grant a credential to an access key, with rules and a budget, and revoke the grant;
// an authorization-code OAuth2 credential: its connection badge and Connect (which opens the
// provider's page); create, copy and revoke an access key; errors, the keyboard; every type that
// /credential-types describes through its form; webhooks (their secret shown once, edited,
// rotated, their deliveries replayed, deleted); the audit log and its chain's state; a
// credential's usage chart; phone width.
// Screenshots of each tab go to $SCREENSHOTS.

import assert from 'node:assert/strict';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const BASE = process.env.VAULT_BASE;
const ADMIN = process.env.CONSOLE_ADMIN_KEY;
const SHOTS = process.env.SCREENSHOTS;
assert.ok(BASE && ADMIN && SHOTS, 'run through scripts/test-console.sh');

const canaries = [];
const canary = (label) => {
  const value = `CANARY-${label}-${randomUUID().replaceAll('-', '')}`;
  canaries.push(value);
  return value;
};

// An upstream on 127.0.0.1 for proxied requests (so request-log entries exist): it answers
// /status/NNN with NNN, anything else with 200.
const upstream = http.createServer((req, res) => {
  const status = /^\/status\/([1-5]\d\d)$/.exec(req.url);
  res.statusCode = status ? Number(status[1]) : 200;
  res.end(status ? `status ${status[1]}` : 'ok');
});
await new Promise((resolve) => upstream.listen(0, '127.0.0.1', resolve));
const upstreamHost = `http://127.0.0.1:${upstream.address().port}`;

async function api(method, path, body, key = ADMIN) {
  const response = await fetch(`${BASE}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const json = (response.headers.get('content-type') || '').includes('json');
  return { status: response.status, body: json && text ? JSON.parse(text) : text };
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE });
const page = await context.newPage();

// Every request the page makes must stay on the vault's origin, and no response may carry
// a secret.
const foreign = [];
const bodies = [];
page.on('request', (request) => {
  if (!request.url().startsWith(BASE)) foreign.push(request.url());
});
page.on('response', async (response) => {
  try {
    bodies.push({ url: response.url(), method: response.request().method(), text: await response.text() });
  } catch {
    // Redirects and HEAD responses have no body.
  }
});
const consoleErrors = [];
page.on('pageerror', (error) => consoleErrors.push(String(error)));
const consoleMessages = [];
page.on('console', (message) => consoleMessages.push(message.text()));

function assertNoSecretIn(where, text) {
  for (const secret of canaries) {
    assert.ok(!text.includes(secret), `a secret (${secret.slice(0, 20)}...) is in ${where}`);
  }
}

async function assertNoSecretOnPage(when) {
  assertNoSecretIn(`the DOM ${when}`, await page.content());
  const values = await page.evaluate(() =>
    [...document.querySelectorAll('input, textarea, select')].map((e) => e.value).join('\n'),
  );
  assertNoSecretIn(`form values ${when}`, values);
  for (const { url, method, text } of bodies) {
    if (!revealsOnce(method, url)) assertNoSecretIn(`the response of ${method} ${url}`, text);
  }
}

// The two responses that carry a webhook's signing secret, the one time it is shown.
function revealsOnce(method, url) {
  const path = new URL(url).pathname;
  return method === 'POST' && (path === '/webhooks' || /^\/webhooks\/[^/]+\/rotate-secret$/.test(path));
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function assertNoSidewaysScroll(where) {
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  assert.ok(overflow <= 1, `${where}: the page scrolls sideways by ${overflow}px`);
}

const shot = (name) => page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });

async function step(name, body) {
  process.stdout.write(`console: ${name} ... `);
  await body();
  console.log('ok');
}

let failed = false;
try {
  await step('connect with an access key kept in sessionStorage only', async () => {
    await page.goto(`${BASE}/`);
    await shot('connect');
    await page.fill('#access-key', ADMIN);
    await page.click('#connect');
    await page.waitForSelector('#panel-credentials', { state: 'visible' });
    const stored = await page.evaluate(() => ({
      session: sessionStorage.getItem('vault.accessKey'),
      local: JSON.stringify(localStorage),
      cookies: document.cookie,
    }));
    assert.equal(stored.session, ADMIN);
    assert.ok(!stored.local.includes(ADMIN), 'the key is not in localStorage');
    assert.ok(!stored.cookies.includes(ADMIN), 'the key is not in a cookie');
  });

  const names = {};
  // One of each type the step below adds.
  const ADDED = 8;
  const add = async (type, fill) => {
    const name = `console ${type} ${randomUUID().slice(0, 8)}`;
    names[type] = name;
    await page.click('#add-credential');
    await page.waitForSelector('#credential-form', { state: 'visible' });
    await page.selectOption('#credential-form select[name=type]', type);
    await page.fill('#credential-form input[name=name]', name);
    await fill();
    await page.click('#save-credential');
    await page.waitForSelector(`#credentials tr:has(td.name:text-is("${name}"))`);
  };
  const form = (selector) => `#credential-form ${selector}`;

  await step('add one credential of each type', async () => {
    await add('api_key', async () => {
      await page.fill(form('input[name=value]'), canary('apikey'));
      await page.fill(form('input[name="placement.name"]'), 'X-Api-Token');
      // In ten days (a datetime-local value, in the browser's time zone).
      const soon = new Date(Date.now() + 10 * 86400e3 + 3600e3);
      const local = new Date(soon.getTime() - soon.getTimezoneOffset() * 60e3);
      await page.fill(form('input[name=expiresAt]'), local.toISOString().slice(0, 16));
    });
    await add('bearer_token', async () => {
      await page.fill(form('textarea[name=allowedHosts]'), upstreamHost);
      await page.fill(form('input[name=value]'), canary('bearer'));
    });
    await add('basic_auth', async () => {
      await page.fill(form('input[name=username]'), 'alice');
      await page.fill(form('input[name=password]'), canary('basic'));
    });
    await add('oauth2', async () => {
      await page.fill(form('textarea[name=allowedHosts]'), 'auth.example.com');
      await page.fill(form('input[name=clientId]'), 'client-1');
      await page.fill(form('input[name=clientSecret]'), canary('oauth'));
      await page.fill(form('input[name=tokenUrl]'), 'https://auth.example.com/token');
      await page.fill(form('input[name=scopes]'), 'read write');
    });
    await add('jwt', async () => {
      await page.selectOption(form('select[name=algorithm]'), 'HS256');
      await page.fill(form('input[name=secret]'), canary('jwtsecret-0123456789abcdef'));
      await page.fill(form('textarea[name=claims]'), '{"iss": "console", "sub": "svc"}');
    });
    await add('custom', async () => {
      await page.fill(form('input[name="headers.name"]'), 'X-Custom-Auth');
      await page.fill(form('input[name="headers.value"]'), canary('custom'));
    });
    await add('aws_sigv4', async () => {
      await page.fill(form('input[name=accessKeyId]'), 'AKIAIOSFODNN7EXAMPLE');
      await page.fill(form('input[name=secretAccessKey]'), canary('awssecret'));
      await page.fill(form('input[name=region]'), 'eu-west-1');
      await page.fill(form('input[name=service]'), 'execute-api');
    });
    await add('hmac_signature', async () => {
      // A preset hides the fields it fills, and asks for the key's id.
      await page.selectOption(form('select[name=preset]'), 'kong-hmac-auth');
      assert.equal(await page.isVisible(form('[name=stringToSign]')), false);
      await page.fill(form('input[name=keyId]'), 'alice123');
      await page.fill(form('input[name=secret]'), canary('hmacsecret'));
    });
    await assertNoSecretOnPage('after saving');
  });

  await step('the type selector shows exactly the fields of that type', async () => {
    await page.click('#add-credential');
    const visible = async (name) => page.isVisible(form(`[name="${name}"]`));
    await page.selectOption(form('select[name=type]'), 'basic_auth');
    assert.ok(await visible('username'));
    assert.ok(await visible('password'));
    assert.equal(await visible('clientSecret'), false);
    assert.equal(await page.getAttribute(form('input[name=password]'), 'type'), 'password');
    await page.selectOption(form('select[name=type]'), 'oauth2');
    assert.ok(await visible('clientSecret'));
    assert.equal(await visible('password'), false);
    assert.equal(await page.getAttribute(form('input[name=clientSecret]'), 'type'), 'password');
    await shot('credential-form');
    await page.click('#cancel-credential');
  });

  await step('reload: the list comes back with no secret anywhere', async () => {
    await page.reload();
    await page.waitForSelector('#panel-credentials', { state: 'visible' });
    await page.waitForFunction((added) => document.querySelectorAll('#credentials tr[data-credential-id]').length === added, ADDED);
    await assertNoSecretOnPage('after a reload');
    await shot('credentials');
  });

  await step('expiry badges', async () => {
    const badge = await page.textContent(
      `#credentials tr:has(td.name:text-is("${names.api_key}")) span.badge.expires`,
    );
    // Ten days and an hour away: 10 rounded down, 11 rounded up.
    assert.match(badge, /expires in 1[01] days/);
  });

  await step('an expired credential is badged "expired"', async () => {
    // The API takes only future expiries: one that ends in two seconds, then wait.
    const at = new Date(Date.now() + 2000).toISOString();
    const made = await api('POST', '/credentials', {
      name: 'console soon expired', type: 'bearer_token', value: canary('expired'), expiresAt: at,
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    await new Promise((resolve) => setTimeout(resolve, 2500));
    await page.reload();
    const badge = await page.textContent(
      '#credentials tr:has(td.name:text-is("console soon expired")) span.badge.expired',
    );
    assert.match(badge, /expired/);
    assert.equal((await api('DELETE', `/credentials/${made.body.id}`)).status, 204);
    await page.reload();
    await page.waitForFunction((added) => document.querySelectorAll('#credentials tr[data-credential-id]').length === added, ADDED);
  });

  await step('filter by type', async () => {
    await page.selectOption('#type-filter', 'jwt');
    await page.waitForFunction(() => document.querySelectorAll('#credentials tr[data-credential-id]').length === 1);
    assert.equal(await page.textContent('#credentials tr[data-credential-id] td.type'), 'jwt');
    await page.selectOption('#type-filter', '');
    await page.waitForFunction((added) => document.querySelectorAll('#credentials tr[data-credential-id]').length === added, ADDED);
  });

  const row = (type) => `#credentials tr:has(td.name:text-is("${names[type]}"))`;
  let bearerId;

  await step('edit replaces a secret without showing the old one', async () => {
    bearerId = await page.getAttribute(row('bearer_token'), 'data-credential-id');
    await page.click(`${row('bearer_token')} button.edit`);
    await page.waitForSelector('#credential-form', { state: 'visible' });
    assert.equal(await page.inputValue(form('input[name=value]')), '', 'the old secret is not shown');
    await page.fill(form('input[name=value]'), canary('bearer-v2'));
    await page.click('#save-credential');
    await page.waitForSelector('#credential-form', { state: 'hidden' });
    const stored = await api('GET', `/credentials/${bearerId}`);
    assert.equal(stored.body.revision, 2);
    await assertNoSecretOnPage('after an edit');
  });

  await step('details show versions and request logs; restore a version', async () => {
    const proxied = await api('POST', `/credentials/${bearerId}/proxy`, {
      method: 'GET',
      url: `${upstreamHost}/hello`,
    });
    assert.equal(proxied.status, 200, JSON.stringify(proxied.body));
    await page.click(`${row('bearer_token')} button.details`);
    await page.waitForSelector('#credential-details', { state: 'visible' });
    await page.waitForSelector('#versions li[data-version="2"]');
    await page.waitForSelector('#request-logs tr.request-log');
    await shot('details');
    await page.click('#versions li[data-version="1"] button.restore');
    await page.waitForSelector('#confirm[open]');
    await page.click('#confirm-yes');
    await page.waitForSelector('#versions li[data-version="3"]');
    const stored = await api('GET', `/credentials/${bearerId}`);
    assert.equal(stored.body.revision, 3);
  });

  // A key with credentials:use only, made through the API: it uses the bearer credential
  // only while the console's grant lets it.
  let grantee;
  const grantRow = '#grants tr[data-grant-id]';
  const proxyAs = (key, method) =>
    api('POST', `/credentials/${bearerId}/proxy`, { method, url: `${upstreamHost}/hello` }, key);

  await step('grants: add one for an access key, listed with its rules and budget', async () => {
    const made = await api('POST', '/access-keys', { name: 'console grantee', scopes: ['credentials:use'] });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    grantee = made.body;
    canaries.push(grantee.keySecret);
    assert.equal((await proxyAs(grantee.keySecret, 'GET')).body.code, 'not-granted');
    // Reload so the console knows the new key's name; the details open on the credential.
    await page.reload();
    await page.waitForSelector(row('bearer_token'));
    await page.click(`${row('bearer_token')} button.details`);
    await page.waitForSelector('#grants-empty', { state: 'visible' });
    await page.click('#add-grant');
    await page.waitForSelector('#grant-form', { state: 'visible' });
    assert.equal(await page.evaluate(() => document.activeElement.name), 'principal');
    const suggested = await page.$$eval('#g-principals option', (os) => os.map((o) => o.value));
    assert.ok(suggested.includes(`key:${grantee.id}`), `the live keys are suggested: ${suggested}`);
    await page.fill('#grant-form input[name=principal]', `key:${grantee.id}`);
    await page.selectOption('#grant-form select[name=permission]', 'use');
    await page.fill('#grant-form input[name=methods]', 'GET, HEAD');
    await page.fill('#grant-form textarea[name=paths]', '/hello\n/v1/charges*');
    await page.fill('#grant-form input[name="budget.perMinute"]', '50');
    await page.fill('#grant-form input[name="budget.total"]', '1000');
    const soon = new Date(Date.now() + 5 * 86400e3 + 3600e3);
    const local = new Date(soon.getTime() - soon.getTimezoneOffset() * 60e3);
    await page.fill('#grant-form input[name=expiresAt]', local.toISOString().slice(0, 16));
    await page.locator('#grant-form').screenshot({ path: `${SHOTS}/grant-form.png` });
    await page.click('#save-grant');
    await page.waitForSelector(grantRow);
    await page.waitForSelector('#grant-form', { state: 'detached' });
    assert.equal(await page.evaluate(() => document.activeElement.id), 'add-grant');

    const listed = await api('GET', `/credentials/${bearerId}/grants`);
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    assert.equal(listed.body.items.length, 1);
    const grant = listed.body.items[0];
    assert.equal(grant.principal, `key:${grantee.id}`);
    assert.equal(grant.permission, 'use');
    assert.deepEqual(grant.methods, ['GET', 'HEAD']);
    assert.deepEqual(grant.paths, ['/hello', '/v1/charges*']);
    assert.deepEqual(grant.budget, { perMinute: 50, total: 1000 });
    assert.ok(Math.abs(new Date(grant.expiresAt) - soon) < 60e3, `expiresAt ${grant.expiresAt}`);

    const text = async (name) => (await page.textContent(`${grantRow} td.${name}`)).trim();
    assert.equal(await page.getAttribute(grantRow, 'data-grant-id'), grant.id);
    assert.equal(await text('principal'), `key:${grantee.id} (console grantee)`);
    assert.equal(await text('permission'), 'use');
    assert.equal(await text('methods'), 'GET, HEAD');
    assert.deepEqual(await page.$$eval(`${grantRow} td.paths code`, (cs) => cs.map((c) => c.textContent)), ['/hello', '/v1/charges*']);
    assert.equal(await text('budget'), '50/min, 1000 total');
    assert.match(await text('expiry'), /expires in [56] days/);
    const keys = await api('GET', '/access-keys');
    const granter = keys.body.items.find((k) => k.id === grant.grantedBy);
    assert.ok(granter, `grantedBy ${grant.grantedBy} is the admin key`);
    assert.equal(await text('granted-by'), granter.name);
    await shot('grants');

    // The grant made in the console is the one enforced: GET /hello only.
    assert.equal((await proxyAs(grantee.keySecret, 'GET')).status, 200);
    const refused = await proxyAs(grantee.keySecret, 'POST');
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.equal(refused.body.code, 'request-not-granted');
    assert.equal(refused.body.field, 'methods');
    await assertNoSecretOnPage('after granting');
  });

  await step('grants: invalid input is named by its field, Escape closes the form only', async () => {
    await page.click('#add-grant');
    await page.waitForSelector('#grant-form', { state: 'visible' });
    await page.fill('#grant-form input[name=principal]', `key:${grantee.id}`);
    await page.fill('#grant-form input[name=methods]', 'get');
    await page.fill('#grant-form input[name="budget.perMinute"]', '0');
    await page.click('#save-grant');
    await page.waitForSelector('#error:has-text("invalid-field")');
    const fields = await page.$$eval('#error .error-fields code', (cs) => cs.map((c) => c.textContent));
    assert.deepEqual([...fields].sort(), ['budget.perMinute', 'methods'], `the error names ${fields}`);
    const invalid = await page.$$eval('#grant-form [aria-invalid="true"]', (es) => es.map((e) => e.name));
    assert.deepEqual(invalid, ['methods', 'budget.perMinute']);
    assert.equal(await page.evaluate(() => document.activeElement.name), 'methods', 'the first bad field has the focus');
    assert.equal((await api('GET', `/credentials/${bearerId}/grants`)).body.items.length, 1, 'nothing granted');
    await shot('grant-error');
    await page.keyboard.press('Escape');
    await page.waitForSelector('#grant-form', { state: 'detached' });
    assert.ok(await page.isVisible('#credential-details'), 'the details stay open');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'add-grant');
  });

  await step('grants: revoke asks for confirmation, then the grant is gone', async () => {
    await page.click(`${grantRow} button.revoke`);
    await page.waitForSelector('#confirm[open]');
    await page.click('#confirm-no');
    assert.equal((await api('GET', `/credentials/${bearerId}/grants`)).body.items.length, 1, 'no: nothing revoked');
    await page.click(`${grantRow} button.revoke`);
    await page.waitForSelector('#confirm[open]');
    await page.click('#confirm-yes');
    await page.waitForSelector(grantRow, { state: 'detached' });
    await page.waitForSelector('#grants-empty', { state: 'visible' });
    assert.deepEqual((await api('GET', `/credentials/${bearerId}/grants`)).body.items, []);
    assert.equal((await proxyAs(grantee.keySecret, 'GET')).body.code, 'not-granted');
  });

  await step('grants: a key that may not list them gets a note, not an error', async () => {
    // No console key reaches the details without credentials:read, which lists grants: the
    // vault's answer to one that cannot is played here.
    const grants = `${BASE}/credentials/${bearerId}/grants`;
    await page.route(grants, (route) => route.fulfill({
      status: 403,
      contentType: 'application/problem+json',
      body: JSON.stringify({ type: 'about:blank', title: 'Insufficient scope', status: 403, code: 'insufficient-scope' }),
    }));
    await page.click('#close-details');
    await page.click(`${row('bearer_token')} button.details`);
    await page.waitForSelector('#grants-denied', { state: 'visible' });
    await page.waitForSelector('#versions li[data-version]');
    assert.equal(await page.isVisible('#error'), false, 'no error');
    assert.equal(await page.isVisible('#grants'), false);
    assert.equal(await page.isVisible('#grants-empty'), false);
    await page.unroute(grants);
  });

  await step('delete asks for confirmation', async () => {
    const id = await page.getAttribute(row('custom'), 'data-credential-id');
    await page.click(`${row('custom')} button.delete`);
    await page.waitForSelector('#confirm[open]');
    await page.click('#confirm-no');
    assert.equal((await api('GET', `/credentials/${id}`)).status, 200, 'no: nothing deleted');
    await page.click(`${row('custom')} button.delete`);
    await page.waitForSelector('#confirm[open]');
    await page.click('#confirm-yes');
    await page.waitForSelector(row('custom'), { state: 'detached' });
    assert.equal((await api('GET', `/credentials/${id}`)).status, 404);
  });

  await step('a problem+json error is shown with its code and request id', async () => {
    await page.click('#add-credential');
    await page.selectOption(form('select[name=type]'), 'bearer_token');
    await page.fill(form('input[name=name]'), 'no secret given');
    await page.click('#save-credential');
    await page.waitForSelector('#error:has-text("invalid-field")');
    const text = await page.textContent('#error');
    assert.match(text, /requestId|request id/i);
    await page.click('#cancel-credential');
  });

  let newKey;
  await step('create an access key: shown once, copied, then gone', async () => {
    await page.click('#tab-access-keys');
    await page.waitForSelector('#panel-access-keys', { state: 'visible' });
    await page.click('#create-access-key');
    await page.fill('#access-key-form input[name=name]', 'console reader');
    await page.check('#access-key-form input[name=scopes][value="credentials:read"]');
    await page.click('#save-access-key');
    await page.waitForSelector('#new-key', { state: 'visible' });
    newKey = (await page.textContent('#new-key-value')).trim();
    assert.match(newKey, /^vlt_/);
    await shot('new-key');
    await page.click('#copy-key');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), newKey);
    assert.equal((await api('GET', '/credentials?limit=1', undefined, newKey)).status, 200);
    await page.click('#dismiss-key');
    assert.ok(!(await page.content()).includes(newKey), 'the key is gone from the DOM');
    await page.waitForSelector('#access-keys tr[data-access-key]:has-text("console reader")');
    await shot('access-keys');
  });

  await step('revoke an access key', async () => {
    const keyRow = '#access-keys tr[data-access-key]:has-text("console reader")';
    await page.click(`${keyRow} button.revoke`);
    await page.waitForSelector('#confirm[open]');
    await page.click('#confirm-yes');
    // Playwright's :has-text is not CSS: wait through its own engine.
    await page.waitForSelector(`${keyRow} button.revoke`, { state: 'detached' });
    assert.equal((await api('GET', '/credentials?limit=1', undefined, newKey)).status, 401);
  });

  // A webhook made in the console. Deliveries to hooks.example.com never succeed here; the
  // reminder job (every second under scripts/test-console.sh) addresses the api_key
  // credential's expiry to it, which the deliveries step below waits for.
  const hookUrl = `https://hooks.example.com/vault-console-${randomUUID().slice(0, 8)}`;
  const hookRow = '#webhooks tr[data-webhook-id]';
  const hookForm = (selector) => `#webhook-form ${selector}`;
  const eventBox = (type) => hookForm(`input[name=events][value="${type}"]`);
  let hook;

  await step('webhooks: create one, its signing secret shown once', async () => {
    await page.click('#tab-webhooks');
    await page.waitForSelector('#panel-webhooks', { state: 'visible' });
    await page.waitForSelector('#webhooks-empty', { state: 'visible' });
    await page.click('#create-webhook');
    await page.waitForSelector('#webhook-form', { state: 'visible' });
    assert.equal(await page.evaluate(() => document.activeElement.name), 'url');
    const boxes = await page.$$eval(hookForm('input[name=events]'), (bs) => bs.map((b) => b.value));
    assert.deepEqual(boxes, [
      'credential.expiring', 'credential.expired', 'credential.use_failed', 'oauth.reconnect_required',
      'oauth.reconnected', 'access_key.expiring', 'key.rotated',
    ]);
    const unlabelled = await page.evaluate(() =>
      [...document.querySelectorAll('#webhook-form input, #webhook-form textarea')]
        .filter((c) => !c.labels || !c.labels.length).map((c) => c.name));
    assert.deepEqual(unlabelled, []);

    // The vault names what is wrong: an http URL, no event.
    await page.fill(hookForm('input[name=url]'), 'http://hooks.example.com/plain');
    await page.click('#save-webhook');
    await page.waitForSelector('#error:has-text("invalid-field")');
    const fields = await page.$$eval('#error .error-fields code', (cs) => cs.map((c) => c.textContent));
    assert.deepEqual([...fields].sort(), ['events', 'url']);
    assert.equal(await page.evaluate(() => document.activeElement.name), 'url', 'the first bad field has the focus');
    assert.equal((await api('GET', '/webhooks')).body.items.length, 0, 'nothing made');

    await page.fill(hookForm('input[name=url]'), hookUrl);
    await page.check(eventBox('credential.expiring'));
    await page.check(eventBox('key.rotated'));
    await page.fill(hookForm('input[name=daysAhead]'), '30, 7 1');
    await page.fill(hookForm('textarea[name=description]'), 'console hook');
    await page.locator('#webhook-form').screenshot({ path: `${SHOTS}/webhook-form.png` });
    await page.click('#save-webhook');
    await page.waitForSelector('#new-webhook-secret', { state: 'visible' });
    assert.equal(await page.isVisible('#error'), false);
    const secret = (await page.textContent('#new-webhook-secret-value')).trim();
    assert.match(secret, /^whsec_/);
    canaries.push(secret);
    assert.equal(await page.evaluate(() => document.activeElement.id), 'copy-webhook-secret');
    await page.waitForSelector(`${hookRow} td.url code:text-is("${hookUrl}")`);

    const listed = (await api('GET', '/webhooks')).body.items;
    assert.equal(listed.length, 1);
    hook = listed[0];
    assert.equal(hook.url, hookUrl);
    assert.deepEqual(hook.events, ['credential.expiring', 'key.rotated']);
    assert.deepEqual(hook.daysAhead, [30, 7, 1]);
    assert.equal(hook.description, 'console hook');
    assert.equal(hook.enabled, true);
    assert.equal(await page.getAttribute(hookRow, 'data-webhook-id'), hook.id);
    const text = async (name) => (await page.textContent(`${hookRow} td.${name}`)).trim();
    assert.deepEqual(await page.$$eval(`${hookRow} td.events code`, (cs) => cs.map((c) => c.textContent)), hook.events);
    assert.equal(await text('days'), '30, 7, 1');
    assert.equal(await text('status'), 'enabled');
    assert.match(await text('url'), /console hook$/);
    await shot('webhook-secret');

    await page.click('#copy-webhook-secret');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
    await page.click('#dismiss-webhook-secret');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'create-webhook');
    await assertNoSecretOnPage('after the webhook secret was dismissed');

    // Listed again after a reload: never the secret.
    await page.reload();
    await page.waitForSelector('#panel-credentials', { state: 'visible' });
    await page.click('#tab-webhooks');
    await page.waitForSelector(hookRow);
    assert.equal(await page.isVisible('#new-webhook-secret'), false);
    await assertNoSecretOnPage('after a reload');
    await shot('webhooks');
  });

  await step('webhooks: edit its events, days ahead and description; disable and enable it', async () => {
    await page.click(`${hookRow} button.edit`);
    await page.waitForSelector('#webhook-form', { state: 'visible' });
    assert.equal(await page.inputValue(hookForm('input[name=url]')), hookUrl);
    const checked = await page.$$eval(hookForm('input[name=events]:checked'), (bs) => bs.map((b) => b.value));
    assert.deepEqual(checked, ['credential.expiring', 'key.rotated']);
    assert.equal(await page.inputValue(hookForm('input[name=daysAhead]')), '30 7 1');
    assert.equal(await page.inputValue(hookForm('textarea[name=description]')), 'console hook');
    assert.ok(await page.isChecked(hookForm('input[name=enabled]')));

    await page.uncheck(eventBox('key.rotated'));
    await page.check(eventBox('credential.expired'));
    await page.check(eventBox('credential.use_failed'));
    await page.fill(hookForm('input[name=daysAhead]'), '14 2');
    await page.fill(hookForm('textarea[name=description]'), 'console hook, edited');
    await page.uncheck(hookForm('input[name=enabled]'));
    const patch = page.waitForRequest((r) => r.url() === `${BASE}/webhooks/${hook.id}` && r.method() === 'PATCH');
    await page.click('#save-webhook');
    // Only what changed is sent.
    assert.deepEqual(JSON.parse((await patch).postData()), {
      events: ['credential.expiring', 'credential.expired', 'credential.use_failed'],
      daysAhead: [14, 2],
      description: 'console hook, edited',
      enabled: false,
    });
    await page.waitForSelector('#webhook-form', { state: 'detached' });
    await page.waitForSelector(`${hookRow} td.status .badge:text-is("disabled")`);
    const stored = (await api('GET', `/webhooks/${hook.id}`)).body;
    assert.deepEqual(stored.events, ['credential.expiring', 'credential.expired', 'credential.use_failed']);
    assert.deepEqual(stored.daysAhead, [14, 2]);
    assert.equal(stored.description, 'console hook, edited');
    assert.equal(stored.enabled, false);
    assert.equal(stored.url, hookUrl);
    assert.equal((await page.textContent(`${hookRow} td.days`)).trim(), '14, 2');

    // Enabled again (a disabled webhook is sent nothing); Escape closes the form unsaved.
    await page.click(`${hookRow} button.edit`);
    await page.fill(hookForm('textarea[name=description]'), 'not saved');
    await page.keyboard.press('Escape');
    await page.waitForSelector('#webhook-form', { state: 'detached' });
    assert.equal((await api('GET', `/webhooks/${hook.id}`)).body.description, 'console hook, edited');
    await page.click(`${hookRow} button.edit`);
    await page.check(hookForm('input[name=enabled]'));
    const enable = page.waitForRequest((r) => r.url() === `${BASE}/webhooks/${hook.id}` && r.method() === 'PATCH');
    await page.click('#save-webhook');
    assert.deepEqual(JSON.parse((await enable).postData()), { enabled: true });
    await page.waitForSelector(`${hookRow} td.status .badge:text-is("enabled")`);
    assert.equal((await api('GET', `/webhooks/${hook.id}`)).body.enabled, true);
  });

  await step('webhooks: rotate the secret, a new one shown once', async () => {
    await page.click(`${hookRow} button.rotate`);
    await page.waitForSelector('#confirm[open]');
    await page.click('#confirm-no');
    assert.equal(await page.isVisible('#new-webhook-secret'), false, 'no: nothing rotated');
    await page.click(`${hookRow} button.rotate`);
    await page.waitForSelector('#confirm[open]');
    const rotation = page.waitForResponse((r) => r.url() === `${BASE}/webhooks/${hook.id}/rotate-secret`);
    await page.click('#confirm-yes');
    const response = await rotation;
    assert.equal(response.status(), 200);
    assert.equal(response.headers()['cache-control'], 'no-store');
    await page.waitForSelector('#new-webhook-secret', { state: 'visible' });
    const rotated = (await page.textContent('#new-webhook-secret-value')).trim();
    assert.match(rotated, /^whsec_/);
    assert.ok(!canaries.includes(rotated), 'a new secret');
    canaries.push(rotated);
    assert.match(await page.textContent('#new-webhook-secret-heading'), /New signing secret/);
    await shot('webhook-rotated');
    await page.click('#dismiss-webhook-secret');
    await assertNoSecretOnPage('after the rotated secret was dismissed');
  });

  await step('audit: the chain is intact, each event shows its number in it', async () => {
    // The tabs by the keyboard: the arrows go round, Home and End to the ends.
    const selected = () => page.evaluate(() => [document.activeElement.id, document.querySelector('[role=tab][aria-selected=true]').id]);
    await page.focus('#tab-webhooks');
    await page.keyboard.press('ArrowRight');
    assert.deepEqual(await selected(), ['tab-audit', 'tab-audit']);
    await page.keyboard.press('ArrowRight');
    assert.deepEqual(await selected(), ['tab-credentials', 'tab-credentials']);
    await page.keyboard.press('ArrowLeft');
    assert.deepEqual(await selected(), ['tab-audit', 'tab-audit']);
    await page.keyboard.press('Home');
    assert.deepEqual(await selected(), ['tab-credentials', 'tab-credentials']);
    await page.keyboard.press('End');
    assert.deepEqual(await selected(), ['tab-audit', 'tab-audit']);
    await page.waitForSelector('#panel-audit', { state: 'visible' });
    await page.waitForSelector('#audit-chain[data-status="intact"]');
    await page.waitForSelector('#audit-events tr.audit-event');
    const chain = (await api('GET', '/audit-events/chain')).body;
    assert.equal(chain.status, 'intact', JSON.stringify(chain));
    const text = (await page.textContent('#audit-chain')).replace(/\s+/g, ' ').trim();
    assert.match(text, /^\u2713 Chain intact: (\d+) events, verified through #\1; /);
    assert.equal(Number(/(\d+) events/.exec(text)[1]), chain.head.sequence);
    assert.match(text, chain.lastCheckpoint ? /last signed checkpoint #\d+ at / : /no signed checkpoint yet/);
    // Newest first, numbered down the chain; the first is the webhook's new secret.
    const rows = await page.$$eval('#audit-events tr.audit-event', (rs) => rs.slice(0, 5).map((r) => ({
      sequence: Number(r.dataset.sequence),
      shown: r.querySelector('td.sequence').textContent,
      action: r.querySelector('td.action').textContent,
      target: r.querySelector('td.target').textContent,
    })));
    assert.equal(rows[0].sequence, chain.head.sequence);
    rows.forEach((r, i) => {
      assert.equal(r.sequence, chain.head.sequence - i);
      assert.equal(r.shown, `#${r.sequence}`);
    });
    assert.equal(rows[0].action, 'webhook.update');
    assert.equal(rows[0].target, `webhook \u201c${hookUrl}\u201d`);
    await shot('audit');

    // A broken chain, played by the vault's answer: said plainly, where and why.
    const broken = {
      status: 'broken',
      head: chain.head,
      lastCheckpoint: null,
      verifiedThrough: 0,
      break: { sequence: 17, eventId: randomUUID(), detail: 'event 17 does not match its digest' },
    };
    await page.route(`${BASE}/audit-events/chain`, (route) => route.fulfill({ json: broken }));
    await page.click('#refresh-audit');
    await page.waitForSelector('#audit-chain[data-status="broken"]');
    const said = (await page.textContent('#audit-chain')).replace(/\s+/g, ' ');
    assert.match(said, /Chain broken at event 17: event 17 does not match its digest/);
    assert.ok(said.includes(broken.break.eventId));
    assert.equal(await page.getAttribute('#audit-chain', 'class'), 'chain-status broken');
    await shot('audit-broken');
    await page.unroute(`${BASE}/audit-events/chain`);
    await page.click('#refresh-audit');
    await page.waitForSelector('#audit-chain[data-status="intact"]');
  });

  await step('usable with the keyboard: Enter opens the form, Escape closes a dialog', async () => {
    await page.click('#tab-credentials');
    await page.focus('#add-credential');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#credential-form', { state: 'visible' });
    await page.click('#cancel-credential');
    await page.focus(`${row('api_key')} button.delete`);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#confirm[open]');
    await page.keyboard.press('Escape');
    await page.waitForSelector('#confirm[open]', { state: 'detached' });
    assert.ok(await page.isVisible(row('api_key')), 'Escape deleted nothing');
  });

  await step('an authorization_code oauth2 credential: made in the form, pending, Connect opens the provider', async () => {
    const name = `console oauth2 code ${randomUUID().slice(0, 8)}`;
    const authorizationUrl = 'https://auth.example.com/authorize';
    await page.click('#add-credential');
    await page.waitForSelector('#credential-form', { state: 'visible' });
    await page.selectOption(form('select[name=type]'), 'oauth2');
    // The choices at their defaults (client_credentials, basic): a secret, no authorization URL.
    assert.equal(await page.inputValue(form('select[name=grant]')), 'client_credentials');
    assert.equal(await page.inputValue(form('select[name=clientAuth]')), 'basic');
    assert.ok(await page.isVisible(form('input[name=clientSecret]')));
    assert.equal(await page.isVisible(form('input[name=authorizationUrl]')), false);
    await page.selectOption(form('select[name=grant]'), 'authorization_code');
    assert.ok(await page.isVisible(form('input[name=authorizationUrl]')));
    await page.selectOption(form('select[name=clientAuth]'), 'none');
    assert.equal(await page.isVisible(form('input[name=clientSecret]')), false, 'a public client has no secret');
    await page.fill(form('input[name=name]'), name);
    await page.fill(form('textarea[name=allowedHosts]'), 'auth.example.com');
    await page.fill(form('input[name=clientId]'), 'console-public-client');
    await page.fill(form('input[name=tokenUrl]'), 'https://auth.example.com/token');
    await page.fill(form('input[name=authorizationUrl]'), authorizationUrl);
    await page.fill(form('input[name=scopes]'), 'openid offline_access');
    await page.fill(form('textarea[name=authorizationParams]'), '{"access_type": "offline", "prompt": "consent"}');
    await page.locator('#credential-form').screenshot({ path: `${SHOTS}/form-oauth2-authorization-code.png` });
    await page.click('#save-credential');
    const made = `#credentials tr:has(td.name:text-is("${name}"))`;
    await page.waitForSelector(made);
    const id = await page.getAttribute(made, 'data-credential-id');
    const stored = (await api('GET', `/credentials/${id}`)).body;
    assert.equal(stored.grant, 'authorization_code', JSON.stringify(stored));
    assert.equal(stored.clientAuth, 'none');
    assert.equal(stored.authorizationUrl, authorizationUrl);
    assert.deepEqual(stored.scopes, ['openid', 'offline_access']);
    assert.deepEqual(stored.authorizationParams, { access_type: 'offline', prompt: 'consent' });
    assert.equal(stored.connection?.status, 'pending', JSON.stringify(stored.connection));

    // The list: a "pending" badge and Connect; a client-credentials credential has neither.
    assert.equal((await page.textContent(`${made} td.type .badge`)).trim(), 'pending');
    assert.equal((await page.textContent(`${made} button.connect`)).trim(), 'Connect');
    assert.equal(await page.$(`${row('oauth2')} td.type .badge`), null);
    assert.equal(await page.$(`${row('oauth2')} button.connect`), null);

    // Connect: the vault's link opens in a new window (recorded, not opened).
    await page.evaluate(() => {
      window.opened = [];
      window.open = (url, target, features) => {
        window.opened.push({ url: String(url), target, features });
        return null;
      };
    });
    const connected = page.waitForResponse(
      (r) => r.url() === `${BASE}/credentials/${id}/connect` && r.request().method() === 'POST',
    );
    await page.click(`${made} button.connect`);
    const response = await connected;
    assert.equal(response.status(), 200, await response.text());
    const started = await response.json();
    await page.waitForSelector('#connect-started', { state: 'visible' });
    assert.equal(await page.textContent('#details-heading'), name);
    const opened = await page.evaluate(() => window.opened);
    assert.equal(opened.length, 1, JSON.stringify(opened));
    assert.equal(opened[0].url, started.authorizationUrl);
    assert.ok(opened[0].url.startsWith(`${authorizationUrl}?`), opened[0].url);
    assert.equal(opened[0].target, '_blank');
    assert.match(opened[0].features, /noopener/);
    const query = new URL(opened[0].url).searchParams;
    assert.equal(query.get('client_id'), 'console-public-client');
    assert.equal(query.get('access_type'), 'offline');
    assert.equal(await page.textContent('#connect-redirect-uri'), started.redirectUri);
    assert.match(started.redirectUri, /\/oauth\/callback$/);
    assert.equal(await page.getAttribute('#connect-expires time', 'datetime'), started.expiresAt);
    assert.equal((await page.textContent('#connection-state .badge')).trim(), 'pending');
    // The link's single-use state is neither in the page nor in its console.
    const linkState = query.get('state');
    assert.ok(linkState, 'the link has a state');
    assert.ok(!(await page.content()).includes(linkState), 'the link is not in the DOM');
    assert.ok(!consoleMessages.some((m) => m.includes(linkState)), 'the link is not logged');
    await shot('connect-started');
    await page.click('#connect-open-again');
    assert.equal((await page.evaluate(() => window.opened.length)), 2, 'opened again');

    // Refresh status re-reads the credential.
    const reread = page.waitForResponse((r) => r.url() === `${BASE}/credentials/${id}` && r.request().method() === 'GET');
    await page.click('#refresh-connection');
    await reread;
    await page.waitForSelector('#status:has-text("Connection: pending")');

    // What the provider's callback leads to, played by the vault's answers: the badges and
    // the button follow the connection, in the details and in the list.
    let played;
    const play = (c) => (c.id === id ? { ...c, connection: played } : c);
    const isCredential = (url) => url.pathname === `/credentials/${id}`;
    const isList = (url) => url.pathname === '/credentials';
    await page.route(isCredential, async (route) => {
      const real = await route.fetch();
      await route.fulfill({ response: real, json: play(await real.json()) });
    });
    await page.route(isList, async (route) => {
      const real = await route.fetch();
      const body = await real.json();
      await route.fulfill({ response: real, json: { ...body, items: body.items.map(play) } });
    });
    const connectedAt = new Date(Date.now() - 60e3).toISOString().replace(/\.\d{3}Z$/, 'Z');
    for (const [connection, text] of [
      [{ status: 'connected', connectedAt }, 'connected'],
      [{ status: 'needs-reconnect', connectedAt, reason: 'invalid_grant' }, 'needs reconnect (invalid_grant)'],
    ]) {
      played = connection;
      await page.click('#refresh-connection');
      await page.waitForSelector(`#connection-state .badge:text-is("${text}")`);
      await page.waitForSelector(`${made} td.type .badge:text-is("${text}")`);
      assert.equal((await page.textContent('#connect-credential')).trim(), 'Reconnect');
      assert.equal((await page.textContent(`${made} button.connect`)).trim(), 'Reconnect');
      assert.equal(await page.getAttribute('#connection-state time', 'datetime'), connectedAt);
      // Connected since the link was made: the link's instructions are gone.
      assert.equal(await page.isVisible('#connect-started'), false, `${text}: the link is done`);
    }
    await shot('connection-needs-reconnect');
    await page.unroute(isCredential);
    await page.unroute(isList);

    // Edit: the public values come back; emptying the parameters clears them.
    await page.click(`${made} button.edit`);
    await page.waitForSelector('#credential-form', { state: 'visible' });
    assert.equal(await page.inputValue(form('select[name=grant]')), 'authorization_code');
    assert.equal(await page.inputValue(form('input[name=authorizationUrl]')), authorizationUrl);
    assert.equal(await page.isVisible(form('input[name=clientSecret]')), false);
    assert.deepEqual(JSON.parse(await page.inputValue(form('textarea[name=authorizationParams]'))), stored.authorizationParams);
    await page.fill(form('textarea[name=authorizationParams]'), '');
    await page.click('#save-credential');
    await page.waitForSelector('#credential-form', { state: 'hidden' });
    const edited = (await api('GET', `/credentials/${id}`)).body;
    assert.deepEqual(edited.authorizationParams ?? {}, {}, JSON.stringify(edited));
    assert.equal(edited.authorizationUrl, authorizationUrl);
  });

  // Values for the fields whose rules a made-up text would break, by type and field: a
  // certificate and its key (a fixture made with openssl), a region, a template.
  const fixture = (name) => readFileSync(new URL(`fixtures/${name}`, import.meta.url), 'utf8');
  const VALID = {
    mtls: { certificate: fixture('mtls-client.pem'), privateKey: fixture('mtls-client.key.pem') },
    aws_sigv4: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', region: 'eu-west-1' },
    hmac_signature: {
      stringToSign: '{method} {pathAndQuery}',
      // As the form shows an object again.
      signatureHeaders: JSON.stringify({ 'x-signature': '{signature}' }, null, 2),
    },
  };

  await step('every type of /credential-types: its form has each field, creates and edits', async () => {
    const types = await api('GET', '/credential-types');
    assert.equal(types.status, 200, JSON.stringify(types.body));
    assert.ok(types.body.items.length >= 6, 'the vault describes its types');
    const wrapper = (field) => form(`[data-field="${field.name}"]`);
    for (const spec of types.body.items) {
      const name = `spec ${spec.type} ${randomUUID().slice(0, 8)}`;
      await page.click('#add-credential');
      await page.waitForSelector('#credential-form', { state: 'visible' });
      await page.selectOption(form('select[name=type]'), spec.type);
      assert.equal(await page.textContent(form('#type-fields-legend')), spec.title);

      // Each field: an input named for it with its label, or a group whose legend is the
      // label and whose every control is named under the field.
      for (const field of spec.fields) {
        const found = await page.evaluate((f) => {
          const node = document.querySelector(`#credential-form [data-field="${f.name}"]`);
          if (!node) return null;
          const controls = [...node.querySelectorAll('input, select, textarea')];
          const group = node.tagName === 'FIELDSET';
          return {
            group,
            label: group
              ? node.querySelector('legend').textContent
              : controls.find((c) => c.name === f.name)?.labels[0]?.textContent,
            named: controls.every((c) => (group ? c.name.startsWith(`${f.name}.`) : c.name === f.name)),
            count: controls.length,
          };
        }, field);
        assert.ok(found, `${spec.type}: no input for ${field.name}`);
        assert.ok(found.count > 0 && found.named, `${spec.type}.${field.name}: ${JSON.stringify(found)}`);
        assert.ok(found.label && found.label.includes(field.label), `${spec.type}.${field.name} is labelled ${field.label}: ${found.label}`);
        assert.equal(found.group, ['placement', 'secretMap'].includes(field.shape.kind), `${spec.type}.${field.name}`);
      }
      // Every control of the form has a label of its own.
      const unlabelled = await page.evaluate(() =>
        [...document.querySelectorAll('#credential-form input, #credential-form select, #credential-form textarea')]
          .filter((c) => !c.labels || !c.labels.length).map((c) => c.name));
      assert.deepEqual(unlabelled, []);

      // A field required only for some values of another is shown only for them.
      for (const field of spec.fields.filter((f) => f.required.when === 'if')) {
        const other = spec.fields.find((f) => f.name === field.required.field);
        const off = other.shape.options.find((o) => !field.required.oneOf.includes(o));
        await page.selectOption(form(`[name="${other.name}"]`), field.required.oneOf[0]);
        assert.ok(await page.isVisible(wrapper(field)), `${spec.type}.${field.name} shown`);
        if (off) {
          await page.selectOption(form(`[name="${other.name}"]`), off);
          assert.equal(await page.isVisible(wrapper(field)), false, `${spec.type}.${field.name} hidden`);
        }
      }
      for (const field of spec.fields.filter((f) => f.shape.kind === 'choice')) {
        // In order: a choice may hide one after it (a default it fills in).
        if (!(await page.isVisible(wrapper(field)))) continue;
        await page.selectOption(form(`[name="${field.name}"]`), field.shape.options[0]);
      }

      // Fill what is required (for the choices made), then create.
      await page.fill(form('input[name=name]'), name);
      await page.fill(form('textarea[name=allowedHosts]'), 'auth.example.com');
      const typed = {};
      for (const field of spec.fields) {
        if (field.required.when === 'never' || !(await page.isVisible(wrapper(field)))) continue;
        const at = (suffix = '') => form(`[name="${field.name}${suffix}"]`);
        const valid = VALID[spec.type]?.[field.name];
        if (valid !== undefined && field.shape.kind.startsWith('secret')) {
          await page.fill(at(), valid);
          continue;
        }
        if (valid !== undefined) {
          typed[field.name] = valid;
          await page.fill(at(), valid);
          continue;
        }
        switch (field.shape.kind) {
          case 'choice': break;
          case 'url': typed[field.name] = 'https://auth.example.com/token'; break;
          case 'textList': typed[field.name] = 'one two'; break;
          case 'integer': typed[field.name] = String(field.shape.minimum); break;
          case 'object': typed[field.name] = '{"k": "v"}'; break;
          case 'placement': await page.fill(at('.name'), 'X-Console'); break;
          case 'secretMap':
            await page.fill(at('.name'), 'X-Console');
            await page.fill(at('.value'), canary(`${spec.type}-map`));
            break;
          case 'secret':
          case 'secretPem':
            await page.fill(at(), canary(`${spec.type}-${field.name}-0123456789abcdef`));
            break;
          default: typed[field.name] = `console-${field.name}`;
        }
        if (typed[field.name]) await page.fill(at(), typed[field.name]);
      }
      await page.locator('#credential-form').screenshot({ path: `${SHOTS}/form-${spec.type}.png` });
      await page.click('#save-credential');
      await page.waitForSelector(`#credentials tr:has(td.name:text-is("${name}"))`);
      const made = `#credentials tr:has(td.name:text-is("${name}"))`;
      const id = await page.getAttribute(made, 'data-credential-id');

      // Edit: public values come back, secrets do not; replace them and the description.
      await page.click(`${made} button.edit`);
      await page.waitForSelector('#credential-form', { state: 'visible' });
      for (const [field, value] of Object.entries(typed)) {
        assert.equal(await page.inputValue(form(`[name="${field}"]`)), value, `${spec.type}.${field} filled`);
      }
      const secrets = await page.$$(`${form('[data-secret]')}:visible`);
      assert.ok(secrets.length > 0, `${spec.type} has a secret to replace`);
      for (const input of secrets) {
        assert.equal(await input.inputValue(), '');
        assert.match(await input.getAttribute('placeholder'), /unchanged/);
        assert.equal(await input.evaluate((i) => i.required), false);
        const valid = VALID[spec.type]?.[await input.getAttribute('name')];
        await input.fill(valid ?? canary(`${spec.type}-v2-0123456789abcdef`));
      }
      await page.fill(form('textarea[name=description]'), 'edited');
      await page.click('#save-credential');
      await page.waitForSelector('#credential-form', { state: 'hidden' });
      const stored = await api('GET', `/credentials/${id}`);
      assert.equal(stored.body.description, 'edited', JSON.stringify(stored.body));
      assert.equal(stored.body.revision, 2, `${spec.type}: the secret was replaced`);
      for (const [field, value] of Object.entries(typed)) {
        const kind = spec.fields.find((f) => f.name === field).shape.kind;
        const parse = { textList: (v) => v.split(' '), integer: Number, object: JSON.parse }[kind];
        const expected = parse ? parse(value) : value;
        assert.deepEqual(stored.body[field], expected, `${spec.type}.${field} kept`);
      }
    }
    await assertNoSecretOnPage('after every type');
  });

  await step('usage: a chart of a credential\'s uses per hour by class, and its last use', async () => {
    const name = `console usage ${randomUUID().slice(0, 8)}`;
    // Port 1 on 127.0.0.1 refuses connections: a use that gets no answer.
    const closed = 'http://127.0.0.1:1';
    const made = await api('POST', '/credentials', {
      name, type: 'bearer_token', value: canary('usage'), allowedHosts: [upstreamHost, closed],
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const id = made.body.id;
    const usageRow = `#credentials tr:has(td.name:text-is("${name}"))`;
    await page.click('#tab-credentials');
    await page.reload();
    await page.waitForSelector(usageRow);
    await page.click(`${usageRow} button.details`);
    await page.waitForSelector('#usage-empty', { state: 'visible' });
    assert.equal(await page.isVisible('#usage-chart'), false);
    assert.equal((await page.textContent('#usage-empty')).trim(), 'No uses in the last 7 days.');
    assert.match(await page.textContent('#usage-last'), /No use on record/);

    const use = (url) => api('POST', `/credentials/${id}/proxy`, { method: 'GET', url });
    assert.equal((await use(`${closed}/x`)).body.code, 'upstream-unreachable');
    for (const path of ['/hello', '/hello', '/status/500', '/status/404']) {
      const used = await use(`${upstreamHost}${path}`);
      assert.ok(!used.body.code, JSON.stringify(used.body));
    }
    const usage = (await api('GET', `/credentials/${id}/usage?days=7`)).body;
    const expected = { '2xx': 2, '4xx': 1, '5xx': 1, none: 1 };
    const byClass = (items) => items.reduce((m, b) => ({ ...m, [b.statusClass]: (m[b.statusClass] || 0) + b.count }), {});
    assert.deepEqual(byClass(usage.buckets), expected, JSON.stringify(usage));

    await page.click('#close-details');
    await page.click(`${usageRow} button.details`);
    await page.waitForSelector('#usage-chart', { state: 'visible' });
    await page.waitForSelector('#usage-svg rect.bar');
    assert.equal(await page.isVisible('#usage-empty'), false);
    const bars = await page.$$eval('#usage-svg rect.bar', (rs) => rs.map((r) => ({
      statusClass: r.dataset.class,
      count: Number(r.dataset.count),
      hour: r.dataset.hour,
      height: r.getBBox().height,
      width: r.getBBox().width,
    })));
    assert.deepEqual(byClass(bars), expected, JSON.stringify(bars));
    assert.ok(bars.every((b) => b.height > 0 && b.width > 0), JSON.stringify(bars));
    // All in this hour: the last bar of the seven days.
    const plotted = await page.evaluate(() => {
      const svg = document.querySelector('#usage-svg');
      return {
        role: svg.getAttribute('role'),
        label: svg.getAttribute('aria-label'),
        width: svg.viewBox.baseVal.width,
        days: svg.querySelectorAll('text.day-label').length,
        right: Math.max(...[...svg.querySelectorAll('rect.bar')].map((r) => r.getBBox().x + r.getBBox().width)),
      };
    });
    assert.equal(plotted.role, 'img');
    assert.ok(plotted.label, 'the chart has an accessible name');
    assert.ok(plotted.days >= 7, `a label per day: ${plotted.days}`);
    assert.ok(plotted.right > plotted.width - 20, `the uses are at the right end: ${JSON.stringify(plotted)}`);
    assert.ok(new Set(bars.map((b) => b.hour)).size === 1);
    assert.equal(new Date(bars[0].hour).getTime() % 3600e3, 0, 'a bar is an hour');

    const summary = (await page.textContent('#usage-summary')).trim();
    assert.match(summary, /^5 uses in the last 7 days: 2xx success 2, 3xx redirect 0, 4xx client error 1, 5xx server error 1, no answer 1\. Busiest hour: .+ \(5\)\.$/);
    const legend = await page.$$eval('#usage-legend li', (ls) => ls.map((l) => l.textContent.trim()));
    assert.deepEqual(legend, ['2xx success 2', '3xx redirect 0', '4xx client error 1', '5xx server error 1', 'no answer 1']);
    const last = (await page.textContent('#usage-last')).replace(/\s+/g, ' ').trim();
    const port = new URL(upstreamHost).port;
    assert.equal(last, `Last used just now: GET 127.0.0.1:${port}/status/404 \u2192 404`);
    await page.locator('#credential-details').screenshot({ path: `${SHOTS}/usage-chart.png` });

    // At phone width the chart is redrawn to fit, with the same bars.
    await page.setViewportSize({ width: 375, height: 800 });
    await page.waitForFunction(() => document.querySelector('#usage-svg').viewBox.baseVal.width < 375);
    assert.deepEqual(byClass(await page.$$eval('#usage-svg rect.bar', (rs) => rs.map((r) => ({
      statusClass: r.dataset.class, count: Number(r.dataset.count),
    })))), expected);
    await assertNoSidewaysScroll('the usage chart at 375px');
    await page.locator('#credential-details').screenshot({ path: `${SHOTS}/phone-usage-chart.png` });
    await page.setViewportSize({ width: 1280, height: 900 });

    // A busy week, played by the vault's answer: every listed hour is a bar at its place,
    // the hours not listed are empty, and the classes stack.
    const hour = 3600e3;
    const now = Date.now();
    const since = Math.floor((now - 7 * 86400e3) / hour) * hour;
    const buckets = [];
    for (let h = 0; h <= 168; h += 1) {
      if (h % 24 < 7) continue; // quiet nights
      const at = new Date(since + h * hour).toISOString().replace('.000Z', 'Z');
      buckets.push({ hour: at, statusClass: '2xx', count: 5 + ((h * 7) % 13) });
      if (h % 5 === 0) buckets.push({ hour: at, statusClass: '4xx', count: 1 + (h % 3) });
      if (h % 17 === 0) buckets.push({ hour: at, statusClass: '5xx', count: 2 });
      if (h % 29 === 0) buckets.push({ hour: at, statusClass: 'none', count: 1 });
      if (h === 110) buckets.push({ hour: at, statusClass: '3xx', count: 4 });
    }
    const played = {
      credentialId: id,
      since: new Date(since).toISOString(),
      until: new Date(now).toISOString(),
      buckets,
      lastUse: usage.lastUse,
    };
    const route = (url) => url.pathname === `/credentials/${id}/usage`;
    await page.route(route, (r) => r.fulfill({ json: played }));
    await page.click(`${usageRow} button.details`);
    await page.waitForSelector(`#usage-summary:has-text("${buckets.reduce((n, b) => n + b.count, 0)} uses")`);
    const week = await page.$$eval('#usage-svg rect.bar', (rs) => rs.map((r) => ({
      statusClass: r.dataset.class, count: Number(r.dataset.count), hour: r.dataset.hour, x: r.getBBox().x,
    })));
    assert.equal(week.length, buckets.length);
    assert.deepEqual(byClass(week), byClass(buckets));
    const xOf = new Map(week.map((b) => [b.hour, b.x]));
    assert.equal(xOf.size, new Set(buckets.map((b) => b.hour)).size, 'a bar per hour listed');
    const [firstHour, lastHour] = [buckets[0].hour, buckets.at(-1).hour].map((h) => new Date(h).toISOString());
    const step = (xOf.get(lastHour) - xOf.get(firstHour)) / ((new Date(lastHour) - new Date(firstHour)) / hour);
    assert.ok(step > 0, `${step}`);
    for (const [at, x] of xOf) {
      const expected = xOf.get(firstHour) + ((new Date(at) - new Date(firstHour)) / hour) * step;
      assert.ok(Math.abs(x - expected) < 0.01, `the bar of ${at} is at ${x}, not ${expected}`);
    }
    await page.locator('#usage-chart').screenshot({ path: `${SHOTS}/usage-chart-week.png` });
    await page.unroute(route);
    await page.click('#close-details');
    await assertNoSecretOnPage('after the usage chart');
  });

  await step('webhooks: deliveries listed and replayed; delete asks for confirmation', async () => {
    let deliveries = [];
    for (const deadline = Date.now() + 60e3; Date.now() < deadline; await sleep(500)) {
      const listed = await api('GET', `/webhooks/${hook.id}/deliveries`);
      assert.equal(listed.status, 200, JSON.stringify(listed.body));
      deliveries = listed.body.items;
      if (deliveries.some((d) => d.attempts > 0)) break;
    }
    assert.ok(deliveries.some((d) => d.attempts > 0), 'the reminder job made a delivery and tried it');
    await page.click('#tab-webhooks');
    await page.waitForSelector(hookRow);
    await page.click(`${hookRow} button.deliveries`);
    await page.waitForSelector('#webhook-deliveries', { state: 'visible' });
    await page.waitForSelector('#deliveries tr.delivery');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'deliveries-heading');
    const first = (await api('GET', `/webhooks/${hook.id}/deliveries`)).body.items[0];
    const cellText = async (name) => (await page.textContent(`#deliveries tr.delivery td.${name}`)).trim();
    assert.equal(await page.getAttribute('#deliveries tr.delivery', 'data-delivery-id'), first.id);
    assert.equal(await cellText('event'), first.eventType);
    assert.match(await cellText('status'), new RegExp(`^${first.status}`));
    assert.equal(await cellText('attempts'), String(first.attempts));
    assert.equal(await cellText('delivery-error'), first.error || '\u2014');
    assert.equal(await cellText('response'), first.responseStatus === null ? '\u2014' : String(first.responseStatus));
    assert.equal(await page.isVisible('#deliveries-empty'), false);
    await shot('webhook-deliveries');

    const count = await page.$$eval('#deliveries tr.delivery', (rs) => rs.length);
    const replay = page.waitForResponse((r) => r.url().endsWith(`/deliveries/${first.id}/replay`));
    await page.click('#deliveries tr.delivery button.replay');
    assert.equal((await replay).status(), 202);
    await page.waitForFunction((n) => document.querySelectorAll('#deliveries tr.delivery').length === n + 1, count);
    const again = (await api('GET', `/webhooks/${hook.id}/deliveries`)).body.items[0];
    assert.equal(again.replayOf, first.id);
    assert.equal(await page.getAttribute('#deliveries tr.delivery', 'data-delivery-id'), again.id);
    assert.match(await cellText('event'), /\(replay\)$/);

    // The tab at phone width, deliveries open.
    await page.setViewportSize({ width: 375, height: 800 });
    await assertNoSidewaysScroll('the webhooks at 375px');
    await shot('phone-webhooks');
    await page.setViewportSize({ width: 1280, height: 900 });

    await page.click(`${hookRow} button.delete`);
    await page.waitForSelector('#confirm[open]');
    await page.click('#confirm-no');
    assert.equal((await api('GET', `/webhooks/${hook.id}`)).status, 200, 'no: nothing deleted');
    await page.click(`${hookRow} button.delete`);
    await page.waitForSelector('#confirm[open]');
    await page.click('#confirm-yes');
    await page.waitForSelector(hookRow, { state: 'detached' });
    await page.waitForSelector('#webhooks-empty', { state: 'visible' });
    assert.equal(await page.isVisible('#webhook-deliveries'), false, 'its deliveries are closed');
    assert.equal((await api('GET', `/webhooks/${hook.id}`)).status, 404);
    await assertNoSecretOnPage('after the webhook was deleted');
  });

  await step('readable at phone width', async () => {
    await page.setViewportSize({ width: 375, height: 800 });
    await page.reload();
    await page.waitForSelector('#panel-credentials', { state: 'visible' });
    await assertNoSidewaysScroll('the credentials at 375px');
    await shot('phone-credentials');
    await page.click('#tab-access-keys');
    await shot('phone-access-keys');
    await page.click('#tab-audit');
    await page.waitForSelector('#audit-events tr.audit-event');
    await assertNoSidewaysScroll('the audit log at 375px');
    await shot('phone-audit');
  });

  await step('no request left the vault origin; no script error', async () => {
    assert.deepEqual(foreign, []);
    assert.deepEqual(consoleErrors, []);
    await assertNoSecretOnPage('at the end');
  });
} catch (error) {
  failed = true;
  console.log('FAILED');
  console.error(error);
  await shot('failure').catch(() => {});
} finally {
  await browser.close();
  upstream.close();
}
process.exit(failed ? 1 : 0);
