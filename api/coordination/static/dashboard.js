/* Passerelles : tableau de bord « Ce que cherchent les praticiens » (aucun script en ligne).
 * Every text from the log (questions, comments) is untrusted: it goes in as text nodes only. */
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const SVG = "http://www.w3.org/2000/svg";
  const CHANNELS = { site: "site", widget: "widget", api: "API" };

  function el(tag, attrs, kids) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value !== null && value !== undefined) node.setAttribute(key, String(value));
    }
    for (const kid of kids || []) {
      if (kid !== null && kid !== undefined) node.append(typeof kid === "object" ? kid : String(kid));
    }
    return node;
  }

  function svg(tag, attrs, kids) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
    for (const kid of kids || []) node.append(typeof kid === "object" ? kid : String(kid));
    return node;
  }

  // the key is the one the page keeps for its other forms (coordination.js)
  function key() {
    return ($("api-key").value || sessionStorage.getItem("passerelles-key") || "").trim();
  }

  function say(text, isError) {
    const box = $("tdb-status");
    box.textContent = text;
    box.className = isError ? "tdb-error" : "hint";
  }

  function query() {
    const params = new URLSearchParams();
    if ($("tdb-since").value) params.set("since", $("tdb-since").value);
    if ($("tdb-until").value) params.set("until", $("tdb-until").value);
    if ($("tdb-channel").value) params.set("channel", $("tdb-channel").value);
    return params.toString();
  }

  async function get(path) {
    if (!key()) throw new Error("Saisissez d'abord votre clé d'accès (en haut de la page).");
    const response = await fetch(path, { headers: { Authorization: "Bearer " + key() } });
    if (response.ok) return response;
    let detail = "Le service a répondu par une erreur (" + response.status + ").";
    try {
      const body = await response.json();
      if (typeof body.detail === "string") detail = body.detail;
      if (Array.isArray(body.problems) && body.problems.length) {
        detail += " " + body.problems.map((p) => p.message).join(" ; ");
      }
    } catch (_) { /* not JSON: keep the status */ }
    throw new Error(detail);
  }

  const day = (at) => String(at || "").slice(0, 10);
  const percent = (ratio) => (ratio === null || ratio === undefined ? "—" : Math.round(ratio * 100) + " %");

  function renderFrequent(rows) {
    const body = $("tdb-frequent").tBodies[0];
    body.replaceChildren(...rows.map((row) => el("tr", null, [
      el("th", { scope: "row" }, [row.question]),
      el("td", { class: "num" }, [row.count]),
      el("td", { class: "num" }, [percent(row.found_ratio)]),
      el("td", null, [day(row.last_at)]),
    ])));
    if (!rows.length) body.append(el("tr", null, [el("td", { colspan: 4 }, ["Aucune question sur la période."])]));
  }

  function renderGroups(groups) {
    const box = $("tdb-groups");
    box.replaceChildren(...groups.map((group) => el("article", { class: "tdb-group" }, [
      el("p", null, [el("strong", null, [group.representative])]),
      el("p", { class: "tdb-muted" }, [
        `${group.count} fois, du ${day(group.first_at)} au ${day(group.last_at)}`,
      ]),
      group.questions.length > 1
        ? el("ul", { "aria-label": "Formulations" }, group.questions.map((q) => el("li", null, [q])))
        : null,
    ])));
    if (!groups.length) box.append(el("p", { class: "tdb-muted" }, ["Aucune question sans réponse sur la période."]));
  }

  function renderNotUseful(items) {
    const box = $("tdb-not-useful");
    box.replaceChildren(...items.map((item) => el("article", { class: "tdb-group" }, [
      el("p", null, [el("strong", null, [item.question])]),
      el("p", { class: "tdb-muted" }, [
        day(item.at) + (item.doc_ids.length ? " · documents : " + item.doc_ids.join(", ") : ""),
      ]),
      item.comment ? el("blockquote", null, [item.comment]) : null,
    ])));
    if (!items.length) box.append(el("p", { class: "tdb-muted" }, ["Aucune réponse jugée inutile sur la période."]));
  }

  /** Weekly volume: an SVG bar chart drawn here (two bars a week), and the same figures as a table. */
  function renderWeekly(weeks) {
    const box = $("tdb-weekly");
    const width = 720, height = 220, left = 36, bottom = 28, top = 10;
    const highest = Math.max(1, ...weeks.map((w) => w.questions));
    const slot = (width - left - 8) / Math.max(1, weeks.length);
    const bar = Math.max(2, slot * 0.38);
    const y = (n) => top + (height - top - bottom) * (1 - n / highest);
    const chart = svg("svg", {
      viewBox: `0 0 ${width} ${height}`, role: "img", "aria-labelledby": "tdb-chart-title tdb-chart-desc",
    }, [
      svg("title", { id: "tdb-chart-title" }, ["Questions et questions sans réponse par semaine"]),
      svg("desc", { id: "tdb-chart-desc" }, ["Les chiffres sont dans le tableau qui suit le graphique."]),
      svg("line", { x1: left, x2: width - 4, y1: y(0), y2: y(0), stroke: "#555" }),
      svg("text", { x: left - 6, y: y(highest) + 4, "text-anchor": "end", "font-size": 11 }, [highest]),
      svg("text", { x: left - 6, y: y(0) + 4, "text-anchor": "end", "font-size": 11 }, ["0"]),
    ]);
    const every = Math.ceil(weeks.length / 8);
    weeks.forEach((week, i) => {
      const x = left + i * slot + slot * 0.1;
      chart.append(
        svg("rect", { x, y: y(week.questions), width: bar, height: y(0) - y(week.questions), fill: "#1f6f5c" }),
        svg("rect", { x: x + bar, y: y(week.unanswered), width: bar, height: y(0) - y(week.unanswered), fill: "#c2410c" }),
      );
      if (i % every === 0) {
        chart.append(svg("text", { x: x + bar, y: height - 8, "text-anchor": "middle", "font-size": 11 }, [week.week]));
      }
    });
    const legend = el("p", { class: "tdb-muted", "aria-hidden": "true" }, [
      el("span", { class: "tdb-key questions" }), "questions",
      el("span", { class: "tdb-key unanswered" }), "sans réponse",
    ]);
    const table = el("table", null, [
      el("caption", null, ["Questions par semaine"]),
      el("thead", null, [el("tr", null, [
        el("th", { scope: "col" }, ["Semaine"]), el("th", { scope: "col", class: "num" }, ["Questions"]),
        el("th", { scope: "col", class: "num" }, ["Sans réponse"]),
      ])]),
      el("tbody", null, weeks.map((w) => el("tr", null, [
        el("th", { scope: "row" }, [w.week]), el("td", { class: "num" }, [w.questions]), el("td", { class: "num" }, [w.unanswered]),
      ]))),
    ]);
    box.replaceChildren(chart, legend, el("details", null, [el("summary", null, ["Voir les chiffres"]), table]));
  }

  function renderCoverage(coverage) {
    const table = $("tdb-coverage");
    const head = el("tr", null, [el("th", { scope: "col" }, ["Thème"]),
      ...coverage.sectors.map((sector) => el("th", { scope: "col", class: "num" }, [sector]))]);
    const rows = coverage.themes.map((theme) => el("tr", null, [
      el("th", { scope: "row" }, [theme]),
      ...coverage.sectors.map((sector) => {
        const n = (coverage.counts[theme] || {})[sector] || 0;
        return el("td", { class: "num" + (n === 0 ? " thin0" : n === 1 ? " thin1" : "") }, [n]);
      }),
    ]));
    table.replaceChildren(
      el("caption", null, ["Documents par thème et par secteur"]),
      el("thead", null, [head]),
      el("tbody", null, rows.length ? rows : [el("tr", null, [el("td", { colspan: coverage.sectors.length + 1 }, ["La base est vide."])])]),
    );
  }

  /** "Coordonnées divergentes": a fiche's contact lines against its structure's directory entry. */
  function renderContacts(conflicts) {
    const box = $("tdb-contacts");
    if (!conflicts.length) {
      box.replaceChildren(el("p", { class: "tdb-muted" }, ["Aucune divergence : les fiches et l'annuaire donnent les mêmes coordonnées."]));
      return;
    }
    const link = (href, text) => el("a", { href }, [text]);
    box.replaceChildren(el("table", { "aria-labelledby": "tdb-contacts-title", "aria-describedby": "tdb-contacts-hint" }, [
      el("thead", null, [el("tr", null, [
        el("th", { scope: "col" }, ["Structure"]), el("th", { scope: "col" }, ["Dans le document"]),
        el("th", { scope: "col" }, ["Dans l'annuaire"]), el("th", { scope: "col" }, ["Diffère"]),
      ])]),
      el("tbody", null, conflicts.map((row) => el("tr", null, [
        el("th", { scope: "row" }, [row.structure]),
        el("td", null, [link(row.url, row.title), el("br"), row.fiche]),
        el("td", null, [link(row.entry_url, row.entry_title), el("br"), row.annuaire]),
        el("td", null, [row.differs.join(", ")]),
      ]))),
    ]));
  }

  async function showContacts() {
    try {
      renderContacts((await (await get("coordination/contacts")).json()).conflicts);
    } catch (error) {
      $("tdb-contacts").replaceChildren(el("p", { class: "tdb-error" }, [error.message]));
    }
  }

  async function show(event) {
    if (event) event.preventDefault();
    say("Chargement…", false);
    try {
      const data = await (await get("coordination/questions?" + query())).json();
      $("tdb-since").value = data.since;
      $("tdb-until").value = data.until;
      const channel = $("tdb-channel").value;
      $("tdb-summary").textContent = data.log_enabled
        ? `Du ${data.since} au ${data.until}${channel ? " (" + CHANNELS[channel] + ")" : ""} : ${data.total} question(s), ` +
          `${percent(data.answered_ratio)} avec une réponse.`
        : "Le journal des questions est désactivé (KB_QUERY_LOG=false) : aucune question n'est enregistrée.";
      renderFrequent(data.frequent);
      renderGroups(data.unanswered_groups);
      renderNotUseful(data.not_useful);
      renderWeekly(data.weekly);
      renderCoverage(data.coverage);
      await showContacts();
      $("tdb-content").hidden = false;
      say("Tableau de bord à jour.", false);
    } catch (error) {
      say(error.message, true);
    }
  }

  async function downloadCsv() {
    say("Préparation du fichier…", false);
    try {
      const blob = await (await get("coordination/questions.csv?" + query())).blob();
      const link = el("a", { href: URL.createObjectURL(blob), download: "questions-passerelles.csv" });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10000);
      say("Fichier CSV téléchargé.", false);
    } catch (error) {
      say(error.message, true);
    }
  }

  $("tdb-form").addEventListener("submit", show);
  $("tdb-csv").addEventListener("click", downloadCsv);
  if (key()) show();
})();
