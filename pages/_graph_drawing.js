// The Graph page's drawing in the page's own DOM (no iframe), redrawn only when its SVG changes. A click on a node
// (not the end of a drag) reports the node's id; the wheel zooms in about the pointer (and back out to the fitted
// size, after which it scrolls the page again); a drag pans; a double click fits the graph again. From the keyboard
// each node is a button (Tab to it, Enter or Space picks it, as a click does); a polite live region says the step and
// the inspected node (data.say) when they change. The drawing never shrinks its labels under 12 px: the box scrolls.
const MIN_LABEL_PX = 12;
export default function ({ data, parentElement, setTriggerValue }) {
  const { svg, say } = typeof data === "string" ? { svg: data, say: "" } : data;
  let box = parentElement.querySelector(".graph-box");
  if (!box) {
    const live = Object.assign(document.createElement("div"), {className: "graph-say"});
    live.setAttribute("aria-live", "polite");
    live.setAttribute("role", "status");
    parentElement.appendChild(live);
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
    box.addEventListener("keydown", e => {
      const node = (e.key === "Enter" || e.key === " ") && e.target.closest("[data-node]");
      if (!node) return;
      e.preventDefault();  // Space would scroll the page
      box.pick(node.dataset.node);
    });
  }
  box.pick = id => setTriggerValue("clicked", id);
  if (box.svg !== svg) {
    const focused = box.contains(document.activeElement) && document.activeElement.closest("[data-node]");
    box.innerHTML = svg;
    box.svg = svg;
    for (const node of box.querySelectorAll("[data-node]")) {
      node.setAttribute("role", "button");
      node.setAttribute("tabindex", "0");
    }
    fit(box);
    if (focused) {  // the redrawn node keeps the keyboard's place
      const again = [...box.querySelectorAll("[data-node]")].find(n => n.dataset.node === focused.dataset.node);
      if (again) again.focus({preventScroll: true});
    }
  }
  const live = parentElement.querySelector(".graph-say");
  if (live && live.textContent !== say) live.textContent = say;
}

function fit(box) {  // the fitted width (as wide as the column allows, labels at most their size and at least 12 px)
  const svg = box.querySelector("svg");  // times the zoom; wider than the column, the box scrolls
  if (!svg) return;
  const width = +svg.getAttribute("width"), least = width * Math.min(1, MIN_LABEL_PX / (+svg.getAttribute("font-size") || 16));
  Object.assign(svg.style, {maxWidth: "none", width: `calc(max(${least}px, min(100%, ${width}px)) * ${box.zoom})`});
}
