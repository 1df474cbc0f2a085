/* Passerelles, page de la coordination : modifier le texte d'un document publié (les sections du
   modèle, ou tout le texte d'un autre document Markdown), voir l'aperçu de sa page, l'enregistrer ;
   et montrer à la relecture la page d'une proposition telle qu'elle sera publiée. */
(() => {
  "use strict";
  const { request, el } = window.PasserellesCoordination;
  const $ = (id) => document.getElementById(id);
  // the template's sections the page always offers (the others when the fiche has them)
  const COMMON = ["contexte", "objectifs", "etapes", "moyens_et_financements", "difficultes", "resultats", "contact"];
  let state = null; // {doc_id, version, form}

  function message(text, kind) {
    const box = $("text-message");
    box.hidden = !text;
    box.className = "message " + (kind || "");
    box.textContent = text || "";
  }

  /* The server's page, sanitised there (nh3): parsed as an inert document, its nodes moved in. */
  function showPage(box, html) {
    const parsed = new DOMParser().parseFromString(html, "text/html");
    box.replaceChildren(...Array.from(parsed.body.childNodes).map((node) => document.importNode(node, true)));
  }

  function area(id, label, value, hint) {
    const wrapper = el("div", { className: "text-field" });
    wrapper.append(el("label", { for: id }, label));
    const textarea = el("textarea", { id, rows: "6", "aria-describedby": hint ? id + "-hint" : undefined });
    textarea.value = value || "";
    wrapper.append(textarea);
    if (hint) wrapper.append(el("p", { className: "hint", id: id + "-hint" }, hint));
    return wrapper;
  }

  async function load(docId) {
    state = null;
    message("");
    $("text-preview-box").hidden = true;
    $("text-current-box").hidden = true;
    const fields = $("text-fields");
    fields.replaceChildren();
    const result = await request("documents/" + encodeURIComponent(docId) + "/text");
    if (!result.ok) {
      const problem = (result.data.problems || [])[0];
      $("text-intro").textContent = (result.data.detail || "Texte indisponible.") + (problem ? " " + problem.message + "." : "");
      $("text-actions").hidden = true;
      return;
    }
    const text = result.data;
    if (text.form === "fichier") {
      $("text-intro").textContent = text.reason;
      $("text-actions").hidden = true;
      return;
    }
    state = { doc_id: docId, version: text.version, form: text.form };
    $("text-actions").hidden = false;
    if (text.form === "modèle") {
      $("text-intro").textContent = "Une fiche du modèle de capitalisation : modifiez ses sections (Markdown : **gras**, listes « - », titres « ### »). Une section laissée vide est retirée. Les métadonnées ne changent pas.";
      fields.append(area("t-summary", "En bref (obligatoire, 40 caractères au moins)", text.summary));
      for (const section of text.sections) {
        if (!section.text && !COMMON.includes(section.key)) continue;
        const node = area("t-section-" + section.key, section.label, section.text);
        node.querySelector("textarea").dataset.section = section.key;
        fields.append(node);
      }
    } else {
      $("text-intro").textContent = "Ce document ne suit pas le modèle de capitalisation : son texte se modifie d'un bloc, en Markdown (titres « ## », listes « - »). Les métadonnées ne changent pas.";
      fields.append(area("t-body", "Texte du document", text.body, "L'en-tête de métadonnées n'apparaît pas ici : modifiez-les dans le formulaire ci-dessus."));
      $("t-body").rows = 18;
    }
  }

  function body() {
    if (state.form !== "modèle") return { body: $("t-body").value };
    const sections = {};
    for (const textarea of document.querySelectorAll("#text-fields textarea[data-section]")) {
      if (textarea.value.trim()) sections[textarea.dataset.section] = textarea.value;
    }
    return { summary: $("t-summary").value, sections };
  }

  function problems(result) {
    const list = (result.data.problems || []).map((p) => (p.field ? fieldName(p.field) + " : " : "") + p.message);
    return (result.data.detail || "Erreur.") + (list.length ? " " + list.join(" ; ") : "");
  }

  function fieldName(field) {
    if (field === "summary") return "En bref";
    if (field === "body") return "Texte";
    const section = field.startsWith("sections.") && document.querySelector(`#text-fields textarea[data-section="${CSS.escape(field.slice(9))}"]`);
    return section ? document.querySelector(`label[for="${section.id}"]`).textContent : field;
  }

  $("text-preview").addEventListener("click", async () => {
    if (!state) return;
    const result = await request("documents/" + encodeURIComponent(state.doc_id) + "/text/preview", { method: "POST", json: body() });
    if (!result.ok) return message(problems(result), "error");
    message("");
    showPage($("text-preview-page"), result.data.html);
    $("text-preview-box").hidden = false;
    $("text-preview-page").focus();
  });

  $("text-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!state) return;
    message("Enregistrement en cours…");
    const docId = state.doc_id;
    const result = await request("documents/" + encodeURIComponent(docId) + "/text", { method: "PUT", json: { version: state.version, ...body() } });
    if (result.status === 409 && result.data.conflict === "version") return conflict(docId, result);
    if (!result.ok) return message(problems(result), "error");
    const proposed = result.data.status === "proposé";
    document.dispatchEvent(new CustomEvent("passerelles:document-saved", {
      detail: {
        doc_id: docId,
        status: proposed ? "proposé" : "publié",
        message: proposed ? "Votre modification est proposée : la coordination la relira." : "Texte enregistré : la page et la recherche utilisent déjà la nouvelle version.",
      },
    }));
  });

  /* Someone saved meanwhile: the text typed stays in the form; the version saved is shown beside
     it, and the next save (a conscious one) replaces that version. */
  async function conflict(docId, result) {
    message(result.data.detail, "error");
    const current = await request("documents/" + encodeURIComponent(docId) + "/text");
    if (!current.ok) return;
    const preview = await request("documents/" + encodeURIComponent(docId) + "/text/preview", {
      method: "POST",
      json: current.data.form === "modèle"
        ? { summary: current.data.summary, sections: Object.fromEntries(current.data.sections.filter((s) => s.text).map((s) => [s.key, s.text])) }
        : { body: current.data.body },
    });
    if (preview.ok) showPage($("text-current-page"), preview.data.html);
    state.version = current.data.version;
    $("text-current-box").hidden = false;
    message("Ce document a été modifié par quelqu'un d'autre depuis que vous l'avez ouvert : rien n'a été enregistré, votre texte est gardé ci-dessus. Ci-dessous, la version enregistrée entre-temps : reportez-y ce qui manque à votre texte, puis enregistrez à nouveau (votre texte la remplacera).", "error");
  }

  document.addEventListener("passerelles:document-opened", (event) => {
    const { doc_id: docId, status, role } = event.detail;
    const editable = role === "coordination" && status === "publié";
    $("text-form").hidden = !editable;
    if (editable) load(docId);
  });

  /* The review panel: the proposal as its page will look (sanitised on the server). */
  document.addEventListener("passerelles:proposal-opened", async (event) => {
    const box = $("review-text");
    const result = await request("documents/" + encodeURIComponent(event.detail.doc_id) + "/proposal/page");
    if (result.ok) showPage(box, result.data.html);
  });
})();
