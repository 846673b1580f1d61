// Watches the graphviz chart just above it: still without a drawing after after_ms, it asks for a redraw.
export default function ({ data, parentElement, setTriggerValue }) {
  clearTimeout(parentElement.redrawTimer);
  parentElement.redrawTimer = setTimeout(() => {
    const holder = parentElement.closest('[data-testid=stElementContainer]');
    const chart = holder?.previousElementSibling?.querySelector('[data-testid=stGraphVizChart]');
    if (chart && !chart.querySelector('svg g')) setTriggerValue('blank', data.attempt);
  }, data.after_ms);
}