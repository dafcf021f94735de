/** The recycling package's stage fixture, shared by the trainer-level recycling tests. */
export { stage } from "../../../recycling/test/helpers.ts"
