// Behind deploy/'s nginx: a page whose replica died reloads itself on the replica that took over.
//
// When a replica dies, Streamlit reconnects its learners' browsers through nginx to another replica without a word,
// and their pages keep showing what the dead session drew (their upload in the sidebar, say) until their next click.
// This watcher asks nginx every few seconds which replica answers (the X-Replica header of deploy/nginx.conf); when
// that changes, it reloads the page: a fresh session on the new replica shows at once what it could restore from the
// URL, and says that an upload did not travel. Without nginx in front (no X-Replica header) it does nothing.
(() => {
  const CHECK_EVERY_MS = __CHECK_EVERY_MS__;  // pages/_style.py sets it
  if (window.explorerReplicaWatch) return;  // once per browser tab, whatever the reruns
  window.explorerReplicaWatch = {first: null};
  const answering = (header) => header ? header.split(",").pop().trim() : null;  // nginx lists tried ones first
  const check = async () => {
    try {
      const replica = answering((await fetch("_stcore/health", {cache: "no-store"})).headers.get("X-Replica"));
      const watch = window.explorerReplicaWatch;
      if (replica && watch.first === null) watch.first = replica;
      else if (replica && replica !== watch.first) window.location.reload();
    } catch (error) {}  // no answer at all: Streamlit shows its own connection message
  };
  check();
  setInterval(check, CHECK_EVERY_MS);
})();
