// Starts GOV.UK Frontend's components (error summary focus, character
// counts, ...) on every public page. Pages work without it.
import { initAll } from '/assets/govuk-frontend.min.js';

initAll();
