// The live board (a Streamlit component): while its run plays, fetch the panel, swap it in, again poll_ms later.
// When the run stops and the page has not redrawn itself, it asks Streamlit for one rerun, which draws the stopped
// page; it stops polling when Streamlit removes it or draws it anew.
export default function ({ data, parentElement, setTriggerValue }) {
  let board = parentElement.querySelector('.live-board');
  if (!board) {
    parentElement.innerHTML = '<div class="live-board"><div class="live-fast"></div><div class="live-slow"></div></div>';
    board = parentElement.querySelector('.live-board');
  }
  const run = (board.run || 0) + 1;  // a newer drawing's loop replaces this one
  board.run = run;
  board.dataset.polling = '1';
  board.querySelector('.live-fast').innerHTML = data.first.fast;  // the panel as the page drew it: charts at once
  board.querySelector('.live-slow').innerHTML = data.first.slow;
  const current = () => board.run === run && board.isConnected;
  let n = 0;
  const tick = async () => {
    if (!current()) return;
    const started = performance.now();
    let next = data.poll_ms;
    try {
      const slow = n++ % data.slow_every === 0;  // the first poll too: the board was drawn before any norm existed
      const reply = await fetch(data.src + (slow ? '&slow=1' : ''), {cache: 'no-store'});
      if (reply.status === 404) return;  // the run is gone (Reset, or a new server)
      const panel = await reply.json();
      if (!current()) return;
      board.querySelector('.live-fast').innerHTML = panel.fast;
      if (panel.slow) board.querySelector('.live-slow').innerHTML = panel.slow;
      if (panel.status !== 'running') {
        // A click on Pause or Step reruns the page itself, which removes this board; a rerun asked for meanwhile
        // would interrupt that one and delay "paused". A run that ended by itself gets its rerun at once.
        const wait = panel.status === 'paused' ? 1000 : 0;
        setTimeout(() => { if (current()) setTriggerValue('stopped', panel.status); }, wait);
        return;
      }
      next = Math.max(0, data.poll_ms - (performance.now() - started));  // a steady poll_ms, however long the fetch
    } catch (e) {
      next = 1000;  // the server is busy or restarting: try again, more slowly
    }
    setTimeout(tick, next);
  };
  tick();
  return () => { if (board.run === run) board.run = run + 1; };  // unmounted: this loop ends
}
