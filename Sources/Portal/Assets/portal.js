/* Recraftor portal: connects the server-rendered pages to the edge's JSON API.
 *
 * No dependencies and no inline code (the pages run under script-src 'self'): behaviour is declared
 * in the HTML with data-* attributes.
 *   <form data-api="/api/keys/{id}" data-id="…" data-method="DELETE" data-success="keys-refresh"
 *         data-confirm="…" data-redirect="/dashboard">
 * A form's fields are sent as JSON (GET: as a query string); an API error's message is shown in the
 * form's [data-form-error] region (role="alert"), or in the page's #page-alert.
 * Every dynamic value goes into the page with textContent, never as HTML.
 */
(function () {
  'use strict';

  var DEFAULT_REDIRECT = '/dashboard';
  var HISTORY_PAGE_SIZE = 20;

  /* Same rule as PortalRedirect.sameOriginPath in Swift: a path on this origin, nothing else. */
  function sameOriginPath(value) {
    if (typeof value !== 'string' || value.length === 0 || value.length > 2048) return null;
    if (value.charAt(0) !== '/' || value.charAt(1) === '/') return null;
    if (/[\\\s\u0000-\u001f\u007f-\u009f]/.test(value)) return null;
    return value;
  }

  function goTo(path) {
    window.location.assign(sameOriginPath(path) || DEFAULT_REDIRECT);
  }

  /* ---- Formatting: the same output as PortalFormat in Swift ---- */

  function formatTokens(value) {
    var number = Number(value);
    return isFinite(number) ? number.toLocaleString('en-US', { maximumFractionDigits: 0 }) : String(value);
  }

  function formatSignedTokens(value) {
    var number = Number(value);
    return (number > 0 ? '+' : '') + formatTokens(number);
  }

  /* Accepts ISO strings and epoch numbers (seconds or milliseconds). */
  function formatTime(value) {
    var input = typeof value === 'number' && value < 1e11 ? value * 1000 : value;
    var date = new Date(input);
    if (value === undefined || value === null || isNaN(date.getTime())) return { text: '', machine: '' };
    var iso = date.toISOString();
    return { text: iso.slice(0, 10) + ' ' + iso.slice(11, 16) + ' UTC', machine: iso.slice(0, 19) + 'Z' };
  }

  function label(name) {
    var spaced = String(name || '').replace(/_/g, ' ');
    return spaced.charAt(0).toUpperCase() + spaced.slice(1);
  }

  /* Same wording as DashboardContext.describe in Swift. */
  function describeTransaction(kind, operation) {
    switch (kind) {
      case 'charge': return label(operation);
      case 'grant': return 'Tokens granted';
      case 'renewal': return 'Plan renewal (' + label(operation) + ')';
      case 'expiry': return 'Unused tokens expired (' + label(operation) + ')';
      case 'adjustment': return 'Adjustment';
      default: return label(operation || kind);
    }
  }

  /* ---- The JSON API ---- */

  function fallbackMessage(status) {
    if (status === 401) return 'Your session has ended. Please sign in again.';
    if (status === 403) return 'You are not allowed to do that.';
    if (status === 404) return 'That was not found.';
    if (status === 429) return 'Too many attempts. Please wait a moment and try again.';
    if (status >= 500) return 'Something went wrong on our side. Please try again.';
    return 'The request failed (' + status + ').';
  }

  async function callAPI(method, url, body) {
    var init = { method: method, credentials: 'same-origin', headers: { 'Accept': 'application/json' } };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    var response;
    try {
      response = await fetch(url, init);
    } catch (networkError) {
      var offline = new Error('The server could not be reached. Check your connection and try again.');
      offline.status = 0;
      throw offline;
    }
    var data = null;
    if (response.status !== 204) {
      var text = await response.text();
      if (text) {
        try { data = JSON.parse(text); } catch (parseError) { data = null; }
      }
    }
    if (!response.ok) {
      var details = data && data.error ? data.error : {};
      var failure = new Error(details.message || fallbackMessage(response.status));
      failure.status = response.status;
      failure.code = details.code;
      failure.field = details.field;
      throw failure;
    }
    return data;
  }

  /* ---- Messages ---- */

  function pageAlert() {
    return document.querySelector('[data-page-alert]');
  }

  function errorRegionFor(form) {
    return form.querySelector('[data-form-error]') || pageAlert();
  }

  function clearErrors(form) {
    var region = errorRegionFor(form);
    if (region) region.textContent = '';
    var page = pageAlert();
    if (page) page.textContent = '';
    form.querySelectorAll('[aria-invalid="true"]').forEach(function (field) {
      field.removeAttribute('aria-invalid');
    });
  }

  function showError(region, error) {
    var target = region || pageAlert();
    if (target) target.textContent = error && error.message ? error.message : 'Something went wrong. Please try again.';
  }

  function isAuthForm(form) {
    var api = form.getAttribute('data-api') || '';
    return api === '/api/auth/login' || api === '/api/auth/register';
  }

  function reportFormError(form, error) {
    if (error.status === 401 && !isAuthForm(form)) {
      goTo('/auth/signin?callbackUrl=' + encodeURIComponent(window.location.pathname));
      return;
    }
    showError(errorRegionFor(form), error);
    var field = error.field ? form.querySelector('[name="' + CSS.escape(String(error.field)) + '"]') : null;
    if (field) {
      field.setAttribute('aria-invalid', 'true');
      field.focus();
    }
  }

  /* ---- Forms ---- */

  function formPayload(form) {
    var payload = {};
    Array.prototype.forEach.call(form.elements, function (element) {
      if (!element.name || element.disabled || element.type === 'submit' || element.type === 'button') return;
      var value = element.type === 'password' ? element.value : element.value.trim();
      if (value === '' && element.hasAttribute('data-optional')) return;
      payload[element.name] = element.type === 'number' ? Number(value) : value;
    });
    return payload;
  }

  function endpointOf(form) {
    return (form.getAttribute('data-api') || '').replace('{id}', encodeURIComponent(form.getAttribute('data-id') || ''));
  }

  function setBusy(form, busy) {
    form.setAttribute('aria-busy', busy ? 'true' : 'false');
    form.querySelectorAll('button').forEach(function (button) { button.disabled = busy; });
  }

  async function submitForm(form) {
    if (form.getAttribute('aria-busy') === 'true') return;
    var question = form.getAttribute('data-confirm');
    if (question && !window.confirm(question)) return;
    clearErrors(form);
    var method = (form.getAttribute('data-method') || 'POST').toUpperCase();
    var url = endpointOf(form);
    var payload = formPayload(form);
    var body;
    if (method === 'GET') {
      url += '?' + new URLSearchParams(payload).toString();
    } else if (method !== 'DELETE') {
      body = payload;
    }
    setBusy(form, true);
    try {
      var data = await callAPI(method, url, body);
      var handler = successHandlers[form.getAttribute('data-success') || 'reload'] || successHandlers.reload;
      await handler(form, data, payload);
    } catch (error) {
      reportFormError(form, error);
    } finally {
      setBusy(form, false);
    }
  }

  /* ---- Templates (<template> elements in the page) ---- */

  function cloneTemplate(id) {
    var template = document.getElementById(id);
    return template ? template.content.firstElementChild.cloneNode(true) : null;
  }

  function setField(root, name, text) {
    root.querySelectorAll('[data-field="' + name + '"]').forEach(function (element) {
      element.textContent = text === undefined || text === null ? '' : String(text);
    });
  }

  function setTime(root, name, value) {
    var time = formatTime(value);
    root.querySelectorAll('[data-field="' + name + '"]').forEach(function (element) {
      element.textContent = time.text;
      if (time.machine) element.setAttribute('datetime', time.machine);
    });
  }

  /* ---- API keys ---- */

  function keyRow(key) {
    var row = cloneTemplate('key-row-template');
    setField(row, 'name', key.name);
    setField(row, 'prefix', key.prefix + '_…');
    setTime(row, 'created', key.createdAt);
    setField(row, 'status', key.revoked ? 'Revoked' : 'Active');
    row.querySelector('[data-field="status"]').classList.add(key.revoked ? 'status-revoked' : 'status-active');
    var form = row.querySelector('form');
    if (key.revoked) {
      row.classList.add('is-revoked');
      form.remove();
    } else {
      form.setAttribute('data-id', key.id);
      form.setAttribute('data-confirm', 'Revoke the key “' + key.name + '”? Programs using it will stop working.');
      setField(row, 'revokeName', ' ' + key.name);
    }
    return row;
  }

  async function refreshKeys() {
    var rows = document.querySelector('[data-key-rows]');
    if (!rows) return;
    var data = await callAPI('GET', '/api/keys');
    var keys = (data && data.keys) || [];
    rows.replaceChildren.apply(rows, keys.map(keyRow));
    var table = document.querySelector('[data-keys-table]');
    var empty = document.querySelector('[data-keys-empty]');
    if (table) table.hidden = keys.length === 0;
    if (empty) empty.hidden = keys.length !== 0;
  }

  async function showNewKey(form, data) {
    var panel = document.querySelector('[data-new-key]');
    var secret = document.querySelector('[data-new-key-secret]');
    var status = document.querySelector('[data-copy-status]');
    if (panel && secret && data && data.secret) {
      secret.value = data.secret;
      if (status) status.textContent = '';
      panel.hidden = false;
      secret.focus();
      secret.select();
    }
    form.reset();
    try {
      await refreshKeys();
    } catch (error) {
      showError(pageAlert(), { message: 'The key was created, but the list could not be refreshed. Reload the page to see it.' });
    }
  }

  async function copySecret(button) {
    var input = document.getElementById(button.getAttribute('data-copy-target'));
    var status = document.querySelector('[data-copy-status]');
    if (!input) return;
    var copied = false;
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(input.value);
        copied = true;
      } catch (clipboardError) {
        copied = false;
      }
    }
    if (!copied) {
      input.focus();
      input.select();
      try { copied = document.execCommand('copy'); } catch (commandError) { copied = false; }
    }
    if (status) {
      status.textContent = copied ? 'Copied to the clipboard.' : 'The key is selected: press Ctrl+C (⌘C on a Mac) to copy it.';
    }
  }

  /* ---- Dashboard history ---- */

  function historyRow(entry) {
    var row = cloneTemplate('history-row-template');
    setField(row, 'operation', describeTransaction(entry.kind, entry.operation));
    setField(row, 'memo', entry.reason || '');
    setField(row, 'delta', formatSignedTokens(entry.delta));
    row.querySelector('[data-field="delta"]').classList.add(Number(entry.delta) < 0 ? 'delta-negative' : 'delta-positive');
    setField(row, 'balanceAfter', formatTokens(entry.balanceAfter));
    setTime(row, 'time', entry.createdAt);
    setField(row, 'requestId', entry.requestId || '');
    return row;
  }

  async function loadOlderHistory(button) {
    var rows = document.querySelector('[data-history-rows]');
    var before = button.getAttribute('data-before');
    if (!rows || !before || button.disabled) return;
    button.disabled = true;
    try {
      var query = new URLSearchParams({ limit: String(HISTORY_PAGE_SIZE), before: before });
      var data = await callAPI('GET', '/api/tokens?' + query.toString());
      ((data && data.history) || []).forEach(function (entry) { rows.appendChild(historyRow(entry)); });
      if (data && data.nextBefore !== undefined && data.nextBefore !== null) {
        button.setAttribute('data-before', String(data.nextBefore));
      } else {
        button.hidden = true;
      }
    } catch (error) {
      showError(pageAlert(), error);
    } finally {
      button.disabled = false;
    }
  }

  /* ---- Admin ---- */

  var lastAdminSearch = null;

  function adminStatus(text) {
    var status = document.querySelector('[data-admin-status]');
    if (status) status.textContent = text;
    return status;
  }

  function adminCard(user) {
    var card = cloneTemplate('admin-user-template');
    setField(card, 'email', user.email);
    setField(card, 'name', user.name || '—');
    setField(card, 'role', label(user.role));
    setField(card, 'plan', label(user.plan));
    setField(card, 'balance', formatTokens(user.balance));
    setField(card, 'held', formatTokens(user.held));
    card.querySelectorAll('[data-field-value="email"]').forEach(function (input) { input.value = user.email; });
    card.querySelectorAll('form[data-api*="{id}"]').forEach(function (form) { form.setAttribute('data-id', user.id); });
    var select = card.querySelector('select[name="plan"]');
    if (select) {
      select.value = user.plan;
      if (select.value !== user.plan) {
        var current = document.createElement('option');
        current.value = user.plan;
        current.textContent = label(user.plan) + ' (current, not in the policy)';
        select.insertBefore(current, select.firstChild);
        select.value = user.plan;
      }
    }
    return card;
  }

  function renderAdminUsers(data) {
    var results = document.querySelector('[data-admin-results]');
    var users = (data && data.users) || [];
    if (results) results.replaceChildren.apply(results, users.map(adminCard));
    return users;
  }

  async function showAdminUsers(form, data, payload) {
    lastAdminSearch = payload && payload.email ? String(payload.email) : null;
    var users = renderAdminUsers(data);
    adminStatus(users.length === 0 ? 'No account uses that email address.'
      : users.length === 1 ? 'One account found.' : users.length + ' accounts found.');
  }

  async function afterAdminChange(form, data) {
    var message = 'Saved.';
    if (data && data.granted !== undefined) {
      message = 'Granted ' + formatTokens(data.granted) + ' tokens to ' + (data.email || 'the account')
        + '. New balance: ' + formatTokens(data.balance) + '.';
    } else if (data && data.user) {
      message = 'The plan of ' + data.user.email + ' is now ' + label(data.user.plan) + '.';
    }
    if (lastAdminSearch) {
      var query = new URLSearchParams({ email: lastAdminSearch });
      renderAdminUsers(await callAPI('GET', '/api/admin/users?' + query.toString()));
    }
    var status = adminStatus(message);
    if (status) status.focus();
  }

  /* ---- Sign-in page: say so when a session already exists ---- */

  async function checkExistingSession(form) {
    var notice = document.querySelector('[data-session-notice]');
    if (!notice) return;
    try {
      var data = await callAPI('GET', '/api/auth/session');
      if (data && data.user && data.user.email) {
        notice.querySelectorAll('[data-session-email]').forEach(function (element) {
          element.textContent = data.user.email;
        });
        var link = notice.querySelector('a');
        if (link) link.setAttribute('href', sameOriginPath(form.getAttribute('data-redirect')) || DEFAULT_REDIRECT);
        notice.hidden = false;
      }
    } catch (error) {
      /* No session information: the form works as usual. */
    }
  }

  var successHandlers = {
    redirect: function (form) { goTo(form.getAttribute('data-redirect')); },
    reload: function () { window.location.reload(); },
    'key-created': showNewKey,
    'keys-refresh': refreshKeys,
    'admin-users': showAdminUsers,
    'admin-refresh': afterAdminChange
  };

  /* ---- Wiring ---- */

  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute('data-api')) return;
    event.preventDefault();
    submitForm(form);
  });

  document.addEventListener('click', function (event) {
    if (!(event.target instanceof Element)) return;
    var copyButton = event.target.closest('[data-copy-target]');
    if (copyButton) {
      copySecret(copyButton);
      return;
    }
    var moreButton = event.target.closest('[data-history-more]');
    if (moreButton) loadOlderHistory(moreButton);
  });

  document.addEventListener('DOMContentLoaded', function () {
    document.querySelectorAll('form[data-session-check]').forEach(checkExistingSession);
  });
})();
