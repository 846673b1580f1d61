// Trusted HTML + SVG drawn into the page's own DOM, redrawn only when it changed (pages/_components.light_html).
export default function ({ data, parentElement }) {
  if (parentElement.drawn !== data) {
    parentElement.innerHTML = data;
    parentElement.drawn = data;
  }
}