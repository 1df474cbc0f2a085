/* Passerelles, page de la coordination : ajouter un document (aucun script en ligne). */
(() => {
  "use strict";
  const { key, setKey, request, el, duplicateGroups, loadVocabulary, fillOptions } = window.PasserellesCoordination;
  const $ = (id) => document.getElementById(id);

  // Types and sectors come from the API's vocabulary: no hand-kept copy in this page.
  loadVocabulary().then((vocabulary) => {
    if (!vocabulary) return;
    fillOptions($("f-doc_type"), vocabulary.doc_types);
    fillOptions($("u-doc_type"), vocabulary.doc_types);
    fillOptions($("f-sector"), vocabulary.sectors);
    fillOptions($("u-sector"), vocabulary.sectors);
  });
  const keyInput = $("api-key");
  keyInput.value = key();
  keyInput.addEventListener("change", () => setKey(keyInput.value));
  let mode = "fiche";
  let lastSubmission = null; // what the conflict choices re-send

  for (const [tab, panel, name] of [["tab-fiche", "panel-fiche", "fiche"], ["tab-file", "panel-file", "file"]]) {
    $(tab).addEventListener("click", () => {
      mode = name;
      for (const [t, p] of [["tab-fiche", "panel-fiche"], ["tab-file", "panel-file"]]) {
        $(t).setAttribute("aria-selected", String(t === tab));
        $(p).hidden = p !== panel;
      }
    });
  }

  function clearErrors() {
    document.querySelectorAll("#ajouter .field-error").forEach((e) => e.remove());
    document.querySelectorAll("#ajouter [aria-invalid]").forEach((e) => e.removeAttribute("aria-invalid"));
    $("duplicates").replaceChildren();
    $("conflict").hidden = true;
  }

  function showStatus(text, kind) {
    const box = $("status");
    box.hidden = false;
    box.className = kind;
    box.textContent = text;
  }

  function fieldFor(name) {
    if (name.startsWith("sections.")) return document.querySelector(`[data-section="${CSS.escape(name.slice(9))}"]`);
    if (mode === "file") return document.querySelector(`[data-field="${CSS.escape(name)}"]`) || (name === "file" ? $("u-file") : null);
    return $("f-" + name);
  }

  function showProblems(problems) {
    let first = null;
    for (const problem of problems) {
      const message = typeof problem === "string" ? problem : `${problem.message}`;
      const field = typeof problem === "string" || !problem.field ? null : fieldFor(problem.field);
      const p = el("p", { className: "field-error" }, field ? message : `${problem.field ? problem.field + " : " : ""}${message}`);
      if (field) {
        field.setAttribute("aria-invalid", "true");
        p.id = field.id + "-error";
        field.setAttribute("aria-describedby", p.id);
        field.insertAdjacentElement("afterend", p);
        first = first || field;
      } else {
        $("status").appendChild(p);
      }
    }
    if (first) first.focus();
  }

  function showDuplicates(duplicates) {
    const box = $("duplicates");
    box.replaceChildren();
    if (!duplicates || !duplicates.length) return;
    box.append(...duplicateGroups(duplicates, 3));
  }

  function ficheBody() {
    const body = {};
    for (const name of ["id", "title", "doc_type", "sector", "territory", "porteur", "date", "summary"]) {
      const value = $("f-" + name).value.trim();
      if (value) body[name] = value;
    }
    body.themes = $("f-themes").value.split(",").map((t) => t.trim()).filter(Boolean);
    const replaces = $("f-replaces").value.split(",").map((t) => t.trim()).filter(Boolean);
    if (replaces.length) body.replaces = replaces;
    body.sections = {};
    document.querySelectorAll("[data-section]").forEach((area) => {
      if (area.value.trim()) body.sections[area.dataset.section] = area.value;
    });
    return body;
  }

  function fileBody() {
    const data = new FormData();
    data.append("file", $("u-file").files[0]);
    document.querySelectorAll("#panel-file [data-field]").forEach((input) => {
      if (input.value.trim()) data.append(input.dataset.field, input.value.trim());
    });
    return data;
  }

  function submission() {
    if (mode === "fiche") return { json: ficheBody() };
    return { body: fileBody() };
  }

  async function send(dryRun) {
    clearErrors();
    if (mode === "file" && !$("u-file").files.length) {
      showStatus("Choisissez d'abord un fichier.", "error");
      return;
    }
    lastSubmission = submission();
    await deliver("documents" + (dryRun ? "?dry_run=true" : ""), "POST", dryRun);
  }

  async function deliver(path, method, dryRun) {
    showStatus(dryRun ? "Vérification en cours…" : "Enregistrement en cours…", "");
    const result = await request(path, Object.assign({ method }, lastSubmission));
    const data = result.data || {};
    if (result.ok) {
      if (dryRun) {
        showStatus(`La fiche est valide (identifiant « ${data.doc_id} »). Vous pouvez la publier.`, "ok");
      } else if (result.status === 202) {
        showStatus(`Proposition enregistrée : « ${data.title} » sera relue par la coordination avant d'être publiée.`, "ok");
      } else if (data.status === "replaced") {
        showStatus(`Document mis à jour : « ${data.title} » est déjà trouvable dans sa nouvelle version.`, "ok");
      } else {
        showStatus(`Fiche publiée : « ${data.title} » est déjà trouvable dans la recherche.`, "ok");
      }
      showDuplicates(data.duplicates);
      document.dispatchEvent(new CustomEvent("passerelles:catalogue-changed"));
      return;
    }
    showStatus(data.detail || "Erreur.", "error");
    if (Array.isArray(data.problems)) showProblems(data.problems);
    if (result.status === 409) offerChoices(data);
  }

  /* A 409: the id exists (offer to update it) or a strong duplicate blocks publishing (update
     the existing document, or publish anyway with a reason kept in the audit log). */
  function offerChoices(data) {
    const duplicates = data.duplicates || [];
    const existing = data.conflict === "doublon" && duplicates.length ? duplicates[0] : null;
    const targetId = existing ? existing.doc_id : data.doc_id || idOf(lastSubmission);
    if (!targetId) return;
    showDuplicates(duplicates);
    $("conflict").hidden = false;
    $("conflict-text").textContent = existing
      ? `Ce document ressemble fortement à « ${existing.title} » (${existing.doc_id}). Choisissez : mettre à jour ce document avec le vôtre, ou publier quand même en donnant une raison.`
      : `Un document porte déjà l'identifiant « ${targetId} ». Voulez-vous le mettre à jour avec celui-ci ?`;
    $("conflict-update").dataset.target = targetId;
    $("conflict-force").hidden = !existing;
    $("conflict-update").focus();
  }

  function idOf(sent) {
    if (sent && sent.json && sent.json.id) return sent.json.id;
    const match = /«\s*([a-z0-9-]+)\s*»/.exec($("status").textContent);
    return match ? match[1] : null;
  }

  $("conflict-update").addEventListener("click", () => {
    const target = $("conflict-update").dataset.target;
    if (lastSubmission.json) lastSubmission.json.id = target;
    clearErrors();
    deliver("documents/" + encodeURIComponent(target), "PUT", false);
  });
  $("conflict-publish").addEventListener("click", () => {
    const reason = $("conflict-reason").value.trim();
    if (!reason) {
      showStatus("Donnez la raison de publier malgré le doublon.", "error");
      $("conflict-reason").focus();
      return;
    }
    clearErrors();
    deliver("documents?duplicate_reason=" + encodeURIComponent(reason), "POST", false);
  });

  $("check").addEventListener("click", () => send(true));
  $("form").addEventListener("submit", (event) => {
    event.preventDefault();
    send(false);
  });
})();
