/* Shared by the playground and the Chatwoot app: API calls with the token, marked text,
   violation lists and a word diff. No framework, no network beyond this server. */
"use strict";

const H2H = (() => {
  const TOKEN_KEY = "h2h-token";

  function token() {
    try { return localStorage.getItem(TOKEN_KEY) || ""; } catch (e) { return ""; }
  }

  function saveToken(value) {
    try { localStorage.setItem(TOKEN_KEY, value); } catch (e) { /* private mode: session only */ }
    memoryToken = value;
  }

  let memoryToken = "";

  let pending = null;

  /* Ask for the token in the page's dialog; resolves to the token or "" when cancelled. Requests
     refused at the same moment share one prompt. */
  function askToken() {
    if (!pending) pending = prompt().finally(() => { pending = null; });
    return pending;
  }

  function prompt() {
    const dialog = document.getElementById("token-dialog");
    const input = document.getElementById("token-input");
    return new Promise((resolve) => {
      input.value = "";
      dialog.addEventListener("close", function done() {
        dialog.removeEventListener("close", done);
        const value = dialog.returnValue === "ok" ? input.value.trim() : "";
        if (value) saveToken(value);
        const button = document.getElementById("token-button");
        if (button) button.hidden = !value && !token();
        resolve(value);
      });
      dialog.showModal();
      input.focus();
    });
  }

  /* POST/GET JSON; the token goes in the Authorization header, never in the URL. On 401 the
     token is asked for once and the request repeated. */
  async function api(path, body, retried) {
    const headers = { "Accept": "application/json" };
    const t = token() || memoryToken;
    if (t) headers["Authorization"] = "Bearer " + t;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, {
      method: body === undefined ? "GET" : "POST",
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
    });
    if (response.status === 401 && !retried) {
      const given = await askToken();
      if (given) return api(path, body, true);
    }
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (!response.ok) {
      const message = response.status === 401
        ? "сервер не принял токен; нажмите кнопку ещё раз и введите верный"
        : data && data.error ? data.error.message : "HTTP " + response.status;
      const error = new Error(message);
      error.status = response.status;
      throw error;
    }
    return data;
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v; else node.setAttribute(k, v);
    }
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  }

  /* Spans are code-point offsets (Python); JS strings index UTF-16 units, so split by code
     point first or an emoji before a span would shift every mark after it. */
  function marked(target, text, violations) {
    target.textContent = "";
    const chars = Array.from(text);
    const spans = violations
      .map((v, i) => ({ v, i }))
      .filter(({ v }) => Array.isArray(v.span))
      .sort((a, b) => a.v.span[0] - b.v.span[0]);
    let at = 0;
    for (const { v } of spans) {
      const [start, end] = v.span;
      if (start < at || end <= start) continue;  // overlapping marks: the first one is shown
      target.append(chars.slice(at, start).join(""));
      const mark = el("mark", {
        class: v.severity === "block" ? "block" : "warn",
        title: v.rule + ": " + v.message,
        "data-rule": v.rule,
      }, chars.slice(start, end).join(""));
      target.append(mark);
      at = end;
    }
    target.append(chars.slice(at).join(""));
  }

  /* One item per rule: a rule that fires on three words says so once, quoting all three. */
  function violationList(target, violations) {
    target.textContent = "";
    if (!violations.length) {
      target.append(el("li", { class: "none" }, "Нарушений нет."));
      return;
    }
    const groups = new Map();
    for (const v of violations) {
      if (!groups.has(v.rule)) groups.set(v.rule, []);
      groups.get(v.rule).push(v);
    }
    for (const [rule, found] of groups) {
      const first = found[0];
      const item = el("li", { class: first.severity, "data-rule": rule },
        el("span", { class: "badge " + first.severity }, first.severity === "block" ? "блок" : "совет"),
        el("code", {}, rule), " ",
        el("span", { class: "message" }, first.message));
      const quotes = [...new Set(found.map((v) => v.text).filter(Boolean))];
      if (quotes.length) item.append(el("span", { class: "quotes" }, quotes.map((q) => "«" + q + "»").join(", ")));
      target.append(item);
    }
  }

  /* Text areas grow with what they hold, so a pasted message is read whole. */
  const fitters = new Set();
  window.addEventListener("resize", () => fitters.forEach((fit) => fit()));

  function autosize(area) {
    const fit = () => {
      if (!area.isConnected) { fitters.delete(fit); return; }
      area.style.height = "auto";
      area.style.height = Math.min(area.scrollHeight + 2, 480) + "px";
    };
    area.addEventListener("input", fit);
    fitters.add(fit);
    fit();
    return fit;
  }

  /* Words with the spaces after them: spaces are never matched on their own, so a rewritten
     sentence shows as one deletion and one insertion, not as words interleaved. */
  function words(text) {
    return text.match(/^\s+|\S+\s*/g) || [];
  }

  /* A word-level diff (longest common subsequence): replies are short, O(n·m) is fine. */
  function diff(target, before, after) {
    target.textContent = "";
    const a = words(before), b = words(after);
    const same = (x, y) => x.trimEnd() === y.trimEnd();
    const n = a.length, m = b.length;
    const table = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1));
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        table[i][j] = same(a[i], b[j]) ? table[i + 1][j + 1] + 1 : Math.max(table[i + 1][j], table[i][j + 1]);
      }
    }
    let i = 0, j = 0;
    const push = (tag, text) => {
      const last = target.lastChild;
      if (tag && last && last.nodeName.toLowerCase() === tag) last.textContent += text;
      else target.append(tag ? el(tag, {}, text) : text);
    };
    while (i < n || j < m) {
      if (i < n && j < m && same(a[i], b[j])) { push(null, b[j]); i++; j++; }
      else if (i < n && (j >= m || table[i + 1][j] >= table[i][j + 1])) { push("del", a[i]); i++; }
      else { push("ins", b[j]); j++; }
    }
  }

  async function copy(text, button) {
    try {
      await navigator.clipboard.writeText(text);
    } catch (e) {
      const area = el("textarea", {}, text);
      document.body.append(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
    if (button) {
      const label = button.textContent;
      button.textContent = "Скопировано";
      setTimeout(() => { button.textContent = label; }, 1500);
    }
  }

  function setup() {
    const button = document.getElementById("token-button");
    if (button) {
      button.hidden = !token();
      button.addEventListener("click", () => askToken());
    }
  }

  return { api, marked, violationList, diff, copy, el, setup, askToken, autosize };
})();
