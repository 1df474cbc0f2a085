/* Passerelles, page de la coordination : ce que les scripts de la page partagent (la clé, les
   appels à l'API, la construction du DOM sans jamais interpréter de HTML venu des documents). */
(() => {
  "use strict";
  const KEY = "passerelles-key";
  const listeners = [];

  function key() {
    return (sessionStorage.getItem(KEY) || "").trim();
  }

  /* Listeners hear a key that changed only: the browser's own change event (on blur) after a
     programmatic one would otherwise reload every section under the pointer. */
  function setKey(value) {
    if (value.trim() === key()) return;
    sessionStorage.setItem(KEY, value.trim());
    for (const listener of listeners) listener(key());
  }

  /* fetch with the key; resolves to {ok, status, data} and never throws: an unreachable
     service becomes a French message like the API's own errors. */
  async function request(path, options = {}) {
    const headers = Object.assign({ Accept: "application/json" }, options.headers || {});
    if (key()) headers.Authorization = "Bearer " + key();
    let body = options.body;
    if (options.json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(options.json);
    }
    let response;
    try {
      response = await fetch(path, { method: options.method || "GET", headers, body });
    } catch (error) {
      return { ok: false, status: 0, data: { detail: "Le service ne répond pas : réessayez dans un instant." } };
    }
    if (options.raw) return { ok: response.ok, status: response.status, response };
    let data = null;
    try {
      data = await response.json();
    } catch (error) {
      data = { detail: response.ok ? "" : `Erreur ${response.status}.` };
    }
    return { ok: response.ok, status: response.status, data };
  }

  /* An element with text only: document content is never parsed as HTML. */
  function el(tag, attributes = {}, text) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (value === undefined || value === null || value === false) continue;
      if (name === "className") node.className = value;
      else node.setAttribute(name, value === true ? "" : value);
    }
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function formatDate(iso) {
    if (!iso) return "";
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return iso;
    return date.toLocaleString("fr-FR", { dateStyle: "short", timeStyle: "short" });
  }

  /* Duplicate warnings as the API explains them: its sentence, the existing document linked. */
  function duplicateItem(duplicate) {
    const item = el("div", { className: duplicate.strong ? "duplicate strong" : "duplicate" });
    const title = el("p");
    title.appendChild(el("strong", {}, duplicate.strong ? "Réécriture probable de : " : "Document proche : "));
    title.appendChild(el("a", { href: "fiches/" + encodeURIComponent(duplicate.doc_id) }, duplicate.title));
    title.appendChild(document.createTextNode(` (${duplicate.doc_id})`));
    const reasons = duplicate.explanation || (duplicate.reasons || []).join(" ; ");
    item.append(title, el("p", {}, reasons));
    return item;
  }

  /* The warnings in two groups under headings of `level`: the probable rewrites (what blocks
     publishing) apart from the close documents, which are only information. */
  function duplicateGroups(duplicates, level) {
    const groups = [
      [(duplicates || []).filter((d) => d.strong), "Réécriture probable d'un document déjà publié"],
      [(duplicates || []).filter((d) => !d.strong), "Documents au contenu proche (pour information)"],
    ];
    const nodes = [];
    for (const [members, heading] of groups) {
      if (!members.length) continue;
      nodes.push(el("h" + level, { className: "duplicates-heading" }, heading), ...members.map(duplicateItem));
    }
    return nodes;
  }

  let vocabulary = null;
  function loadVocabulary() {
    if (!vocabulary) {
      vocabulary = request("vocabulary").then((result) => (result.ok ? result.data : null));
    }
    return vocabulary;
  }

  function fillOptions(select, values) {
    for (const value of values) select.appendChild(el("option", { value }, value));
  }

  window.PasserellesCoordination = {
    key, setKey, request, el, formatDate, duplicateItem, duplicateGroups, loadVocabulary, fillOptions,
    onKey: (listener) => listeners.push(listener),
  };
})();
