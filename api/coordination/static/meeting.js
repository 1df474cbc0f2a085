/* Passerelles : préparer la prochaine réunion (aucun script en ligne).
 * Titles, questions and reasons come from documents or from what practitioners typed: they go
 * in as text nodes only (common.js's el). */
(() => {
  "use strict";
  const { key, setKey, request, el } = window.PasserellesCoordination;
  const $ = (id) => document.getElementById(id);
  const CHANGES = { "nouveau": "nouveau", "mis à jour": "mis à jour", "indexé": "ajouté ou réindexé par import" };
  let shown = null; // the period of the agenda on screen, for the downloads

  const frenchDate = (iso) => {
    const date = new Date(String(iso).slice(0, 10) + "T12:00:00Z");
    if (Number.isNaN(date.getTime())) return String(iso);
    const text = date.toLocaleDateString("fr-FR", { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" });
    return text.replace(/^1 /, "1er ");
  };
  const plural = (count, one, many) => `${count} ${count === 1 ? one : many}`;

  function say(box, text, kind) {
    box.hidden = !text;
    box.className = "message" + (kind ? " " + kind : "") + (box.id === "status" ? " screen-only" : "");
    box.textContent = text || "";
  }

  function problems(data) {
    const list = Array.isArray(data.problems) ? data.problems.map((p) => p.message).join(" ; ") : "";
    return (data.detail || "Erreur.") + (list ? " " + list : "");
  }

  function linked(title, url) {
    return el("a", { href: url }, title);
  }

  function item(...parts) {
    const li = el("li");
    for (const part of parts) li.append(typeof part === "string" ? document.createTextNode(part) : part);
    return li;
  }

  function periodSentence(agenda) {
    const since = frenchDate(agenda.since);
    const until = frenchDate(agenda.until);
    const span = since === until ? `le ${since}` : `du ${since} au ${until}`;
    if (agenda.basis === "dernière réunion") return `Période : ${span}, depuis la dernière réunion.`;
    if (agenda.basis === "par défaut") return `Période : ${span} (aucune réunion enregistrée : les 30 derniers jours).`;
    return `Période : ${span}.`;
  }

  function renderDocuments(documents) {
    const box = $("documents");
    box.replaceChildren();
    if (!documents.total) return box.append(el("p", {}, "Aucun document ajouté ni modifié sur la période."));
    const fresh = documents.new === 0 ? "aucun nouveau" : documents.new === 1 ? "1 nouveau" : `${documents.new} nouveaux`;
    box.append(el("p", {}, `${plural(documents.total, "document", "documents")}, dont ${fresh}.`));
    for (const group of documents.sectors) {
      if (!group.documents.length) continue;
      const name = group.sector.charAt(0).toUpperCase() + group.sector.slice(1);
      box.append(el("h4", {}, `${name} (${group.documents.length})`));
      const list = el("ul");
      for (const row of group.documents) {
        const where = row.territory ? `, ${row.territory}` : "";
        list.append(item(linked(row.title, row.url), ` (${row.doc_type}${where}) : ${CHANGES[row.change] || row.change}, le ${frenchDate(row.at)}`));
      }
      box.append(list);
    }
    if (documents.removed.length) {
      box.append(el("h4", {}, "Documents retirés"));
      const list = el("ul");
      for (const row of documents.removed) list.append(item(`${row.title}, retiré le ${frenchDate(row.at)}`));
      box.append(list);
    }
  }

  function renderUnanswered(unanswered) {
    const box = $("unanswered");
    box.replaceChildren();
    if (!unanswered.log_enabled) return box.append(el("p", {}, "Le journal des questions est désactivé (KB_QUERY_LOG=false)."));
    if (!unanswered.groups.length) return box.append(el("p", {}, "Aucune question restée sans réponse sur la période."));
    box.append(el("p", {}, `${plural(unanswered.total, "question sans réponse", "questions sans réponse")}, regroupées par sujet (le plus demandé d'abord).`));
    const list = el("ul");
    for (const group of unanswered.groups) {
      const others = group.questions.filter((q) => q !== group.representative);
      const also = others.length ? ` ; aussi : ${others.map((q) => `« ${q} »`).join(", ")}` : "";
      list.append(item(el("strong", {}, `« ${group.representative} »`), ` : ${group.count} fois${also}`));
    }
    box.append(list);
    if (unanswered.more_groups) box.append(el("p", {}, `Et ${unanswered.more_groups} autres sujets, posés moins souvent.`));
  }

  function side(pair) {
    return [pair.sector, pair.territory].filter(Boolean).join(", ");
  }

  function renderPairs(pairs) {
    const box = $("pairs");
    box.replaceChildren();
    if (!pairs.available) return box.append(el("p", {}, "Les rapprochements ne sont pas encore disponibles."));
    if (!pairs.pairs.length) return box.append(el("p", {}, "Aucun rapprochement à examiner."));
    const more = pairs.total > pairs.pairs.length ? ` (les ${pairs.pairs.length} premiers sur ${pairs.total})` : "";
    box.append(el("p", {}, `Des structures des deux secteurs qui travaillent sur le même sujet${more}.`));
    const list = el("ul");
    for (const pair of pairs.pairs) {
      list.append(item(
        linked(pair.a.title, pair.a.url), ` (${side(pair.a)}) et `,
        linked(pair.b.title, pair.b.url), ` (${side(pair.b)})`,
        pair.reason ? ` : ${pair.reason}` : "",
      ));
    }
    box.append(list);
  }

  function renderConsulted(consulted) {
    const box = $("consulted");
    box.replaceChildren(el("p", { className: "hint" }, consulted.basis));
    if (!consulted.documents.length) return box.append(el("p", {}, "Aucun document proposé sur la période."));
    const list = el("ol");
    for (const row of consulted.documents) list.append(item(linked(row.title, row.url), ` (${row.sector}) : ${row.count} fois`));
    box.append(list);
  }

  function renderMeetings(meetings) {
    const list = $("meeting-list");
    list.replaceChildren();
    if (!meetings.length) return list.append(el("li", {}, "Aucune réunion enregistrée."));
    for (const meeting of meetings) {
      const note = meeting.note ? ` : ${meeting.note}` : "";
      const by = meeting.recorded_by ? ` (enregistrée par ${meeting.recorded_by})` : "";
      list.append(el("li", {}, `${frenchDate(meeting.date)}${note}${by}`));
    }
  }

  function query(format) {
    const params = new URLSearchParams();
    const period = format ? shown : { since: $("since").value, until: $("until").value };
    if (period && period.since) params.set("since", period.since);
    if (period && period.until) params.set("until", period.until);
    if (format) params.set("format", format);
    return params.toString();
  }

  async function show(event) {
    if (event) event.preventDefault();
    if (!key()) return say($("status"), "Saisissez d'abord votre clé d'accès.", "error");
    say($("status"), "Préparation de l'ordre du jour…");
    // the downloads ask what was asked: a default period stays "since the last meeting"
    const asked = { since: $("since").value, until: $("until").value };
    const result = await request("meeting?" + query());
    if (!result.ok) return say($("status"), problems(result.data), "error");
    const agenda = result.data;
    shown = asked;
    $("since").value = agenda.since;
    $("until").value = agenda.until;
    $("agenda-period").textContent = periodSentence(agenda);
    renderDocuments(agenda.documents);
    renderUnanswered(agenda.unanswered);
    renderPairs(agenda.rapprochements);
    renderConsulted(agenda.most_consulted);
    renderMeetings(agenda.meetings);
    $("agenda").hidden = false;
    $("exports").hidden = false;
    say($("status"), "Ordre du jour à jour.", "ok");
  }

  async function download(format, suffix) {
    if (!shown) return;
    say($("status"), "Préparation du fichier…");
    const result = await request("meeting?" + query(format), { raw: true });
    if (!result.ok) return say($("status"), "Le fichier n'a pas pu être préparé.", "error");
    const disposition = result.response.headers.get("content-disposition") || "";
    const name = (/filename="?([^";]+)"?/.exec(disposition) || [])[1] || `reunion.${suffix}`;
    const link = el("a", { href: URL.createObjectURL(await result.response.blob()), download: name });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    say($("status"), `Fichier ${name} téléchargé.`, "ok");
  }

  async function recordMeeting(event) {
    event.preventDefault();
    const box = $("meeting-status");
    const date = $("meeting-date").value;
    if (!date) {
      say(box, "Indiquez la date de la réunion.", "error");
      return $("meeting-date").focus();
    }
    const note = $("meeting-note").value.trim();
    const result = await request("meetings", { method: "POST", json: note ? { date, note } : { date } });
    if (!result.ok) return say(box, problems(result.data), "error");
    say(box, `Réunion du ${frenchDate(result.data.date)} enregistrée : la prochaine préparation partira de cette date.`, "ok");
    $("meeting-note").value = "";
    $("since").value = "";
    $("until").value = "";
    await show();
  }

  const keyInput = $("api-key");
  keyInput.value = key();
  keyInput.addEventListener("change", () => {
    setKey(keyInput.value);
    show();
  });
  $("period-form").addEventListener("submit", show);
  $("since-last").addEventListener("click", () => {
    $("since").value = "";
    $("until").value = "";
    show();
  });
  $("meeting-form").addEventListener("submit", recordMeeting);
  $("print").addEventListener("click", () => window.print());
  $("download-markdown").addEventListener("click", () => download("markdown", "md"));
  $("download-odt").addEventListener("click", () => download("odt", "odt"));
  if (key()) show();
})();
