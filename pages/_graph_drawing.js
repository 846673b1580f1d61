// The Graph page's drawing in the page's own DOM (no iframe), redrawn only when its SVG changes. A click on a node
// (not the end of a drag) reports the node's id; the wheel zooms in about the pointer (and back out to the fitted
// size, after which it scrolls the page again); a drag pans; a double click fits the graph again.
export default function ({ data, parentElement, setTriggerValue }) {
  let box = parentElement.querySelector(".graph-box");
  if (!box) {
    box = Object.assign(document.createElement("div"), {className: "graph-box", zoom: 1});
    parentElement.appendChild(box);
    let press = null;
    box.addEventListener("wheel", e => {
      const zoom = Math.min(8, Math.max(1, box.zoom * (e.deltaY < 0 ? 1.25 : 0.8)));
      if (zoom === box.zoom) return;
      e.preventDefault();
      const r = box.getBoundingClientRect(), px = e.clientX - r.left, py = e.clientY - r.top, f = zoom / box.zoom;
      const sx = (box.scrollLeft + px) * f - px, sy = (box.scrollTop + py) * f - py;
      box.zoom = zoom;
      fit(box);
      box.scrollTo(sx, sy);
    }, {passive: false});
    box.addEventListener("dblclick", () => { box.zoom = 1; fit(box); });
    box.addEventListener("pointerdown", e => { press = {x: e.clientX, y: e.clientY, l: box.scrollLeft,
                                                        t: box.scrollTop, moved: false}; });
    box.addEventListener("pointermove", e => {
      if (!press || !e.buttons) return;
      press.moved ||= Math.abs(e.clientX - press.x) + Math.abs(e.clientY - press.y) > 4;
      box.scrollTo(press.l - (e.clientX - press.x), press.t - (e.clientY - press.y));
    });
    box.addEventListener("click", e => {
      const node = !(press && press.moved) && e.target.closest("[data-node]");
      if (node) box.pick(node.dataset.node);
    });
  }
  box.pick = id => setTriggerValue("clicked", id);
  if (box.svg !== data) {
    box.innerHTML = data;
    box.svg = data;
    fit(box);
  }
}

function fit(box) {  // the fitted width (as wide as the column allows, labels at most their size) times the zoom
  const svg = box.querySelector("svg");
  if (svg) Object.assign(svg.style, {maxWidth: "none", width: `calc(min(100%, ${svg.getAttribute("width")}px) * ${box.zoom})`});
}
