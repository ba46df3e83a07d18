// The idle-timeout warning (accounts.sessions): a while before the session would end for lack of
// activity, a dialog says so and offers "Stay logged in" (a POST that counts as activity) and
// "Log out". The server is the clock: before warning, while warning and before leaving, the page
// asks it how long is left — the person may have been active in another tab since. A session
// that has ended is left for the login page, which says why and comes back here afterwards.
//
// <body data-session-status-url …> carries the numbers at page load; no data, no warning (not
// logged in). The dialog is accounts/templates/accounts/_session_warning.html.
(() => {
  const body = document.body;
  const statusUrl = body.dataset.sessionStatusUrl;
  const dialog = document.getElementById("session-warning");
  if (!statusUrl || !dialog) return;
  const keepAliveUrl = body.dataset.sessionKeepAliveUrl;
  const loginUrl = body.dataset.sessionLoginUrl;
  const countdown = dialog.querySelector("[data-session-countdown]");
  const stayButton = dialog.querySelector("[data-session-stay]");
  const logoutButton = dialog.querySelector("[data-session-logout]");
  // While the warning is open, ask again this often: "stay" clicked in another tab closes it here.
  const RECHECK_SECONDS = 10;
  let timer = null;
  let ticker = null;
  let endsAt = 0;

  function csrfToken() {
    // The token htmx sends too (hx-headers on <body>).
    try {
      return JSON.parse(body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (error) {
      return "";
    }
  }

  function schedule(seconds) {
    clearTimeout(timer);
    timer = setTimeout(check, Math.max(0, seconds) * 1000);
  }

  function leave() {
    const here = window.location.pathname + window.location.search;
    window.location.assign(`${loginUrl}?next=${encodeURIComponent(here)}`);
  }

  function showCountdown() {
    const left = Math.max(0, Math.round((endsAt - Date.now()) / 1000));
    const minutes = Math.floor(left / 60);
    const seconds = String(left % 60).padStart(2, "0");
    countdown.textContent = `${minutes}:${seconds}`;
  }

  function warn(remaining, lifetimeEnds) {
    endsAt = Date.now() + remaining * 1000;
    // At the absolute lifetime staying is not possible: the dialog says so and offers no button.
    for (const reason of dialog.querySelectorAll("[data-session-reason]")) {
      reason.hidden = reason.dataset.sessionReason !== (lifetimeEnds ? "max" : "idle");
    }
    stayButton.hidden = lifetimeEnds;
    showCountdown();
    clearInterval(ticker);
    ticker = setInterval(showCountdown, 1000);
    if (!dialog.open) {
      dialog.showModal();
      (lifetimeEnds ? logoutButton : stayButton).focus();
    }
  }

  function calmDown() {
    clearInterval(ticker);
    if (dialog.open) dialog.close();
  }

  // What the server said: wait, warn, or ask again at the end.
  function plan(status) {
    const lifetimeEnds = status.max_remaining <= status.idle_remaining;
    const remaining = Math.min(status.idle_remaining, status.max_remaining);
    if (remaining > status.warning) {
      calmDown();
      schedule(remaining - status.warning);
      return;
    }
    warn(remaining, lifetimeEnds);
    // At zero the server has not necessarily ended it yet (whole seconds): ask once more.
    schedule(remaining > 0 ? Math.min(remaining, RECHECK_SECONDS) : 1);
  }

  async function ask(url, options) {
    let response;
    try {
      response = await fetch(url, {
        credentials: "same-origin",
        cache: "no-store",
        ...options,
        headers: { Accept: "application/json", ...(options.headers || {}) },
      });
    } catch (error) {
      schedule(RECHECK_SECONDS); // the network: try again shortly
      return;
    }
    if (response.status === 401) {
      leave(); // ended: the login page says why
      return;
    }
    if (!response.ok) {
      schedule(RECHECK_SECONDS);
      return;
    }
    plan(await response.json());
  }

  function check() {
    ask(statusUrl, { method: "GET" });
  }

  function stay() {
    ask(keepAliveUrl, { method: "POST", headers: { "X-CSRFToken": csrfToken() } });
  }

  stayButton.addEventListener("click", stay);
  // Escape would close the dialog and leave the clock running unseen: the person is here, so it
  // means "stay" (when staying is possible).
  dialog.addEventListener("cancel", (event) => {
    event.preventDefault();
    if (!stayButton.hidden) stay();
  });
  // A computer back from sleep: timers were late, ask at once.
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") check();
  });

  plan({
    idle_remaining: Number(body.dataset.sessionIdleRemaining),
    max_remaining: Number(body.dataset.sessionMaxRemaining),
    warning: Number(body.dataset.sessionWarning),
  });
})();
