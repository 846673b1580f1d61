// Keeps one .live-board current while its run plays: fetch the panel, swap it in, again POLL_MS later.
// It stops when the run stops (the page then redraws itself) or when Streamlit removes the board.
(() => {
  const boards = document.querySelectorAll('.live-board:not([data-polling])');
  for (const board of boards) {
    board.dataset.polling = '1';
    const poll = Number(board.dataset.pollMs), slowEvery = Number(board.dataset.slowEvery);
    const first = JSON.parse(board.dataset.first);  // the panel as the page drew it: charts at once
    board.querySelector('.live-fast').innerHTML = first.fast;
    board.querySelector('.live-slow').innerHTML = first.slow;
    let n = 0;
    const tick = async () => {
      if (!board.isConnected) return;
      const started = performance.now();
      let next = poll;
      try {
        const slow = n++ % slowEvery === 0;  // the first poll too: the board was drawn before any norm existed
        const reply = await fetch(board.dataset.src + (slow ? '&slow=1' : ''), {cache: 'no-store'});
        if (reply.status === 404) return;  // the run is gone (Reset, or a new server)
        const panel = await reply.json();
        if (!board.isConnected) return;
        board.querySelector('.live-fast').innerHTML = panel.fast;
        if (panel.slow) board.querySelector('.live-slow').innerHTML = panel.slow;
        if (panel.status !== 'running') return;
        next = Math.max(0, poll - (performance.now() - started));  // a steady POLL_MS, however long the fetch
      } catch (e) {
        next = 1000;  // the server is busy or restarting: try again, more slowly
      }
      setTimeout(tick, next);
    };
    tick();
  }
})();
