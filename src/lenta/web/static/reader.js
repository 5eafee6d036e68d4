// The reader's keyboard shortcuts and instant actions. Every page works
// without this script: actions are forms, moving is links.
(function () {
  "use strict";
  var items = Array.prototype.slice.call(document.querySelectorAll("article[data-item]"));
  var current = -1;
  var pendingG = false;

  function select(index) {
    if (!items.length) return;
    current = Math.max(0, Math.min(items.length - 1, index));
    items.forEach(function (el, i) { el.classList.toggle("is-current", i === current); });
    items[current].scrollIntoView({ block: "nearest" });
  }

  function within(selector) {
    var scope = current >= 0 ? items[current] : (items.length === 1 ? items[0] : null);
    return scope ? scope.querySelector(selector) : null;
  }

  function follow(selector) {
    var link = document.querySelector(selector);
    if (link) window.location.href = link.href;
  }

  // Post an action's form without leaving the page; the button shows the new state.
  function act(button) {
    if (!button) return;
    var form = button.form;
    // Urlencoded, as the form itself posts: the server takes no multipart here.
    var data = new URLSearchParams(new FormData(form));
    data.set("action", button.value);
    // getAttribute: the buttons are named "action", which shadows form.action.
    fetch(form.getAttribute("action"), { method: "POST", body: data, headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { form.requestSubmit(button); return; }  // with the button's action, as a click posts
        var article = form.closest("article");
        var flips = { read: "unread", unread: "read", star: "unstar", unstar: "star" };
        if (article && (button.value === "read" || button.value === "unread")) article.classList.toggle("is-read", button.value === "read");
        if (article && (button.value === "star" || button.value === "unstar")) article.classList.toggle("is-starred", button.value === "star");
        button.value = flips[button.value];
        button.textContent = button.getAttribute("data-label-" + button.value) || button.textContent;
      });
  }

  // Read on scroll (a setting): an unread item whose bottom has gone above
  // the top of the window is marked read, once.
  var list = document.querySelector("[data-read-on-scroll]");
  if (list && "IntersectionObserver" in window) {
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        var article = entry.target;
        if (entry.isIntersecting || entry.boundingClientRect.bottom > 0 || article.classList.contains("is-read")) return;
        var button = article.querySelector("button[data-action=m][value=read]");
        if (button) act(button);
        observer.unobserve(article);
      });
    });
    items.forEach(function (article) { observer.observe(article); });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-action]");
    if (button && button.form) {
      event.preventDefault();
      act(button);
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT")) return;
    var key = event.key;
    if (pendingG) {
      pendingG = false;
      if (key === "u") window.location.href = "/reader";
      else if (key === "a") window.location.href = "/reader/all";
      else if (key === "s") window.location.href = "/reader/starred";
      return;
    }
    if (key === "g") { pendingG = true; return; }
    if (key === "j") select(current + 1);
    else if (key === "k") select(current - 1);
    else if (key === "n") follow("a[rel=next]");
    else if (key === "p") follow("a[rel=prev]");
    else if (key === "o" || key === "Enter") { var open = within("a[data-action=o]"); if (open) window.location.href = open.href; else return; }
    else if (key === "m") act(within("button[data-action=m]"));
    else if (key === "s") act(within("button[data-action=s]"));
    else if (key === "v") { var original = within("a[data-action=v]"); if (original) window.open(original.href, "_blank", "noopener"); }
    else if (key === "r") window.location.reload();
    else if (key === "/") { var box = document.getElementById("reader-q"); if (box) box.focus(); else return; }
    else if (key === "?") { var help = document.getElementById("reader-keys"); if (help) help.open = !help.open; else return; }
    else return;
    event.preventDefault();
  });
})();
