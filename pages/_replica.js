(() => {
  const CHECK_EVERY_MS = __CHECK_EVERY_MS__;  // pages/_replica.py sets it
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
