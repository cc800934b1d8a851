/* The page's token, taken once from ?token= and then kept out of every URL (issue 13).
 *
 * URLs are written to access logs (ours redact ?token=, a proxy's may not), browser history and
 * screenshots. So the page takes the token from its address once, keeps it for this tab
 * (sessionStorage, per path: a reload still works), and drops it from the address bar
 * (history.replaceState). Its sockets send it as the `bearer.` subprotocol (live.js), its API
 * calls in the Authorization header. A reload asks the server for the page without a token; the
 * "token needed" page then puts the kept one back in the address once (location.replace), which
 * is that load's first request again. OBS and scripts may go on using ?token= as before.
 */
(function () {
  "use strict";
  var KEY = "livecompanion.token:" + location.pathname;
  var url = new URL(location.href);
  var token = url.searchParams.get("token");
  var problem = document.documentElement.getAttribute("data-problem");  // "401": no or a bad token
  try {
    if (token != null) {
      if (problem === "401") sessionStorage.removeItem(KEY);  // it was refused: do not keep it
      else sessionStorage.setItem(KEY, token);
      url.searchParams.delete("token");
      history.replaceState(history.state, "", url.pathname + url.search + url.hash);
    } else {
      token = sessionStorage.getItem(KEY);
      if (token && problem === "401") {  // a reload of a page whose address lost its token
        url.searchParams.set("token", token);
        location.replace(url.href);
      }
    }
  } catch (e) { /* storage or history off: the token stays in memory only */ }
  window.LiveCompanionToken = token || "";
})();
