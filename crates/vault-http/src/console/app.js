/*
 * vault web console. Vanilla ES2020, no framework, no build step.
 * Every value from the API goes into the page through textContent or attributes,
 * never as markup: credential names are user input.
 * No double slashes anywhere in this file (a unit test checks that no URL to another
 * host can hide here), so comments use the block form.
 */
'use strict';

(function () {
  const STORAGE_KEY = 'vault.accessKey';
  const SECRET_KINDS = ['secret', 'secretPem', 'secretMap'];
  const UNCHANGED = 'unchanged \u2014 type to replace';
  const DAY_MS = 24 * 60 * 60 * 1000;
  const HOUR_MS = 60 * 60 * 1000;
  const TABS = ['credentials', 'access-keys', 'webhooks', 'audit'];

  const $ = (selector, root) => (root || document).querySelector(selector);
  const $$ = (selector, root) => Array.from((root || document).querySelectorAll(selector));

  const state = {
    key: null,
    types: [],
    credentials: new Map(),
    editing: null,
    detailsId: null,
    accessKeys: [],
    lastFocus: null,
    /* The authorization link of a connect in progress: in memory only (never in the page,
       never logged), for it carries a single-use state. */
    connecting: null,
    webhooks: new Map(),
    webhookEditing: null,
    deliveriesOf: null,
    deliveriesCursor: null,
    auditCursor: null,
    /* The usage chart of the details, kept to redraw it at a new width. */
    usage: null,
  };

  /* ---------------------------------------------------------------- DOM helpers */

  function el(tag, props, children) {
    const node = document.createElement(tag);
    if (props) {
      for (const [name, value] of Object.entries(props)) {
        if (value === undefined || value === null || value === false) continue;
        if (name === 'text') node.textContent = String(value);
        else if (name === 'className') node.className = value;
        else if (name === 'dataset') Object.assign(node.dataset, value);
        else node.setAttribute(name, value === true ? '' : String(value));
      }
    }
    for (const child of children || []) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function cloneTemplate(id) {
    return document.getElementById(id).content.cloneNode(true);
  }

  function timeEl(iso) {
    if (!iso) return el('span', { className: 'muted', text: '\u2014' });
    const date = new Date(iso);
    const text = Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
    return el('time', { datetime: iso, title: iso, text });
  }

  function cell(label, className, children) {
    return el('td', { className, dataset: { label } }, children);
  }

  function say(message) {
    $('#status').textContent = message;
  }

  /* ---------------------------------------------------------------- errors */

  class Problem extends Error {
    constructor(problem) {
      super(problem.title || 'Error');
      this.problem = problem;
    }
  }

  function clearError() {
    const box = $('#error');
    clear(box);
    box.hidden = true;
  }

  function showError(error) {
    const box = $('#error');
    clear(box);
    const p = error instanceof Problem ? error.problem : { title: 'Error', detail: String(error && error.message ? error.message : error) };
    box.append(el('strong', { className: 'error-title', text: p.title || 'Error' }));
    if (p.status) box.append(' ', el('span', { className: 'error-status', text: '(' + p.status + ')' }));
    if (p.detail) box.append(el('p', { className: 'error-detail', text: p.detail }));
    if (Array.isArray(p.errors) && p.errors.length) {
      box.append(el('ul', { className: 'error-fields' }, p.errors.map((e) =>
        el('li', null, [el('code', { text: e.field }), ': ' + e.message]))));
    } else if (p.field) {
      box.append(el('p', null, ['Field: ', el('code', { text: p.field })]));
    }
    const meta = [];
    if (p.code) meta.push(el('span', null, ['code: ', el('code', { className: 'error-code', text: p.code })]));
    if (p.requestId) meta.push(el('span', null, ['requestId: ', el('code', { className: 'error-request-id', text: p.requestId })]));
    if (meta.length) {
      const line = el('p', { className: 'error-meta' });
      meta.forEach((m, i) => { if (i) line.append(' \u00b7 '); line.append(m); });
      box.append(line);
    }
    box.hidden = false;
    markFields(p);
  }

  function markFields(p) {
    $$('[aria-invalid="true"]').forEach((n) => n.removeAttribute('aria-invalid'));
    const fields = Array.isArray(p.errors) ? p.errors.map((e) => e.field) : (p.field ? [p.field] : []);
    const inputs = $$('form [name]');
    for (const field of fields) {
      /* A part named exactly (budget.perMinute) marks its own input; otherwise the group. */
      const name = String(field).split(/[[.]/)[0];
      const exact = inputs.filter((input) => input.name === field);
      const marked = exact.length ? exact : inputs.filter((input) => input.name === name || input.name.startsWith(name + '.'));
      marked.forEach((input) => input.setAttribute('aria-invalid', 'true'));
    }
  }

  /* ---------------------------------------------------------------- API */

  async function api(method, path, options) {
    const opts = options || {};
    const headers = { Accept: 'application/json' };
    const key = opts.key || state.key;
    if (key) headers.Authorization = 'Bearer ' + key;
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
    if (opts.ifMatch !== undefined && opts.ifMatch !== null) headers['If-Match'] = '"' + opts.ifMatch + '"';
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        credentials: 'omit',
        cache: 'no-store',
        referrerPolicy: 'no-referrer',
      });
    } catch (e) {
      throw new Problem({ title: 'Network error', detail: 'The vault could not be reached: ' + e.message });
    }
    const text = await response.text();
    let data = null;
    if (text) {
      try { data = JSON.parse(text); } catch (e) { data = null; }
    }
    if (!response.ok) {
      const problem = data && typeof data === 'object' ? Object.assign({}, data) : {};
      if (!problem.title) problem.title = 'HTTP ' + response.status + (response.statusText ? ' ' + response.statusText : '');
      if (!problem.status) problem.status = response.status;
      if (!problem.detail && !data && text) problem.detail = text.slice(0, 300);
      if (!problem.requestId) problem.requestId = response.headers.get('X-Request-Id') || undefined;
      throw new Problem(problem);
    }
    return { status: response.status, data, etag: response.headers.get('ETag') };
  }

  async function listAll(path) {
    const items = [];
    let cursor = null;
    for (let page = 0; page < 100; page += 1) {
      const sep = path.includes('?') ? '&' : '?';
      const url = path + sep + 'limit=100' + (cursor ? '&cursor=' + encodeURIComponent(cursor) : '');
      const { data } = await api('GET', url);
      items.push(...(data.items || []));
      cursor = data.nextCursor;
      if (!cursor) break;
    }
    return items;
  }

  /* ---------------------------------------------------------------- dates */

  function toRfc3339(local) {
    if (!local) return null;
    const date = new Date(local);
    if (Number.isNaN(date.getTime())) throw new Problem({ title: 'Invalid date', detail: 'The expiry is not a valid date and time.', errors: [{ field: 'expiresAt', message: 'is not a valid date and time' }] });
    return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  function toLocalInput(iso) {
    if (!iso) return '';
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return '';
    const pad = (n) => String(n).padStart(2, '0');
    return date.getFullYear() + '-' + pad(date.getMonth() + 1) + '-' + pad(date.getDate()) +
      'T' + pad(date.getHours()) + ':' + pad(date.getMinutes());
  }

  function expiryBadge(credential) {
    if (!credential.expiresAt) return null;
    const at = new Date(credential.expiresAt).getTime();
    if (credential.expired || at <= Date.now()) {
      return el('span', { className: 'badge expired', text: 'expired' });
    }
    const days = Math.max(1, Math.ceil((at - Date.now()) / DAY_MS));
    return el('span', { className: 'badge expires', text: 'expires in ' + days + (days === 1 ? ' day' : ' days') });
  }

  /* ---------------------------------------------------------------- connect */

  async function connect(key, automatic) {
    clearError();
    say('Connecting\u2026');
    /* Any valid key may read the credential types, so reading them checks the key too. */
    try {
      const { data } = await api('GET', '/credential-types', { key });
      state.types = data.items || [];
    } catch (e) {
      say('');
      if (automatic) sessionStorage.removeItem(STORAGE_KEY);
      showError(e);
      $('#access-key').focus();
      return;
    }
    const filter = $('#type-filter');
    while (filter.options.length > 1) filter.remove(1);
    fillTypeOptions(filter);
    state.key = key;
    sessionStorage.setItem(STORAGE_KEY, key);
    $('#access-key').value = '';
    $('#connect-screen').hidden = true;
    $('#app').hidden = false;
    $('#disconnect').hidden = false;
    say('Connected.');
    selectTab('credentials', !automatic);
    loadCredentials();
    loadAccessKeys();
  }

  function disconnect() {
    sessionStorage.removeItem(STORAGE_KEY);
    state.key = null;
    state.credentials.clear();
    closeCredentialForm(false);
    closeAccessKeyForm(false);
    closeDetails(false);
    dismissKey(false);
    closeWebhookForm(false);
    closeDeliveries(false);
    dismissWebhookSecret(false);
    clear($('#credentials tbody'));
    clear($('#access-keys tbody'));
    clear($('#webhooks tbody'));
    state.webhooks.clear();
    clear($('#audit-events tbody'));
    clear($('#audit-chain'));
    $('#audit-chain').hidden = true;
    clearError();
    $('#app').hidden = true;
    $('#disconnect').hidden = true;
    $('#connect-screen').hidden = false;
    say('Disconnected.');
    $('#access-key').focus();
  }

  /* ---------------------------------------------------------------- tabs */

  /* The webhooks and the audit log are read each time their tab is selected. */
  function selectTab(name, focus) {
    for (const tab of TABS) {
      const button = $('#tab-' + tab);
      const selected = tab === name;
      button.setAttribute('aria-selected', selected ? 'true' : 'false');
      button.tabIndex = selected ? 0 : -1;
      $('#panel-' + tab).hidden = !selected;
    }
    if (name !== 'credentials') { closeCredentialForm(false); closeDetails(false); }
    if (name !== 'access-keys') closeAccessKeyForm(false);
    if (name !== 'webhooks') { closeWebhookForm(false); closeDeliveries(false); }
    if (name === 'webhooks') loadWebhooks();
    if (name === 'audit') loadAudit();
    if (focus) $('#tab-' + name).focus();
  }

  function onTabKey(event) {
    const at = TABS.indexOf(event.target.id.slice('tab-'.length));
    const next = {
      ArrowRight: (at + 1) % TABS.length,
      ArrowLeft: (at + TABS.length - 1) % TABS.length,
      Home: 0,
      End: TABS.length - 1,
    }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    selectTab(TABS[next], true);
  }

  /* ---------------------------------------------------------------- confirm */

  function confirmAction(message, yesLabel) {
    const dialog = $('#confirm');
    $('#confirm-message').textContent = message;
    $('#confirm-yes').textContent = yesLabel || 'Yes';
    const opener = document.activeElement;
    return new Promise((resolve) => {
      const finish = (answer) => {
        $('#confirm-yes').removeEventListener('click', yes);
        $('#confirm-no').removeEventListener('click', no);
        dialog.removeEventListener('cancel', cancel);
        if (dialog.open) dialog.close();
        if (opener && opener.isConnected && typeof opener.focus === 'function') opener.focus();
        resolve(answer);
      };
      const yes = () => finish(true);
      const no = () => finish(false);
      const cancel = (event) => { event.preventDefault(); finish(false); };
      $('#confirm-yes').addEventListener('click', yes);
      $('#confirm-no').addEventListener('click', no);
      dialog.addEventListener('cancel', cancel);
      dialog.showModal();
      $('#confirm-no').focus();
    });
  }

  /* ---------------------------------------------------------------- credentials list */

  async function loadCredentials() {
    const type = $('#type-filter').value;
    try {
      const items = await listAll('/credentials' + (type ? '?type=' + encodeURIComponent(type) : ''));
      renderCredentials(items);
    } catch (e) {
      showError(e);
    }
  }

  function renderCredentials(items) {
    const body = $('#credentials tbody');
    clear(body);
    state.credentials.clear();
    for (const c of items) {
      state.credentials.set(c.id, c);
      const expiry = el('div', { className: 'expiry' }, [
        c.expiresAt ? timeEl(c.expiresAt) : el('span', { className: 'muted', text: 'never' }),
        c.expiresAt ? ' ' : null,
        expiryBadge(c),
      ]);
      const actions = el('div', { className: 'actions' }, [
        el('button', { type: 'button', className: 'details', 'aria-label': 'Details of ' + c.name, text: 'Details' }),
        el('button', { type: 'button', className: 'edit', 'aria-label': 'Edit ' + c.name, text: 'Edit' }),
        c.connection ? el('button', { type: 'button', className: 'connect', 'aria-label': connectLabel(c) + ' ' + c.name, text: connectLabel(c) }) : null,
        el('button', { type: 'button', className: 'delete danger', 'aria-label': 'Delete ' + c.name, text: 'Delete' }),
      ]);
      const row = el('tr', { dataset: { credentialId: c.id } }, [
        cell('Name', 'name', [c.name]),
        cell('Type', 'type', [c.type, c.connection ? ' ' : null, connectionBadge(c)]),
        cell('Description', 'description', [c.description || null]),
        cell('Expiry', 'expiry', [expiry]),
        cell('Created', 'created', [timeEl(c.createdAt)]),
        cell('Updated', 'updated', [timeEl(c.updatedAt)]),
        cell('Actions', 'actions', [actions]),
      ]);
      body.append(row);
    }
    $('#credentials-empty').hidden = items.length > 0;
  }

  async function onCredentialsClick(event) {
    const button = event.target.closest('button');
    if (!button) return;
    const row = button.closest('tr[data-credential-id]');
    if (!row) return;
    const id = row.dataset.credentialId;
    clearError();
    if (button.classList.contains('details')) await openDetails(id);
    else if (button.classList.contains('edit')) await openEdit(id);
    else if (button.classList.contains('connect')) await startConnect(id);
    else if (button.classList.contains('delete')) await deleteCredential(id);
  }

  async function deleteCredential(id) {
    const c = state.credentials.get(id);
    const name = c ? c.name : id;
    if (!await confirmAction('Delete the credential \u201c' + name + '\u201d? This cannot be undone.', 'Delete')) return;
    try {
      await api('DELETE', '/credentials/' + encodeURIComponent(id), { ifMatch: c ? c.revision : undefined });
      if (state.detailsId === id) closeDetails(false);
      if (state.editing && state.editing.id === id) closeCredentialForm(false);
      say('Deleted \u201c' + name + '\u201d.');
      await loadCredentials();
      $('#add-credential').focus();
    } catch (e) {
      showError(e);
    }
  }

  /* ---------------------------------------------------------------- credential form */

  /*
   * The type-specific part of the form, the details and the type filter are built from
   * GET /credential-types: each type lists its fields with a shape (how a value is
   * written), when each is required and which are secret. A new type needs no change here.
   */
  function typeSpec(type) {
    return state.types.find((t) => t.type === type) || { type, title: type, description: '', fields: [], derived: [] };
  }

  function isSecret(field) {
    return SECRET_KINDS.includes(field.shape.kind);
  }

  /* Descriptions mark code with backticks; the page shows them as plain text. */
  function plain(text) {
    return String(text || '').replace(/`/g, '');
  }

  function fillTypeOptions(select) {
    for (const t of state.types) select.append(el('option', { value: t.type, text: t.type }));
  }

  function credentialForm() {
    return $('#credential-form');
  }

  function openCreate() {
    clearError();
    closeDetails(false);
    if (!state.types.length) {
      showError(new Problem({ title: 'No credential types', detail: 'The vault described no credential type: reconnect and try again.' }));
      return;
    }
    const form = mountCredentialForm(null);
    setType(form, state.types[0].type);
    $('select[name=type]', form).focus();
  }

  async function openEdit(id) {
    let credential;
    try {
      const { data } = await api('GET', '/credentials/' + encodeURIComponent(id));
      credential = data;
    } catch (e) {
      showError(e);
      return;
    }
    closeDetails(false);
    const form = mountCredentialForm(credential);
    $('#credential-form-heading', form).textContent = 'Edit \u201c' + credential.name + '\u201d';
    const type = $('select[name=type]', form);
    if (!state.types.some((t) => t.type === credential.type)) type.append(el('option', { value: credential.type, text: credential.type }));
    type.value = credential.type;
    type.disabled = true;
    setType(form, credential.type);
    fillCredential(form, credential);
    $('input[name=name]', form).focus();
  }

  function mountCredentialForm(credential) {
    closeCredentialForm(false);
    state.lastFocus = document.activeElement;
    state.editing = credential;
    const slot = $('#credential-form-slot');
    slot.append(cloneTemplate('tpl-credential-form'));
    const form = credentialForm();
    fillTypeOptions($('select[name=type]', form));
    form.addEventListener('submit', onSaveCredential);
    form.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') { event.preventDefault(); closeCredentialForm(true); }
    });
    $('select[name=type]', form).addEventListener('change', (event) => setType(form, event.target.value));
    $('#cancel-credential', form).addEventListener('click', () => closeCredentialForm(true));
    return form;
  }

  function closeCredentialForm(restoreFocus) {
    const form = credentialForm();
    if (!form) return;
    form.remove();
    state.editing = null;
    if (restoreFocus) {
      const back = state.lastFocus && state.lastFocus.isConnected ? state.lastFocus : $('#add-credential');
      back.focus();
    }
  }

  /* Renders the fields of a type, each from its shape. */
  function setType(form, type) {
    const spec = typeSpec(type);
    const holder = $('#type-fields', form);
    clear(holder);
    $('#f-type-hint', form).textContent = plain(spec.description);
    $('#type-fields-legend', form).textContent = spec.title;
    for (const field of spec.fields) holder.append(renderField(field));
    holder.onchange = () => syncConditions(holder, spec);
    syncConditions(holder, spec);
    if (state.editing) {
      $$('[data-secret]', holder).forEach((input) => {
        input.required = false;
        input.placeholder = UNCHANGED;
      });
    }
  }

  function renderField(field) {
    const id = 'f-' + field.name;
    const kind = field.shape.kind;
    let node;
    if (kind === 'placement') node = placementGroup(field, id);
    else if (kind === 'secretMap') node = mapGroup(field, id);
    else {
      node = el('div', { className: 'field' }, [
        el('label', { for: id, text: field.label + (kind === 'textList' ? ' (space-separated)' : '') }),
        inputFor(field, id),
        fieldHint(field, id),
      ]);
    }
    node.dataset.field = field.name;
    return node;
  }

  function fieldHint(field, id) {
    return el('p', { id: id + '-hint', className: 'hint', text: plain(field.description) });
  }

  function inputFor(field, id) {
    const shape = field.shape;
    const base = {
      id,
      name: field.name,
      autocomplete: 'off',
      spellcheck: 'false',
      'aria-describedby': id + '-hint',
      required: field.required.when !== 'never',
    };
    const secret = { autocomplete: 'new-password', dataset: { secret: '' } };
    switch (shape.kind) {
      case 'choice':
        return el('select', { id, name: field.name, 'aria-describedby': id + '-hint' },
          shape.options.map((option) => el('option', { value: option, text: option })));
      case 'url':
        return el('input', Object.assign(base, { type: 'url' }));
      case 'integer':
        return el('input', Object.assign(base, { type: 'number', min: shape.minimum, max: shape.maximum, inputmode: 'numeric' }));
      case 'object':
        return el('textarea', Object.assign(base, { rows: 3, placeholder: '{"name": "value"}' }));
      case 'secret':
        return el('input', Object.assign(base, secret, { type: 'password' }));
      case 'secretPem':
        return el('textarea', Object.assign(base, secret, { rows: 5, className: 'masked' }));
      default:
        return el('input', Object.assign(base, { type: 'text', maxlength: shape.maxLength }));
    }
  }

  /* Where a value goes: `in` (only where a query parameter is allowed), name and prefix;
     the defaults are placeholders, sent only when something was typed. */
  function placementGroup(field, id) {
    const shape = field.shape;
    const part = (key, label, control) => {
      control.id = id + '-' + key;
      control.name = field.name + '.' + key;
      return el('div', { className: 'field' }, [el('label', { for: control.id, text: label }), control]);
    };
    const text = (placeholder) => el('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder: placeholder || null });
    const prefix = shape.defaultPrefix ? ' (default \u201c' + shape.defaultPrefix + '\u201d)' : '';
    return el('fieldset', { className: 'group', 'aria-describedby': id + '-hint' }, [
      el('legend', { text: field.label }),
      shape.query ? part('in', 'In', el('select', null, ['header', 'query'].map((o) => el('option', { value: o, text: o })))) : null,
      part('name', (shape.query ? 'Header or parameter name' : 'Header') + ' (default ' + shape.defaultName + ')', text(shape.defaultName)),
      part('prefix', 'Prefix' + prefix, text(shape.defaultPrefix)),
      fieldHint(field, id),
    ]);
  }

  /* Names with secret values: one row per entry. */
  function mapGroup(field, id) {
    const add = el('button', { type: 'button', className: 'add-entry', text: 'Add a row' });
    const group = el('fieldset', { className: 'group', 'aria-describedby': id + '-hint' }, [
      el('legend', { text: field.label }),
      el('div', { className: 'map-rows' }),
      add,
      fieldHint(field, id),
    ]);
    add.addEventListener('click', () => addMapRow(group, field, '').focus());
    addMapRow(group, field, '');
    return group;
  }

  let rowCounter = 0;

  function addMapRow(group, field, name) {
    rowCounter += 1;
    const id = 'f-' + field.name + '-' + rowCounter;
    const key = el('input', { id: id + '-name', name: field.name + '.name', type: 'text', autocomplete: 'off', spellcheck: 'false' });
    key.value = name;
    const value = el('input', {
      id: id + '-value',
      name: field.name + '.value',
      type: 'password',
      autocomplete: 'new-password',
      placeholder: state.editing ? UNCHANGED : null,
      dataset: { secret: '' },
    });
    const remove = el('button', { type: 'button', className: 'remove-entry', text: 'Remove' });
    const row = el('div', { className: 'map-row' }, [
      el('div', { className: 'field' }, [el('label', { for: key.id, text: 'Name' }), key]),
      el('div', { className: 'field' }, [el('label', { for: value.id, text: 'Value' }), value]),
      remove,
    ]);
    remove.addEventListener('click', () => {
      row.remove();
      ($('input', group) || $('.add-entry', group)).focus();
    });
    $('.map-rows', group).append(row);
    return key;
  }

  /* A field required only when another field has one of some values is shown (and read)
     only then. */
  function syncConditions(holder, spec) {
    for (const field of spec.fields) {
      const rule = field.required;
      if (rule.when !== 'if') continue;
      const other = $('[name="' + CSS.escape(rule.field) + '"]', holder);
      const on = Boolean(other) && rule.oneOf.includes(other.value);
      const wrapper = $('[data-field="' + CSS.escape(field.name) + '"]', holder);
      wrapper.hidden = !on;
      $$('[name]', wrapper).forEach((input) => {
        input.disabled = !on;
        if (!on) input.value = '';
      });
    }
  }

  function fillCredential(form, c) {
    const set = (name, value) => {
      const input = $('[name="' + CSS.escape(name) + '"]', form);
      if (input && value !== undefined && value !== null) input.value = value;
    };
    set('name', c.name);
    set('description', c.description);
    set('expiresAt', toLocalInput(c.expiresAt));
    set('allowedHosts', (c.allowedHosts || []).join('\n'));
    set('caBundle', c.caBundle);
    const spec = typeSpec(c.type);
    const holder = $('#type-fields', form);
    for (const field of spec.fields) {
      const value = c[field.name];
      const kind = field.shape.kind;
      if (kind === 'secretMap') {
        const group = $('[data-field="' + CSS.escape(field.name) + '"]', holder);
        const names = c[field.shape.names] || [];
        clear($('.map-rows', group));
        names.forEach((n) => addMapRow(group, field, n));
        if (!names.length) addMapRow(group, field, '');
      } else if (isSecret(field) || value === undefined || value === null) {
        continue;
      } else if (kind === 'placement') {
        for (const part of ['in', 'name', 'prefix']) set(field.name + '.' + part, value[part]);
      } else if (kind === 'textList') {
        set(field.name, value.join(' '));
      } else if (kind === 'object') {
        set(field.name, JSON.stringify(value, null, 2));
      } else {
        set(field.name, value);
      }
    }
    syncConditions(holder, spec);
  }

  /* An input's value; disabled inputs and those in a hidden group are never read. */
  function inputValue(form, name, raw) {
    if (!isShown(form, name)) return '';
    const input = $('[name="' + CSS.escape(name) + '"]', form);
    return raw ? input.value : input.value.trim();
  }

  function isShown(form, name) {
    const input = $('[name="' + CSS.escape(name) + '"]', form);
    return Boolean(input) && !input.disabled && !input.closest('[hidden]');
  }

  function readCommon(form) {
    const hosts = inputValue(form, 'allowedHosts').split(/\r?\n/).map((h) => h.trim()).filter(Boolean);
    return {
      name: inputValue(form, 'name'),
      description: inputValue(form, 'description'),
      expiresAt: toRfc3339(inputValue(form, 'expiresAt')),
      allowedHosts: hosts.length ? hosts : null,
      caBundle: inputValue(form, 'caBundle') || null,
    };
  }

  /* The type's fields that were given, by name. */
  function readFields(form, spec) {
    const body = {};
    for (const field of spec.fields) {
      const value = readField(form, field);
      if (value !== undefined) body[field.name] = value;
    }
    return body;
  }

  function readField(form, field) {
    const text = inputValue(form, field.name, isSecret(field));
    switch (field.shape.kind) {
      case 'textList': {
        const items = text.split(/\s+/).filter(Boolean);
        return items.length ? items : undefined;
      }
      case 'integer':
        return text ? Number(text) : undefined;
      case 'object':
        return readObject(field, text);
      case 'placement':
        return readPlacement(form, field);
      case 'secretMap':
        return readMap(form, field);
      default:
        return text || undefined;
    }
  }

  function readObject(field, text) {
    if (!text) return undefined;
    let parsed;
    try { parsed = JSON.parse(text); } catch (e) { parsed = undefined; }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      const label = field.label.toLowerCase();
      throw new Problem({ title: 'Invalid ' + label, detail: 'The ' + label + ' must be a JSON object, like {"name": "value"}.', errors: [{ field: field.name, message: 'must be a JSON object' }] });
    }
    return parsed;
  }

  function readPlacement(form, field) {
    const where = inputValue(form, field.name + '.in') || 'header';
    const name = inputValue(form, field.name + '.name');
    const prefix = inputValue(form, field.name + '.prefix', true);
    if (!name && !prefix && where === 'header') return undefined;
    const placement = { in: where, name: name || (where === 'header' ? field.shape.defaultName : '') };
    if (prefix) placement.prefix = prefix;
    return placement;
  }

  /* On edit the rows replace all the entries: every row needs its value, or none does
     (then the entries stay as they are). */
  function readMap(form, field) {
    const group = $('[data-field="' + CSS.escape(field.name) + '"]', form);
    if (!group || group.hidden) return undefined;
    const rows = $$('.map-row', group).map((row) => ({
      name: $('[name$=".name"]', row).value.trim(),
      value: $('[name$=".value"]', row).value,
    })).filter((r) => r.name || r.value);
    if (state.editing) {
      if (!rows.some((r) => r.value)) return undefined;
      if (rows.some((r) => !r.value)) {
        const label = field.label.toLowerCase();
        throw new Problem({ title: field.label + ': every one needs its value', detail: 'Replacing ' + label + ' replaces all of them: type the value of every one, or none to keep them unchanged.', errors: [{ field: field.name, message: 'every one needs a value' }] });
      }
    }
    const map = {};
    rows.forEach((r) => { map[r.name] = r.value; });
    return map;
  }

  function buildCreate(form) {
    const type = $('select[name=type]', form).value;
    const out = { type };
    for (const [k, v] of Object.entries(readCommon(form))) if (v) out[k] = v;
    return Object.assign(out, readFields(form, typeSpec(type)));
  }

  /* Compares values as JSON, whatever the order of their keys. */
  function canonical(value) {
    if (Array.isArray(value)) return value.map(canonical);
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical(value[k])]));
    }
    return value === undefined ? null : value;
  }

  function same(a, b) {
    return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
  }

  function buildUpdate(form, original) {
    const common = readCommon(form);
    const out = {};
    if (common.name !== original.name) out.name = common.name;
    for (const k of ['description', 'expiresAt', 'allowedHosts', 'caBundle']) {
      let before = original[k];
      if (Array.isArray(before) && !before.length) before = null;
      if (k === 'expiresAt' && before) before = toRfc3339(toLocalInput(before));
      const after = common[k] || null;
      if (!same(after, before || null)) out[k] = after;
    }
    const spec = typeSpec(original.type);
    const given = readFields(form, spec);
    for (const field of spec.fields) {
      const k = field.name;
      const before = original[k];
      if (!(k in given)) {
        if (field.nullable && !isSecret(field) && before !== undefined && before !== null) out[k] = null;
        /* An object emptied on edit (not nullable) is sent empty, not left as it was. */
        else if (field.shape.kind === 'object' && before && Object.keys(before).length && isShown(form, k)) out[k] = {};
      } else if (isSecret(field) || !same(given[k], before)) {
        out[k] = given[k];
      }
    }
    return out;
  }

  async function onSaveCredential(event) {
    event.preventDefault();
    clearError();
    const form = event.currentTarget;
    const editing = state.editing;
    const save = $('#save-credential', form);
    save.disabled = true;
    try {
      if (editing) {
        const body = buildUpdate(form, editing);
        if (Object.keys(body).length) {
          await api('PATCH', '/credentials/' + encodeURIComponent(editing.id), { body, ifMatch: editing.revision });
        }
        say('Saved \u201c' + (body.name || editing.name) + '\u201d.');
      } else {
        const body = buildCreate(form);
        await api('POST', '/credentials', { body });
        say('Created \u201c' + body.name + '\u201d.');
      }
      form.reset();
      closeCredentialForm(false);
      await loadCredentials();
      $('#add-credential').focus();
    } catch (e) {
      save.disabled = false;
      showError(e);
      const invalid = $('[aria-invalid="true"]', form);
      if (invalid) invalid.focus();
    }
  }

  /* ---------------------------------------------------------------- details */

  async function openDetails(id) {
    closeCredentialForm(false);
    closeGrantForm(false);
    const section = $('#credential-details');
    state.detailsId = id;
    let credential;
    try {
      const { data } = await api('GET', '/credentials/' + encodeURIComponent(id));
      credential = data;
    } catch (e) {
      showError(e);
      return;
    }
    state.credentials.set(id, Object.assign({}, state.credentials.get(id) || {}, credential));
    $('#details-heading').textContent = credential.name;
    renderDetailFields(credential);
    renderConnection(credential);
    clear($('#versions'));
    clear($('#request-logs tbody'));
    $('#request-logs-empty').hidden = true;
    clear($('#grants tbody'));
    $('#grants-empty').hidden = true;
    $('#grants-denied').hidden = true;
    showUsage(null);
    section.hidden = false;
    $('#details-heading').focus();
    await Promise.all([loadVersions(id), loadGrants(id), loadUsage(id), loadRequestLogs(id)]);
  }

  function renderDetailFields(c) {
    const dl = $('#details-fields');
    clear(dl);
    const add = (term, value) => {
      if (value === undefined || value === null || value === '') return;
      dl.append(el('dt', { text: term }), el('dd', null, [value]));
    };
    add('Type', c.type);
    add('Description', c.description);
    add('Allowed hosts', (c.allowedHosts || []).join(', ') || 'none');
    const roots = (c.caBundle || '').split('-----BEGIN CERTIFICATE-----').length - 1;
    add('Server CA bundle', roots ? 'pinned to ' + roots + ' certificate' + (roots === 1 ? '' : 's') : null);
    const spec = typeSpec(c.type);
    for (const field of spec.fields.concat(spec.derived)) {
      if (!isSecret(field)) add(field.label, shownValue(field, c[field.name]));
    }
    const hints = Object.entries(c.secretHints || {}).map(([k, v]) => k + ': ' + v).join(', ');
    add('Secret hints', hints);
    add('Revision', String(c.revision));
  }

  function shownValue(field, value) {
    if (value === undefined || value === null) return null;
    switch (field.shape.kind) {
      case 'textList': return value.join(', ');
      case 'object': return JSON.stringify(value);
      case 'placement': return value.in + ' ' + value.name + (value.prefix ? ' (prefix \u201c' + value.prefix + '\u201d)' : '');
      default: return String(value);
    }
  }

  async function loadVersions(id) {
    const list = $('#versions');
    try {
      const { data } = await api('GET', '/credentials/' + encodeURIComponent(id) + '/versions');
      if (state.detailsId !== id) return;
      clear(list);
      for (const v of data.items || []) {
        const parts = [
          el('strong', { text: 'Version ' + v.version }),
          ' \u00b7 ',
          timeEl(v.createdAt),
        ];
        if (v.restoredFrom) parts.push(' \u00b7 restored from version ' + v.restoredFrom);
        const hints = Object.entries(v.secretHints || {}).map(([k, h]) => k + ': ' + h).join(', ');
        if (hints) parts.push(' \u00b7 ' + hints);
        if (v.current) {
          parts.push(' ', el('span', { className: 'badge current', text: 'current' }));
        } else {
          parts.push(' ', el('button', { type: 'button', className: 'restore', 'aria-label': 'Restore version ' + v.version, text: 'Restore' }));
        }
        const item = el('li', { className: v.current ? 'current' : null, dataset: { version: String(v.version) }, 'aria-current': v.current ? 'true' : null }, parts);
        list.append(item);
      }
    } catch (e) {
      showError(e);
    }
  }

  async function loadRequestLogs(id) {
    const body = $('#request-logs tbody');
    try {
      const { data } = await api('GET', '/request-logs?credentialId=' + encodeURIComponent(id) + '&limit=20');
      if (state.detailsId !== id) return;
      clear(body);
      const items = data.items || [];
      for (const entry of items) {
        const status = entry.status !== null && entry.status !== undefined ? String(entry.status) : (entry.error || 'no response');
        body.append(el('tr', { className: 'request-log' }, [
          cell('Time', 'at', [timeEl(entry.at)]),
          cell('Method', 'method', [entry.method]),
          cell('Host', 'host', [entry.host]),
          cell('Path', 'path', [entry.path]),
          cell('Status', 'status', [status]),
          cell('Latency', 'latency', [Math.round(entry.latencyMs) + ' ms']),
        ]));
      }
      $('#request-logs-empty').hidden = items.length > 0;
    } catch (e) {
      showError(e);
    }
  }

  async function onVersionsClick(event) {
    const button = event.target.closest('button.restore');
    if (!button) return;
    const item = button.closest('li[data-version]');
    const number = item.dataset.version;
    const id = state.detailsId;
    clearError();
    if (!await confirmAction('Restore version ' + number + '? Its secret values become current again, as a new version.', 'Restore')) return;
    const c = state.credentials.get(id);
    try {
      await api('POST', '/credentials/' + encodeURIComponent(id) + '/versions/' + encodeURIComponent(number) + '/restore', { ifMatch: c ? c.revision : undefined });
      say('Restored version ' + number + '.');
      await openDetails(id);
      loadCredentials();
    } catch (e) {
      showError(e);
    }
  }

  function closeDetails(restoreFocus) {
    const section = $('#credential-details');
    const id = state.detailsId;
    state.detailsId = null;
    state.connecting = null;
    section.hidden = true;
    $('#connection').hidden = true;
    closeGrantForm(false);
    clear($('#versions'));
    clear($('#grants tbody'));
    clear($('#request-logs tbody'));
    showUsage(null);
    if (restoreFocus) {
      const row = id && $('tr[data-credential-id="' + CSS.escape(id) + '"] button.details');
      (row || $('#add-credential')).focus();
    }
  }

  /* ---------------------------------------------------------------- usage chart */

  /*
   * A credential's uses per hour over the last days, stacked by the class of the
   * upstream's answer, as hand-drawn SVG. The API lists only the hours with uses (from
   * the start of the hour `since`, to now): the others are zero. The chart is drawn to
   * the width it has, so its text stays legible from a phone to a desktop.
   */
  const USAGE_DAYS = 7;
  /* Bottom to top; 1xx (hardly ever a final answer) only when there is one. */
  const STATUS_CLASSES = [
    ['2xx', '2xx success'],
    ['1xx', '1xx informational'],
    ['3xx', '3xx redirect'],
    ['4xx', '4xx client error'],
    ['5xx', '5xx server error'],
    ['none', 'no answer'],
  ];
  /* The height is app.css's too. */
  const CHART = { height: 170, left: 34, right: 8, top: 10, bottom: 24 };

  /* SVG nodes need the SVG namespace: the one the HTML parser gave the page's own
     <svg>, so that no namespace URL is written in this file. */
  function svgEl(tag, attrs, children) {
    const node = document.createElementNS($('#usage-svg').namespaceURI, tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value !== undefined && value !== null) node.setAttribute(name, String(value));
    }
    for (const child of children || []) {
      if (child !== null && child !== undefined) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  async function loadUsage(id) {
    try {
      const { data } = await api('GET', '/credentials/' + encodeURIComponent(id) + '/usage?days=' + USAGE_DAYS);
      if (state.detailsId === id) showUsage(usageSeries(data));
    } catch (e) {
      if (state.detailsId === id) showError(e);
    }
  }

  /* One entry per hour from `since` to the current hour, with its counts by class. */
  function usageSeries(data) {
    const since = new Date(data.since).getTime();
    const hours = Math.max(1, Math.floor((new Date(data.until).getTime() - since) / HOUR_MS) + 1);
    const series = Array.from({ length: hours }, (_, i) => ({ at: since + i * HOUR_MS, total: 0, counts: {} }));
    const totals = {};
    let total = 0;
    for (const b of data.buckets || []) {
      const i = Math.min(hours - 1, Math.max(0, Math.round((new Date(b.hour).getTime() - since) / HOUR_MS)));
      series[i].counts[b.statusClass] = (series[i].counts[b.statusClass] || 0) + b.count;
      series[i].total += b.count;
      totals[b.statusClass] = (totals[b.statusClass] || 0) + b.count;
      total += b.count;
    }
    return { since, hours: series, totals, total, lastUse: data.lastUse || null };
  }

  function usageClasses(usage) {
    return STATUS_CLASSES.filter(([k]) => k !== '1xx' || usage.totals[k]);
  }

  function hourLabel(at) {
    return new Date(at).toLocaleString(undefined, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
  }

  /* `usage` null: nothing shown (the details are loading or closed). */
  function showUsage(usage) {
    state.usage = usage;
    const svg = $('#usage-svg');
    clear(svg);
    delete svg.dataset.width;
    clear($('#usage-legend'));
    $('#usage-summary').textContent = '';
    clear($('#usage-last'));
    const any = Boolean(usage && usage.total);
    $('#usage-chart').hidden = !any;
    $('#usage-empty').hidden = !usage || any;
    if (!usage) return;
    showLastUse(usage.lastUse);
    if (!any) return;
    const classes = usageClasses(usage);
    for (const [k, label] of classes) {
      $('#usage-legend').append(el('li', null, [el('span', { className: 'swatch c-' + k }), label + ' ', el('strong', { text: String(usage.totals[k] || 0) })]));
    }
    const busiest = usage.hours.reduce((a, b) => (b.total > a.total ? b : a));
    $('#usage-summary').textContent = usage.total + (usage.total === 1 ? ' use' : ' uses') + ' in the last ' + USAGE_DAYS + ' days: ' +
      classes.map(([k, label]) => label + ' ' + (usage.totals[k] || 0)).join(', ') +
      '. Busiest hour: ' + hourLabel(busiest.at) + ' (' + busiest.total + ').';
    drawUsage();
  }

  /* A round top for the scale: 1, 2 or 5 times a power of ten. */
  function niceCeiling(value) {
    const power = Math.pow(10, Math.floor(Math.log10(Math.max(1, value))));
    return [1, 2, 5, 10].map((m) => m * power).find((v) => v >= value);
  }

  function drawUsage() {
    const usage = state.usage;
    const svg = $('#usage-svg');
    const width = Math.floor($('#usage-plot').clientWidth);
    if (!usage || !usage.total || width <= 0 || svg.dataset.width === String(width)) return;
    clear(svg);
    svg.dataset.width = String(width);
    const { height, left, right, top, bottom } = CHART;
    const plotWidth = width - left - right;
    const plotHeight = height - top - bottom;
    const count = usage.hours.length;
    const step = plotWidth / count;
    const end = usage.since + count * HOUR_MS;
    const xAt = (ms) => left + ((ms - usage.since) / HOUR_MS) * step;
    const max = niceCeiling(Math.max(...usage.hours.map((h) => h.total)));
    const yOf = (v) => top + plotHeight - (v / max) * plotHeight;
    svg.setAttribute('viewBox', '0 0 ' + width + ' ' + height);
    svg.setAttribute('width', width);
    svg.setAttribute('height', height);

    for (const v of (max % 2 ? [0, max] : [0, max / 2, max])) {
      svg.append(
        svgEl('line', { class: v ? 'grid' : 'axis', x1: left, x2: width - right, y1: yOf(v), y2: yOf(v) }),
        svgEl('text', { class: 'tick', x: left - 5, y: yOf(v), 'text-anchor': 'end', 'dominant-baseline': 'middle' }, [String(v)]),
      );
    }

    /* A tick at each local midnight, the day's name under the middle of its part. */
    const day = new Date(usage.since);
    day.setHours(0, 0, 0, 0);
    const wide = (DAY_MS / HOUR_MS) * step >= 64;
    while (day.getTime() < end) {
      const start = day.getTime();
      day.setDate(day.getDate() + 1);
      const from = xAt(Math.max(start, usage.since));
      const to = xAt(Math.min(day.getTime(), end));
      if (start >= usage.since) {
        svg.append(svgEl('line', { class: 'day', x1: from, x2: from, y1: top, y2: top + plotHeight + 4 }));
      }
      if (to - from >= 30) {
        const weekday = new Date(start).toLocaleDateString(undefined, { weekday: 'short' });
        const label = wide ? weekday + ' ' + new Date(start).getDate() : weekday;
        svg.append(svgEl('text', { class: 'tick day-label', x: (from + to) / 2, y: height - 6, 'text-anchor': 'middle' }, [label]));
      }
    }

    /* A bar per hour with uses; a class of one use is at least a pixel high. */
    const gap = step >= 4 ? 1 : 0;
    usage.hours.forEach((hour, i) => {
      let y = top + plotHeight;
      for (const [k, label] of STATUS_CLASSES) {
        const n = hour.counts[k];
        if (!n) continue;
        const h = Math.max(1, (n / max) * plotHeight);
        y -= h;
        svg.append(svgEl('rect', {
          class: 'bar c-' + k, x: left + i * step, y, width: Math.max(1, step - gap), height: h,
          'data-class': k, 'data-count': n, 'data-hour': new Date(hour.at).toISOString(),
        }, [svgEl('title', null, [hourLabel(hour.at) + ': ' + n + ' \u00d7 ' + label])]));
      }
    });
  }

  /* "3 min ago", with the moment itself in the title. */
  function agoEl(iso) {
    const seconds = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
    let text;
    if (seconds < 45) text = 'just now';
    else if (seconds < 90 * 60) text = Math.max(1, Math.round(seconds / 60)) + ' min ago';
    else if (seconds < 36 * 3600) text = Math.round(seconds / 3600) + ' h ago';
    else text = Math.round(seconds / 86400) + ' days ago';
    return el('time', { datetime: iso, title: new Date(iso).toLocaleString(), text });
  }

  function showLastUse(last) {
    const line = $('#usage-last');
    if (!last) {
      line.append(el('span', { className: 'muted', text: 'No use on record.' }));
      return;
    }
    const answered = last.status !== null && last.status !== undefined;
    line.append(
      'Last used ', agoEl(last.at), ': ',
      el('code', { text: last.method + ' ' + last.host + last.path }),
      ' \u2192 ',
      el('strong', { className: 'answer', text: answered ? String(last.status) : (last.error || 'no answer') }),
    );
  }

  /* ---------------------------------------------------------------- connections (authorization code) */

  /*
   * An authorization-code credential carries its connection. Connect asks the vault for
   * the provider's authorization page and opens it in a new tab; the provider sends the
   * user back to the vault's callback page. The link stays in state.connecting only.
   */
  const CONNECTION_TEXT = { pending: 'pending', connected: 'connected', 'needs-reconnect': 'needs reconnect' };

  function connectionBadge(c) {
    const conn = c.connection;
    if (!conn) return null;
    const text = (CONNECTION_TEXT[conn.status] || conn.status) + (conn.reason ? ' (' + conn.reason + ')' : '');
    return el('span', { className: 'badge connection ' + conn.status, title: 'Connection: ' + text, text });
  }

  function connectLabel(c) {
    return c.connection && c.connection.status !== 'pending' ? 'Reconnect' : 'Connect';
  }

  function renderConnection(c) {
    const conn = c.connection;
    $('#connection').hidden = !conn;
    if (!conn) return;
    const line = $('#connection-state');
    clear(line);
    line.append(connectionBadge(c));
    if (conn.connectedAt) line.append(' \u00b7 connected ', timeEl(conn.connectedAt));
    $('#connect-credential').textContent = connectLabel(c);
    const link = state.connecting && state.connecting.id === c.id ? state.connecting : null;
    $('#connect-started').hidden = !link;
    $('#connect-redirect-uri').textContent = link ? link.redirectUri : '';
    clear($('#connect-expires'));
    if (link) $('#connect-expires').append(timeEl(link.expiresAt));
  }

  async function startConnect(id) {
    clearError();
    const before = (state.credentials.get(id) || {}).connection;
    let data;
    try {
      ({ data } = await api('POST', '/credentials/' + encodeURIComponent(id) + '/connect'));
    } catch (e) {
      showError(e);
      return;
    }
    state.connecting = {
      id,
      url: data.authorizationUrl,
      redirectUri: data.redirectUri,
      expiresAt: data.expiresAt,
      since: before && before.connectedAt,
    };
    openAuthorization();
    if (state.detailsId === id) renderConnection(state.credentials.get(id));
    else await openDetails(id);
    say('The provider\u2019s authorization page opened in a new tab: allow access there, then refresh the status.');
    $('#connect-started').focus();
  }

  function openAuthorization() {
    const link = state.connecting;
    if (!link) return;
    if (new Date(link.expiresAt).getTime() <= Date.now()) {
      state.connecting = null;
      renderConnection(state.credentials.get(link.id) || {});
      showError(new Problem({ title: 'Link expired', detail: 'The authorization link expired: connect again.' }));
      return;
    }
    window.open(link.url, '_blank', 'noopener');
  }

  /* Re-reads the credential of the details; `auto` (back on this tab) shows no status. */
  async function refreshConnection(auto) {
    const id = state.detailsId;
    if (!id) return;
    if (!auto) clearError();
    try {
      const { data } = await api('GET', '/credentials/' + encodeURIComponent(id));
      if (state.detailsId !== id) return;
      state.credentials.set(id, Object.assign({}, state.credentials.get(id) || {}, data));
      const conn = data.connection;
      const link = state.connecting;
      if (link && link.id === id && conn && conn.status === 'connected' && conn.connectedAt !== link.since) state.connecting = null;
      renderDetailFields(data);
      renderConnection(data);
      if (!auto) say('Connection: ' + (conn ? $('#connection-state .badge').textContent : 'none') + '.');
      await loadCredentials();
    } catch (e) {
      if (!auto) showError(e);
    }
  }

  /* ---------------------------------------------------------------- grants */

  /*
   * Who may use the credential of the details, for which requests and how much. A key
   * that may not list them (403) gets a note, not an error: the rest of the details stand.
   */
  const BUDGET_WINDOWS = [['perMinute', '/min'], ['perHour', '/h'], ['perDay', '/day'], ['total', ' total']];

  function grantsPath(id, grantId) {
    return '/credentials/' + encodeURIComponent(id) + '/grants' + (grantId ? '/' + encodeURIComponent(grantId) : '');
  }

  /* The console knows the access keys' names only when its key may list them. */
  function keyName(id) {
    const key = state.accessKeys.find((k) => k.id === id);
    return key ? key.name : null;
  }

  function principalLabel(principal) {
    const name = principal.startsWith('key:') ? keyName(principal.slice(4)) : null;
    return name ? principal + ' (' + name + ')' : principal;
  }

  function budgetText(budget) {
    const caps = BUDGET_WINDOWS.filter(([k]) => budget && budget[k]).map(([k, unit]) => budget[k] + unit);
    return caps.length ? caps.join(', ') : 'none';
  }

  async function loadGrants(id) {
    try {
      const { data } = await api('GET', grantsPath(id));
      if (state.detailsId === id) renderGrants(data.items || [], false);
    } catch (e) {
      if (state.detailsId !== id) return;
      if (e instanceof Problem && e.problem.status === 403) renderGrants([], true);
      else showError(e);
    }
  }

  function renderGrants(items, denied) {
    const body = $('#grants tbody');
    clear(body);
    const any = () => el('span', { className: 'muted', text: 'any' });
    for (const g of items) {
      const expiry = el('div', { className: 'expiry' }, [
        g.expiresAt ? timeEl(g.expiresAt) : el('span', { className: 'muted', text: 'never' }),
        g.expiresAt ? ' ' : null,
        expiryBadge(g),
      ]);
      const by = g.grantedBy ? keyName(g.grantedBy) || el('code', { text: g.grantedBy }) : el('span', { className: 'muted', text: '\u2014' });
      const revoke = el('button', { type: 'button', className: 'revoke danger', 'aria-label': 'Revoke the grant to ' + g.principal, text: 'Revoke' });
      body.append(el('tr', { className: g.expired ? 'expired' : null, dataset: { grantId: g.id, principal: g.principal } }, [
        cell('Principal', 'principal', [principalLabel(g.principal)]),
        cell('Permission', 'permission', [g.permission]),
        cell('Methods', 'methods', [g.methods.length ? g.methods.join(', ') : any()]),
        cell('Paths', 'paths', [g.paths.length ? el('ul', { className: 'plain' }, g.paths.map((p) => el('li', null, [el('code', { text: p })]))) : any()]),
        cell('Budget', 'budget', [budgetText(g.budget)]),
        cell('Expires', 'expiry', [expiry]),
        cell('Granted by', 'granted-by', [by]),
        cell('Actions', 'actions', [el('div', { className: 'actions' }, [revoke])]),
      ]));
    }
    $('#grants').closest('.table-wrap').hidden = denied;
    $('#grants-empty').hidden = denied || items.length > 0;
    $('#grants-denied').hidden = !denied;
  }

  async function onGrantsClick(event) {
    const button = event.target.closest('button.revoke');
    if (!button) return;
    const row = button.closest('tr[data-grant-id]');
    const id = state.detailsId;
    const principal = row.dataset.principal;
    clearError();
    if (!await confirmAction('Revoke the grant to \u201c' + principalLabel(principal) + '\u201d? Its uses of this credential stop at once.', 'Revoke')) return;
    try {
      await api('DELETE', grantsPath(id, row.dataset.grantId));
      say('Revoked the grant to \u201c' + principal + '\u201d.');
      await loadGrants(id);
      $('#add-grant').focus();
    } catch (e) {
      showError(e);
    }
  }

  function openGrantForm() {
    clearError();
    closeGrantForm(false);
    $('#grant-form-slot').append(cloneTemplate('tpl-grant-form'));
    const form = $('#grant-form');
    /* Suggests the live keys by id, which the access keys' table does not show. */
    for (const k of state.accessKeys.filter((key) => keyStatus(key) === 'active')) {
      $('#g-principals', form).append(el('option', { value: 'key:' + k.id, label: k.name }));
    }
    form.addEventListener('submit', onSaveGrant);
    form.addEventListener('keydown', (event) => {
      /* Escape closes the form, not the details around it. */
      if (event.key === 'Escape') { event.preventDefault(); event.stopPropagation(); closeGrantForm(true); }
    });
    $('#cancel-grant', form).addEventListener('click', () => closeGrantForm(true));
    $('input[name=principal]', form).focus();
  }

  function closeGrantForm(restoreFocus) {
    const form = $('#grant-form');
    if (!form) return;
    form.remove();
    if (restoreFocus) $('#add-grant').focus();
  }

  /* The body of POST /credentials/{id}/grants, without the fields left empty. */
  function readGrant(form) {
    const body = { permission: inputValue(form, 'permission') };
    const principal = inputValue(form, 'principal');
    if (principal) body.principal = principal;
    const methods = inputValue(form, 'methods').split(/[\s,]+/).filter(Boolean);
    if (methods.length) body.methods = methods;
    const paths = inputValue(form, 'paths').split(/\r?\n/).map((p) => p.trim()).filter(Boolean);
    if (paths.length) body.paths = paths;
    const budget = {};
    for (const [k] of BUDGET_WINDOWS) {
      const field = 'budget.' + k;
      /* A number input reads as empty when what was typed is no number: say so. */
      if ($('[name="' + field + '"]', form).validity.badInput) {
        throw new Problem({ title: 'Invalid budget', detail: 'A budget is a whole number of uses.', errors: [{ field, message: 'is not a number' }] });
      }
      if (inputValue(form, field)) budget[k] = Number(inputValue(form, field));
    }
    if (Object.keys(budget).length) body.budget = budget;
    const expires = toRfc3339(inputValue(form, 'expiresAt'));
    if (expires) body.expiresAt = expires;
    return body;
  }

  async function onSaveGrant(event) {
    event.preventDefault();
    clearError();
    const form = event.currentTarget;
    const id = state.detailsId;
    const save = $('#save-grant', form);
    save.disabled = true;
    try {
      const body = readGrant(form);
      await api('POST', grantsPath(id), { body });
      closeGrantForm(false);
      say('Granted ' + body.permission + ' of this credential to \u201c' + principalLabel(body.principal) + '\u201d.');
      await loadGrants(id);
      $('#add-grant').focus();
    } catch (e) {
      save.disabled = false;
      showError(e);
      const invalid = $('[aria-invalid="true"]', form);
      if (invalid) invalid.focus();
    }
  }

  /* ---------------------------------------------------------------- access keys */

  async function loadAccessKeys() {
    try {
      renderAccessKeys(await listAll('/access-keys'));
    } catch (e) {
      const status = e instanceof Problem ? e.problem.status : 0;
      if (status === 403 && !$('#panel-access-keys').hidden) showError(e);
      else if (status !== 403) showError(e);
      renderAccessKeys([]);
    }
  }

  function keyStatus(k) {
    if (k.revokedAt) return 'revoked';
    if (k.expiresAt && new Date(k.expiresAt).getTime() <= Date.now()) return 'expired';
    return k.active === false ? 'inactive' : 'active';
  }

  function renderAccessKeys(items) {
    const body = $('#access-keys tbody');
    clear(body);
    state.accessKeys = items;
    for (const k of items) {
      const status = keyStatus(k);
      const actions = el('div', { className: 'actions' }, [
        status === 'revoked' ? null : el('button', { type: 'button', className: 'revoke danger', 'aria-label': 'Revoke ' + k.name, text: 'Revoke' }),
      ]);
      body.append(el('tr', { dataset: { accessKey: k.id, name: k.name } }, [
        cell('Name', 'name', [k.name]),
        cell('Scopes', 'scopes', [el('ul', { className: 'scopes' }, (k.scopes || []).map((s) => el('li', null, [el('code', { text: s })])))]),
        cell('Created', 'created', [timeEl(k.createdAt)]),
        cell('Last used', 'last-used', [k.lastUsedAt ? timeEl(k.lastUsedAt) : el('span', { className: 'muted', text: 'never' })]),
        cell('Expiry', 'expiry', [k.expiresAt ? timeEl(k.expiresAt) : el('span', { className: 'muted', text: 'never' })]),
        cell('Status', 'status', [el('span', { className: 'badge ' + status, text: status })]),
        cell('Actions', 'actions', [actions]),
      ]));
    }
    $('#access-keys-empty').hidden = items.length > 0;
  }

  async function onAccessKeysClick(event) {
    const button = event.target.closest('button.revoke');
    if (!button) return;
    const row = button.closest('tr[data-access-key]');
    const id = row.dataset.accessKey;
    const name = row.dataset.name;
    clearError();
    if (!await confirmAction('Revoke the access key \u201c' + name + '\u201d? Anything using it stops working at once.', 'Revoke')) return;
    try {
      await api('DELETE', '/access-keys/' + encodeURIComponent(id));
      say('Revoked \u201c' + name + '\u201d.');
      await loadAccessKeys();
      $('#create-access-key').focus();
    } catch (e) {
      showError(e);
    }
  }

  function openAccessKeyForm() {
    clearError();
    closeAccessKeyForm(false);
    $('#access-key-form-slot').append(cloneTemplate('tpl-access-key-form'));
    const form = $('#access-key-form');
    form.addEventListener('submit', onSaveAccessKey);
    form.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') { event.preventDefault(); closeAccessKeyForm(true); }
    });
    $('#cancel-access-key', form).addEventListener('click', () => closeAccessKeyForm(true));
    $('input[name=name]', form).focus();
  }

  function closeAccessKeyForm(restoreFocus) {
    const form = $('#access-key-form');
    if (!form) return;
    form.remove();
    if (restoreFocus) $('#create-access-key').focus();
  }

  async function onSaveAccessKey(event) {
    event.preventDefault();
    clearError();
    const form = event.currentTarget;
    const save = $('#save-access-key', form);
    save.disabled = true;
    try {
      const body = {
        name: $('input[name=name]', form).value.trim(),
        scopes: $$('input[name=scopes]:checked', form).map((c) => c.value),
      };
      const expires = toRfc3339($('input[name=expiresAt]', form).value);
      if (expires) body.expiresAt = expires;
      const { data } = await api('POST', '/access-keys', { body });
      form.reset();
      closeAccessKeyForm(false);
      showKey(data.keySecret);
      say('Created the access key \u201c' + body.name + '\u201d.');
      loadAccessKeys();
    } catch (e) {
      save.disabled = false;
      showError(e);
      const invalid = $('[aria-invalid="true"]', form);
      if (invalid) invalid.focus();
    }
  }

  function showKey(secret) {
    const box = $('#new-key');
    $('#new-key-value').textContent = secret;
    $('#copy-key').textContent = 'Copy';
    box.hidden = false;
    $('#copy-key').focus();
  }

  function dismissKey(restoreFocus) {
    $('#new-key-value').textContent = '';
    $('#new-key').hidden = true;
    if (restoreFocus) $('#create-access-key').focus();
  }

  function copyKey() {
    return copySecret($('#new-key-value'), $('#copy-key'), 'key');
  }

  /* Copies a secret shown once; where the clipboard is refused, selects it instead. */
  async function copySecret(code, button, noun) {
    try {
      await navigator.clipboard.writeText(code.textContent);
      button.textContent = 'Copied';
      say('The ' + noun + ' was copied to the clipboard.');
    } catch (e) {
      const range = document.createRange();
      range.selectNodeContents(code);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      say('Copying failed: the ' + noun + ' is selected, copy it with the keyboard.');
    }
  }

  /* ---------------------------------------------------------------- webhooks */

  /*
   * Subscriptions to the vault's events (webhooks:manage). A subscription's signing secret
   * is in two responses only, the create and the rotate-secret: it is shown once in
   * #new-webhook-secret, like a new access key, and leaves the page when dismissed.
   */
  function webhookPath(id, rest) {
    return '/webhooks' + (id ? '/' + encodeURIComponent(id) : '') + (rest || '');
  }

  function isForbidden(e) {
    return e instanceof Problem && e.problem.status === 403;
  }

  async function loadWebhooks() {
    try {
      const { data } = await api('GET', '/webhooks');
      renderWebhooks(data.items || [], false);
    } catch (e) {
      if (isForbidden(e)) renderWebhooks([], true);
      else showError(e);
    }
  }

  function renderWebhooks(items, denied) {
    const body = $('#webhooks tbody');
    clear(body);
    state.webhooks = new Map(items.map((w) => [w.id, w]));
    for (const w of items) {
      const status = w.enabled ? 'enabled' : 'disabled';
      const to = ' the webhook to ' + w.url;
      const actions = el('div', { className: 'actions' }, [
        el('button', { type: 'button', className: 'edit', 'aria-label': 'Edit' + to, text: 'Edit' }),
        el('button', { type: 'button', className: 'deliveries secondary', 'aria-label': 'Deliveries of' + to, text: 'Deliveries' }),
        el('button', { type: 'button', className: 'rotate secondary', 'aria-label': 'Rotate the secret of' + to, text: 'Rotate secret' }),
        el('button', { type: 'button', className: 'delete danger', 'aria-label': 'Delete' + to, text: 'Delete' }),
      ]);
      body.append(el('tr', { dataset: { webhookId: w.id } }, [
        cell('URL', 'url', [el('code', { text: w.url }), w.description ? el('span', { className: 'note muted', text: w.description }) : null]),
        cell('Events', 'events', [el('ul', { className: 'scopes' }, w.events.map((e) => el('li', null, [el('code', { text: e })])))]),
        cell('Days ahead', 'days', [w.daysAhead.join(', ')]),
        cell('Status', 'status', [el('span', { className: 'badge ' + status, text: status })]),
        cell('Actions', 'actions', [actions]),
      ]));
    }
    $('#webhooks').closest('.table-wrap').hidden = denied;
    $('#webhooks-empty').hidden = denied || items.length > 0;
    $('#webhooks-denied').hidden = !denied;
    $('#create-webhook').disabled = denied;
  }

  async function onWebhooksClick(event) {
    const button = event.target.closest('button');
    if (!button) return;
    const row = button.closest('tr[data-webhook-id]');
    if (!row) return;
    const id = row.dataset.webhookId;
    clearError();
    if (button.classList.contains('edit')) openWebhookForm(state.webhooks.get(id));
    else if (button.classList.contains('deliveries')) await openDeliveries(id);
    else if (button.classList.contains('rotate')) await rotateWebhookSecret(id);
    else if (button.classList.contains('delete')) await deleteWebhook(id);
  }

  function openWebhookForm(webhook) {
    clearError();
    closeWebhookForm(false);
    state.lastFocus = document.activeElement;
    state.webhookEditing = webhook || null;
    $('#webhook-form-slot').append(cloneTemplate('tpl-webhook-form'));
    const form = $('#webhook-form');
    if (webhook) {
      $('#webhook-form-heading', form).textContent = 'Edit the webhook to \u201c' + webhook.url + '\u201d';
      $('#save-webhook', form).textContent = 'Save';
      $('[name=url]', form).value = webhook.url;
      $$('[name=events]', form).forEach((box) => { box.checked = webhook.events.includes(box.value); });
      $('[name=daysAhead]', form).value = webhook.daysAhead.join(' ');
      $('[name=description]', form).value = webhook.description || '';
      $('[name=enabled]', form).checked = webhook.enabled;
    }
    form.addEventListener('submit', onSaveWebhook);
    form.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') { event.preventDefault(); closeWebhookForm(true); }
    });
    $('#cancel-webhook', form).addEventListener('click', () => closeWebhookForm(true));
    $('[name=url]', form).focus();
  }

  function closeWebhookForm(restoreFocus) {
    const form = $('#webhook-form');
    state.webhookEditing = null;
    if (!form) return;
    form.remove();
    if (restoreFocus) {
      const back = state.lastFocus && state.lastFocus.isConnected ? state.lastFocus : $('#create-webhook');
      back.focus();
    }
  }

  /* What the form says, with the days ahead as numbers (null: none typed). */
  function readWebhook(form) {
    const days = $('[name=daysAhead]', form).value.split(/[\s,]+/).filter(Boolean);
    if (days.some((d) => !/^\d+$/.test(d))) {
      throw new Problem({ title: 'Invalid days ahead', detail: 'Days ahead are whole numbers of days, like 30 7 1.', errors: [{ field: 'daysAhead', message: 'is not a list of whole numbers' }] });
    }
    return {
      url: $('[name=url]', form).value.trim(),
      events: $$('[name=events]:checked', form).map((box) => box.value),
      daysAhead: days.length ? days.map(Number) : null,
      description: $('[name=description]', form).value.trim(),
      enabled: $('[name=enabled]', form).checked,
    };
  }

  /* The PATCH body: the fields changed, compared as the vault keeps them (sorted). */
  function webhookChanges(input, original) {
    const sorted = (list) => list.slice().sort();
    const descending = (list) => list.slice().sort((a, b) => b - a);
    const out = {};
    if (input.url !== original.url) out.url = input.url;
    if (!same(sorted(input.events), sorted(original.events))) out.events = input.events;
    if (input.daysAhead && !same(descending(input.daysAhead), descending(original.daysAhead))) out.daysAhead = input.daysAhead;
    if ((input.description || null) !== (original.description || null)) out.description = input.description || null;
    if (input.enabled !== original.enabled) out.enabled = input.enabled;
    return out;
  }

  async function onSaveWebhook(event) {
    event.preventDefault();
    clearError();
    const form = event.currentTarget;
    const editing = state.webhookEditing;
    const save = $('#save-webhook', form);
    save.disabled = true;
    try {
      const input = readWebhook(form);
      if (editing) {
        const body = webhookChanges(input, editing);
        if (Object.keys(body).length) await api('PATCH', webhookPath(editing.id), { body });
        closeWebhookForm(false);
        say('Saved the webhook to \u201c' + input.url + '\u201d.');
        await loadWebhooks();
        $('#create-webhook').focus();
      } else {
        const body = { url: input.url, events: input.events, enabled: input.enabled };
        if (input.daysAhead) body.daysAhead = input.daysAhead;
        if (input.description) body.description = input.description;
        const { data } = await api('POST', '/webhooks', { body });
        form.reset();
        closeWebhookForm(false);
        showWebhookSecret(data.secret, 'Signing secret of the new webhook to \u201c' + data.url + '\u201d');
        say('Created the webhook to \u201c' + data.url + '\u201d.');
        loadWebhooks();
      }
    } catch (e) {
      save.disabled = false;
      showError(e);
      const invalid = $('[aria-invalid="true"]', form);
      if (invalid) invalid.focus();
    }
  }

  async function rotateWebhookSecret(id) {
    const w = state.webhooks.get(id);
    if (!await confirmAction('Give the webhook to \u201c' + w.url + '\u201d a new signing secret? The current one stops signing at once: your endpoint needs the new one.', 'Rotate')) return;
    try {
      const { data } = await api('POST', webhookPath(id, '/rotate-secret'));
      showWebhookSecret(data.secret, 'New signing secret of the webhook to \u201c' + data.url + '\u201d');
      say('The webhook to \u201c' + data.url + '\u201d has a new signing secret.');
    } catch (e) {
      showError(e);
    }
  }

  async function deleteWebhook(id) {
    const w = state.webhooks.get(id);
    if (!await confirmAction('Delete the webhook to \u201c' + w.url + '\u201d? Nothing more is sent to it, and its deliveries are deleted with it.', 'Delete')) return;
    try {
      await api('DELETE', webhookPath(id));
      if (state.deliveriesOf === id) closeDeliveries(false);
      if (state.webhookEditing && state.webhookEditing.id === id) closeWebhookForm(false);
      say('Deleted the webhook to \u201c' + w.url + '\u201d.');
      await loadWebhooks();
      $('#create-webhook').focus();
    } catch (e) {
      showError(e);
    }
  }

  function showWebhookSecret(secret, heading) {
    $('#new-webhook-secret-heading').textContent = heading;
    $('#new-webhook-secret-value').textContent = secret;
    $('#copy-webhook-secret').textContent = 'Copy';
    $('#new-webhook-secret').hidden = false;
    $('#copy-webhook-secret').focus();
  }

  function dismissWebhookSecret(restoreFocus) {
    $('#new-webhook-secret-value').textContent = '';
    $('#new-webhook-secret').hidden = true;
    if (restoreFocus) $('#create-webhook').focus();
  }

  /* ---------------------------------------------------------------- webhook deliveries */

  async function openDeliveries(id) {
    const w = state.webhooks.get(id);
    state.deliveriesOf = id;
    state.deliveriesCursor = null;
    $('#deliveries-heading').textContent = 'Deliveries to ' + w.url;
    clear($('#deliveries tbody'));
    $('#deliveries-empty').hidden = true;
    $('#more-deliveries').hidden = true;
    $('#webhook-deliveries').hidden = false;
    $('#deliveries-heading').focus();
    await loadDeliveries(id, false);
  }

  async function loadDeliveries(id, more) {
    if (!id) return;
    const cursor = more ? state.deliveriesCursor : null;
    try {
      const { data } = await api('GET', webhookPath(id, '/deliveries') + '?limit=50' + (cursor ? '&cursor=' + encodeURIComponent(cursor) : ''));
      if (state.deliveriesOf !== id) return;
      const body = $('#deliveries tbody');
      if (!more) clear(body);
      for (const d of data.items || []) body.append(deliveryRow(d));
      state.deliveriesCursor = data.nextCursor || null;
      $('#more-deliveries').hidden = !state.deliveriesCursor;
      $('#deliveries-empty').hidden = body.rows.length > 0;
    } catch (e) {
      showError(e);
    }
  }

  function deliveryRow(d) {
    const none = () => el('span', { className: 'muted', text: '\u2014' });
    const when = new Date(d.createdAt).toLocaleString();
    return el('tr', { className: 'delivery', dataset: { deliveryId: d.id } }, [
      cell('Time', 'at', [timeEl(d.createdAt)]),
      cell('Event', 'event', [el('code', { text: d.eventType }), d.replayOf ? el('span', { className: 'muted', text: ' (replay)' }) : null]),
      cell('Status', 'status', [
        el('span', { className: 'badge ' + d.status, text: d.status }),
        d.status === 'pending' && d.nextAttemptAt ? el('span', { className: 'note muted' }, ['next attempt ', timeEl(d.nextAttemptAt)]) : null,
      ]),
      cell('Attempts', 'attempts', [String(d.attempts)]),
      cell('Response', 'response', [d.responseStatus === null || d.responseStatus === undefined ? none() : String(d.responseStatus)]),
      cell('Error', 'delivery-error', [d.error || none()]),
      cell('Actions', 'actions', [el('div', { className: 'actions' }, [
        el('button', { type: 'button', className: 'replay secondary', 'aria-label': 'Replay the ' + d.eventType + ' delivery of ' + when, text: 'Replay' }),
      ])]),
    ]);
  }

  async function onDeliveriesClick(event) {
    const button = event.target.closest('button.replay');
    if (!button) return;
    const row = button.closest('tr[data-delivery-id]');
    const id = state.deliveriesOf;
    clearError();
    button.disabled = true;
    try {
      const { data } = await api('POST', webhookPath(id, '/deliveries/' + encodeURIComponent(row.dataset.deliveryId) + '/replay'));
      say('The ' + data.eventType + ' event is sent again, as a new delivery.');
      await loadDeliveries(id, false);
      $('#refresh-deliveries').focus();
    } catch (e) {
      button.disabled = false;
      showError(e);
    }
  }

  function closeDeliveries(restoreFocus) {
    const id = state.deliveriesOf;
    state.deliveriesOf = null;
    state.deliveriesCursor = null;
    $('#webhook-deliveries').hidden = true;
    clear($('#deliveries tbody'));
    if (restoreFocus) {
      const back = id && $('tr[data-webhook-id="' + CSS.escape(id) + '"] button.deliveries');
      (back || $('#create-webhook')).focus();
    }
  }

  /* ---------------------------------------------------------------- audit */

  /*
   * The audit log, newest first, each event with its number in the organization's hash
   * chain, and the chain's state above it: intact (verified from the last signed
   * checkpoint to its head), broken (where, and why), or empty. Needs audit:read.
   */
  async function loadAudit() {
    await Promise.all([loadChain(), loadAuditEvents(false)]);
  }

  async function loadChain() {
    try {
      const { data } = await api('GET', '/audit-events/chain');
      renderChain(data);
    } catch (e) {
      $('#audit-chain').hidden = true;
      if (!isForbidden(e)) showError(e);
    }
  }

  const CHAIN_MARKS = { intact: '\u2713', broken: '\u2717', empty: '\u2013' };

  function renderChain(chain) {
    const box = $('#audit-chain');
    clear(box);
    box.className = 'chain-status ' + chain.status;
    box.dataset.status = chain.status;
    box.append(el('span', { className: 'chain-mark', 'aria-hidden': 'true', text: CHAIN_MARKS[chain.status] || '?' }), ' ');
    if (chain.status === 'broken') {
      const at = chain.break || {};
      box.append(el('strong', { text: 'Chain broken at event ' + at.sequence + ':' }), ' ' + (at.detail || ''));
      if (at.eventId) box.append(' (event ', el('code', { text: at.eventId }), ')');
      box.append(el('span', { className: 'note', text: 'Events from there on cannot be trusted until this is explained: run vault-server audit verify.' }));
    } else if (chain.status === 'empty') {
      box.append(el('strong', { text: 'Chain empty:' }), ' no audit event yet.');
    } else {
      const head = chain.head ? chain.head.sequence : 0;
      box.append(el('strong', { text: 'Chain intact:' }),
        ' ' + head + (head === 1 ? ' event' : ' events') + ', verified through #' + chain.verifiedThrough);
      if (chain.verifiedThrough < head) box.append(' (the rest at the next checkpoint)');
      const checkpoint = chain.lastCheckpoint;
      if (checkpoint) box.append('; last signed checkpoint #' + checkpoint.sequence + ' at ', timeEl(checkpoint.at), ' (' + checkpoint.kind + ').');
      else box.append('; no signed checkpoint yet.');
    }
    box.hidden = false;
  }

  async function loadAuditEvents(more) {
    const cursor = more ? state.auditCursor : null;
    const body = $('#audit-events tbody');
    try {
      const { data } = await api('GET', '/audit-events?limit=50' + (cursor ? '&cursor=' + encodeURIComponent(cursor) : ''));
      if (!more) clear(body);
      for (const e of data.items || []) body.append(auditRow(e));
      state.auditCursor = data.nextCursor || null;
      showAuditDenied(false);
      $('#audit-empty').hidden = body.rows.length > 0;
    } catch (e) {
      if (isForbidden(e)) {
        clear(body);
        state.auditCursor = null;
        showAuditDenied(true);
      } else {
        showError(e);
      }
    }
    $('#more-audit').hidden = !state.auditCursor;
  }

  function showAuditDenied(denied) {
    $('#audit-events').closest('.table-wrap').hidden = denied;
    $('#audit-denied').hidden = !denied;
    $('#refresh-audit').disabled = denied;
    if (denied) $('#audit-empty').hidden = true;
  }

  /* What an event acted on, by name where the console knows it. */
  function targetLabel(e) {
    if (!e.targetType) return el('span', { className: 'muted', text: '\u2014' });
    const id = e.targetId;
    let name = null;
    if (e.targetType === 'credential') name = (state.credentials.get(id) || {}).name;
    else if (e.targetType === 'access_key') name = keyName(id);
    else if (e.targetType === 'webhook') name = (state.webhooks.get(id) || {}).url;
    return el('span', null, [e.targetType.replace('_', ' ') + ' ', name ? '\u201c' + name + '\u201d' : el('code', { text: id })]);
  }

  function actorLabel(e) {
    if (e.actorSubject) return el('span', null, ['subject ', el('code', { text: e.actorSubject })]);
    if (e.actorAccessKeyId) return keyName(e.actorAccessKeyId) || el('code', { text: e.actorAccessKeyId });
    return el('span', { className: 'muted', text: 'the vault' });
  }

  function auditRow(e) {
    const sequence = e.chain ? String(e.chain.sequence) : null;
    return el('tr', { className: 'audit-event', dataset: { eventId: e.id, sequence: sequence || '' } }, [
      cell('Seq.', 'sequence', [sequence ? el('span', { title: 'hash ' + e.chain.hash, text: '#' + sequence }) : el('span', { className: 'muted', title: 'written before the chain', text: '\u2014' })]),
      cell('Time', 'at', [timeEl(e.at)]),
      cell('Action', 'action', [el('code', { text: e.action }), e.count > 1 ? ' \u00d7' + e.count : null]),
      cell('Target', 'target', [targetLabel(e)]),
      cell('Actor', 'actor', [actorLabel(e)]),
      cell('Outcome', 'outcome', [
        el('span', { className: 'badge ' + e.outcome, text: e.outcome }),
        e.reason ? ' ' + e.reason : null,
        e.via ? el('span', { className: 'note muted', text: 'via ' + e.via }) : null,
      ]),
    ]);
  }

  /* ---------------------------------------------------------------- wiring */

  function init() {
    $('#connect-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const key = $('#access-key').value.trim();
      if (!key) {
        showError(new Problem({ title: 'Access key missing', detail: 'Paste an access key to connect.' }));
        $('#access-key').focus();
        return;
      }
      connect(key, false);
    });
    $('#disconnect').addEventListener('click', disconnect);
    for (const tab of TABS) {
      $('#tab-' + tab).addEventListener('click', () => selectTab(tab, false));
      $('#tab-' + tab).addEventListener('keydown', onTabKey);
    }
    $('#type-filter').addEventListener('change', () => { clearError(); loadCredentials(); });
    $('#add-credential').addEventListener('click', openCreate);
    $('#credentials').addEventListener('click', onCredentialsClick);
    $('#versions').addEventListener('click', onVersionsClick);
    $('#grants').addEventListener('click', onGrantsClick);
    $('#add-grant').addEventListener('click', openGrantForm);
    $('#connect-credential').addEventListener('click', () => startConnect(state.detailsId));
    $('#connect-open-again').addEventListener('click', openAuthorization);
    $('#refresh-connection').addEventListener('click', () => refreshConnection(false));
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && state.connecting && state.connecting.id === state.detailsId) refreshConnection(true);
    });
    $('#close-details').addEventListener('click', () => closeDetails(true));
    $('#credential-details').addEventListener('keydown', (event) => {
      if (event.key === 'Escape') { event.preventDefault(); closeDetails(true); }
    });
    $('#create-access-key').addEventListener('click', openAccessKeyForm);
    $('#access-keys').addEventListener('click', onAccessKeysClick);
    $('#copy-key').addEventListener('click', copyKey);
    $('#dismiss-key').addEventListener('click', () => dismissKey(true));
    $('#create-webhook').addEventListener('click', () => openWebhookForm(null));
    $('#webhooks').addEventListener('click', onWebhooksClick);
    $('#copy-webhook-secret').addEventListener('click', () => copySecret($('#new-webhook-secret-value'), $('#copy-webhook-secret'), 'secret'));
    $('#dismiss-webhook-secret').addEventListener('click', () => dismissWebhookSecret(true));
    $('#deliveries').addEventListener('click', onDeliveriesClick);
    $('#refresh-deliveries').addEventListener('click', () => { clearError(); loadDeliveries(state.deliveriesOf, false); });
    $('#more-deliveries').addEventListener('click', () => loadDeliveries(state.deliveriesOf, true));
    $('#close-deliveries').addEventListener('click', () => closeDeliveries(true));
    $('#webhook-deliveries').addEventListener('keydown', (event) => {
      if (event.key === 'Escape') { event.preventDefault(); closeDeliveries(true); }
    });
    $('#refresh-audit').addEventListener('click', () => { clearError(); loadAudit(); });
    $('#more-audit').addEventListener('click', () => loadAuditEvents(true));
    /* The chart is drawn to the width it has: again when that changes. */
    if (typeof ResizeObserver === 'function') new ResizeObserver(() => drawUsage()).observe($('#usage-plot'));

    const stored = sessionStorage.getItem(STORAGE_KEY);
    if (stored) connect(stored, true);
    else $('#access-key').focus();
  }

  init();
}());
