/** The formats the generated subscription validators call: the operations' own. */
export { formats } from "../operations/formats.js";
