/* Passerelles, page de la coordination : le catalogue (documents publiés et propositions),
   la fiche d'un document (métadonnées, fichier, suppression, historique) et la relecture. */
(() => {
  "use strict";
  const { key, request, el, formatDate, duplicateGroups, loadVocabulary, fillOptions, onKey } = window.PasserellesCoordination;
  const $ = (id) => document.getElementById(id);
  const PAGE = 20;
  const PROPOSAL_STATUSES = ["proposé", "à revoir", "rejeté"];
  let offset = 0;
  let role = null; // "coordination" or "contributeur", learnt from the catalogue's answer
  let current = null; // the open document: {doc_id, status, title}

  loadVocabulary().then((vocabulary) => {
    if (!vocabulary) return;
    fillOptions($("c-type"), vocabulary.doc_types);
    fillOptions($("c-sector"), vocabulary.sectors);
    fillOptions($("e-doc_type"), vocabulary.doc_types);
    fillOptions($("e-sector"), vocabulary.sectors);
  });

  /* Publics (kb/core/publics.py): a field of the catalogue's form, added here after the territory. */
  (function addPublicsField() {
    const territory = $("e-territory");
    if (!territory || $("e-publics")) return;
    const input = el("input", { id: "e-publics", "data-edit": "publics", "aria-describedby": "e-publics-hint" });
    territory.after(
      el("label", { for: "e-publics" }, "Publics"),
      input,
      el("p", { className: "hint", id: "e-publics-hint" }, "Séparés par des virgules : jeunes, familles, personnes âgées, agriculteurs… Laissé vide, rien ne change."),
    );
  })();

  const INFERRED_HINTS = {
    sector: "Secteur déduit du texte : corrigez-le, ou enregistrez pour le confirmer.",
    territory: "Territoire déduit du texte : corrigez-le, ou enregistrez pour le confirmer.",
    publics: "Publics déduits du texte : corrigez-les, ou enregistrez pour les confirmer.",
  };

  /* A field the document did not give, that ingestion inferred from its text: said next to it. */
  function markInferred(inferred) {
    for (const node of document.querySelectorAll(".inferred-hint")) node.remove();
    for (const [field, hint] of Object.entries(INFERRED_HINTS)) {
      const input = document.querySelector(`[data-edit="${field}"]`);
      if (!input || !inferred[field]) continue;
      const text = input.value ? hint : "Publics déduits du texte (voir la page du document) : écrivez-les ici pour les corriger.";
      input.after(el("p", { className: "hint inferred-hint" }, text));
    }
  }

  function message(box, text, kind) {
    box.hidden = !text;
    box.className = "message " + (kind || "");
    box.textContent = text || "";
  }

  function badge(status) {
    return el("span", { className: "status-badge status-" + status.replace(/ /g, "-") }, status);
  }

  // -- the list ------------------------------------------------------------------------------

  let generation = 0; // a slower, older listing never overwrites a newer one

  async function loadCatalogue() {
    if (!key()) return;
    const mine = ++generation;
    const params = new URLSearchParams({ offset: String(offset), limit: String(PAGE) });
    for (const [name, id] of [["q", "c-q"], ["status", "c-status"], ["type", "c-type"], ["sector", "c-sector"]]) {
      const value = $(id).value.trim();
      if (value) params.set(name, value);
    }
    const result = await request("coordination/catalogue?" + params);
    if (mine !== generation) return;
    if (result.status === 403) return loadOwnProposals(mine);
    if (!result.ok) {
      message($("catalogue-message"), result.data.detail || "Erreur.", "error");
      return;
    }
    role = "coordination";
    $("catalogue-intro").textContent = "Tous les documents : publiés, proposés, à revoir et rejetés. Ouvrez un document pour le modifier, le relire ou le supprimer.";
    message($("catalogue-message"), "");
    renderTable(result.data.documents, result.data.total);
  }

  /* A contributor's key: her own proposals, whatever their status. */
  async function loadOwnProposals(mine) {
    role = "contributeur";
    $("catalogue-intro").textContent = "Vos propositions et leur état : la coordination les relit avant de les publier.";
    const rows = [];
    for (const status of PROPOSAL_STATUSES) {
      const result = await request("documents?limit=100&status=" + encodeURIComponent(status));
      if (result.ok) rows.push(...result.data.documents);
    }
    if (mine !== generation) return;
    renderTable(rows, rows.length);
  }

  function renderTable(documents, total) {
    const box = $("catalogue-list");
    box.replaceChildren();
    if (!documents.length) {
      box.appendChild(el("p", {}, "Aucun document ne correspond."));
      updatePager(0);
      return;
    }
    const table = el("table");
    table.appendChild(el("caption", {}, `${total} document${total > 1 ? "s" : ""}`));
    const head = el("tr");
    for (const label of ["Titre", "Type", "Secteur", "Territoire", "Date", "Statut", "Dernière modification"]) {
      head.appendChild(el("th", { scope: "col" }, label));
    }
    table.appendChild(el("thead")).appendChild(head);
    const body = el("tbody");
    for (const row of documents) {
      const line = el("tr");
      const open = el("button", { type: "button", className: "link", "data-doc": row.doc_id }, row.title || row.doc_id);
      open.addEventListener("click", () => openDocument(row.doc_id, row.status || "publié"));
      const titleCell = el("td");
      titleCell.append(open, el("br"), el("small", {}, row.doc_id));
      line.appendChild(titleCell);
      for (const value of [row.doc_type, row.sector, row.territory, row.date]) line.appendChild(el("td", {}, value || ""));
      line.appendChild(el("td")).appendChild(badge(row.status || "publié"));
      const change = row.last_change || { at: row.updated_at, actor: row.submitted_by, action: "proposition" };
      line.appendChild(el("td", {}, change && change.at ? `${formatDate(change.at)} — ${change.action || ""}${change.actor ? " (" + change.actor + ")" : ""}` : ""));
      body.appendChild(line);
    }
    table.appendChild(body);
    box.appendChild(table);
    updatePager(total);
  }

  function updatePager(total) {
    const paged = role === "coordination";
    $("c-previous").hidden = !paged || offset === 0;
    $("c-next").hidden = !paged || offset + PAGE >= total;
    $("c-range").textContent = paged && total ? `Documents ${offset + 1} à ${Math.min(offset + PAGE, total)} sur ${total}` : "";
  }

  $("catalogue-filters").addEventListener("submit", (event) => {
    event.preventDefault();
    offset = 0;
    loadCatalogue();
  });
  $("c-previous").addEventListener("click", () => { offset = Math.max(0, offset - PAGE); loadCatalogue(); });
  $("c-next").addEventListener("click", () => { offset += PAGE; loadCatalogue(); });
  onKey(() => { offset = 0; closeDetail(); loadCatalogue(); });
  document.addEventListener("passerelles:catalogue-changed", () => loadCatalogue());
  // fiche_text.js saved a document's text: the list, the document and its history again
  document.addEventListener("passerelles:document-saved", async (event) => {
    const { doc_id: docId, status, message: text } = event.detail;
    await loadCatalogue();
    await openDocument(docId, status);
    message($("detail-message"), text, "ok");
  });
  loadCatalogue();

  // -- one document ----------------------------------------------------------------------------

  async function openDocument(docId, status) {
    current = { doc_id: docId, status };
    const panel = $("document-detail");
    panel.hidden = false;
    $("review-panel").hidden = true;
    $("published-panel").hidden = true;
    $("delete-confirm").hidden = true;
    $("review-force").hidden = true;
    message($("detail-message"), "");
    $("detail-title").textContent = docId;
    $("detail-summary").textContent = "";
    if (PROPOSAL_STATUSES.includes(status)) await showProposal(docId);
    else await showPublished(docId);
    // fiche_text.js: the text editor of a published document
    document.dispatchEvent(new CustomEvent("passerelles:document-opened", { detail: { doc_id: docId, status, role } }));
    await showHistory(docId);
    panel.focus();
  }

  async function showPublished(docId) {
    const result = await request("documents/" + encodeURIComponent(docId));
    if (!result.ok) return message($("detail-message"), result.data.detail || "Erreur.", "error");
    const doc = result.data;
    current.title = doc.title;
    $("detail-title").textContent = doc.title;
    $("detail-summary").textContent = `${doc.doc_id} — publié, version indexée le ${formatDate(doc.indexed_at)}`;
    for (const input of document.querySelectorAll("[data-edit]")) {
      const value = doc[input.dataset.edit];
      input.value = Array.isArray(value) ? value.join(", ") : value || "";
    }
    markInferred((doc.extra && doc.extra.inferred) || {});
    $("detail-page-link").href = "fiches/" + encodeURIComponent(doc.doc_id);
    $("published-panel").hidden = role !== "coordination";
  }

  async function showProposal(docId) {
    const result = await request("documents/" + encodeURIComponent(docId) + "/proposal");
    if (!result.ok) return message($("detail-message"), result.data.detail || "Erreur.", "error");
    const proposal = result.data;
    current.title = proposal.title;
    $("detail-title").textContent = proposal.title || docId;
    $("detail-summary").textContent = `${docId} — ${proposal.status}${proposal.replace ? " (mise à jour d'un document publié)" : ""}`;
    const meta = [
      proposal.doc_type, proposal.sector, proposal.territory, proposal.date,
      proposal.submitted_by ? `proposé par ${proposal.submitted_by} le ${formatDate(proposal.submitted_at)}` : "",
    ].filter(Boolean).join(" · ");
    $("review-meta").textContent = meta + (proposal.comment ? ` — Dernier commentaire : « ${proposal.comment} »` : "");
    const duplicates = $("review-duplicates");
    duplicates.replaceChildren();
    duplicates.append(...duplicateGroups(proposal.duplicates, 5));
    $("review-text").textContent = proposal.text || "";
    // fiche_text.js: the extracted text, replaced by the page as it will be published
    document.dispatchEvent(new CustomEvent("passerelles:proposal-opened", { detail: { doc_id: docId } }));
    $("review-comment").value = "";
    const reviewing = role === "coordination";
    for (const id of ["review-publish", "review-changes", "review-reject"]) $(id).hidden = !reviewing;
    $("review-publish").hidden = !reviewing || proposal.status !== "proposé"; // "à revoir" waits for its author
    $("review-changes").hidden = !reviewing || proposal.status !== "proposé";
    $("review-reject").hidden = !reviewing || proposal.status === "rejeté";
    $("review-withdraw").hidden = reviewing;
    $("review-comment").hidden = !reviewing;
    document.querySelector("label[for=review-comment]").hidden = !reviewing;
    $("review-comment-hint").hidden = !reviewing;
    $("review-panel").hidden = false;
  }

  async function showHistory(docId) {
    const list = $("detail-history");
    list.replaceChildren();
    const result = await request("documents/" + encodeURIComponent(docId) + "/history");
    const entries = result.ok ? result.data.entries : [];
    if (!entries.length) {
      list.appendChild(el("li", {}, result.status === 403 ? "Historique réservé à la coordination." : "Aucun événement enregistré."));
      return;
    }
    for (const entry of entries) {
      const details = entry.details || {};
      const extra = [details.commentaire || details.comment, details.raison_doublon && "raison : " + details.raison_doublon, details.fields && "champs : " + details.fields.join(", ")]
        .filter(Boolean).join(" — ");
      // the server's sentence names the fields in French (« titre », « thèmes »…)
      const said = entry.summary ? entry.summary.slice(entry.action.length).replace(/^ : /, "") : extra;
      list.appendChild(el("li", {}, `${formatDate(entry.at)} — ${entry.action} par ${entry.actor}${said ? " — " + said : ""}`));
    }
  }

  function closeDetail() {
    $("document-detail").hidden = true;
    current = null;
  }
  $("detail-close").addEventListener("click", () => {
    const docId = current && current.doc_id;
    closeDetail();
    const opener = docId && document.querySelector(`[data-doc="${CSS.escape(docId)}"]`);
    if (opener) opener.focus();
  });

  async function after(result, success) {
    if (!result.ok) {
      const problems = (result.data.problems || []).map((p) => (p.field ? p.field + " : " : "") + p.message).join(" ; ");
      message($("detail-message"), (result.data.detail || "Erreur.") + (problems ? " " + problems : ""), "error");
      return false;
    }
    const docId = current.doc_id;
    await loadCatalogue();
    if (success) {
      const status = result.data && result.data.status;
      await openDocument(docId, PROPOSAL_STATUSES.includes(status) ? status : "publié");
      message($("detail-message"), success, "ok");
    }
    return true;
  }

  // -- editing a published document --------------------------------------------------------

  $("edit-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {};
    for (const input of document.querySelectorAll("[data-edit]")) {
      const value = input.value.trim();
      if (input.dataset.edit === "themes") body.themes = value.split(",").map((t) => t.trim()).filter(Boolean);
      else if (input.dataset.edit === "publics") { if (value) body.publics = value.split(",").map((t) => t.trim()).filter(Boolean); }
      else if (value) body[input.dataset.edit] = value;
    }
    message($("detail-message"), "Enregistrement en cours…");
    const result = await request("documents/" + encodeURIComponent(current.doc_id), { method: "PATCH", json: body });
    await after(result, "Métadonnées enregistrées : la recherche utilise déjà la nouvelle version.");
  });

  $("file-download").addEventListener("click", async () => {
    const result = await request("documents/" + encodeURIComponent(current.doc_id) + "/file", { raw: true });
    if (!result.ok) return message($("detail-message"), "Le fichier n'a pas pu être téléchargé.", "error");
    const disposition = result.response.headers.get("content-disposition") || "";
    const name = (/filename="?([^";]+)"?/.exec(disposition) || [])[1] || current.doc_id;
    const link = el("a", { href: URL.createObjectURL(await result.response.blob()), download: name });
    document.body.appendChild(link);
    link.click();
    link.remove();
  });

  $("file-replace-send").addEventListener("click", async () => {
    const file = $("file-replace").files[0];
    if (!file) return message($("detail-message"), "Choisissez d'abord le nouveau fichier.", "error");
    const data = new FormData();
    data.append("file", file);
    message($("detail-message"), "Remplacement en cours…");
    const result = await request("documents/" + encodeURIComponent(current.doc_id), { method: "PUT", body: data });
    await after(result, "Fichier remplacé : la recherche utilise déjà la nouvelle version.");
  });

  $("delete-ask").addEventListener("click", () => {
    $("delete-confirm-text").textContent = `Supprimer « ${current.title || current.doc_id} » de la base ? Le document et son fichier seront retirés ; l'historique garde la trace de la suppression.`;
    $("delete-confirm").hidden = false;
    $("delete-no").focus();
  });
  $("delete-no").addEventListener("click", () => {
    $("delete-confirm").hidden = true;
    $("delete-ask").focus();
  });
  $("delete-yes").addEventListener("click", async () => {
    const title = current.title || current.doc_id;
    const result = await request("documents/" + encodeURIComponent(current.doc_id), { method: "DELETE" });
    if (await after(result, null)) {
      closeDetail();
      message($("catalogue-message"), `« ${title} » a été supprimé.`, "ok");
      $("catalogue-message").focus();
    }
  });

  // -- reviewing a proposal ------------------------------------------------------------------

  async function publish(reason) {
    message($("detail-message"), "Publication en cours…");
    const options = { method: "POST" };
    if (reason) options.json = { duplicate_reason: reason };
    const result = await request("documents/" + encodeURIComponent(current.doc_id) + "/publish", options);
    if (result.status === 409 && result.data.conflict === "doublon") {
      message($("detail-message"), result.data.detail, "error");
      const duplicates = $("review-duplicates");
      duplicates.replaceChildren();
      duplicates.append(...duplicateGroups(result.data.duplicates, 5));
      $("review-force-text").textContent = "Une réécriture probable d'un document publié bloque la publication. Vous pouvez rejeter la proposition (le document existant reste), demander à son autrice ou auteur de mettre à jour le document existant, ou publier quand même en donnant une raison.";
      $("review-force").hidden = false;
      $("review-force-reason").focus();
      return;
    }
    await after(result, "Document publié : il est déjà trouvable dans la recherche.");
  }

  $("review-publish").addEventListener("click", () => publish(null));
  $("review-force-publish").addEventListener("click", () => {
    const reason = $("review-force-reason").value.trim();
    if (!reason) {
      message($("detail-message"), "Donnez la raison de publier malgré le doublon.", "error");
      $("review-force-reason").focus();
      return;
    }
    publish(reason);
  });
  $("review-changes").addEventListener("click", async () => {
    const comment = $("review-comment").value.trim();
    if (!comment) {
      message($("detail-message"), "Écrivez un commentaire : il dit quoi modifier.", "error");
      $("review-comment").focus();
      return;
    }
    const result = await request("documents/" + encodeURIComponent(current.doc_id) + "/request-changes", { method: "POST", json: { comment } });
    await after(result, "Demande de modifications envoyée.");
  });
  $("review-reject").addEventListener("click", async () => {
    const comment = $("review-comment").value.trim() || null;
    const result = await request("documents/" + encodeURIComponent(current.doc_id) + "/reject", { method: "POST", json: { comment } });
    await after(result, "Proposition rejetée.");
  });
  $("review-withdraw").addEventListener("click", async () => {
    const result = await request("documents/" + encodeURIComponent(current.doc_id) + "/proposal", { method: "DELETE" });
    if (await after(result, null)) {
      closeDetail();
      message($("catalogue-message"), "Votre proposition a été retirée.", "ok");
    }
  });
})();
