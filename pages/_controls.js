(() => {
  // A widget's "?" help icon sits inside the widget's label element (Streamlit draws it there), and the label is a
  // react-aria pressable: a press anywhere in it, the icon included, flips a toggle or a checkbox. Presses on the
  // icon stop here, before React sees them; hovering or focusing the icon still opens its help.
  // (No tag-like text in this file: Streamlit's sanitiser drops a whole script that holds one.)
  if (window.explorerHelpIconGuard) return;  // once per browser tab, whatever the reruns
  window.explorerHelpIconGuard = true;
  const ICON = "label [data-testid=stTooltipIcon]";
  const PRESS = ["pointerdown", "pointerup", "mousedown", "mouseup", "click", "touchstart", "touchend"];
  const keep = (event) => {
    if (!(event.target instanceof Element) || !event.target.closest(ICON)) return;
    event.stopPropagation();
    if (event.type === "click") event.preventDefault();  // nor the label's own activation
  };
  const keepKey = (event) => {
    if (event.key === "Enter" || event.key === " ") keep(event);
  };
  for (const type of PRESS) document.addEventListener(type, keep, true);
  for (const type of ["keydown", "keyup"]) document.addEventListener(type, keepKey, true);
})();
