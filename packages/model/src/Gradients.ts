/**
 * TF.js gradient registration (see `@rekindle/engine/Gradients`); re-exported so model code and
 * its users import it from one place.
 */
export { registered } from "@rekindle/engine/Gradients"
