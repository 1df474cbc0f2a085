/*! Passerelles : widget de recherche à intégrer sur un site partenaire.
 * Une ligne : <script src="https://…/widget.js" data-api="https://…" async></script>
 * Shadow DOM, aucune dépendance, un seul nom global : window.Passerelles. */
(function () {
  "use strict";

  var script = document.currentScript;
  var existing = window.Passerelles;
  if (existing && existing.mount) {
    if (script) existing.autoMount(script);
    return;
  }

  var COLOURS = ["accent", "accentText", "link", "background", "text", "muted", "border", "highlight", "focus", "radius", "font"];
  var DEBOUNCE_MS = 250;
  var TIMEOUT_MS = 20000;
  var MIN_CHARS = 2;
  var mounted = new WeakSet();
  var counter = 0;

  var T = {
    label: "Rechercher dans Passerelles",
    placeholder: "Une expérience, une méthode, une question…",
    ask: "Poser la question",
    type: "Type",
    sector: "Secteur",
    allTypes: "Tous les types",
    allSectors: "Tous les secteurs",
    hint: "Flèches haut et bas : parcourir les résultats. Entrée : ouvrir (nouvel onglet) ou poser " +
      "la question. Échap : fermer.",
    results: "Résultats",
    resultsFor: "Résultats pour",
    searchInstead: "rechercher plutôt",
    answerFor: "Réponse pour",
    askInstead: "demander plutôt",
    unreachable: "Le service Passerelles est injoignable pour le moment. Vérifiez votre connexion " +
      "ou réessayez dans quelques instants.",
    timeout: "Le service Passerelles ne répond pas. Réessayez dans quelques instants.",
    refused: "La recherche Passerelles n'est pas autorisée sur ce site : son administrateur doit " +
      "demander l'ajout de l'adresse du site à l'équipe Passerelles.",
    answer: "Réponse",
    figures: "Chiffres clés :",
    steps: "Étapes :",
    reach: "Contact :",
    otherVersion: "Autre version :",
    otherVersions: "Autres versions :",
    writing: "Rédaction de la réponse…",
    ready: "Réponse prête.",
    sources: "Sources",
    contacts: "Structures à contacter",
    other: "Dans l'autre secteur",
    bridges: "Voir les deux secteurs côte à côte sur ce sujet",
    nearest: "Les documents les plus proches, à vérifier",
    detail: "Le détail, document par document",
    read: "Lire le document",
    passage: "passage cité",
    close: "Fermer la réponse",
    backToResults: "Revoir les résultats",
    quote: "Extrait",
    empty: "Écrivez d'abord votre question.",
    helpful: "Cette réponse vous a-t-elle aidé ?",
    yes: "Oui",
    no: "Non",
    comment: "Un commentaire (facultatif) : ce qui manquait, ce que vous cherchiez",
    thanks: "Merci pour votre retour.",
    credit: "Propulsé par Passerelles"
  };

  var CSS = [
    ":host{display:block}",
    ".pw{all:initial;display:block;box-sizing:border-box;max-width:100%;text-align:left;",
    "font:15px/1.45 var(--passerelles-font,system-ui,-apple-system,'Segoe UI',Roboto,Ubuntu,Arial,sans-serif);",
    "--a:var(--passerelles-accent,#1d5c8f);--at:var(--passerelles-accent-text,#fff);--t:var(--passerelles-text,#1f2933);--m:var(--passerelles-muted,#52606d);",
    "--b:var(--passerelles-border,#c5ced8);--bg:var(--passerelles-background,#fff);",
    "--l:var(--passerelles-link,var(--passerelles-link-auto,var(--a)));",
    "--f:var(--passerelles-focus,var(--passerelles-focus-auto,var(--a)));--r:var(--passerelles-radius,10px);",
    "color:var(--t);background:var(--bg);border:1px solid var(--b);border-radius:var(--r);padding:14px;",
    "container-type:inline-size}",
    ".pw *,.pw *::before,.pw *::after{box-sizing:border-box}",
    "[hidden]{display:none!important}",
    "label,.lbl{display:block;font-weight:600;font-size:14px;margin:0 0 6px}",
    ".row{display:flex;flex-wrap:wrap;gap:8px}",
    "input,select,button{font:inherit;color:var(--t);margin:0;letter-spacing:normal;text-transform:none}",
    "input{flex:1 1 200px;min-width:0;font-size:16px;padding:9px 11px;border:1px solid var(--b);",
    "border-radius:calc(var(--r) * .6);background:var(--bg)}",
    "input::placeholder{color:var(--m);opacity:1}",
    "button{cursor:pointer;border-radius:calc(var(--r) * .6);padding:9px 14px;border:1px solid var(--a)}",
    ".ask{flex:0 0 auto;background:var(--a);color:var(--at);font-weight:600}",
    ".ask:hover{filter:brightness(1.1)}",
    "@container (max-width:420px){.ask{flex-basis:100%}}",
    ".filters{display:flex;flex-wrap:wrap;gap:8px 12px;margin-top:10px}",
    ".filters label{flex:1 1 140px;margin:0;font-size:13px}",
    "select{display:block;width:100%;margin-top:3px;padding:6px 8px;border:1px solid var(--b);",
    "border-radius:calc(var(--r) * .6);background:var(--bg);font-size:14px;font-weight:400}",
    ":focus{outline:none}",
    ":focus-visible,input:focus,select:focus{outline:3px solid var(--f);outline-offset:2px}",
    ".hint{margin:8px 0 0;font-size:12px;color:var(--m)}",
    ".status{margin:10px 0 0;font-size:14px;color:var(--m)}",
    ".status:empty{display:none}",
    ".status.err{color:#8a1c1c;background:#fdecea;border:1px solid #f3b8b2;border-radius:6px;padding:8px 10px}",
    ".fix{margin:10px 0 0;font-size:14px;overflow-wrap:anywhere}",
    ".fix button{background:none;border:0;padding:0;color:var(--l);text-decoration:underline;",
    "text-underline-offset:2px;font-size:inherit}",
    ".near{margin:10px 0 0;font-weight:600;font-size:14px}",
    ".busy input{background-image:linear-gradient(90deg,var(--a),var(--a));background-repeat:no-repeat;",
    "background-position:0 100%;background-size:40% 3px;animation:pwb 1s linear infinite}",
    "@keyframes pwb{from{background-position:-40% 100%}to{background-position:140% 100%}}",
    "ul,ol{list-style:none;margin:0;padding:0}",
    "[role=listbox]{margin-top:10px}",
    ".opt{padding:10px;border:1px solid transparent;border-top-color:var(--b);cursor:pointer}",
    ".opt:first-child{border-top-color:transparent}",
    ".opt:hover{background:rgba(127,127,127,.08)}",
    ".opt[aria-selected=true]{border:2px solid var(--f);border-radius:6px;padding:9px;",
    "background:rgba(127,127,127,.1)}",
    "a{color:var(--l);text-decoration:underline;text-underline-offset:2px}",
    ".title{font-weight:600;font-size:16px;overflow-wrap:anywhere}",
    ".meta{display:flex;flex-wrap:wrap;gap:4px 8px;align-items:center;margin:4px 0;font-size:12px;color:var(--m)}",
    ".badge{display:inline-block;padding:1px 8px;border-radius:999px;border:1px solid var(--a);",
    "color:var(--l);font-weight:600;background:var(--bg)}",
    ".snip{margin:0;font-size:14px;color:var(--m);overflow-wrap:anywhere}",
    ".versions{margin:2px 0 0;font-size:13px;color:var(--m);overflow-wrap:anywhere}",
    "mark{background:var(--passerelles-highlight,#ffe08a);color:inherit;padding:0 1px;border-radius:2px}",
    ".answer{margin-top:14px;padding-top:12px;border-top:2px solid var(--a)}",
    ".block{margin:10px 0;padding:8px 10px;border-left:3px solid var(--a)}",
    ".block h4{margin:0 0 2px}",
    ".short{margin:10px 0 0;padding:6px 10px;border-left:3px solid var(--a);overflow-wrap:anywhere}",
    ".lead{margin:4px 0 0;font-size:14px;color:var(--m)}",
    ".answer .block{margin:6px 0;padding:0}",
    ".block>details{font-size:inherit;color:var(--t)}",
    ".block>details>summary{padding:7px 10px;overflow-wrap:anywhere}",
    ".block>details>:not(summary){margin-left:10px;margin-right:10px}",
    ".block>details[open]>summary{border-bottom:1px solid var(--b)}",
    ".btitle{font-weight:600;color:var(--l)}",
    ".block summary .where{margin-left:16px}",
    ".sr-only{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}",
    ".cited{display:flex;flex-wrap:wrap;gap:0 12px;font-size:13px}",
    ".cited li{margin:2px 0;display:flex;flex-wrap:wrap;gap:0 8px;align-items:baseline}",
    ".cited details[open]{flex-basis:100%}.cited .num{margin-right:0}",
    ".steps{list-style:decimal}",
    ".figures{margin:2px 0 4px;padding-left:18px}",
    ".ahead{display:flex;flex-wrap:wrap;justify-content:space-between;align-items:center;gap:8px}.ahead h3{flex:1 1 auto}",
    "h3,h4{margin:0;font-weight:700;color:var(--t)}",
    "h3{font-size:17px}h4{font-size:14px;margin:14px 0 4px}",
    ".close{background:var(--bg);color:var(--l);padding:4px 10px;font-size:13px}",
    ".atext{margin:8px 0 0;overflow-wrap:anywhere}",
    "sup{line-height:0}",
    ".cite{font-size:12px;font-weight:700;text-decoration:none;margin-left:2px}",
    ".refs li{margin:6px 0;overflow-wrap:anywhere}",
    ".num{font-weight:700;margin-right:4px}",
    ".where{display:block;font-size:12px;color:var(--m)}",
    "details{font-size:13px;color:var(--m)}summary{cursor:pointer}",
    "blockquote{margin:4px 0 0;padding-left:8px;border-left:3px solid var(--b);white-space:pre-line}",
    ".credit{margin:12px 0 0;font-size:11px;color:var(--m);text-align:right}",
    ".fb{margin:14px 0 0;padding:10px 0 0;border-top:1px solid var(--b)}",
    ".fb textarea{display:block;width:100%;font:inherit;font-size:14px;color:var(--t);background:var(--bg);",
    "padding:6px 8px;margin:0 0 8px;border:1px solid var(--b);border-radius:calc(var(--r) * .6);resize:vertical}",
    ".fb textarea:focus{outline:3px solid var(--f);outline-offset:2px}",
    ".fb button{background:var(--bg);color:var(--l);padding:5px 14px}",
    ".fbdone{margin:6px 0 0;font-size:14px;color:var(--m)}.fbdone:empty{display:none}"
  ].join("");

  // ---- small DOM helpers: every text goes in as a text node, never as HTML ----

  function el(tag, attrs, kids) {
    var node = document.createElement(tag);
    if (attrs) {
      for (var key in attrs) {
        var value = attrs[key];
        if (value === null || value === undefined || value === false) continue;
        if (key === "text") node.textContent = String(value);
        else node.setAttribute(key, value === true ? "" : String(value));
      }
    }
    if (kids) {
      for (var i = 0; i < kids.length; i++) {
        var kid = kids[i];
        if (kid === null || kid === undefined || kid === false) continue;
        node.append(typeof kid === "object" ? kid : String(kid));
      }
    }
    return node;
  }

  function list(value) {
    if (!value) return [];
    var items = Array.isArray(value) ? value : String(value).split(",");
    return items.map(function (v) { return String(v).trim(); }).filter(Boolean);
  }

  function fold(text) {
    return String(text).normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().trim();
  }

  function plural(n, one, many) {
    return n + " " + (n > 1 ? many : one);
  }

  /** The snippet as text nodes and <mark> elements; offsets are code points (from Python). */
  function highlighted(snippet, ranges) {
    var chars = Array.from(String(snippet || ""));
    var out = [];
    var pos = 0;
    var sorted = (Array.isArray(ranges) ? ranges : []).filter(function (r) {
      return Array.isArray(r) && r[1] > r[0];
    }).sort(function (a, b) { return a[0] - b[0]; });
    sorted.forEach(function (r) {
      var start = Math.max(r[0] | 0, pos);
      var end = Math.min(r[1] | 0, chars.length);
      if (end <= start) return;
      if (start > pos) out.push(chars.slice(pos, start).join(""));
      out.push(el("mark", null, [chars.slice(start, end).join("")]));
      pos = end;
    });
    if (pos < chars.length) out.push(chars.slice(pos).join(""));
    return out;
  }

  /** Text where e-mail addresses become mailto: links (built as elements, never parsed as HTML). */
  function withMail(text) {
    var out = [];
    var re = /[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g;
    var last = 0;
    var m;
    text = String(text);
    while ((m = re.exec(text))) {
      if (m.index > last) out.push(text.slice(last, m.index));
      out.push(el("a", { href: "mailto:" + m[0] }, [m[0]]));
      last = m.index + m[0].length;
    }
    if (last < text.length) out.push(text.slice(last));
    return out;
  }

  function clean(text) {
    return String(text || "").replace(/^#+\s*/gm, "").replace(/\*\*/g, "").trim();
  }

  // ---- colours: text on the accent, and in the accent's colour, stays readable (WCAG AA) ----

  /** [r, g, b] of a CSS colour, translucency flattened over white; null for what is not sRGB. */
  function rgbOf(colour) {
    var probe = document.createElement("span");
    probe.style.color = colour;
    probe.style.display = "none";
    document.documentElement.appendChild(probe);
    var computed = getComputedStyle(probe).color;
    probe.remove();
    var parts = /^rgba?\(/.test(computed) ? (computed.match(/[\d.]+/g) || []).map(Number) : [];
    if (parts.length < 3) return null;
    return mix([255, 255, 255], parts.slice(0, 3), parts.length > 3 ? parts[3] : 1);
  }

  function mix(under, over, alpha) {
    return under.map(function (v, i) { return Math.round(over[i] * alpha + v * (1 - alpha)); });
  }

  function luminance(rgb) {
    var c = rgb.map(function (v) { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  }

  function contrast(a, b) {
    var la = luminance(a), lb = luminance(b);
    return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
  }

  function hslOf(rgb) {
    var r = rgb[0] / 255, g = rgb[1] / 255, b = rgb[2] / 255;
    var max = Math.max(r, g, b), min = Math.min(r, g, b), d = max - min, l = (max + min) / 2, h = 0;
    if (d) h = 60 * (max === r ? ((g - b) / d + 6) % 6 : max === g ? (b - r) / d + 2 : (r - g) / d + 4);
    return [h, d ? d / (1 - Math.abs(2 * l - 1)) : 0, l];
  }

  function rgbOfHsl(h, s, l) {
    var c = (1 - Math.abs(2 * l - 1)) * s, x = c * (1 - Math.abs((h / 60) % 2 - 1)), m = l - c / 2;
    var k = Math.floor(h / 60) % 6;
    var rgb = [[c, x, 0], [x, c, 0], [0, c, x], [0, x, c], [x, 0, c], [c, 0, x]][k];
    return rgb.map(function (v) { return Math.round((v + m) * 255); });
  }

  /** The accent if it reaches `ratio` on every surface, else the accent with the same hue made
   * darker (lighter on a dark background) in small steps until it does: a light accent stays
   * the site's colour for borders, and its text takes this "ink". */
  function inkOf(accent, surfaces, ratio) {
    var worst = function (c) { return Math.min.apply(null, surfaces.map(function (s) { return contrast(c, s); })); };
    if (worst(accent) >= ratio) return accent;
    var white = [255, 255, 255], black = [0, 0, 0];
    var step = contrast(black, surfaces[0]) >= contrast(white, surfaces[0]) ? -0.02 : 0.02;
    var hsl = hslOf(accent);
    for (var l = hsl[2] + step; l > 0 && l < 1; l += step) {
      var candidate = rgbOfHsl(hsl[0], hsl[1], l);
      if (worst(candidate) >= ratio) return candidate;
    }
    return step < 0 ? black : white;
  }

  /** Derived colours, set on the host only where the site's own would not read: the button's
   * text (white or near-black), and under the --passerelles-*-auto names (which the site's
   * --passerelles-link and --passerelles-focus override) the ink and the focus ring. */
  function readableColours(host) {
    var style = getComputedStyle(host);
    var read = function (name) { return style.getPropertyValue("--passerelles-" + name).trim(); };
    var accent = rgbOf(read("accent") || "#1d5c8f");
    if (!accent) return;
    var white = [255, 255, 255], dark = [26, 26, 26];
    if (!read("accent-text") && contrast(accent, white) < 4.5) {
      host.style.setProperty("--passerelles-accent-text", contrast(accent, dark) > contrast(accent, white) ? "#1a1a1a" : "#fff");
    }
    var background = rgbOf(read("background") || "#fff");
    if (!background) return;
    // a selected result lies on a slightly greyer background (.opt[aria-selected=true])
    var surfaces = [background, mix(background, [127, 127, 127], 0.1)];
    var ink = inkOf(accent, surfaces, 4.5); // text: WCAG 1.4.3
    var ring = inkOf(accent, surfaces, 3) === accent ? accent : ink; // non-text: WCAG 1.4.11
    var css = function (c) { return "rgb(" + c.join(", ") + ")"; };
    if (ink !== accent) host.style.setProperty("--passerelles-link-auto", css(ink));
    if (ring !== accent) host.style.setProperty("--passerelles-focus-auto", css(ring));
  }

  // ---- options: data-* of the script tag, then of the container ----

  function readOptions(node, into) {
    var d = (node && node.dataset) || {};
    ["api", "placeholder", "label", "type", "sector", "fromSector", "departement", "region", "k", "target"].concat(COLOURS).forEach(function (key) {
      if (d[key] !== undefined && d[key] !== "") into[key] = d[key];
    });
    return into;
  }

  function autoMount(scriptNode) {
    var options = readOptions(scriptNode, {});
    if (!options.api && scriptNode.src) options.api = new URL(scriptNode.src, location.href).origin;
    var find = function () {
      var target = document.querySelector(options.target || "#passerelles");
      if (!target && document.readyState === "loading") return false;
      if (!target) {
        target = document.createElement("div");
        scriptNode.parentNode.insertBefore(target, scriptNode);
      }
      mount(target, readOptions(target, Object.assign({}, options)));
      return true;
    };
    if (!find()) document.addEventListener("DOMContentLoaded", find, { once: true });
  }

  // ---- the widget ----

  function mount(host, options) {
    options = options || {};
    if (!host || mounted.has(host)) return null;
    if (!options.api) throw new Error("Passerelles : l'adresse de l'API (data-api) est obligatoire.");
    mounted.add(host);
    var api = String(options.api).replace(/\/+$/, "");
    var k = Math.min(50, Math.max(1, parseInt(options.k, 10) || 6));
    var id = "pw" + (++counter) + "-";
    COLOURS.forEach(function (name) {
      var property = "--passerelles-" + name.replace(/[A-Z]/g, function (c) { return "-" + c.toLowerCase(); });
      if (options[name]) host.style.setProperty(property, String(options[name]));
    });
    readableColours(host);

    var root = host.attachShadow({ mode: "open" });
    try { // a constructed style sheet also works under a strict Content-Security-Policy
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } catch (e) {
      root.append(el("style", null, [CSS]));
    }

    var input = el("input", {
      id: id + "q", type: "text", role: "combobox", "aria-autocomplete": "list", "aria-expanded": "false",
      "aria-controls": id + "list", "aria-describedby": id + "hint", autocomplete: "off", spellcheck: "false",
      enterkeyhint: "search", maxlength: "1000", placeholder: options.placeholder || T.placeholder
    });
    var askButton = el("button", { type: "button", class: "ask" }, [T.ask]);
    // The lists come from the API's vocabulary (GET /vocabulary), filled in once it answers.
    var typeSelect = filterSelect(id + "type", T.allTypes, list(options.type));
    var sectorSelect = filterSelect(id + "sector", T.allSectors, list(options.sector));
    var status = el("p", { class: "status", role: "status", "aria-live": "polite" });
    var listbox = el("ul", { id: id + "list", role: "listbox", "aria-label": T.results, hidden: true });
    // "Résultats pour « correction » — rechercher plutôt « as typed »", and the heading of a list
    // of the nearest documents when none answers surely (GET /search: corrected_query, confident)
    var fix = el("p", { class: "fix", hidden: true });
    var near = el("p", { class: "near", id: id + "near", hidden: true }, [T.nearest]);
    var answer = el("section", { class: "answer", "aria-labelledby": id + "ah", hidden: true });
    var form = el("form", { role: "search", "aria-label": "Passerelles", novalidate: true }, [
      el("label", { for: id + "q" }, [options.label || T.label]),
      el("div", { class: "row" }, [input, askButton]),
      el("div", { class: "filters" }, [
        el("label", null, [T.type, typeSelect]),
        el("label", null, [T.sector, sectorSelect])
      ]),
      el("p", { id: id + "hint", class: "hint" }, [T.hint])
    ]);
    var box = el("div", { class: "pw", part: "widget" }, [form, status, fix, near, listbox, answer,
      el("p", { class: "credit" }, [T.credit])]);
    root.append(box);

    var results = [];
    var confident = true; // whether the listed documents answer the query, or are the nearest ones
    var exactQuery = null; // a query to search as typed, without spelling correction
    var askExact = null; // a question to ask as typed, without spelling correction
    var active = -1;
    var timer = 0;
    var seq = 0;
    var inflight = null;
    var askSeq = 0;
    var askInflight = null;

    function filterSelect(selectId, allLabel, defaults) {
      var select = el("select", { id: selectId }, [el("option", { value: "" }, [allLabel])]);
      if (defaults.length) {
        var wanted = defaults.join(",");
        select.append(el("option", { value: wanted }, [defaults.join(", ")]));
        select.value = wanted;
      }
      return select;
    }

    /** Adds the vocabulary's values; a default written differently takes the canonical spelling. */
    function addOptions(select, values) {
      var existing = {};
      Array.prototype.forEach.call(select.options, function (o) { if (o.value) existing[fold(o.value)] = o; });
      values.forEach(function (v) {
        var option = existing[fold(v)];
        if (option) {
          var selected = option.selected;
          option.value = v;
          option.textContent = v;
          option.selected = selected;
        } else {
          select.append(el("option", { value: v }, [v]));
        }
      });
    }

    function filters() {
      // data-departement / data-region scope every search and answer (names or codes, commas)
      return {
        type: list(typeSelect.value), sector: list(sectorSelect.value),
        departement: list(options.departement || ""), region: list(options.region || "")
      };
    }

    function docHref(item) {
      if (item.url) {
        try {
          var u = new URL(String(item.url), api + "/");
          if (u.protocol === "http:" || u.protocol === "https:") return u.href;
        } catch (e) { /* fall back to the API's document */ }
      }
      return api + "/fiches/" + encodeURIComponent(String(item.doc_id || ""));
    }

    function docLink(item, cls) {
      return el("a", { class: cls || null, href: docHref(item), target: "_blank", rel: "noopener noreferrer" },
        [item.title || item.doc_id || "Document"]);
    }

    /** "Autre version : titre (date)", each linked: the versions of one document come as one
     *  result, its most recent version, which names the others. ``inList``: inside the results'
     *  listbox, whose links stay out of the tab order like the title's. */
    function versionsLine(versions, inList) {
      if (!Array.isArray(versions) || !versions.length) return null;
      var kids = [(versions.length > 1 ? T.otherVersions : T.otherVersion) + " "];
      versions.forEach(function (v, i) {
        var link = docLink(v);
        if (inList) link.setAttribute("tabindex", "-1");
        kids.push(link);
        if (v.date) kids.push(" (" + v.date + ")");
        if (i < versions.length - 1) kids.push(", ");
      });
      return el("p", { class: "versions" }, kids);
    }

    /** Server-sent events of a streamed response: ``onEvent(name, data)`` for each one. */
    function readEvents(response, onEvent) {
      var reader = response.body.getReader();
      var decoder = new TextDecoder();
      var buffer = "";
      function dispatch(chunk) {
        var name = "message";
        var data = [];
        chunk.split(/\r?\n/).forEach(function (line) {
          if (line.indexOf("event:") === 0) name = line.slice(6).trim();
          else if (line.indexOf("data:") === 0) data.push(line.slice(5).replace(/^ /, ""));
        });
        if (!data.length) return;
        var parsed = null;
        try { parsed = JSON.parse(data.join("\n")); } catch (e) { return; }
        onEvent(name, parsed);
      }
      function pump() {
        return reader.read().then(function (part) {
          if (part.done) {
            if (buffer.trim()) dispatch(buffer);
            return true;
          }
          buffer += decoder.decode(part.value, { stream: true });
          var chunks = buffer.split(/\r?\n\r?\n/);
          buffer = chunks.pop();
          chunks.forEach(dispatch);
          return pump();
        });
      }
      return pump();
    }

    /** fetch + JSON (or server-sent events when ``onEvent`` is given); errors carry a French message. */
    function call(path, init, track, onEvent) {
      var controller = new AbortController();
      var timedOut = false;
      var clock = setTimeout(function () { timedOut = true; controller.abort(); }, TIMEOUT_MS);
      track(controller);
      var request = Object.assign({ mode: "cors", credentials: "omit", signal: controller.signal }, init);
      // the channel header tells the question log that the question came from the widget
      request.headers = Object.assign({ Accept: "application/json", "X-Passerelles-Canal": "widget" }, init.headers || {});
      return fetch(api + path, request).then(function (response) {
        if (onEvent && response.ok && response.body) {
          clearTimeout(clock); // the server bounds the stream (each piece of text within its own time-out)
          return readEvents(response, onEvent);
        }
        return response.json().catch(function () { return null; }).then(function (body) {
          if (response.ok && body) return body;
          var message = body && typeof body.detail === "string" ? body.detail
            : "Le service Passerelles a répondu par une erreur (" + response.status + "). Réessayez plus tard.";
          if (body && Array.isArray(body.problems) && body.problems.length) {
            message += " " + body.problems.map(function (p) { return p.message; }).join(" ; ");
          }
          throw { french: message };
        });
      }, function (error) {
        if (error && error.name === "AbortError" && !timedOut) throw error;
        if (timedOut) throw { french: T.timeout };
        // The API may be up but refuse this site (CORS): an opaque request tells the two apart.
        return fetch(api + "/widget.js", { mode: "no-cors", credentials: "omit", cache: "no-store" })
          .then(function () {
            if (window.console) {
              console.warn("Passerelles : l'origine " + location.origin + " n'est pas autorisée par " +
                api + " (KB_ALLOWED_ORIGINS).");
            }
            return T.refused;
          }, function () { return T.unreachable; })
          .then(function (message) { throw { french: message }; });
      }).finally(function () { clearTimeout(clock); });
    }

    function say(text, isError) {
      status.textContent = text || "";
      status.classList.toggle("err", !!isError);
    }

    function setExpanded(open) {
      listbox.hidden = !open;
      near.hidden = !open || confident;
      input.setAttribute("aria-expanded", open ? "true" : "false");
      if (!open) setActive(-1);
    }

    function setActive(index) {
      active = index;
      Array.prototype.forEach.call(listbox.children, function (option, i) {
        option.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      if (index >= 0 && listbox.children[index]) {
        input.setAttribute("aria-activedescendant", listbox.children[index].id);
        listbox.children[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function clearResults() {
      results = [];
      listbox.textContent = "";
      fix.hidden = true;
      setExpanded(false);
    }

    function search() {
      clearTimeout(timer);
      if (inflight) inflight.abort();
      var query = input.value.trim();
      var mine = ++seq;
      if (query.length < MIN_CHARS) {
        box.classList.remove("busy");
        clearResults();
        say("");
        return;
      }
      var params = new URLSearchParams({ q: query, k: String(k) });
      if (exactQuery === query) params.set("spelling", "false");
      else exactQuery = null;
      var f = filters();
      f.type.forEach(function (v) { params.append("type", v); });
      f.sector.forEach(function (v) { params.append("sector", v); });
      f.departement.forEach(function (v) { params.append("departement", v); });
      f.region.forEach(function (v) { params.append("region", v); });
      box.classList.add("busy");
      call("/search?" + params.toString(), {}, function (c) { inflight = c; }).then(function (body) {
        if (mine !== seq) return; // a newer query was typed meanwhile: this answer is stale
        box.classList.remove("busy");
        showResults(query, Array.isArray(body.results) ? body.results : [], body);
      }, function (error) {
        if (mine !== seq || !error.french) return;
        box.classList.remove("busy");
        clearResults();
        say(error.french, true);
      });
    }

    /** "Résultats pour « corrected » — rechercher plutôt « typed »": the button searches the
     *  query exactly as typed. */
    function showCorrection(query, corrected) {
      fix.textContent = "";
      fix.hidden = !corrected;
      if (!corrected) return;
      var instead = el("button", { type: "button" }, ["« " + query + " »"]);
      instead.addEventListener("click", function () {
        exactQuery = query;
        input.value = query;
        search();
        input.focus();
      });
      fix.append(T.resultsFor + " « ", el("strong", null, [corrected]), " » — " + T.searchInstead + " ", instead);
    }

    function showResults(query, items, body) {
      results = items;
      listbox.textContent = "";
      confident = !body || body.confident !== false;
      listbox.setAttribute("aria-label", confident ? T.results : T.nearest);
      showCorrection(query, items.length && body && typeof body.corrected_query === "string" ? body.corrected_query : null);
      if (!items.length) {
        setExpanded(false);
        var filtered = typeSelect.value || sectorSelect.value;
        say("Aucun document ne correspond à « " + query + " ». Essayez d'autres mots" +
          (filtered ? " ou retirez un filtre." : "."), false);
        return;
      }
      items.forEach(function (item, i) {
        var passage = (item.passages || [])[0] || {};
        var option = el("li", { id: id + "o" + i, class: "opt", role: "option", "aria-selected": "false" }, [
          docLink(item, "title"),
          el("div", { class: "meta" }, [
            el("span", { class: "badge" }, [item.doc_type || "document"]),
            item.sector ? el("span", null, [item.sector]) : null
          ]),
          passage.snippet ? el("p", { class: "snip" }, highlighted(passage.snippet, passage.highlights)) : null,
          versionsLine(item.other_versions, true)
        ]);
        option.firstChild.setAttribute("tabindex", "-1");
        option.addEventListener("mousedown", function (event) { event.preventDefault(); });
        option.addEventListener("click", function (event) {
          setActive(i);
          if (event.target.closest && !event.target.closest("a")) option.querySelector("a").click();
        });
        listbox.append(option);
      });
      say(confident ? plural(items.length, "document trouvé.", "documents trouvés.")
        : plural(items.length, "document proche, à vérifier.", "documents proches, à vérifier."), false);
      setExpanded(true);
    }

    function schedule() {
      clearTimeout(timer);
      timer = setTimeout(search, DEBOUNCE_MS);
    }

    // ---- "Poser la question" ----

    /** The section without the document title it starts with ("Titre > Étapes" -> "Étapes"). */
    function part(section, title) {
      section = String(section || "");
      if (title && section.indexOf(title) === 0) section = section.slice(title.length).replace(/^\s*>\s*/, "");
      return section;
    }

    function heading(text) { return el("h4", null, [text]); }

    function answerText(text, byNumber) {
      var out = [];
      String(text || "").split(/(\[\d+\]|\*\*[^*]+\*\*)/).forEach(function (part) {
        if (!part) return;
        var marker = /^\[(\d+)\]$/.exec(part);
        if (marker && byNumber[marker[1]]) {
          var source = byNumber[marker[1]];
          out.push(el("sup", null, [el("a", {
            class: "cite", href: docHref(source), target: "_blank", rel: "noopener noreferrer",
            "data-n": marker[1], "aria-label": "source " + marker[1] + " : " + (source.title || ""),
            title: source.title || ""
          }, [part])]));
        } else if (/^\*\*[^*]+\*\*$/.test(part)) {
          out.push(el("strong", null, [part.slice(2, -2)]));
        } else {
          out.push(part);
        }
      });
      return out;
    }

    function docList(items) {
      return el("ul", { class: "refs" }, items.map(function (item) {
        return el("li", null, [docLink(item), el("span", { class: "where" }, [
          [item.doc_type, item.sector].filter(Boolean).join(" · ")])]);
      }));
    }

    /** Cited sentences ([{text, n}]) as one paragraph, each followed by its [n]. */
    function citedText(sentences, byNumber, cls) {
      var said = [];
      (Array.isArray(sentences) ? sentences : []).forEach(function (s) {
        if (said.length) said.push(" ");
        said = said.concat(answerText(s.text + " [" + s.n + "]", byNumber));
      });
      return el("p", { class: cls }, said);
    }

    /** One source of the digest, folded under its title and facts (a native details/summary,
     *  closed: Enter or Space opens it): its sentences each with its [n], its key figures, how
     *  to reach its porteur and a link to the document. */
    function sourceBlock(b, byNumber, first) {
      var facts = [b.doc_type, b.territory, b.porteur, b.year].filter(Boolean).join(" · ");
      var read = docLink(b);
      read.textContent = T.read;
      read.append(el("span", { class: "sr-only" }, [" « " + (b.title || "") + " »"]));
      var children = [el("summary", null, [el("span", { class: "btitle" }, [b.title || b.doc_id || "Document"]),
        facts ? el("span", { class: "where" }, [facts]) : null]), citedText(b.sentences, byNumber, "atext")];
      var steps = Array.isArray(b.steps) ? b.steps : [];
      if (steps.length) {
        children.push(el("p", { class: "where" }, [T.steps]), el("ol", { class: "figures steps" }, steps.map(function (s) {
          return el("li", null, answerText(s.text + " [" + s.n + "]", byNumber));
        })));
      }
      var figures = Array.isArray(b.figures) ? b.figures : [];
      if (figures.length) {
        children.push(el("p", { class: "where" }, [T.figures]), el("ul", { class: "figures" }, figures.map(function (f) {
          return el("li", null, answerText(f.text + " [" + f.n + "]", byNumber));
        })));
      }
      children.push(versionsLine(b.other_versions, false));
      if (b.contact && b.contact.contact) {
        children.push(el("p", { class: "where" }, [T.reach + " " + (b.contact.name || "") + " — "].concat(withMail(b.contact.contact))));
      }
      children.push(el("p", { class: "where" }, [read]));
      // closed, but for a first block with a method's steps: they answer a "how" question
      return el("article", { class: "block" }, [el("details", { open: !!(first && steps.length) }, children)]);
    }

    /** The sources, one entry per document (its title linked), its citations listed within
     *  it: [n], the section (linked to the passage) and the passage itself, folded. */
    function sourceList(citations) {
      var docs = [];
      var byDoc = {};
      citations.forEach(function (c) {
        var key = "d:" + String(c.doc_id || c.url || c.n);
        if (!byDoc[key]) docs.push(byDoc[key] = { doc_id: c.doc_id, title: c.title, url: String(c.url || "").split("#")[0], cited: [] });
        byDoc[key].cited.push(c);
      });
      return el("ul", { class: "refs sources" }, docs.map(function (d) {
        return el("li", { "data-doc": d.doc_id }, [docLink(d), el("ul", { class: "cited" }, d.cited.map(function (c) {
          var where = [part(c.section, c.title), c.page ? "p. " + c.page : null].filter(Boolean).join(" · ");
          var quote = clean(c.quote);
          return el("li", { "data-n": c.n }, [
            el("a", { href: docHref(c), target: "_blank", rel: "noopener noreferrer" },
              [el("span", { class: "num" }, ["[" + c.n + "]"]), " " + (where || T.passage)]),
            quote ? el("details", null, [el("summary", null, [T.quote]),
              el("blockquote", null, [quote.length > 600 ? quote.slice(0, 600) + "…" : quote])]) : null
          ]);
        }))]);
      }));
    }

    /** "Cette réponse vous a-t-elle aidé ?" under an answer: Oui / Non and an optional comment. */
    function feedbackBox(question, citations) {
      var done = el("p", { class: "fbdone", "aria-live": "polite" }, []);
      var comment = el("textarea", { id: id + "fbc", maxlength: "1000", rows: "2" }, []);
      var buttons = [T.yes, T.no].map(function (label) {
        return el("button", { type: "button" }, [label]);
      });
      var group = el("div", { role: "group", "aria-labelledby": id + "fbq" }, [
        el("p", { id: id + "fbq", class: "lbl" }, [T.helpful]),
        el("label", { for: id + "fbc" }, [T.comment]), comment,
        el("div", { class: "row" }, buttons)
      ]);
      var docIds = [];
      citations.forEach(function (c) { if (c.doc_id && docIds.indexOf(c.doc_id) < 0) docIds.push(c.doc_id); });
      buttons.forEach(function (button, index) {
        button.addEventListener("click", function () {
          buttons.forEach(function (b) { b.disabled = true; });
          call("/feedback", {
            method: "POST", headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ question: question, useful: index === 0, comment: comment.value.trim() || null,
              doc_ids: docIds.slice(0, 10) })
          }, function () {}).then(function () {
            group.hidden = true;
            done.textContent = T.thanks;
          }, function (error) {
            buttons.forEach(function (b) { b.disabled = false; });
            done.textContent = error && error.french ? error.french : "";
          });
        });
      });
      return el("div", { class: "fb" }, [group, done]);
    }

    function renderAnswer(body, question) {
      var citations = Array.isArray(body.citations) ? body.citations : [];
      var byNumber = {};
      citations.forEach(function (c) { byNumber[c.n] = c; });
      var title = el("h3", { id: id + "ah", tabindex: "-1" }, [T.answer]);
      var close = el("button", { type: "button", class: "close" }, [T.close]);
      close.addEventListener("click", closeAnswer);
      var head = [title];
      if (listbox.children.length) { // the results stay one click (or the down arrow) away
        var back = el("button", { type: "button", class: "close back" }, [T.backToResults]);
        back.addEventListener("click", function () { setExpanded(true); input.focus(); });
        head.push(back);
      }
      head.push(close);
      var blocks = Array.isArray(body.sources) ? body.sources : [];
      var summary = Array.isArray(body.summary) ? body.summary : [];
      var nearest = Array.isArray(body.nearest) ? body.nearest : [];
      var parts = [el("div", { class: "ahead" }, head)];
      if (typeof body.corrected_query === "string" && body.corrected_query) {
        // the question was asked with its misspelt words corrected: the way back to it as typed
        var asTyped = el("button", { type: "button" }, ["« " + question + " »"]);
        asTyped.addEventListener("click", function () { askExact = question; input.value = question; ask(); });
        parts.push(el("p", { class: "fix" }, [T.answerFor + " « ", el("strong", null, [body.corrected_query]),
          " » — " + T.askInstead + " ", asTyped]));
      }
      if (blocks.length) {
        // the short answer first: a written answer (mode "llm") whole, else the digest's two or
        // three sentences; then the blocks, folded, under what was found (the digest's first line)
        var lead = String(body.answer || "").split("\n\n")[0];
        if (body.mode === "llm") parts.push(el("p", { class: "atext short" }, answerText(body.answer, byNumber)));
        else if (summary.length) parts.push(citedText(summary, byNumber, "atext short"));
        else parts.push(el("p", { class: "atext" }, answerText(lead, byNumber)));
        parts.push(heading(T.detail));
        if (body.mode !== "llm" && summary.length) parts.push(el("p", { class: "lead" }, [lead]));
        blocks.forEach(function (b, i) { parts.push(sourceBlock(b, byNumber, i === 0)); });
      } else {
        // "nothing found": the sentence, the nearest documents listed below rather than in it
        var said = String(body.answer || "");
        if (!body.found && nearest.length) said = said.split(" Documents les plus proches, à vérifier :")[0];
        parts.push(el("p", { class: "atext" }, answerText(said, byNumber)));
      }
      if (citations.length) parts.push(heading(T.sources), sourceList(citations));
      var contacts = Array.isArray(body.contacts) ? body.contacts : [];
      if (contacts.length) {
        parts.push(heading(T.contacts), el("ul", { class: "refs contacts" }, contacts.map(function (c) {
          return el("li", null, [
            c.doc_id ? docLink({ doc_id: c.doc_id, title: c.name }) : el("strong", null, [c.name || ""]),
            c.territory ? el("span", { class: "where" }, [c.territory]) : null,
            c.contact ? el("span", { class: "where" }, withMail(c.contact)) : null,
            c.reason ? el("span", { class: "where" }, [c.reason]) : null
          ]);
        })));
      }
      var other = Array.isArray(body.other_sector) ? body.other_sector : [];
      if (other.length) parts.push(heading(T.other), docList(other));
      // the same subject seen from both sectors, side by side on the site (/passerelles)
      if (body.found && body.passerelles_url) {
        var bridge = docHref({ url: body.passerelles_url });
        if (bridge.indexOf("/passerelles?") !== -1) {
          parts.push(el("p", { class: "bridge" }, [el("a", { href: bridge, target: "_blank", rel: "noopener noreferrer" }, [T.bridges])]));
        }
      }
      if (!body.found && nearest.length) {
        var closest = docList(nearest);
        closest.classList.add("nearest");
        parts.push(heading(T.nearest), closest);
      }
      if (question) parts.push(feedbackBox(question, citations));
      answer.textContent = "";
      parts.forEach(function (p) { answer.append(p); });
      answer.hidden = false;
      answer.removeAttribute("aria-busy");
      say(T.ready, false);
      // the answer's top (its short answer) in view: a tall answer is scrolled to its top
      title.focus({ preventScroll: true });
      answer.scrollIntoView({ block: "nearest" });
    }

    function ask() {
      var question = input.value.trim();
      if (!question) {
        say(T.empty, true);
        input.focus();
        return;
      }
      clearTimeout(timer); // a pending search would reopen the results over the answer
      if (inflight) inflight.abort();
      seq++;
      box.classList.remove("busy");
      setExpanded(false);
      if (askInflight) askInflight.abort();
      var mine = ++askSeq;
      var payload = { question: question };
      if (askExact === question) payload.spelling = false;
      // the partner's sector: "Dans l'autre secteur" lists what the other one does
      if (options.fromSector === "action sociale" || options.fromSector === "développement local") {
        payload.from_sector = options.fromSector;
      }
      askExact = null;
      var f = filters();
      if (f.type.length || f.sector.length || f.departement.length || f.region.length) {
        payload.filters = {};
        if (f.type.length) payload.filters.type = f.type;
        if (f.sector.length) payload.filters.sector = f.sector;
        if (f.departement.length) payload.filters.departement = f.departement;
        if (f.region.length) payload.filters.region = f.region;
      }
      answer.textContent = "";
      answer.append(el("p", { class: "atext" }, [T.writing]));
      answer.setAttribute("aria-busy", "true");
      answer.hidden = false;
      say(T.writing, false);
      var live = null; // the text as the language model writes it, when one is configured
      call("/ask/stream", {
        method: "POST", headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
        body: JSON.stringify(payload)
      }, function (c) { askInflight = c; }, function (name, data) {
        if (mine !== askSeq) return;
        if (name === "delta" && data && typeof data.text === "string") {
          if (!live) {
            live = el("p", { class: "atext live" }, []);
            answer.textContent = "";
            answer.append(live);
          }
          live.append(data.text);
        } else if (name === "answer" && data) {
          renderAnswer(data, question);
        }
      }).then(null, function (error) {
        if (mine !== askSeq || !error.french) return;
        answer.hidden = true;
        answer.removeAttribute("aria-busy");
        say(error.french, true);
      });
    }

    function closeAnswer() {
      if (askInflight) askInflight.abort();
      askSeq++;
      answer.hidden = true;
      answer.textContent = "";
      say("");
      input.focus();
    }

    // ---- events ----

    input.addEventListener("input", schedule);
    typeSelect.addEventListener("change", search);
    sectorSelect.addEventListener("change", search);
    askButton.addEventListener("click", ask);
    form.addEventListener("submit", function (event) { event.preventDefault(); });

    input.addEventListener("keydown", function (event) {
      if (event.isComposing) return;
      var count = listbox.children.length;
      switch (event.key) {
        case "ArrowDown":
        case "ArrowUp":
          if (!count) return;
          event.preventDefault();
          if (listbox.hidden) setExpanded(true);
          if (event.key === "ArrowDown") setActive(active + 1 >= count ? 0 : active + 1);
          else setActive(active <= 0 ? count - 1 : active - 1);
          break;
        case "Enter":
          event.preventDefault();
          if (!listbox.hidden && active >= 0) listbox.children[active].querySelector("a").click();
          else ask();
          break;
        case "Escape":
          if (!listbox.hidden) {
            event.preventDefault();
            setExpanded(false);
          } else if (input.value) {
            event.preventDefault();
            input.value = "";
            search();
          }
          break;
        default:
      }
    });

    answer.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        event.preventDefault();
        closeAnswer();
      }
    });

    call("/vocabulary", { method: "GET" }, function () {}).then(function (vocabulary) {
      addOptions(typeSelect, vocabulary.doc_types || []);
      addOptions(sectorSelect, vocabulary.sectors || []);
    }, function () { /* without the lists, searching still works */ });

    return {
      search: function (text) { input.value = text; search(); },
      ask: function (text) { if (text !== undefined) input.value = text; ask(); },
      focus: function () { input.focus(); }
    };
  }

  window.Passerelles = { mount: mount, autoMount: autoMount, version: "1.0" };
  if (script) autoMount(script);
})();
