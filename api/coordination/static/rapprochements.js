/* Passerelles : les rapprochements sur la page de la coordination (aucun script en ligne).
   Everything taken from documents (titles, reasons, contacts) is shown with textContent only. */
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const section = $("rapprochements");
  if (!section || !window.PasserellesCoordination) return;
  const { request, el, key, onKey, formatDate } = window.PasserellesCoordination;
  const LIMIT = 10;
  const MARKS = [
    ["mis en relation", "Mis en relation"],
    ["déjà en lien", "Déjà en lien"],
    ["non pertinent", "Non pertinent"],
  ];
  let offset = 0;

  function say(text, kind) {
    const box = $("rapprochements-message");
    box.hidden = !text;
    box.className = "message " + (kind || "");
    box.textContent = text || "";
  }

  function query() {
    const params = new URLSearchParams();
    const territory = $("r-territory").value.trim();
    const theme = $("r-theme").value.trim();
    if (territory) params.set("territory", territory);
    if (theme) params.set("theme", theme);
    params.set("status", $("r-status").value);
    return params;
  }

  function problem(data) {
    const problems = ((data && data.problems) || []).map((p) => p.message).join(" ; ");
    return ((data && data.detail) || "Erreur.") + (problems ? " " + problems : "");
  }

  function side(label, doc) {
    const box = el("div", { className: "side" });
    const title = el("p");
    title.append(el("strong", {}, label + " : "));
    title.append(el("a", { href: doc.url.replace(/^\//, "") }, doc.title));
    box.append(title);
    if (doc.territory) box.append(el("p", { className: "hint" }, "Territoire : " + doc.territory));
    if (doc.contact) {
      box.append(el("p", {}, "Contact : " + doc.contact.name + (doc.contact.contact ? " — " + doc.contact.contact : "")));
    } else {
      box.append(el("p", { className: "hint" }, "Aucun contact connu pour cette structure."));
    }
    return box;
  }

  function item(pair) {
    const li = el("li", { className: "pair" });
    const name = (doc) => doc.porteur || doc.title;
    li.append(el("h3", {}, name(pair.a) + " et " + name(pair.b)));
    li.append(el("p", { className: "reason" }, pair.reason));
    const sides = el("div", { className: "sides" });
    sides.append(side("Action sociale", pair.a.sector === "action sociale" ? pair.a : pair.b));
    sides.append(side("Développement local", pair.a.sector === "action sociale" ? pair.b : pair.a));
    li.append(sides);
    const state = "Statut : " + pair.status + (pair.marked_by ? " (par " + pair.marked_by + ", " + formatDate(pair.marked_at) + ")" : "");
    li.append(el("p", { className: "hint" }, state + (pair.also.length ? " · " + pair.also.length + " autre(s) paire(s) de documents des mêmes structures" : "")));
    const actions = el("div", { className: "actions", role: "group", "aria-label": "Statut du rapprochement " + name(pair.a) + " et " + name(pair.b) });
    for (const [status, label] of MARKS) {
      const button = el("button", { type: "button", "aria-pressed": String(pair.status === status) }, label);
      button.addEventListener("click", () => mark(pair, status, label));
      actions.append(button);
    }
    if (pair.status !== "à examiner") {
      const reopen = el("button", { type: "button" }, "Rouvrir");
      reopen.addEventListener("click", () => mark(pair, "à examiner", "Rouvert"));
      actions.append(reopen);
    }
    li.append(actions);
    return li;
  }

  let listings = 0; // listings asked for, so that only the latest one is shown
  async function show(keepMessage) {
    if (!key()) {
      say("Saisissez d'abord votre clé d'accès, en haut de la page.", "error");
      return;
    }
    const params = query();
    params.set("offset", String(offset));
    params.set("limit", String(LIMIT));
    const asked = ++listings;
    const result = await request("coordination/rapprochements?" + params.toString());
    if (asked !== listings) return; // a later listing was asked for: this answer is stale
    const list = $("rapprochements-list");
    list.replaceChildren();
    if (!result.ok) {
      say(problem(result.data), "error");
      return;
    }
    const data = result.data;
    for (const pair of data.pairs) list.append(item(pair));
    if (!keepMessage) say(data.total ? "" : "Aucun rapprochement pour ces filtres.", data.total ? "" : "ok");
    $("r-range").textContent = data.total ? `${offset + 1}–${offset + data.pairs.length} sur ${data.total}` : "";
    $("r-previous").hidden = offset === 0;
    $("r-next").hidden = offset + data.pairs.length >= data.total;
  }

  async function mark(pair, status, label) {
    const result = await request("coordination/rapprochements/" + encodeURIComponent(pair.id), {
      method: "PUT",
      json: { status },
    });
    if (!result.ok) {
      say(problem(result.data), "error");
      return;
    }
    const who = (pair.a.porteur || pair.a.title) + " et " + (pair.b.porteur || pair.b.title);
    say(label + " : " + who + ".", "ok");
    await show(true);
    $("rapprochements-titre").focus();
  }

  async function downloadCsv() {
    const result = await request("coordination/rapprochements.csv?" + query().toString(), { raw: true });
    if (!result.ok) {
      say(result.status ? `Erreur ${result.status} : le fichier n'a pas pu être préparé.` : "Le service ne répond pas.", "error");
      return;
    }
    const blob = await result.response.blob();
    const link = el("a", { href: URL.createObjectURL(blob), download: "rapprochements-passerelles.csv" });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    say("Fichier CSV téléchargé.", "ok");
  }

  $("rapprochements-titre").setAttribute("tabindex", "-1");
  $("rapprochements-filters").addEventListener("submit", (event) => {
    event.preventDefault();
    offset = 0;
    show();
  });
  $("r-previous").addEventListener("click", () => { offset = Math.max(0, offset - LIMIT); show(); });
  $("r-next").addEventListener("click", () => { offset += LIMIT; show(); });
  $("r-csv").addEventListener("click", downloadCsv);
  onKey(() => { offset = 0; show(); });
  if (key()) show();
})();
