"""Teaching helpers: take-home scripts, the guided path and shareable page state."""
