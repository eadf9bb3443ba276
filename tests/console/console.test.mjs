// The web console in headless Chromium against the real server (started by
// scripts/test-console.sh): add one credential of each of the six types, reload, check that
// no secret is in the DOM or in any response the page received, edit, restore a version,
// delete; grant a credential to an access key, with rules and a budget, and revoke the grant;
// an authorization-code OAuth2 credential: its connection badge and Connect (which opens the
// provider's page); create, copy and revoke an access key; errors, the keyboard; every type that
// /credential-types describes through its form; phone width.
// Screenshots of each tab go to $SCREENSHOTS.

import assert from 'node:assert/strict';
import http from 'node:http';
import { randomUUID } from 'node:crypto';
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

// An upstream on 127.0.0.1 for one proxied request (so a request-log entry exists).
const upstream = http.createServer((req, res) => res.end('ok'));
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
    bodies.push({ url: response.url(), text: await response.text() });
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
  for (const { url, text } of bodies) assertNoSecretIn(`the response of ${url}`, text);
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

  await step('add one credential of each of the six types', async () => {
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
    await page.waitForFunction(() => document.querySelectorAll('#credentials tr[data-credential-id]').length === 6);
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
    await page.waitForFunction(() => document.querySelectorAll('#credentials tr[data-credential-id]').length === 6);
  });

  await step('filter by type', async () => {
    await page.selectOption('#type-filter', 'jwt');
    await page.waitForFunction(() => document.querySelectorAll('#credentials tr[data-credential-id]').length === 1);
    assert.equal(await page.textContent('#credentials tr[data-credential-id] td.type'), 'jwt');
    await page.selectOption('#type-filter', '');
    await page.waitForFunction(() => document.querySelectorAll('#credentials tr[data-credential-id]').length === 6);
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
    assert.equal(stored.body.version, 2);
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
    assert.equal(stored.body.version, 3);
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
    await page.waitForSelector('#access-keys tr[data-access-key-id]:has-text("console reader")');
    await shot('access-keys');
  });

  await step('revoke an access key', async () => {
    const keyRow = '#access-keys tr[data-access-key-id]:has-text("console reader")';
    await page.click(`${keyRow} button.revoke`);
    await page.waitForSelector('#confirm[open]');
    await page.click('#confirm-yes');
    // Playwright's :has-text is not CSS: wait through its own engine.
    await page.waitForSelector(`${keyRow} button.revoke`, { state: 'detached' });
    assert.equal((await api('GET', '/credentials?limit=1', undefined, newKey)).status, 401);
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
        await page.selectOption(form(`[name="${field.name}"]`), field.shape.options[0]);
      }

      // Fill what is required (for the choices made), then create.
      await page.fill(form('input[name=name]'), name);
      await page.fill(form('textarea[name=allowedHosts]'), 'auth.example.com');
      const typed = {};
      for (const field of spec.fields) {
        if (field.required.when === 'never' || !(await page.isVisible(wrapper(field)))) continue;
        const at = (suffix = '') => form(`[name="${field.name}${suffix}"]`);
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
        await input.fill(canary(`${spec.type}-v2-0123456789abcdef`));
      }
      await page.fill(form('textarea[name=description]'), 'edited');
      await page.click('#save-credential');
      await page.waitForSelector('#credential-form', { state: 'hidden' });
      const stored = await api('GET', `/credentials/${id}`);
      assert.equal(stored.body.description, 'edited', JSON.stringify(stored.body));
      assert.equal(stored.body.version, 2, `${spec.type}: the secret was replaced`);
      for (const [field, value] of Object.entries(typed)) {
        const kind = spec.fields.find((f) => f.name === field).shape.kind;
        const parse = { textList: (v) => v.split(' '), integer: Number, object: JSON.parse }[kind];
        const expected = parse ? parse(value) : value;
        assert.deepEqual(stored.body[field], expected, `${spec.type}.${field} kept`);
      }
    }
    await assertNoSecretOnPage('after every type');
  });

  await step('readable at phone width', async () => {
    await page.setViewportSize({ width: 375, height: 800 });
    await page.reload();
    await page.waitForSelector('#panel-credentials', { state: 'visible' });
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    assert.ok(overflow <= 1, `the page scrolls sideways by ${overflow}px at 375px`);
    await shot('phone-credentials');
    await page.click('#tab-access-keys');
    await shot('phone-access-keys');
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
