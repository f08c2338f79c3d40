// Two fixes to Sphinx 7.4's search page (searchtools.js), loaded with
// `defer` so that they run after searchtools.js and before the search.
//
// 1. A numbered chapter's title is stored with its number ("1. Entropy"),
//    so when a query matched the title, the chapter was listed twice: once
//    as "1. Entropy" and once as "1. Entropy > Entropy", both linking to the
//    same page. Glossary terms are index entries, and each was listed under
//    the bare page title "Glossary". Here every result that links to a whole
//    page carries that page's title, a result that links into a page names
//    what it points at, and each link is listed once, at its best score.
// 2. The snippet under each result is the text of the page's role="main"
//    element, which in this theme also holds the download menu (".ipynb",
//    ".md", ".pdf"), the page's contents list and the previous/next links.
//    The snippet now comes from the article alone.
(() => {
  // Sphinx 7.4's internals; with another version, search stays as Sphinx made it.
  if (typeof Search === "undefined" || !Search._performSearch || !Search.htmlToText) return;

  const entryAt = new Map();
  const indexEntryAt = (file, id) => {
    if (!entryAt.size) {
      for (const [entry, found] of Object.entries(Search._index.indexentries || {})) {
        for (const [f, i] of found) if (i && !entryAt.has(`${f}#${i}`)) entryAt.set(`${f}#${i}`, entry);
      }
    }
    return entryAt.get(`${file}#${id}`);
  };
  const escape = (text) => {
    const span = document.createElement("span");
    span.textContent = text;
    return span.innerHTML;
  };

  const performSearch = Search._performSearch;
  Search._performSearch = (...args) => {
    const docNames = Search._index.docnames;
    const titles = Search._index.titles;
    // Results arrive in ascending order of score: the best is last.
    const results = performSearch(...args);
    const seen = new Set();
    const kept = [];
    for (const result of results.reverse()) {
      const [docName, title, anchor, descr] = result;
      const link = docName + anchor;
      if (seen.has(link)) continue;
      seen.add(link);
      const file = docNames.indexOf(docName);
      if (!anchor) {
        result[1] = titles[file];
      } else if (!descr && title === titles[file]) {
        const entry = indexEntryAt(file, anchor.slice(1));
        if (entry) result[1] = `${title} &gt; ${escape(entry)}`;
      }
      kept.push(result);
    }
    return kept.reverse();
  };

  const htmlToText = Search.htmlToText;
  Search.htmlToText = (htmlString, anchor) => {
    const page = new DOMParser().parseFromString(htmlString, "text/html");
    const article = page.querySelector("article.bd-article");
    if (!article) return htmlToText(htmlString, anchor);
    page.querySelectorAll('[role="main"]').forEach((e) => e.removeAttribute("role"));
    article.setAttribute("role", "main");
    return htmlToText(page.documentElement.outerHTML, anchor);
  };
})();
